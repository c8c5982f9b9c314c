"""Slugs and atomic writes."""

import json
import os

import pytest

from keras_tsr.utils import atomic_path, slug, write_json_atomic, write_text_atomic

pytestmark = pytest.mark.backend_independent


def test_slug():
    assert slug("Old-Time / Historic") == "old_time_historic"
    assert slug("full, axis attention") == "full_axis_attention"
    assert slug("3 s") == "3_s" and slug("!!") == "item"


def test_atomic_writes_replace_whole_or_not_at_all(tmp_path):
    path = tmp_path / "results.json"
    write_json_atomic(path, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            with open(tmp, "w") as f:
                f.write('{"a": ')  # half written when the error comes
            raise RuntimeError("killed")
    assert json.loads(path.read_text()) == {"a": 1}  # the old file, whole
    assert os.listdir(tmp_path) == ["results.json"]  # and nothing left beside it
    write_text_atomic(tmp_path / "results.md", "# ok\n")
    assert (tmp_path / "results.md").read_text() == "# ok\n"


def test_a_full_disk_is_recognised_in_every_form_it_reaches_us(tmp_path):
    import errno

    from keras_tsr.utils import disk_full_message, is_disk_full

    target = tmp_path / "run" / "best.keras"
    plain = OSError(errno.ENOSPC, "No space left on device", str(target))
    # TFDS re-raises TensorFlow's ResourceExhaustedError from its shard writer as a RuntimeError
    shard = str(tmp_path / "tfds" / "fma_small_logmel" / "12s" / "incomplete.X" / "train.tfrecord-00000-of-00001")
    tfds_form = RuntimeError(f'ResourceExhaustedError: Failed to finalize writing of split "train": {shard}; No '
                             "space left on device")
    try:
        try:
            raise plain
        except OSError as e:
            raise ValueError("saving failed") from e
    except ValueError as e:
        chained = e
    h5 = OSError("Unable to synchronously create file (file write failed: errno = 28, error message = 'No space')")
    for exc, where in ((plain, str(target)), (tfds_form, shard), (chained, str(target)), (h5, None)):
        assert is_disk_full(exc), exc
        line = disk_full_message(exc)
        assert line.startswith("no space left on the device writing ") and "\n" not in line
        assert where is None or where in line, line
        assert " free there)" in line or "free space unknown" in line
    assert not is_disk_full(RuntimeError("ResourceExhaustedError: OOM when allocating tensor"))
    assert not is_disk_full(OSError(errno.ENOENT, "No such file or directory", "x"))


def test_mean_sd_is_the_sample_deviation_of_cv_and_experiment_tables():
    import statistics

    from keras_tsr.utils import mean_sd

    values = [0.61, 0.72, 0.68, 0.7]
    assert mean_sd(values) == pytest.approx((statistics.mean(values), statistics.stdev(values)))
    assert mean_sd([0.5]) == (0.5, None)
