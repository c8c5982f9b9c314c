"""Export a trained model: a TF SavedModel for TF Serving (the default), ONNX, LiteRT or a keras-hub preset.

    tsr export --workdir W --output saved_models/ts_resformer/1     (or python -m keras_tsr.serve ...)
    tsr export --workdir W --format onnx   --output tsr.onnx
    tsr export --workdir W --format litert --output tsr.tflite
    tsr export --workdir W --format preset --output presets/tsr_fma

Every export is checked in a fresh process that loads it with its own runtime only (`keras_tsr.serve.check`).
The ONNX and LiteRT files come from Keras' own `model.export` under TensorFlow; they have one input, log_mel
(batch, mels, frames), and two outputs, probabilities and embedding, and carry the class names and front-end
geometry inside the file (`keras_tsr.artifacts.embedded`). Presets: `keras_tsr.models.preset_saving`.

The SavedModel:

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
  embed_log_mel    log_mel -> embedding (batch, dim): what the head reads.
The genre names and the front-end geometry (keras_tsr.audio.Geometry) are in
assets.extra/keras_tsr.json, which prediction and `tsr serve-request` read.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys

import numpy as np

from keras_tsr import runtime
from keras_tsr.artifacts import EXPORT_METADATA
from keras_tsr.serve.errors import ExportError, run_child
from keras_tsr.utils import check_writable

log = logging.getLogger("keras_tsr.export")


FORMATS = ("saved_model", "onnx", "litert", "preset")
SUFFIXES = {"onnx": ".onnx", "litert": ".tflite"}


def check_output(output, overwrite=False, format="saved_model"):
    check_writable(output, "file" if format in SUFFIXES else "folder")
    if format in SUFFIXES:
        if not output.endswith(SUFFIXES[format]):
            raise ExportError(f"--output of a {format} export is a {SUFFIXES[format]} file. Received: {output}")
        if os.path.exists(output) and not overwrite:
            raise ExportError(f"{output} already exists; choose another name or pass --overwrite")
        return
    if format == "preset":
        if os.path.isfile(output) or (os.path.isdir(output) and os.listdir(output) and not overwrite):
            raise ExportError(f"{output} already holds files; choose another folder or pass --overwrite")
        return
    version = os.path.basename(os.path.normpath(output))
    if not version.isdigit():
        raise ExportError(f"--output must end in a numeric version folder, as TF Serving expects "
                          f"(saved_models/NAME/VERSION). Received: {output}")
    if os.path.exists(output) and os.listdir(output) and not overwrite:
        raise ExportError(f"{output} already holds an export; choose the next version number or pass --overwrite")


def export_saved_model(workdir, output, overwrite=False):
    """Writes the SavedModel (see `export_model`)."""
    return export_model(workdir, output, "saved_model", overwrite)


def export_model(model_ref, output, format="saved_model", overwrite=False, check=True):
    """Exports a trained model (a workdir, its .keras file or a preset) in `format` (one of FORMATS) and, with
    `check`, verifies it in a fresh process (`keras_tsr.serve.check`); returns the check's report (or None).

    The SavedModel, ONNX and LiteRT exports are built under the TensorFlow backend (in a subprocess when this
    one runs another): whatever backend trained the model, the weights are backend-neutral.
    """
    from keras_tsr.artifacts import KERAS_KINDS, ModelError, Workdir, WorkdirError, open_model

    if format not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}. Received: {format}")
    try:
        if isinstance(model_ref, (str, os.PathLike)) and os.path.isdir(model_ref) and not Workdir.looks_like(
                model_ref) and not os.path.isfile(os.path.join(model_ref, "metadata.json")):
            Workdir(model_ref).require_trained()  # says what the folder lacks
        ref = open_model(model_ref)
        ref.geometry  # noqa: B018 - a clear error now for a .keras file without its workdir's config
        if ref.kind not in KERAS_KINDS:
            raise ExportError(f"{model_ref} is already an exported {ref.kind} model; export from its training "
                              f"workdir, its .keras file or a preset")
    except (ModelError, WorkdirError) as e:
        raise ExportError(str(e)) from None
    output = os.fspath(output)
    if format != "preset" and not runtime.has_tensorflow():  # built under TensorFlow; a preset needs none
        raise runtime.MissingExtraError(runtime.missing_extra_message("tensorflow"))
    check_output(output, overwrite, format)
    if format == "preset":
        _export_preset(ref, output, overwrite)
    elif runtime.backend() != "tensorflow" or _keras_on_other_backend():
        code = ("import sys; from keras_tsr.serve.errors import child_main; from keras_tsr.serve.export import "
                "_export_tf; child_main(_export_tf, sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == '1')")
        run_child(code, [ref.handle or ref.path, output, format, "1" if overwrite else "0"],
                  runtime.child_env("tensorflow"), f"exporting {model_ref} as {format} under TensorFlow", output)
    else:
        try:
            _export_tf(ref.handle or ref.path, output, format, overwrite)
        except Exception as e:  # TensorFlow's file writer reports a full disk as ResourceExhaustedError
            if "No space left on device" in str(e):
                raise OSError(errno.ENOSPC, "No space left on device", output) from None
            raise
    if not check:
        return None
    from keras_tsr.serve.check import check_export

    return check_export(ref, output)


def _export_preset(ref, output, overwrite):
    from keras_tsr.artifacts import Workdir
    from keras_tsr.models.preprocessor import GenrePreprocessor
    from keras_tsr.models.preset_saving import model_card, save_preset

    info = export_info(ref)
    wd = Workdir(ref.path if ref.kind == "workdir" else os.path.dirname(os.path.abspath(ref.path)))
    config = wd.run_record() if ref.kind != "preset" and wd.has_config() else None
    metrics = wd.read_metrics() if config and os.path.isfile(wd.metrics_path) else {}
    done = (wd.read_done() or {}) if config else {}
    card = None
    if ref.kind == "preset" and os.path.isfile(os.path.join(ref.path, "README.md")):
        with open(os.path.join(ref.path, "README.md")) as f:
            card = f.read()
    model = ref.load(for_inference=True)
    card = card or model_card(info, os.path.basename(output.rstrip("/")), config, metrics, done)
    preprocessor = GenrePreprocessor(info["class_names"], info["geometry"])
    save_preset(model, output, info, preprocessor, card, overwrite=overwrite)
    log.info("wrote preset %s", output)


def export_info(ref):
    """What every export carries of its model: class names, geometry, preset, overrides, dataset."""
    meta = ref.metadata
    info = {"class_names": ref.class_names, "geometry": ref.geometry.to_dict(), "preset": meta.get("preset"),
            "overrides": meta.get("overrides") or {}, "dataset": meta.get("dataset"),
            "outputs": ["probabilities", "embedding"]}
    if meta.get("task") == "multilabel":  # one sigmoid probability a genre, the tuned threshold, the hierarchy
        info.update(task="multilabel", threshold=float(meta.get("threshold", 0.5)),
                    genre_vocabulary=meta.get("genre_vocabulary"))
    return info


def _keras_on_other_backend():
    keras = sys.modules.get("keras")
    return keras is not None and keras.backend.backend() != "tensorflow"


def _export_tf(model_ref, output, format="saved_model", overwrite=False):
    from keras_tsr.artifacts import open_model

    ref = open_model(model_ref)
    if format != "saved_model":
        return _export_single_file(ref, output, format)

    import keras
    import tensorflow as tf

    from keras_tsr.layers import ClipLogMelSegments
    from keras_tsr.predict.runners import HEAD

    geometry, names = ref.geometry, ref.class_names
    model = ref.load(for_inference=False)
    embedding = keras.Model(model.input, model.get_layer(HEAD).input)
    frames = geometry.frames
    clip_layer = ClipLogMelSegments(geometry.segment_seconds, sample_rate=geometry.sample_rate)
    names_t = tf.constant(names)

    multilabel = ref.metadata.get("task") == "multilabel"
    threshold = float(ref.metadata.get("threshold", 0.5))

    def outputs(probs):
        out = {"probabilities": probs, "genre": tf.gather(names_t, tf.argmax(probs, axis=1))}
        if multilabel:  # each genre at or over the tuned threshold (the threshold is in keras_tsr.json too)
            out["over_threshold"] = probs >= threshold
        return out

    def serve_log_mel(log_mel):
        return outputs(model(log_mel, training=False))

    def embed_log_mel(log_mel):
        return {"embedding": embedding(log_mel, training=False)}

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
    archive.add_endpoint("embed_log_mel", embed_log_mel,
                         input_signature=[tf.TensorSpec([None, geometry.n_mels, frames], tf.float32, name="log_mel")])
    _write_archive(archive, output, export_info(ref))
    log.info("wrote %s (signatures: serving_default, serve_waveform, embed_log_mel)", output)
    return output


def _write_archive(archive, output, info):
    """Writes the SavedModel and its metadata beside the final folder, then moves it in place (the previous
    export, with --overwrite, stays whole until the new one is there)."""
    import shutil

    tmp = output.rstrip("/") + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        archive.write_out(tmp, verbose=False)
        os.makedirs(os.path.join(tmp, "assets.extra"), exist_ok=True)
        with open(os.path.join(tmp, EXPORT_METADATA), "w") as f:
            json.dump(info, f, indent=2)
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


def _export_single_file(ref, output, format):
    """ONNX or LiteRT through Keras' `model.export`, with keras-tsr's metadata written into the file."""
    import logging as logging_

    from keras_tsr.artifacts import embedded
    from keras_tsr.predict.runners import two_output_model
    from keras_tsr.utils import atomic_path

    model = two_output_model(ref.load(for_inference=True))
    g = ref.geometry
    model(np.zeros((1, g.n_mels, g.frames), np.float32))  # Keras exports only a model that has been called
    if format == "onnx":
        for module in ("onnx", "tf2onnx"):
            runtime.optional_module(module, "onnx", "the ONNX export")
    logging_.getLogger("tf2onnx").setLevel(logging_.ERROR)
    os.makedirs(os.path.dirname(os.path.abspath(output)) or ".", exist_ok=True)
    with atomic_path(output) as tmp:
        model.export(tmp, format=format, verbose=False)
        (embedded.write_onnx_metadata if format == "onnx" else embedded.write_tflite_metadata)(tmp, export_info(ref))
    log.info("wrote %s (%s: log_mel -> probabilities, embedding)", output, format)
    return output

