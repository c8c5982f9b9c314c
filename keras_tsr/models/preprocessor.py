"""The classifier's preprocessor: the front-end settings and the genres, as one serialisable Keras layer."""

import keras

from keras_tsr import audio
from keras_tsr.errors import ArgumentError
from keras_tsr.layers.log_mel import ClipLogMelSegments


@keras.saving.register_keras_serializable(package="keras_tsr")
class GenrePreprocessor(keras.layers.Layer):
    """What a trained classifier needs beside its weights: how audio becomes its input, and what its outputs are.

    Called on waveforms at the geometry's sample rate it gives the model's log-mel segments (the in-graph
    front-end, `keras_tsr.layers.ClipLogMelSegments`). As keras-hub's `AudioConverter`, it is a layer with a
    config: a preset stores it in preprocessor.json (`keras.saving.serialize_keras_object`) and
    `GenreClassifier.from_preset` reads it back as `model.preprocessor`, from which `model.class_names` and
    `model.geometry` come. It holds no weights.

    Args:
        class_names: the genres of the classifier's outputs, in order.
        geometry: the front-end settings, a `keras_tsr.audio.Geometry` or its dict (default: the paper's 12 s).

    Example:
    >>> p = GenrePreprocessor(["jazz", "rock"], audio.Geometry(segment_seconds=6.0))
    >>> p.class_names, p.geometry.frames
    (['jazz', 'rock'], 256)
    >>> tuple(p(np.zeros((1, 44100 * 6), "float32")).shape)  # one 6 s clip: one segment
    (1, 1, 128, 256)
    >>> GenrePreprocessor.from_config(p.get_config()).geometry == p.geometry
    True
    """

    def __init__(self, class_names=None, geometry=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self._geometry = _as_geometry(geometry)
        self._class_names = list(class_names) if class_names else None
        g = self._geometry
        self.front_end = ClipLogMelSegments(g.segment_seconds, g.sample_rate, g.top_db, name="log_mel")

    @property
    def class_names(self):
        return list(self._class_names) if self._class_names else None

    @property
    def geometry(self) -> audio.Geometry:
        return self._geometry

    def call(self, clips):
        return self.front_end(clips)

    def compute_output_shape(self, input_shape):
        return self.front_end.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "class_names": self.class_names, "geometry": self._geometry.to_dict()}


def _as_geometry(geometry) -> audio.Geometry:
    if geometry is None:
        return audio.Geometry()
    if isinstance(geometry, audio.Geometry):
        return geometry
    if isinstance(geometry, dict):
        settable = {k: v for k, v in audio.Geometry().to_dict().items() if k not in ("frames", "hop_frames")}
        return audio.Geometry.from_dict({**settable, **geometry}, source="the preprocessor")
    raise ArgumentError(f"geometry must be a keras_tsr.audio.Geometry or its dict. Received: {geometry!r}")
