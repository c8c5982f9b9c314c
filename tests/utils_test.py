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
