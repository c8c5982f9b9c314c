"""The one audio front-end of keras-tsr.

Every path that turns sound into model input goes through this module: the
TFDS builder, `keras_tsr.predict` and the exported SavedModel (through
`keras_tsr.layers.LogMelSpectrogram`, which reads its constants from here).

Steps, as in the paper (sections 3.1 and 4.1):

1. `load_audio`: decode (soundfile; PyAV, which bundles FFmpeg, as a fallback), mix to
   mono, resample to `SAMPLE_RATE` with soxr.
2. `zscore`: per-clip waveform normalisation, std 0 guarded.
3. `clip_features`: one centred STFT of the whole clip (Hann, n_fft =
   window = 4096, hop 1024), 128 Slaney mel bands, then segments of
   `seconds` at 50% overlap (zero-padded tail), each in dB relative to its
   own maximum with an 80 dB floor. `Geometry` records these settings, so a
   dataset, a trained model and an export all say how their input was made.

The in-graph twin for exported models is `keras_tsr.layers.ClipLogMelSegments`;
a per-segment reference implementation, used only to test this one, lives in
`tests/reference_frontend.py`.

Heavy imports (soundfile, soxr, scipy) stay inside functions so that
`import keras_tsr` is cheap.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import threading
from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 44100
N_FFT = 4096
HOP_LENGTH = 1024
N_MELS = 128
TOP_DB = 80.0
AMIN = 1e-10
OVERLAP = 0.5
SEGMENT_SECONDS = 12.0
AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".aiff", ".aif", ".au", ".m4a", ".aac",
                    ".wma", ".webm", ".mka")


class AudioError(ValueError):
    """Raised when an audio file cannot be decoded into a usable waveform."""


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

    def features(self, x: np.ndarray) -> np.ndarray:
        """A mono clip at `sample_rate` -> its log-mel segments (N, n_mels, frames)."""
        return clip_features(x, self.segment_seconds, self.sample_rate, self.overlap)

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
            raise ValueError(f"{source}: its recorded front-end settings lack {missing}")
        g = cls(**{k: type(getattr(cls, k))(d[k]) for k in names})
        fixed = {"sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "hop_length": HOP_LENGTH, "n_mels": N_MELS,
                 "top_db": TOP_DB}
        other = {k: getattr(g, k) for k, v in fixed.items() if getattr(g, k) != v}
        if other:
            raise ValueError(f"{source} was made with front-end settings {other}; this keras-tsr computes "
                             f"{ {k: fixed[k] for k in other} }: use the keras-tsr release that made it")
        if "frames" in d and int(d["frames"]) != g.frames:
            raise ValueError(f"{source}: {d['frames']} frames recorded, but {g.segment_seconds} s segments give "
                             f"{g.frames} here")
        return g


# --------------------------------------------------------------------------
# Segment geometry
# --------------------------------------------------------------------------


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


def num_segments(length: int, seg_len: int, overlap: float = OVERLAP) -> int:
    """The paper's N = floor((L - l) / (l * (1 - overlap))) + 1.

    L is the clip length. FMA clips are "30 s" but decode a little short
    (1,321,967 samples at 44.1 kHz is 29.976 s), which would lose the last
    12 s segment by ~1,000 samples. The paper zero-pads it, so the quotient is
    rounded to the nearest integer: a last segment is kept when at least half
    of its hop is real audio. A clip shorter than one segment gives one
    zero-padded segment.
    """
    if seg_len <= 0:
        raise ValueError(f"seg_len must be positive. Received: seg_len={seg_len}")
    if not 0.0 <= overlap < 1.0:
        raise ValueError(f"overlap must be in [0, 1). Received: overlap={overlap}")
    hop = seg_len * (1.0 - overlap)
    if length <= seg_len:
        return 1
    return int(math.floor((length - seg_len) / hop + 0.5)) + 1


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------


def _to_mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        # a matrix-vector product: several times faster than x.mean(axis=1) on (samples, channels)
        x = x @ np.full(x.shape[1], 1.0 / x.shape[1], np.float32)
    return x


def resample(x: np.ndarray, orig_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Resamples a mono waveform with soxr (high quality)."""
    if int(orig_sr) == int(target_sr):
        return np.asarray(x, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(x, dtype=np.float32), int(orig_sr), int(target_sr), quality="HQ").astype(
        np.float32
    )


