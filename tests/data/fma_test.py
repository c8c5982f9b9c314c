import os
import zipfile

import numpy as np
import pytest

from keras_tsr import audio
from keras_tsr.data import fma
from tests.conftest import tfds_build

pytestmark = pytest.mark.backend_independent


def test_tracks_csv_three_row_header_and_subset_filter(fma_fixture):
    manual, desc = fma_fixture
    raw = zipfile.ZipFile(manual / "fma_metadata.zip").read("fma_metadata/tracks.csv").decode()
    assert raw.splitlines()[2].startswith("track_id,")  # third header row
    tracks = fma.FmaSource(manual, "small").tracks()
    assert len(tracks) == len(desc["tracks"])  # "large"-only rows are filtered out
    assert {t.genre for t in tracks} == set(desc["genres"])


def test_official_and_paper_splits_are_by_track(fma_fixture):
    tracks = fma.FmaSource(fma_fixture[0]).tracks()
    for splits in (fma.official_splits(tracks), fma.paper_splits(tracks, seed=1)):
        ids = [set(t.track_id for t in v) for v in splits.values()]
        assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
        assert sum(map(len, ids)) == len(tracks)
    paper = fma.paper_splits(tracks, seed=1)
    assert paper == fma.paper_splits(tracks, seed=1)  # seeded
    for split in ("validation", "test"):  # stratified: every genre in every split
        assert {t.genre for t in paper[split]} == {t.genre for t in tracks}


def test_paper_split_is_8_1_1_at_fma_scale():
    tracks = [fma.Track(i, f"g{i % 8}", i, "training") for i in range(8000)]
    sizes = {k: len(v) for k, v in fma.paper_splits(tracks).items()}
    assert sizes == {"train": 6400, "validation": 800, "test": 800}


def test_missing_manual_files_give_one_clear_error(tmp_path):
    with pytest.raises(fma.ManualDirError, match="fma_small.zip.*fma_metadata.zip"):
        fma.FmaSource(tmp_path, "small")
    with pytest.raises(fma.ManualDirError, match="does not exist"):
        fma.FmaSource(tmp_path / "nope", "small")


def test_extracted_folders_read_like_the_zips(fma_fixture, tmp_path):
    manual, desc = fma_fixture
    for name in ("fma_small.zip", "fma_metadata.zip"):
        zipfile.ZipFile(manual / name).extractall(tmp_path)
    from_zip, from_dir = fma.FmaSource(manual), fma.FmaSource(tmp_path)
    assert from_dir.audio_zip is None and from_dir.audio_dir is not None
    tid = desc["tracks"][0]["track_id"]
    assert from_zip.read_audio(tid) == from_dir.read_audio(tid)
    assert [t.track_id for t in from_zip.tracks()] == [t.track_id for t in from_dir.tracks()]


def test_min_samples_keeps_every_segment():
    sr = audio.SAMPLE_RATE
    for seconds in (3, 5, 6, 10, 12, 15):
        want = audio.num_segments(30 * sr, audio.segment_samples(seconds))
        n = fma.min_samples(seconds)
        assert audio.num_segments(n, audio.segment_samples(seconds)) == want
        assert audio.num_segments(n - 1, audio.segment_samples(seconds)) == want - 1
    assert fma.min_samples(12) == 27 * sr


def test_tfds_build_end_to_end(built_dataset):
    import tensorflow_datasets as tfds

    data_dir, desc, proc = built_dataset
    builder = tfds.builder("fma_small_logmel/12s", data_dir=str(data_dir))
    good = [t for t in desc["tracks"] if not t["broken"]]
    expected = {"train": 0, "validation": 0, "test": 0}
    for t in good:
        expected[fma.SPLIT_NAMES[t["split"]]] += 4
    assert {k: v.num_examples for k, v in builder.info.splits.items()} == expected
    assert builder.info.features["log_mel"].shape == (128, 512)
    assert builder.info.features["label"].names == sorted(desc["genres"])

    dropped = builder.info.metadata["dropped_tracks"]
    broken = {f"{t['track_id']:06d}": t["broken"] for t in desc["tracks"] if t["broken"]}
    assert set(dropped) == set(broken)
    for tid, reason in dropped.items():
        assert f"dropped track {tid}" in proc.stdout + proc.stderr  # and so does the build log
        why = {"short": "too short", "truncated": "too short", "empty": "empty file (0 bytes)",
               "not_audio": "not audio: a text file"}[broken[tid]]
        assert why in reason, (broken[tid], reason)

    ids = {}
    for split in expected:
        ds = builder.as_data_source(split=split)
        ids[split] = {int(ex["track_id"]) for ex in ds}
    assert not (ids["train"] & ids["test"] or ids["train"] & ids["validation"] or ids["validation"] & ids["test"])


