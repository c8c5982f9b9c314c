"""Classify audio files: a genre per file with per-genre probabilities.

    python -m keras_tsr predict FILE_OR_DIR... --model MODEL [--json] [--top-k 3]

Any file keras_tsr.audio reads (mp3, wav, flac, ogg, ...; any rate, mono or
stereo, any length): it is cut into the model's segments (short files padded,
long ones sliced) and the segment probabilities are averaged, as in the
track-level evaluation. `--model` is any form of a trained model: a training
workdir, its .keras file, an exported SavedModel, a preset (folder or hub
handle), an .onnx or .tflite export (`keras_tsr.artifacts.open_model`).
"""

from __future__ import annotations

import logging
import os

import numpy as np

from keras_tsr import audio
from keras_tsr.artifacts import ModelError, open_model
from keras_tsr.utils import why_unreadable

log = logging.getLogger("keras_tsr.predict")


class GenreModel:
    """A trained classifier from any model reference (`keras_tsr.artifacts.open_model`): a training workdir, a
    .keras file in its workdir, an exported SavedModel, a preset folder or hub handle, an .onnx or .tflite export.

    A trained run's genre for a song, and its embedding (the mean over the track's segments):

        model = GenreModel("runs/ts_resformer")
        model.predict_file("song.mp3")["genre"]
        model.embed("song.mp3").shape             # (embedding_dim,)
    """

    def __init__(self, ref):
        from keras_tsr.predict.runners import make_runner

        opened = open_model(ref)
        self.ref = opened.path
        self.kind = opened.kind
        if opened.class_names is None:
            raise ModelError(f"{opened.path} records no class names (a .keras file outside its training workdir): "
                             f"give the workdir, or an export of it")
        self.class_names = opened.class_names
        self.geometry = opened.geometry
        # a multi-label model: a sigmoid probability a genre, the threshold tuned on validation, the genre tree
        self.task = opened.metadata.get("task") or "single_label"
        self.threshold = float(opened.metadata.get("threshold", 0.5))
        vocabulary = opened.metadata.get("genre_vocabulary") or []
        titles = {g["id"]: g["title"] for g in vocabulary}
        self.parents = {g["title"]: titles.get(g["parent"]) for g in vocabulary}
        self.segment_seconds = self.geometry.segment_seconds
        self._runner = make_runner(opened)

    MAX_CALL = 16  # segments a model call at most: an hour's 600 segments in one call would need gigabytes

    def segment_outputs(self, segments, embeddings=True, max_call=None):
        """(N, mels, frames) log-mel segments -> ((N, genres) probabilities, (N, dim) embeddings or None), in
        model calls of at most `max_call` segments (MAX_CALL)."""
        segments = np.asarray(segments, np.float32)
        step = max_call or self.MAX_CALL
        if len(segments) <= step:
            return self._runner.run(segments, embeddings=embeddings)
        parts = [self._runner.run(segments[i : i + step], embeddings=embeddings)
                 for i in range(0, len(segments), step)]
        return (np.concatenate([p for p, _ in parts]),
                np.concatenate([e for _, e in parts]) if embeddings else None)

    def segment_probabilities(self, segments):
        """(N, mels, frames) log-mel segments -> (N, genres) probabilities."""
        return self.segment_outputs(segments, embeddings=False)[0]

    def segment_embeddings(self, segments):
        """(N, mels, frames) log-mel segments -> (N, dim) embeddings (what the classifier head reads)."""
        return self.segment_outputs(segments)[1]

    def file_segments(self, path):
        """An audio file's log-mel segments at the model's geometry; a file over ten minutes (a mix, a concert)
        is read in blocks, in bounded memory (`keras_tsr.audio.streaming`), to the same segments."""
        from keras_tsr.audio import streaming

        if streaming.is_long(path):
            return streaming.file_segments(path, self.geometry)
        return audio.segments(audio.load_audio(path, self.geometry.sample_rate), self.geometry)

    def embed(self, path, segments=False):
        """A file's embedding: the mean over its segments (dim,), or with `segments` one row per segment (N, dim)
        with their start times in seconds (`segment_starts`)."""
        emb = self.segment_embeddings(self.file_segments(path))
        return emb if segments else emb.mean(axis=0)

    def segment_starts(self, n):
        """Start times (s) of a clip's first n segments."""
        g = self.geometry
        return np.arange(n) * g.hop_frames * g.hop_length / g.sample_rate

    def predict_waveform(self, waveform):
        """A mono clip at the model's sample rate -> (track probabilities, number of segments)."""
        segments = audio.segments(waveform, self.geometry)
        return self.segment_probabilities(segments).mean(axis=0), len(segments)

    def predict_file(self, path, top_k=3):
        probs = self.segment_probabilities(self.file_segments(path))
        return self.result(path, probs.mean(axis=0), len(probs), top_k)

    def result(self, path, probs, n, top_k=3):
        """The result record of one file from its track-level probabilities; a multi-label model's also lists
        the genres at or over its threshold, most likely first, each with its parent genre ("genres")."""
        order = np.argsort(probs)[::-1]
        out = {
            "file": os.fspath(path),
            "genre": self.class_names[order[0]],
            "probability": float(probs[order[0]]),
            "top_k": [[self.class_names[i], float(probs[i])] for i in order[:top_k]],
            "probabilities": {name: float(p) for name, p in zip(self.class_names, probs)},
            "segments": n,
        }
        if self.task == "multilabel":
            out.update(task="multilabel", threshold=self.threshold, genres=[
                {"genre": self.class_names[i], "probability": float(probs[i]),
                 "parent": self.parents.get(self.class_names[i])} for i in order if probs[i] >= self.threshold])
        return out

    def timeline(self, segment_probs, top_k=3):
        """The genre over time: a record a segment (start and end in seconds, genre, probability, top-k,
        every genre's probability), for `tsr predict --segments`."""
        g = self.geometry
        starts = self.segment_starts(len(segment_probs))
        rows = []
        for start, probs in zip(starts, segment_probs):
            order = np.argsort(probs)[::-1]
            rows.append({"start": round(float(start), 3), "end": round(float(start) + g.segment_seconds, 3),
                         "genre": self.class_names[order[0]], "probability": float(probs[order[0]]),
                         "top_k": [[self.class_names[i], float(probs[i])] for i in order[:top_k]],
                         "probabilities": {name: float(p) for name, p in zip(self.class_names, probs)}})
        return rows


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
            errors.append((p, f"{p}: {why_unreadable(p)}"))
    return files, errors


