import json
import os
import zipfile

import pytest

from keras_tsr.artifacts import EXPORT_METADATA as METADATA_FILE
from keras_tsr.artifacts import ModelError, Workdir, WorkdirError, open_model, read_export_metadata
from keras_tsr.utils import write_json_atomic

pytestmark = pytest.mark.backend_independent


def test_layout_paths(tmp_path):
    w = Workdir(tmp_path / "run")
    assert w.config_path == os.path.join(tmp_path, "run", "config.json")
    assert w.best_model_path.endswith("best.keras") and w.metrics_path.endswith(os.path.join("eval", "metrics.json"))
    assert os.fspath(w) == str(tmp_path / "run")


def test_missing_and_incomplete_workdirs_say_what_to_run(tmp_path):
    with pytest.raises(WorkdirError, match="does not exist.*tsr train --workdir"):
        Workdir(tmp_path / "nope").require_trained()
    w = Workdir(tmp_path)
    with pytest.raises(WorkdirError, match="lacks config.json, best.keras"):
        w.require_trained()
    w.write_config({"a": 1})
    with pytest.raises(WorkdirError, match="lacks best.keras"):
        w.require_trained()
    assert not Workdir.looks_like(tmp_path)
    (tmp_path / "best.keras").write_bytes(b"x")
    assert Workdir.looks_like(tmp_path) and w.require_trained() is w


def test_config_done_and_log_round_trip(tmp_path):
    w = Workdir(tmp_path / "run")
    assert not w.has_config() and w.read_done() is None and w.log_rows() == [] and w.best_so_far() is None
    w.write_config({"preset": "debug"})
    assert w.read_config() == {"preset": "debug"}
    w.write_done({"epochs": 3})
    assert w.read_done() == {"epochs": 3}
    with open(w.log_path, "w") as f:
        f.write("epoch,val_accuracy\n0,0.25\n1,0.5\n2,0.375\n")
    assert w.best_so_far() == 0.5 and len(w.log_rows()) == 3
    assert not [p for p in os.listdir(w.path) if p.endswith(".partial")]


def test_current_metrics_are_a_whole_evaluation_newer_than_the_checkpoint(tmp_path):
    """What a rerun of a finished run reuses instead of evaluating again."""
    w = Workdir(tmp_path / "run")
    os.makedirs(w.path)
    assert w.current_metrics() is None  # no checkpoint, no evaluation
    with open(w.best_model_path, "wb") as f:
        f.write(b"checkpoint")
    assert w.current_metrics() is None
    metrics = {"split": "test", "segment": {"accuracy": 0.5}, "track": {"accuracy": 0.6}}
    w.write_metrics(metrics)
    os.utime(w.best_model_path, (1, 1))
    assert w.current_metrics() == metrics and w.current_metrics("validation") is None
    os.utime(w.metrics_path, (0, 0))  # a checkpoint written after its evaluation: evaluate again
    assert w.current_metrics() is None
    os.utime(w.metrics_path, (2, 2))
    with open(w.metrics_path, "w") as f:
        f.write('{"split": "te')  # cut off
    assert w.current_metrics() is None


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "m.json"
    write_json_atomic(path, {"ok": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": 1}


def test_geometry_round_trip_and_refusal(tmp_path):
    from keras_tsr import audio

    w = Workdir(tmp_path)
    g = audio.Geometry(segment_seconds=6.0)
    w.write_config({"geometry": g.to_dict()})
    assert w.geometry() == g and w.geometry().frames == 256
    w.write_config({"geometry": {**g.to_dict(), "n_fft": 2048}})
    with pytest.raises(ValueError, match="n_fft"):
        w.geometry()


def test_metadata_is_read_back(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"x")
    with pytest.raises(ModelError, match="keras_tsr.json"):
        read_export_metadata(str(tmp_path))
    os.makedirs(tmp_path / "assets.extra")
    (tmp_path / METADATA_FILE).write_text(json.dumps({"class_names": ["a", "b"]}))
    assert read_export_metadata(str(tmp_path))["class_names"] == ["a", "b"]


def test_open_model_reads_every_form_without_loading(tiny_workdir, tmp_path):
    wd = open_model(tiny_workdir.path)
    assert wd.kind == "workdir" and wd.class_names == ["Folk", "Pop", "Rock"] and wd.geometry.segment_seconds == 6.0
    keras_file = open_model(tiny_workdir.best_model_path)  # a .keras file inside its workdir: the workdir's config
    assert keras_file.kind == "keras" and keras_file.class_names == wd.class_names
    assert keras_file.geometry == wd.geometry
    export = tmp_path / "export" / "1"
    os.makedirs(export / "assets.extra")
    (export / "saved_model.pb").write_bytes(b"x")
    os.makedirs(export / "variables")
    for name in ("variables.index", "variables.data-00000-of-00001"):
        (export / "variables" / name).write_bytes(b"x")
    (export / METADATA_FILE).write_text(json.dumps({"class_names": ["a", "b"], "geometry": wd.metadata["geometry"]}))
    saved = open_model(export)
    assert saved.kind == "saved_model" and saved.class_names == ["a", "b"] and saved.geometry == wd.geometry
    with pytest.raises(ModelError, match="serves predictions only"):
        saved.load()


def test_open_model_refuses_what_is_not_a_model_in_one_line(tmp_path):
    lone = tmp_path / "lone.keras"
    zipfile.ZipFile(lone, "w").close()  # a whole zip outside any workdir
    with pytest.raises(ModelError, match="records no class names or front-end geometry"):
        open_model(lone).geometry  # noqa: B018
    (tmp_path / "notes.txt").write_text("hi")
    for ref, message in ((tmp_path / "notes.txt", "not a model keras-tsr opens"), (tmp_path / "nothing", "no such"),
                         (tmp_path, "is not a model folder keras-tsr opens")):
        with pytest.raises(ModelError, match=message) as e:
            open_model(ref)
        assert "\n" not in str(e.value)


def test_run_record_reads_config_json_once_into_named_fields(tiny_workdir, tmp_path):
    from keras_tsr.artifacts import RunRecord, Workdir, WorkdirError

    run = Workdir(tiny_workdir.path).run_record()
    assert run.class_names == ["Folk", "Pop", "Rock"] and run.geometry["segment_seconds"] == 6.0
    assert run.split("test") == "test" and run.get("batch_size") == run.batch_size == 4
    folds = RunRecord.from_json({**run.raw, "splits": {"test": "fold0+fold5"}})
    assert folds.split("test") == "fold0+fold5" and folds.split("train") == "train"
    with pytest.raises(WorkdirError, match="lacks class_names, geometry"):
        RunRecord.from_json({"dataset": "fma_small_logmel/12s"}, "x/config.json")
