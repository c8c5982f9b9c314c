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
import os
import zipfile

from keras_tsr import audio
from keras_tsr.artifacts.workdir import Workdir
from keras_tsr.errors import DamagedFileError, KerasTsrError
from keras_tsr.hub import REEXPORT as hub_remedy_text
from keras_tsr.utils import read_json, why_unreadable

EXPORT_METADATA = os.path.join("assets.extra", "keras_tsr.json")
KINDS = ("workdir", "keras", "saved_model", "preset", "onnx", "litert")
KERAS_KINDS = ("workdir", "keras", "preset")  # the forms that hold the Keras model (training, explain, fine-tuning)


class ModelError(KerasTsrError, ValueError):
    """A model reference that is not a model keras-tsr can open, or lacks what is asked of it."""


REEXPORT = {
    "workdir": "restore the workdir from a copy, or train again",
    "keras": "copy the file again, or give its training workdir",
    "saved_model": "export it again with `tsr export`",
    "preset": hub_remedy_text,
    "onnx": "export it again with `tsr export --format onnx`",
    "litert": "export it again with `tsr export --format litert`",
}


def is_export(path) -> bool:
    """Whether `path` is a SavedModel folder."""
    return os.path.isfile(os.path.join(path, "saved_model.pb"))


def read_export_metadata(path) -> dict:
    """assets.extra/keras_tsr.json of an export: class names, geometry, preset, dataset."""
    meta = os.path.join(path, EXPORT_METADATA)
    if not os.path.isfile(meta):
        raise ModelError(f"{path} is a SavedModel without {EXPORT_METADATA} (exported by another tool?): export "
                         f"it with `tsr export`")
    return read_json(meta, REEXPORT["saved_model"])


def check_export_whole(path):
    """A SavedModel's weights are in variables/ beside saved_model.pb; a copy without them cannot serve."""
    variables = os.path.join(path, "variables")
    if not os.path.isdir(variables):
        missing = "variables/ folder"
    elif not os.path.isfile(os.path.join(variables, "variables.index")):
        missing = "variables/variables.index"
    elif not any(n.startswith("variables.data-") for n in os.listdir(variables)):
        missing = "variables/variables.data-* files"
    else:
        return
    raise ModelError(f"{path} is a SavedModel without its {missing} (the weights): copy the whole export "
                     f"folder again, or {REEXPORT['saved_model']}")


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
            raise ModelError(missing_metadata_message(self.path, self.kind))
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
            from keras_tsr.models import loading

            if self.kind == "preset":
                return loading.load_preset(self.path, for_inference=for_inference)
            return loading.load_model(self.model_file, for_inference=for_inference)
        except (OSError, zipfile.BadZipFile) as e:  # h5py, zipfile: a truncated or foreign file
            raise DamagedFileError(f"{self.model_file or self.path} is damaged ({str(e).splitlines()[0][:160]}): "
                                   f"{REEXPORT[self.kind]}") from None
        except ValueError as e:
            if isinstance(e, KerasTsrError):
                raise
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
        return _open_folder(path, handle)
    if os.path.isfile(path):
        return _open_file(path)
    raise ModelError(f"{path}: {why_unreadable(path)}")


def _open_folder(path, handle):
    from keras_tsr import hub

    if is_export(path):
        check_export_whole(path)
        return _with_metadata(ModelRef(path, "saved_model", read_export_metadata(path)))
    if hub.is_preset(path):
        return _with_metadata(ModelRef(path, "preset", hub.read_metadata(path), handle=handle))
    parts = (hub.CONFIG, hub.WEIGHTS, hub.METADATA)
    if any(os.path.isfile(os.path.join(path, n)) for n in (hub.WEIGHTS, hub.METADATA)):  # a preset's own files
        missing = [n for n in parts if not os.path.isfile(os.path.join(path, n))]
        raise ModelError(f"{path} is a preset without {', '.join(missing)}: {REEXPORT['preset']}")
    wd = Workdir(path)
    if wd.has_config() or wd.has_best_model():
        wd.require_trained()  # says which of config.json / best.keras is missing, and what to run
        check_keras_file(wd.best_model_path, "workdir")
        return ModelRef(path, "workdir", run_metadata(wd), wd.best_model_path)
    raise ModelError(f"{path} is not a model folder keras-tsr opens: a trained workdir (config.json + "
                     f"best.keras; `tsr train --workdir {path}`), an exported SavedModel (saved_model.pb; "
                     f"`tsr export`) or a preset (`tsr export --format preset`)")


def _open_file(path):
    from keras_tsr.artifacts import embedded

    if path.endswith(".keras"):
        check_keras_file(path, "keras")
        parent = Workdir(os.path.dirname(os.path.abspath(path)))
        return ModelRef(path, "keras", run_metadata(parent) if parent.has_config() else {}, path)
    if path.endswith(".onnx"):
        _, meta = embedded.onnx_session(path)
        return _with_metadata(ModelRef(path, "onnx", meta))
    if path.endswith(".tflite"):
        return _with_metadata(ModelRef(path, "litert", embedded.read_tflite_metadata(path)))
    raise ModelError(f"{path}: not a model keras-tsr opens ({FORMS})")


def run_metadata(wd) -> dict:
    """What a training workdir records of its model: config.json, and for a multi-label run the decision
    threshold its evaluation tuned on the validation split (eval/metrics.json; 0.5 before one has run)."""
    meta = wd.read_config()
    if meta.get("task") == "multilabel":
        try:
            meta["threshold"] = float(wd.read_metrics()["threshold"])
        except (OSError, ValueError, KeyError, TypeError):
            meta["threshold"] = 0.5
    return meta


def check_keras_file(path, kind):
    if not zipfile.is_zipfile(path):
        raise DamagedFileError(f"{path} is damaged: a .keras file is a zip archive and this one does not read as "
                               f"one (cut off?): {REEXPORT[kind]}")


def missing_metadata_message(path, kind) -> str:
    if kind == "keras":
        return (f"{path} records no class names or front-end geometry (a .keras file outside its training "
                f"workdir): give the workdir, or an export of it")
    what = {"onnx": "an .onnx file", "litert": "a .tflite file", "saved_model": "a SavedModel",
            "preset": "a preset", "workdir": "a workdir"}[kind]
    return (f"{path} is {what} without keras-tsr's metadata (class names, front-end geometry; made by another "
            f"tool?): {REEXPORT[kind]}")


def _with_metadata(ref: ModelRef) -> ModelRef:
    """Exports and presets must carry their class names and geometry: refused at opening, not halfway through."""
    if not ref.metadata.get("class_names") or "geometry" not in ref.metadata:
        raise ModelError(missing_metadata_message(ref.path, ref.kind))
    return ref
