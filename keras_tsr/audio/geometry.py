"""Segment geometry: the front-end's constants and how a clip is cut into the model's segments.

`Geometry` is the one record of the front-end's settings; the segment count
(`num_segments`) is the one formula the builder, the tf.data pipeline, the
in-graph front-end and prediction share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from keras_tsr.errors import ArgumentError

SAMPLE_RATE = 44100
N_FFT = 4096
HOP_LENGTH = 1024
N_MELS = 128
TOP_DB = 80.0
AMIN = 1e-10
OVERLAP = 0.5
SEGMENT_SECONDS = 12.0
CLIP_DB_FLOOR = 10.0 * math.log10(AMIN)  # -100 dB: what silence (and the padding past a clip's end) stores


@dataclass(frozen=True)
class Geometry:
    """How a waveform becomes model input: the one record of the front-end's settings.

    The dataset builders store `to_dict()` in `info.metadata["geometry"]`,
    training copies it into the workdir's config, and export writes it beside
    the SavedModel; prediction reads it back from the model it is given.
    Only `segment_seconds` and `overlap` vary; the STFT and mel settings are
    recorded so that a model made with other ones is refused, not misread.
    """

    segment_seconds: float = SEGMENT_SECONDS
    overlap: float = OVERLAP
    sample_rate: int = SAMPLE_RATE
    n_fft: int = N_FFT
    hop_length: int = HOP_LENGTH
    n_mels: int = N_MELS
    top_db: float = TOP_DB

    @property
    def frames(self) -> int:
        return num_frames(self.segment_seconds, self.sample_rate)

    @property
    def hop_frames(self) -> int:
        return hop_frames(self.segment_seconds, self.sample_rate, self.overlap)

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {**asdict(self), "frames": self.frames, "hop_frames": self.hop_frames}

    @classmethod
    def from_dict(cls, d: dict, source: str = "the model") -> "Geometry":
        """Reads a recorded geometry; refuses settings this front-end does not compute."""
        from dataclasses import fields

        names = {f.name for f in fields(cls)}
        missing = sorted(names - set(d))
        if missing:
            raise ArgumentError(f"{source}: its recorded front-end settings lack {missing}")
        g = cls(**{k: type(getattr(cls, k))(d[k]) for k in names})
        fixed = {"sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "hop_length": HOP_LENGTH, "n_mels": N_MELS,
                 "top_db": TOP_DB}
        other = {k: getattr(g, k) for k, v in fixed.items() if getattr(g, k) != v}
        if other:
            raise ArgumentError(f"{source} was made with front-end settings {other}; this keras-tsr computes "
                             f"{ {k: fixed[k] for k in other} }: use the keras-tsr release that made it")
        if "frames" in d and int(d["frames"]) != g.frames:
            raise ArgumentError(f"{source}: {d['frames']} frames recorded, but {g.segment_seconds} s segments give "
                             f"{g.frames} here")
        return g


def segment_samples(seconds: float = SEGMENT_SECONDS, sample_rate: int = SAMPLE_RATE) -> int:
    """Number of samples in one segment of `seconds`."""
    return int(round(seconds * sample_rate))


def num_frames(seconds: float = SEGMENT_SECONDS, sample_rate: int = SAMPLE_RATE) -> int:
    """Frames the model sees per segment.

    A centred STFT of `n` samples gives `1 + n // hop` frames (517 for 12 s at
    44.1 kHz); the paper crops that to a power-of-two friendly multiple of 32
    (512 for 12 s), which we follow for every segment length.
    """
    full = 1 + segment_samples(seconds, sample_rate) // HOP_LENGTH
    return max(32, (full // 32) * 32)


def num_segments(length, seg_len, overlap: float = OVERLAP, xp=None):
    """The paper's N = floor((L - l) / (l * (1 - overlap))) + 1.

    L is the clip length. FMA clips are "30 s" but decode a little short
    (1,321,967 samples at 44.1 kHz is 29.976 s), which would lose the last
    12 s segment by ~1,000 samples. The paper zero-pads it, so the quotient is
    rounded to the nearest integer: a last segment is kept when at least half
    of its hop is real audio. A clip shorter than one segment gives one
    zero-padded segment.

    With `xp` (numpy, `tf` or `keras.ops`: anything with `floor` and
    `where` and `ones_like`), `length` may be a float tensor and the result is a float tensor
    of the same count: the tf.data pipeline and the in-graph front-end call it
    so, and cast.
    """
    if seg_len <= 0:
        raise ArgumentError(f"seg_len must be positive. Received: seg_len={seg_len}")
    if not 0.0 <= overlap < 1.0:
        raise ArgumentError(f"overlap must be in [0, 1). Received: overlap={overlap}")
    hop = seg_len * (1.0 - overlap)
    if xp is not None:
        n = xp.floor((length - seg_len) / hop + 0.5) + 1.0
        return xp.where(length <= seg_len, xp.ones_like(n), n)
    if length <= seg_len:
        return 1
    return int(math.floor((length - seg_len) / hop + 0.5)) + 1


def hop_frames(seconds: float = SEGMENT_SECONDS, sample_rate: int = SAMPLE_RATE, overlap: float = OVERLAP) -> int:
    """STFT frames between segment starts: the segment hop rounded to whole frames (258 for 12 s)."""
    return max(1, int(round(segment_samples(seconds, sample_rate) * (1.0 - overlap) / HOP_LENGTH)))


def clip_frames(num_samples: int) -> int:
    """STFT frames of a centred STFT that see any of `num_samples` samples; every later frame is silence."""
    return (num_samples + N_FFT // 2) // HOP_LENGTH + 1

