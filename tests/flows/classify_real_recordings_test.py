"""Bad and unusual audio: a correct result or exactly one clear line, never C-library noise or a traceback."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_tsr import audio
from keras_tsr.testing import realistic_signal

SR = 44100


def _mp3_bytes(x, sr=SR):
    buf = io.BytesIO()
    sf.write(buf, x, sr, format="MP3")
    return buf.getvalue()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """name -> (path, expected error substring or None for a file that decodes)."""
    d = tmp_path_factory.mktemp("odd audio")
    x = realistic_signal(3.0, SR) * 0.2
    cases = {}

    def add(name, expect=None):
        cases[name] = (d / name, expect)
        return d / name

    add("text.mp3", "not audio: a text file").write_text("<html><body>404 Not Found</body></html>\n" * 20)
    add("empty.wav", "empty file (0 bytes)").write_bytes(b"")
    add("truncated.mp3", "cannot decode audio").write_bytes(_mp3_bytes(x)[:300])
    wav = io.BytesIO()
    sf.write(wav, x, SR, format="WAV")
    add("truncated.wav", "cannot decode audio").write_bytes(wav.getvalue()[:30])
    bad = x.copy()
    bad[100], bad[200] = np.nan, np.inf
    sf.write(add("nan_inf.wav", "NaN or infinite"), bad, SR, subtype="FLOAT")
    sf.write(add("silence.wav"), np.zeros(SR * 2, "float32"), SR)
    sf.write(add("short_0.2s.wav"), x[: SR // 5], SR)
    sf.write(add("ten_minutes.flac"), np.tile(x, 200)[: SR * 600] * 0.5, SR)
    sf.write(add("8k_mono.wav"), realistic_signal(3.0, 8000) * 0.2, 8000)
    six = np.stack([realistic_signal(2.0, 96000, seed=c) * 0.1 for c in range(6)], 1)
    sf.write(add("96k_6ch.wav"), six, 96000)
    sf.write(add("pcm24.wav"), x, SR, subtype="PCM_24")
    sf.write(add("float.wav"), x, SR, subtype="FLOAT")
    sf.write(add("22k_stereo.au"), np.stack([x, x], 1)[: SR], 22050)
    add("chanson d'été à Zürich.mp3").write_bytes(_mp3_bytes(x))
    sf.write(add("unreadable.wav", "permission denied" if os.geteuid() != 0 else None), x, SR)
    os.chmod(d / "unreadable.wav", 0)
    cases["missing.wav"] = (d / "missing.wav", "no such file")
    return d, cases


CASES = ["text.mp3", "empty.wav", "truncated.mp3", "truncated.wav", "nan_inf.wav", "silence.wav", "short_0.2s.wav",
         "ten_minutes.flac", "8k_mono.wav", "96k_6ch.wav", "pcm24.wav", "float.wav", "22k_stereo.au",
         "chanson d'été à Zürich.mp3", "unreadable.wav", "missing.wav"]


@pytest.mark.backend_independent
@pytest.mark.parametrize("name", CASES)
def test_each_input_gives_a_result_or_one_clear_line(inputs, name, capfd):
    _, cases = inputs
    path, expect = cases[name]
    if expect is None:
        x = audio.load_audio(path)
        feats = audio.clip_features(x)
        assert x.dtype == np.float32 and x.ndim == 1 and len(x) > 0
        assert feats.shape == (audio.num_segments(len(x), audio.segment_samples()), 128, 512)
        assert np.all(np.isfinite(feats)) and feats.min() >= -80 and feats.max() <= 0
    else:
        with pytest.raises(audio.AudioError) as e:
            audio.load_audio(path)
        message = str(e.value)
        assert message.startswith(str(path)) and expect in message and "\n" not in message
        assert "File does not exist" not in message or name == "missing.wav"
    out, err = capfd.readouterr()
    assert err == "" and out == "", f"decoder noise: {err[:200]!r}"


@pytest.mark.backend_independent
def test_resampling_keeps_duration(inputs):
    _, cases = inputs
    assert len(audio.load_audio(cases["96k_6ch.wav"][0])) == 2 * SR
    assert len(audio.load_audio(cases["8k_mono.wav"][0])) == 3 * SR
    assert len(audio.load_audio(cases["ten_minutes.flac"][0])) == 600 * SR


@pytest.mark.backend_independent
def test_m4a_decodes_without_an_ffmpeg_program(tmp_path):
    """PyAV's wheel brings FFmpeg: AAC in MP4 decodes on a fresh machine."""
    import av

    x = realistic_signal(2.0, SR) * 0.2
    path = tmp_path / "song.m4a"
    with av.open(str(path), "w") as c:
        stream = c.add_stream("aac", rate=SR)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(x[None], format="fltp", layout="mono")
        frame.sample_rate = SR
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            c.mux(packet)
    y = audio.load_audio(path)
    assert abs(len(y) - len(x)) < 4096  # AAC adds encoder priming
    assert audio.clip_features(y).shape == (1, 128, 512)


@pytest.mark.backend_independent
@settings(max_examples=30, deadline=None)
@given(
    seconds=st.floats(0.05, 8.0),
    sample_rate=st.sampled_from([8000, 16000, 22050, 44100, 48000, 96000]),
    channels=st.integers(1, 6),
    subtype=st.sampled_from(["PCM_16", "PCM_24", "FLOAT"]),
    amplitude=st.sampled_from([0.0, 1e-6, 0.3, 1.0, 40.0]),
    segment_seconds=st.sampled_from([3.0, 5.0, 12.0]),
)
def test_front_end_property(seconds, sample_rate, channels, subtype, amplitude, segment_seconds):
    """Any length, rate, channel count, sample format and level (silence to hard clipping): finite dB in
    [-80, 0], the documented number of segments, the documented shape."""
    n = max(1, int(seconds * sample_rate))
    rng = np.random.default_rng(n)
    x = (amplitude * rng.standard_normal((n, channels))).astype("float32")
    if subtype != "FLOAT":
        x = np.clip(x, -1, 1)  # integer formats clip, as loud recordings do
    buf = io.BytesIO()
    sf.write(buf, x, sample_rate, format="WAV", subtype=subtype)
    wave = audio.load_audio(buf.getvalue())
    geometry = audio.Geometry(segment_seconds=segment_seconds)
    feats = audio.segments(wave, geometry)
    expected = audio.num_segments(len(wave), audio.segment_samples(segment_seconds), geometry.overlap)
    assert feats.shape == (expected, geometry.n_mels, geometry.frames)
    assert np.all(np.isfinite(feats)) and feats.min() >= -80.0 and feats.max() <= 0.0


@pytest.mark.backend_independent  # refusing and reporting are ours, not the backend's
def test_predict_reports_each_bad_file_on_one_line_and_goes_on(inputs, tiny_workdir):
    d, cases = inputs
    env = {**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")}
    proc = subprocess.run([sys.executable, "-m", "keras_tsr", "predict", str(d), str(d / "missing.wav"),
                           "--model", tiny_workdir.path, "--json"], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    failed = {name for name, (_, expect) in cases.items() if expect}
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(failed), proc.stderr[-3000:]
    for name in failed:
        assert sum(name in line for line in errors) == 1, name
    assert "Illegal Audio-MPEG-Header" not in proc.stderr and "Traceback" not in proc.stderr
    ok = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(ok) == len(cases) - len(failed)
    from click.testing import CliRunner

    from keras_tsr.cli import main

    usage = CliRunner().invoke(main, ["predict", str(d)])
    assert usage.exit_code == 2 and "--model" in usage.output
