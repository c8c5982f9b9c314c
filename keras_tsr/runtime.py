"""Process set-up, in one place: the Keras backend, TensorFlow's oneDNN kernels, TensorFlow kept off the GPUs
under JAX, and the one-line error for a missing TensorFlow (the `cpu` or `gpu` extra).

The CLI calls `setup()` before anything imports keras; library code asks for TensorFlow through
`tensorflow()`. Nothing here imports keras, jax or tensorflow at import time.
"""

from __future__ import annotations

import logging
import os
import sys
import time

from keras_tsr.errors import KerasTsrError

log = logging.getLogger("keras_tsr")

# Whether this process turned TensorFlow's oneDNN kernels off by default (see `set_defaults`).
_onednn_defaulted = False
_gpus_hidden = False
_cache_set = []  # the compilation cache folder this process set in $JAX_COMPILATION_CACHE_DIR, if it did

EXTRA_HINT = ("install keras-tsr with one of its TensorFlow extras: `pip install 'keras-tsr[cpu]'` on a CPU "
              "machine, `pip install 'keras-tsr[gpu]'` on a GPU machine")


class MissingExtraError(KerasTsrError, RuntimeError):
    """A dependency that comes with an optional extra is not installed."""


COMPILE_CACHE_MAX_BYTES = 4 * 1024**3


def compile_cache_dir():
    """Where JAX keeps compiled programs between processes: $KERAS_TSR_COMPILE_CACHE, else
    ~/.cache/keras_tsr/jax_compile; None when $KERAS_TSR_COMPILE_CACHE is "off" (or `tsr --no-compile-cache`)."""
    value = os.environ.get("KERAS_TSR_COMPILE_CACHE")
    if value and value.lower() in ("off", "0", "false", "no"):
        return None
    return value or os.path.join(os.path.expanduser("~"), ".cache", "keras_tsr", "jax_compile")


def enable_compile_cache():
    """Turns JAX's persistent compilation cache on (before jax loads: through its JAX_* environment settings, which
    child processes inherit): a second run of the same model skips XLA's compile. Programs that compile in under
    0.5 s are not stored; the folder is kept under 4 GiB (least recently used entries go first), and reads and
    writes hold a file lock, so processes sharing it never read half an entry. An explicit
    $JAX_COMPILATION_CACHE_DIR is left as it is."""
    path = compile_cache_dir()
    if path is None or "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return os.environ.get("JAX_COMPILATION_CACHE_DIR")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = path
    repair_compile_cache(path)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
    # A size limit turns on JAX's least-recently-used eviction and, with it, a file lock around every read and
    # write (jax._src.lru_cache): without it, entries are written in place, unlocked.
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(COMPILE_CACHE_MAX_BYTES))
    _cache_set.append(path)
    if "jax" in sys.modules:  # loaded already: tell it directly
        import jax

        jax.config.update("jax_compilation_cache_dir", path)
    return path


ORPHAN_AGE_SECONDS = 60


def repair_compile_cache(path):
    """Removes the entries a killed process left half-written in the compilation cache folder `path`.

    JAX writes an entry's program (NAME-cache) and then its last-use time (NAME-atime); a process killed
    between the two, or while writing the program, leaves a -cache without its -atime. JAX's eviction reads
    every entry's -atime before each write, so from then on no compiled program is stored (a warning at each
    compile) until the orphan goes. Orphans older than a minute are deleted (younger ones may be another
    process's entry being written now); returns their names."""
    try:
        names = set(os.listdir(path))
    except OSError:  # no folder yet, or not readable: JAX reports what it cannot do
        return []
    removed = []
    now = time.time()
    for name in sorted(names):
        if not name.endswith("-cache") or name[: -len("-cache")] + "-atime" in names:
            continue
        full = os.path.join(path, name)
        try:
            if now - os.stat(full).st_mtime > ORPHAN_AGE_SECONDS:
                os.remove(full)
                removed.append(name)
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    if removed:
        log.info("compilation cache %s: removed %d entries a killed process left half-written", path, len(removed))
    return removed


def disable_compile_cache():
    """Turns the cache `enable_compile_cache` set off again (before jax loads), for this process and its children."""
    os.environ["KERAS_TSR_COMPILE_CACHE"] = "off"
    if _cache_set and os.environ.get("JAX_COMPILATION_CACHE_DIR") == _cache_set[-1]:
        del os.environ["JAX_COMPILATION_CACHE_DIR"]
        if "jax" in sys.modules:
            import jax

            jax.config.update("jax_compilation_cache_dir", None)


def set_defaults():
    """Environment defaults read by TensorFlow and JAX when they load (called by `setup`, not on import): the JAX
    compilation cache (`enable_compile_cache`), and TensorFlow's oneDNN kernels.

    Under a backend other than TensorFlow, TensorFlow only feeds the input pipeline (no model math): its oneDNN
    kernels buy nothing, and leaving them off keeps its start-up banner off the screen.
    """
    global _onednn_defaulted
    enable_compile_cache()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if backend() != "tensorflow" and "TF_ENABLE_ONEDNN_OPTS" not in os.environ:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
        _onednn_defaulted = True


