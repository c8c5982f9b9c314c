"""JAX's persistent compilation cache: a second cold start with the cache off and on, side by side in one run.

    python scripts/bench_compile_cache.py [--preset ts_resformer] [--train-preset demo]

1. `tsr predict SONG --model W` (W: an untrained workdir of --preset; timing does not depend on the weights) as a
   fresh process, twice with KERAS_TSR_COMPILE_CACHE=off, then twice with an empty cache folder: the second run
   with the cache is what a user's second `tsr predict` costs.
2. A training run of one setting, as each `tsr experiment` run starts it: `tsr train --demo --preset
   --train-preset --epochs 1 --steps-per-epoch 2` into a new workdir, twice with the cache off and twice on
   (the demo data is built once before, outside the timing).
Ratios (off / on, second runs) last.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

import soundfile as sf


def _timed(argv, env):
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    if proc.returncode:
        sys.exit(f"failed: {' '.join(argv)}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="ts_resformer", help="model of the predict runs")
    parser.add_argument("--train-preset", default="demo", help="model of the training runs")
    args = parser.parse_args()
    from keras_tsr.data import synth_music
    from keras_tsr.testing import make_untrained_workdir

    tmp = tempfile.mkdtemp(prefix="bench_cache_")
    workdir = make_untrained_workdir(os.path.join(tmp, "w"), preset=args.preset, segment_seconds=12.0)
    song = os.path.join(tmp, "song.wav")
    sf.write(song, synth_music.render("Rock", 30.0, seed=1), 44100)
    base = {**os.environ, "KERAS_BACKEND": "jax", "KERAS_TSR_CACHE": os.path.join(tmp, "data")}
    base.pop("JAX_COMPILATION_CACHE_DIR", None)
    tsr = [sys.executable, "-m", "keras_tsr"]
    results = {}
    for mode in ("off", "on"):
        env = {**base, "KERAS_TSR_COMPILE_CACHE": "off" if mode == "off" else os.path.join(tmp, "cache")}
        results[("predict", mode)] = [_timed(tsr + ["predict", song, "--model", os.fspath(workdir)], env) for _ in range(2)]
        print(f"predict {args.preset:14s} cache {mode:3s}: first {results[('predict', mode)][0]:5.1f} s, "
              f"second {results[('predict', mode)][1]:5.1f} s", flush=True)
    train = tsr + ["train", "--demo", "--preset", args.train_preset, "--epochs", "1", "--steps-per-epoch", "2",
                   "--demo-tracks-per-genre", "3"]
    _timed(train + ["--workdir", os.path.join(tmp, "warmup")], {**base, "KERAS_TSR_COMPILE_CACHE": "off"})
    for mode in ("off", "on"):
        env = {**base, "KERAS_TSR_COMPILE_CACHE": "off" if mode == "off" else os.path.join(tmp, "cache")}
        results[("train", mode)] = [_timed(train + ["--workdir", os.path.join(tmp, f"t_{mode}{i}")], env)
                                    for i in range(2)]
        print(f"train   {args.train_preset:14s} cache {mode:3s}: first {results[('train', mode)][0]:5.1f} s, "
              f"second {results[('train', mode)][1]:5.1f} s", flush=True)
    for what in ("predict", "train"):
        off, on = results[(what, "off")][1], results[(what, "on")][1]
        print(f"ratio {what}: second cold run, cache off / on = {off / on:.2f}x ({off:.1f} s -> {on:.1f} s)")


if __name__ == "__main__":
    main()
