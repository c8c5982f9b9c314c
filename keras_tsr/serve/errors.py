"""What exports and their checks report when they fail."""

from keras_tsr.errors import KerasTsrError


class ExportError(KerasTsrError, ValueError):
    """The export cannot be written or does not pass its check (missing workdir, existing output, bad layout)."""


def child_stderr(stderr, chars=2000):
    """A child process's stderr without TensorFlow's start-up lines, cut to its last `chars`."""
    lines = [ln for ln in stderr.splitlines() if not ln.startswith(("WARNING: All log messages", "I0000", "W0000"))]
    return "\n".join(lines)[-chars:]
