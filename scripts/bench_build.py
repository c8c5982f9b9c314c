"""Benchmark: the fma_small_logmel builder against a naive librosa pipeline, side by side.

    python scripts/bench_build.py [--tracks-per-genre 6] [--workdir DIR]

Writes one synthetic FMA-shaped fixture (keras_tsr.synth) at FMA's bit rate
(256 kbps constant; `--workdir` keeps it for the next run), then in one run:
  bound:   reading each mp3 out of the zip (bzip2, as FMA's), decoding and
           resampling it, and nothing else, on all cores (threads, as the
           builder): the most any builder could do on this machine;
  builder: the TFDS builder, 12s configuration (decode once, one STFT per
           clip, threads on all cores), including writing the TFRecords;
  clip:    the same for the clip-level configuration;
  naive:   librosa.load, z-score, slice, librosa.feature.melspectrogram and
           power_to_db per segment, one process, nothing written.
Prints the times, tracks per second, disk size of each configuration, and the
ratios last: builder / naive (goal >= 4x) and builder / bound (goal >= 70%).
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


def builder(manual_dir, data_dir, config="12s"):
    from keras_tsr import data

    b = data.build(manual_dir, config, data_dir)
    per_track = 1 if config == "clip" else 4
    return sum(s.num_examples for s in b.info.splits.values()) // per_track


def decode_bound(manual_dir):
    """Decode + resample every track on all cores, as the builder's threads do, and nothing else."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from keras_tsr import audio, fma

    source = fma.FmaSource(manual_dir)
    tracks = source.tracks()

    def one(t):
        x, sr = audio.decode(source.read_audio(t.track_id))
        return len(audio.resample(x, sr))

    with threadpool_limits(1), ThreadPoolExecutor(os.cpu_count()) as pool:
        return sum(1 for _ in pool.map(one, tracks))


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks-per-genre", type=int, default=6)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    from keras_tsr import synth

    work = args.workdir or tempfile.mkdtemp(prefix="bench_build_")
    manual = os.path.join(work, "manual")
    if not os.path.exists(os.path.join(manual, "fma_small.zip")):
        # FMA's bit rate (256 kbps constant): decoding and the zip's bzip2 inflation cost what they do on FMA
        synth.write_fixture(manual, args.tracks_per_genre, broken=False, progress=False, fma_bitrate=True)
    with zipfile.ZipFile(os.path.join(manual, "fma_small.zip")) as zf:
        mp3s = [m for m in zf.infolist() if m.filename.endswith(".mp3")]
    n_files = len(mp3s)
    kbps = 8 * sum(m.file_size for m in mp3s) / n_files / 30 / 1000

    import librosa  # warm numba and imports outside the timings

    librosa.feature.melspectrogram(y=np.zeros(44100, "float32"), sr=44100)
    import tensorflow as tf  # noqa: F401 - TFDS imports it lazily while writing; a one-off cost, not per track
    import tensorflow_datasets  # noqa: F401

    t0 = time.perf_counter()
    n_bound = decode_bound(manual)
    t_bound = time.perf_counter() - t0
    data_dir = os.path.join(work, f"data_{time.time_ns()}")
    t0 = time.perf_counter()
    n_builder = builder(manual, data_dir)
    t_builder = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_clip = builder(manual, data_dir, "clip")
    t_clip = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_naive = naive(manual)
    t_naive = time.perf_counter() - t0
    assert n_builder == n_naive == n_files == n_bound == n_clip, (n_builder, n_naive, n_files, n_bound, n_clip)
    rate = n_builder / t_builder
    sizes = {c: folder_size(os.path.join(data_dir, "fma_small_logmel", c)) for c in ("12s", "clip")}
    print(f"tracks: {n_files} (44.1/48/22.05 kHz, mostly stereo mp3, {kbps:.0f} kbps on average; FMA-small: about "
          f"260), cores: {os.cpu_count()}")
    print(f"bound   (decode + resample, all cores):   {t_bound:7.2f} s  {n_bound / t_bound:6.2f} tracks/s")
    print(f"builder 12s  (tfds, incl. writing):       {t_builder:7.2f} s  {rate:6.2f} tracks/s  "
          f"{sizes['12s'] / n_files / 1e6:.2f} MB/track")
    print(f"builder clip (tfds, incl. writing):       {t_clip:7.2f} s  {n_clip / t_clip:6.2f} tracks/s  "
          f"{sizes['clip'] / n_files / 1e6:.2f} MB/track")
    print(f"naive   (librosa per segment, 1 process): {t_naive:7.2f} s  {n_naive / t_naive:6.2f} tracks/s")
    for name, t, size in (("12s", t_builder, sizes["12s"]), ("clip", t_clip, sizes["clip"])):
        print(f"projected fma_small (8,000 tracks), {name}: {8000 * t / n_files / 60:.1f} min here, "
              f"{8000 * size / n_files / 1e9:.1f} GB")
    print(f"builder 12s / naive: {t_naive / t_builder:.2f}x (goal >= 4x; the bound itself is {t_naive / t_bound:.2f}x "
          f"the naive pipeline here: no builder that decodes every file can pass that)")
    print(f"builder 12s / decode+resample bound: {t_bound / t_builder:.0%} of the bound's throughput (goal >= 70%)")


if __name__ == "__main__":
    main()
