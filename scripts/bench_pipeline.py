"""Does the input pipeline outrun the training step? Segments per second per core that `load_split` delivers,
beside the compiled training step's own rate at the same batch, in one run.

    python scripts/bench_pipeline.py [--tracks-per-genre 40] [--preset ts_resformer] [--seconds 4] [--quick]

Data: the built-in demo (FMA-shaped synthetic audio, --tracks-per-genre a genre) built as fma_small_logmel/12s
and /clip (once, cached). For every configuration (the 12s build; the clip build cut at 12 s and at 3 s; each
without augmentation, with the small_data recipe (random crops), and with every augmentation on (random crops,
SpecAugment masks, gain, shift, mixup); without and with the in-memory cache; at batch 32 and 256) the train
split's pipeline is iterated as training iterates it (one iterator running pass after pass,
`load_split(stream=...)`) for at least --seconds (whole passes; the first pass, which fills a cache, is not
timed), and its rate divided by the cores tf.data may use is printed. Then the training step of --preset
(`train_on_batch` under JAX, compiled, random data of each segment length) at each batch. Last: the slowest
configuration's rate per core against the 1,000 segments/s goal, and each pipeline / step ratio.

With --compare-unfused, every configuration whose batches go through the XLA-compiled batch arithmetic
(`load_split(fuse=False)`: masks, gain, shift or mixup) is also run with the same
operations one at a time, alternating with the fused run, and the ratio fused / unfused is printed beside it.
With --compare-per-epoch, every configuration is also iterated with a new iterator each epoch (as training
did before the stream), alternating, and the ratio stream / per-epoch is printed.
"""

import argparse
import os
import time

AUGMENTS = {"none": {}, "small_data": {"random_crop": True},
            "all": {"random_crop": True, "freq_masks": 2, "freq_mask_width": 16, "time_masks": 2,
                    "time_mask_width": 32, "gain_db": 6.0, "time_shift": 0.1, "mixup_alpha": 0.2}}


