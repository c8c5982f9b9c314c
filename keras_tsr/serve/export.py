"""Export a trained workdir as a TF SavedModel for TF Serving.

    tsr export --workdir W --output saved_models/ts_resformer/1     (or python -m keras_tsr.serve ...)

Whatever backend trained the model (the weights are backend-neutral), the
export is built with the TensorFlow backend, so the SavedModel holds plain
TensorFlow ops: it loads with TensorFlow alone (no keras, no keras_tsr) and
serves on any TF Serving release, with no jax/tensorflow version coupling.

Signatures:
  serving_default  log_mel (batch, 128, frames) float32 segments
                   -> probabilities (batch, genres), genre (batch,) string
  serve_waveform   waveform (batch, samples) float32 mono clips at 44.1 kHz
                   -> probabilities (batch, genres), genre (batch,) string,
                      segments (batch,) int32: track-level, the mean over each
                      clip's segments, through the same log-mel front-end
                      (keras_tsr.layers.ClipLogMelSegments) computed in-graph.
The genre names and the front-end geometry (keras_tsr.audio.Geometry) are in
assets.extra/keras_tsr.json, which prediction and `tsr serve-request` read.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from keras_tsr import runtime
from keras_tsr.artifacts import EXPORT_METADATA

log = logging.getLogger("keras_tsr.export")


class ExportError(ValueError):
    """The export cannot be written (missing workdir, existing output, bad layout)."""


def check_output(output, overwrite=False):
    version = os.path.basename(os.path.normpath(output))
    if not version.isdigit():
        raise ExportError(f"--output must end in a numeric version folder, as TF Serving expects "
                          f"(saved_models/NAME/VERSION). Received: {output}")
    if os.path.exists(output) and os.listdir(output) and not overwrite:
        raise ExportError(f"{output} already holds an export; choose the next version number or pass --overwrite")


def export_saved_model(workdir, output, overwrite=False):
    """Writes the SavedModel; runs the export under the TensorFlow backend in a subprocess if needed."""
    from keras_tsr.artifacts import ModelError, Workdir, WorkdirError, open_model

    try:
        if os.path.isdir(workdir) and not Workdir.looks_like(workdir):
            Workdir(workdir).require_trained()  # says what the folder lacks
        ref = open_model(workdir)
        ref.geometry  # noqa: B018 - a clear error now for a .keras file without its workdir's config
        if ref.kind == "saved_model":
            raise ExportError(f"{workdir} is already an exported SavedModel; export from its training workdir")
    except (ModelError, WorkdirError) as e:
        raise ExportError(str(e)) from None
    check_output(output, overwrite)
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow" or _keras_on_other_backend():
        code = "import sys; from keras_tsr.serve.export import _export_tf; _export_tf(sys.argv[1], sys.argv[2])"
        proc = subprocess.run([sys.executable, "-c", code, os.fspath(workdir), os.fspath(output)],
                              env=runtime.child_env("tensorflow"), stderr=subprocess.PIPE, text=True)
        if proc.returncode:
            raise ExportError(f"exporting {workdir} under TensorFlow failed:\n{proc.stderr[-2000:]}")
        return output
    return _export_tf(workdir, output)


def _keras_on_other_backend():
    keras = sys.modules.get("keras")
    return keras is not None and keras.backend.backend() != "tensorflow"


def _export_tf(workdir, output):
    import shutil

    import keras
    import tensorflow as tf

    from keras_tsr.artifacts import open_model
    from keras_tsr.layers import ClipLogMelSegments

    ref = open_model(workdir)
    config, geometry, names = ref.metadata, ref.geometry, ref.class_names
    model = ref.load(for_inference=False)
    frames = geometry.frames
    clip_layer = ClipLogMelSegments(geometry.segment_seconds, sample_rate=geometry.sample_rate)
    names_t = tf.constant(names)

    def outputs(probs):
        return {"probabilities": probs, "genre": tf.gather(names_t, tf.argmax(probs, axis=1))}

    def serve_log_mel(log_mel):
        return outputs(model(log_mel, training=False))

    def serve_waveform(waveform):
        segs = clip_layer(waveform)  # (batch, n, mels, frames)
        shape = tf.shape(segs)
        flat = tf.reshape(segs, [-1, segs.shape[2], frames])
        probs = tf.reshape(model(flat, training=False), [shape[0], shape[1], len(names)])
        out = outputs(tf.reduce_mean(probs, axis=1))
        out["segments"] = tf.fill([shape[0]], shape[1])
        return out

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve_log_mel,
                         input_signature=[tf.TensorSpec([None, geometry.n_mels, frames], tf.float32, name="log_mel")])
    archive.add_endpoint("serve_waveform", serve_waveform,
                         input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
    tmp = output.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        archive.write_out(tmp, verbose=False)
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        with open(os.path.join(tmp, EXPORT_METADATA), "w") as f:
            json.dump({"class_names": names, "geometry": geometry.to_dict(), "preset": config.get("preset"),
                       "dataset": config.get("dataset")}, f, indent=2)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        if os.path.exists(output):  # only reached with overwrite=True (check_output)
            old = output.rstrip("/") + ".old"
            os.replace(output, old)  # the previous export stays whole until the new one is in place
            os.replace(tmp, output)
            shutil.rmtree(old)
        else:
            os.replace(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("wrote %s (signatures: serving_default, serve_waveform)", output)
    return output

