import os

import pytest

from keras_tsr.serve.export import ExportError, check_output, export_saved_model

pytestmark = pytest.mark.backend_independent


def test_output_must_be_a_numeric_version(tmp_path):
    with pytest.raises(ExportError, match="numeric version"):
        check_output(str(tmp_path / "models" / "latest"))
    check_output(str(tmp_path / "models" / "3"))


def test_existing_export_is_refused_without_overwrite(tmp_path):
    out = tmp_path / "m" / "1"
    out.mkdir(parents=True)
    (out / "saved_model.pb").write_bytes(b"x")
    with pytest.raises(ExportError, match="already holds an export"):
        check_output(str(out))
    check_output(str(out), overwrite=True)


def test_not_a_workdir_is_one_clear_error(tmp_path):
    with pytest.raises(ExportError, match="not a trained keras-tsr workdir.*tsr train"):
        export_saved_model(str(tmp_path), str(tmp_path / "out" / "1"))
    assert not os.path.exists(tmp_path / "out")


def test_full_disk_during_export_keeps_the_previous_export(tiny_workdir, tmp_path):
    """A write that fails mid-export (patched to raise ENOSPC) leaves the previous version as it was."""
    import subprocess
    import sys

    out = tmp_path / "models" / "1"
    (out / "assets.extra").mkdir(parents=True)
    (out / "saved_model.pb").write_bytes(b"the previous good export")
    code = (
        "import errno, sys, keras\n"
        "def full(self, path, **kw):\n"
        "    import os; os.makedirs(path, exist_ok=True); open(os.path.join(path, 'half'), 'wb').write(b'x')\n"
        "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
        "type(keras.export.ExportArchive()).write_out = full  # the backend's archive class that writes\n"
        "from keras_tsr.serve.export import _export_tf\n"
        "try:\n"
        "    _export_tf(sys.argv[1], sys.argv[2])\n"
        "except OSError as e:\n"
        "    print('failed:', e)\n")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    proc = subprocess.run([sys.executable, "-c", code, tiny_workdir.path, str(out)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert "failed: [Errno 28] No space left on device" in proc.stdout, proc.stderr[-2000:]
    assert (out / "saved_model.pb").read_bytes() == b"the previous good export"
    assert sorted(os.listdir(tmp_path / "models")) == ["1"]  # no .partial left behind
