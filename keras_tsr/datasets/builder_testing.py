"""The TFDS test harness for keras-tsr's builders (their `*_dataset_builder_test.py` files).

TFDS' `DatasetBuilderTestCase` reads what it built through tf.data (`as_dataset`), which has no ArrayRecord
reader, so the harness builds TFRecord; the ArrayRecord default, and reading it without TensorFlow, are tested
in tests/data and tests/datasets.
"""

import tensorflow_datasets as tfds


class BuilderTestCase(tfds.testing.DatasetBuilderTestCase):
    def _make_builder(self, config=None):
        return self.dataset_class(data_dir=self.tmp_dir, config=config, version=self.VERSION, file_format="tfrecord")
