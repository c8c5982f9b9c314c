"""Export a trained workdir as a TF SavedModel for TF Serving.

    python -m keras_tsr.export --workdir W --output saved_models/ts_resformer/1

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
The genre names and front-end settings are also in assets.extra/keras_tsr.json.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

log = logging.getLogger("keras_tsr.export")

METADATA_FILE = os.path.join("assets.extra", "keras_tsr.json")


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
    """Writes the SavedModel; runs itself under the TensorFlow backend in a subprocess if needed."""
    import keras_tsr  # noqa: F401 - sets TF's environment defaults

    for name in ("config.json", "best.keras"):
        if not os.path.exists(os.path.join(workdir, name)):
            raise ExportError(f"{os.path.join(workdir, name)} not found: is {workdir} a keras_tsr.train workdir?")
    check_output(output, overwrite)
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow" or _keras_on_other_backend():
        cmd = [sys.executable, "-m", "keras_tsr.export", "--workdir", workdir, "--output", output]
        if overwrite:
            cmd.append("--overwrite")
        subprocess.run(cmd, check=True, env={**os.environ, "KERAS_BACKEND": "tensorflow"})
        return output
    return _export_tf(workdir, output)


def _keras_on_other_backend():
    keras = sys.modules.get("keras")
    return keras is not None and keras.backend.backend() != "tensorflow"


def _export_tf(workdir, output):
    import shutil

    import keras
    import tensorflow as tf

    from keras_tsr.layers import ClipLogMelSegments
    from keras_tsr.models import load_model

    with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
    names = config["class_names"]
    model = load_model(os.path.join(workdir, "best.keras"))
    frames = model.input_shape[-1]
    clip_layer = ClipLogMelSegments(config["segment_seconds"])
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
                         input_signature=[tf.TensorSpec([None, 128, frames], tf.float32, name="log_mel")])
    archive.add_endpoint("serve_waveform", serve_waveform,
                         input_signature=[tf.TensorSpec([None, None], tf.float32, name="waveform")])
    tmp = output.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    archive.write_out(tmp, verbose=False)
    os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
    with open(os.path.join(tmp, METADATA_FILE), "w") as f:
        json.dump({"class_names": names, "segment_seconds": config["segment_seconds"], "sample_rate": 44100,
                   "num_frames": frames, "preset": config["preset"], "dataset": config["dataset"]}, f, indent=2)
    if os.path.exists(output):
        shutil.rmtree(output)  # only reached with overwrite=True (check_output)
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    os.replace(tmp, output)
    log.info("wrote %s (signatures: serving_default, serve_waveform)", output)
    return output


def main(argv=None):
    from keras_tsr.cli import export_command

    export_command.main(args=argv, prog_name="python -m keras_tsr.export")


if __name__ == "__main__":
    main()
