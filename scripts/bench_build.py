"""Benchmark: the fma_small_logmel builder against a naive librosa pipeline, side by side.

    python scripts/bench_build.py [--tracks-per-genre 6] [--workdir DIR]

Writes one synthetic FMA-shaped fixture (keras_tsr.data.synth) at FMA's bit rate
(256 kbps constant; `--workdir` keeps it for the next run), then in one run:
  bound:   reading each mp3 out of the zip (bzip2, as FMA's), decoding and
           resampling it, and nothing else, on all cores (threads, as the
           builder): the most any builder could do on this machine;
  builder: the TFDS builder, 12s configuration (decode once, one STFT per
           clip, threads on all cores), including writing the TFRecords;
  clip:    the same for the clip-level configuration;
  naive:   librosa.load, z-score, slice, librosa.feature.melspectrogram and
           power_to_db per segment, one process, nothing written.
All four run twice: reading the mp3s out of fma_small.zip, as downloaded, and
from the extracted folder (FMA's README has users unzip it; the builder reads
either). Prints the times, tracks per second, disk size of each
configuration, and the ratios last, for both: builder / naive (goal >= 4x),
the bound's own ratio to naive (the ceiling of the first), and builder /
bound (goal >= 70%).
"""

import argparse
import io
import os
import shutil
import tempfile
import time
import warnings
import zipfile

import numpy as np


def naive(manual_dir, seconds=12):
    import librosa

    from keras_tsr.data import fma

    source = fma.FmaSource(manual_dir)
    n = 0
    for t in source.tracks():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                f = source.audio_file(t.track_id)  # a path in the extracted folder, else bytes out of the zip
                y, sr = librosa.load(f if isinstance(f, os.PathLike) else io.BytesIO(f), sr=44100, mono=True)
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
    from keras_tsr.datasets import pipeline as data

    b = data.build(manual_dir, config, data_dir)
    per_track = 1 if config == "clip" else 4
    return sum(s.num_examples for s in b.info.splits.values()) // per_track


def decode_bound(manual_dir):
    """Decode + resample every track on all cores, as the builder's threads do, and nothing else."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from keras_tsr import audio
    from keras_tsr.data import fma

    source = fma.FmaSource(manual_dir)
    tracks = source.tracks()

    def one(t):
        x, sr = audio.decode(source.audio_file(t.track_id))  # what the builder reads
        return len(audio.resample(x, sr))

    with threadpool_limits(1), ThreadPoolExecutor(os.cpu_count()) as pool:
        return sum(1 for _ in pool.map(one, tracks))


def stages(manual_dir, limit=32):
    """Per-track cost of each step on one thread, in ms: where a track's time goes."""
    from threadpoolctl import threadpool_limits

    from keras_tsr import audio
    from keras_tsr.data import fma

    source = fma.FmaSource(manual_dir)
    total = dict.fromkeys(("read", "decode", "resample", "front-end (12s)", "float16"), 0.0)
    tracks = source.tracks()[:limit]
    with threadpool_limits(1):
        for t in tracks:
            t0 = time.perf_counter()
            f = source.audio_file(t.track_id)
            data = f.read_bytes() if isinstance(f, os.PathLike) else f
            t1 = time.perf_counter()
            x, sr = audio.decode(f)
            t2 = time.perf_counter()
            x = audio.resample(x, sr)
            t3 = time.perf_counter()
            feats = audio.clip_features(x, 12.0)
            t4 = time.perf_counter()
            feats.astype(np.float16)
            t5 = time.perf_counter()
            for key, dt in zip(total, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                total[key] += dt
            del data
    return {k: 1000 * v / len(tracks) for k, v in total.items()}


def folder_size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks-per-genre", type=int, default=6)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    from keras_tsr.data import synth

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

    # The same files extracted, as FMA's README has users unzip them (`unzip fma_small.zip`): no bzip2 to inflate.
    extracted = os.path.join(work, "extracted")
    if not os.path.isdir(os.path.join(extracted, "fma_small")):
        with zipfile.ZipFile(os.path.join(manual, "fma_small.zip")) as zf:
            zf.extractall(extracted)
        shutil.copy(os.path.join(manual, "fma_metadata.zip"), extracted)

    def timed(f, *a):
        t0 = time.perf_counter()
        n = f(*a)
        return n, time.perf_counter() - t0

    rows = {}
    for source, folder in (("zip", manual), ("extracted", extracted)):
        data_dir = os.path.join(work, f"data_{time.time_ns()}")
        rows[source] = {"bound": timed(decode_bound, folder), "12s": timed(builder, folder, data_dir),
                        "clip": timed(builder, folder, data_dir, "clip"), "naive": timed(naive, folder)}
        counts = {k: n for k, (n, _) in rows[source].items()}
        assert set(counts.values()) == {n_files}, counts
        rows[source]["sizes"] = {c: folder_size(os.path.join(data_dir, "fma_small_logmel", c)) for c in ("12s", "clip")}
        rows[source]["stages"] = stages(folder)

    print(f"tracks: {n_files} (44.1/48/22.05 kHz, mostly stereo mp3, {kbps:.0f} kbps on average; FMA-small: about "
          f"260), cores: {os.cpu_count()}")
    what = {"bound": "bound: zip/file + decode + resample", "12s": "builder 12s  (tfds, incl. writing)",
            "clip": "builder clip (tfds, incl. writing)", "naive": "naive (librosa per segment, 1 process)"}
    for source, r in rows.items():
        print(f"-- reading the mp3s from {'fma_small.zip (bzip2)' if source == 'zip' else 'the extracted folder'}")
        for key, label in what.items():
            size = f"  {r['sizes'][key] / n_files / 1e6:.2f} MB/track" if key in r["sizes"] else ""
            print(f"   {label:40s} {r[key][1]:7.2f} s  {n_files / r[key][1]:6.2f} tracks/s{size}")
        print("   a track on one thread: " + ", ".join(f"{k} {v:.1f} ms" for k, v in r["stages"].items()))
    z = rows["zip"]
    for name in ("12s", "clip"):
        print(f"projected fma_small (8,000 tracks), {name}, from the zip: {8000 * z[name][1] / n_files / 60:.1f} min "
              f"here, {8000 * z['sizes'][name] / n_files / 1e9:.1f} GB")
    for source, r in rows.items():
        t_bound, t_builder, t_naive = r["bound"][1], r["12s"][1], r["naive"][1]
        print(f"{source:9s}: builder 12s / naive {t_naive / t_builder:.2f}x (goal >= 4x; the bound itself is "
              f"{t_naive / t_bound:.2f}x naive: no builder that decodes every file passes that); builder 12s / bound "
              f"{t_bound / t_builder:.0%} of the bound's throughput (goal >= 70%)")

if __name__ == "__main__":
    main()
