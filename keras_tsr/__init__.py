"""keras-tsr: TS-Resformer music genre classification in Keras 3 (JAX or TensorFlow).

Subpackages follow the pipeline, each importing only the ones below it:
errors -> (utils, runtime, hub) -> audio -> data -> datasets -> layers -> models -> artifacts -> evaluate -> train -> predict -> serve -> studies,
with `cli` on top (see the README's layout section).
"""

from keras_tsr import runtime as _runtime

__version__ = "0.3.0"

_runtime.set_defaults()
