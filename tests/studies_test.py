import csv
import os

import pytest

from keras_tsr.models.backbone import backbone_arg_names
from keras_tsr.studies import experiment


@pytest.mark.backend_independent
@pytest.mark.parametrize("name", sorted(experiment.GRIDS))
def test_every_grid_names_only_backbone_arguments(name):
    valid = set(backbone_arg_names())
    settings = experiment.settings(name)
    assert len({s.label for s in settings}) == len(settings) > 1
    for s in settings:
        assert set(s.overrides) <= valid, (s.label, s.overrides)


@pytest.mark.backend_independent
def test_grids_follow_the_paper():
    assert [s.x for s in experiment.settings("slice_length")] == [3, 5, 6, 10, 12, 15]
    assert [s.overrides["freq_kernel"] for s in experiment.settings("filter_height")] == [(h, 2) for h in range(2, 16)]
    assert [s.overrides["time_kernel"] for s in experiment.settings("filter_width")] == [(2, w) for w in range(2, 16)]
    assert [s.label for s in experiment.settings("ablation")][:5] == ["serial", "parallel", "+TF-Attention",
                                                                      "+SE-Res", "full"]
    assert [s.overrides["num_transformer_layers"] for s in experiment.settings("transformer_layers")] == [1, 2, 3, 4, 5]
    assert len(experiment.plan("ablation", seeds=3)) == 3 * len(experiment.settings("ablation"))
    with pytest.raises(ValueError, match="Unknown experiment"):
        experiment.settings("table_9")


@pytest.mark.backend_independent
def test_summary_is_mean_and_sd_over_seeds(tmp_path):
    s = experiment.Setting("a", {}, 1)
    rows = []
    for seed, acc in enumerate((0.5, 0.7)):
        metrics = {lvl: {"accuracy": acc, "average_accuracy": 1 - 2 * (1 - acc) / 8, "macro_f1": acc - 0.1, "n": 80}
                   for lvl in ("track", "segment")}
        rows.append(experiment.result_row(s, seed, str(tmp_path), metrics, 10.0 + seed, 1000, 0.5))
    summary = experiment.summarise(rows)
    assert len(summary) == 1
    mean, sd = summary[0]["track_accuracy"]
    assert mean == pytest.approx(0.6) and sd == pytest.approx(0.1414, abs=1e-3)
    md = experiment.results_markdown("ablation", summary, "demo", 2)
    assert "synthetic demo data" in md and "| a | 2 |" in md and "60.0 ± 14.1" in md and "12 s (11.89 s used)" in md
    experiment.write_results("ablation", str(tmp_path), rows, "demo", 2)
    assert len(list(csv.DictReader(open(tmp_path / "results.csv")))) == 2
    assert os.path.getsize(tmp_path / "results.png") > 10_000


@pytest.mark.backend_independent
def test_shards_are_disjoint_and_together_the_grid():
    from keras_tsr.studies import experiment

    runs = experiment.plan("baselines", seeds=3)
    for n in (1, 2, 4, 7, len(runs) + 3):
        parts = [experiment.shard_runs(runs, (i, n)) for i in range(1, n + 1)]
        flat = [(s.label, seed) for part in parts for s, seed in part]
        assert sorted(flat) == sorted((s.label, seed) for s, seed in runs) and len(set(flat)) == len(runs)
    for bad in ("0/2", "3/2", "2", "a/b"):
        with pytest.raises(ValueError, match="--shard"):
            experiment.parse_shard(bad)


