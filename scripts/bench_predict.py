"""A song's genre: keras-tsr's prediction against the naive way, warm and cold, per backend, side by side.

    python scripts/bench_predict.py [--preset ts_resformer] [--repeats 20] [--folder-files 50]
    python scripts/bench_predict.py --memory [--preset debug] [--hours 1]
    python scripts/bench_predict.py --cold [--preset ts_resformer] [--repeats 3]

For each backend, in its own process, on one 30 s 44.1 kHz stereo mp3 and an untrained model of the preset
(timing does not depend on the weights):
  ours:  keras_tsr.predict.GenreModel.predict_file, split into decode, front-end (resample, one STFT per clip,
         segments) and model (one call for all segments); median of --repeats warm runs;
  naive: librosa.load at 44.1 kHz, a librosa melspectrogram per segment, one model call per segment;
  folder: --folder-files files through predict_paths with its defaults for this device (on a CPU: one file a
         model call, a decoding thread overlapped with the model), then without the decoding thread, then with
         the segments of several files batched into calls of 16 (the accelerator default), against one
         predict_file call after another, the model loaded once for all;
  cold:  `python -m keras_tsr predict FILE --model WORKDIR` from process start to its answer.
Ratios last. Goals: warm <= 150 ms and >= 2x naive under each backend; cold <= 5 s under JAX.

--memory: peak memory (the process's maximum RSS) and time of `tsr predict` on a 30 s song, a 10 min track and a
--hours mix (8 kHz mono wav, the smallest file an hour of audio makes; a whole process each), with the long
files once as `tsr predict` reads them (streamed in blocks) and once through the in-memory path (what it did
before), side by side. Goal: the hour adds at most 1 GiB of peak memory over the song.

--cold: `python -m keras_tsr predict SONG --model M` from process start to its answer, for each form of one
model (training workdir, preset, SavedModel, .onnx, .tflite), the median of --repeats runs each, side by side,
with the modules each run imported (keras, jax, tensorflow). Goal: the .onnx route under 2 s.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, statistics, sys, time, warnings
import numpy as np
import librosa
from keras_tsr import audio
from keras_tsr.predict import GenreModel, predict_paths
workdir, song, folder, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
model = GenreModel(workdir)
g = model.geometry
def median(f):
    f(); times = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return statistics.median(times)
raw = audio.decode(song)
x = audio.resample(*raw)
segs = audio.segments(x, g)
out = {"decode": median(lambda: audio.decode(song)),
       "front_end": median(lambda: audio.segments(audio.resample(*raw), g)),
       "model": median(lambda: model.segment_probabilities(segs)),
       "ours": median(lambda: model.predict_file(song)),
       "segments": len(segs)}
librosa.feature.melspectrogram(y=np.zeros(44100, "float32"), sr=44100)  # numba warm-up, outside the timing
def naive():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y, sr = librosa.load(song, sr=44100, mono=True)
    y = (y - y.mean()) / (y.std() + 1e-8)
    seg = int(g.segment_seconds * sr); hop = g.hop_frames * g.hop_length
    n = audio.num_segments(len(y), seg)
    probs = []
    for i in range(n):
        s = np.pad(y[i * hop: i * hop + seg], (0, max(0, seg - len(y[i * hop: i * hop + seg]))))
        m = librosa.power_to_db(librosa.feature.melspectrogram(y=s, sr=sr, n_fft=4096, hop_length=1024, n_mels=128,
                                                               pad_mode="constant"), ref=np.max, top_db=80)
        probs.append(model.segment_probabilities(m[None, :, : g.frames])[0])  # one call a segment
    return np.mean(probs, axis=0)
out["naive"] = median(naive)
files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
t = time.perf_counter(); [model.predict_file(f) for f in files]; out["folder_sequential"] = len(files) / (time.perf_counter() - t)
t = time.perf_counter(); list(predict_paths([folder], model, progress=False)); out["folder_pipelined"] = len(files) / (time.perf_counter() - t)
t = time.perf_counter(); list(predict_paths([folder], model, progress=False, workers=0)); out["folder_inline"] = len(files) / (time.perf_counter() - t)
t = time.perf_counter(); list(predict_paths([folder], model, progress=False, batch_segments=16)); out["folder_batched16"] = len(files) / (time.perf_counter() - t)
print(json.dumps(out))
""".replace("import json, statistics", "import json, os, statistics")


