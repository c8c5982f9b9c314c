"""The training step as `tsr train` runs it, on one accelerator under JAX (no TensorFlow needed).

    python scripts/bench_gpu.py [--segments 8192] [--epochs 3] [--json results.json]
    python scripts/bench_gpu.py --tiny            # the same machinery on CPU in a minute (a test runs it)

Every configuration runs in its own process (so compile time and peak memory are its own) and trains through
`model.fit` as `tsr train` does: the classifier compiled by `compile_paper_defaults` with steps_per_execution
(16 here; 1 for the row that says so), the dtype policy of `--mixed-precision`, and host batches handed over
as numpy arrays by a `keras.utils.PyDataset` (what the Grain loader gives fit), labels one-hot. Per row: the
first epoch (compilation included) less a steady one is the compile time; the mean of the other epochs gives
the step time and segments/s; the FLOPs of a segment come from XLA's cost analysis compiled for the CPU (on a
GPU XLA's analysis leaves out the cuDNN convolutions, 0.3 of 1.74 GFLOP; training counts 3x the forward, the
figure docs/benchmarks.md uses), and so do the bytes a forward pass reads and writes (an estimate of the
traffic: 3x for a training step); achieved TFLOP/s and TB/s against the chip's peaks; peak device memory.

Rows: ts_resformer at batch 256 and 32, bf16 and fp32, and with steps_per_execution 1; the ablation presets
(no TF-Attention, no SE, the spectral branch alone, the temporal branch alone) for where the time goes; the
candidate computations of the same model (`--set tf_conv1=fused`: TF-Attention's two Conv1 filters as one
convolution, the same weights); and inference of a batch of 1,024 segments in bf16. Ratios against the
ts_resformer bf16 batch-256 row last. Goals (H200, bf16): >= 12,800 segments/s at batch 256, >= 6,000 at batch
32, first-epoch compile <= 20 s, inference >= 30,000 segments/s within 16 GiB.
"""

import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

# Dense peaks by device kind (NVIDIA's data sheets, without sparsity): bf16 TFLOP/s, fp32 (TF32 tensor cores)
# TFLOP/s, memory TB/s. --peak-tflops / --peak-tbps override them.
PEAKS = {"H200": (989.0, 494.0, 4.8), "H100": (989.0, 494.0, 3.35), "A100": (312.0, 156.0, 2.0)}

FULL = [
    {"name": "ts_resformer", "batch": 256, "precision": "bf16"},
    {"name": "ts_resformer, fp32", "batch": 256, "precision": "fp32"},
    {"name": "ts_resformer, steps_per_execution 1", "batch": 256, "precision": "bf16", "spe": 1},
    {"name": "ts_resformer, batch 32", "batch": 32, "precision": "bf16"},
    {"name": "ts_resformer, batch 32, fp32", "batch": 32, "precision": "fp32"},
    {"name": "ts_resformer_no_tf_attention", "preset": "ts_resformer_no_tf_attention", "batch": 256,
     "precision": "bf16"},
    {"name": "ts_resformer_no_se", "preset": "ts_resformer_no_se", "batch": 256, "precision": "bf16"},
    {"name": "resnet (spectral branch alone)", "preset": "resnet", "batch": 256, "precision": "bf16"},
    {"name": "transformer (temporal branch alone)", "preset": "transformer", "batch": 256, "precision": "bf16"},
    {"name": "ts_resformer, Conv1 fused", "batch": 256, "precision": "bf16", "set": {"tf_conv1": "fused"}},
    {"name": "ts_resformer, Conv1 fused, batch 32", "batch": 32, "precision": "bf16", "set": {"tf_conv1": "fused"}},
    {"name": "inference, batch 1024", "batch": 1024, "precision": "bf16", "inference": True},
]


def tiny(rows):
    """The same rows on CPU in about a minute: the debug preset, 128 frames, a few small batches."""
    out = []
    for r in rows:
        r = dict(r, name=r["name"].replace("ts_resformer", "debug"),
                 preset="debug" if r.get("preset", "ts_resformer") == "ts_resformer" else r["preset"],
                 batch=4 if r["batch"] <= 32 else 8, frames=128)
        if r["preset"] in ("resnet", "transformer", "ts_resformer_no_tf_attention", "ts_resformer_no_se"):
            continue  # full-width presets: too slow for a CPU test; the debug rows exercise the same code
        out.append(r)
    return out