class _WhileAnyThreadInside:
    """A process-wide setting held while any thread is inside the block: the first thread in applies it
    (`_apply`), the last one out undoes it (`_undo`); the builder's and predict's threads enter together."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._cond = threading.Condition()
        cls._depth = 0

    @classmethod
    def _may_enter(cls) -> bool:
        return True

    def __enter__(self):
        cls = type(self)
        with cls._cond:
            cls._cond.wait_for(cls._may_enter)
            if cls._depth == 0:
                cls._apply()
            cls._depth += 1
        return self

    def __exit__(self, *exc):
        cls = type(self)
        with cls._cond:
            cls._depth -= 1
            if cls._depth == 0:
                cls._undo()
            cls._cond.notify_all()
        return False


class _QuietCStderr(_WhileAnyThreadInside):
    """Sends the C-level stderr (fd 2) to /dev/null while decoders run, so libsndfile's and FFmpeg's own
    messages ("Note: Illegal Audio-MPEG-Header ...") never reach the terminal; our one error line says why.

    fd 2 is the whole process's: what another thread writes to stderr meanwhile is lost too. Whoever reports
    while decoders may run on other threads does it inside `stderr_shown()`.
    """

    _saved = None
    _sink = None
    _showing = 0

    @classmethod
    def _may_enter(cls):
        return cls._showing == 0

    @classmethod
    def _apply(cls):
        try:
            import sys

            sys.stderr.flush()
            if cls._sink is None:
                cls._sink = open(os.devnull, "wb")  # noqa: SIM115 - kept open for the process's life
            cls._saved = os.dup(2)
            os.dup2(cls._sink.fileno(), 2)
        except (OSError, ValueError, AttributeError):
            cls._saved = None

    @classmethod
    def _undo(cls):
        if cls._saved is not None:
            os.dup2(cls._saved, 2)
            os.close(cls._saved)
            cls._saved = None


@contextlib.contextmanager
def stderr_shown():
    """A block whose stderr output is seen: waits for the decoders running on other threads to finish and
    holds new ones back meanwhile (see `_QuietCStderr`). For reports written while other threads decode."""
    import sys

    cls = _QuietCStderr
    with cls._cond:
        cls._showing += 1
        cls._cond.wait_for(lambda: cls._depth == 0)
    try:
        yield
        sys.stderr.flush()
    finally:
        with cls._cond:
            cls._showing -= 1
            cls._cond.notify_all()


class _OneBlasThread(_WhileAnyThreadInside):
    """Runs the front-end's BLAS calls (the mono mix, the z-score's dot, the mel product) on one thread.

    They are small; OpenBLAS would still spread them over every core and
    leave its threads spinning afterwards, where they take the cores from
    the model that runs next (a 30 s song's prediction on 2 cores: see
    docs/benchmarks.md). Measured and tested on the main thread; from other
    threads OpenBLAS 0.3.31 does not reliably honour a thread count set
    there, so in the builder's workers and predict_paths' decoding thread
    it is best effort (the builder sets one BLAS thread for the whole build
    from its main thread anyway).
    """

    _controller = None
    _limiter = None

    @classmethod
    def _apply(cls):
        try:
            if cls._controller is None:
                from threadpoolctl import ThreadpoolController

                cls._controller = ThreadpoolController().select(user_api="blas")
            cls._limiter = cls._controller.limit(limits=1)
        except Exception:  # noqa: BLE001 - only a speed matter: run as is
            cls._limiter = None

    @classmethod
    def _undo(cls):
        if cls._limiter is not None:
            cls._limiter.restore_original_limits()
            cls._limiter = None


def _describe_unreadable(path: str) -> str | None:
    """The true reason a path cannot be decoded, where a look at the file tells it."""
    if not os.path.exists(path):
        return "no such file"
    if os.path.isdir(path):
        return "is a folder, not an audio file"
    if not os.access(path, os.R_OK):
        return "permission denied (the file is not readable)"
    size = os.path.getsize(path)
    if size == 0:
        return "empty file (0 bytes)"
    with open(path, "rb") as f:
        return _sniff(f.read(512))


def _sniff(head: bytes) -> str | None:
    """'not audio: a text file (...)' when the first bytes are plain text (an HTML error page, a note)."""
    if head and all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        return f"not audio: a text file ({head[:40].decode('ascii', 'replace').strip()!r}...)"
    return None


def decode(source, name: str | None = None) -> tuple[np.ndarray, int]:
    """Decodes a path, bytes or a binary file object to (mono float32, rate).

    soundfile (libsndfile 1.2: wav, flac, ogg/vorbis/opus, mp3, aiff, au)
    reads almost everything; the rest (m4a/aac, wma, ...) goes to PyAV,
    whose wheel bundles FFmpeg, so a fresh install decodes it without an
    ffmpeg program. Failures raise AudioError with one line naming the file
    and the reason; the C libraries' own messages are kept off the terminal.
    """
    import soundfile as sf

    is_path = isinstance(source, (str, os.PathLike))
    label = name or (os.fspath(source) if is_path else "<bytes>")
    if is_path:
        reason = _describe_unreadable(os.fspath(source))
        if reason is not None:
            raise AudioError(f"{label}: {reason}")
    elif isinstance(source, (bytes, bytearray)):
        reason = "empty file (0 bytes)" if len(source) == 0 else _sniff(bytes(source[:512]))
        if reason is not None:
            raise AudioError(f"{label}: {reason}")
    fd, data, extra = None, source, {}
    if isinstance(source, (bytes, bytearray)):
        fd = _memory_file(source)
        data, extra = (io.BytesIO(source), {}) if fd is None else (fd, {"closefd": False})
    try:
        with _QuietCStderr():
            x, sr = sf.read(data, dtype="float32", always_2d=False, **extra)
    except Exception as sf_error:  # noqa: BLE001 - libsndfile raises several types
        x, sr = _fallback_decode(source, label, sf_error)
    finally:
        if fd is not None:
            os.close(fd)
    with _OneBlasThread():
        x = _to_mono(x)
    if x.size == 0:
        raise AudioError(f"{label}: decoded to zero samples (empty or truncated file)")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"{label}: decoded audio holds NaN or infinite samples")
    return x, int(sr)


def _memory_file(data: bytes) -> int | None:
    """An in-memory file holding `data` (Linux memfd), or None where there is none.

    libsndfile reads a file descriptor itself; a Python file object (BytesIO)
    it reads through Python callbacks, which take the GIL for every read: with
    the builder's threads decoding and computing FFTs side by side, that cost
    a fifth of their throughput (scripts/bench_build.py, extracted folder).
    """
    if not hasattr(os, "memfd_create"):
        return None
    try:
        fd = os.memfd_create("keras_tsr_audio", os.MFD_CLOEXEC)
    except OSError:
        return None
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        return None
    return fd


def _fallback_decode(source, label, first_error):
    """PyAV (FFmpeg) for what libsndfile does not read."""
    import re

    # libsndfile's reason; its "File does not exist ..." means "no format it knows" for a file that exists.
    reason = re.sub(r"^Error opening .*?: ", "", str(first_error)).strip() or type(first_error).__name__
    if "does not exist" in reason or "unknown format" in reason.lower():
        reason = "not a format libsndfile reads"
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    elif hasattr(source, "seek"):
        source.seek(0)
    try:
        import av

        with _QuietCStderr(), av.open(os.fspath(source) if isinstance(source, os.PathLike) else source) as container:
            stream = next((st for st in container.streams if st.type == "audio"), None)
            if stream is None:
                raise AudioError(f"{label}: no audio stream in the file")
            resampler = av.AudioResampler(format="fltp")
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())  # (channels, samples)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
            sr = stream.rate or stream.codec_context.sample_rate
    except AudioError:
        raise
    except Exception as e:  # noqa: BLE001 - FFmpeg raises many error types
        detail = re.sub(r"^\[Errno -?\d+\]\s*", "", str(e))
        detail = re.sub(r":\s*'.*'$", "", detail).strip() or type(e).__name__
        raise AudioError(f"{label}: cannot decode audio ({reason}; FFmpeg: {detail})") from None
    if not chunks:
        raise AudioError(f"{label}: decoded to zero samples (empty or truncated file)")
    return np.concatenate(chunks, axis=1).T, int(sr)


def load_audio(source, sample_rate: int = SAMPLE_RATE, name: str | None = None) -> np.ndarray:
    """Decodes, mixes to mono and resamples to `sample_rate`."""
    x, sr = decode(source, name=name)
    return resample(x, sr, sample_rate)


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


# --------------------------------------------------------------------------
# Log-mel
# --------------------------------------------------------------------------


def _hz_to_mel(f):
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mels)


def _mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Slaney-style, area-normalised triangular mel filters, (n_mels, n_fft // 2 + 1).

    Equal to `librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels)`
    (fmin 0, fmax sr / 2, Slaney scale and norm), tested against it.
    """
    fft_freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    mel_pts = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(sample_rate / 2.0), n_mels + 2))
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_pts[2 : n_mels + 2] - mel_pts[:n_mels])
    return (weights * enorm[:, None]).astype(np.float32)