def backend():
    """The Keras backend this process runs (or will run): $KERAS_BACKEND, else jax."""
    return os.environ.get("KERAS_BACKEND", "jax")


def setup(backend_name=None, training=False):
    """Chooses the backend (before keras loads), sets the environment defaults (`set_defaults`: the JAX
    compilation cache, oneDNN), settles oneDNN for the backend, and quiets the noisy loggers. The command line
    calls it before any command's work; `import keras_tsr` does not.

    Raises ValueError if keras is already loaded under another backend.
    """
    global _onednn_defaulted
    set_defaults()
    if backend_name:
        if "keras" in sys.modules and backend() != backend_name:
            raise ValueError("--backend must be chosen before keras is imported")
        os.environ["KERAS_BACKEND"] = backend_name
    elif "keras" not in sys.modules:
        # what `backend()` says: Keras itself would default to TensorFlow, and import it, even where it is absent
        os.environ.setdefault("KERAS_BACKEND", backend())
    if backend() == "tensorflow" and "tensorflow" not in sys.modules:
        if _onednn_defaulted:  # set for a JAX process before --backend said tensorflow: take it back
            os.environ.pop("TF_ENABLE_ONEDNN_OPTS", None)
            _onednn_defaulted = False
        if training:
            disable_onednn_for_training()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("absl", "tensorflow", "jax._src", "h5py"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def child_env(backend_name, **extra):
    """The environment for a child process under `backend_name`: this one's, less the oneDNN default set for
    this process's JAX backend (a TensorFlow child keeps oneDNN on, as it would started on its own)."""
    env = dict(os.environ)
    if _onednn_defaulted and env.get("TF_ENABLE_ONEDNN_OPTS") == "0":
        del env["TF_ENABLE_ONEDNN_OPTS"]
    return {**env, "KERAS_BACKEND": backend_name, **extra}


def disable_onednn_for_training():
    """Turns TensorFlow's oneDNN CPU kernels off for a process that will train under the TensorFlow backend.

    TensorFlow 2.21's oneDNN path crashes (SIGSEGV or a corrupted heap) in
    the first training steps of any model with a strided 1 x 1 convolution,
    such as the skip connection of our residual blocks, TensorFlow alone, no
    jaxlib in the process (`python scripts/onednn_repro.py` reproduces it in
    five lines of Keras). Inference is not affected and runs 1.6x faster
    with oneDNN, so only training turns it off. It must happen before
    tensorflow is imported; returns False if that is too late.
    """
    if "tensorflow" in sys.modules:
        return os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0"
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    return os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"


def check_training_kernels():
    """Refuses to train under TensorFlow on a CPU with oneDNN on (see `disable_onednn_for_training`)."""
    import keras

    if keras.backend.backend() == "tensorflow" and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0" \
            and not keras.distribution.list_devices("gpu"):
        raise ValueError("TensorFlow's oneDNN CPU kernels crash while training this model (a strided 1x1 "
                         "convolution; scripts/onednn_repro.py): set TF_ENABLE_ONEDNN_OPTS=0 before tensorflow is "
                         "imported (keras_tsr.runtime.disable_onednn_for_training() does), or train under JAX")


def missing_extra_message(module):
    """The one line for a missing TensorFlow (or another extra's module)."""
    return (f"{module} is not installed (the tf.data loader, TFRecord builds and the SavedModel, ONNX and LiteRT "
            f"exports need it; training and prediction under JAX do not): {EXTRA_HINT}")


def optional_module(module, extra, purpose):
    """Imports `module`, which comes with the optional extra `extra`; MissingExtraError (one line) if absent.

    >>> optional_module("onnxruntime", "onnx", "running an .onnx model").__name__
    'onnxruntime'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] == module.split(".")[0]:
            raise MissingExtraError(f"{module} is not installed ({purpose} needs it): "
                                    f"`pip install 'keras-tsr[{extra}]'`") from None
        raise


def has_tensorflow():
    """Whether TensorFlow can be imported here (without importing it; False where it is blocked in sys.modules)."""
    import importlib.util
    import sys

    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"] is not None
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


def is_tensorflow_module(name):
    return bool(name) and name.split(".")[0] in ("tensorflow", "tensorflow_cpu", "tf_keras")


def tensorflow():
    """TensorFlow for the input pipeline and TFDS. Under another Keras backend it is hidden from the GPUs, so
    that it takes no accelerator memory from the model (call before TensorFlow touches a device).

    Raises MissingExtraError, naming the extras, when TensorFlow is not installed.
    """
    global _gpus_hidden
    try:
        import tensorflow as tf
    except ModuleNotFoundError as e:
        if is_tensorflow_module(e.name):
            raise MissingExtraError(missing_extra_message("tensorflow")) from None
        raise
    if backend() != "tensorflow" and not _gpus_hidden:
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # devices already initialised: too late to hide them; nothing to do on CPU
            log.debug("TensorFlow's devices were initialised before the input pipeline could hide the GPUs")
        _gpus_hidden = True
    return tf
