"""Decoding: any audio file (or its bytes) to a mono float32 waveform at the model's rate, with one-line errors.

soundfile (libsndfile: wav, flac, ogg/vorbis/opus, mp3, aiff, au) reads
almost everything; the rest (m4a/aac, wma, ...) goes to PyAV, whose wheel
bundles FFmpeg. The guards here (`_QuietCStderr`, `_OneBlasThread`) hold a
process-wide setting while any thread decodes. Heavy imports (soundfile,
soxr, av) stay inside functions so that `import keras_tsr` is cheap.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading

import numpy as np

from keras_tsr.audio.geometry import SAMPLE_RATE
from keras_tsr.errors import KerasTsrError
from keras_tsr.utils import why_unreadable

AUDIO_EXTENSIONS = (".mp3", ".wav", ".flac", ".ogg", ".oga", ".opus", ".aiff", ".aif", ".au", ".m4a", ".aac",
                    ".wma", ".webm", ".mka")


class AudioError(KerasTsrError, ValueError):
    """Raised when an audio file cannot be decoded into a usable waveform."""


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
        return why_unreadable(path)
    if os.path.isdir(path):
        return "is a folder, not an audio file"
    if not os.access(path, os.R_OK):
        return "permission denied (the file is not readable)"
    size = os.path.getsize(path)
    if size == 0:
        return "empty file (0 bytes)"
    with open(path, "rb") as f:
        return _sniff(f.read(512))


def probe(path) -> tuple[float | None, str | None]:
    """(duration in seconds or None, why the file will not decode or None), from a look at its header
    (libsndfile's, else FFmpeg's): a cheap check of a whole folder before a build, and how long a file is
    before deciding to stream it; not a decode."""
    import soundfile as sf

    path = os.fspath(path)
    reason = _describe_unreadable(path)
    if reason is not None:
        return None, reason
    try:
        with _QuietCStderr():
            return float(sf.info(path).duration), None
    except Exception:  # noqa: BLE001 - libsndfile raises several types; FFmpeg may still read it
        pass
    try:
        import av

        with _QuietCStderr(), av.open(path) as container:
            if not any(st.type == "audio" for st in container.streams):
                return None, "no audio stream in the file"
            return (container.duration / av.time_base if container.duration else None), None
    except Exception as e:  # noqa: BLE001 - FFmpeg raises many error types
        return None, f"cannot decode audio ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})"


def unreadable_reason(path) -> str | None:
    """Why a file will not decode (`probe`), or None when its header reads as audio."""
    return probe(path)[1]


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


def is_audio_file(path: str | os.PathLike) -> bool:
    return os.fspath(path).lower().endswith(AUDIO_EXTENSIONS)
