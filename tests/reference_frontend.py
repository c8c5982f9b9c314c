"""A per-segment reference front-end, used only to test `keras_tsr.audio.clip_features`.

`slice_segments` cuts the waveform first and `log_mel` takes one STFT per
segment, the naive way: the package computes one STFT per clip and shares
frames between overlapping segments; these functions check that it gives the
same numbers (and `log_mel` is itself checked against librosa).
"""

import numpy as np

from keras_tsr import audio
from keras_tsr.audio import features


def slice_segments(
    x: np.ndarray, seconds: float = audio.SEGMENT_SECONDS, sample_rate: int = audio.SAMPLE_RATE, overlap: float = audio.OVERLAP
) -> np.ndarray:
    """Slices a mono waveform into overlapping segments, zero-padding the tail.

    Segments start every `hop_frames * audio.HOP_LENGTH` samples (264,192 for 12 s),
    as in `clip_features`. Returns an array of shape (num_segments,
    segment_samples).
    """
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"slice_segments expects a mono waveform. Received shape {x.shape}")
    seg = audio.segment_samples(seconds, sample_rate)
    hop = audio.hop_frames(seconds, sample_rate, overlap) * audio.HOP_LENGTH  # the hop clip_features uses
    n = audio.num_segments(len(x), seg, overlap)
    need = (n - 1) * hop + seg
    if len(x) < need:
        x = np.pad(x, (0, need - len(x)))
    idx = np.arange(n)[:, None] * hop + np.arange(seg)[None, :]
    return x[idx]


def log_mel(
    segments: np.ndarray, sample_rate: int = audio.SAMPLE_RATE, frames: int | None = None, top_db: float = audio.TOP_DB
) -> np.ndarray:
    """Log-mel spectrogram of one waveform or a batch of them.

    Args:
        segments: float waveform(s), shape (samples,) or (batch, samples).
        sample_rate: rate of the waveform; sets the mel filter frequencies.
        frames: crop (or pad at -top_db) the time axis to this many frames;
            None keeps all `1 + samples // 1024` frames.
        top_db: dynamic range kept below each example's maximum.

    Returns:
        float32 array (mels, frames) or (batch, mels, frames), in dB relative
        to each example's own maximum: values in [-top_db, 0].

    The STFT is centred with zero padding (librosa's `center=True`,
    `pad_mode="constant"`) and computed in float32.
    """
    x = np.asarray(segments, dtype=np.float32)
    single = x.ndim == 1
    if single:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"log_mel expects (samples,) or (batch, samples). Received shape {x.shape}")
    c = features._consts(int(sample_rate))
    n_frames = 1 + x.shape[1] // audio.HOP_LENGTH
    if frames is not None:
        n_frames = min(n_frames, frames)
    mel = np.stack([features._mel_power(row, c, n_frames) for row in x])  # (batch, n_frames, mels)
    out = power_to_db(np.swapaxes(mel, 1, 2), top_db=top_db)  # (batch, mels, n_frames)
    if frames is not None and out.shape[-1] < frames:
        out = np.pad(out, ((0, 0), (0, 0), (0, frames - out.shape[-1])), constant_values=-top_db)
    return out[0] if single else out


def power_to_db(S, top_db=audio.TOP_DB):
    """10 log10(S / max S) per example (leading axes are examples), floored at -top_db."""
    S = np.asarray(S, dtype=np.float32)
    db = 10.0 * np.log10(np.maximum(S, audio.AMIN))
    db = db - np.max(db, axis=(-2, -1), keepdims=True)
    return np.maximum(db, -top_db).astype(np.float32)
