"""Training: the configuration (`config`), the loop (`loop`: `train_and_evaluate`) and the callbacks that lose
no work when a run is killed (`callbacks`). `python -m keras_tsr.train` is the design card's command."""

from keras_tsr.train.config import (
    DEMO_EPOCHS,
    PAPER_EPOCHS,
    ConfigMismatchError,
    DatasetNotBuiltError,
    TrainConfig,
    TrainingDivergedError,
    prepare_data,
    resolve,
)
from keras_tsr.train.loop import initialise_from, train_and_evaluate

__all__ = ["DEMO_EPOCHS", "PAPER_EPOCHS", "ConfigMismatchError", "DatasetNotBuiltError", "TrainConfig",
           "TrainingDivergedError", "initialise_from", "prepare_data", "resolve", "train_and_evaluate"]
