"""Loading saved models of this package fast: `load_model` (its zero-initialised variables: `keras_tsr.compat`)."""


def load_model(path, for_inference=False):
    """Loads a saved .keras model of this package (importing this module registers its classes).

    With `for_inference`, the model is loaded without its training state
    (compile=False) and its variables are created as zeros before the saved
    values overwrite them, instead of running each weight's random
    initializer: under JAX every initializer of a new shape compiles an XLA
    program (about 11 s of a 15 s cold start for ts_resformer on 2 cores),
    all for values that loading replaces at once.
    """
    import contextlib

    import keras

    from keras_tsr.compat import zero_initialised_variables

    scope = zero_initialised_variables() if for_inference else contextlib.nullcontext()
    with scope:
        return keras.saving.load_model(path, compile=not for_inference)