def test_builder_log_mel_equals_front_end(built_dataset, fma_fixture):
    import tensorflow_datasets as tfds

    data_dir, desc, _ = built_dataset
    manual, _ = fma_fixture
    # one track of each unusual format: 48 kHz, 22.05 kHz, mono
    picks = {}
    for t in desc["tracks"]:
        if not t["broken"] and t["split"] == "test":
            picks.setdefault((t["sample_rate"], t["channels"]), t)
    ds = tfds.data_source("fma_small_logmel/12s", split="test", data_dir=str(data_dir))
    stored = {(int(ex["track_id"]), int(ex["segment"])): ex["log_mel"] for ex in ds}
    source = fma.FmaSource(manual)
    for t in picks.values():
        ours = audio.clip_features(audio.load_audio(source.read_audio(t["track_id"])))
        for seg in range(4):
            np.testing.assert_allclose(stored[(t["track_id"], seg)].astype(np.float32), ours[seg], atol=0.07)


def test_tfds_build_refuses_wrong_manual_dir(tmp_path):
    proc = tfds_build(tmp_path / "empty_manual", tmp_path / "data")
    assert proc.returncode != 0
    assert "manual" in (proc.stdout + proc.stderr).lower()
    # a manual dir missing the metadata: the message names it (the source the builder opens, in this process)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "fma_small.zip").write_bytes(b"")
    with pytest.raises(fma.ManualDirError, match="lacks: fma_metadata.zip") as e:
        fma.FmaSource(tmp_path / "m")
    assert "fma_small.zip" not in str(e.value)  # what is there is not called missing


@pytest.mark.beam
def test_beam_build_gives_the_same_examples(built_dataset, fma_fixture, tmp_path):
    import tensorflow_datasets as tfds

    data_dir, _, _ = built_dataset
    proc = tfds_build(fma_fixture[0], tmp_path, extra=["--beam_pipeline_options=runner=BundleBasedDirectRunner"])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]

    def examples(d):
        out = {}
        for split in ("train", "validation", "test"):
            for ex in tfds.data_source("fma_small_logmel/12s", split=split, data_dir=str(d)):
                out[(split, int(ex["track_id"]), int(ex["segment"]))] = (int(ex["label"]), ex["log_mel"].tobytes())
        return out

    plain, beam = examples(data_dir), examples(tmp_path)
    assert plain.keys() == beam.keys() and len(plain) > 0
    assert plain == beam
    meta = tfds.builder("fma_small_logmel/12s", data_dir=str(tmp_path)).info.metadata
    assert meta["dropped_tracks"] is None and "Beam" in meta["dropped_tracks_note"]


def test_medium_subset_builds_with_16_genres(tmp_path):

    from keras_tsr.data import synth
    from keras_tsr.datasets import pipeline as data

    desc = synth.write_fixture(str(tmp_path / "manual"), tracks_per_genre=3, subset="medium", seed=3,
                               progress=False, compact=True)
    assert (tmp_path / "manual" / "fma_medium.zip").exists()
    builder = data.build(str(tmp_path / "manual"), "12s", str(tmp_path / "data"), name="fma_medium_logmel")
    assert builder.info.features["label"].num_classes == 16
    good = sum(1 for t in desc["tracks"] if not t["broken"])
    assert sum(s.num_examples for s in builder.info.splits.values()) == 4 * good
    labels = {int(ex["label"]) for ex in builder.as_data_source(split="test")}
    assert len(labels) == 16  # one test track per genre, small's eight and medium's eight


