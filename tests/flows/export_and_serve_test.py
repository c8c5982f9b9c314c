"""Export a trained model for TF Serving, reload it with TensorFlow alone, and write request bodies."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_tsr import audio

FRESH_TF = textwrap.dedent("""
    import importlib.abc, importlib.machinery, json, sys

    # tensorflow imports keras when it is installed: make keras and keras_tsr unimportable,
    # as on a serving machine that has TensorFlow alone.
    class Refuse(importlib.abc.Loader):
        def create_module(self, spec):
            raise ImportError(spec.name + " is not available here")
        def exec_module(self, module):
            raise ImportError(module.__name__ + " is not available here")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("keras", "keras_tsr"):
                return importlib.machinery.ModuleSpec(name, Refuse())
            return None

    sys.meta_path.insert(0, Block())
    import numpy as np
    import tensorflow as tf
    path, feats, wave = sys.argv[1], np.load(sys.argv[2]), np.load(sys.argv[3])
    m = tf.saved_model.load(path)
    p1 = m.signatures["serving_default"](log_mel=tf.constant(feats))["probabilities"].numpy()
    out = m.signatures["serve_waveform"](waveform=tf.constant(wave[None]))
    print(json.dumps({"seg": p1.tolist(), "wave": out["probabilities"].numpy().tolist(),
                      "genre": out["genre"].numpy()[0].decode(), "segments": int(out["segments"].numpy()[0]),
                      "modules": sorted(m for m in sys.modules
                                        if m.split(".")[0] in ("keras", "keras_tsr") and sys.modules[m])}))
""")


def test_export_loads_in_fresh_tensorflow_process_and_agrees(trained, exported_saved_model, audio_files, tmp_path):
    """The session's SavedModel of the trained run (`export_saved_model`) serves both signatures in a process
    with TensorFlow alone, with the workdir's probabilities; exporting over it or to a non-version folder is
    refused."""
    from keras_tsr.predict import GenreModel
    from keras_tsr.serve.export import ExportError, export_saved_model

    workdir, _, _ = trained
    out = exported_saved_model
    assert os.path.exists(os.path.join(out, "saved_model.pb"))
    with pytest.raises(ExportError, match="already holds"):
        export_saved_model(workdir, out)  # no silent overwrite
    with pytest.raises(ExportError, match="version"):
        export_saved_model(workdir, str(tmp_path / "saved_models" / "latest"))

    wave = audio.load_audio(audio_files / "song.mp3")
    model = GenreModel(workdir)
    feats = audio.clip_features(wave, model.segment_seconds)
    expected_seg = model.segment_probabilities(feats)
    expected_track, n = model.predict_waveform(wave)
    np.save(tmp_path / "feats.npy", feats)
    np.save(tmp_path / "wave.npy", wave)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    proc = subprocess.run([sys.executable, "-c", FRESH_TF, out, str(tmp_path / "feats.npy"),
                           str(tmp_path / "wave.npy")], capture_output=True, text=True, env=env, timeout=300,
                          cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["modules"] == []  # TensorFlow alone: neither keras nor keras_tsr was imported
    np.testing.assert_allclose(got["seg"], expected_seg, atol=1e-4)
    np.testing.assert_allclose(got["wave"][0], expected_track, atol=1e-4)
    assert got["segments"] == n == 4
    assert got["genre"] == model.class_names[int(np.argmax(expected_track))]

    # The SavedModel as --model gives the same prediction as the workdir.
    r_saved = GenreModel(out).predict_file(audio_files / "song.mp3")
    r_keras = model.predict_file(audio_files / "song.mp3")
    np.testing.assert_allclose(list(r_saved["probabilities"].values()), list(r_keras["probabilities"].values()),
                               atol=1e-4)



def test_serve_request_bodies(trained, audio_files, tmp_path):
    from keras_tsr.cli import main

    workdir, _, _ = trained
    for signature, key in (("serve_waveform", "waveform"), ("serving_default", "log_mel")):
        target = tmp_path / f"{signature}.json"
        with pytest.raises(SystemExit) as e:
            main(["serve-request", str(audio_files / "short.flac"), "--model", workdir, "--signature", signature,
                  "-o", str(target)])
        assert e.value.code == 0
        body = json.loads(target.read_text())
        assert body["signature_name"] == signature
        arr = np.asarray(body["inputs"][key])
        assert arr.shape == ((1, 4 * 44100) if key == "waveform" else (1, 128, 512))
