"""Every private API of Keras and tqdm keras-tsr relies on, in one place (the `keras>=3.15,<4` pin covers them;
tests/compat_test.py fails when one changes, so an upgrade shows here, not deep in a run):

- `Model._symbolic_build(data_batch=...)`: Keras' own build of the compiled loss, metrics and optimizer, from
  symbolic shapes (fit would otherwise open the training iterator for one batch and throw the pass away);
- `Variable._initialize_with_initializer`: replaced while loading a saved model, so variables start as zeros
  instead of running each initializer (an XLA compile per new shape under JAX) for values loading overwrites;
- `Model._initial_epoch`: the epoch `BackupAndRestore` restored, read by the resume report and reset when an
  unreadable backup is dropped;
- `tqdm._instances`: the progress bars still open, closed before an error line so it starts a line of its own.
"""

import contextlib


def symbolic_build(model, x, y):
    """Builds a compiled model's loss, metrics and optimizer from KerasTensors `x` and `y`."""
    model._symbolic_build(data_batch=(x, y))


@contextlib.contextmanager
def zero_initialised_variables():
    """Within it, new Keras variables start as numpy zeros (no initializer runs); loading then fills them."""
    import keras
    import numpy as np

    cls = keras.Variable
    original = cls._initialize_with_initializer

    def zeros(self, initializer):
        self._initialize(self._convert_to_tensor(np.zeros(self._shape, dtype=self._dtype)))

    cls._initialize_with_initializer = zeros
    try:
        yield
    finally:
        cls._initialize_with_initializer = original


def initial_epoch(model) -> int:
    """The epoch fit starts at (what BackupAndRestore restored), 0 for a fresh run."""
    return int(getattr(model, "_initial_epoch", 0) or 0)


def set_initial_epoch(model, epoch):
    model._initial_epoch = epoch


def open_progress_bars() -> list:
    """The tqdm bars not yet closed."""
    from tqdm import tqdm

    return list(getattr(tqdm, "_instances", ()))
