"""Train TS-Resformer (or any preset) on fma_small_logmel, then evaluate it.

    python -m keras_tsr.train --backend jax [--dataset fma_small_logmel/12s] [--preset ts_resformer] ...

Library entry: `train_and_evaluate(TrainConfig(...), workdir)`. The workdir gets:
    config.json        the resolved configuration (a different one is refused)
    log.csv            per-epoch metrics (appended across resumed runs)
    tensorboard/       TensorBoard logs
    best.keras         the checkpoint with the best validation accuracy
    backup/            the state to resume from after an interruption
    eval/              metrics.json and plots (keras_tsr.evaluate)
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time

from keras_tsr.data import DEFAULT_DATASET, DEMO_TRACKS_PER_GENRE

log = logging.getLogger("keras_tsr.train")

PAPER_EPOCHS = 60  # the paper's accuracy stabilised near epoch 46
DEMO_EPOCHS = 10


class ConfigMismatchError(ValueError):
    """The workdir holds a run with another configuration."""


@dataclasses.dataclass
class TrainConfig:
    dataset: str = DEFAULT_DATASET
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


# Settings that may change between the runs of one workdir (to continue or inspect a run).
MUTABLE = ("epochs", "data_dir", "backend", "keras_version", "distribute")


def resolve(config: TrainConfig) -> TrainConfig:
    """Fills in the dataset (falling back to the built-in demo), preset and epochs."""
    from keras_tsr import data

    config = dataclasses.replace(config)
    data_dir = config.data_dir or data.default_data_dir()
    if config.demo or not data.is_prepared(config.dataset, data_dir):
        if not config.demo:
            log.warning("No built %s in %s (build FMA with `tfds build datasets/fma_small_logmel --config 12s "
                        "--manual_dir DIR`); training on the built-in synthetic demo instead.",
                        config.dataset, data_dir)
        config.demo = True
        config.dataset = DEFAULT_DATASET
        config.data_dir = data.demo_dataset(config.demo_tracks_per_genre)
        config.preset = config.preset or "demo"
        config.epochs = config.epochs or DEMO_EPOCHS
    else:
        config.data_dir = data_dir
        config.preset = config.preset or "ts_resformer"
        config.epochs = config.epochs or PAPER_EPOCHS
    return config


def _check_workdir(workdir, record):
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        return False
    with open(path) as f:
        old = json.load(f)
    diff = sorted(k for k in set(old) | set(record) if k not in MUTABLE and old.get(k) != record.get(k))
    if diff:
        detail = ", ".join(f"{k}: {old.get(k)!r} -> {record.get(k)!r}" for k in diff)
        raise ConfigMismatchError(f"{workdir} holds a run with another configuration ({detail}); "
                                  f"use another --workdir or delete that one")
    return True


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def _best_so_far(workdir, monitor="val_accuracy"):
    import csv

    path = os.path.join(workdir, "log.csv")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        values = [float(r[monitor]) for r in csv.DictReader(f) if r.get(monitor)]
    return max(values) if values else None


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
    """Trains, keeps the best checkpoint by validation accuracy, evaluates it; returns the metrics."""
    import keras

    from keras_tsr import data, evaluate
    from keras_tsr.callbacks import BestCheckpoint, SafeBackupAndRestore
    from keras_tsr.models import build_classifier

    config = resolve(config)
    info = data.dataset_info(config.dataset, config.data_dir)
    class_names = info.features["label"].names
    frames = info.features["log_mel"].shape[1]
    record = {**dataclasses.asdict(config), "class_names": class_names, "num_frames": frames,
              "segment_seconds": data.segment_seconds_of(config.dataset),
              "backend": keras.backend.backend(), "keras_version": keras.__version__}
    os.makedirs(workdir, exist_ok=True)
    resuming = _check_workdir(workdir, record)
    with open(os.path.join(workdir, "config.json"), "w") as f:
        json.dump(record, f, indent=2)
    done_path = os.path.join(workdir, "DONE")
    if resuming and os.path.exists(done_path) and _read_json(done_path).get("epochs") == config.epochs:
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
        model = build_classifier(config.preset, len(class_names), num_frames=frames, compile=False)
        model.compile_paper_defaults(config.learning_rate)
    train_ds = data.load_split(config.dataset, "train", config.data_dir, config.batch_size, len(class_names),
                               shuffle=True, seed=config.seed, drop_remainder=config.distribute)
    val_ds = data.load_split(config.dataset, "validation", config.data_dir, config.batch_size, len(class_names),
                             drop_remainder=config.distribute)

    best = _best_so_far(workdir) if resuming and os.path.exists(os.path.join(workdir, "best.keras")) else None
    # Order matters: the backup comes last, so it never records an epoch whose checkpoint and log line
    # were not written; a resumed run keeps the best checkpoint of its earlier epochs.
    callbacks = [
        BestCheckpoint(os.path.join(workdir, "best.keras"), "val_accuracy", best),
        keras.callbacks.CSVLogger(os.path.join(workdir, "log.csv"), append=True),
        keras.callbacks.TensorBoard(os.path.join(workdir, "tensorboard")),
        SafeBackupAndRestore(os.path.join(workdir, "backup")),
    ]
    log.info("training %s on %s (%s) for %d epochs, batch %d, backend %s", config.preset, config.dataset,
             "built-in demo" if config.demo else config.data_dir, config.epochs, config.batch_size,
             keras.backend.backend())
    start = time.time()
    model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, steps_per_epoch=config.steps_per_epoch,
              callbacks=callbacks, shuffle=False, verbose=1 if sys.stdout.isatty() else 2)
    with open(done_path, "w") as f:
        json.dump({"epochs": config.epochs, "train_seconds": round(time.time() - start, 1)}, f)
    return evaluate.evaluate_workdir(workdir)


def main(argv=None):
    from keras_tsr.cli import train_command

    train_command.main(args=argv, prog_name="python -m keras_tsr.train")


if __name__ == "__main__":
    main()
