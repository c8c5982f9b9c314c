"""Training and inference throughput of a preset under JAX and under TensorFlow, side by side.

    python scripts/bench_train.py [--preset ts_resformer] [--batch-size 32] [--steps 4] [--mixed-precision]

Each backend runs in its own process on whatever device it finds, with the batches coming from a tf.data
pipeline as in training (random log-mel segments, cached in memory). Each training step is split into input
wait (time to get the next batch) and compute; the first step (compilation) is reported apart. Prints FLOPs
per segment (XLA's cost analysis), achieved FLOP/s (training counts 3x the forward FLOPs), segments per
second, a 3x3-convolution probe (forward and forward+backward of one Conv2D layer) that locates the gap
between the backends on CPU, and the JAX / TensorFlow ratios last.
"""

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, statistics, sys, time
import numpy as np
import keras
import tensorflow as tf
from keras_tsr.models import GenreClassifier
from keras_tsr.studies.flops import forward_flops
preset, batch, steps, mixed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
if mixed:
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if keras.backend.backend() == "jax" else "mixed_float16")
keras.utils.set_random_seed(0)
model = GenreClassifier.from_preset(preset, num_classes=8)
rng = np.random.default_rng(0)
x = rng.uniform(-80, 0, (batch * 4, 128, 512)).astype("float32")
y = keras.utils.to_categorical(np.arange(batch * 4) % 8, 8).astype("float32")
ds = tf.data.Dataset.from_tensor_slices((x, y)).cache().repeat().batch(batch).prefetch(2)
it = iter(ds)
def next_batch():
    xb, yb = next(it)
    return xb.numpy(), yb.numpy()
t = time.perf_counter(); xb, yb = next_batch(); model.train_on_batch(xb, yb); first = time.perf_counter() - t
waits, computes = [], []
for _ in range(steps):
    t = time.perf_counter(); xb, yb = next_batch(); t1 = time.perf_counter()
    model.train_on_batch(xb, yb); t2 = time.perf_counter()
    waits.append(t1 - t); computes.append(t2 - t1)
model.predict_on_batch(xb)
t = time.perf_counter()
for _ in range(steps):
    out = model.predict_on_batch(xb)
np.asarray(out)
infer = (time.perf_counter() - t) / steps
probe = {}
for name, strides in (("s1", 1), ("s2", 2)):
    inp = keras.Input((64, 256, 64))
    conv = keras.Model(inp, keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(64, 3, strides=strides, padding="same")(inp)))
    conv.compile("sgd", "mse")
    cx = rng.random((8, 64, 256, 64)).astype("float32"); cy = rng.random((8, 64)).astype("float32")
    conv.train_on_batch(cx, cy); conv.predict_on_batch(cx)
    t = time.perf_counter(); [conv.train_on_batch(cx, cy) for _ in range(3)]; tr = (time.perf_counter() - t) / 3
    t = time.perf_counter(); [np.asarray(conv.predict_on_batch(cx)) for _ in range(3)]; fw = (time.perf_counter() - t) / 3
    probe[name] = {"train": tr, "forward": fw}
try:
    import jax
    device = str(jax.devices()[0].device_kind) if keras.backend.backend() == "jax" else ""
except Exception:
    device = ""
if keras.backend.backend() == "tensorflow":
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
print(json.dumps({"first": first, "wait": statistics.median(waits), "compute": statistics.median(computes),
                  "infer": infer, "flops": forward_flops(model), "params": model.count_params(), "probe": probe,
                  "device": device or "CPU"}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="ts_resformer")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--mixed-precision", action="store_true", help="bf16 under JAX, float16 under TensorFlow")
    args = parser.parse_args()
    results = {}
    for backend in ("jax", "tensorflow"):
        # oneDNN off: TensorFlow's oneDNN path crashes training this model (scripts/onednn_repro.py)
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}
        proc = subprocess.run([sys.executable, "-c", CHILD, args.preset, str(args.batch_size), str(args.steps),
                               "1" if args.mixed_precision else "0"], env=env, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{backend} child failed:\n{proc.stderr[-3000:]}")
        results[backend] = json.loads(proc.stdout.strip().splitlines()[-1])
    flops = results["jax"]["flops"]
    print(f"{args.preset}: {results['jax']['params']:,} parameters, {flops / 1e9:.2f} GFLOP forward per segment "
          f"(XLA cost analysis), batch {args.batch_size}")
    for backend, r in results.items():
        step = r["wait"] + r["compute"]
        print(f"{backend:10s} on {r['device']}: train step {step:.3f} s (input wait {r['wait'] * 1000:.1f} ms, "
              f"compute {r['compute']:.3f} s; first step with compilation {r['first']:.1f} s): "
              f"{args.batch_size / step:.1f} segments/s, {3 * flops * args.batch_size / step / 1e9:.1f} GFLOP/s; "
              f"inference {args.batch_size / r['infer']:.1f} segments/s, "
              f"{flops * args.batch_size / r['infer'] / 1e9:.1f} GFLOP/s")
        p = r["probe"]
        print(f"           Conv2D 3x3 64->64 on (8, 64, 256, 64): stride 1 forward {p['s1']['forward'] * 1000:.0f} ms, "
              f"forward+backward {p['s1']['train'] * 1000:.0f} ms; stride 2 forward {p['s2']['forward'] * 1000:.0f} ms,"
              f" forward+backward {p['s2']['train'] * 1000:.0f} ms")
    j, t = results["jax"], results["tensorflow"]
    print(f"ratio jax / tensorflow: train step time {(j['wait'] + j['compute']) / (t['wait'] + t['compute']):.2f}, "
          f"inference time {j['infer'] / t['infer']:.2f}, conv forward+backward "
          f"{j['probe']['s1']['train'] / t['probe']['s1']['train']:.2f}, conv forward "
          f"{j['probe']['s1']['forward'] / t['probe']['s1']['forward']:.2f}")


if __name__ == "__main__":
    main()
