"""Real music, little data: keras-tsr's cross-validation against a classical baseline on the same folds.

    python scripts/bench_real.py DIR [--folds 5] [--out runs/bench_real] [--only baseline,recipe,...]

DIR is a folder of genre folders (GTZAN's layouts too), e.g. ../shared/data/gtzan_excerpts. Every method is
scored by 5-fold (or 10-fold) cross-validation by clip, on exactly the test folds `tsr cv` uses (the ten
stratified folds of genre_folder_logmel/clip_folds, grouped as `keras_tsr.data.folders.cv_splits` groups
them), so the comparison is paired fold by fold:

- baseline: 20 MFCCs, spectral contrast and chroma (librosa, at 22.05 kHz), mean and standard deviation of
  each over time, standardised, an RBF SVM with C=10 (scikit-learn); and the same features with logistic
  regression;
- `tsr cv --augment none`: the training before the small-data recipe (12 s segments, a validation fold, the
  best checkpoint);
- `tsr cv --seeds 5` (`tsr cv`'s defaults): the small-data recipe with the demo preset, five models a fold
  (seeds 0 to 4) averaged; from the same run, no further training: its first three models averaged and its
  first model alone (what `tsr cv --seeds 1` trains);
- `tsr cv --preset ts_resformer --seeds 1`: the paper's model under the same recipe, one model a fold.

Prints one table (track accuracy, mean +- sample sd over folds, and each fold's), the wall time of each
method, and writes OUT/bench_real.md. The tsr runs resume (each is an ordinary `tsr cv --out` folder).
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")  # the cv runs train under it, and this process reads their models
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

TSR_RUNS = {
    "tsr cv --augment none": ["--augment", "none"],
    "tsr cv --seeds 5 (small-data recipe, demo, 5 models a fold averaged)": ["--seeds", "5"],
    "tsr cv --preset ts_resformer --seeds 1 (recipe, one model)": ["--preset", "ts_resformer", "--seeds", "1"],
}
SUB_ENSEMBLES = (3, 1)  # from an ensemble run, its first n models too (1: what `tsr cv --seeds 1` trains)


def fold_of_files(files, folds):
    """The test fold of each file, as `tsr cv` deals them (keras_tsr.data.folders)."""
    from keras_tsr.data import folders

    dealt = folders.stratified_folds(files)
    out = {}
    for k in range(folds):
        test = folders.cv_splits(k, folds)["test"].split("+")
        for name in test:
            for f in dealt[name]:
                out[f.file_id] = k
    return np.array([out[f.file_id] for f in files])


def baseline_features(path):
    import librosa

    from keras_tsr import audio

    x, sr = audio.decode(path)
    x = audio.resample(x, sr, 22050)
    feats = [librosa.feature.mfcc(y=x, sr=22050, n_mfcc=20), librosa.feature.spectral_contrast(y=x, sr=22050),
             librosa.feature.chroma_stft(y=x, sr=22050)]
    return np.concatenate([np.r_[f.mean(1), f.std(1)] for f in feats])


def run_baselines(files, fold):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    start = time.time()
    X = np.stack([baseline_features(f.path) for f in files])
    names = sorted({f.genre for f in files})
    y = np.array([names.index(f.genre) for f in files])
    feature_seconds = time.time() - start
    results = {}
    for label, make in (("baseline: MFCC+contrast+chroma, RBF SVM C=10",
                         lambda: make_pipeline(StandardScaler(), SVC(C=10, kernel="rbf"))),
                        ("baseline: the same features, logistic regression",
                         lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)))):
        t = time.time()
        accs = []
        for k in range(fold.max() + 1):
            clf = make().fit(X[fold != k], y[fold != k])
            accs.append(float((clf.predict(X[fold == k]) == y[fold == k]).mean()))
        results[label] = {"folds": accs, "seconds": round(feature_seconds + time.time() - t, 1)}
    return results


def run_tsr(folder, folds, out, label, extra):
    start = time.time()
    target = os.path.join(out, label.split(" (")[0].replace(" ", "_").replace("-", ""))
    cmd = [sys.executable, "-m", "keras_tsr", "cv", folder, "--folds", str(folds), "--out", target, *extra]
    print(f"running {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, env={**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")},
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode:
        sys.exit(f"{label} failed:\n{proc.stderr[-3000:]}")
    summary = json.load(open(os.path.join(target, "cv_results.json")))
    seconds = round(time.time() - start, 1)
    out = {label: {"folds": [f["track"]["accuracy"] for f in summary["per_fold"]], "seconds": seconds,
                   "training": summary.get("training")}}
    seeds = summary.get("training", {}).get("seeds", 1)
    for n in (n for n in SUB_ENSEMBLES if n < seeds):  # the same run's first n models: no further training
        out[f"the same run, its first {n} model{'s a fold averaged' if n > 1 else ' alone'}"] = {
            "folds": [sub_ensemble_accuracy(target, k, n) for k in range(folds)], "seconds": seconds * n / seeds}
    return out


def sub_ensemble_accuracy(out, fold, n):
    """Track accuracy on a fold's test files of the first `n` models `tsr cv --seeds` trained for it."""
    from keras_tsr.evaluate import evaluate_ensemble
    from keras_tsr.studies.cv import fold_workdir

    if n == 1:
        return json.load(open(os.path.join(fold_workdir(out, fold), "eval", "metrics.json")))["track"]["accuracy"]
    return evaluate_ensemble([fold_workdir(out, fold, s) for s in range(n)], n_boot=10)["track"]["accuracy"]