def run_one(row, segments, epochs):
    """One configuration in this process: returns its measurements (a dict)."""
    import time

    import jax
    import keras
    import numpy as np

    from keras_tsr.models import GenreClassifier
    from keras_tsr.studies.flops import forward_cost

    # the policies of `tsr train --mixed-precision bf16` and of no flag (keras_tsr.train.config.PRECISIONS;
    # not imported here: the training package imports TFDS, which imports TensorFlow wherever it is installed)
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if row["precision"] == "bf16" else "float32")
    frames, batch = row.get("frames", 512), row["batch"]
    model = GenreClassifier.from_preset(row.get("preset", "ts_resformer"), num_classes=8, num_frames=frames,
                                        compile=False, **row.get("set", {}))
    flops, bytes_moved = forward_cost(model)  # on the CPU: counts every convolution
    device = jax.devices()[0]
    rng = np.random.default_rng(0)
    host = rng.uniform(-80.0, 0.0, (min(segments, 4 * batch), 128, frames)).astype(np.float32)
    labels = np.eye(8, dtype=np.float32)[np.arange(len(host)) % 8]
    steps = max(1, segments // batch)
    if row.get("inference"):
        model.compile()
        t0 = time.perf_counter()
        np.asarray(model.predict_on_batch(np.resize(host, (batch, 128, frames))))
        first = time.perf_counter() - t0
        times = []
        for _ in range(max(2, epochs)):
            t = time.perf_counter()
            np.asarray(model.predict_on_batch(np.resize(host, (batch, 128, frames))))
            times.append(time.perf_counter() - t)
        step = sorted(times)[len(times) // 2]
        return _report(row, device, batch / step, first - step, flops, bytes_moved, step, 1.0, frames)

    class HostBatches(keras.utils.PyDataset):  # numpy batches from host memory, as the Grain loader hands them
        def __len__(self):
            return steps

        def __getitem__(self, i):
            j = (i * batch) % len(host)
            idx = np.arange(j, j + batch) % len(host)
            return host[idx], labels[idx]

    model.compile_paper_defaults(1e-3, steps_per_execution=row.get("spe", 16))
    ends = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            float(logs["loss"])  # the epoch's last step is done
            ends.append(time.perf_counter())

    start = time.perf_counter()
    model.fit(HostBatches(), epochs=epochs, verbose=0, callbacks=[Clock()])
    times = np.diff([start, *ends])
    steady = float(np.mean(times[1:])) if len(times) > 1 else float(times[0])
    return _report(row, device, steps * batch / steady, float(times[0]) - steady, flops, bytes_moved,
                   steady / steps, 3.0, frames)


def _report(row, device, rate, compile_s, flops, bytes_moved, step, factor, frames):
    stats = device.memory_stats() or {}
    return {**row, "device": device.device_kind, "platform": device.platform, "segments_per_s": rate,
            "tensorflow_loaded": "tensorflow" in sys.modules,
            "step_ms": 1000 * step, "compile_s": compile_s, "gflop_forward": flops / 1e9,
            "tflops": factor * flops * rate / 1e12, "tbps": factor * bytes_moved * rate / 1e12,
            "gb_forward": bytes_moved / 1e9, "peak_gib": stats.get("peak_bytes_in_use", 0) / 2**30 or None,
            "frames": frames}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--segments", type=int, default=8192, help="Segments an epoch (as the issue's figures).")
    parser.add_argument("--epochs", type=int, default=3, help="Epochs a row: the first compiles.")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="Run only the rows named so.")
    parser.add_argument("--part", default=None, metavar="I/N",
                        help="Run the I-th of N parts of the rows (the first row, the reference, in each): a device "
                             "allows 10 minutes a command, and a row takes about a minute, most of it XLA's compile.")
    parser.add_argument("--tiny", action="store_true", help="CPU-sized: debug preset, 128 frames, tiny batches.")
    parser.add_argument("--json", default=None, help="Also write every row's measurements here.")
    parser.add_argument("--peak-tflops", type=float, default=None, help="The chip's bf16 dense peak.")
    parser.add_argument("--peak-tbps", type=float, default=None, help="The chip's memory bandwidth.")
    parser.add_argument("--row", default=None, help=argparse.SUPPRESS)  # a child's one configuration
    args = parser.parse_args()
    if args.row:
        print("ROW " + json.dumps(run_one(json.loads(args.row), args.segments, args.epochs)), flush=True)
        return
    rows = tiny(FULL) if args.tiny else FULL
    if args.only:
        rows = [r for r in rows if r["name"] in args.only]
    if args.part:
        i, n = (int(v) for v in args.part.split("/"))
        rows = rows[:1] + rows[1:][i - 1 :: n]
    results = []
    for row in rows:
        proc = subprocess.run([sys.executable, __file__, "--row", json.dumps(row), "--segments",
                               str(64 if args.tiny else args.segments), "--epochs", str(args.epochs)],
                              capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": "jax"})
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("ROW ")), None)
        if proc.returncode or line is None:
            print(f"{row['name']}: failed\n{proc.stderr[-3000:]}", flush=True)
            continue
        results.append(json.loads(line[4:]))
        print(_line(results[-1], args), flush=True)
    if not results:
        sys.exit("no row ran")
    base = results[0]
    print(f"\nagainst {base['name']} (batch {base['batch']}, {base['precision']}), side by side in this run:")
    for r in results:
        print(f"  {r['name']:40s} {r['segments_per_s'] / base['segments_per_s']:5.2f}x segments/s, step "
              f"{r['step_ms']:.1f} ms")
    print(_floors(base, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


def _peaks(r, args):
    kind = next((k for k in PEAKS if k in r["device"]), None)
    bf16, fp32, tbps = PEAKS.get(kind, (None, None, None))
    return (args.peak_tflops or (bf16 if r["precision"] == "bf16" else fp32)), (args.peak_tbps or tbps)


def _line(r, args):
    flops_peak, bw_peak = _peaks(r, args)
    util = f" ({100 * r['tflops'] / flops_peak:.1f}% of {flops_peak:.0f})" if flops_peak else ""
    bw = f" ({100 * r['tbps'] / bw_peak:.0f}% of {bw_peak:.1f})" if bw_peak else ""
    mem = f"{r['peak_gib']:.1f} GiB" if r["peak_gib"] else "n/a"
    return (f"{r['name']:40s} batch {r['batch']:4d} {r['precision']}: step {r['step_ms']:7.1f} ms, "
            f"{r['segments_per_s']:9,.0f} segments/s, compile {r['compile_s']:5.1f} s, {r['tflops']:6.1f} TFLOP/s"
            f"{util}, {r['tbps']:5.2f} TB/s{bw}, peak memory {mem} [{r['gflop_forward']:.2f} GFLOP and "
            f"{r['gb_forward']:.2f} GB a segment forward, {r['device']}]")


def _floors(r, args):
    """The step's physical floors: its FLOPs at the chip's peak, its bytes at the chip's bandwidth."""
    flops_peak, bw_peak = _peaks(r, args)
    if not flops_peak or not bw_peak:
        return "floors: no peak known for this device (pass --peak-tflops and --peak-tbps)"
    flop_ms = 3 * r["gflop_forward"] * 1e9 * r["batch"] / (flops_peak * 1e12) * 1000
    byte_ms = 3 * r["gb_forward"] * 1e9 * r["batch"] / (bw_peak * 1e12) * 1000
    return (f"floors of a batch-{r['batch']} step: {flop_ms:.1f} ms of FLOPs at {flops_peak:.0f} TFLOP/s, "
            f"{byte_ms:.1f} ms of memory traffic at {bw_peak:.1f} TB/s (XLA:CPU's bytes, 3x forward); measured "
            f"{r['step_ms']:.1f} ms")


if __name__ == "__main__":
    main()
