"""What exports and their checks report when they fail, and the child processes they run (the export under
TensorFlow, the check in a fresh process): a user error in the child is one line in the parent; a bug keeps the
child's traceback."""

import errno
import subprocess
import sys

from keras_tsr.errors import EXIT_REFUSED, KerasTsrError

CHILD_ERROR = "keras-tsr child error: "


class ExportError(KerasTsrError, ValueError):
    """The export cannot be written or does not pass its check (missing workdir, existing output, bad layout)."""


def child_stderr(stderr, chars=2000):
    """A child process's stderr without TensorFlow's start-up lines, cut to its last `chars`."""
    lines = [ln for ln in stderr.splitlines() if not ln.startswith(("WARNING: All log messages", "I0000", "W0000"))]
    return "\n".join(lines)[-chars:]


def child_main(function, *args):
    """Runs `function(*args)` as a child process's work: a KerasTsrError becomes one marked line and exit 2."""
    try:
        function(*args)
    except KerasTsrError as e:
        print(CHILD_ERROR + str(e).replace("\n", " "), file=sys.stderr)
        sys.exit(EXIT_REFUSED)


def run_child(code, args, env, what, output):
    """Runs `python -c code args...`; returns the finished process. Its user error is ExportError (one line), a
    full disk an OSError(ENOSPC) naming `output`, anything else a RuntimeError carrying its traceback."""
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    if proc.returncode == 0:
        return proc
    if "No space left on device" in proc.stderr:
        raise OSError(errno.ENOSPC, "No space left on device", output)
    marked = [ln[len(CHILD_ERROR):] for ln in proc.stderr.splitlines() if ln.startswith(CHILD_ERROR)]
    if proc.returncode == EXIT_REFUSED and marked:
        raise ExportError(marked[-1])
    raise RuntimeError(f"{what} failed in its child process (exit {proc.returncode}):\n{child_stderr(proc.stderr)}")