@pytest.mark.slow
@pytest.mark.backend_independent
def test_two_shards_run_the_grid_and_report_says_what_is_missing(smoke_cache, tmp_path):
    """`tsr experiment transformer_layers --scale smoke --shard 1/2`, `--report` (runs missing), `--shard 2/2`:
    together exactly the grid's runs; a rerun skips every finished run (scripts/experiments_demo.sh runs the six
    grids at demo scale)."""
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": "jax", "KERAS_TSR_CACHE": str(smoke_cache)}
    base = [sys.executable, "-m", "keras_tsr", "experiment", "transformer_layers", "--scale", "smoke",
            "--out", str(tmp_path / "out")]
    root = tmp_path / "out" / "transformer_layers"

    def run(*extra):
        proc = subprocess.run(base + list(extra), capture_output=True, text=True, env=env, timeout=1200)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return proc

    run("--shard", "1/2")
    first = sorted(os.listdir(root))
    report = run("--report")
    assert "3 of 5 runs finished" in report.stdout and "not finished: 2 layers seed 0, 4 layers seed 0" in report.stdout
    assert "Not finished yet (2)" in (root / "results.md").read_text()
    run("--shard", "2/2")
    runs = sorted(d for d in os.listdir(root) if d.endswith("_seed0"))
    assert runs == [f"{n}_layers_seed0" for n in range(1, 6)]
    assert set(d for d in first if d.endswith("_seed0")) == {"1_layers_seed0", "3_layers_seed0", "5_layers_seed0"}
    rows = (root / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 5 and "Not finished" not in (root / "results.md").read_text()
    assert (root / "results.png").stat().st_size > 0 and "| 4 layers |" in (root / "results.md").read_text()
    again = run()
    assert again.stderr.count("already holds the finished run and its evaluation") == 5, again.stderr[-2000:]


@pytest.mark.backend_independent
def test_cv_defaults_are_the_recipe_and_augment_none_is_the_old_training():
    from keras_tsr.studies import cv

    t = cv.resolve_recipe()
    assert t["recipe"] == cv.DEFAULT_RECIPE and t["protocol"] == "fixed"
    assert (t["segment_seconds"], t["overlap"], t["epochs"], t["batch_size"], t["seeds"]) == (
        cv.DEFAULT_SEGMENT_SECONDS, cv.DEFAULT_OVERLAP, cv.DEFAULT_EPOCHS, cv.DEFAULT_BATCH_SIZE, 5)
    assert cv.resolve_recipe(seeds=1)["seeds"] == 1
    old = cv.resolve_recipe({"augment": "none"}, preset="demo")
    assert old == {"recipe": {"augment": "none"}, "protocol": "val_fold", "segment_seconds": None, "overlap": None,
                   "epochs": 10, "batch_size": 16, "seeds": 1}
    # an ensemble's first model is the fold's plain workdir (a --seeds 1 run's), the others beside it
    assert [os.path.basename(cv.fold_workdir("o", 2, s)) for s in range(3)] == ["fold2", "fold2_seed1", "fold2_seed2"]
    t = cv.resolve_recipe({"label_smoothing": 0.2}, "val_fold")
    assert t["recipe"]["label_smoothing"] == 0.2 and t["recipe"]["augment"] == cv.DEFAULT_RECIPE["augment"]
    assert t["recipe"]["checkpoint"] == "best" and t["protocol"] == "val_fold"  # a validation fold: its best epoch


@pytest.mark.slow
@pytest.mark.backend_independent
def test_the_gpu_benchmark_runs_on_cpu_through_fit(tmp_path):
    """scripts/bench_gpu.py at its tiny size: rows through model.fit (and the inference row), each in its own
    process, with FLOPs from the CPU cost analysis, and no TensorFlow imported (a GPU machine has none)."""
    import json
    import subprocess
    import sys

    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, "scripts/bench_gpu.py", "--tiny", "--epochs", "2", "--json", str(out),
                           "--only", "debug", "debug, Conv1 fused", "inference, batch 1024"],
                          capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert [r["name"] for r in rows] == ["debug", "debug, Conv1 fused", "inference, batch 1024"]
    for r in rows:
        assert r["segments_per_s"] > 0 and r["gflop_forward"] > 0 and r["gb_forward"] > 0, r
        assert not r["tensorflow_loaded"], r
    assert rows[1]["gflop_forward"] > rows[0]["gflop_forward"]  # the fused Conv1 multiplies zeros too
    assert "1.00x segments/s" in proc.stdout and "floors" in proc.stdout


@pytest.mark.slow  # CI's slow pass, beside the other grid run
@pytest.mark.backend_independent  # the grid runs in its own process, under JAX
def test_a_multilabel_grid_reports_the_multilabel_metrics(smoke_cache, tmp_path):
    """`tsr experiment transformer_layers --scale smoke --multilabel --shard 1/5`: one run of the grid, a
    multi-label model on the demo's clip_multilabel build, its row and table in macro ROC-AUC, AP and micro-F1."""
    import csv
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": "jax", "KERAS_TSR_CACHE": str(smoke_cache)}
    proc = subprocess.run([sys.executable, "-m", "keras_tsr", "experiment", "transformer_layers", "--scale", "smoke",
                           "--multilabel", "--shard", "1/5", "--out", str(tmp_path / "out")], capture_output=True,
                          text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = tmp_path / "out" / "transformer_layers"
    rows = list(csv.DictReader(open(root / "results.csv")))
    assert len(rows) == 1 and rows[0]["task"] == "multilabel" and 0 <= float(rows[0]["track_macro_roc_auc"]) <= 1
    md = (root / "results.md").read_text()
    assert "track ROC-AUC | track AP | track micro-F1" in md and "multi-label (genres_all)" in md
    config = (root / "1_layers_seed0" / "config.json").read_text()
    assert '"dataset": "fma_small_logmel/clip_multilabel"' in config
