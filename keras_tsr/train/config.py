"""The training configuration: `TrainConfig`, how its defaults resolve, and which changes a resumed run allows.

Defaults follow big_vision's habit of one switch for a smoke run: with no dataset built, the built-in demo
(small preset, 10 epochs) is used; the resolved configuration is written to the workdir's config.json.
"""

from __future__ import annotations

import dataclasses
import logging

from keras_tsr import defaults
from keras_tsr.defaults import DEFAULT_DATASET, DEMO_EPOCHS, DEMO_TRACKS_PER_GENRE, PAPER_EPOCHS
from keras_tsr.errors import ArgumentError, KerasTsrError

log = logging.getLogger("keras_tsr.train")

DEFAULT_SPLITS = {"train": "train", "validation": "validation", "test": "test"}



class ConfigMismatchError(KerasTsrError, ValueError):
    """The workdir holds a run with another configuration."""


@dataclasses.dataclass
class TrainConfig:
    dataset: str | None = None  # None: fma_small_logmel/12s if built, else the built-in demo
    data_dir: str | None = None
    preset: str | None = None  # None: ts_resformer, or demo on the built-in demo data
    epochs: int | None = None  # None: 60, or 10 on the demo
    batch_size: int = defaults.BATCH_SIZE
    learning_rate: float = defaults.LEARNING_RATE
    seed: int = defaults.SEED
    mixed_precision: str | bool = False  # False (float32), "bf16" (mixed_bfloat16) or "fp16" (mixed_float16)
    steps_per_execution: int = defaults.STEPS_PER_EXECUTION  # training steps a compiled call runs (fewer host round trips on accelerators)
    distribute: bool = False
    steps_per_epoch: int | None = None  # cap per epoch, for smoke runs
    demo_tracks_per_genre: int = DEMO_TRACKS_PER_GENRE
    demo: bool = False  # set when the built-in demo data is used
    overrides: dict = dataclasses.field(default_factory=dict)  # backbone arguments over the preset's (--set)
    genres: list = dataclasses.field(default_factory=list)  # train and evaluate on these genres only ([]: all)
    segment_seconds: float | None = None  # clip-level datasets: the segment length cut at load time (default 12)
    overlap: float | None = None  # clip-level datasets: the segments' overlap (default 0.5)
    splits: dict = dataclasses.field(default_factory=dict)  # train/validation/test TFDS split expressions
    init_from: str | None = None  # a workdir or .keras model to start from (fine-tuning)
    freeze_backbone: bool = False  # with init_from: train the head only
    # The training recipe (the paper's: no augmentation, Adam at a constant rate, the best validation checkpoint).
    augment: str = defaults.AUGMENT  # a recipe of keras_tsr.datasets.augment.RECIPES
    augment_overrides: dict = dataclasses.field(default_factory=dict)  # its fields, overridden (--augment-set)
    label_smoothing: float = defaults.LABEL_SMOOTHING
    weight_decay: float = defaults.WEIGHT_DECAY  # > 0: AdamW with this decoupled weight decay
    schedule: str = defaults.SCHEDULE  # or "cosine": cosine decay to 0 over the run, after warmup_epochs of warm-up
    warmup_epochs: float = defaults.WARMUP_EPOCHS
    early_stopping: int | None = None  # patience in epochs on validation accuracy; None: run every epoch
    checkpoint: str = defaults.CHECKPOINT  # "best" validation accuracy, or "last" epoch (no validation split needed)
    # a multi-label build: "balanced" weighs each genre's positives by sqrt(negatives / positives) in the training
    # split (at most MAX_POSITIVE_WEIGHT), so that rare genres count; "none": plain binary cross-entropy
    class_weight: str = "none"
    # The input pipeline: "tf" (tf.data), "grain" (no TensorFlow) or "auto" (tf.data where TensorFlow is installed);
    # config.json records the one used. Unaugmented batches are equal; augmented ones draw differently.
    loader: str = "auto"


