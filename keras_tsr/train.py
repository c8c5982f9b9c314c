"""Train TS-Resformer (or any preset) on fma_small_logmel, then evaluate it.

    python -m keras_tsr.train --backend jax [--dataset fma_small_logmel/12s] [--preset ts_resformer] ...

Library entry: `train_and_evaluate(TrainConfig(...), workdir)`; the workdir's
layout is `keras_tsr.workdir.Workdir`'s. Its config records the resolved
settings and the dataset's front-end geometry; a run with another configuration
is refused, and rerunning the same one resumes it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time

from keras_tsr.data import DEFAULT_DATASET, DEMO_TRACKS_PER_GENRE
from keras_tsr.workdir import Workdir

log = logging.getLogger("keras_tsr.train")

PAPER_EPOCHS = 60  # the paper's accuracy stabilised near epoch 46
DEMO_EPOCHS = 10


class ConfigMismatchError(ValueError):
    """The workdir holds a run with another configuration."""


@dataclasses.dataclass
class TrainConfig:
    dataset: str | None = None  # None: fma_small_logmel/12s if built, else the built-in demo
    data_dir: str | None = None
    preset: str | None = None  # None: ts_resformer, or demo on the built-in demo data
    epochs: int | None = None  # None: 60, or 10 on the demo
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0
    mixed_precision: bool = False
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


# Settings that may change between the runs of one workdir (to continue or inspect a run).
# learning_rate: a run that diverged resumes with a lower one.
MUTABLE = ("epochs", "data_dir", "backend", "keras_version", "distribute", "learning_rate")


class TrainingDivergedError(ValueError):
    """Training stopped at a NaN or infinite loss; the workdir is kept resumable."""


class DatasetNotBuiltError(ValueError):
    """An explicitly named dataset is not built where it was looked for."""


def resolve(config: TrainConfig) -> TrainConfig:
    """Fills in the dataset, preset and epochs.

    With no dataset arguments, fma_small_logmel/12s is used if it is built in
    the default data dir, else the built-in synthetic demo (with a notice).
    An explicit --dataset or --data-dir that is not built is an error naming
    the command that builds it; `demo=True` asks for the demo explicitly (at
    the given dataset's segment configuration).
    """
    from keras_tsr import data

    config = dataclasses.replace(config)
    explicit = config.dataset is not None or config.data_dir is not None
    dataset = config.dataset or DEFAULT_DATASET
    data_dir = config.data_dir or data.default_data_dir()
    if config.init_from and not config.preset:
        _, _, src_config = source_model(config.init_from)
        if src_config:  # fine-tune the same architecture by default
            config.preset = src_config.get("preset")
            config.overrides = {**src_config.get("overrides", {}), **config.overrides}
    if not config.demo and not data.is_prepared(dataset, data_dir):
        if explicit or config.dataset is not None:
            name, _, cfg = dataset.partition("/")
            raise DatasetNotBuiltError(
                f"{dataset} is not built in {data_dir}: build it with `tfds build datasets/{name}"
                f"{' --config ' + cfg if cfg else ''} --manual_dir DIR --data_dir {data_dir}`, or pass --demo "
                f"for the built-in synthetic demo")
        log.warning("No dataset given and no built %s in %s: training on the built-in synthetic demo (--demo asks "
                    "for it; `tfds build datasets/fma_small_logmel --manual_dir DIR` builds FMA).", dataset, data_dir)
        config.demo = True
    if config.demo:
        name, _, cfg = dataset.partition("/")
        if name != "fma_small_logmel" or cfg.startswith("medium"):
            raise ValueError(f"the built-in demo is FMA-small shaped: --dataset must be fma_small_logmel/<config>. "
                             f"Received: {dataset}")
        config.dataset = dataset
        config.data_dir = data.demo_dataset(config.demo_tracks_per_genre, config=cfg or "12s")
        config.preset = config.preset or "demo"
        config.epochs = config.epochs or DEMO_EPOCHS
    else:
        config.dataset = dataset
        config.data_dir = data_dir
        config.preset = config.preset or "ts_resformer"
        config.epochs = config.epochs or PAPER_EPOCHS
    return config


DEFAULT_SPLITS = {"train": "train", "validation": "validation", "test": "test"}


def source_model(ref):
    """(model, class names or None, config or None) of --init-from: a workdir or a .keras file."""
    from keras_tsr.models import load_model
    from keras_tsr.workdir import Workdir

    if os.path.isdir(ref):
        wd = Workdir(ref).require_trained()
        config = wd.read_config()
        return wd.load_best_model(for_inference=True), config.get("class_names"), config
    if os.path.isfile(ref) and ref.endswith(".keras"):
        return load_model(ref, for_inference=True), None, None
    raise FileNotFoundError(f"--init-from {ref}: neither a trained workdir nor a .keras file")


def initialise_from(model, ref, class_names):
    """Copies a trained model's weights into `model`: all of them when the genres are the same, else the
    backbone's only (the new head starts fresh)."""
    src, src_names, _ = source_model(ref)
    if src_names == list(class_names) and src.output_shape == model.output_shape:
        model.set_weights(src.get_weights())
        log.info("initialised every weight from %s (same genres)", ref)
        return "all"
    try:
        model.backbone.set_weights(src.backbone.get_weights())
    except ValueError as e:
        raise ValueError(f"--init-from {ref}: its backbone does not fit this one ({e}); train with the same "
                         f"--preset and --set as it was trained with") from None
    log.info("initialised the backbone from %s; new head for %d genres", ref, len(class_names))
    return "backbone"


DATASET_SET = ("num_frames", "num_mels")  # backbone arguments that the dataset's geometry sets


def check_overrides(overrides):
    """Refuses --set keys that are not backbone arguments (listing the valid ones) or that the dataset sets."""
    from keras_tsr.models.backbone import backbone_arg_names

    valid = [n for n in backbone_arg_names() if n not in DATASET_SET]
    fixed = sorted(set(overrides) & set(DATASET_SET))
    if fixed:
        raise ValueError(f"--set {', '.join(fixed)}: set by the dataset's geometry, not by --set")
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ValueError(f"--set {', '.join(unknown)}: not a backbone argument. Valid keys: {', '.join(valid)}")


def _check_workdir(workdir: Workdir, record):
    """Whether the workdir holds a run of this configuration; raises ConfigMismatchError for another one."""
    if not workdir.has_config():
        return False
    old = workdir.read_config()
    # A key the old config lacks was written by an earlier keras-tsr, before that option existed: the run did not
    # use it, which is the same run when the new value is the option's "not used" (no genres, no --set, ...).
    unused = (None, False, [], {})
    diff = sorted(k for k in set(old) | set(record) if k not in MUTABLE and old.get(k) != record.get(k)
                  and not (k not in old and record.get(k) in unused))
    if diff:
        detail = ", ".join(f"{k}: {old.get(k)!r} -> {record.get(k)!r}" for k in diff)
        raise ConfigMismatchError(f"{workdir.path} holds a run with another configuration ({detail}); "
                                  f"use another --workdir or delete that one")
    return True


def _strategy_scope(config):
    """Data parallelism over all local devices: keras.distribution under JAX, MirroredStrategy under TF."""
    import contextlib

    import keras

    if not config.distribute:
        return contextlib.nullcontext(), 1
    if keras.backend.backend() == "jax":
        import jax

        if os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES"):
            keras.distribution.initialize()  # multi-host: JAX's distributed runtime
        devices = keras.distribution.list_devices()
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        log.info("data parallel over %d devices (%d processes)", len(devices), jax.process_count())
        return contextlib.nullcontext(), len(devices)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        return strategy.scope(), strategy.num_replicas_in_sync
    raise ValueError(f"--distribute supports the jax and tensorflow backends. Received: {keras.backend.backend()}")


def train_and_evaluate(config: TrainConfig, workdir: str) -> dict:
    """Trains, keeps the best checkpoint by validation accuracy, evaluates it; returns the metrics.

    The workdir is locked for the whole run: a second training started on it
    is refused with a WorkdirError instead of interleaving with the first.
    """
    check_overrides(config.overrides)
    wd = Workdir(workdir)
    with wd.lock():
        return _train_and_evaluate(config, wd)


def _train_and_evaluate(config: TrainConfig, wd: Workdir) -> dict:
    import keras

    from keras_tsr import data, evaluate
    from keras_tsr.callbacks import (
        ApplyLearningRate,
        BestCheckpoint,
        LossDiverged,
        SafeBackupAndRestore,
        StopOnNonFiniteLoss,
        ValidationOnlyGenreMetrics,
    )
    from keras_tsr.models import GenreClassifier

    if keras.backend.backend() == "tensorflow" and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0" \
            and not keras.distribution.list_devices("gpu"):
        raise ValueError("TensorFlow's oneDNN CPU kernels crash while training this model (a strided 1x1 "
                         "convolution; scripts/onednn_repro.py): set TF_ENABLE_ONEDNN_OPTS=0 before tensorflow is "
                         "imported (keras_tsr.disable_onednn_for_training() does), or train under JAX")
    config = resolve(config)
    workdir = wd.path
    info = data.dataset_info(config.dataset, config.data_dir)
    class_names, label_map = data.genre_subset(info.features["label"].names, config.genres)
    geometry = data.dataset_geometry(info, config.dataset, config.segment_seconds, config.overlap)
    frames = geometry.frames
    record = {**dataclasses.asdict(config), "class_names": class_names, "geometry": geometry.to_dict(),
              "backend": keras.backend.backend(), "keras_version": keras.__version__}
    record = json.loads(json.dumps(record))  # as config.json holds it (tuples become lists), to compare
    resuming = _check_workdir(wd, record)
    wd.write_config(record)
    done = wd.read_done() if resuming else None
    if done and done.get("epochs") == config.epochs:
        log.info("%s already holds the finished run; evaluating its best checkpoint", workdir)
        return evaluate.evaluate_workdir(workdir)

    keras.utils.set_random_seed(config.seed)
    if config.mixed_precision:
        keras.mixed_precision.set_global_policy("mixed_float16")
    scope, replicas = _strategy_scope(config)
    if config.batch_size % replicas:
        raise ValueError(f"--batch-size must be divisible by the {replicas} devices. "
                         f"Received: batch_size={config.batch_size}")
    with scope:
        model = GenreClassifier.from_preset(config.preset, num_classes=len(class_names), num_frames=frames,
                                            compile=False, **config.overrides)
        if config.init_from and not resuming:
            initialise_from(model, config.init_from, class_names)
        if config.freeze_backbone:
            if not config.init_from:
                raise ValueError("--freeze-backbone needs --init-from (a trained model whose backbone to keep)")
            model.backbone.trainable = False
        model.compile_paper_defaults(config.learning_rate, class_names)
    splits = {**DEFAULT_SPLITS, **config.splits}
    train_ds = data.load_split(config.dataset, splits["train"], config.data_dir, config.batch_size, len(class_names),
                               shuffle=True, seed=config.seed, drop_remainder=config.distribute, label_map=label_map,
                               geometry=geometry)
    val_ds = data.load_split(config.dataset, splits["validation"], config.data_dir, config.batch_size, len(class_names),
                             drop_remainder=config.distribute, label_map=label_map, geometry=geometry)

    best = wd.best_so_far() if resuming and wd.has_best_model() else None
    # Order matters: the backup comes last, so it never records an epoch whose checkpoint and log line
    # were not written; a resumed run keeps the best checkpoint of its earlier epochs.
    callbacks = [
        StopOnNonFiniteLoss(),
        ValidationOnlyGenreMetrics(),
        BestCheckpoint(wd.best_model_path, "val_accuracy", best),
        keras.callbacks.CSVLogger(wd.log_path, append=True),
        keras.callbacks.TensorBoard(wd.tensorboard_dir),
        SafeBackupAndRestore(wd.backup_dir),
        ApplyLearningRate(config.learning_rate),  # after the backup's restore
    ]
    log.info("training %s on %s (%s) for %d epochs, batch %d, backend %s", config.preset, config.dataset,
             "built-in demo" if config.demo else config.data_dir, config.epochs, config.batch_size,
             keras.backend.backend())
    start = time.time()
    try:
        model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
                  callbacks=callbacks, shuffle=False, verbose=1 if sys.stdout.isatty() else 2)
    except LossDiverged as e:
        kept = "the best checkpoint and the last epoch's backup are kept" if wd.has_best_model() else \
            "no epoch had finished, so nothing was saved"
        raise TrainingDivergedError(
            f"{e} (learning rate {config.learning_rate:g}); {kept}. Lower --learning-rate and rerun the same "
            f"command to resume from the last finished epoch") from None
    wd.write_done({"epochs": config.epochs, "train_seconds": round(time.time() - start, 1)})
    return evaluate.evaluate_workdir(workdir)


if __name__ == "__main__":
    from keras_tsr.cli import run_as_module

    run_as_module("train", "keras_tsr.train")
