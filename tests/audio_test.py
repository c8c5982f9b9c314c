import io
import os

import numpy as np
import pytest
import soundfile as sf

from keras_tsr import audio
from keras_tsr.audio import decoding
from keras_tsr.testing import realistic_signal
from tests import reference_frontend

pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize("seconds,expected", [(3, 19), (5, 11), (6, 9), (10, 5), (12, 4), (15, 3)])
def test_num_segments_matches_paper_table(seconds, expected):
    sr = 44100
    assert audio.num_segments(30 * sr, seconds * sr) == expected


def test_fma_length_gives_four_segments_and_short_tails_are_zero_padded():
    assert audio.hop_frames(12.0) == 258  # 6 s rounded to whole STFT frames
    x = np.ones(1_321_967, "float32")  # mdeff/fma's nominal FMA clip length
    segs = reference_frontend.slice_segments(x, 12.0)
    assert segs.shape == (4, 529_200)
    hop = 258 * 1024
    np.testing.assert_array_equal(segs[1, : 529_200 - hop], segs[0, hop:])  # ~50% overlap
    y = np.ones(1_300_000, "float32")  # 29.5 s: the last segment is ~20,000 samples short
    segs = reference_frontend.slice_segments(y, 12.0)
    assert segs.shape == (4, 529_200)
    tail = 1_300_000 - 3 * hop
    assert segs[3, :tail].sum() == tail and not segs[3, tail:].any()


def test_short_clip_gives_one_padded_segment():
    segs = reference_frontend.slice_segments(np.ones(1000, "float32"), 12.0)
    assert segs.shape == (1, 529_200) and segs.sum() == 1000


def test_zscore_and_silence_guard():
    x = np.random.default_rng(0).normal(3.0, 2.0, 10000).astype("float32")
    z = audio.zscore(x)
    assert abs(z.mean()) < 1e-5 and abs(z.std() - 1) < 1e-4
    assert not np.any(audio.zscore(np.zeros(100, "float32")))


@pytest.mark.parametrize("sr", [44100, 22050])
def test_mel_filterbank_equals_librosa(sr):
    import librosa

    np.testing.assert_allclose(audio.mel_filterbank(sr), librosa.filters.mel(sr=sr, n_fft=4096, n_mels=128),
                               atol=1e-7)


def test_log_mel_equals_librosa():
    import librosa

    sr = 44100
    x = realistic_signal(12, sr)
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(y=x, sr=sr, n_fft=4096, hop_length=1024, n_mels=128, pad_mode="constant"),
        ref=np.max, top_db=80.0)
    ours = reference_frontend.log_mel(x)
    assert ours.shape == (128, 517)
    assert np.abs(ref - ours).max() < 1e-3
    assert reference_frontend.log_mel(x, frames=512).shape == (128, 512)
    assert audio.num_frames(12.0) == 512


def test_clip_features_share_frames_and_match_per_segment_log_mel():
    sr = 44100
    x = realistic_signal(29.98, sr, seed=3)
    feats = audio.clip_features(x, 12.0)
    assert feats.shape == (4, 128, 512)
    per_segment = reference_frontend.log_mel(reference_frontend.slice_segments(audio.zscore(x), 12.0), frames=512)
    # identical except the first two frames, whose windows see the audio before the slice
    np.testing.assert_allclose(feats[:, :, 2:], per_segment[:, :, 2:], atol=0.05)
    np.testing.assert_allclose(feats[0], per_segment[0], atol=1e-3)
    assert audio.clip_features(x[: sr * 5], 12.0).shape == (1, 128, 512)  # short clip: one padded segment
    assert audio.clip_features(x, 3.0).shape == (19, 128, 128)


def test_log_mel_top_db_is_per_example():
    sr = 44100
    loud = realistic_signal(3, sr, seed=1) * 100
    quiet = realistic_signal(3, sr, seed=2) * 0.01
    batch = reference_frontend.log_mel(np.stack([loud, quiet]))
    np.testing.assert_allclose(batch[1], reference_frontend.log_mel(quiet), atol=1e-4)
    assert batch.max(axis=(1, 2)).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("fmt,ext,sr,channels", [
    ("MP3", "mp3", 44100, 2), ("WAV", "wav", 48000, 1), ("FLAC", "flac", 22050, 2), ("OGG", "ogg", 32000, 1),
])
def test_decode_formats_and_resample(tmp_path, fmt, ext, sr, channels):
    x = realistic_signal(2.0, sr) * 0.2
    data = np.stack([x] * channels, axis=1) if channels == 2 else x
    path = tmp_path / f"clip.{ext}"
    sf.write(path, data, sr, format=fmt)
    y = audio.load_audio(path)
    assert y.ndim == 1 and y.dtype == np.float32
    assert abs(len(y) - 2.0 * 44100) < 0.05 * 44100  # mp3 adds encoder delay
    feats = audio.clip_features(audio.load_audio(path))
    assert feats.shape == (1, 128, 512)


