"""The paper's studies as grids of training runs: `tsr experiment NAME`.

    tsr experiment ablation --seeds 3                # Table 3 on FMA-small (GPU)
    tsr experiment ablation --scale demo --seeds 2   # the same machinery on the built-in demo, minutes on a CPU

Each run is an ordinary training workdir under OUT/NAME/<setting>_seed<k>, so
rerunning the command skips finished runs and resumes an interrupted one.
The grid writes OUT/NAME/results.csv (one row per run), results.md (mean and
standard deviation over seeds per setting, with the paper's claim beside the
rows where its text states one) and a plot (results.png).

Grids (the paper's section 4):
    slice_length        segments of 3, 5, 6, 10, 12, 15 s (Fig. 13)
    filter_height       TF-Attention frequency filter heights 2..15 at width 2 (Fig. 14)
    filter_width        TF-Attention time filter widths 2..15 at height 2 (Fig. 15)
    ablation            Table 3: serial, parallel, +TF-Attention, +SE-Res, full; and the full model
                        with the other reading of the attention descriptor
    transformer_layers  1 to 5 encoder layers (Table 4)
    baselines           Table 5: LSTM, GRU, Bi-GRU, ResNet, Transformer, ResNet || LSTM/GRU/Bi-GRU, TS-Resformer

Every grid is expressed as backbone arguments over one base preset
(`ts_resformer` at full scale, `demo` at demo scale), so the demo scale runs
the same comparisons with narrow models.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import os
import time

from keras_tsr.errors import ArgumentError, NotFoundError
from keras_tsr.models.presets import PLAIN_RES
from keras_tsr.utils import check_writable, mean_sd, save_figure, slug, write_text_atomic

log = logging.getLogger("keras_tsr.experiment")



@dataclasses.dataclass
class Setting:
    """One row of a grid: a label, the backbone arguments it changes, and what the paper says of it."""

    label: str
    overrides: dict = dataclasses.field(default_factory=dict)
    x: float | None = None  # position on the plot's x axis (seconds, filter size, layers)
    segment_seconds: int = 12
    paper: str = ""
    clip_level: bool = False  # cut from the clip-level build (any length) instead of the 12 s build


def _slice_length():
    claims = {3: "best accuracy, slowest training (Fig. 13)", 12: "0.36 points below 3 s, far less training time"}
    return [Setting(f"{s} s", {}, s, s, claims.get(s, ""), clip_level=True) for s in (3, 5, 6, 10, 12, 15)]


def _filter_height():
    return [Setting(f"height {h}", {"freq_kernel": (h, 2)}, h, paper="chosen: 6" if h == 6 else "")
            for h in range(2, 16)]


def _filter_width():
    return [Setting(f"width {w}", {"time_kernel": (2, w)}, w, paper="chosen: 10" if w == 10 else "")
            for w in range(2, 16)]


def _ablation():
    return [
        Setting("serial", {**PLAIN_RES, "fusion": "serial"}, paper="parallel is +1.01 acc, +0.032 F1 over it"),
        Setting("parallel", dict(PLAIN_RES), paper="+1.01 acc, +0.032 F1 over serial"),
        Setting("+TF-Attention", {"squeeze_excite": False}, paper="+1.51 acc, +0.019 F1 (TF-Attention)"),
        Setting("+SE-Res", {"tf_attention": False}, paper="+1.3 acc, +0.01 F1 (SE-Res)"),
        Setting("full", {}, paper="TS-Resformer: 90.23 (Eq. 10 average accuracy, i.e. 60.9 plain)"),
        Setting("full, axis attention", {"attention_reading": "axis"},
                paper="(the other reading of the attention descriptor)"),
    ]


def _transformer_layers():
    return [Setting(f"{n} layers", {"num_transformer_layers": n}, n, paper="best" if n == 4 else "")
            for n in range(1, 6)]


def _baselines():
    return [
        Setting("LSTM", {"spectral": False, "temporal": "lstm"}),
        Setting("GRU", {"spectral": False, "temporal": "gru"}),
        Setting("Bi-GRU", {"spectral": False, "temporal": "bigru"}),
        Setting("ResNet", {**PLAIN_RES, "temporal": None}),
        Setting("Transformer", {"spectral": False}),
        Setting("ResNet + LSTM", {**PLAIN_RES, "temporal": "lstm"}),
        Setting("ResNet + GRU", {**PLAIN_RES, "temporal": "gru"}),
        Setting("ResNet + Bi-GRU", {**PLAIN_RES, "temporal": "bigru"}),
        Setting("TS-Resformer", {}, paper="best of Table 5"),
    ]


GRIDS = {
    "slice_length": (_slice_length, "segment length (s)"),
    "filter_height": (_filter_height, "frequency filter height (mel bands)"),
    "filter_width": (_filter_width, "time filter width (frames)"),
    "ablation": (_ablation, None),
    "transformer_layers": (_transformer_layers, "Transformer layers"),
    "baselines": (_baselines, None),
}

# What a scale changes: the base preset, the data and the training length.
SCALES = {
    "full": {"preset": "ts_resformer", "epochs": None, "batch_size": 32, "demo": False},
    "demo": {"preset": "demo", "epochs": 2, "batch_size": 16, "demo": True, "demo_tracks_per_genre": 10},
    # smoke: the machinery of a grid (shards, resume, report) in about a minute; its numbers mean nothing
    "smoke": {"preset": "debug", "epochs": 1, "batch_size": 16, "demo": True, "demo_tracks_per_genre": 3},
}

# Sustained throughput assumed by --dry-run's time estimate (training costs about 3x the forward FLOPs).
# demo: measured on a 2-core CPU with the demo preset; full: an assumption for one H100, not a measurement.
ASSUMED_FLOPS_PER_S = {"demo": 20e9, "smoke": 20e9, "full": 100e12}
FMA_SMALL_TRAIN_TRACKS = 6400


def settings(name):
    if name not in GRIDS:
        raise ArgumentError(f"Unknown experiment {name!r}. Choose one of: {', '.join(GRIDS)}")
    return GRIDS[name][0]()


def plan(name, seeds=1):
    """[(setting, seed)] in run order: every setting's first seed, then the second, and so on."""
    return [(s, seed) for seed in range(seeds) for s in settings(name)]