SCHEDULES = ("constant", "cosine")
CLASS_WEIGHTS = ("none", "balanced")
CHECKPOINTS = ("best", "last")
# What a config written before an option existed means: the option's "not used" value (same run).
NOT_USED = {"augment": "none", "schedule": "constant", "checkpoint": "best", "label_smoothing": 0.0,
            "weight_decay": 0.0, "warmup_epochs": 0.0, "steps_per_execution": 1, "loader": "tf", "class_weight": "none"}
# --mixed-precision: the Keras dtype policy of each setting (True: the fp16 of configs before bf16 existed).
PRECISIONS = {False: "float32", None: "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16",
              True: "mixed_float16"}


# Settings that may change between the runs of one workdir (to continue or inspect a run).
# learning_rate: a run that diverged resumes with a lower one.
# steps_per_execution: how many steps a compiled call runs changes the speed, not the run.
MUTABLE = ("epochs", "data_dir", "backend", "keras_version", "distribute", "learning_rate", "steps_per_execution")


class TrainingDivergedError(KerasTsrError, ValueError):
    """Training stopped at a NaN or infinite loss; the workdir is kept resumable."""


class DatasetNotBuiltError(KerasTsrError, ValueError):
    """An explicitly named dataset is not built where it was looked for."""


def resolve(config: TrainConfig) -> TrainConfig:
    """Fills in the dataset, preset and epochs; writes nothing (`prepare_data` makes the demo).

    With no dataset arguments, fma_small_logmel/12s is used if it is built in
    the default data dir, else the built-in synthetic demo (with a notice).
    An explicit --dataset or --data-dir that is not built is an error naming
    the command that builds it; `demo=True` asks for the demo explicitly (at
    the given dataset's segment configuration): its data_dir is where
    `prepare_data` puts it.
    """
    from keras_tsr.artifacts import open_model
    from keras_tsr.datasets import pipeline as data

    config = dataclasses.replace(config)
    config.loader = data.choose_loader(config.loader)  # --loader tf without TensorFlow: said before any data is made
    explicit = config.dataset is not None or config.data_dir is not None
    dataset = config.dataset or DEFAULT_DATASET
    data_dir = config.data_dir or data.default_data_dir()
    if config.init_from and not config.preset:
        src = open_model(config.init_from).metadata
        if src.get("preset"):  # fine-tune the same architecture by default
            config.preset = src["preset"]
            config.overrides = {**src.get("overrides", {}), **config.overrides}
    if not config.demo and not data.is_prepared(dataset, data_dir):
        if explicit or config.dataset is not None:
            name, _, cfg = dataset.partition("/")
            command = data.build_command(name, cfg or None, "--manual_dir DIR", f"--data_dir {data_dir}")
            raise DatasetNotBuiltError(f"{dataset} is not built in {data_dir}: build it with `{command}`, or pass "
                                       f"--demo for the built-in synthetic demo")
        log.warning("No dataset given and no built %s in %s: training on the built-in synthetic demo (--demo asks "
                    "for it; `%s` builds FMA).", dataset, data_dir, data.build_command("fma_small_logmel", None, "--manual_dir DIR"))
        config.demo = True
    if config.demo:
        name, _, cfg = dataset.partition("/")
        if name != "fma_small_logmel" or cfg.startswith("medium"):
            raise ArgumentError(f"the built-in demo is FMA-small shaped: --dataset must be fma_small_logmel/<config>. "
                             f"Received: {dataset}")
        config.dataset = dataset
        config.data_dir = data.demo_layout(config.demo_tracks_per_genre)[1]
        config.preset = config.preset or "demo"
        config.epochs = config.epochs or DEMO_EPOCHS
    else:
        config.dataset = dataset
        config.data_dir = data_dir
        config.preset = config.preset or "ts_resformer"
        config.epochs = config.epochs or PAPER_EPOCHS
    return config


