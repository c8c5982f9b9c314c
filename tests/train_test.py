"""Training's configuration and callbacks: what a resumed run may change, checkpoints that survive a full disk,
the logs kept readable."""

import os

import keras
import numpy as np
import pytest

from keras_tsr.artifacts import Workdir
from keras_tsr.models import GenreClassifier


def test_a_config_from_before_an_option_existed_is_the_same_run(tmp_path):
    from keras_tsr.train.config import ConfigMismatchError, check_workdir

    w = Workdir(tmp_path / "run")
    os.makedirs(w.path)
    w.write_config({"batch_size": 16, "preset": "demo"})  # written before genres / --set / fine-tuning existed
    now = {"batch_size": 16, "preset": "demo", "genres": [], "overrides": {}, "init_from": None,
           "freeze_backbone": False}
    assert check_workdir(w, now) is True  # resumes
    with pytest.raises(ConfigMismatchError, match="genres"):
        check_workdir(w, {**now, "genres": ["Rock", "Folk"]})  # an option the old run did not use
    with pytest.raises(ConfigMismatchError, match="batch_size"):
        check_workdir(w, {**now, "batch_size": 8})


def test_resolve_names_the_build_command_for_a_missing_dataset(tmp_path):
    from keras_tsr.train import DatasetNotBuiltError, TrainConfig, resolve

    with pytest.raises(DatasetNotBuiltError, match="tfds build fma_small_logmel --imports keras_tsr.datasets"):
        resolve(TrainConfig(dataset="fma_small_logmel/12s", data_dir=str(tmp_path)))


def test_validation_only_genre_metrics_trims_the_training_side():
    from keras_tsr.train.callbacks import ValidationOnlyGenreMetrics

    logs = {"loss": 1.0, "accuracy": 0.5, "acc_rock": 0.4, "val_accuracy": 0.6, "val_acc_rock": 0.7}
    ValidationOnlyGenreMetrics().on_epoch_end(0, logs)
    assert logs == {"loss": 1.0, "accuracy": 0.5, "val_accuracy": 0.6, "val_acc_rock": 0.7}


def test_apply_learning_rate_overrides_a_restored_one():
    from keras_tsr.train.callbacks import ApplyLearningRate

    model = GenreClassifier.from_preset("debug", num_classes=3, compile=False)
    model.compile_paper_defaults(1e-2)
    cb = ApplyLearningRate(1e-4)
    cb.set_model(model)
    cb.on_train_begin()
    np.testing.assert_allclose(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)), 1e-4, rtol=1e-6)


def test_full_disk_while_checkpointing_keeps_the_previous_best(tmp_path, monkeypatch):
    import errno

    from keras_tsr.train.callbacks import BestCheckpoint

    model = GenreClassifier.from_preset("debug", num_classes=4)
    path = str(tmp_path / "best.keras")
    cb = BestCheckpoint(path)
    cb.set_model(model)
    cb.on_epoch_end(0, {"val_accuracy": 0.5})
    before = open(path, "rb").read()

    def full_disk(filepath, **kwargs):
        with open(filepath, "wb") as f:
            f.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model, "save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        cb.on_epoch_end(1, {"val_accuracy": 0.9})
    assert open(path, "rb").read() == before  # the previous best, whole
    assert sorted(os.listdir(tmp_path)) == ["best.keras"]  # and no half-written file left beside it


def test_truncate_log_drops_the_rows_of_epochs_that_run_again(tmp_path):
    from keras_tsr.train.callbacks import truncate_log

    path = tmp_path / "log.csv"
    path.write_text("epoch,accuracy,loss\n0,0.1,2.0\n1,0.2,1.5\n2,0.25,1.4\n")
    with open(path, "a") as held:  # CSVLogger holds the file open in append mode meanwhile
        assert truncate_log(str(path), 2) == 1
        held.write("2,0.3,1.3\n")
    assert path.read_text() == "epoch,accuracy,loss\n0,0.1,2.0\n1,0.2,1.5\n2,0.3,1.3\n"
    assert truncate_log(str(path), 5) == 0 and truncate_log(str(tmp_path / "none.csv"), 0) == 0


