"""The training workdir: its layout, in one place.

    W/config.json        the resolved training configuration, with the dataset's geometry and class names
    W/log.csv            per-epoch metrics (appended across resumed runs)
    W/tensorboard/       TensorBoard logs
    W/best.keras         the checkpoint with the best validation accuracy
    W/backup/            the state to resume from after an interruption
    W/DONE               written when training finished: epochs and training time
    W/eval/              metrics.json and plots (keras_tsr.evaluate)

Every module that reads or writes a workdir goes through `Workdir`; no other
module spells these names. `keras_tsr.artifacts.open_model` opens a workdir
like any other model reference.
"""

from __future__ import annotations

import csv
import dataclasses
import os

from keras_tsr.errors import KerasTsrError
from keras_tsr.utils import read_json, write_json_atomic

CONFIG = "config.json"
BEST_MODEL = "best.keras"
DONE = "DONE"
LOG = "log.csv"
BACKUP = "backup"
TENSORBOARD = "tensorboard"
EVAL = "eval"
METRICS = "metrics.json"
LOCK = ".lock"
COST = "cost.json"  # a study's record of the run's model size (parameters, GFLOPs)


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def read_log_rows(path) -> list[dict]:
    """The rows of a training log.csv (Keras' CSVLogger), values as floats or None ("NA"); [] without the file."""
    if not os.path.isfile(path):
        return []
    with open(path, newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """A training workdir's config.json, read once into named fields: what every reader of a finished run
    (evaluation, ensembles, exports and their model card) takes from it. Training writes it from its
    `TrainConfig` plus what the data decided (class names, geometry, backend)."""

    dataset: str
    data_dir: str | None
    preset: str | None
    batch_size: int
    class_names: list
    geometry: dict
    genres: list
    splits: dict
    raw: dict  # every field, as written (the TrainConfig's and the run's)
    task: str = "single_label"  # or "multilabel": class_names are then the genre vocabulary's titles
    genre_vocabulary: list | None = None  # a multi-label run's genres: id, title, parent, top_level

    REQUIRED = ("dataset", "class_names", "geometry")

    @classmethod
    def from_json(cls, record: dict, source="config.json") -> RunRecord:
        missing = [k for k in cls.REQUIRED if k not in record]
        if missing:
            raise WorkdirError(f"{source} lacks {', '.join(missing)} (written by another tool, or cut short): "
                               f"restore the workdir from a copy, or train again")
        return cls(dataset=record["dataset"], data_dir=record.get("data_dir"), preset=record.get("preset"),
                   batch_size=int(record.get("batch_size") or 32), class_names=list(record["class_names"]),
                   geometry=dict(record["geometry"]), genres=list(record.get("genres") or []),
                   splits=dict(record.get("splits") or {}), raw=dict(record),
                   task=record.get("task") or "single_label", genre_vocabulary=record.get("genre_vocabulary"))

    def split(self, name):
        """The TFDS split expression the run used for `name` (a cross-validation fold's folds, or `name`)."""
        return self.splits.get(name) or name

    def get(self, key, default=None):
        return self.raw.get(key, default)


class WorkdirError(KerasTsrError, ValueError):
    """A folder is not (or not yet) a usable training workdir."""


class _WorkdirLock:
    """fcntl.flock on W/.lock: the kernel drops it when the holder exits, so a killed run leaves no stale lock."""

    def __init__(self, workdir):
        self.workdir = workdir
        self._fd = None

    def __enter__(self):
        import fcntl

        os.makedirs(self.workdir.path, exist_ok=True)
        fd = os.open(self.workdir.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise WorkdirError(f"{self.workdir.path} is in use by another training (pid {holder}); wait for it to "
                               f"finish, or train into another --workdir") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
        return False


class Workdir:
    """A training workdir (see the module docstring for its layout).

    Args:
        path: the folder; it need not exist until training writes it.
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def __repr__(self):
        return f"Workdir({self.path!r})"

    def __fspath__(self):
        return self.path

    # -- paths -------------------------------------------------------------
    def _join(self, *names):
        return os.path.join(self.path, *names)

    @property
    def config_path(self):
        return self._join(CONFIG)

    @property
    def best_model_path(self):
        return self._join(BEST_MODEL)

    @property
    def cost_path(self):
        return self._join(COST)

    @property
    def done_path(self):
        return self._join(DONE)

    @property
    def log_path(self):
        return self._join(LOG)

    @property
    def backup_dir(self):
        return self._join(BACKUP)

    @property
    def tensorboard_dir(self):
        return self._join(TENSORBOARD)

    @property
    def eval_dir(self):
        return self._join(EVAL)

    @property
    def metrics_path(self):
        return self._join(EVAL, METRICS)

    def eval_file(self, name):
        return self._join(EVAL, name)

    @property
    def lock_path(self):
        return self._join(LOCK)

    def lock(self):
        """An exclusive lock on the workdir for one training process (released when it ends, even by a kill)."""
        return _WorkdirLock(self)

    # -- state -------------------------------------------------------------
    @classmethod
    def looks_like(cls, path) -> bool:
        """Whether `path` holds a trained workdir (config and best checkpoint)."""
        w = cls(path)
        return os.path.isfile(w.config_path) and os.path.isfile(w.best_model_path)

    def require_trained(self) -> Workdir:
        """Raises WorkdirError, saying what is missing and what to run, unless the workdir holds a model."""
        if not os.path.isdir(self.path):
            raise WorkdirError(f"{self.path} does not exist: train into it with "
                               f"`tsr train --workdir {self.path}`")
        missing = [n for n in (CONFIG, BEST_MODEL) if not os.path.isfile(self._join(n))]
        if missing:
            raise WorkdirError(f"{self.path} is not a trained keras-tsr workdir (it lacks {', '.join(missing)}): "
                               f"train into it with `tsr train --workdir {self.path}`")
        return self

    def has_config(self) -> bool:
        return os.path.isfile(self.config_path)

    def read_config(self) -> dict:
        return read_json(self.config_path, "it records the run's settings, class names and front-end; restore the "
                                           "workdir from a copy, or train into a new --workdir")

    def run_record(self) -> RunRecord:
        """config.json as a `RunRecord` (named fields, checked once)."""
        return RunRecord.from_json(self.read_config(), self.config_path)

    def write_config(self, record: dict):
        os.makedirs(self.path, exist_ok=True)
        write_json_atomic(self.config_path, record)

    def geometry(self):
        """The front-end geometry the model was trained with (`keras_tsr.audio.Geometry`)."""
        from keras_tsr import audio

        return audio.Geometry.from_dict(self.read_config()["geometry"], source=self.path)

    def read_done(self) -> dict | None:
        if not os.path.isfile(self.done_path):
            return None
        return read_json(self.done_path, f"delete it; `tsr train --workdir {self.path}` then checks the run again")

    def write_done(self, info: dict):
        write_json_atomic(self.done_path, info)

    def has_best_model(self) -> bool:
        return os.path.isfile(self.best_model_path)

    def load_best_model(self, for_inference=False):
        """The best checkpoint as a Keras model (imports keras: choose the backend first).

        `for_inference` skips the training state and the random initializers (see `keras_tsr.models.load_model`).
        """
        self.require_trained()
        from keras_tsr.models import load_model

        return load_model(self.best_model_path, for_inference=for_inference)

    def log_rows(self) -> list[dict]:
        """log.csv's rows (one per epoch run), or [] before the first epoch; values are floats, or None where
        the epoch logged none (Keras writes "NA", e.g. validation columns of a run without validation)."""
        return read_log_rows(self.log_path)

    def best_so_far(self, monitor="val_accuracy"):
        """The best logged value of `monitor`, or None."""
        values = [r[monitor] for r in self.log_rows() if r.get(monitor) is not None]
        return max(values) if values else None

    def current_metrics(self, split="test"):
        """eval/metrics.json's content when it holds a whole evaluation of `split` written after the best
        checkpoint (what a rerun of a finished run can reuse), else None."""
        try:
            if os.path.getmtime(self.metrics_path) < os.path.getmtime(self.best_model_path):
                return None
            metrics = self.read_metrics()
        except (OSError, ValueError):
            return None
        return metrics if metrics.get("split") == split and "track" in metrics else None

    def read_metrics(self) -> dict:
        return read_json(self.metrics_path, f"evaluate again with `tsr evaluate --workdir {self.path}`")

    def write_metrics(self, metrics: dict):
        os.makedirs(self.eval_dir, exist_ok=True)
        write_json_atomic(self.metrics_path, metrics)