def test_bad_audio_raises_one_clear_error(tmp_path):
    bad = tmp_path / "not_audio.mp3"
    bad.write_bytes(b"this is not audio" * 100)
    with pytest.raises(audio.AudioError, match="not_audio.mp3"):
        audio.load_audio(bad)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(audio.AudioError, match="empty.wav"):
        audio.load_audio(empty)


def test_decode_from_bytes():
    buf = io.BytesIO()
    sf.write(buf, realistic_signal(1.0, 44100) * 0.2, 44100, format="WAV")
    x, sr = audio.decode(buf.getvalue())
    assert sr == 44100 and x.shape == (44100,)


def test_front_end_blas_on_one_thread_and_restored():
    from threadpoolctl import threadpool_info

    def numpy_blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas" and "numpy" in i["filepath"]]

    before = numpy_blas_threads()
    seen = []
    with decoding._OneBlasThread():
        with decoding._OneBlasThread():  # nested, as decode inside load_audio inside predict
            seen.append(numpy_blas_threads())
        seen.append(numpy_blas_threads())
        x = np.random.default_rng(0).standard_normal(44100 * 3).astype(np.float32)
        assert audio.clip_features(x, 1.0).shape[0] == 5  # the front-end enters it again inside
        seen.append(numpy_blas_threads())
    assert seen == [[1] * len(before)] * 3
    assert numpy_blas_threads() == before  # the last one out restored it


def test_stderr_shown_waits_for_decoders_on_other_threads(capfd):
    import sys
    import threading

    inside, release = threading.Event(), threading.Event()

    def decoder():  # a decoding thread: fd 2 goes to /dev/null while it is inside
        with decoding._QuietCStderr():
            inside.set()
            release.wait(10)

    t = threading.Thread(target=decoder)
    t.start()
    inside.wait(10)
    threading.Timer(0.2, release.set).start()  # the decoder finishes a little later
    with audio.stderr_shown():  # waits for it, instead of writing into /dev/null
        os.write(2, b"error: shown\n")
        sys.stderr.write("error: shown too\n")
    t.join()
    err = capfd.readouterr().err
    assert "error: shown\n" in err and "error: shown too\n" in err


@pytest.mark.parametrize("rate,container", [(8000, "WAV"), (44100, "WAV"), (48000, "FLAC")])
@pytest.mark.parametrize("seconds", [12.0, 3.0])
def test_streamed_long_files_give_the_in_memory_segments(tmp_path, rate, container, seconds):
    """A long file read in blocks (small blocks here, so a 50 s file crosses many block and frame-block
    boundaries): the same segments as decoding it whole, within float error of the z-score's sums."""
    from keras_tsr.audio import streaming

    path = tmp_path / f"long.{container.lower()}"
    sf.write(path, realistic_signal(50.0, rate, seed=3), rate, format=container)
    g = audio.Geometry(segment_seconds=seconds)
    whole = audio.segments(audio.load_audio(str(path), g.sample_rate), g)
    streamed = streaming.file_segments(str(path), g, block_seconds=7.3, frame_block=333)
    assert streamed.shape == whole.shape
    np.testing.assert_allclose(streamed, whole, atol=1e-3)  # dB; the probabilities agree within 1e-5 (predict_test)
    assert streaming.duration(str(path)) == pytest.approx(50.0, abs=0.01)


def test_streaming_reports_bad_files_as_decoding_does(tmp_path):
    from keras_tsr.audio import streaming

    bad = tmp_path / "mix.mp3"
    bad.write_bytes(b"<html>404</html>" * 10)
    with pytest.raises(audio.AudioError, match="not audio: a text file"):
        streaming.file_segments(str(bad), audio.Geometry())
    assert streaming.duration(str(bad)) is None and not streaming.is_long(str(bad))


def test_the_window_and_filterbank_equal_scipys_and_librosas(tmp_path, monkeypatch):
    """The Hann window written out equals scipy's periodic one; the filterbank loaded from the cache equals
    librosa's (first computed by librosa, then read back without it)."""
    import librosa
    from scipy.signal import get_window

    from keras_tsr.audio import features

    np.testing.assert_allclose(features.hann_window.__wrapped__(4096), get_window("hann", 4096), atol=1e-7)
    monkeypatch.setenv("KERAS_TSR_CACHE", str(tmp_path))
    first = features.mel_filterbank.__wrapped__(22050, 2048, 64)
    assert len(list((tmp_path / "mel_filterbank").iterdir())) == 1
    again = features.mel_filterbank.__wrapped__(22050, 2048, 64)
    expected = librosa.filters.mel(sr=22050, n_fft=2048, n_mels=64).astype(np.float32)
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(again, expected)
