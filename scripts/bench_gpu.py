"""ts_resformer training throughput on one GPU under JAX with bf16 mixed precision (no TensorFlow needed).

    python scripts/bench_gpu.py [--segments 32000] [--batch-sizes 32 256] [--epochs 2] [--preset ts_resformer]

Generates an FMA-small-sized synthetic set in device memory (32,000 log-mel segments of 128 x 512: FMA-small's
8,000 tracks x 4 segments of 12 s), then trains the preset for --epochs epochs at each batch size with
train_on_batch on device-resident batches (no input pipeline, so it measures the model). Prints, per batch
size: the first epoch (with compilation) and the mean of the others, segments per second, achieved TFLOP/s
(3x the forward FLOPs from XLA's cost analysis) against the chip's bf16 dense peak, and peak device memory.
Runs on CPU too, at a tiny size, to test it: --segments 64 --batch-sizes 8 --preset debug.
"""

import argparse
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

# bf16 dense peak (TFLOP/s) by device kind, for the utilisation figure
PEAK_BF16 = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=32000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--preset", default="ts_resformer")
    args = parser.parse_args()

    import jax
    import jax.numpy as jnp
    import keras

    from keras_tsr.models import GenreClassifier
    from keras_tsr.studies.flops import forward_flops

    device = jax.devices()[0]
    print(f"jax {jax.__version__}, keras {keras.__version__}, device {device.device_kind} ({device.platform})")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    key = jax.random.PRNGKey(0)
    x = jax.random.uniform(key, (args.segments, 128, 512), jnp.float32, -80.0, 0.0).astype(jnp.bfloat16)
    y = jax.nn.one_hot(jnp.arange(args.segments) % 8, 8, dtype=jnp.float32)
    peak = next((v for k, v in PEAK_BF16.items() if k in device.device_kind), None)
    for batch in args.batch_sizes:
        keras.utils.set_random_seed(0)
        model = GenreClassifier.from_preset(args.preset, num_classes=8)
        flops = forward_flops(model)
        steps = args.segments // batch
        times = []
        for _ in range(args.epochs):
            t = time.perf_counter()
            for i in range(steps):
                logs = model.train_on_batch(x[i * batch:(i + 1) * batch], y[i * batch:(i + 1) * batch],
                                            return_dict=True)
            float(logs["loss"])  # wait for the device
            times.append(time.perf_counter() - t)
        epoch = sum(times[1:]) / len(times[1:]) if len(times) > 1 else times[0]
        rate = steps * batch / epoch
        tflops = 3 * flops * rate / 1e12 if flops else float("nan")
        stats = device.memory_stats() or {}
        mem = stats.get("peak_bytes_in_use", 0) / 2**30
        util = f", {100 * tflops / peak:.1f}% of the {peak:.0f} TFLOP/s bf16 peak" if peak else ""
        print(f"batch {batch}: first epoch {times[0]:.2f} s (with compilation), then {epoch:.2f} s/epoch: "
              f"{rate:,.0f} segments/s, {tflops:.1f} TFLOP/s{util}; peak device memory {mem:.1f} GiB "
              f"({flops / 1e9 if flops else float('nan'):.2f} GFLOP forward a segment)", flush=True)
        del model
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
