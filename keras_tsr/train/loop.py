"""Train TS-Resformer (or any preset) on a built dataset, keep the best checkpoint, then evaluate it.

    python -m keras_tsr.train --backend jax [--dataset fma_small_logmel/12s] [--architecture ts_resformer] ...

Library entry: `train_and_evaluate(TrainConfig(...), workdir)` (flax's
examples' shape); the workdir's layout is `keras_tsr.artifacts.Workdir`'s. Its
config records the resolved settings and the dataset's front-end geometry; a
run with another configuration is refused, and rerunning the same one resumes it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import warnings

from keras_tsr import compat, runtime
from keras_tsr.artifacts import Workdir
from keras_tsr.datasets.augment import recipe
from keras_tsr.errors import ArgumentError
from keras_tsr.train.config import (
    DEFAULT_SPLITS,
    TrainConfig,
    TrainingDivergedError,
    check_before_work,
    check_workdir,
    prepare_data,
    resolve,
)

log = logging.getLogger("keras_tsr.train")


def initialise_from(model, ref, class_names):
    """Copies a trained model's weights into `model`: all of them when the genres are the same, else the
    backbone's only (the new head starts fresh)."""
    from keras_tsr.artifacts import open_model

    opened = open_model(ref)
    src, src_names = opened.load(for_inference=True), opened.class_names
    if src_names == list(class_names) and src.output_shape == model.output_shape:
        model.set_weights(src.get_weights())
        log.info("initialised every weight from %s (same genres)", ref)
        return "all"
    try:
        model.backbone.set_weights(src.backbone.get_weights())
    except ValueError as e:
        raise ArgumentError(f"--init-from {ref}: its backbone does not fit this one ({e}); train with the same "
                         f"--architecture and --set as it was trained with") from None
    log.info("initialised the backbone from %s; new head for %d genres", ref, len(class_names))
    return "backbone"


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
    raise ArgumentError(f"--distribute supports the jax and tensorflow backends. Received: {keras.backend.backend()}")


def train_and_evaluate(config: TrainConfig, workdir: str) -> dict:
    """Trains, keeps the best checkpoint by validation accuracy, evaluates it; returns the metrics.

    The workdir is locked for the whole run: a second training started on it
    is refused with a WorkdirError instead of interleaving with the first.
    """
    check_before_work(config, workdir)
    wd = Workdir(workdir)
    with wd.lock():
        return _train_and_evaluate(config, wd)


def _train_and_evaluate(config: TrainConfig, wd: Workdir) -> dict:
    import keras

    from keras_tsr.datasets import pipeline as data
    from keras_tsr.evaluate import evaluate_workdir

    runtime.check_training_kernels()
    config = prepare_data(resolve(config))
    handle = _open_dataset(config)
    class_names, geometry = handle.class_names, handle.geometry
    record = {**dataclasses.asdict(config), "class_names": class_names, "geometry": geometry.to_dict(),
              "backend": keras.backend.backend(), "keras_version": keras.__version__}
    if handle.multilabel:  # a single-label run's config.json stays what it was
        record.update(task=handle.task, target=handle.target, genre_vocabulary=handle.genre_vocabulary)
    record = json.loads(json.dumps(record))  # as config.json holds it (tuples become lists), to compare
    old = wd.read_config() if wd.has_config() else {}
    resuming = check_workdir(wd, record)
    changes = ", ".join(f"{k} {old[k]!r} -> {record[k]!r}" for k in ("epochs", "learning_rate")
                        if resuming and k in old and old[k] != record.get(k))
    wd.write_config(record)
    done = wd.read_done() if resuming else None
    if done and done.get("epochs") == config.epochs:
        metrics = wd.current_metrics()
        if metrics is not None:
            log.info("%s already holds the finished run and its evaluation (%s): nothing to do", wd.path,
                     wd.metrics_path)
            return metrics
        log.info("%s already holds the finished run; evaluating its best checkpoint", wd.path)
        return evaluate_workdir(wd.path)

    keras.utils.set_random_seed(config.seed)
    keras.mixed_precision.set_global_policy(precision_policy(config.mixed_precision))
    splits = {**DEFAULT_SPLITS, **config.splits}
    common = dict(drop_remainder=config.distribute)
    aug = recipe(config.augment, **config.augment_overrides)
    epochs = data.EpochCounter()
    full, segments = _steps_per_epoch(handle, config, splits["train"])
    steps = min(full, config.steps_per_epoch) if config.steps_per_epoch else full  # a cap for smoke runs
    segments = min(segments, steps * config.batch_size)
    # One iterator across epochs, pass after pass, where each epoch's steps divide into the compiled calls
    # (Keras would otherwise run the last call of an epoch into the next pass); else one iterator an epoch.
    # A capped pass stops before the end of the split, so a cache of it would never be complete: none then.
    # Grain always: a Keras PyDataset of `steps` batches an epoch, random access by (epoch, batch), its epoch set
    # as each epoch begins (so it counts as no stream below); Keras opens its iterator anew each epoch.
    grain = config.loader == "grain"
    stream = steps if grain or steps % config.steps_per_execution == 0 else None
    train_ds = handle.load_split(splits["train"], config.batch_size, shuffle=True, seed=config.seed, augment=aug,
                                 label_smoothing=config.label_smoothing, epochs=epochs, stream=stream,
                                 cache="auto" if steps == full else "none", **common)
    val_ds = None if splits["validation"] is None else handle.load_split(splits["validation"], config.batch_size,
                                                                         **common)
    weights = handle.positive_weights(splits["train"]) if config.class_weight == "balanced" else None
    model = _build_model(config, class_names, geometry.frames, resuming, steps, handle.task, weights)
    _fit(model, config, wd, train_ds, val_ds, resuming, steps, changes, epochs,
         stream=stream is not None and not grain, segments=segments)
    return evaluate_workdir(wd.path)