def test_epoch_randomness_restarts_every_seed_generator_from_seed_and_epoch():
    from keras_tsr.train.callbacks import EpochRandomness

    def states(seed, epoch):
        model = GenreClassifier.from_preset("debug", num_classes=3, compile=False)
        cb = EpochRandomness(seed)
        cb.set_model(model)
        for v in model.variables:  # the streams as training left them
            if v.path.endswith("seed_generator_state"):
                v.assign(np.array([7, 123], dtype=keras.backend.standardize_dtype(v.dtype)))
        cb.on_epoch_begin(epoch)
        return [np.asarray(keras.ops.convert_to_numpy(v)) for v in model.variables
                if v.path.endswith("seed_generator_state")]

    first = states(0, 2)
    assert len(first) >= 2  # the debug preset's dropouts
    assert all(np.array_equal(a, b) for a, b in zip(first, states(0, 2), strict=True))  # what a resume draws
    assert len({tuple(s) for s in first}) == len(first) and all(s[1] == 0 for s in first)
    assert not any(np.array_equal(a, b) for a, b in zip(first, states(0, 3), strict=True))
    assert not any(np.array_equal(a, b) for a, b in zip(first, states(1, 2), strict=True))


def test_early_stopping_keeps_its_patience_across_a_resume(tmp_path):
    """Resumed at epoch 4 after epochs 0-3, it stops where an uninterrupted run stops (patience 2)."""
    from keras_tsr.train.callbacks import ResumableEarlyStopping

    history = [0.5, 0.6, 0.55, 0.58, 0.57]
    straight = keras.callbacks.EarlyStopping("val_accuracy", patience=2, mode="max")
    model = GenreClassifier.from_preset("debug", num_classes=3, compile=False)
    model.stop_training = False  # as fit sets it
    straight.set_model(model)
    straight.on_train_begin()
    for e, v in enumerate(history):
        straight.on_epoch_end(e, {"val_accuracy": v})
        if model.stop_training:
            break
    assert model.stop_training and straight.stopped_epoch == 3  # 0.6 at epoch 1; no better in 2 and 3

    log_csv = tmp_path / "log.csv"
    log_csv.write_text("epoch,accuracy,val_accuracy\n" + "".join(f"{e},0.1,{v}\n" for e, v in enumerate(history[:3])))
    model.stop_training = False
    resumed = ResumableEarlyStopping(str(log_csv), "val_accuracy", patience=2)
    resumed.set_model(model)
    resumed.on_train_begin()
    resumed.on_epoch_begin(3)  # a resume at epoch 4 (index 3) replays the three finished epochs from the log
    assert not model.stop_training and resumed.best == 0.6 and resumed.wait == 1
    resumed.on_epoch_end(3, {"val_accuracy": history[3]})
    assert model.stop_training and resumed.stopped_epoch == 3


@pytest.mark.parametrize("precision", ["bf16"])
def test_mixed_precision_training_runs_and_its_loss_falls(built_dataset, tmp_path, precision):
    """`tsr train --mixed-precision bf16 --steps-per-execution 2`: the loss falls over epochs, the log-mel input's
    rescaling and the softmax stay float32, the recorded config holds both settings."""
    import csv
    import json

    from keras_tsr.train import TrainConfig, train_and_evaluate
    from keras_tsr.train.loop import precision_policy

    workdir = str(tmp_path / "mixed")
    config = TrainConfig(data_dir=str(built_dataset[0]), preset="debug", epochs=3, batch_size=8, steps_per_epoch=4,
                         mixed_precision=precision, steps_per_execution=2)
    try:
        train_and_evaluate(config, workdir)
        assert keras.mixed_precision.global_policy().name == precision_policy(precision) == "mixed_bfloat16"
        rows = list(csv.DictReader(open(os.path.join(workdir, "log.csv"))))
        losses = [float(r["loss"]) for r in rows]
        assert len(losses) == 3 and all(np.isfinite(losses)) and losses[-1] < losses[0], losses
        model = Workdir(workdir).load_best_model(for_inference=True)
        assert model.backbone.get_layer("rescale").compute_dtype == "float32"
        assert model.get_layer("predictions").compute_dtype == "float32"
        assert model.backbone.get_layer("tf_attention").compute_dtype == "bfloat16"
        x = np.full((2, *model.input_shape[1:]), -40.0, np.float32)
        assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
        recorded = json.load(open(os.path.join(workdir, "config.json")))
        assert recorded["mixed_precision"] == "bf16" and recorded["steps_per_execution"] == 2
    finally:
        keras.mixed_precision.set_global_policy("float32")
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        precision_policy("int8")


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
@pytest.mark.parametrize("early_stopping", [None, 3])
def test_callbacks_come_in_one_order_under_every_schedule(schedule, early_stopping, tmp_path):
    """Early stopping before the backup, the resume report right after it, the constant rate after the backup's
    restore: the same order whatever the configuration adds (with a constant rate the early stopper once landed
    after the backup)."""
    from keras_tsr.artifacts import Workdir
    from keras_tsr.train import TrainConfig
    from keras_tsr.train.loop import training_callbacks

    config = TrainConfig(schedule=schedule, early_stopping=early_stopping, epochs=4)
    callbacks, stopper = training_callbacks(config, Workdir(str(tmp_path)), False, 10)
    names = [type(c).__name__ for c in callbacks]
    expected = ["StopOnNonFiniteLoss", "ValidationOnlyGenreMetrics", "LearningRateLog", "EpochRandomness",
                "BestCheckpoint", "CSVLogger", "TensorBoard", "ResumableEarlyStopping", "SafeBackupAndRestore",
                "ResumeReport", "ApplyLearningRate", "EpochLine"]
    present = [n for n in expected if n in names]
    assert names == present, names
    assert ("ResumableEarlyStopping" in names) == bool(early_stopping) and (stopper is not None) == bool(early_stopping)
    assert ("ApplyLearningRate" in names) == (schedule == "constant")
    assert names[names.index("SafeBackupAndRestore") + 1] == "ResumeReport"
    if early_stopping:
        assert names.index("ResumableEarlyStopping") == names.index("SafeBackupAndRestore") - 1


