"""Is a built dataset whole? One-line errors for a missing or damaged shard, and a full check of every record.

    tsr check-data fma_small_logmel/12s [--data-dir DIR]

`check(dataset, data_dir)` runs before training and evaluation read a dataset: it always checks that
dataset_info.json reads and that every shard it lists is there with data in it (cheap), and once per set of
files it reads every record (TFRecord's CRCs and the shard lengths dataset_info.json records), leaving a
stamp (`keras_tsr_verified.json`, the files' sizes and times) so later runs skip the read until a file
changes. A damaged dataset raises DatasetDamagedError: the dataset, the file, and the `tfds build ...
--overwrite` command that rebuilds it.
"""

from __future__ import annotations

import json
import logging
import os

from keras_tsr import runtime
from keras_tsr.errors import KerasTsrError
from keras_tsr.utils import write_json_atomic

log = logging.getLogger("keras_tsr.datasets")
STAMP = "keras_tsr_verified.json"


class DatasetDamagedError(KerasTsrError, ValueError):
    """A built dataset whose files are missing, truncated or corrupted."""


def rebuild_command(dataset):
    """The `tfds build ... --overwrite` command that rebuilds `dataset` (NAME/CONFIG)."""
    from keras_tsr.datasets.source import build_command

    name, _, config = dataset.partition("/")
    return build_command(name, config or None, "--manual_dir DIR", "--overwrite")


def _builder(dataset, data_dir):
    from keras_tsr.datasets import source

    try:
        return source.builder(dataset, data_dir)
    except ModuleNotFoundError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure to read the info: the info file is damaged
        raise DatasetDamagedError(f"{dataset} in {data_dir}: its dataset_info.json does not read ({type(e).__name__}: "
                                  f"{str(e).splitlines()[0][:200]}); rebuild it with `{rebuild_command(dataset)}`") from None


def shards(dataset, data_dir):
    """[(split, path, expected examples)] of every shard the dataset's info lists."""
    b = _builder(dataset, data_dir)
    if b.info.file_format is None:  # read from dataset_info.json, so the shards' names carry their suffix
        b.info.set_file_format(None)
    out = []
    for split, info in b.info.splits.items():
        lengths = list(info.shard_lengths) or [None] * len(info.filenames)
        out += [(split, os.path.join(b.data_dir, f), n) for f, n in zip(info.filenames, lengths, strict=True)]
    return out


def _fingerprint(files):
    return {os.path.basename(p): [os.path.getsize(p), int(os.path.getmtime(p))] for _, p, _ in files}


def structure_errors(files):
    """{path: reason} for shards that are missing or empty."""
    errors = {}
    for _, path, n in files:
        if not os.path.exists(path):
            errors[path] = "missing"
        elif os.path.getsize(path) == 0 and n:
            errors[path] = "empty"
    return errors


def record_errors(files, progress=False):
    """{path: reason} for shards with a corrupted or truncated record, or not as many records as recorded."""
    from tqdm.auto import tqdm

    from keras_tsr.datasets import records

    errors = {}
    for _, path, n in tqdm(files, desc="check", unit="shard", disable=not progress):
        if ".array_record-" in os.path.basename(path):
            try:
                count = records.count_records(path)
            except (OSError, RuntimeError, ValueError) as e:
                errors[path] = f"damaged ({str(e).splitlines()[0][:120]})"
                continue
            if n is not None and count != n:
                errors[path] = f"{count} records, dataset_info.json says {n} (truncated or replaced)"
            continue
        tf = runtime.tensorflow()  # a TFRecord shard: TensorFlow reads its CRCs
        count = 0
        try:
            for _ in tf.data.TFRecordDataset(path):
                count += 1
        except (tf.errors.DataLossError, tf.errors.OutOfRangeError) as e:
            errors[path] = f"damaged after {count} records ({str(e).splitlines()[0][:120]})"
            continue
        if n is not None and count != n:
            errors[path] = f"{count} records, dataset_info.json says {n} (truncated or replaced)"
    return errors


def _raise(dataset, errors):
    path, reason = next(iter(errors.items()))
    more = f" (and {len(errors) - 1} more file(s); `tsr check-data {dataset}` lists them)" if len(errors) > 1 else ""
    raise DatasetDamagedError(f"{dataset}: {path} is {reason}{more}; rebuild it with `{rebuild_command(dataset)}`")


def check(dataset, data_dir, full=None):
    """Raises DatasetDamagedError for a missing, empty, truncated or corrupted shard (see the module docstring).

    full: True reads every record, False never does, None reads when the stamp does not match the files.
    """
    files = shards(dataset, data_dir)
    if not files:
        raise DatasetDamagedError(f"{dataset}: no build in {os.path.abspath(data_dir)} (from {os.getcwd()}); build "
                                  f"it with `{rebuild_command(dataset)}`, or run from the folder a relative "
                                  f"data_dir was recorded in")
    errors = structure_errors(files)
    if errors:
        _raise(dataset, errors)
    stamp = os.path.join(os.path.dirname(files[0][1]), STAMP)
    fingerprint = _fingerprint(files)
    if full is None:
        try:
            with open(stamp) as f:
                full = json.load(f) != fingerprint
        except (OSError, ValueError, TypeError):
            full = True
    if full:
        errors = record_errors(files)
        if errors:
            _raise(dataset, errors)
        try:
            write_json_atomic(stamp, fingerprint)
        except OSError as e:  # a read-only data dir: check again next time
            log.debug("could not write %s: %s", stamp, e)
    return files


def report(dataset, data_dir, progress=True):
    """(every shard, {path: reason} of the damaged ones) for `tsr check-data`: reads every record."""
    files = shards(dataset, data_dir)
    errors = structure_errors(files)
    errors.update(record_errors([f for f in files if f[1] not in errors], progress=progress))
    return files, errors


def raise_damaged(dataset, data_dir):
    """After a read failed mid-pipeline (TensorFlow's DataLossError names no file): finds the damaged shard(s)
    and raises DatasetDamagedError naming them."""
    files = shards(dataset, data_dir)
    errors = structure_errors(files)
    errors.update(record_errors([f for f in files if f[1] not in errors]))
    if not errors:
        errors = {os.path.dirname(files[0][1]) if files else data_dir: "unreadable (a record failed to read)"}
    _raise(dataset, errors)
