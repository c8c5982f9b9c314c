"""Datasets for training: locate and build fma_small_logmel, load it as batched tf.data pipelines."""

from __future__ import annotations

import logging
import os

import numpy as np

log = logging.getLogger(__name__)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS_DIR = os.path.join(REPO, "datasets")
DEFAULT_DATASET = "fma_small_logmel/12s"
DEMO_TRACKS_PER_GENRE = 30


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