def pipeline_rate(data, data_dir, dataset, seconds_cut, augment, cache, batch, min_seconds, fused=True,
                  stream=True, loader="tf"):
    from keras_tsr.datasets.augment import Augment

    info = data.dataset_info(dataset, data_dir)
    geometry = data.dataset_geometry(info, dataset, seconds_cut if seconds_cut else None)
    aug = Augment(**AUGMENTS[augment]) if augment != "none" else None
    batches = -(-data.count_segments(dataset, "train", data_dir, geometry=geometry) // batch)
    stream = stream and loader == "tf"  # Grain: a new iterator each epoch, as training's PyDataset opens one
    ds = data.load_split(dataset, "train", data_dir, batch, len(info.features["label"].names), shuffle=True,
                         augment=aug, geometry=geometry, cache="memory" if cache else "none",
                         stream=batches if stream else None, loader=loader, fuse=fused)
    if stream:  # as training iterates it: one iterator, pass after pass
        it = iter(ds)
        take = lambda: (next(it) for _ in range(batches))  # noqa: E731 - one pass of the endless iterator
    else:  # a new iterator each epoch
        take = lambda: iter(ds)  # noqa: E731
    for _ in take():  # the first pass: fills the cache, warms the threads
        pass
    n, start, epochs = 0, time.perf_counter(), 0
    while time.perf_counter() - start < min_seconds or epochs < 2:
        for x, _ in take():
            n += int(x.shape[0])
        epochs += 1
    return n / (time.perf_counter() - start), geometry.frames


def step_rate(preset, frames, batch, classes, steps=3):
    import keras
    import numpy as np

    from keras_tsr.models import GenreClassifier

    model = GenreClassifier.from_preset(preset, num_classes=classes, num_frames=frames)
    rng = np.random.default_rng(0)
    x = rng.uniform(-80, 0, (batch, 128, frames)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, classes, batch), classes)
    model.train_on_batch(x, y)  # compiles
    start = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(x, y)[0]
    loss = float(np.asarray(loss))  # waits for the device
    rate = steps * batch / (time.perf_counter() - start)
    if not np.isfinite(loss):
        raise RuntimeError(f"the {preset} step at batch {batch}, {frames} frames gave a non-finite loss {loss}")
    keras.backend.clear_session()
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tracks-per-genre", type=int, default=40)
    parser.add_argument("--preset", default="ts_resformer", help="the model whose training step is timed")
    parser.add_argument("--loaders", nargs="+", default=["tf", "grain"], choices=["tf", "grain"],
                        help="the loaders measured side by side (Grain: keras_tsr.datasets.grain_pipeline)")
    parser.add_argument("--seconds", type=float, default=4.0, help="least time a configuration is iterated")
    parser.add_argument("--quick", action="store_true", help="batch 32 only, the step at 3 s only (a smoke run)")
    parser.add_argument("--compare-unfused", action="store_true",
                        help="also run each configuration with the batch arithmetic not compiled (before/after)")
    parser.add_argument("--compare-per-epoch", action="store_true",
                        help="also iterate each configuration with a new iterator each epoch (before/after)")
    args = parser.parse_args()
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from keras_tsr import runtime
    from keras_tsr.datasets import pipeline as data

    runtime.setup("jax")
    cores = len(os.sched_getaffinity(0))
    tf_threads = runtime.tensorflow().config.threading.get_inter_op_parallelism_threads() or cores \
        if "tf" in args.loaders else "-"
    data_dir = data.demo_dataset(args.tracks_per_genre, config="12s")
    data.demo_dataset(args.tracks_per_genre, config="clip")
    batches = (32,) if args.quick else (32, 256)
    rows = []
    for dataset, cut in (("fma_small_logmel/12s", None), ("fma_small_logmel/clip", 12.0), ("fma_small_logmel/clip", 3.0)):
        for augment in AUGMENTS:
            if augment != "none" and cut is None:
                continue  # random crops need the clip level; the 12s build trains without augmentation
            for cache in (False, True):
                for batch in batches:
                    config = (data, data_dir, dataset, cut, augment, cache, batch, args.seconds)
                    compare = None  # (the pipeline_rate switch that is on after, its name before)
                    if args.compare_unfused and augment == "all":
                        compare = "fused", "unfused"
                    elif args.compare_per_epoch:
                        compare = "stream", "per-epoch"
                    if compare:  # before, after, before, after: each rate the mean of its two
                        runs = [pipeline_rate(*config, **{compare[0]: k % 2 == 1}) for k in range(4)]
                        rate, frames = (runs[1][0] + runs[3][0]) / 2, runs[1][1]
                        before = (runs[0][0] + runs[2][0]) / 2
                    else:
                        rate, frames = pipeline_rate(*config, loader=args.loaders[0])
                    name = f"{dataset.split('/')[1]}{'' if cut is None else f' cut {cut:g} s'}"
                    rows.append((name, augment, cache, batch, rate, frames))
                    others = {lo: pipeline_rate(*config, loader=lo)[0] for lo in args.loaders[1:]}
                    for lo, r in others.items():
                        rows.append((f"{name} ({lo})", augment, cache, batch, r, frames))
                    side = "".join(f"; {lo} {r:8.0f} segments/s, {r / cores:7.0f} per core, {lo} / "
                                   f"{args.loaders[0]} {r / rate:.2f}x" for lo, r in others.items())
                    print(f"pipeline {name:14s} augment {augment:10s} cache {'memory' if cache else 'none  '} "
                          f"batch {batch:3d}: {args.loaders[0]} {rate:8.0f} segments/s, {rate / cores:7.0f} per core"
                          + side + (f" ({compare[1]} {before / cores:5.0f} per core: {compare[0]} / {compare[1]} "
                                    f"{rate / before:.2f}x)" if compare else ""), flush=True)
    steps = {}
    for frames in sorted({r[5] for r in rows}):
        if args.quick and frames != min(r[5] for r in rows):
            continue
        for batch in batches:
            try:
                steps[(frames, batch)] = step_rate(args.preset, frames, batch, 8)
            except Exception as e:  # noqa: BLE001 - XLA's out-of-memory is a JaxRuntimeError
                if "memory" not in str(e).lower():
                    raise
                print(f"step     {args.preset} at {frames} frames, batch {batch:3d}: does not fit in this "
                      f"machine's memory ({str(e).splitlines()[0][:120]})", flush=True)
                continue
            print(f"step     {args.preset} at {frames} frames, batch {batch:3d}: {steps[(frames, batch)]:8.1f} "
                  f"segments/s (JAX, {cores} cores)", flush=True)
    slowest = min(rows, key=lambda r: r[4])
    print(f"cores: {cores} (tf.data inter-op threads: {tf_threads})")
    print(f"slowest pipeline: {slowest[0]}, augment {slowest[1]}, cache {slowest[2]}, batch {slowest[3]}: "
          f"{slowest[4] / cores:.0f} segments/s per core ({'meets' if slowest[4] / cores >= 1000 else 'misses'} "
          f"the 1,000 goal)")
    for name, augment, cache, batch, rate, frames in rows:
        if (frames, batch) in steps:
            print(f"ratio pipeline / step: {name:14s} {augment:10s} cache {'memory' if cache else 'none  '} batch "
                  f"{batch:3d}: {rate / steps[(frames, batch)]:8.1f}x")


if __name__ == "__main__":
    main()
