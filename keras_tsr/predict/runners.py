"""One interface over every form a trained model takes: (N, mels, frames) log-mel segments in, per-segment genre
probabilities and embeddings out (`Runner.run`). Which runtime runs it follows the reference's kind:

    workdir, .keras, preset   Keras (the session's backend: XLA under JAX, TensorFlow)
    saved_model               TensorFlow (the export's serving_default and embed_log_mel signatures)
    onnx                      ONNX Runtime (the `onnx` extra), with keras-tsr's numpy front-end
    litert                    LiteRT (ai-edge-litert, the `litert` extra, or TensorFlow's interpreter)

The embedding is what the classifier head reads: the backbone's output (the spectral and temporal branch
vectors, concatenated), before the head's dropout and softmax layer.
"""

from __future__ import annotations

import numpy as np

from keras_tsr import runtime
from keras_tsr.artifacts import ModelError, ModelRef

HEAD = "predictions"  # the classifier's softmax layer (keras_tsr.models.GenreClassifier)


def two_output_model(model):
    """A Keras model of the classifier's input to (probabilities, embedding): the head's input is the embedding."""
    import keras

    return keras.Model(model.input, [model.output, model.get_layer(HEAD).input], name=f"{model.name}_with_embedding")


# Every runner has `run(x, embeddings=True)`: (N, mels, frames) float32 -> (probabilities (N, genres),
# embeddings (N, dim) or None).


class KerasRunner:
    def __init__(self, ref: ModelRef):
        self.model = ref.load(for_inference=True)
        self._both = two_output_model(self.model)
        self._fill = -ref.geometry.top_db

    def run(self, x, embeddings=True):
        # Pad the batch to a power of two: under JAX each new batch size compiles the model again.
        n = len(x)
        padded = 1 << max(2, (n - 1).bit_length())
        if padded != n:
            x = np.concatenate([x, np.full((padded - n, *x.shape[1:]), self._fill, np.float32)])
        if not embeddings:
            return np.asarray(self.model.predict_on_batch(x))[:n], None
        probs, emb = self._both.predict_on_batch(x)
        return np.asarray(probs)[:n], np.asarray(emb, np.float32)[:n]


class SavedModelRunner:
    def __init__(self, ref: ModelRef):
        tf = runtime.tensorflow()
        self.path = ref.path
        from google.protobuf.message import DecodeError

        from keras_tsr.artifacts.refs import REEXPORT
        from keras_tsr.errors import DamagedFileError

        try:
            loaded = tf.saved_model.load(ref.path)
        except (OSError, ValueError, IndexError, DecodeError, tf.errors.OpError) as e:  # a cut-off file
            reason = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
            raise DamagedFileError(f"{ref.path} is a damaged SavedModel ({reason}): copy the whole export folder "
                                   f"again, or {REEXPORT['saved_model']}") from None
        self._probs = loaded.signatures["serving_default"]
        self._embed = loaded.signatures.get("embed_log_mel")

    def run(self, x, embeddings=True):
        probs = self._probs(log_mel=x)["probabilities"].numpy()
        if not embeddings:
            return probs, None
        if self._embed is None:
            raise ModelError(f"{self.path} is a SavedModel exported before embeddings were (no embed_log_mel "
                             f"signature): export it again with `tsr export`")
        return probs, self._embed(log_mel=x)["embedding"].numpy()


class OnnxRunner:
    def __init__(self, ref: ModelRef):
        from keras_tsr.artifacts import embedded

        self.session, _ = embedded.onnx_session(ref.path)
        self._input = self.session.get_inputs()[0].name

    def run(self, x, embeddings=True):
        probs, emb = self.session.run(None, {self._input: x})
        return probs, emb if embeddings else None


class LiteRTRunner:
    def __init__(self, ref: ModelRef):
        from keras_tsr.artifacts import embedded

        interpreter = embedded.tflite_interpreter(ref.path)
        (name, signature), = interpreter.get_signature_list().items()
        self._input = signature["inputs"][0]
        self._runner = interpreter.get_signature_runner(name)

    def run(self, x, embeddings=True):
        out = self._runner(**{self._input: x})
        return out["output_0"], out["output_1"] if embeddings else None


RUNNERS = {"workdir": KerasRunner, "keras": KerasRunner, "preset": KerasRunner, "saved_model": SavedModelRunner,
           "onnx": OnnxRunner, "litert": LiteRTRunner}


def make_runner(ref: ModelRef):
    return RUNNERS[ref.kind](ref)
