"""What a built dataset is, for both loaders: its builder and info, its geometry, whether it stores whole clips,
how a split is cached, and which epoch a pass draws its randomness for.

`keras_tsr.datasets.pipeline` (tf.data) and `keras_tsr.datasets.grain_pipeline` (Grain) read builds through
these; neither imports the other's reading code.
"""

from __future__ import annotations

import logging
import os
import threading

from keras_tsr import runtime
from keras_tsr.errors import ArgumentError

log = logging.getLogger("keras_tsr.datasets.pipeline")


def builder_class(name="fma_small_logmel"):
    """The Builder class of one of keras-tsr's datasets (`keras_tsr.datasets.BUILDERS`)."""
    from keras_tsr.datasets import BUILDERS

    if name not in BUILDERS:
        raise ArgumentError(f"{name} is not one of keras-tsr's datasets: {', '.join(BUILDERS)}")
    return BUILDERS[name]


def build_command(name, config=None, *args):
    """The `tfds build` command line that builds <name>[/<config>], from any folder."""
    parts = ["tfds build", name, "--imports keras_tsr.datasets"] + ([f"--config {config}"] if config else [])
    return " ".join(parts + list(args))


def register():
    """Registers keras-tsr's builders with TFDS (importing them), so tfds can read a built dataset's info."""
    import keras_tsr.datasets  # noqa: F401


CACHE_MEMORY_FRACTION = 0.25  # cache="auto" keeps a split in memory when it takes at most this share of the RAM


def cache_plan(cache, info, split, factor=1.0, when="after its first epoch"):
    """"memory", None or a folder, for load_split's `cache` ("auto", "memory", "none"/None, or a folder); what is
    cached takes `factor` times the split's stored bytes; `when` says in the log when it is filled."""
    if cache in (None, "none"):
        return None
    if cache != "auto":
        return cache
    try:
        size = sum(info.splits[s.strip()].num_bytes for s in str(split).split("+"))
    except (KeyError, ValueError, TypeError):  # a split expression (train[:50%], folds): size from the whole build
        size = sum(s.num_bytes for s in info.splits.values())
    size = int(size * factor)
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if size <= CACHE_MEMORY_FRACTION * ram:
        log.info("caching %s (%.2f GB) in memory %s", split, size / 1e9, when)
        return "memory"
    log.info("%s (%.1f GB) does not fit in a quarter of this machine's memory: read from its records every epoch "
             "(load_split(cache=FOLDER) caches it on disk)", split, size / 1e9)
    return None


class EpochCounter:
    """Which pass over the training data a pipeline of `load_split` draws its randomness for.

    Each pass (an iterator over the dataset) takes the counter's value and adds one, so iterating a pipeline
    again reshuffles and redraws; the training loop sets it to the epoch about to run
    (`keras_tsr.train.callbacks.EpochRandomness`), so epoch k sees the same order, crops, masks and mixup
    pairs whether the run went straight through or resumed at epoch k after a kill. tf.data reads it as a
    variable inside its graph (`take`), Grain as a Python int (`take_next`).
    """

    def __init__(self, start=0):
        self.value = int(start)
        self._variable = None
        self._lock = threading.Lock()

    @property
    def variable(self):
        if self._variable is None:
            tf = runtime.tensorflow()
            self._variable = tf.Variable(self.value, dtype=tf.int64, trainable=False, name="epoch")
        return self._variable

    def set(self, epoch):
        with self._lock:
            self.value = int(epoch)
        if self._variable is not None:
            self._variable.assign(int(epoch))

    def take(self):
        """(in a tf.data function) this pass's epoch; the next pass gets the one after."""
        return self.variable.assign_add(1) - 1

    def take_next(self):
        """(Python, the Grain loader) this pass's epoch; the next pass gets the one after."""
        with self._lock:
            self.value += 1
            return self.value - 1


_OPENED = {}  # (dataset, data_dir) -> (the build's info files' (path, mtime, size), its builder)


