"""Model references: the one `open_model(ref)` for every form a trained model takes.

    ref = open_model("runs/ts_resformer")       # a training workdir
    ref = open_model("runs/ts_resformer/best.keras")
    ref = open_model("saved_models/tsr/1")      # an exported SavedModel (TF Serving)
    ref = open_model("presets/tsr_fma")         # a preset folder, or "hf://USER/NAME", "kaggle://..."
    ref = open_model("tsr.onnx")                # ONNX or LiteRT (.tflite): inference only
    ref.kind, ref.class_names, ref.geometry     # what the model says of itself, without loading it
    model = ref.load()                          # the Keras model (workdir, .keras file or preset)

Class names and the front-end geometry travel with every form: a workdir's config.json, the export's
assets.extra/keras_tsr.json, a preset's metadata.json, the metadata inside an .onnx or .tflite file, and for a
`.keras` file the config.json of the workdir it sits in. Loading never runs code from the file: Keras' safe mode
stays on, so a model holding a Lambda layer is refused.
"""

from __future__ import annotations

import dataclasses
import json
import os

from keras_tsr import audio
from keras_tsr.artifacts.workdir import Workdir

EXPORT_METADATA = os.path.join("assets.extra", "keras_tsr.json")
KINDS = ("workdir", "keras", "saved_model", "preset", "onnx", "litert")
KERAS_KINDS = ("workdir", "keras", "preset")  # the forms that hold the Keras model (training, explain, fine-tuning)


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
    handle: str | None = None  # the hub handle it was resolved from (hf://..., kaggle://...)

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
        """The Keras model (imports keras: choose the backend first); an export has none (ModelError)."""
        if self.kind not in KERAS_KINDS:
            raise ModelError(f"{self.path} is an exported {self.kind} model: it serves predictions only; give the "
                             f"training workdir, its .keras file or a preset for the Keras model")
        try:
            if self.kind == "preset":
                import keras_tsr.models  # noqa: F401 - registers the classes a preset's config.json names
                from keras_tsr.models.trained_preset import load_preset

                return load_preset(self.path, for_inference=for_inference)
            from keras_tsr.models import load_model

            return load_model(self.model_file, for_inference=for_inference)
        except ValueError as e:
            if "safe_mode" in str(e) or "lambda" in str(e).lower():
                raise ModelError(f"{self.model_file or self.path} holds Python code (a Lambda layer): keras-tsr "
                                 f"loads models with Keras' safe mode on and does not run it") from None
            raise ModelError(f"{self.model_file or self.path}: not a keras-tsr model Keras can load "
                             f"({str(e).splitlines()[0][:200]})") from None


FORMS = ("a training workdir, a .keras file, an exported SavedModel folder, a preset folder or hf:// / kaggle:// "
         "handle, or an .onnx / .tflite export")


def open_model(ref) -> ModelRef:
    """Opens any model reference (see the module docstring), reading its metadata, not its weights."""
    if isinstance(ref, ModelRef):
        return ref
    from keras_tsr import hub

    path, handle = os.fspath(ref), None
    if hub.is_handle(path):
        handle = path
        try:
            path = hub.resolve(handle)
        except ValueError as e:
            raise ModelError(str(e)) from None
        if not hub.is_preset(path):
            raise ModelError(f"{handle} is not a keras-tsr preset (no config.json, model.weights.h5 and "
                             f"metadata.json in it)")
    if os.path.isdir(path):
        if is_export(path):
            return ModelRef(path, "saved_model", read_export_metadata(path))
        if hub.is_preset(path):
            return ModelRef(path, "preset", hub.read_metadata(path), handle=handle)
        if Workdir.looks_like(path):
            wd = Workdir(path)
            return ModelRef(path, "workdir", wd.read_config(), wd.best_model_path)
        raise ModelError(f"{path} is not a model folder keras-tsr opens: a trained workdir (config.json + "
                         f"best.keras; `tsr train --workdir {path}`), an exported SavedModel (saved_model.pb; "
                         f"`tsr export`) or a preset (`tsr export --format preset`)")
    if os.path.isfile(path):
        from keras_tsr.artifacts import embedded

        if path.endswith(".keras"):
            parent = Workdir(os.path.dirname(os.path.abspath(path)))
            return ModelRef(path, "keras", parent.read_config() if parent.has_config() else {}, path)
        if path.endswith(".onnx"):
            _, meta = embedded.onnx_session(path)
            return ModelRef(path, "onnx", meta)
        if path.endswith(".tflite"):
            return ModelRef(path, "litert", embedded.read_tflite_metadata(path))
        raise ModelError(f"{path}: not a model keras-tsr opens ({FORMS})")
    raise ModelError(f"{path}: no such file or folder")
