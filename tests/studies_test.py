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


@pytest.mark.slow
@pytest.mark.backend_independent
def test_a_grid_runs_end_to_end_at_demo_scale(tmp_path):
    """One grid, one seed, one epoch: the machinery of `tsr experiment` (scripts/experiments_demo.sh runs all six).
    A rerun skips every finished run."""
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": "jax", "KERAS_TSR_CACHE": str(tmp_path / "cache")}
    argv = [sys.executable, "-m", "keras_tsr", "experiment", "transformer_layers", "--scale", "demo", "--seeds", "1",
            "--epochs", "1", "--out", str(tmp_path / "out")]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    root = tmp_path / "out" / "transformer_layers"
    rows = (root / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 5  # a header and the five settings
    assert (root / "results.png").stat().st_size > 0 and "| 4 layers |" in (root / "results.md").read_text()
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0 and again.stderr.count("already holds the finished run") == 5, again.stderr[-2000:]


@pytest.mark.backend_independent
def test_cv_defaults_are_the_recipe_and_augment_none_is_the_old_training():
    from keras_tsr.studies import cv

    t = cv.resolve_recipe()
    assert t["recipe"] == cv.DEFAULT_RECIPE and t["protocol"] == "fixed"
    assert (t["segment_seconds"], t["overlap"], t["epochs"], t["batch_size"]) == (
        cv.DEFAULT_SEGMENT_SECONDS, cv.DEFAULT_OVERLAP, cv.DEFAULT_EPOCHS, cv.DEFAULT_BATCH_SIZE)
    old = cv.resolve_recipe({"augment": "none"}, preset="demo")
    assert old == {"recipe": {"augment": "none"}, "protocol": "val_fold", "segment_seconds": None, "overlap": None,
                   "epochs": 10, "batch_size": 16}
    t = cv.resolve_recipe({"label_smoothing": 0.2}, "val_fold")
    assert t["recipe"]["label_smoothing"] == 0.2 and t["recipe"]["augment"] == cv.DEFAULT_RECIPE["augment"]
    assert t["recipe"]["checkpoint"] == "best" and t["protocol"] == "val_fold"  # a validation fold: its best epoch