def hann_window(n_fft: int = N_FFT) -> np.ndarray:
    """Periodic Hann window (scipy's `get_window('hann', n)`, librosa's default)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


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


def power_to_db(S: np.ndarray, top_db: float = TOP_DB) -> np.ndarray:
    """10 log10(S / max S) per example (leading axes are examples), floored at -top_db."""
    S = np.asarray(S, dtype=np.float32)
    db = 10.0 * np.log10(np.maximum(S, AMIN))
    axes = tuple(range(db.ndim - 2, db.ndim))
    ref = np.max(db, axis=axes, keepdims=True)
    db = db - ref
    return np.maximum(db, -top_db).astype(np.float32)


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
    import scipy.fft

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
    view = np.lib.stride_tricks.sliding_window_view(xp, N_FFT)[::HOP_LENGTH][:n_frames]
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


def hop_frames(seconds: float = SEGMENT_SECONDS, sample_rate: int = SAMPLE_RATE, overlap: float = OVERLAP) -> int:
    """STFT frames between segment starts: the segment hop rounded to whole frames (258 for 12 s)."""
    return max(1, int(round(segment_samples(seconds, sample_rate) * (1.0 - overlap) / HOP_LENGTH)))


def segment_db(mel: np.ndarray, n_segments: int, hop: int, frames: int, top_db: float = TOP_DB) -> np.ndarray:
    """Cuts (time, mels) mel power into `n_segments` windows of `frames` every `hop`, in dB per window.

    The values of `power_to_db` of each window: the logarithm is taken once
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


CLIP_DB_FLOOR = 10.0 * math.log10(AMIN)  # -100 dB: what silence (and the padding past a clip's end) stores


def clip_frames(num_samples: int) -> int:
    """STFT frames of a centred STFT that see any of `num_samples` samples; every later frame is silence."""
    return (num_samples + N_FFT // 2) // HOP_LENGTH + 1


def clip_db(x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole clip's log-mel in dB against a fixed reference (power 1.0), (mels, clip_frames), float32.

    Z-score, one centred STFT, mel power, 10 log10(max(power, AMIN)): not
    normalised per segment, so any segment length and overlap can be cut from
    it later (`keras_tsr.data` does, renormalising each segment to its own
    maximum as `clip_features` does). Frames past the returned ones are
    silence, `CLIP_DB_FLOOR`.
    """
    mel = _mel_power(x, _consts(int(sample_rate)), clip_frames(len(x)), normalize=True)  # (frames, mels)
    return (10.0 * np.log10(np.maximum(mel, AMIN))).T.astype(np.float32)


def is_audio_file(path: str | os.PathLike) -> bool:
    return os.fspath(path).lower().endswith(AUDIO_EXTENSIONS)
