"""Training callbacks that lose no work when a run is killed at any moment.

Import after the Keras backend is chosen (it imports keras).
"""

import logging
import math
import os
import shutil

import keras

from keras_tsr import compat
from keras_tsr.errors import ArgumentError
from keras_tsr.utils import atomic_path, is_disk_full

log = logging.getLogger("keras_tsr.train")


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever `monitor` improves, atomically (written aside, then renamed).

    Args:
        filepath: a `.keras` path.
        monitor: the log entry to maximise; None saves every epoch (the last epoch is kept).
        best: the best value so far (a resumed run passes the earlier best).
    """

    def __init__(self, filepath, monitor="val_accuracy", best=None):
        super().__init__()
        if not filepath.endswith(".keras"):
            raise ArgumentError(f"filepath must end in .keras. Received: filepath={filepath}")
        self.filepath = filepath
        self.monitor = monitor
        self.best = -math.inf if best is None else best

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor is not None:
            value = (logs or {}).get(self.monitor)
            if value is None or value <= self.best:
                return
            self.best = float(value)
        try:
            with atomic_path(self.filepath) as partial:  # a kill or a full disk leaves the previous best intact
                self.model.save(partial, overwrite=True)
        except OSError as e:
            if is_disk_full(e):  # h5py's error names no file: name the checkpoint
                raise OSError(e.errno, e.strerror or "No space left on device", self.filepath) from None
            raise


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """keras' BackupAndRestore, made safe against a kill in the middle of writing the backup.

    It keeps the previous epoch's backup (double_checkpoint) and falls back to it
    when the latest is unreadable; a cut-off first backup (no previous one)
    restarts training instead of failing. The backup is kept after a finished
    run, so a rerun with more epochs continues from the last one.
    """

    def __init__(self, backup_dir):
        super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)

    def on_epoch_end(self, epoch, logs=None):
        try:
            super().on_epoch_end(epoch, logs)
        except OSError as e:
            if is_disk_full(e):  # the previous backup (latest.weights.h5.bkp, double_checkpoint) stays readable
                raise OSError(e.errno, e.strerror or "No space left on device", self.backup_dir) from None
            raise

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except OSError as e:
            log.warning("the backup in %s is unreadable (%s); training starts again from epoch 1", self.backup_dir, e)
            shutil.rmtree(self.backup_dir, ignore_errors=True)
            compat.set_initial_epoch(self.model, 0)


class EpochRandomness(keras.callbacks.Callback):
    """Draws each epoch's randomness from (seed, epoch) alone, so an epoch run after a resume is the epoch an
    uninterrupted run would have run: the input pipeline's order and augmentation (its
    `keras_tsr.datasets.pipeline.EpochCounter` is set to the epoch) and the model's own random streams (each
    `SeedGenerator`, dropout's among them, restarts from a state drawn from seed, epoch and its place in the
    model). The backup restores weights and optimizer state but no random state; this makes none needed."""

    def __init__(self, seed, counter=None, stream=False):
        super().__init__()
        self.seed = int(seed)
        self.counter = counter
        self.stream = stream
        self._first = True

    def on_train_begin(self, logs=None):
        self._first = True

    def on_epoch_begin(self, epoch, logs=None):
        import numpy as np

        # With `stream`, one training iterator runs pass after pass (`load_split(stream=...)`), each taking the
        # next epoch from the counter as it starts, possibly while the epoch before is still training: the
        # counter is set once, at this fit's first epoch (a resumed run's too), before the iterator exists.
        # Else each epoch opens its own iterator (Keras may open one more at an epoch's end): set it each time.
        if self.counter is not None and (not self.stream or self._first):
            self.counter.set(epoch)
            self._first = False
        states = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        draws = np.random.SeedSequence([self.seed, epoch]).generate_state(len(states)) >> 1  # < 2**31, any dtype
        for v, d in zip(states, draws, strict=True):
            v.assign(np.array([d, 0], dtype=keras.backend.standardize_dtype(v.dtype)))


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """keras' EarlyStopping on `monitor` (maximised) whose patience survives a resume: at the first epoch of a
    resumed run it replays the finished epochs of log.csv (after `ResumeReport` cut it to them), so it stops
    at the epoch an uninterrupted run would have stopped at."""

    def __init__(self, log_path, monitor="val_accuracy", patience=0):
        super().__init__(monitor, patience=patience, mode="max")
        self.log_path = log_path
        self._replayed = False

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._replayed = False

    def on_epoch_begin(self, epoch, logs=None):
        if self._replayed:
            return
        self._replayed = True
        if epoch:
            from keras_tsr.artifacts.workdir import read_log_rows

            for r in read_log_rows(self.log_path):
                if r.get(self.monitor) is not None and int(r["epoch"]) < epoch:
                    super().on_epoch_end(int(r["epoch"]), {self.monitor: r[self.monitor]})
            self.model.stop_training, self.stopped_epoch = False, 0  # the epochs replayed had not stopped the run


class ValidationOnlyGenreMetrics(keras.callbacks.Callback):
    """Keeps per-genre accuracy (`acc_<genre>`) to the validation side of the logs.

    Keras computes every compiled metric on training batches too; the
    per-genre training accuracies only crowd the progress lines and log.csv.
    Place it first among the callbacks so the others see the trimmed logs.
    """

    @staticmethod
    def _trim(logs):
        for key in [k for k in (logs or {}) if k.startswith("acc_")]:
            logs.pop(key)

    def on_train_batch_end(self, batch, logs=None):
        self._trim(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._trim(logs)


class LossDiverged(RuntimeError):
    """The training loss became NaN or infinite."""

    def __init__(self, epoch, step, loss):
        super().__init__(f"the training loss became {loss} at epoch {epoch + 1}, step {step + 1}")
        self.epoch, self.step, self.loss = epoch, step, loss


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first NaN or infinite loss, before anything of that epoch is saved.

    It raises (instead of setting `stop_training`), so no epoch-end callback
    runs: the best checkpoint and the backup of the last finished epoch stay
    as they were, and the run resumes from there once the cause (often a too
    high learning rate) is fixed.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            raise LossDiverged(self._epoch, batch, float(loss))


class ApplyLearningRate(keras.callbacks.Callback):
    """Sets the optimizer's learning rate at the start of training, after a backup was restored.

    A restored backup brings back the learning rate it was saved with; a run
    resumed with a lower --learning-rate (after a divergence) must use the
    new one. Place it after the backup callback.
    """

    def __init__(self, learning_rate):
        super().__init__()
        self.learning_rate = float(learning_rate)

    def on_train_begin(self, logs=None):
        self.model.optimizer.learning_rate.assign(self.learning_rate)


class LearningRateLog(keras.callbacks.Callback):
    """Adds the learning rate in use at the end of each epoch to the logs (`lr` in log.csv and TensorBoard)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            opt = self.model.optimizer
            lr = opt.learning_rate
            logs["lr"] = float(keras.ops.convert_to_numpy(lr(opt.iterations) if callable(lr) else lr))


