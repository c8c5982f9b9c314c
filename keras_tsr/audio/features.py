"""The one log-mel front-end of keras-tsr: waveform -> z-score -> centred STFT -> mel power -> dB segments.

Every path that turns sound into model input goes through `clip_features`
(segments) or `clip_db` (a whole clip, cut into segments later by the tf.data
pipeline): the TFDS builders, prediction, explanation; the exported model's
in-graph twin `keras_tsr.layers.ClipLogMelSegments` takes its filterbank and
window from here. Steps, as in the paper (sections 3.1 and 4.1): Hann window,
n_fft = window = 4096, hop 1024, 128 Slaney mel bands (librosa's filterbank),
segments at 50% overlap (zero-padded tail), each in dB relative to its own
maximum with an 80 dB floor. A per-segment reference implementation, used
only to test this one, lives in `tests/reference_frontend.py`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from keras_tsr.audio.decoding import _OneBlasThread
from keras_tsr.audio.geometry import (
    AMIN,
    HOP_LENGTH,
    N_FFT,
    N_MELS,
    OVERLAP,
    SAMPLE_RATE,
    SEGMENT_SECONDS,
    TOP_DB,
    clip_frames,
    hop_frames,
    num_frames,
    num_segments,
    segment_samples,
)


def _zscore_affine(x: np.ndarray) -> tuple[np.float32, np.float32]:
    """(mean, 1 / std) of x, with (0, 0) for silence (std below 1e-8), so (x - mean) * scale is the z-score."""
    if x.size == 0:
        return np.float32(0.0), np.float32(0.0)
    mean = float(np.sum(x, dtype=np.float32)) / x.size  # pairwise summation: float32 is accurate here
    var = max(0.0, float(np.dot(x, x)) / x.size - mean * mean)
    std = var**0.5
    if std < 1e-8:
        return np.float32(0.0), np.float32(0.0)
    return np.float32(mean), np.float32(1.0 / std)


def zscore(x: np.ndarray) -> np.ndarray:
    """x' = (x - mean) / std, with std 0 (silence) mapped to all zeros."""
    x = np.asarray(x, dtype=np.float32)
    with _OneBlasThread():
        mean, scale = _zscore_affine(x)
    return (x - mean) * scale


