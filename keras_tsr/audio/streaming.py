"""Long recordings (DJ mixes, concerts, hours of audio) turned into log-mel segments in bounded memory.

A song is decoded, resampled and cut in memory (`keras_tsr.audio.segments`). An hour of audio that way holds
the whole waveform several times over (decoded, resampled, z-scored: gigabytes). A file longer than
`STREAM_SECONDS` (by its header) is instead read in blocks of `BLOCK_SECONDS`:

1. decode a block (libsndfile reads in chunks, else PyAV frame by frame), mix it to mono, resample it with
   soxr's streaming resampler, add it to the running sums of the z-score and append it to a temporary file;
2. read the file back a block of STFT frames at a time, z-score it with the whole file's mean and deviation,
   and compute the mel frames with the front-end's own STFT (`features.padded_mel_power`), then each segment's
   dB as `features.segment_db` does.

The result is the same as the in-memory path's within float error (the z-score's sums are accumulated in
float64 rather than float32; tests/audio_test.py holds it to 1e-5). Memory grows with the segments returned
(about 160 MB an hour at 12 s segments, 50% overlap), not with the waveform; the temporary file holds the
resampled waveform (about 640 MB an hour at 44.1 kHz) in the system's temporary folder while a file is read.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from keras_tsr.audio import features
from keras_tsr.audio.decoding import (
    AudioError,
    _describe_unreadable,
    _OneBlasThread,
    _QuietCStderr,
    _to_mono,
    probe,
)
from keras_tsr.audio.geometry import HOP_LENGTH, N_FFT, hop_frames, num_frames, num_segments, segment_samples

STREAM_SECONDS = 600.0  # files longer than this are streamed
BLOCK_SECONDS = 60.0  # seconds of audio a block
FRAME_BLOCK = 4096  # STFT frames computed at a time in the second pass (95 s at 44.1 kHz)


def duration(path) -> float | None:
    """A file's duration in seconds from its header (`decoding.probe`), or None if it does not say."""
    return probe(path)[0]


def is_long(path) -> bool:
    seconds = duration(path)
    return seconds is not None and seconds > STREAM_SECONDS


def decoded_blocks(path, block_seconds=BLOCK_SECONDS):
    """Yields (mono float32 block, sample rate) over the file, in order: libsndfile's block reader, else PyAV."""
    import soundfile as sf

    path = os.fspath(path)
    reason = _describe_unreadable(path)
    if reason is not None:
        raise AudioError(f"{path}: {reason}")
    try:
        with _QuietCStderr():
            f = sf.SoundFile(path)
    except Exception:  # noqa: BLE001 - libsndfile raises several types: FFmpeg may read it
        yield from _av_blocks(path, block_seconds)
        return
    with f:
        sr = f.samplerate
        for block in f.blocks(blocksize=max(1, int(block_seconds * sr)), dtype="float32", always_2d=True):
            with _OneBlasThread():
                yield _to_mono(block), sr


def _av_blocks(path, block_seconds):
    import av

    try:
        container = av.open(path)
    except Exception as e:  # noqa: BLE001 - FFmpeg raises many error types
        raise AudioError(f"{path}: cannot decode audio ({str(e).splitlines()[0] if str(e) else type(e).__name__})") \
            from None
    with container:
        stream = next((st for st in container.streams if st.type == "audio"), None)
        if stream is None:
            raise AudioError(f"{path}: no audio stream in the file")
        sr = stream.rate or stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="fltp")
        chunks, held = [], 0
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
                held += chunks[-1].shape[1]
            if held >= block_seconds * sr:
                yield _to_mono(np.concatenate(chunks, axis=1).T), sr
                chunks, held = [], 0
        chunks += [out.to_ndarray() for out in resampler.resample(None)]
        if chunks:
            yield _to_mono(np.concatenate(chunks, axis=1).T), sr


def _resampled_to_file(path, sample_rate, out, block_seconds):
    """Pass 1: the file at `sample_rate`, appended to the open binary file `out`; returns (samples, mean, scale)
    of the z-score over the whole file (as `features._zscore_affine` gives them)."""
    import soxr

    n, total, squares, stream = 0, 0.0, 0.0, None
    for block, sr in decoded_blocks(path, block_seconds):
        if sr != sample_rate:
            if stream is None:
                stream = soxr.ResampleStream(sr, sample_rate, 1, dtype="float32", quality="HQ")
            block = stream.resample_chunk(block, last=False)
        n, total, squares = _append(out, block, n, total, squares, path)
    if stream is not None:
        tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
        n, total, squares = _append(out, tail, n, total, squares, path)
    if n == 0:
        raise AudioError(f"{path}: decoded to zero samples (empty or truncated file)")
    mean = total / n
    std = max(0.0, squares / n - mean * mean) ** 0.5
    return n, np.float32(mean if std >= 1e-8 else 0.0), np.float32(1.0 / std if std >= 1e-8 else 0.0)


def _append(out, block, n, total, squares, path):
    block = np.ascontiguousarray(block, np.float32)
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{path}: decoded audio holds NaN or infinite samples")
    out.write(block.tobytes())
    b64 = block.astype(np.float64)
    return n + len(block), total + float(b64.sum()), squares + float(np.dot(b64, b64))


def _read(f, start, stop, n):
    """Samples [start, stop) of the raw float32 file `f` holding `n`, zero outside [0, n); and the slice of the
    buffer that holds samples of the file."""
    buf = np.zeros(stop - start, np.float32)
    lo, hi = max(start, 0), max(min(stop, n), max(start, 0))
    if hi > lo:
        f.seek(lo * 4)
        buf[lo - start : hi - start] = np.frombuffer(f.read((hi - lo) * 4), np.float32)
    return buf, slice(lo - start, hi - start)


def file_segments(path, geometry, block_seconds=BLOCK_SECONDS, frame_block=FRAME_BLOCK) -> np.ndarray:
    """A file's log-mel segments (N, mels, frames) at `geometry`, as `audio.segments(audio.load_audio(path))`
    gives them, with the waveform never held whole (see the module docstring)."""
    sr = geometry.sample_rate
    with tempfile.TemporaryFile(prefix="keras_tsr_audio_") as f:
        n, mean, scale = _resampled_to_file(path, sr, f, block_seconds)
        count = num_segments(n, segment_samples(geometry.segment_seconds, sr), geometry.overlap)
        frames = num_frames(geometry.segment_seconds, sr)
        hop = hop_frames(geometry.segment_seconds, sr, geometry.overlap)
        total = (count - 1) * hop + frames
        c = features._consts(int(sr))
        mel = np.empty((total, c.fbank_t.shape[1]), np.float32)
        pad = N_FFT // 2
        with _OneBlasThread():
            for f0 in range(0, total, frame_block):
                k = min(frame_block, total - f0)
                x, inside = _read(f, f0 * HOP_LENGTH - pad, (f0 + k - 1) * HOP_LENGTH - pad + N_FFT, n)
                np.subtract(x[inside], mean, out=x[inside])
                x[inside] *= scale
                mel[f0 : f0 + k] = features.padded_mel_power(x, c, k)
    out = np.empty((count, c.fbank_t.shape[1], frames), np.float32)
    step = max(1, frame_block // hop)
    for s0 in range(0, count, step):
        s1 = min(count, s0 + step)
        out[s0:s1] = features.segment_db(mel[s0 * hop : (s1 - 1) * hop + frames], s1 - s0, hop, frames,
                                         geometry.top_db)
    return out
