"""Model references: the one `open_model(ref)` for a training workdir, a `.keras` file or an exported SavedModel.

    ref = open_model("runs/ts_resformer")       # or "runs/ts_resformer/best.keras", "saved_models/tsr/1"
    ref.kind, ref.class_names, ref.geometry     # what the model says of itself, without loading it
    model = ref.load()                          # the Keras model (a workdir or a .keras file)

Class names and the front-end geometry travel with every form: a workdir's config.json, the export's
assets.extra/keras_tsr.json, and for a `.keras` file the config.json of the workdir it sits in.
"""

from __future__ import annotations

import dataclasses
import json
import os

from keras_tsr import audio
from keras_tsr.artifacts.workdir import Workdir

EXPORT_METADATA = os.path.join("assets.extra", "keras_tsr.json")
KINDS = ("workdir", "keras", "saved_model")


class ModelError(ValueError):
    """A model reference that is not a model keras-tsr can open, or lacks what is asked of it."""


def is_export(path) -> bool:
    """Whether `path` is a SavedModel folder."""
    return os.path.isfile(os.path.join(path, "saved_model.pb"))


def read_export_metadata(path) -> dict:
    """assets.extra/keras_tsr.json of an export: class names, geometry, preset, dataset."""
    meta = os.path.join(path, EXPORT_METADATA)
    if not os.path.isfile(meta):
        raise ModelError(f"{path} is a SavedModel without {EXPORT_METADATA}: export it with `tsr export`")
    with open(meta) as f:
        return json.load(f)


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """An opened model reference (see `open_model`): its kind, its path and what it records of itself."""

    path: str
    kind: str  # one of KINDS
    metadata: dict  # class_names, geometry, preset, ... ({} for a .keras file outside a workdir)
    model_file: str | None = None  # the .keras file of a workdir or .keras reference

    @property
    def class_names(self) -> list | None:
        names = self.metadata.get("class_names")
        return list(names) if names else None

    @property
    def geometry(self) -> audio.Geometry:
        """The front-end geometry the model was trained with; ModelError if none is recorded."""
        if "geometry" not in self.metadata:
            raise ModelError(f"{self.path} records no front-end geometry (a .keras file outside its training "
                             f"workdir): give the workdir, or an export of it")
        try:
            return audio.Geometry.from_dict(self.metadata["geometry"], source=self.path)
        except (KeyError, ValueError) as e:
            raise ModelError(f"{self.path}: {e}") from None

    def load(self, for_inference=True):
        """The Keras model (imports keras: choose the backend first); a SavedModel has none (ModelError)."""
        if self.model_file is None:
            raise ModelError(f"{self.path} is an exported SavedModel: it serves predictions only; give the "
                             f"training workdir (or its .keras file) for the Keras model")
        from keras_tsr.models import load_model

        return load_model(self.model_file, for_inference=for_inference)


def open_model(ref) -> ModelRef:
    """Opens a workdir, a .keras file or a SavedModel folder (reading its metadata, not its weights)."""
    path = os.fspath(ref)
    if os.path.isdir(path):
        if is_export(path):
            return ModelRef(path, "saved_model", read_export_metadata(path))
        if Workdir.looks_like(path):
            wd = Workdir(path)
            return ModelRef(path, "workdir", wd.read_config(), wd.best_model_path)
        raise ModelError(f"{path} is neither a trained workdir (config.json + best.keras; `tsr train --workdir "
                         f"{path}`) nor an exported SavedModel (saved_model.pb; `tsr export`)")
    if os.path.isfile(path) and path.endswith(".keras"):
        parent = Workdir(os.path.dirname(os.path.abspath(path)))
        return ModelRef(path, "keras", parent.read_config() if parent.has_config() else {}, path)
    if os.path.exists(path):
        raise ModelError(f"{path}: not a model keras-tsr opens (a training workdir, a .keras file or an exported "
                         f"SavedModel folder)")
    raise ModelError(f"{path}: no such file or folder")
