"""Training callbacks that lose no work when a run is killed at any moment.

Import after the Keras backend is chosen (it imports keras).
"""

import logging
import math
import os
import shutil

import keras

log = logging.getLogger("keras_tsr.train")


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever `monitor` improves, atomically (written aside, then renamed).

    Args:
        filepath: a `.keras` path.
        monitor: the log entry to maximise.
        best: the best value so far (a resumed run passes the earlier best).
    """

    def __init__(self, filepath, monitor="val_accuracy", best=None):
        super().__init__()
        if not filepath.endswith(".keras"):
            raise ValueError(f"filepath must end in .keras. Received: filepath={filepath}")
        self.filepath = filepath
        self.monitor = monitor
        self.best = -math.inf if best is None else best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or value <= self.best:
            return
        self.best = float(value)
        partial = self.filepath[: -len(".keras")] + ".partial.keras"
        self.model.save(partial, overwrite=True)
        os.replace(partial, self.filepath)  # a kill leaves the previous best intact


class SafeBackupAndRestore(keras.callbacks.BackupAndRestore):
    """keras' BackupAndRestore, made safe against a kill in the middle of writing the backup.

    It keeps the previous epoch's backup (double_checkpoint) and falls back to it
    when the latest is unreadable; a cut-off first backup (no previous one)
    restarts training instead of failing. The backup is kept after a finished
    run, so a rerun with more epochs continues from the last one.
    """

    def __init__(self, backup_dir):
        super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)

    def on_train_begin(self, logs=None):
        try:
            super().on_train_begin(logs)
        except OSError as e:
            log.warning("the backup in %s is unreadable (%s); training starts again from epoch 1", self.backup_dir, e)
            shutil.rmtree(self.backup_dir, ignore_errors=True)
            self.model._initial_epoch = 0