def table(results, folds):
    lines = ["| method | track accuracy, mean ± sd | " + " | ".join(f"fold {k}" for k in range(folds))
             + " | wall time |", "|---|---|" + "---|" * folds + "---|"]
    for label, r in results.items():
        a = np.array(r["folds"])
        sd = a.std(ddof=1) if len(a) > 1 else 0.0
        lines.append(f"| {label} | {a.mean():.3f} ± {sd:.3f} | " + " | ".join(f"{v:.3f}" for v in a)
                     + f" | {r['seconds'] / 60:.1f} min |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--folds", type=int, default=5, choices=(5, 10))
    parser.add_argument("--out", default="runs/bench_real")
    parser.add_argument("--only", default="", help="comma-separated substrings of the methods to run")
    parser.add_argument("--resformer-epochs", type=int, default=None,
                        help="epochs of the ts_resformer run (a CPU needs about 7 min a fold at tsr cv's 30)")
    args = parser.parse_args()
    from keras_tsr.data import folders

    files = folders.scan(args.folder)
    fold = fold_of_files(files, args.folds)
    os.makedirs(args.out, exist_ok=True)
    wanted = [w for w in args.only.split(",") if w]
    start = time.time()
    results = {k: v for k, v in run_baselines(files, fold).items() if not wanted or any(w in k for w in wanted)} \
        if not wanted or any(w in "baseline" for w in wanted) else {}
    for label, extra in TSR_RUNS.items():
        if "ts_resformer" in label and args.resformer_epochs:
            extra = [*extra, "--epochs", str(args.resformer_epochs)]
            label = f"{label[:-1]}, {args.resformer_epochs} epochs)"
        if not wanted or any(w in label for w in wanted):
            results.update(run_tsr(args.folder, args.folds, args.out, label, extra))
    text = (f"{len(files)} clips in {len(set(f.genre for f in files))} genres ({args.folder}), {args.folds}-fold "
            f"cross-validation by clip on the folds of `tsr cv`; track accuracy (a clip's segment probabilities "
            f"averaged), one seed; {os.cpu_count()} cores, {(time.time() - start) / 60:.1f} min in all.\n\n"
            + table(results, args.folds) + "\n")
    print(text)
    with open(os.path.join(args.out, "bench_real.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "bench_real.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