def builder(dataset, data_dir):
    """tfds.builder of one of keras-tsr's datasets ("name/config") in `data_dir`, the builders registered first.

    A built dataset is opened once a process: the builder is kept while the build's dataset_info.json files are
    the same files (same modification time and size), so the checks, counts, geometry and readers of a
    training run share one (a build or rebuild in between opens it afresh)."""
    import glob

    import tensorflow_datasets as tfds

    register()
    key = (dataset, os.path.abspath(os.fspath(data_dir)) if data_dir else None)
    name, _, config = dataset.partition("/")
    pattern = os.path.join(key[1] or "", name, config or "", "*", "dataset_info.json")
    stamp = tuple((f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in sorted(glob.glob(pattern))) \
        if key[1] else ()
    cached = _OPENED.get(key)
    if stamp and cached is not None and cached[0] == stamp:
        return cached[1]
    opened = tfds.builder(dataset, data_dir=data_dir)
    if stamp:
        _OPENED[key] = (stamp, opened)
    return opened


def dataset_info(dataset, data_dir):
    return builder(dataset, data_dir).info


def is_clip_level(info):
    """Whether a built dataset stores whole clips (segments are cut at load time)."""
    return bool((info.metadata or {}).get("clip_level"))


def dataset_geometry(info, dataset="the dataset", segment_seconds=None, overlap=None):
    """The front-end geometry of a built dataset (recorded in `info.metadata["geometry"]`).

    A segment configuration fixes segment_seconds and overlap; asking for
    others is an error that names the clip-level configuration. A clip-level
    one takes them (default 12 s at 50%).
    """
    from keras_tsr import audio

    recorded = dict((info.metadata or {}).get("geometry") or {})
    if not recorded:
        raise ArgumentError(f"{dataset} records no front-end geometry (built by an older keras-tsr?): rebuild it "
                         f"with `{build_command(*dataset.partition('/')[::2], '--manual_dir DIR --overwrite')}`")
    if is_clip_level(info):
        recorded["segment_seconds"] = float(segment_seconds or audio.SEGMENT_SECONDS)
        recorded["overlap"] = float(audio.OVERLAP if overlap is None else overlap)
        recorded.pop("frames", None)
        return audio.Geometry.from_dict(recorded, source=dataset)
    geometry = audio.Geometry.from_dict(recorded, source=dataset)
    if (segment_seconds is not None and float(segment_seconds) != geometry.segment_seconds) or (
            overlap is not None and float(overlap) != geometry.overlap):
        name = dataset.partition("/")[0]
        raise ArgumentError(f"{dataset} holds {geometry.segment_seconds:g} s segments at {geometry.overlap:.0%} overlap; "
                         f"other lengths or overlaps need the clip-level build: --dataset {name}/clip "
                         f"(`{build_command(name, 'clip', '--manual_dir DIR')}`)")
    stored = tuple(info.features["log_mel"].shape)
    if stored != (geometry.n_mels, geometry.frames):
        raise ArgumentError(f"{dataset}: log_mel is {stored}, but its geometry gives {(geometry.n_mels, geometry.frames)}")
    return geometry


def build(manual_dir, config="12s", data_dir=None, beam_options=None, name="fma_small_logmel", file_format=None):
    """Builds <name>/<config> from `manual_dir` (what `tfds build` does); returns the builder. The records are
    ArrayRecord unless `file_format` says "tfrecord" (`keras_tsr.datasets.records`)."""
    import tensorflow_datasets as tfds

    b = builder_class(name)(config=config, data_dir=data_dir)
    b.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir,
                                                                        beam_options=beam_options),
                           file_format=file_format)
    return b


def default_data_dir():
    return os.environ.get("TFDS_DATA_DIR", os.path.join(os.path.expanduser("~"), "tensorflow_datasets"))


def is_prepared(dataset, data_dir):
    """Whether `dataset` ("name/config") has been built into `data_dir`."""
    name, _, config = dataset.partition("/")
    root = os.path.join(data_dir, name, config) if config else os.path.join(data_dir, name)
    if not os.path.isdir(root):
        return False
    try:
        return builder(dataset, data_dir).is_prepared()
    except Exception:  # noqa: BLE001 - any failure to read the info means "not usable"
        return False
