"""Small helpers every layer of keras-tsr uses: names as slugs and writes that a kill never leaves half done."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil

from keras_tsr.errors import DamagedFileError, NotFoundError, OutputError


def mean_sd(values) -> tuple[float, float | None]:
    """(mean, sample standard deviation) of a study's per-fold or per-seed figures; the deviation is None for one
    value (ddof=1: what cv and experiment tables report as mean +- sd)."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    return float(values.mean()), (float(values.std(ddof=1)) if len(values) > 1 else None)


def slug(name):
    """A name as an identifier fragment: "Old-Time / Historic" -> "old_time_historic" ("item" if nothing is left)."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_") or "item"


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path` (same extension) to write; renames it over `path` when the block
    ends without an error, removes it otherwise. A kill or a full disk never leaves half a file at `path`. Missing
    folders above it are made."""
    root, ext = os.path.splitext(os.fspath(path))
    tmp = f"{root}.partial{ext}"
    os.makedirs(os.path.dirname(os.path.abspath(root)), exist_ok=True)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_json(path, remedy) -> dict:
    """A JSON object keras-tsr wrote (a config, a record, metadata); a missing, cut-off or foreign file is one
    error naming it, with `remedy` (what to do) at the end."""
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file: {remedy}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DamagedFileError(f"{path} is damaged: not valid JSON ({e}; cut off by a full disk or an interrupted "
                               f"copy?): {remedy}") from None
    if not isinstance(obj, dict):
        raise DamagedFileError(f"{path} is not the JSON object keras-tsr writes there: {remedy}")
    return obj


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text) -> str:
    """`text` with control characters escaped as Python writes them (a newline as \\n, ESC as \\x1b), as `ls`
    does for names it prints: a file name holding a newline stays on one row of a table or one line of a log.
    JSON and CSV outputs keep names exact; this is for what people read."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def why_unreadable(path) -> str:
    """Why `path` cannot be opened, as the system says it ("no such file or folder", "too many levels of symbolic
    links" for a link loop, "permission denied"), for one-line errors that give the true reason."""
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return (f"a symbolic link to {os.readlink(path)}, which does not exist" if os.path.islink(path)
                    else "no such file or folder")
        return (e.strerror or str(e)).lower()
    return "not a regular file or folder" if not (os.path.isfile(path) or os.path.isdir(path)) else "unreadable"


def check_writable(path, kind="file", option="--output"):
    """Raises OutputError unless `path` can be written as a `kind` ("file" or "folder"), before any work: not a
    folder where a file is meant (nor a file where a folder is), not under a file, and the nearest existing
    folder above it writable (its missing folders are then made). Existing outputs are the caller's matter
    (--overwrite)."""
    path = os.fspath(path)
    shown = f"{option} {path}" if option else path
    if kind == "file" and os.path.isdir(path):
        raise OutputError(f"{shown} is a folder: give a file name (e.g. {os.path.join(path, 'out')}...)")
    if kind == "folder" and os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"{shown} is a file, not a folder: give a folder, or move the file away")
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):
        if os.path.islink(parent):
            raise OutputError(f"{shown} cannot be written: {parent} is a symbolic link to nowhere")
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise OutputError(f"{shown} cannot be written: {parent} is a file, not a folder; choose another place")
    target = path if os.path.exists(path) and kind == "folder" else parent
    if not os.access(target, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(target).f_flag & os.ST_RDONLY)
        why = "on a read-only file system" if read_only else "not writable (permission denied)"
        raise OutputError(f"{shown} cannot be written: {target} is {why}; choose another place")


def write_text_atomic(path, text):
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def write_json_atomic(path, obj):
    write_text_atomic(path, json.dumps(obj, indent=2))


def save_figure(fig, path, dpi=110):
    """Saves a matplotlib figure atomically (see `atomic_path`)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)


DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


# How a full disk reads where it is not an OSError: TensorFlow's file errors (tf.io.gfile, TFDS' shard writers,
# which TFDS re-raises as RuntimeError) and h5py's carry it in their message only.
_DISK_FULL_TEXT = ("No space left on device", "Disk quota exceeded", "errno = 28")


def _causes(exc):
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def is_disk_full(exc) -> bool:
    """Whether `exc` (or what caused it) is a write that met a full disk or quota: an OSError with ENOSPC/EDQUOT,
    or a library's error that says so only in its message (TensorFlow, TFDS, h5py)."""
    return any((isinstance(e, OSError) and e.errno in DISK_FULL_ERRNOS)
               or (isinstance(e, Exception) and any(t in str(e) for t in _DISK_FULL_TEXT)) for e in _causes(exc))


def _written_path(exc):
    """The file a full-disk error was writing: the OSError's filename, else the first absolute path its message
    (or its cause's) names, else the working folder."""
    import re

    for e in _causes(exc):
        name = getattr(e, "filename", None) or getattr(e, "filename2", None)
        if name:
            return os.fspath(name)
    for e in _causes(exc):
        found = re.search(r"(/[^\s;:,'\"]+)", str(e))
        if found:
            return found.group(1)
    return os.getcwd()


def disk_full_message(exc) -> str:
    """One line for a write that met a full disk: what was written, where, the space left, what to do."""
    where = os.path.abspath(_written_path(exc))
    probe = where
    while probe and not os.path.exists(probe):
        probe = os.path.dirname(probe)
    try:
        free = shutil.disk_usage(probe or "/").free
        left = f"{free / 1e6:.1f} MB free" if free >= 1e6 else f"{free / 1e3:.0f} KB free"
    except OSError:
        left = "free space unknown"
    return (f"no space left on the device writing {where} ({left} there): free some space and run the same "
            f"command again; it resumes from what was finished, and the files it was replacing are kept whole")