def parse_shard(text):
    """"I/N" -> (I, N), 1 <= I <= N: the I-th of N disjoint parts of a grid."""
    try:
        i, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise ArgumentError(f"--shard must be I/N (e.g. 2/4). Received: {text!r}") from None
    if not 1 <= i <= n:
        raise ArgumentError(f"--shard I/N needs 1 <= I <= N. Received: {text!r}")
    return i, n


def shard_runs(runs, shard=None):
    """The runs of one shard (I, N): every N-th run from the I-th, so each part mixes settings and seeds and the
    N parts together are the grid, each run in exactly one."""
    if shard is None:
        return list(runs)
    i, n = shard
    return [r for k, r in enumerate(runs) if k % n == i - 1]


def run_dir(root, setting, seed):
    return os.path.join(root, f"{slug(setting.label)}_seed{seed}")


def _train_config(setting, seed, scale, genres, data_dir, epochs):
    from keras_tsr.train import TrainConfig

    sc = SCALES[scale]
    return TrainConfig(
        dataset="fma_small_logmel/clip" if setting.clip_level else f"fma_small_logmel/{setting.segment_seconds}s",
        segment_seconds=setting.segment_seconds if setting.clip_level else None,
        data_dir=None if sc["demo"] else data_dir,
        preset=sc["preset"], epochs=epochs or sc["epochs"], batch_size=sc["batch_size"], seed=seed,
        demo=sc["demo"], demo_tracks_per_genre=sc.get("demo_tracks_per_genre", 40),
        overrides=dict(setting.overrides), genres=list(genres))


def model_cost(setting, scale, num_classes):
    """(parameters, forward GFLOPs per segment or None) of a setting's model."""
    import keras

    from keras_tsr import audio
    from keras_tsr.models import GenreClassifier
    from keras_tsr.studies.flops import forward_flops

    frames = audio.num_frames(setting.segment_seconds)
    model = GenreClassifier.from_preset(SCALES[scale]["preset"], num_classes=num_classes, num_frames=frames,
                                        compile=False, **setting.overrides)
    params, flops = model.count_params(), forward_flops(model)
    del model
    keras.backend.clear_session()
    return params, None if flops is None else flops / 1e9


