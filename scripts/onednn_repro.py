"""Does TensorFlow's oneDNN CPU path break training of this model family, and what does it cost or save?

    python scripts/onednn_repro.py [--steps 5] [--preset debug] [--batch 8]

Runs, each in a fresh process under KERAS_BACKEND=tensorflow:
  0. the smallest reproduction: one Conv2D(8, 1, strides=2) trained for 4 steps, oneDNN on, TensorFlow alone
     (no keras_tsr, no jax), then the same with oneDNN off;
  1. the preset's training steps, oneDNN on, TensorFlow alone (jax never imported);
  2. the same with jaxlib imported first in the same process;
  3. the same with oneDNN off;
  4. inference (4 segments of ts_resformer) with oneDNN on and off.
For each: whether the process survived (exit code / signal) and the median step time after the first.
Ratios last.
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


MINIMAL = r"""
import json, time, numpy as np, keras
x = np.random.default_rng(0).uniform(-1, 1, (8, 128, 512, 1)).astype("float32")
y = np.random.default_rng(1).uniform(size=(8, 8)).astype("float32")
inp = keras.Input((128, 512, 1))
out = keras.layers.Dense(8)(keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(8, 1, strides=2)(inp)))
model = keras.Model(inp, out)
model.compile("adam", "mse")
times = []
for _ in range(4):
    t = time.perf_counter(); model.train_on_batch(x, y); times.append(time.perf_counter() - t)
print(json.dumps({"times": times}))
"""

INFER = r"""
import json, time, numpy as np
from keras_tsr.models import GenreClassifier
m = GenreClassifier.from_preset("ts_resformer", num_classes=8, compile=False)
x = np.random.default_rng(0).uniform(-80, 0, (4, 128, 512)).astype("float32")
times = []
for _ in range(9):
    t = time.perf_counter(); m.predict_on_batch(x); times.append(time.perf_counter() - t)
print(json.dumps({"times": times}))
"""


def run(label, onednn, with_jax, args, code=None):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": onednn, "TF_CPP_MIN_LOG_LEVEL": "2"}
    argv = [] if code else ["with_jax" if with_jax else "alone", args.preset, str(args.steps), str(args.batch)]
    proc = subprocess.run([sys.executable, "-c", code or CHILD, *argv], capture_output=True, text=True, env=env,
                          timeout=1800)
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
    run("minimal: Conv2D(8, 1, strides=2) training, oneDNN on", "1", False, args, MINIMAL)
    run("minimal: Conv2D(8, 1, strides=2) training, oneDNN off", "0", False, args, MINIMAL)
    on_alone = run(f"{args.preset} training, oneDNN on, TensorFlow alone", "1", False, args)
    run(f"{args.preset} training, oneDNN on, jaxlib loaded first", "1", True, args)
    off = run(f"{args.preset} training, oneDNN off, TensorFlow alone", "0", False, args)
    infer_on = run("ts_resformer inference (4 segments), oneDNN on", "1", False, args, INFER)
    infer_off = run("ts_resformer inference (4 segments), oneDNN off", "0", False, args, INFER)
    if "median_step_s" in on_alone and "median_step_s" in off:
        print(f"training step time oneDNN off / on: {off['median_step_s'] / on_alone['median_step_s']:.2f}")
    else:
        print("training step time oneDNN off / on: not measurable, training with oneDNN on does not survive")
    if "median_step_s" in infer_on and "median_step_s" in infer_off:
        print(f"inference time oneDNN off / on: {infer_off['median_step_s'] / infer_on['median_step_s']:.2f}")


if __name__ == "__main__":
    main()
