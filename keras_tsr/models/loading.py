"""Loading the models of this package, every Keras form in one place: `load_model` (a .keras file) and
`load_preset` (a preset folder: config.json, weights, preprocessor.json). What a reference is and which of these it
needs: `keras_tsr.artifacts.open_model`; hub handles and the preset layout: `keras_tsr.hub`; writing a preset:
`keras_tsr.models.preset_saving`.

Both build the model with Keras' safe mode on (no code in a file runs). With `for_inference`, the model is loaded
without its training state and its variables are created as zeros before the saved values overwrite them, instead of
running each weight's random initializer: under JAX every initializer of a new shape compiles an XLA program (about
11 s of a 15 s cold start for ts_resformer on 2 cores), all for values that loading replaces at once
(`keras_tsr.compat.zero_initialised_variables`).
"""

from __future__ import annotations

import contextlib
import os

from keras_tsr.errors import DamagedFileError
from keras_tsr.hub import CONFIG, PREPROCESSOR, REEXPORT, WEIGHTS, read_metadata
from keras_tsr.utils import read_json


def _scope(for_inference):
    from keras_tsr.compat import zero_initialised_variables

    return zero_initialised_variables() if for_inference else contextlib.nullcontext()


def load_model(path, for_inference=False):
    """Loads a saved .keras model of this package (importing this module registers its classes)."""
    import keras

    with _scope(for_inference):
        return keras.saving.load_model(path, compile=not for_inference)


def load_preset(path, for_inference=True):
    """The Keras model of a preset folder: config.json, then model.weights.h5, then its preprocessor
    (`GenrePreprocessor`: genres and geometry) from preprocessor.json as `model.preprocessor`."""
    import keras

    import keras_tsr.models  # noqa: F401 - registers the classes config.json names

    config = read_json(os.path.join(path, CONFIG), REEXPORT)
    with _scope(for_inference):
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    weights = os.path.join(path, WEIGHTS)
    try:
        model.load_weights(weights)
    except OSError as e:  # h5py: a truncated or foreign file
        raise DamagedFileError(f"{weights} is damaged ({str(e).splitlines()[0][:160]}): {REEXPORT}") from None
    except ValueError as e:  # weights of another architecture than config.json's
        raise DamagedFileError(f"{weights} does not fit {CONFIG} beside it ({str(e).splitlines()[0][:160]}): "
                               f"{REEXPORT}") from None
    model.preprocessor = load_preprocessor(path)
    return model


def load_preprocessor(path):
    """A preset's `GenrePreprocessor`, from preprocessor.json; a preset written before it was a Keras object
    (preprocessor.json naming keras_tsr.audio.Geometry) gets one from metadata.json's class names and geometry."""
    import keras

    from keras_tsr.models.preprocessor import GenrePreprocessor

    file = os.path.join(path, PREPROCESSOR)
    config = read_json(file, REEXPORT) if os.path.isfile(file) else None
    if config is None or config.get("class_name") == "keras_tsr.audio.Geometry":
        info = read_metadata(path)
        return GenrePreprocessor(info.get("class_names"), info.get("geometry"))
    try:
        preprocessor = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except (TypeError, ValueError) as e:
        raise DamagedFileError(f"{file} does not hold a keras-tsr preprocessor ({str(e).splitlines()[0][:160]}): "
                               f"{REEXPORT}") from None
    if not isinstance(preprocessor, GenrePreprocessor):
        raise DamagedFileError(f"{file} holds a {type(preprocessor).__name__}, not a GenrePreprocessor: {REEXPORT}")
    return preprocessor
