"""CPU (or GPU) time of one training step under JAX and TensorFlow, side by side.

    python scripts/bench_train_step.py [--preset ts_resformer] [--batch-size 32] [--steps 3]

Each backend runs in its own process on the same random log-mel batch: the
first step (compilation included) is timed apart from the mean of the next
`--steps` steps. Prints both and the JAX / TensorFlow ratio.
"""

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, sys, time
import numpy as np
import keras
from keras_tsr.models import build_classifier
preset, batch, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
keras.utils.set_random_seed(0)
model = build_classifier(preset, 8)
x = np.random.default_rng(0).uniform(-80, 0, (batch, 128, 512)).astype("float32")
y = keras.utils.to_categorical(np.arange(batch) % 8, 8)
t = time.perf_counter(); model.train_on_batch(x, y); first = time.perf_counter() - t
t = time.perf_counter()
for _ in range(steps):
    model.train_on_batch(x, y)
print(json.dumps({"first": first, "step": (time.perf_counter() - t) / steps}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="ts_resformer")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for backend in ("jax", "tensorflow"):
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        out = subprocess.run([sys.executable, "-c", CHILD, args.preset, str(args.batch_size), str(args.steps)],
                             env=env, capture_output=True, text=True, check=True)
        results[backend] = json.loads(out.stdout.strip().splitlines()[-1])
        r = results[backend]
        print(f"{backend:10s} {args.preset} batch {args.batch_size}: first step (with compile) {r['first']:6.1f} s, "
              f"then {r['step']:6.2f} s/step", flush=True)
    print(f"ratio jax / tensorflow (s/step): {results['jax']['step'] / results['tensorflow']['step']:.2f}")


if __name__ == "__main__":
    main()
