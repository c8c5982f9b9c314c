"""A damaged build, as it happens on disk: flipped bytes in a shard, a truncated shard, a removed shard, a
dataset_info.json that does not match its files. Each gives one line at the first read, naming the dataset,
the file and the rebuild command; `tsr check-data` lists the damaged files."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from keras_tsr.datasets import verify

pytestmark = pytest.mark.backend_independent
DATASET = "fma_small_logmel/12s"


@pytest.fixture
def copy(built_dataset, tmp_path):
    data_dir = tmp_path / "tfds"
    shutil.copytree(built_dataset[0] / "fma_small_logmel" / "12s", data_dir / "fma_small_logmel" / "12s")
    version = next((data_dir / "fma_small_logmel" / "12s").iterdir())
    (version / verify.STAMP).unlink(missing_ok=True)
    return data_dir, version


def _train_shard(version):
    return sorted(p for p in version.iterdir() if "-train.array_record" in p.name)[0]


def _flip(path):
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid: mid + 2000] = bytes(b ^ 0xFF for b in data[mid: mid + 2000])
    path.write_bytes(bytes(data))


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 3)


def _remove(path):
    path.unlink()


@pytest.mark.parametrize("damage,reason", [(_flip, "damaged"), (_truncate, "damaged|records,"),
                                           (_remove, "missing")])
def test_damage_is_one_line_naming_the_file_and_the_rebuild(copy, damage, reason):
    data_dir, version = copy
    shard = _train_shard(version)
    assert verify.check(DATASET, str(data_dir))  # whole: passes, and leaves its stamp
    assert (version / verify.STAMP).exists()
    damage(shard)
    with pytest.raises(verify.DatasetDamagedError) as e:
        verify.check(DATASET, str(data_dir))
    message = str(e.value)
    assert "\n" not in message and shard.name in message and DATASET in message
    assert "tfds build fma_small_logmel --imports keras_tsr.datasets --config 12s" in message and "--overwrite" in message
    assert __import__("re").search(reason, message), message


def test_a_dataset_info_that_does_not_match_its_files(copy):
    data_dir, version = copy
    info = json.loads((version / "dataset_info.json").read_text())
    for split in info["splits"]:
        split["shardLengths"] = [str(int(n) + 1) for n in split["shardLengths"]]
    (version / "dataset_info.json").write_text(json.dumps(info))
    with pytest.raises(verify.DatasetDamagedError, match="dataset_info.json says"):
        verify.check(DATASET, str(data_dir))
    (version / "dataset_info.json").write_text("{not json")
    with pytest.raises(verify.DatasetDamagedError, match="dataset_info.json does not read"):
        verify.check(DATASET, str(data_dir))


def test_train_stops_at_once_and_check_data_lists_the_damaged_files(copy, tmp_path):
    data_dir, version = copy
    _flip(_train_shard(version))
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    train = subprocess.run([sys.executable, "-m", "keras_tsr", "train", "--dataset", DATASET, "--data-dir",
                            str(data_dir), "--preset", "debug", "--epochs", "1", "--workdir", str(tmp_path / "run")],
                           capture_output=True, text=True, env=env, timeout=600)
    assert train.returncode == 2 and "Traceback" not in train.stderr, train.stderr[-3000:]
    assert train.stderr.strip().splitlines()[-1].startswith("error: fma_small_logmel/12s: ")
    assert not (tmp_path / "run" / "log.csv").exists()  # stopped before the first step
    check = subprocess.run([sys.executable, "-m", "keras_tsr", "check-data", DATASET, "--data-dir", str(data_dir)],
                           capture_output=True, text=True, env=env, timeout=600)
    assert check.returncode == 1, check.stderr[-3000:]
    assert check.stderr.count("damaged: ") == 1 and "rebuild it with" in check.stderr


def test_a_data_dir_without_the_build_is_one_line(tmp_path):
    """A data_dir that holds no build (a relative path recorded elsewhere, a moved folder): one line naming the
    folder and the build command, not a crash on the missing stamp's path."""
    with pytest.raises(verify.DatasetDamagedError, match="no build in") as e:
        verify.check(DATASET, str(tmp_path / "nowhere"))
    assert "tfds build" in str(e.value) and "\n" not in str(e.value)
