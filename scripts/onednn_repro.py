"""Does TensorFlow's oneDNN CPU path break training of this model family, and what does it cost or save?

    python scripts/onednn_repro.py [--steps 5] [--preset debug] [--batch 8]

Runs the same few training steps in fresh processes, under KERAS_BACKEND=tensorflow:
  1. oneDNN on,  TensorFlow alone (jax never imported)
  2. oneDNN on,  jaxlib imported first in the same process (as `import keras_tsr` + JAX tests do)
  3. oneDNN off, TensorFlow alone
and prints, for each, whether the process survived (exit code / signal) and the median step time after the
first (compiling) step. The ratio oneDNN-off / oneDNN-on is printed last.
"""

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import json, os, sys, time
if sys.argv[1] == "with_jax":
    import jax, jaxlib  # noqa: F401  load jaxlib's native libraries first
import numpy as np
import keras
from keras_tsr.models import GenreClassifier
preset, steps, batch = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
keras.utils.set_random_seed(0)
model = GenreClassifier.from_preset(preset, num_classes=8)
x = np.random.default_rng(0).uniform(-80, 0, (batch, 128, 512)).astype("float32")
y = keras.utils.to_categorical(np.arange(batch) % 8, 8)
times = []
for _ in range(steps):
    t = time.perf_counter()
    loss = float(model.train_on_batch(x, y)[0])
    times.append(time.perf_counter() - t)
import tensorflow as tf
print(json.dumps({"times": times, "loss": loss, "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
                  "tf": tf.__version__}))
"""


def run(label, onednn, with_jax, args):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", CHILD, "with_jax" if with_jax else "alone", args.preset,
                           str(args.steps), str(args.batch)], capture_output=True, text=True, env=env, timeout=1800)
    line = next((x for x in reversed(proc.stdout.splitlines()) if x.startswith("{")), None)
    status = "ok" if proc.returncode == 0 else (f"killed by signal {-proc.returncode}" if proc.returncode < 0
                                                else f"exit {proc.returncode}")
    result = {"label": label, "status": status}
    if line:
        times = json.loads(line)["times"]
        result["median_step_s"] = sorted(times[1:])[len(times[1:]) // 2] if len(times) > 1 else times[0]
        result["first_step_s"] = times[0]
    else:
        tail = [x for x in proc.stderr.splitlines() if x.strip()][-3:]
        result["stderr_tail"] = tail
    print(json.dumps(result), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--preset", default="debug")
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    on_alone = run("oneDNN on, TensorFlow alone", "1", False, args)
    run("oneDNN on, jaxlib loaded first", "1", True, args)
    off = run("oneDNN off, TensorFlow alone", "0", False, args)
    if "median_step_s" in on_alone and "median_step_s" in off:
        print(f"step time oneDNN off / on: {off['median_step_s'] / on_alone['median_step_s']:.2f}")


if __name__ == "__main__":
    main()
