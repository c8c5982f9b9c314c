"""Model cost: forward FLOPs per segment from XLA's cost analysis (a measuring tool, not part of any model)."""


def forward_flops(model):
    """Forward FLOPs for one segment from XLA's cost analysis; None unless the Keras backend is JAX."""
    import keras
    import numpy as np

    if keras.backend.backend() != "jax":
        return None
    import jax

    x = np.zeros((1,) + tuple(model.input_shape[1:]), "float32")
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]

    def f(tv, ntv, x):
        y, _ = model.stateless_call(tv, ntv, x, training=False)
        return y

    cost = jax.jit(f).lower(tv, ntv, x).compile().cost_analysis()
    if isinstance(cost, list):
        cost = cost[0]
    return float(cost["flops"])
