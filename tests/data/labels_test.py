"""A user's multi-label collection: a labels file or the files' own genre tags, and the refusals."""

import json
import os

import numpy as np
import pytest

from keras_tsr.data import labels, synth, synth_folders
from keras_tsr.data.folders import FolderError

pytestmark = pytest.mark.backend_independent


def test_a_labels_csv_gives_each_file_its_genres_first_one_primary(tmp_path):
    made = synth_folders.write_labelled_folder(str(tmp_path), per_genre=3, seconds=(2.0, 3.0))
    files, tags = labels.scan_labelled(str(tmp_path), need_per_genre=1)
    assert tags == made and [f.genre for f in files] == [made[f.relpath][0] for f in files]
    assert any(len(gs) > 1 for gs in tags.values())


@pytest.mark.parametrize("kind", ["json", "tags"])
def test_a_labels_json_and_the_files_own_vorbis_genre_tags_read_the_same(tmp_path, kind):
    made = synth_folders.write_labelled_folder(str(tmp_path), per_genre=3, seconds=(2.0, 3.0),
                                       label_file="labels.json" if kind == "json" else None)
    assert labels.scan_labelled(str(tmp_path), need_per_genre=1)[1] == made
    if kind == "tags":
        first = os.path.join(str(tmp_path), next(n for n, gs in made.items() if len(gs) > 1))
        assert labels.file_tags(first) == made[os.path.basename(first)]


def test_an_id3_tcon_with_several_values_is_several_genres(tmp_path):
    from mutagen.id3 import ID3, TCON

    path = tmp_path / "song.mp3"
    path.write_bytes(synth._encode_mp3(np.zeros(22050, np.float32), 22050))
    tags = ID3()
    tags.add(TCON(encoding=3, text=["Rock", "Punk"]))
    tags.save(str(path))
    assert labels.file_tags(str(path)) == ["Rock", "Punk"]


def test_unknown_files_empty_lists_and_rare_genres_are_refused_in_one_line(tmp_path):
    synth_folders.write_labelled_folder(str(tmp_path), per_genre=3, seconds=(2.0, 3.0))
    csv_path = tmp_path / "labels.csv"
    good = csv_path.read_text()
    csv_path.write_text(good + "missing.flac,Rock\n")
    with pytest.raises(FolderError, match=r"1 listed file\(s\) not found.*missing.flac"):
        labels.scan_labelled(str(tmp_path))
    first, *rest = [line for line in good.splitlines()[1:] if line.startswith("folk 00.flac,")]  # its one row
    assert not rest
    csv_path.write_text(good.replace(first, "folk 00.flac,"))
    with pytest.raises(FolderError, match=r"1 file\(s\) with no genre.*folk 00.flac"):
        labels.scan_labelled(str(tmp_path))
    csv_path.write_text(good.replace(first, first + ";Polka"))
    with pytest.raises(FolderError, match=r"too rare for an 8:1:1 split: Polka \(1\)") as info:
        labels.scan_labelled(str(tmp_path))
    assert "\n" not in str(info.value) and "merge them" in str(info.value)


def test_the_folder_builder_stores_what_the_labels_file_says(tmp_path):
    import tensorflow_datasets as tfds

    from keras_tsr.datasets import BUILDERS

    made = synth_folders.write_labelled_folder(str(tmp_path / "music"), per_genre=6, seconds=(2.0, 3.0))
    builder = BUILDERS["genre_folder_logmel"](config="clip_multilabel", data_dir=str(tmp_path / "data"))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(tmp_path / "music")))
    info = builder.info
    titles = [g["title"] for g in info.metadata["genre_vocabulary"]]
    assert titles == sorted({g for gs in made.values() for g in gs}) and info.metadata["task"] == "multilabel"
    seen = 0
    for split in ("train", "validation", "test"):
        for ex in builder.as_data_source(split):
            want = made[ex["file"].decode() if isinstance(ex["file"], bytes) else ex["file"]]
            np.testing.assert_array_equal(ex["genres"], np.isin(titles, want).astype(np.uint8))
            assert info.features["label"].names[int(ex["label"])] == want[0]
            seen += 1
    assert seen == len(made) == json.loads(json.dumps(len(made)))