MEMORY_CHILD = r"""
import json, resource, sys, time
from keras_tsr.audio import streaming
from keras_tsr.predict import predict_paths
workdir, path, stream = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if not stream:
    streaming.STREAM_SECONDS = float("inf")  # the in-memory path, for comparison
t = time.perf_counter()
(status, result), = predict_paths([path], workdir, progress=False)
assert status == "ok", result
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "segments": result["segments"], "genre": result["genre"]}))
"""


def bench_memory(args, work):
    import numpy as np
    import soundfile as sf

    from keras_tsr import runtime

    workdir = os.path.join(work, "model")
    subprocess.run([sys.executable, "-c", "import sys; from keras_tsr.testing import make_untrained_workdir; "
                    "make_untrained_workdir(sys.argv[1], sys.argv[2], 12.0, [f'genre{i}' for i in range(8)])",
                    workdir, args.preset], check=True, env=runtime.child_env("jax"))
    rng = np.random.default_rng(0)
    cases = [("30 s song", 30.0, (True,)), ("10 min track", 600.5, (True, False)),
             (f"{args.hours:g} h mix", 3600.0 * args.hours, (True, False))]
    rows = []
    for name, seconds, modes in cases:
        path = os.path.join(work, name.replace(" ", "_") + ".wav")
        with sf.SoundFile(path, "w", 8000, 1, subtype="PCM_16") as f:  # written in minutes: no hour in memory here
            for start in range(0, int(seconds), 60):
                n = int(min(60.0, seconds - start) * 8000)
                t = np.arange(n) / 8000.0
                f.write((0.3 * np.sin(2 * np.pi * (220 + 10 * (start // 60)) * t)
                         + 0.05 * rng.standard_normal(n)).astype(np.float32))
        for stream in modes:
            proc = subprocess.run([sys.executable, "-c", MEMORY_CHILD, workdir, path, "1" if stream else "0"],
                                  env=runtime.child_env("jax"), capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append((name, "streamed" if stream and seconds > 600 else "in memory", r))
            print(f"{name:14s} {rows[-1][1]:10s} {r['segments']:5d} segments  peak RSS {r['peak_mb']:7.0f} MB  "
                  f"{r['seconds']:6.1f} s", flush=True)
    song = rows[0][2]["peak_mb"]
    for name, mode, r in rows[1:]:
        print(f"{name} {mode}: peak RSS {r['peak_mb'] - song:+.0f} MB over the song "
              f"({r['peak_mb'] / song:.2f}x){' (goal: at most +1024 MB)' if mode == 'streamed' else ''}")


COLD_CHILD = r"""
import sys, time
t = time.perf_counter()
from keras_tsr.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    print("COLD", e.code, ",".join(m for m in ("keras", "jax", "tensorflow") if m in sys.modules) or "-",
          file=sys.stderr)
"""


def bench_cold(args, work):
    import statistics

    import numpy as np
    import soundfile as sf

    from keras_tsr import runtime
    from keras_tsr.data import synth_music

    song = os.path.join(work, "song.wav")
    sf.write(song, np.asarray(synth_music.render("Rock", 30.0, seed=1)), 44100)
    workdir = os.path.join(work, "model")
    subprocess.run([sys.executable, "-c", "import sys; from keras_tsr.testing import make_untrained_workdir; "
                    "make_untrained_workdir(sys.argv[1], sys.argv[2], 12.0, [f'genre{i}' for i in range(8)])",
                    workdir, args.preset], check=True, env=runtime.child_env("jax"))
    forms = {"workdir": workdir}
    for fmt, name in (("preset", "preset"), ("saved_model", "saved/1"), ("onnx", "m.onnx"), ("litert", "m.tflite")):
        out = os.path.join(work, name)
        proc = subprocess.run([sys.executable, "-m", "keras_tsr", "export", "--model", workdir, "--format", fmt,
                               "-o", out], capture_output=True, text=True, env=runtime.child_env("jax"))
        if proc.returncode == 0:
            forms[fmt] = out
        else:
            print(f"{fmt}: not exported ({proc.stderr.strip().splitlines()[-1][:200]})")
    rows = {}
    for form, model in forms.items():
        times, loaded = [], ""
        for _ in range(args.repeats):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", COLD_CHILD, "predict", song, "--model", model],
                                  capture_output=True, text=True, env=runtime.child_env("jax"))
            times.append(time.perf_counter() - t)
            line = [ln for ln in proc.stderr.splitlines() if ln.startswith("COLD")]
            if not line or line[-1].split()[1] != "0":
                sys.exit(f"{form}: predict failed\n{proc.stderr[-2000:]}")
            loaded = line[-1].split()[2]
        rows[form] = statistics.median(times)
        print(f"{form:12s} cold start {rows[form]:5.2f} s (median of {args.repeats}); imported: {loaded}", flush=True)
    for form, seconds in rows.items():
        print(f"{form:12s} {seconds / rows['workdir']:.2f}x the workdir's cold start"
              + (" (goal: under 2 s)" if form == "onnx" else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="ts_resformer")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--folder-files", type=int, default=50)
    parser.add_argument("--memory", action="store_true", help="Peak memory of a song, a 10 min track and a mix.")
    parser.add_argument("--hours", type=float, default=1.0, help="--memory: length of the mix.")
    parser.add_argument("--cold", action="store_true", help="Cold start of `predict` per model form.")
    args = parser.parse_args()
    if args.cold:
        bench_cold(args, tempfile.mkdtemp(prefix="bench_predict_"))
        return
    if args.memory:
        bench_memory(args, tempfile.mkdtemp(prefix="bench_predict_"))
        return

    import numpy as np
    import soundfile as sf

    from keras_tsr import runtime
    from keras_tsr.data import synth_music

    work = tempfile.mkdtemp(prefix="bench_predict_")
    song = os.path.join(work, "song.mp3")
    x = synth_music.render("Rock", 30.0, seed=1)
    sf.write(song, np.stack([x, x * 0.9], 1), 44100, format="MP3")
    folder = os.path.join(work, "folder")
    os.makedirs(folder)
    for i in range(args.folder_files):
        y = synth_music.render(["Rock", "Folk", "Pop", "Electronic"][i % 4], 30.0, seed=100 + i)
        sf.write(os.path.join(folder, f"{i:03d}.mp3"), np.stack([y, y], 1), 44100, format="MP3")
    workdir = os.path.join(work, "model")
    subprocess.run([sys.executable, "-c", "import sys; from keras_tsr.testing import make_untrained_workdir; "
                    "make_untrained_workdir(sys.argv[1], sys.argv[2], 12.0, [f'genre{i}' for i in range(8)])",
                    workdir, args.preset], check=True, env={**os.environ, "KERAS_BACKEND": "jax"})
    results = {}
    for backend in ("jax", "tensorflow"):
        env = runtime.child_env(backend, TF_CPP_MIN_LOG_LEVEL="3")  # TensorFlow with oneDNN, as users run it
        proc = subprocess.run([sys.executable, "-c", CHILD, workdir, song, folder, str(args.repeats)], env=env,
                              capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"{backend} child failed:\n{proc.stderr[-3000:]}")
        r = results[backend] = json.loads(proc.stdout.strip().splitlines()[-1])
        t = time.perf_counter()
        cold = subprocess.run([sys.executable, "-m", "keras_tsr", "predict", song, "--model", workdir], env=env,
                              capture_output=True, text=True)
        r["cold"] = time.perf_counter() - t
        assert cold.returncode == 0, cold.stderr[-2000:]
        print(f"{backend:10s} {args.preset}, 30 s mp3 ({r['segments']} segments), median of {args.repeats} warm: "
              f"ours {1000 * r['ours']:.0f} ms (decode {1000 * r['decode']:.0f}, front-end {1000 * r['front_end']:.0f},"
              f" model {1000 * r['model']:.0f}); naive {1000 * r['naive']:.0f} ms; cold start {r['cold']:.1f} s; "
              f"{args.folder_files} files: {r['folder_pipelined']:.2f} files/s predict_paths (defaults), "
              f"{r['folder_inline']:.2f} without its decoding thread, {r['folder_batched16']:.2f} in calls of 16 "
              f"segments, "
              f"{r['folder_sequential']:.2f} files/s one by one", flush=True)
    for backend, r in results.items():
        print(f"{backend}: naive / ours {r['naive'] / r['ours']:.2f}x (goal >= 2x), warm {1000 * r['ours']:.0f} ms "
              f"(goal <= 150), cold {r['cold']:.1f} s{' (goal <= 5 s)' if backend == 'jax' else ''}, "
              f"folder predict_paths / one by one {r['folder_pipelined'] / r['folder_sequential']:.2f}x")


if __name__ == "__main__":
    main()
