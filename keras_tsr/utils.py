"""Small helpers every layer of keras-tsr uses: names as slugs and writes that a kill never leaves half done."""

from __future__ import annotations

import contextlib
import json
import os
import re


def slug(name):
    """A name as an identifier fragment: "Old-Time / Historic" -> "old_time_historic" ("item" if nothing is left)."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or "item"


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` (same extension) to write; renames it over `path` when the block
    ends without an error, removes it otherwise. A kill or a full disk never leaves half a file at `path`."""
    root, ext = os.path.splitext(os.fspath(path))
    tmp = f"{root}.partial{ext}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text_atomic(path, text):
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def write_json_atomic(path, obj):
    write_text_atomic(path, json.dumps(obj, indent=2))


def save_figure(fig, path, dpi=110):
    """Saves a matplotlib figure atomically (see `atomic_path`)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
