"""Wall time of `tsr cv` on a folder of 100 clips of 15 to 30 s (GTZAN-shaped, synthetic), demo preset.

    python scripts/bench_cv.py [--clips 100] [--folds 5] [--seeds 1] [--backend jax] [--workdir DIR]

Writes the folder (10 genres x 10 clips at 22.05 kHz mono, like GTZAN; not timed), then times the whole
`python -m keras_tsr cv DIR --folds 5 --preset demo` from process start: building the folds, training and
testing every fold. Goal: under 15 minutes on 2 CPU cores. Prints the cross-validated accuracy (of synthetic
music: it shows the machinery, not how the model does on real recordings). The goal is for one model a fold
(`--seeds 1`, this script's default); `tsr cv`'s default of five models a fold takes about five times as long.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=100)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1, help="models a fold (tsr cv --seeds)")
    parser.add_argument("--backend", default="jax")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    from keras_tsr.data import synth_folders

    work = args.workdir or tempfile.mkdtemp(prefix="bench_cv_")
    folder = os.path.join(work, "music")
    genres = ["Blues", "Classical", "Country", "Electronic", "Folk", "Hip-Hop", "Jazz", "Pop", "Rock", "Spoken"]
    if not os.path.isdir(folder):
        synth_folders.write_genre_folder(folder, genres=genres, per_genre=args.clips // len(genres), seconds=(15.0, 30.0),
                                 layout="gtzan", seed=5, corrupt=0)
    out = os.path.join(work, f"cv_{time.time_ns()}")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "keras_tsr", "cv", folder, "--folds", str(args.folds), "--preset",
                           "demo", "--seeds", str(args.seeds), "--out", out, "--backend", args.backend],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        sys.exit(proc.stderr[-3000:])
    summary = json.load(open(os.path.join(out, "cv_results.json")))
    m, sd = summary["mean"], summary["sd"]
    print(f"{args.clips} clips of 15-30 s, {len(genres)} genres, {args.folds}-fold cv, demo preset, {args.backend}: "
          f"{wall / 60:.1f} min wall (goal < 15 min); track accuracy {m['track_accuracy']:.3f} ± "
          f"{sd['track_accuracy']:.3f}, segment accuracy {m['segment_accuracy']:.3f} ± {sd['segment_accuracy']:.3f} "
          f"(synthetic music)")


if __name__ == "__main__":
    main()
