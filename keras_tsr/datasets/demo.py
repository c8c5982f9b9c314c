"""The built-in demo: synthetic FMA-shaped music written once to the keras-tsr cache folder and built with the
fma_small_logmel builder, for `tsr train --demo`, `tsr demo`, smoke runs and tests (no download)."""

from __future__ import annotations

import logging
import os

from keras_tsr.datasets.source import build, is_prepared
from keras_tsr.defaults import DEMO_TRACKS_PER_GENRE

log = logging.getLogger("keras_tsr.datasets.pipeline")


def cache_dir():
    """Where the built-in demo lives: $KERAS_TSR_CACHE, else ~/.cache/keras_tsr."""
    return os.environ.get("KERAS_TSR_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "keras_tsr"))


def demo_layout(tracks_per_genre=DEMO_TRACKS_PER_GENRE, root=None):
    """(manual_dir, data_dir) of the built-in demo of `tracks_per_genre`: the one place its layout under the cache
    folder is spelled (CACHE/demo_N/manual holds the synthetic zips, CACHE/demo_N/tensorflow_datasets the build)."""
    root = root or os.path.join(cache_dir(), f"demo_{tracks_per_genre}")
    return os.path.join(root, "manual"), os.path.join(root, "tensorflow_datasets")


def demo_dataset(tracks_per_genre=DEMO_TRACKS_PER_GENRE, root=None, config="12s"):
    """Writes (once) the synthetic FMA-shaped demo and builds it with the fma_small_logmel builder.

    Returns the TFDS data_dir holding fma_small_logmel/<config>.
    """
    from keras_tsr.data import synth

    manual, data_dir = demo_layout(tracks_per_genre, root)
    if not os.path.exists(os.path.join(manual, "fma_metadata.zip")):
        log.info("writing the synthetic demo data (%d tracks a genre) to %s", tracks_per_genre, manual)
        # mostly mono: LAME encodes those far faster, and the demo's first run waits for them
        synth.write_fixture(manual + ".partial", tracks_per_genre, seed=2025, overwrite=True, mono_fraction=0.9)
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
