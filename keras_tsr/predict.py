"""Classify audio files: a genre per file with per-genre probabilities.

    python -m keras_tsr predict FILE_OR_DIR... --model W|SAVED_MODEL [--json] [--top-k 3]

Any file keras_tsr.audio reads (mp3, wav, flac, ogg, ...; any rate, mono or
stereo, any length): it is cut into the model's segments (short files padded,
long ones sliced) and the segment probabilities are averaged, as in the
track-level evaluation. `--model` is a training workdir (best.keras) or an
exported SavedModel folder.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from keras_tsr import audio

log = logging.getLogger("keras_tsr.predict")


class ModelError(ValueError):
    """--model is neither a training workdir nor an exported SavedModel."""


def read_model_metadata(ref):
    """(kind, metadata) of a model folder: a training workdir's config or an export's keras_tsr.json.

    The metadata holds the class names and the front-end geometry; raises
    ModelError if `ref` is neither.
    """
    from keras_tsr.export import is_export, read_export_metadata
    from keras_tsr.workdir import Workdir

    if is_export(ref):
        return "saved_model", read_export_metadata(ref)
    if Workdir.looks_like(ref):
        return "keras", Workdir(ref).read_config()
    raise ModelError(f"{ref} is neither a trained workdir (config.json + best.keras; `tsr train --workdir {ref}`) "
                     f"nor an exported SavedModel (saved_model.pb; `tsr export`)")


def model_geometry(ref):
    """The front-end geometry recorded with a workdir or an export (`keras_tsr.audio.Geometry`)."""
    _, meta = read_model_metadata(ref)
    try:
        return audio.Geometry.from_dict(meta["geometry"], source=os.fspath(ref))
    except (KeyError, ValueError) as e:
        raise ModelError(f"{ref}: {e}") from None


class GenreModel:
    """A trained classifier from a workdir (best.keras) or an exported SavedModel."""

    def __init__(self, ref):
        from keras_tsr.workdir import Workdir

        self.ref = ref
        self._kind, meta = read_model_metadata(ref)
        if self._kind == "saved_model":
            import tensorflow as tf

            self._fn = tf.saved_model.load(ref).signatures["serving_default"]
        else:
            self._model = Workdir(ref).load_best_model()
        self.class_names = list(meta["class_names"])
        self.geometry = model_geometry(ref)
        self.segment_seconds = self.geometry.segment_seconds

    def segment_probabilities(self, segments):
        """(N, mels, frames) log-mel segments -> (N, genres) probabilities."""
        x = np.asarray(segments, np.float32)
        if self._kind == "keras":
            return np.asarray(self._model.predict_on_batch(x))
        return self._fn(log_mel=x)["probabilities"].numpy()

    def predict_waveform(self, waveform):
        """A mono clip at the model's sample rate -> (track probabilities, number of segments)."""
        segments = self.geometry.features(waveform)
        return self.segment_probabilities(segments).mean(axis=0), len(segments)

    def predict_file(self, path, top_k=3):
        probs, n = self.predict_waveform(audio.load_audio(path, self.geometry.sample_rate))
        order = np.argsort(probs)[::-1]
        return {
            "file": os.fspath(path),
            "genre": self.class_names[order[0]],
            "probability": float(probs[order[0]]),
            "top_k": [[self.class_names[i], float(probs[i])] for i in order[:top_k]],
            "probabilities": {name: float(p) for name, p in zip(self.class_names, probs)},
            "segments": n,
        }


def expand_inputs(paths):
    """Files as given, and audio files found under the given folders (sorted); missing paths are errors."""
    files, errors = [], []
    for p in paths:
        if os.path.isdir(p):
            found = sorted(os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs if audio.is_audio_file(f))
            if not found:
                errors.append((p, f"{p}: no audio files ({', '.join(audio.AUDIO_EXTENSIONS)}) found"))
            files.extend(found)
        elif os.path.exists(p):
            files.append(p)
        else:
            errors.append((p, f"{p}: no such file or folder"))
    return files, errors


def predict_paths(paths, model_ref, top_k=3, progress=True):
    """Yields ("ok", result) or ("error", (path, message)) for every input, in order."""
    from tqdm.auto import tqdm

    model = GenreModel(model_ref)
    files, errors = expand_inputs(paths)
    for item in errors:
        yield "error", item
    for path in tqdm(files, desc="predict", unit="file", disable=not progress or len(files) < 2):
        try:
            yield "ok", model.predict_file(path, top_k)
        except audio.AudioError as e:
            yield "error", (path, str(e))


def format_table(results, top_k):
    lines = [f"{'file':40s} {'genre':16s} {'prob':>6s}  top-{top_k}"]
    for r in results:
        name = r["file"] if len(r["file"]) <= 40 else "..." + r["file"][-37:]
        top = ", ".join(f"{g} {p:.2f}" for g, p in r["top_k"])
        lines.append(f"{name:40s} {r['genre']:16s} {r['probability']:6.3f}  {top}")
    return "\n".join(lines)


if __name__ == "__main__":
    from keras_tsr.cli import run_as_module

    run_as_module("predict", "keras_tsr.predict")