def estimate_seconds(setting, scale, gflops, epochs):
    """A rough training time: epochs x training segments x 3 x forward FLOPs / assumed throughput."""
    from keras_tsr import audio

    if gflops is None:
        return None
    tracks = 8 * (SCALES[scale].get("demo_tracks_per_genre", 40) - 2) if SCALES[scale]["demo"] \
        else FMA_SMALL_TRAIN_TRACKS
    segments = tracks * audio.num_segments(30 * audio.SAMPLE_RATE, audio.segment_samples(setting.segment_seconds))
    return epochs * segments * 3 * gflops * 1e9 / ASSUMED_FLOPS_PER_S[scale]


def run_experiment(name, out_dir="runs/experiments", scale="full", seeds=1, genres=(), data_dir=None, epochs=None,
                   dry_run=False, echo=print, shard=None):
    """Runs (or resumes) every run of a grid, or of one shard of it (`shard`=(I, N)), and writes the tables and
    plot of every finished run under the grid's folder (shards on a shared folder fill it together); returns the
    rows of the finished runs."""
    from tqdm.auto import tqdm

    from keras_tsr.train import PAPER_EPOCHS

    if scale not in SCALES:
        raise ArgumentError(f"scale must be one of {tuple(SCALES)}. Received: scale={scale!r}")
    if seeds < 1:
        raise ArgumentError(f"seeds must be >= 1. Received: seeds={seeds}")
    runs = plan(name, seeds)
    if not dry_run:
        check_writable(os.path.join(out_dir, name), "folder", "--out")
    mine = shard_runs(runs, shard)
    root = os.path.join(out_dir, name)
    n_epochs = epochs or SCALES[scale]["epochs"] or PAPER_EPOCHS
    num_classes = len(genres) or 8
    if dry_run:
        _dry_run(name, runs, mine, shard, root, scale, seeds, n_epochs, num_classes, echo)
        return []

    import keras

    from keras_tsr.train import train_and_evaluate

    start = time.time()
    rows = []
    for setting, seed in tqdm(mine, desc=name if shard is None else f"{name} {shard[0]}/{shard[1]}", unit="run"):
        workdir = run_dir(root, setting, seed)
        config = _train_config(setting, seed, scale, genres, data_dir, epochs)
        log.info("%s: %s, seed %d -> %s", name, setting.label, seed, workdir)
        metrics = train_and_evaluate(config, workdir)
        keras.backend.clear_session()
        _run_cost(workdir, setting, scale, len(metrics["class_names"]))
        rows, missing = finished_rows(name, root, scale, seeds)
        write_results(name, root, rows, scale, seeds, missing)
    echo(f"{name}: {len(mine)} runs in {(time.time() - start) / 60:.1f} min; results in {root}/results.md"
         + (f" ({len(rows)} of {len(runs)} runs finished)" if len(rows) < len(runs) else ""))
    return rows


def _dry_run(name, runs, mine, shard, root, scale, seeds, n_epochs, num_classes, echo):
    """--dry-run: each run of this shard with parameters, FLOPs and an estimated time, and the total."""
    from keras_tsr.artifacts import Workdir

    total, known = 0.0, True
    part = f", shard {shard[0]}/{shard[1]}: {len(mine)} of them" if shard else ""
    echo(f"{name} at {scale} scale: {len(runs)} runs ({len(runs) // seeds} settings x {seeds} seeds{part}), "
         f"{n_epochs} epochs each, under {root}")
    costs = {}
    for setting, seed in mine:
        if setting.label not in costs:
            costs[setting.label] = model_cost(setting, scale, num_classes)
        params, gflops = costs[setting.label]
        est = estimate_seconds(setting, scale, gflops, n_epochs)
        known = known and est is not None
        total += est or 0.0
        done = Workdir(run_dir(root, setting, seed)).read_done() is not None
        echo(f"  {setting.label:24s} seed {seed}  {params:>10,d} params  "
             f"{'' if gflops is None else f'{gflops:6.2f} GFLOP/segment  '}"
             f"{'done' if done else '' if est is None else f'~{est / 60:.1f} min'}")
    where = "a 2-core CPU (measured throughput)" if scale != "full" else \
        f"one GPU at an assumed {ASSUMED_FLOPS_PER_S['full'] / 1e12:.0f} TFLOP/s sustained (not measured)"
    echo(f"estimated total: ~{total / 3600:.1f} h on {where}" if known else
         "estimated total: needs the JAX backend (FLOPs from XLA's cost analysis)")