def test_defaults_are_defined_once():
    """TrainConfig's defaults, the CLI's option defaults and help, and cv's recipe all come from
    keras_tsr.defaults: change one there and every place follows."""
    from keras_tsr import defaults as D
    from keras_tsr.cli import main
    from keras_tsr.studies.cv import resolve_recipe
    from keras_tsr.train import TrainConfig

    c = TrainConfig()
    assert (c.batch_size, c.learning_rate, c.seed, c.steps_per_execution, c.demo_tracks_per_genre) == (
        D.BATCH_SIZE, D.LEARNING_RATE, D.SEED, D.STEPS_PER_EXECUTION, D.DEMO_TRACKS_PER_GENRE)
    assert (c.augment, c.schedule, c.checkpoint, c.label_smoothing, c.weight_decay, c.warmup_epochs) == (
        D.AUGMENT, D.SCHEDULE, D.CHECKPOINT, D.LABEL_SMOOTHING, D.WEIGHT_DECAY, D.WARMUP_EPOCHS)
    train = {p.name: p for p in main.commands["train"].params}
    assert (train["batch_size"].default, train["learning_rate"].default, train["seed"].default) == (
        D.BATCH_SIZE, D.LEARNING_RATE, D.SEED)
    assert f"[default: {D.PAPER_EPOCHS}; {D.DEMO_EPOCHS} on the demo]" in train["epochs"].help
    cv = {p.name: p for p in main.commands["cv"].params}
    assert f"[default: {D.CV_SEEDS};" in cv["seeds"].help and f"[default: {D.CV_EPOCHS};" in cv["epochs"].help
    t = resolve_recipe()
    assert t["recipe"] == D.CV_RECIPE and (t["epochs"], t["batch_size"], t["seeds"], t["protocol"]) == (
        D.CV_EPOCHS, D.CV_BATCH_SIZE, D.CV_SEEDS, D.CV_PROTOCOL)


def test_resolve_writes_nothing_and_prepare_data_makes_the_demo(tmp_path, monkeypatch, smoke_cache):
    """`resolve` only decides (the demo's data_dir included); `prepare_data` is what writes and builds it."""
    from keras_tsr.datasets import pipeline
    from keras_tsr.train import TrainConfig, prepare_data, resolve

    monkeypatch.setenv("KERAS_TSR_CACHE", str(tmp_path / "cache"))
    config = resolve(TrainConfig(demo=True, demo_tracks_per_genre=3))
    assert config.data_dir == pipeline.demo_layout(3)[1] and config.preset == "demo"
    assert not (tmp_path / "cache").exists()
    monkeypatch.setenv("KERAS_TSR_CACHE", str(smoke_cache))  # the session's built demo of 3 tracks a genre
    config = prepare_data(resolve(TrainConfig(demo=True, demo_tracks_per_genre=3)))
    assert pipeline.is_prepared(config.dataset, config.data_dir)
