"""Trained models as presets, on disk and on model hubs: the folder layout keras-hub uses (`is_preset`,
`read_metadata`) and hub handles, `hf://USER/NAME` (Hugging Face) and `kaggle://OWNER/MODEL/keras/VARIANT[/VERSION]`,
which resolve to a local folder through `huggingface_hub` or `kagglehub`, whichever the handle names (neither is a
dependency: install the one you use; downloads are cached by those libraries). Writing the model:
`keras_tsr.models.preset_saving`; loading it: `keras_tsr.models.loading`. Nothing here imports keras.

    PRESET/config.json        the model's Keras config (keras.saving.serialize_keras_object), as keras-hub writes it
    PRESET/model.weights.h5   its weights
    PRESET/metadata.json      keras and keras-tsr versions, parameter count, date, and under "keras_tsr": the class
                              names, the front-end geometry, the architecture preset and the dataset
    PRESET/preprocessor.json  the front-end and the genres: a GenrePreprocessor layer (keras.saving's JSON), as
                              keras-hub stores its preprocessors
    PRESET/README.md          the model card: data, training length, accuracies with intervals, geometry, license
"""

from __future__ import annotations

import os

from keras_tsr import runtime
from keras_tsr.errors import ArgumentError

CONFIG, WEIGHTS, METADATA, PREPROCESSOR, CARD = ("config.json", "model.weights.h5", "metadata.json",
                                                 "preprocessor.json", "README.md")
LICENSE = "Apache-2.0 (code); the weights inherit the training data's terms (FMA audio: per-track Creative Commons)"


REEXPORT = "download the preset again, or export it again with `tsr export --format preset`"


def is_preset(path) -> bool:
    """Whether `path` is a preset folder (config.json, model.weights.h5 and metadata.json)."""
    return all(os.path.isfile(os.path.join(path, n)) for n in (CONFIG, WEIGHTS, METADATA))


def read_metadata(path) -> dict:
    """The keras-tsr part of a preset's metadata.json: class_names, geometry, preset, dataset."""
    from keras_tsr.utils import read_json

    return read_json(os.path.join(path, METADATA), REEXPORT).get("keras_tsr", {})


SCHEMES = {"hf://": ("huggingface_hub", "a hf:// model handle"), "kaggle://": ("kagglehub", "a kaggle:// model handle")}


def is_handle(ref) -> bool:
    return isinstance(ref, str) and ref.startswith(tuple(SCHEMES))


def resolve(handle: str) -> str:
    """The local folder of a hub handle (downloading it if it is not cached)."""
    for scheme, (module, purpose) in SCHEMES.items():
        if handle.startswith(scheme):
            name = handle[len(scheme):].strip("/")
            if not name:
                raise ArgumentError(f"{handle}: the handle names no model (e.g. {scheme}USER/NAME)")
            try:
                lib = __import__(module)
            except ModuleNotFoundError as e:
                if e.name != module:
                    raise
                raise runtime.MissingExtraError(f"{module} is not installed ({purpose} needs it): "
                                                f"`pip install {module}`") from None
            if module == "huggingface_hub":
                return lib.snapshot_download(repo_id=name)
            return lib.model_download(name)
    raise ArgumentError(f"{handle}: not a model hub handle (hf://... or kaggle://...)")
