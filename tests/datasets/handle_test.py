"""A built dataset opened once: the DatasetHandle, and the one builder a process keeps while the build's files
stay the same (a training run opened tfds.builder 13 times with tf.data, 16 with Grain; now once)."""

import glob
import os

import pytest

from keras_tsr.datasets import pipeline, source
from keras_tsr.datasets.handle import DatasetHandle

pytestmark = pytest.mark.backend_independent


def test_the_handle_knows_what_training_asks_of_a_build(built_dataset):
    data_dir, desc, _ = built_dataset
    whole = DatasetHandle("fma_small_logmel/12s", str(data_dir), loader="tf")
    assert whole.class_names == sorted(desc["genres"]) and whole.label_map is None and not whole.clip_level
    assert whole.geometry.frames == 512 and whole.geometry.segment_seconds == 12.0
    whole.check()
    assert whole.count_segments("test") == pipeline.count_segments("fma_small_logmel/12s", "test", str(data_dir),
                                                                   loader="tf")
    two = DatasetHandle("fma_small_logmel/12s", str(data_dir), genres=whole.class_names[:2], loader="tf")
    assert two.class_names == whole.class_names[:2] and len(two.label_map) == len(whole.class_names)
    x, y = next(iter(two.load_split("test", 4)))
    assert tuple(x.shape[1:]) == (128, 512) and y.shape[-1] == 2
    assert 0 < two.count_segments("test") < whole.count_segments("test")


def test_a_build_is_opened_once_until_its_files_change(built_dataset, monkeypatch):
    import tensorflow_datasets as tfds

    data_dir = str(built_dataset[0])
    opened = []
    real = tfds.builder
    monkeypatch.setattr(tfds, "builder", lambda *a, **k: opened.append(a) or real(*a, **k))
    source._OPENED.clear()
    first = source.builder("fma_small_logmel/12s", data_dir)
    DatasetHandle("fma_small_logmel/12s", data_dir, loader="tf").count_segments("test")
    assert source.builder("fma_small_logmel/12s", data_dir) is first and len(opened) == 1
    info_file = glob.glob(os.path.join(data_dir, "fma_small_logmel", "12s", "*", "dataset_info.json"))[0]
    st = os.stat(info_file)
    os.utime(info_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # as a rebuild leaves it
    try:
        assert source.builder("fma_small_logmel/12s", data_dir) is not first and len(opened) == 2
    finally:
        os.utime(info_file, ns=(st.st_atime_ns, st.st_mtime_ns))
