"""Datasets for training: locate and build fma_small_logmel, load it as batched tf.data pipelines."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS_DIR = os.path.join(REPO, "datasets")
DEFAULT_DATASET = "fma_small_logmel/12s"
DEMO_TRACKS_PER_GENRE = 40  # 320 demo tracks: 32 test tracks, 4 a genre


def builder_class():
    """The fma_small_logmel Builder class, imported the way `tfds build datasets/fma_small_logmel` does."""
    import tensorflow_datasets as tfds

    if not os.path.isdir(os.path.join(DATASETS_DIR, "fma_small_logmel")):
        raise FileNotFoundError(f"{DATASETS_DIR}/fma_small_logmel not found: run keras-tsr from its source checkout")
    with tfds.core.utils.add_sys_path(DATASETS_DIR):
        return tfds.core.community.builder_cls_from_module("fma_small_logmel.fma_small_logmel_dataset_builder")


def build(manual_dir, config="12s", data_dir=None, beam_options=None):
    """Builds fma_small_logmel/<config> from `manual_dir` (what `tfds build` does); returns the builder."""
    import tensorflow_datasets as tfds

    b = builder_class()(config=config, data_dir=data_dir)
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir,
                                                                        beam_options=beam_options))
    return b


def default_data_dir():
    return os.environ.get("TFDS_DATA_DIR", os.path.join(os.path.expanduser("~"), "tensorflow_datasets"))


def cache_dir():
    """Where the built-in demo lives: $KERAS_TSR_CACHE, else ~/.cache/keras_tsr."""
    return os.environ.get("KERAS_TSR_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "keras_tsr"))


def is_prepared(dataset, data_dir):
    """Whether `dataset` ("name/config") has been built into `data_dir`."""
    import tensorflow_datasets as tfds

    name, _, config = dataset.partition("/")
    if name == "fma_small_logmel":
        builder_class()  # registers the builder so tfds can read its info
    root = os.path.join(data_dir, name, config) if config else os.path.join(data_dir, name)
    if not os.path.isdir(root):
        return False
    try:
        return tfds.builder(dataset, data_dir=data_dir).is_prepared()
    except Exception:  # noqa: BLE001 - any failure to read the info means "not usable"
        return False


def demo_dataset(tracks_per_genre=DEMO_TRACKS_PER_GENRE, root=None, config="12s"):
    """Writes (once) the synthetic FMA-shaped demo and builds it with the fma_small_logmel builder.

    Returns the TFDS data_dir holding fma_small_logmel/<config>.
    """
    from keras_tsr import synth

    root = root or os.path.join(cache_dir(), f"demo_{tracks_per_genre}")
    manual, data_dir = os.path.join(root, "manual"), os.path.join(root, "tensorflow_datasets")
    if not os.path.exists(os.path.join(manual, "fma_metadata.zip")):
        log.info("writing the synthetic demo data (%d tracks a genre) to %s", tracks_per_genre, manual)
        synth.write_fixture(manual + ".partial", tracks_per_genre, seed=2025, overwrite=True)
        os.replace(manual + ".partial", manual)
    if not is_prepared(f"fma_small_logmel/{config}", data_dir):
        import contextlib
        import io

        import tensorflow_datasets as tfds

        log.info("building fma_small_logmel/%s from the demo data into %s", config, data_dir)
        tfds.disable_progress_bar()  # the builder's own per-split bars remain
        with contextlib.redirect_stdout(io.StringIO()):  # TFDS' "Downloading and preparing ..." lines
            build(manual, config, data_dir)
    return data_dir


def genre_subset(all_names, genres):
    """(class names, label map) for training on `genres` only; ([all names], None) when `genres` is empty.

    The label map sends each dataset label to its index among `genres` (in
    the dataset's order), or -1 for the genres left out.
    """
    if not genres:
        return list(all_names), None
    unknown = sorted(set(genres) - set(all_names))
    if unknown:
        raise ValueError(f"--genres {', '.join(unknown)}: not in the dataset. Its genres: {', '.join(all_names)}")
    kept = [n for n in all_names if n in set(genres)]
    if len(kept) < 2:
        raise ValueError(f"--genres needs at least two genres. Received: {list(genres)}")
    return kept, [kept.index(n) if n in kept else -1 for n in all_names]


def load_split(dataset, split, data_dir, batch_size, num_classes, shuffle=False, seed=0, with_ids=False,
               drop_remainder=False, label_map=None):
    """A batched tf.data pipeline of (log_mel float32 (batch, mels, frames), one-hot label).

    With `with_ids`, yields (log_mel, one-hot, track_id) for track-level evaluation.
    With `label_map` (see `genre_subset`), keeps only the mapped genres and relabels them.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    read_config = tfds.ReadConfig(shuffle_seed=seed) if shuffle else None
    ds = tfds.load(dataset, split=split, data_dir=data_dir, shuffle_files=shuffle, read_config=read_config)

    if label_map is not None:
        mapping = tf.constant(label_map, tf.int64)
        ds = ds.filter(lambda ex: tf.gather(mapping, ex["label"]) >= 0)

    def convert(ex):
        x = tf.cast(ex["log_mel"], tf.float32)
        label = ex["label"] if label_map is None else tf.gather(mapping, ex["label"])
        y = tf.one_hot(label, num_classes)
        return (x, y, ex["track_id"]) if with_ids else (x, y)

    if shuffle:
        ds = ds.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(convert, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def dataset_info(dataset, data_dir):
    import tensorflow_datasets as tfds

    if dataset.startswith("fma_small_logmel"):
        builder_class()
    return tfds.builder(dataset, data_dir=data_dir).info


def dataset_geometry(info, dataset="the dataset"):
    """The front-end geometry a built dataset records in `info.metadata["geometry"]`."""
    from keras_tsr import audio

    recorded = (info.metadata or {}).get("geometry")
    if not recorded:
        raise ValueError(f"{dataset} records no front-end geometry (built by an older keras-tsr?): rebuild it "
                         f"with `tfds build datasets/fma_small_logmel --overwrite ...`")
    geometry = audio.Geometry.from_dict(recorded, source=dataset)
    stored = tuple(info.features["log_mel"].shape)
    if stored != (geometry.n_mels, geometry.frames):
        raise ValueError(f"{dataset}: log_mel is {stored}, but its geometry gives {(geometry.n_mels, geometry.frames)}")
    return geometry