class EpochLine(keras.callbacks.Callback):
    """What a person reads while training: a progress bar over each epoch's steps (on a terminal) and one
    line an epoch: loss, accuracy, validation loss and accuracy, learning rate, time. The per-genre
    validation accuracies stay in log.csv, TensorBoard and the curves plot."""

    KEYS = (("loss", "loss {:.4f}"), ("accuracy", "accuracy {:.4f}"), ("auc", "auc {:.4f}"),
            ("val_loss", "val_loss {:.4f}"), ("val_accuracy", "val_accuracy {:.4f}"), ("val_auc", "val_auc {:.4f}"),
            ("lr", "lr {:.2e}"))

    def __init__(self, epochs, steps_per_epoch=None, segments=None):
        super().__init__()
        self.epochs = epochs
        self.steps = steps_per_epoch
        self.segments = segments  # training segments an epoch: the line then gives their rate
        self._bar = None
        self._start = 0.0
        self._trained = None

    def on_test_begin(self, logs=None):
        import time

        if self._trained is None:  # the epoch's validation begins: training time ends here
            self._trained = time.time() - self._start

    def on_epoch_begin(self, epoch, logs=None):
        import sys
        import time

        from tqdm.auto import tqdm

        self._start = time.time()
        self._trained = None
        self._bar = tqdm(total=self.steps, desc=f"epoch {epoch + 1}/{self.epochs}", unit="step", leave=False,
                         disable=not sys.stderr.isatty())

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(1)
            if logs and "loss" in logs:
                self._bar.set_postfix(loss=f"{float(logs['loss']):.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        import time

        if self._bar is not None:
            self._bar.close()
            self._bar = None
        logs = logs or {}
        parts = [fmt.format(float(logs[k])) for k, fmt in self.KEYS if k in logs]
        took = time.time() - self._start
        trained = self._trained if self._trained is not None else took
        rate = f", {self.segments / trained:,.0f} segments/s training" if self.segments and trained > 0 else ""
        log.info("epoch %d/%d: %s (%.1f s%s)", epoch + 1, self.epochs, ", ".join(parts), took, rate)


class ResumeReport(keras.callbacks.Callback):
    """After the backup's restore: says in one line whether training resumes (at which epoch, what was
    restored, what changed in the allowed settings) and drops log.csv's rows of epochs that will run again,
    so the log holds each finished epoch once across any number of interruptions. Place it right after the
    backup callback."""

    def __init__(self, log_path, epochs, changes=""):
        super().__init__()
        self.log_path = log_path
        self.epochs = epochs
        self.changes = changes
        self.dropped = 0

    def on_train_begin(self, logs=None):
        start = compat.initial_epoch(self.model)
        self.dropped = truncate_log(self.log_path, start)
        if start == 0:
            if self.dropped:
                log.info("starting again from epoch 1: no finished epoch was backed up; dropped %d log row(s) of "
                         "the interrupted run", self.dropped)
            return
        step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        log.info("resuming at epoch %d of %d: restored the weights, the optimizer state (step %d) and so the "
                 "learning-rate schedule from the backup%s%s", start + 1, self.epochs, step,
                 f"; dropped {self.dropped} log row(s) of epochs that run again" if self.dropped else "",
                 f"; changed: {self.changes}" if self.changes else "")


def truncate_log(path, start_epoch):
    """Cuts log.csv after its last row of an epoch before `start_epoch` (in place: CSVLogger may hold it open in
    append mode); returns how many rows were dropped."""
    import csv

    if not os.path.isfile(path):
        return 0
    with open(path, "r+", newline="") as f:
        header = f.readline()
        if "epoch" not in header:
            return 0
        column = next(csv.reader([header])).index("epoch")
        keep_at, dropped = f.tell(), 0
        while True:
            line = f.readline()
            if not line:
                break
            if dropped or int(float(next(csv.reader([line]))[column])) >= start_epoch:
                dropped += 1
            else:
                keep_at = f.tell()
        if dropped:
            f.truncate(keep_at)
    return dropped