def prepare_data(config: TrainConfig) -> TrainConfig:
    """Writes and builds the built-in demo a resolved config asks for (once: later runs find it built), so that
    its dataset can be read; a config of a built dataset is returned as it is."""
    if config.demo:
        from keras_tsr.datasets import pipeline as data

        data.demo_dataset(config.demo_tracks_per_genre, config=config.dataset.partition("/")[2] or "12s")
    return config


DATASET_SET = ("num_frames", "num_mels")  # backbone arguments that the dataset's geometry sets


def check_recipe(config):
    """One-line errors for recipe settings that cannot work together, before any work."""
    from keras_tsr.datasets.augment import recipe

    recipe(config.augment, **config.augment_overrides)
    if config.schedule not in SCHEDULES:
        raise ArgumentError(f"schedule must be one of {SCHEDULES}. Received: schedule={config.schedule!r}")
    if config.class_weight not in CLASS_WEIGHTS:
        raise ArgumentError(f"class_weight must be one of {CLASS_WEIGHTS}. Received: {config.class_weight!r}")
    if config.checkpoint not in CHECKPOINTS:
        raise ArgumentError(f"checkpoint must be one of {CHECKPOINTS}. Received: checkpoint={config.checkpoint!r}")
    if not 0.0 <= config.label_smoothing < 1.0:
        raise ArgumentError(f"--label-smoothing must be in [0, 1). Received: {config.label_smoothing}")
    if config.splits.get("validation", "validation") is None:
        if config.checkpoint != "last" or config.early_stopping:
            raise ArgumentError("without a validation split there is no best checkpoint and nothing to stop early on: "
                             "use --checkpoint last and no --early-stopping")


def check_before_work(config: TrainConfig, workdir):
    """Every argument of a training run that can be checked without its data, and its workdir's writability:
    one line now, before the demo is made, a dataset is read or a model is built."""
    from keras_tsr.models.backbone import check_backbone_args
    from keras_tsr.utils import check_writable

    check_writable(workdir, "folder", "--workdir")
    check_overrides(config.overrides)
    check_recipe(config)
    # the preset resolve() would choose otherwise: the --set values are checked against it
    check_backbone_args(config.preset or ("demo" if config.demo else "ts_resformer"), **config.overrides)
    if config.init_from:
        from keras_tsr.artifacts import open_model

        open_model(config.init_from)


def check_overrides(overrides):
    """Refuses --set keys that are not backbone arguments (listing the valid ones) or that the dataset sets."""
    from keras_tsr.models.backbone import backbone_arg_names

    valid = [n for n in backbone_arg_names() if n not in DATASET_SET]
    fixed = sorted(set(overrides) & set(DATASET_SET))
    if fixed:
        raise ArgumentError(f"--set {', '.join(fixed)}: set by the dataset's geometry, not by --set")
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ArgumentError(f"--set {', '.join(unknown)}: not a backbone argument. Valid keys: {', '.join(valid)}")


def check_workdir(workdir, record):
    """Whether the workdir holds a run of this configuration; raises ConfigMismatchError for another one."""
    if not workdir.has_config():
        return False
    old = workdir.read_config()
    # A key the old config lacks was written by an earlier keras-tsr, before that option existed: the run did not
    # use it, which is the same run when the new value is the option's "not used" (no genres, no --set, ...).
    unused = (None, False, [], {})

    def not_used(k, v):
        return v == NOT_USED[k] if k in NOT_USED else any(v is u or (v == u and type(v) is type(u)) for u in unused)

    diff = sorted(k for k in set(old) | set(record) if k not in MUTABLE and old.get(k) != record.get(k)
                  and not (k not in old and not_used(k, record.get(k))))
    if diff:
        detail = ", ".join(f"{k}: {old.get(k)!r} -> {record.get(k)!r}" for k in diff)
        raise ConfigMismatchError(f"{workdir.path} holds a run with another configuration ({detail}); "
                                  f"use another --workdir or delete that one")
    return True