def _run_cost(workdir, setting, scale, num_classes):
    """(params, GFLOPs) of a run's model, kept in its workdir's cost.json so that a report need not rebuild it."""
    from keras_tsr.artifacts import Workdir

    path = Workdir(workdir).cost_path
    if os.path.isfile(path):
        with open(path) as f:
            return tuple(json.load(f))
    cost = model_cost(setting, scale, num_classes)
    write_text_atomic(path, json.dumps(list(cost)))
    return cost


def finished_rows(name, root, scale, seeds):
    """(rows of the grid's finished runs, labels of the runs not finished) from what is on disk under `root`."""
    from keras_tsr.artifacts import Workdir

    rows, missing = [], []
    for setting, seed in plan(name, seeds):
        wd = Workdir(run_dir(root, setting, seed))
        done = wd.read_done()
        if done is None or not os.path.isfile(wd.metrics_path):
            missing.append(f"{setting.label} seed {seed}")
            continue
        metrics = wd.read_metrics()
        params, gflops = _run_cost(wd.path, setting, scale, len(metrics["class_names"]))
        rows.append(result_row(setting, seed, wd.path, metrics, done.get("train_seconds"), params, gflops))
    return rows, missing


def report_experiment(name, out_dir="runs/experiments", scale="full", seeds=1, echo=print):
    """Writes results.md/csv/png from whichever runs of the grid are finished (by any shard), naming the missing
    ones; returns (rows, missing)."""
    root = os.path.join(out_dir, name)
    check_writable(root, "folder", "--out")
    rows, missing = finished_rows(name, root, scale, seeds)
    if not rows:
        raise NotFoundError(f"{root}: no finished run of {name} yet (run `tsr experiment {name}`, or its shards)")
    write_results(name, root, rows, scale, seeds, missing)
    echo(f"{name}: {len(rows)} of {len(rows) + len(missing)} runs finished; wrote {root}/results.md, results.csv, "
         f"results.png" + (f"\nnot finished: {', '.join(missing)}" if missing else ""))
    return rows, missing


METRIC_COLUMNS = ("track_accuracy", "track_average_accuracy", "track_macro_f1",
                  "segment_accuracy", "segment_average_accuracy", "segment_macro_f1")


def result_row(setting, seed, workdir, metrics, train_seconds, params, gflops):
    from keras_tsr import audio

    geometry = audio.Geometry(segment_seconds=float(setting.segment_seconds))
    row = {"setting": setting.label, "x": setting.x, "seed": seed, "workdir": workdir,
           "segment_seconds": setting.segment_seconds,
           "effective_seconds": round(geometry.frames * geometry.hop_length / geometry.sample_rate, 2),
           "train_seconds": train_seconds, "params": params, "gflops": gflops, "paper": setting.paper}
    for level in ("track", "segment"):
        for key in ("accuracy", "average_accuracy", "macro_f1"):
            row[f"{level}_{key}"] = metrics[level][key]
    row["test_tracks"] = metrics["track"]["n"]
    return row


def _mean_sd(values):
    values = [v for v in values if v is not None]
    return mean_sd(values) if values else (None, None)


def summarise(rows):
    """Per setting, in first-seen order: mean and sd over seeds of every metric and the training time."""
    out = {}
    for r in rows:
        out.setdefault(r["setting"], []).append(r)
    summary = []
    for label, group in out.items():
        s = {"setting": label, "x": group[0]["x"], "seeds": len(group), "paper": group[0]["paper"],
             "params": group[0]["params"], "gflops": group[0]["gflops"],
             "effective_seconds": group[0]["effective_seconds"], "segment_seconds": group[0]["segment_seconds"],
             "test_tracks": group[0]["test_tracks"]}
        for key in (*METRIC_COLUMNS, "train_seconds"):
            s[key] = _mean_sd([r[key] for r in group])
        summary.append(s)
    return summary