@functools.cache
def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Slaney-style, area-normalised triangular mel filters, (n_mels, n_fft // 2 + 1): librosa's (fmin 0,
    fmax sr / 2, Slaney scale and norm), float32. Cached: read-only, shared by every caller.

    librosa computes it; its array is kept in the keras-tsr cache folder (by librosa's version), so a later
    process loads it without importing librosa and numba (a second of a prediction's cold start)."""
    import importlib.metadata
    import os

    from keras_tsr.utils import atomic_path

    root = os.environ.get("KERAS_TSR_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "keras_tsr"))
    path = os.path.join(root, "mel_filterbank",
                        f"librosa{importlib.metadata.version('librosa')}_{sample_rate}_{n_fft}_{n_mels}.npy")
    try:
        fb = np.load(path)
    except (OSError, ValueError):
        import librosa

        fb = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels).astype(np.float32)
        try:
            with atomic_path(path) as tmp:
                np.save(tmp, fb)
        except OSError:  # a read-only home: computed again next time
            pass
    if fb.shape != (n_mels, n_fft // 2 + 1) or fb.dtype != np.float32:
        raise ValueError(f"{path}: a cached filterbank of another shape; delete it")
    fb.flags.writeable = False
    return fb


@functools.cache
def hann_window(n_fft: int = N_FFT) -> np.ndarray:
    """Periodic Hann window (scipy's `get_window('hann', n)`, librosa's default), float32: 0.5 - 0.5 cos(2 pi n /
    n_fft), written out here because importing scipy.signal takes 3 s of a cold start (equal to scipy's within
    float32 rounding: tests/audio_test.py)."""
    n = np.arange(n_fft, dtype=np.float64)
    w = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)
    w.flags.writeable = False
    return w


@dataclass(frozen=True)
class _Consts:
    window: np.ndarray
    fbank_t: np.ndarray  # (n_fft // 2 + 1, n_mels)
    # The filterbank in blocks of mel bands, each over the FFT bins its filters touch: (mel_lo, mel_hi, bin_lo,
    # bin_hi, weights). A mel filter spans a few bins, so the blocks hold an eighth of the dense product's work;
    # numpy has no banded matmul and a scipy.sparse product is slower than these 8 small dense ones.
    blocks: tuple


_CONSTS: dict[int, _Consts] = {}
_MEL_BLOCK = 16


def _filterbank_blocks(fbank_t: np.ndarray, size: int = _MEL_BLOCK) -> tuple:
    used = fbank_t != 0
    blocks = []
    for m0 in range(0, fbank_t.shape[1], size):
        rows = np.flatnonzero(used[:, m0 : m0 + size].any(axis=1))
        if rows.size == 0:  # a block of empty filters contributes zeros
            rows = np.array([0])
        b0, b1 = int(rows[0]), int(rows[-1]) + 1
        blocks.append((m0, min(m0 + size, fbank_t.shape[1]), b0, b1,
                       np.ascontiguousarray(fbank_t[b0:b1, m0 : m0 + size])))
    return tuple(blocks)


def _consts(sample_rate: int) -> _Consts:
    if sample_rate not in _CONSTS:
        fbank_t = np.ascontiguousarray(mel_filterbank(sample_rate).T)
        _CONSTS[sample_rate] = _Consts(hann_window(), fbank_t, _filterbank_blocks(fbank_t))
    return _CONSTS[sample_rate]


def _mel_power(x: np.ndarray, c: "_Consts", n_frames: int, chunk: int = 64, normalize: bool = False) -> np.ndarray:
    """Mel power of the first `n_frames` centred STFT frames of a 1-D waveform, (n_frames, mels).

    `normalize` z-scores the waveform first (`zscore`), in the same pass that
    copies it into the zero-padded buffer. Frames are taken `chunk` at a time
    from a strided view, so the windowed frames and their spectra stay in
    cache; the filterbank product runs over the bins each block of mel bands
    touches (`_Consts.blocks`).
    """
    with _OneBlasThread():
        return _mel_power_blas(x, c, n_frames, chunk, normalize)


def _mel_power_blas(x, c, n_frames, chunk, normalize):

    x = np.asarray(x, dtype=np.float32)
    pad = N_FFT // 2
    need = (n_frames - 1) * HOP_LENGTH + N_FFT
    xp = np.zeros(max(need, len(x) + 2 * pad), np.float32)
    if normalize:
        mean, scale = _zscore_affine(x)
        body = xp[pad : pad + len(x)]
        np.subtract(x, mean, out=body)
        body *= scale
    else:
        xp[pad : pad + len(x)] = x
    return padded_mel_power(xp, c, n_frames, chunk)


def padded_mel_power(xp, c, n_frames, chunk=64):
    """Mel power (n_frames, mels) of the frames starting every HOP_LENGTH samples of `xp`, a waveform already
    padded as a centred STFT pads it (so frame f is centred on sample f * HOP_LENGTH of the unpadded signal).
    The one place the front-end's STFT is computed: whole clips (`_mel_power`) and long files streamed in blocks
    (`keras_tsr.audio.streaming`) both call it. Call within `_OneBlasThread`."""
    import scipy.fft

    view = np.lib.stride_tricks.sliding_window_view(xp, N_FFT)[::HOP_LENGTH][:n_frames]
    n_frames = len(view)
    out = np.empty((n_frames, c.fbank_t.shape[1]), np.float32)
    frames = np.empty((chunk, N_FFT), np.float32)
    power = np.empty((chunk, N_FFT // 2 + 1), np.float32)
    square = np.empty_like(power)
    for i in range(0, n_frames, chunk):
        n = min(chunk, n_frames - i)
        np.multiply(view[i : i + n], c.window, out=frames[:n])
        spec = scipy.fft.rfft(frames[:n], axis=-1, workers=1, overwrite_x=True)
        np.square(spec.real, out=power[:n])
        power[:n] += np.square(spec.imag, out=square[:n])
        for m0, m1, b0, b1, w in c.blocks:
            np.matmul(power[:n, b0:b1], w, out=out[i : i + n, m0:m1])
    return out


def segment_db(mel: np.ndarray, n_segments: int, hop: int, frames: int, top_db: float = TOP_DB) -> np.ndarray:
    """Cuts (time, mels) mel power into `n_segments` windows of `frames` every `hop`, in dB per window.

    Each window's 10 log10(power / its max), floored at -top_db: the logarithm is taken once
    over the clip (the windows overlap), then each window is shifted to its
    own maximum and floored at -top_db.
    """
    db = np.ascontiguousarray((10.0 * np.log10(np.maximum(np.asarray(mel, np.float32), AMIN))).T)  # (mels, time)
    out = np.stack([db[:, s * hop : s * hop + frames] for s in range(n_segments)])  # (n_segments, mels, frames)
    out -= out.max(axis=(1, 2), keepdims=True)
    return np.maximum(out, np.float32(-top_db), out=out)


def clip_features(
    x: np.ndarray, seconds: float = SEGMENT_SECONDS, sample_rate: int = SAMPLE_RATE, overlap: float = OVERLAP
) -> np.ndarray:
    """A clip's log-mel segments, (N, mels, frames): the model input for one track.

    Waveform at `sample_rate` -> z-score -> one centred STFT of the whole clip
    -> mel power -> N windows of `num_frames` frames, one every `hop_frames`
    (the paper's 50% overlap rounded to whole frames: 258 frames, 5.99 s, for
    12 s segments), each in dB relative to its own maximum. N follows
    `num_segments`; frames past the end of the clip see zeros (the paper's
    zero-padded tail).

    Overlapping segments share their STFT frames, so a 30 s clip costs one
    STFT (1,292 frames) instead of four (2,068). Each segment equals
    `log_mel` of the matching waveform slice except its first two frames,
    whose windows see the audio just before the slice instead of zeros.
    """
    n = num_segments(len(x), segment_samples(seconds, sample_rate), overlap)
    frames = num_frames(seconds, sample_rate)
    hop = hop_frames(seconds, sample_rate, overlap)
    mel = _mel_power(x, _consts(int(sample_rate)), (n - 1) * hop + frames, normalize=True)
    return segment_db(mel, n, hop, frames)


def clip_db(x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole clip's log-mel in dB against a fixed reference (power 1.0), (mels, clip_frames), float32.

    Z-score, one centred STFT, mel power, 10 log10(max(power, AMIN)): not
    normalised per segment, so any segment length and overlap can be cut from
    it later (`keras_tsr.datasets.pipeline` does, renormalising each segment to its own
    maximum as `clip_features` does). Frames past the returned ones are
    silence, `CLIP_DB_FLOOR`.
    """
    mel = _mel_power(x, _consts(int(sample_rate)), clip_frames(len(x)), normalize=True)  # (frames, mels)
    return (10.0 * np.log10(np.maximum(mel, AMIN))).T.astype(np.float32)


def segments(x: np.ndarray, geometry) -> np.ndarray:
    """A mono clip at `geometry.sample_rate` -> its log-mel segments (N, n_mels, frames) at that geometry."""
    return clip_features(x, geometry.segment_seconds, geometry.sample_rate, geometry.overlap)
