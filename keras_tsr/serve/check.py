"""Checks an export in a fresh process that loads it with its own runtime only: ONNX Runtime for .onnx, LiteRT
for .tflite, TensorFlow (no Keras) for a SavedModel, Keras for a preset. The Keras model it came from gives the
reference: probabilities and embeddings of real log-mel segments (an audio file's, or two genres of the built-in
synthetic music through the package's front-end) must agree within `TOLERANCE`.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np

from keras_tsr import runtime
from keras_tsr.serve.errors import ExportError, run_child

TOLERANCE = 1e-4


def reference_segments(geometry, audio_file=None):
    """Log-mel segments to check an export with: an audio file's, else 2 x 2.5 segments of synthetic music."""
    from keras_tsr import audio
    from keras_tsr.data import synth_music

    if audio_file:
        return audio.segments(audio.load_audio(audio_file, geometry.sample_rate), geometry)
    clips = [synth_music.render(genre, geometry.segment_seconds * 2.5, seed, geometry.sample_rate)
             for seed, genre in enumerate(("Rock", "Electronic"))]
    return np.concatenate([audio.segments(c, geometry) for c in clips])


def check_export(ref, output, audio_file=None):
    """Runs the export in a fresh process against the Keras model `ref`; returns the report, raises ExportError."""
    from keras_tsr.predict import GenreModel

    source = GenreModel(ref)
    x = reference_segments(source.geometry, audio_file)
    probs, emb = source.segment_outputs(x)
    with tempfile.TemporaryDirectory() as tmp:
        case = os.path.join(tmp, "case.npz")
        np.savez(case, x=x, probs=probs, emb=emb)
        code = ("import sys; from keras_tsr.serve.errors import child_main; from keras_tsr.serve.check import _child; "
                "child_main(_child, sys.argv[1], sys.argv[2])")
        proc = run_child(code, [os.fspath(output), case], runtime.child_env(runtime.backend()),
                         f"the fresh-process check of {output}", output)
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    scale = max(1.0, float(np.abs(emb).max()))
    report["segments"] = len(x)
    if report["max_abs_probabilities"] > TOLERANCE or report["max_abs_embedding"] > TOLERANCE * scale:
        raise ExportError(f"{output}: its outputs differ from the Keras model's by {report['max_abs_probabilities']:.2g}"
                          f" (probabilities) and {report['max_abs_embedding']:.2g} (embedding), over "
                          f"{TOLERANCE} on {len(x)} segments")
    return report


def _child(output, case):
    """The fresh process: loads `output` with its own runtime only and prints a JSON report."""
    from keras_tsr.artifacts import open_model

    data = np.load(case)
    ref = open_model(output)
    x = data["x"]
    if ref.kind == "saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(output)
        probs = loaded.signatures["serving_default"](log_mel=tf.constant(x))["probabilities"].numpy()
        emb = loaded.signatures["embed_log_mel"](log_mel=tf.constant(x))["embedding"].numpy()
        used = f"tensorflow {tf.__version__}"
    else:
        from keras_tsr.predict.runners import make_runner

        probs, emb = make_runner(ref).run(x)
        used = {"onnx": "onnxruntime", "litert": "ai_edge_litert" if "ai_edge_litert" in sys.modules else
                "tensorflow.lite", "preset": "keras"}.get(ref.kind, ref.kind)
    print(json.dumps({
        "format": ref.kind, "runtime": used,
        "keras_loaded": "keras" in sys.modules, "tensorflow_loaded": "tensorflow" in sys.modules,
        "class_names": ref.class_names, "geometry": ref.geometry.to_dict(),
        "max_abs_probabilities": float(np.abs(probs - data["probs"]).max()),
        "max_abs_embedding": float(np.abs(emb - data["emb"]).max()),
        "bytes": _size(output),
    }))


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
