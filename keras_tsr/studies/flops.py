"""Model cost: forward FLOPs and bytes per segment from XLA's cost analysis (a measuring tool, not part of any
model)."""


def forward_cost(model):
    """(FLOPs, bytes read and written) of one segment's forward pass, from XLA's cost analysis of the program
    compiled for the CPU, whatever device runs the model: on a GPU the analysis leaves out the convolutions
    cuDNN runs (0.3 of ts_resformer's 1.74 GFLOP). (None, None) unless the Keras backend is JAX."""
    import keras
    import numpy as np

    if keras.backend.backend() != "jax":
        return None, None
    import jax

    cpu = jax.sharding.SingleDeviceSharding(jax.devices("cpu")[0])

    def spec(value):
        return jax.ShapeDtypeStruct(np.shape(value), value.dtype, sharding=cpu)

    x = jax.ShapeDtypeStruct((1,) + tuple(model.input_shape[1:]), np.float32, sharding=cpu)
    tv = [spec(v.value) for v in model.trainable_variables]
    ntv = [spec(v.value) for v in model.non_trainable_variables]

    def f(tv, ntv, x):
        y, _ = model.stateless_call(tv, ntv, x, training=False)
        return y

    cost = jax.jit(f).lower(tv, ntv, x).compile().cost_analysis()
    if isinstance(cost, list):
        cost = cost[0]
    return float(cost["flops"]), float(cost.get("bytes accessed", float("nan")))


def forward_flops(model):
    """Forward FLOPs for one segment (`forward_cost`); None unless the Keras backend is JAX."""
    return forward_cost(model)[0]