def test_tfds_build_without_config_builds_every_configuration(fma_fixture, tmp_path):
    """`tfds build` with no --config on a folder holding only the FMA-small downloads builds all four configs."""
    import tensorflow_datasets as tfds

    manual, desc = fma_fixture
    assert sorted(p.name for p in manual.iterdir() if p.suffix == ".zip") == ["fma_metadata.zip", "fma_small.zip"]
    proc = tfds_build(manual, tmp_path / "data", config=None)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    log = proc.stdout + proc.stderr
    good = sum(1 for t in desc["tracks"] if not t["broken"])
    for config, per_track in (("12s", 4), ("12s_paper_split", 4), ("clip", 1), ("clip_paper_split", 1)):
        builder = tfds.builder(f"fma_small_logmel/{config}", data_dir=str(tmp_path / "data"))
        assert builder.is_prepared(), config
        assert sum(s.num_examples for s in builder.info.splits.values()) == per_track * good, config
        assert f"building fma_small_logmel/{config}:" in log and "GB on disk" in log  # the plan, printed first


def test_tfds_build_by_name_from_inside_datasets(fma_fixture, tmp_path):
    """The design card's `tfds build fma_small_logmel`: a folder name, from inside datasets/."""
    import tensorflow_datasets as tfds

    from tests.conftest import REPO

    proc = tfds_build(fma_fixture[0], tmp_path, config="clip", builder="fma_small_logmel",
                      cwd=os.path.join(REPO, "datasets"))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert tfds.builder("fma_small_logmel/clip", data_dir=str(tmp_path)).is_prepared()


def test_segment_configuration_refuses_other_lengths(built_dataset):
    from keras_tsr.datasets import pipeline as data

    info = data.dataset_info("fma_small_logmel/12s", str(built_dataset[0]))
    assert data.dataset_geometry(info, "fma_small_logmel/12s").segment_seconds == 12.0
    with pytest.raises(ValueError, match="fma_small_logmel/clip"):
        data.dataset_geometry(info, "fma_small_logmel/12s", segment_seconds=5)


def test_split_pool_works_ahead_across_splits_and_serves_any_order():
    import threading

    from keras_tsr.datasets.build_pool import SplitPool as _SplitPool

    started, gate = [], threading.Event()

    def process(item):
        started.append(item)
        if item == "train-2":  # the train split's last file waits until the next split's files have started
            assert gate.wait(10), "validation files were not started while train's last file ran"
        if item.startswith("validation"):
            gate.set()
        if item == "test-1":
            return [], "broken file", None
        return [item.upper()], None, {"sample_rate": 44100}

    splits = {"train": ["train-0", "train-1", "train-2"], "validation": ["validation-0"], "test": ["test-0", "test-1"]}
    pool = _SplitPool(process, splits, workers=2, ahead=4)
    # out of order: test first still gets test's own files, in order, with their errors
    assert [(item, r[0], r[1]) for item, r in pool.results("test")] == [("test-0", ["TEST-0"], None),
                                                                      ("test-1", [], "broken file")]
    assert [r[0] for _, r in pool.results("train")] == [["TRAIN-0"], ["TRAIN-1"], ["TRAIN-2"]]
    assert [r[0] for _, r in pool.results("validation")] == [["VALIDATION-0"]]
    assert sorted(started) == sorted(sum(splits.values(), []))  # every file processed exactly once
    assert pool._pool is None  # all consumed: the threads are gone


def test_split_pool_stops_its_work_when_the_build_stops():
    from keras_tsr.datasets.build_pool import SplitPool as _SplitPool

    done = []
    pool = _SplitPool(lambda item: (done.append(item), ([item], None, {}))[1],
                      {"train": list(range(100))}, workers=2, ahead=4)
    results = pool.results("train")
    next(results)
    results.close()  # TFDS let go of the split (an error while writing)
    assert pool._pool is None
    assert len(done) <= 1 + 4 + 2  # what was in flight, not the 100


def test_fma_bitrate_fixture_files_are_256_kbps():
    from keras_tsr.data import synth, synth_music

    x = synth_music.render("Rock", 4.0, seed=3)
    data = synth._encode_mp3(np.stack([x, x], 1), 44100, fma_bitrate=True)
    assert 0.95 < len(data) * 8 / 4.0 / 256_000 < 1.08
    assert len(synth._encode_mp3(np.stack([x, x], 1), 44100)) < 0.6 * len(data)  # the demo's files are smaller