def write_results(name, root, rows, scale, seeds, missing=()):
    os.makedirs(root, exist_ok=True)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_text_atomic(os.path.join(root, "results.csv"), out.getvalue())
    summary = summarise(rows)
    write_text_atomic(os.path.join(root, "results.md"), results_markdown(name, summary, scale, seeds, missing))
    plot_results(name, summary, os.path.join(root, "results.png"), scale)


def _pm(value, pct=True):
    """mean ± sd (sample sd over seeds); the mean alone where one seed has finished."""
    mean, sd = value
    if mean is None:
        return "n/a"
    scale, fmt = (100, ".1f") if pct else (1, ".0f")
    return f"{scale * mean:{fmt}}" + ("" if sd is None else f" ± {scale * sd:{fmt}}")


def results_markdown(name, summary, scale, seeds, missing=()):
    data = ("the built-in **synthetic demo data** (demo scale: narrow models, few epochs; it shows that the "
            "machinery works, not how TS-Resformer does on music)" if scale in ("demo", "smoke")
            else "FMA-small, test split")
    lines = [
        f"# {name}: {data}",
        "",
        f"Mean ± sample sd over the seeds of each setting ({seeds} planned; `seeds` column: finished), in percent, "
        "on the test split. acc: plain accuracy; "
        "Eq.10: the paper's average accuracy (mean over genres of (TP+TN)/N = 1 - 2 (1 - acc) / k); F1: macro F1. "
        "Track level averages a track's segment probabilities. The paper reports segment-level Eq. 10 figures on "
        "its random 8:1:1 split.",
        "",
        "| setting | seeds | segment | track acc | track Eq.10 | track F1 | segment acc | segment Eq.10 | segment F1 "
        "| train s | params | GFLOP/seg | paper |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in summary:
        seg = f"{s['segment_seconds']} s ({s['effective_seconds']} s used)"
        gflops = "n/a" if s["gflops"] is None else f"{s['gflops']:.2f}"
        lines.append(
            f"| {s['setting']} | {s['seeds']} | {seg} | {_pm(s['track_accuracy'])} | {_pm(s['track_average_accuracy'])} "
            f"| {_pm(s['track_macro_f1'])} | {_pm(s['segment_accuracy'])} | {_pm(s['segment_average_accuracy'])} "
            f"| {_pm(s['segment_macro_f1'])} | {_pm(s['train_seconds'], pct=False)} | {s['params']:,} | {gflops} "
            f"| {s['paper']} |")
    n = summary[0]["test_tracks"] if summary else 0
    if n:
        se = 100 * math.sqrt(0.6 * 0.4 / n)
        lines += ["", f"{n} test tracks: one run's standard error of a ~60% track accuracy is about {se:.1f} points."]
    if missing:
        lines += ["", f"Not finished yet ({len(missing)}): {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def plot_results(name, summary, path, scale):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    xlabel = GRIDS[name][1]
    labels = [s["setting"] for s in summary]
    series = [("track_accuracy", "track accuracy"), ("segment_accuracy", "segment accuracy"),
              ("track_macro_f1", "track macro F1")]
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(labels) + 3), 4.5))
    if xlabel:
        xs = [s["x"] for s in summary]
        for key, label in series:
            ax.errorbar(xs, [s[key][0] for s in summary], yerr=[s[key][1] or 0 for s in summary], marker="o",
                        capsize=3, label=label)
        ax.set_xlabel(xlabel)
        if name == "slice_length":
            twin = ax.twinx()
            twin.plot(xs, [s["train_seconds"][0] or 0 for s in summary], "k--", marker="s", label="training time")
            twin.set_ylabel("training time (s)")
            twin.legend(loc="lower right", fontsize=8)
    else:
        idx = np.arange(len(labels))
        width = 0.8 / len(series)
        for i, (key, label) in enumerate(series):
            ax.bar(idx + (i - 1) * width, [s[key][0] for s in summary], width,
                   yerr=[s[key][1] or 0 for s in summary], capsize=3, label=label)
        ax.set_xticks(idx, labels, rotation=30, ha="right")
    ax.set_ylabel("test score")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    seeds = summary[0]["seeds"] if summary else 0
    ax.set_title(f"{name} ({'synthetic demo data' if scale != 'full' else 'FMA-small'}; mean ± sd over "
                 f"{seeds} seed(s))")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
