"""A build's records, whatever their file format, for both loaders.

keras-tsr builds write ArrayRecord by default (`FILE_FORMAT`): random access, and readable without
TensorFlow through `tfds.data_source`, which the Grain loader (`keras_tsr.datasets.grain_pipeline`) reads.
The tf.data loader reads the same files: TFDS has no tf.data reader for ArrayRecord, so the serialized
records are read in order (or in a seeded order) and parsed by the build's own feature spec inside tf.data
(`tf_examples`). Builds written as TFRecord (`tfds build ... --file_format tfrecord`, or by keras-tsr 0.3)
are read by tf.data as before; the Grain loader refuses them in one line.
"""

from __future__ import annotations

import functools

from keras_tsr.datasets.logmel import FILE_FORMAT  # noqa: F401 - the builds' default, defined with them
from keras_tsr.datasets.source import builder as source_builder
from keras_tsr.errors import KerasTsrError


class LoaderError(KerasTsrError, ValueError):
    """A build the chosen loader cannot read (e.g. a TFRecord build for the TF-free loader)."""


def file_format(info) -> str:
    """"array_record" or "tfrecord": the format a built dataset's records are in."""
    fmt = getattr(info, "file_format", None)
    return getattr(fmt, "value", None) or "tfrecord"


def random_access(info) -> bool:
    return file_format(info) == "array_record"


def require_random_access(dataset, info):
    """LoaderError (one line) for a build the TF-free loader cannot read."""
    if not random_access(info):
        name, _, config = dataset.partition("/")
        raise LoaderError(f"{dataset} is stored as {file_format(info)}; the TensorFlow-free loader reads ArrayRecord "
                          f"builds: rebuild it with `tfds build {name} --imports keras_tsr.datasets"
                          f"{' --config ' + config if config else ''} --file_format array_record --manual_dir DIR "
                          f"--overwrite`, or read it with --loader tf (needs `pip install 'keras-tsr[cpu]'`)")


def source(dataset, split, data_dir, raw=False):
    """A random-access sequence over `split` (any TFDS split expression) of an ArrayRecord build: decoded
    examples (dicts of numpy arrays), or with `raw` the serialized records."""
    import tensorflow_datasets as tfds

    method = tfds.decode.DeserializeMethod.RAW_BYTES if raw else tfds.decode.DeserializeMethod.DESERIALIZE_AND_DECODE
    return source_builder(dataset, data_dir).as_data_source(split=split, deserialize_method=method)


@functools.cache
def _order(n, shuffle, seed):
    import numpy as np

    return np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)


def tf_examples(dataset, split, data_dir, shuffle=False, seed=0, decoders=None):
    """A tf.data.Dataset of decoded examples of `split`, as `tfds.load` gives them, from either file format.

    With `shuffle`, an ArrayRecord build's records come in an order drawn from `seed` (the same every pass,
    as TFDS' file shuffling with a fixed seed is); the shuffle buffer after it reorders each epoch."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    b = source_builder(dataset, data_dir)
    if not random_access(b.info):
        read_config = tfds.ReadConfig(shuffle_seed=seed, shuffle_reshuffle_each_iteration=False) if shuffle else None
        return b.as_dataset(split=split, shuffle_files=shuffle, read_config=read_config, decoders=decoders)
    records = b.as_data_source(split=split, deserialize_method=tfds.decode.DeserializeMethod.RAW_BYTES)
    order = _order(len(records), bool(shuffle), int(seed))

    def serialized():
        for i in order:
            yield records[int(i)]

    ds = tf.data.Dataset.from_generator(serialized, output_signature=tf.TensorSpec((), tf.string))
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(records)))
    features = b.info.features
    return ds.map(functools.partial(features.deserialize_example, decoders=decoders),
                  num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def count_records(path):
    """Records in one ArrayRecord shard; raises OSError/RuntimeError/ValueError for a damaged one."""
    from array_record.python.array_record_module import ArrayRecordReader

    reader = ArrayRecordReader(str(path))
    try:
        n = reader.num_records()
        step = 256
        for start in range(0, n, step):  # reads every record: a damaged chunk fails here
            reader.read(list(range(start, min(n, start + step))))
        return n
    finally:
        reader.close()
