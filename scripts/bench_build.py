"""Benchmark: the fma_small_logmel builder against a naive librosa pipeline, side by side.

    python scripts/bench_build.py [--tracks-per-genre 6] [--workdir DIR]

Writes one synthetic FMA-shaped fixture (keras_tsr.synth), then in one run:
  builder: the TFDS builder (decode once, one batched FFT per clip, threads
           on all cores), including writing the TFRecords;
  naive:   librosa.load, z-score, slice, librosa.feature.melspectrogram and
           power_to_db per segment, one process, nothing written.
Prints both times, the speed-up, tracks per second and the projected build
time of the real FMA-small (8,000 tracks) on this machine.
"""

import argparse
import io
import os
import tempfile
import time
import warnings
import zipfile

import numpy as np


def naive(manual_dir, seconds=12):
    import librosa

    from keras_tsr import fma

    source = fma.FmaSource(manual_dir)
    n = 0
    for t in source.tracks():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y, sr = librosa.load(io.BytesIO(source.read_audio(t.track_id)), sr=44100, mono=True)
        except Exception:  # noqa: BLE001 - broken fixture files
            continue
        if len(y) < fma.min_samples(seconds):
            continue
        y = (y - y.mean()) / (y.std() + 1e-8)
        seg, hop = seconds * sr, seconds * sr // 2
        for i in range(4):
            s = y[i * hop : i * hop + seg]
            s = np.pad(s, (0, seg - len(s)))
            m = librosa.feature.melspectrogram(y=s, sr=sr, n_fft=4096, hop_length=1024, n_mels=128, pad_mode="constant")
            librosa.power_to_db(m, ref=np.max, top_db=80)[:, :512]
        n += 1
    return n


def builder(manual_dir, data_dir):
    from keras_tsr import data

    b = data.build(manual_dir, "12s", data_dir)
    return sum(s.num_examples for s in b.info.splits.values()) // 4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks-per-genre", type=int, default=6)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    from keras_tsr import synth

    work = args.workdir or tempfile.mkdtemp(prefix="bench_build_")
    manual = os.path.join(work, "manual")
    if not os.path.exists(os.path.join(manual, "fma_small.zip")):
        synth.write_fixture(manual, args.tracks_per_genre, broken=False, progress=False)
    n_files = sum(1 for m in zipfile.ZipFile(os.path.join(manual, "fma_small.zip")).namelist() if m.endswith(".mp3"))

    import librosa  # warm numba and imports outside the timings

    librosa.feature.melspectrogram(y=np.zeros(44100, "float32"), sr=44100)
    import tensorflow as tf  # noqa: F401 - TFDS imports it lazily while writing; a one-off cost, not per track
    import tensorflow_datasets  # noqa: F401

    t0 = time.perf_counter()
    n_builder = builder(manual, os.path.join(work, f"data_{time.time_ns()}"))
    t_builder = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_naive = naive(manual)
    t_naive = time.perf_counter() - t0
    assert n_builder == n_naive == n_files, (n_builder, n_naive, n_files)
    rate = n_builder / t_builder
    print(f"tracks: {n_files} (44.1/48/22.05 kHz, mostly stereo mp3), cores: {os.cpu_count()}")
    print(f"naive   (librosa per segment, 1 process): {t_naive:7.2f} s  {n_naive / t_naive:6.2f} tracks/s")
    print(f"builder (tfds, incl. writing TFRecords):   {t_builder:7.2f} s  {rate:6.2f} tracks/s")
    print(f"speed-up: {t_naive / t_builder:.2f}x")
    print(f"projected fma_small (8,000 tracks) build here: {8000 / rate / 60:.1f} min")


if __name__ == "__main__":
    main()
