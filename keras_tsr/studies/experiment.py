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

import json
import logging
import os
import time

from keras_tsr.errors import ArgumentError, NotFoundError
from keras_tsr.studies.grids import (  # noqa: F401 - the grids' names, as `experiment.X` offered them before
    ASSUMED_FLOPS_PER_S,
    FMA_SMALL_TRAIN_TRACKS,
    GRIDS,
    SCALES,
    Setting,
    parse_shard,
    plan,
    run_dir,
    settings,
    shard_runs,
)
from keras_tsr.studies.results import (  # noqa: F401 - likewise
    METRIC_COLUMNS,
    result_row,
    results_markdown,
    summarise,
    write_results,
)
from keras_tsr.utils import check_writable, write_text_atomic

log = logging.getLogger("keras_tsr.experiment")


def _train_config(setting, seed, scale, genres, data_dir, epochs, multilabel=False):
    """A run's TrainConfig; `multilabel`: every setting reads fma_small_logmel/clip_multilabel (clip level, its
    segments cut at load time at the setting's length) and trains a multi-label model."""
    from keras_tsr.train import TrainConfig

    sc = SCALES[scale]
    clip_level = setting.clip_level or multilabel
    dataset = "fma_small_logmel/clip_multilabel" if multilabel else \
        "fma_small_logmel/clip" if clip_level else f"fma_small_logmel/{setting.segment_seconds}s"
    return TrainConfig(
        dataset=dataset, segment_seconds=setting.segment_seconds if clip_level else None,
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
                   dry_run=False, echo=print, shard=None, multilabel=False):
    """Runs (or resumes) every run of a grid, or of one shard of it (`shard`=(I, N)), and writes the tables and
    plot of every finished run under the grid's folder (shards on a shared folder fill it together); returns the
    rows of the finished runs. `multilabel`: the grid's models are multi-label ones, on FMA-small's genres_all,
    reported by macro ROC-AUC, macro average precision and micro-F1."""
    from tqdm.auto import tqdm

    from keras_tsr.defaults import PAPER_EPOCHS

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
        config = _train_config(setting, seed, scale, genres, data_dir, epochs, multilabel)
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
