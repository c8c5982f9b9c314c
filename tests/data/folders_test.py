"""Your own music: scanning genre folders (GTZAN's layouts, a user's), splits by file, the folder builder."""

import os

import pytest

from keras_tsr.data import folders, synth_folders

pytestmark = pytest.mark.backend_independent


@pytest.fixture(scope="module")
def gtzan(tmp_path_factory):
    d = tmp_path_factory.mktemp("gtzan")
    made = synth_folders.write_genre_folder(str(d), genres=("Blues", "Jazz", "Rock"), per_genre=10, seconds=(5.0, 31.0),
                                    layout="gtzan", seed=2)
    return d, made


@pytest.fixture(scope="module")
def user_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("my music")
    made = synth_folders.write_genre_folder(str(d), per_genre=4, seconds=(2.0, 8.0), seed=3)
    return d, made


def test_gtzan_layout_is_recognised(gtzan):
    d, made = gtzan
    files = folders.scan(d)
    assert folders.genre_root(d).endswith("genres")
    assert folders.genres(files) == ["blues", "jazz", "rock"]
    assert len(files) == len(made) == 31  # 30 clips and one corrupt file
    assert {os.path.splitext(f.relpath)[1] for f in files} == {".au", ".wav"}
    assert [f.file_id for f in files] == list(range(31))


def test_user_layout_nested_and_unicode(user_folder):
    d, made = user_folder
    files = folders.scan(d)
    rels = {f.relpath for f in files}
    assert rels == set(made)
    assert any("live sets" in r for r in rels) and any("été" in r for r in rels)
    assert folders.genres(files) == ["Folk", "Hip-Hop", "Rock"]


def test_folder_errors_are_clear(tmp_path):
    with pytest.raises(folders.FolderError, match="does not exist"):
        folders.scan(tmp_path / "nope")
    (tmp_path / "only" / "rock").mkdir(parents=True)
    (tmp_path / "only" / "rock" / "a.wav").write_bytes(b"x")
    with pytest.raises(folders.FolderError, match="at least two"):
        folders.scan(tmp_path / "only")


def test_splits_are_by_file_and_stratified(gtzan):
    files = folders.scan(gtzan[0])
    split = folders.stratified_split(files, seed=1)
    ids = [{f.file_id for f in v} for v in split.values()]
    assert sum(map(len, ids)) == len(files) and not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    for genre in folders.genres(files):
        assert sum(f.genre == genre for f in split["test"]) >= 1
    assert folders.stratified_split(files, seed=1) == split  # seeded
    folds = folders.stratified_folds(files)
    assert sorted(f.file_id for v in folds.values() for f in v) == list(range(len(files)))
    assert max(map(len, folds.values())) - min(map(len, folds.values())) <= 1


@pytest.mark.parametrize("k", [5, 10])
def test_cv_splits_partition_the_folds(k):
    seen = []
    for fold in range(k):
        s = folders.cv_splits(fold, k, protocol="val_fold")
        parts = [set(s[name].split("+")) for name in ("train", "validation", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert set().union(*parts) == {f"fold{j}" for j in range(10)}
        assert len(parts[0]) == 10 - 2 * 10 // k
        seen.append(s["test"])
        fixed = folders.cv_splits(fold, k)  # the default: every other fold trains, no validation split
        assert fixed["validation"] is None and fixed["test"] == s["test"]
        assert set(fixed["train"].split("+")) == parts[0] | parts[1]
    assert len(set(seen)) == k
    with pytest.raises(ValueError, match="folds"):
        folders.cv_splits(0, 3)
    with pytest.raises(ValueError, match="validation fold"):
        folders.cv_splits(0, 2, protocol="val_fold")


def test_list_split_matches_by_file_name(gtzan, tmp_path):
    d, _ = gtzan
    files = folders.scan(d)
    lists = {"train.txt": files[:20], "valid.txt": files[20:25], "test.txt": files[25:]}
    for name, fs in lists.items():
        (d / name).write_text("".join(f"{f.relpath.replace('.au', '.wav')}\n" for f in fs))
    split = folders.list_split(files, d)
    assert [len(split[k]) for k in ("train", "validation", "test")] == [20, 5, 6]
    (d / "test.txt").write_text("jazz/jazz.00099.wav\n")
    with pytest.raises(folders.FolderError, match="not found"):
        folders.list_split(files, d)
    for name in lists:
        os.remove(d / name)


def test_folder_builder_on_a_users_collection(user_folder, tmp_path):
    import tensorflow_datasets as tfds

    from tests.conftest import REPO, tfds_build

    d, made = user_folder
    proc = tfds_build(d, tmp_path, config="clip", builder=os.path.join(REPO, "datasets", "genre_folder_logmel"))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    builder = tfds.builder("genre_folder_logmel/clip", data_dir=str(tmp_path))
    assert builder.info.features["label"].names == ["Folk", "Hip-Hop", "Rock"]
    dropped = builder.info.metadata["dropped_tracks"]
    assert len(dropped) == 1 and "broken 0.wav" in next(iter(dropped.values()))
    kept = sum(s.num_examples for s in builder.info.splits.values())
    assert kept == len(made) - 1
    files = {ex["file"].decode() for split in builder.info.splits for ex in builder.as_data_source(split)}
    assert files == {r for r in made if "broken" not in r}