def _on_accelerator(kind):
    """Whether the model's runtime computes on an accelerator. Only a Keras model asks Keras (importing it and
    its backend); ONNX Runtime and LiteRT run here on the CPU, and a SavedModel asks TensorFlow, so a
    prediction through an export never imports keras or jax."""
    from keras_tsr.artifacts import KERAS_KINDS

    try:
        if kind in KERAS_KINDS:
            import keras

            return any(not d.lower().startswith("cpu") for d in keras.distribution.list_devices())
        if kind == "saved_model":
            from keras_tsr import runtime

            return bool(runtime.tensorflow().config.list_logical_devices("GPU"))
    except Exception:  # noqa: BLE001 - no device list to ask: count it as CPU
        return False
    return False


def _pacing(workers, batch_segments, kind="workdir"):
    """(decoding threads, segments a model call): 2 and 16 on an accelerator, 1 and 1 on a CPU by default."""
    accelerator = _on_accelerator(kind)
    return (2 if accelerator else 1) if workers is None else workers, \
        (16 if accelerator else 1) if batch_segments is None else batch_segments


def predict_paths(paths, model_ref, top_k=3, progress=True, batch_segments=None, workers=None, segments=False):
    """Yields ("ok", result) or ("error", (path, message)) for every input, in order.

    `model_ref`: any model reference (`open_model`), or a loaded `GenreModel`. With `segments`, each result
    also holds its "timeline" (`GenreModel.timeline`): the genre of every segment, with its start time.

    Files are decoded and turned into log-mel segments on `workers` threads
    (default: 2 on an accelerator, 1 on a CPU) while the model runs. On an
    accelerator the segments of several files are batched into model calls
    of about `batch_segments` (default 16); on a CPU each file is one call
    (default 1), as a larger batch runs slower a segment under XLA:CPU and
    oneDNN (measured: scripts/bench_predict.py).
    """
    model = model_ref if isinstance(model_ref, GenreModel) else GenreModel(model_ref)
    for status, item in run_paths(paths, model, False, progress, batch_segments, workers, desc="predict"):
        if status == "ok":
            path, probs, _ = item
            item = model.result(path, probs.mean(axis=0), len(probs), top_k)
            if segments:
                item["timeline"] = model.timeline(probs, top_k)
        yield status, item


def run_paths(paths, model, embeddings=False, progress=True, batch_segments=None, workers=None, desc="predict"):
    """The model over every audio file of `paths` (see `predict_paths` for the pacing): yields, in input order,
    ("ok", (path, segment probabilities (N, genres), segment embeddings (N, dim) or None)) or ("error", (path,
    message))."""
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    files, errors = expand_inputs(paths)
    for item in errors:
        yield "error", item

    def features(path):
        try:
            return path, model.file_segments(path), None
        except audio.AudioError as e:
            return path, None, str(e)

    bar = tqdm(total=len(files), desc=desc, unit="file", disable=not progress or len(files) < 2)
    pending = []  # (path, segments) waiting for a model call, in input order

    def flush():
        probs, emb = model.segment_outputs(np.concatenate([s for _, s in pending]), embeddings=embeddings,
                                           max_call=max(4, batch_segments))  # a CPU: 4, a song's 12 s segments
        start = 0
        for path, segs in pending:
            stop = start + len(segs)
            yield "ok", (path, probs[start:stop], None if emb is None else emb[start:stop])
            start = stop
        bar.update(len(pending))
        pending.clear()

    workers, batch_segments = _pacing(workers, batch_segments, model.kind)
    pool = ThreadPoolExecutor(workers) if workers else None
    stream = pool.map(features, files) if pool else map(features, files)  # in input order; the pool runs ahead
    try:
        for path, segs, error in stream:
            if error is not None:
                yield from flush() if pending else ()
                bar.update(1)
                yield "error", (path, error)
                continue
            pending.append((path, segs))
            if sum(len(s) for _, s in pending) >= batch_segments:
                yield from flush()
        if pending:
            yield from flush()
    finally:
        if pool:
            pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