def _open_dataset(config):
    """The run's DatasetHandle, checked whole, and what its label type refuses, before anything is written."""
    from keras_tsr.datasets.handle import DatasetHandle

    handle = DatasetHandle(config.dataset, config.data_dir, config.genres, config.segment_seconds, config.overlap,
                           config.loader)
    handle.check()  # a damaged or incomplete build: one line now, not mid-training
    if config.class_weight != "none" and not handle.multilabel:
        raise ArgumentError(f"--class-weight {config.class_weight} weighs the genres of a multi-label build; "
                            f"{config.dataset} has one genre a track")
    return handle


def precision_policy(setting):
    """The Keras dtype policy of a --mixed-precision setting (False, "bf16" or "fp16"); the softmax head and the
    log-mel input stay float32 under each (keras_tsr.models.GenreClassifier)."""
    from keras_tsr.train.config import PRECISIONS

    if setting not in PRECISIONS:
        raise ArgumentError(f"mixed_precision must be one of bf16, fp16 or False. Received: {setting!r}")
    return PRECISIONS[setting]


def _steps_per_epoch(handle, config, split):
    """(batches, segments) in one pass over the training split (batches: the cosine schedule's unit)."""
    import math

    n = handle.count_segments(split)
    steps = max(1, (n // config.batch_size) if config.distribute else math.ceil(n / config.batch_size))
    return steps, n


def make_optimizer(config, steps_per_epoch):
    """Adam (the paper's) or AdamW (weight_decay > 0), at a constant rate or on a cosine schedule with warm-up
    that is a function of the optimizer's step count, so a resumed run (whose step count the backup restores)
    continues the same schedule."""
    import keras

    lr = config.learning_rate
    if config.schedule == "cosine":
        total = max(1, config.epochs * steps_per_epoch)
        warmup = min(total - 1, int(round(config.warmup_epochs * steps_per_epoch)))
        lr = keras.optimizers.schedules.CosineDecay(0.0 if warmup else lr, max(1, total - warmup), alpha=0.0,
                                                    warmup_target=lr if warmup else None, warmup_steps=warmup)
    if config.weight_decay:
        return keras.optimizers.AdamW(lr, weight_decay=config.weight_decay)
    return keras.optimizers.Adam(lr)


def _build_model(config, class_names, frames, resuming, steps_per_epoch, task="single_label", positive_weights=None):
    """The compiled classifier, in the distribution scope; initialised from --init-from on a fresh run."""
    from keras_tsr.models import GenreClassifier

    scope, replicas = _strategy_scope(config)
    if config.batch_size % replicas:
        raise ArgumentError(f"--batch-size must be divisible by the {replicas} devices. "
                         f"Received: batch_size={config.batch_size}")
    if config.freeze_backbone and not config.init_from:
        raise ArgumentError("--freeze-backbone needs --init-from (a trained model whose backbone to keep)")
    with scope:
        model = GenreClassifier.from_preset(config.preset, num_classes=len(class_names), num_frames=frames,
                                            compile=False, task=task, **config.overrides)
        if config.init_from and not resuming:
            initialise_from(model, config.init_from, class_names)
        if config.freeze_backbone:
            model.backbone.trainable = False
        model.compile_paper_defaults(config.learning_rate, class_names if task != "multilabel" else None,
                                     optimizer=make_optimizer(config, steps_per_epoch),
                                     steps_per_execution=config.steps_per_execution,
                                     positive_weights=positive_weights)
        _build_losses_and_metrics(model, len(class_names))
    return model


def _build_losses_and_metrics(model, classes):
    """Builds the compiled loss, metrics and optimizer from symbolic shapes. Otherwise fit builds them from a
    batch of a training iterator it opens and then discards: a pass begun for nothing (reading, cutting, the
    shuffle buffer's fill, and a partial in-memory cache thrown away) before the first epoch starts."""
    import keras

    x = keras.KerasTensor((None, *model.input_shape[1:]), "float32")
    y = keras.KerasTensor((None, classes), "float32")
    compat.symbolic_build(model, x, y)  # Keras' own build step, given shapes instead of a batch


def training_callbacks(config, wd, resuming, steps_per_epoch, changes="", epochs=None, stream=False, segments=None,
                       monitor="val_accuracy"):
    """(the callback list of a training run, its early stopper or None), in the one order that loses no work:

    the non-finite-loss stop, the validation-only metrics, the learning-rate log, the epoch's randomness, the
    best checkpoint, log.csv, TensorBoard (with TensorFlow), early stopping (before the backup, so the epoch
    that stops is backed up whole), the backup (after everything it records), the resume report (right after
    the backup, which it reports on), the constant learning rate (after the backup's restore), the epoch line.
    Each callback is there or not by the configuration; the order does not depend on it. `monitor`: the
    validation metric the checkpoint and early stopping maximise (a multi-label model's val_auc).
    """
    import keras

    from keras_tsr.train import callbacks as cb

    best = wd.best_so_far(monitor) if resuming and wd.has_best_model() else None
    stopper = cb.ResumableEarlyStopping(wd.log_path, monitor, patience=config.early_stopping) \
        if config.early_stopping else None
    if not runtime.has_tensorflow():
        log.info("no TensorBoard events without TensorFlow; %s has every epoch's metrics", wd.log_path)
    callbacks = [
        cb.StopOnNonFiniteLoss(),
        cb.ValidationOnlyGenreMetrics(),
        cb.LearningRateLog(),
        cb.EpochRandomness(config.seed, epochs, stream=stream),
        cb.BestCheckpoint(wd.best_model_path, monitor if config.checkpoint == "best" else None, best),
        keras.callbacks.CSVLogger(wd.log_path, append=True),
        # Keras writes TensorBoard's events with tf.summary: none without TensorFlow (log.csv has every epoch)
        keras.callbacks.TensorBoard(wd.tensorboard_dir) if runtime.has_tensorflow() else None,
        stopper,
        cb.SafeBackupAndRestore(wd.backup_dir),
        cb.ResumeReport(wd.log_path, config.epochs, changes),
        cb.ApplyLearningRate(config.learning_rate) if config.schedule == "constant" else None,
        cb.EpochLine(config.epochs, steps_per_epoch, segments),
    ]
    return [c for c in callbacks if c is not None], stopper


def _fit(model, config, wd, train_ds, val_ds, resuming, steps_per_epoch, changes="", epochs=None, stream=False,
         segments=None):
    """model.fit with the callbacks that lose no work; writes DONE when every epoch has run (or stopped early)."""
    import keras

    from keras_tsr.datasets import verify
    from keras_tsr.train import callbacks as cb

    callbacks, stopper = training_callbacks(config, wd, resuming, steps_per_epoch, changes, epochs, stream,
                                            segments, monitor=model.monitor)
    log.info("training %s on %s (%s) for %d epochs, batch %d, backend %s, augment %s, %s schedule", config.preset,
             config.dataset, "built-in demo" if config.demo else config.data_dir, config.epochs, config.batch_size,
             keras.backend.backend(), config.augment, config.schedule)
    start = time.time()
    try:
        with warnings.catch_warnings():
            # Keras warns at the end of each pass over a dataset of unknown length; a pass is our epoch
            warnings.filterwarnings("ignore", message="Your input ran out of data")
            model.fit(train_ds, validation_data=val_ds, epochs=config.epochs,
                      steps_per_epoch=steps_per_epoch if stream else config.steps_per_epoch, callbacks=callbacks,
                      shuffle=False, verbose=0)
    except cb.LossDiverged as e:
        kept = "the best checkpoint and the last epoch's backup are kept" if wd.has_best_model() else \
            "no epoch had finished, so nothing was saved"
        raise TrainingDivergedError(
            f"{e} (learning rate {config.learning_rate:g}); {kept}. Lower --learning-rate and rerun the same "
            f"command to resume from the last finished epoch") from None
    except Exception as e:
        if config.loader == "tf" and isinstance(e, runtime.tensorflow().errors.DataLossError):
            verify.raise_damaged(config.dataset, config.data_dir)  # TensorFlow's error names no file
        raise
    done = {"epochs": config.epochs, "train_seconds": round(time.time() - start, 1)}
    if stopper is not None and stopper.stopped_epoch:
        done["stopped_early_after"] = int(stopper.stopped_epoch) + 1
    wd.write_done(done)
