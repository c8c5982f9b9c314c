"""keras-tsr: TS-Resformer music genre classification in Keras 3 (JAX or TensorFlow).

Subpackages follow the pipeline, each importing only the ones below it:
errors -> (utils, runtime, hub) -> audio -> data -> datasets -> layers -> models -> artifacts -> evaluate -> train -> predict -> serve -> studies,
with `cli` on top (see the README's layout section).
"""

__version__ = "0.3.0"

# Importing keras-tsr changes nothing in the process's environment: the command line's entry points call
# `keras_tsr.runtime.setup()` (backend, oneDNN, the JAX compilation cache, loggers); a library user may too.
