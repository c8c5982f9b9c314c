"""A 30 s song -> genre on the CPU through each runtime a trained model can run on, side by side in one run.

    python scripts/bench_formats.py [--preset ts_resformer] [--repeats 20] [--threads 0]

An untrained workdir of --preset at 12 s segments (timing does not depend on the weights) is exported as a
SavedModel, an .onnx and a .tflite file; then each runtime, in its own fresh process, loads its form and answers
`GenreModel.predict_file` on one 30 s 44.1 kHz stereo mp3 (decode, the package's numpy front-end, the model on
the song's 4 segments, the mean): the median of --repeats warm calls, after one untimed call, and the model
call alone on the same segments. Rows:

  keras/jax         the workdir under Keras' JAX backend (XLA:CPU)
  keras/tensorflow  the workdir under Keras' TensorFlow backend (oneDNN kernels on)
  saved_model       the SavedModel through TensorFlow alone (the TF Serving path)
  onnx              the .onnx file through ONNX Runtime (CPU execution provider)
  litert            the .tflite file through LiteRT's interpreter (XNNPACK)

with each form's size on disk; the ratios to keras/jax last.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, statistics, sys, time
from keras_tsr.predict import GenreModel
ref, song, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = time.perf_counter(); model = GenreModel(ref); load = time.perf_counter() - t
segs = model.file_segments(song)
def median(f):
    f(); times = []
    for _ in range(repeats):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return statistics.median(times)
song_s = median(lambda: model.predict_file(song))
model_s = median(lambda: model.segment_probabilities(segs))
print(json.dumps({"song_ms": 1000 * song_s, "model_ms": 1000 * model_s, "load_s": load, "segments": len(segs),
                  "genre": model.predict_file(song)["genre"]}))
"""

ROWS = [("keras/jax", "workdir", {"KERAS_BACKEND": "jax"}),
        ("keras/tensorflow", "workdir", {"KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": "1"}),
        ("saved_model", "saved_model", {"KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": "1"}),
        ("onnx", "onnx", {"KERAS_BACKEND": "jax"}),
        ("litert", "litert", {"KERAS_BACKEND": "jax"})]


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="ts_resformer")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    import numpy as np
    import soundfile as sf

    from keras_tsr.data import synth_music
    from keras_tsr.serve import export_model
    from keras_tsr.testing import make_untrained_workdir

    tmp = tempfile.mkdtemp(prefix="bench_formats_")
    workdir = os.fspath(make_untrained_workdir(os.path.join(tmp, "w"), preset=args.preset, segment_seconds=12.0))
    song = os.path.join(tmp, "song.mp3")
    x = synth_music.render("Rock", 30.0, seed=3)
    sf.write(song, np.stack([x, x], 1), 44100, format="MP3")
    forms = {"workdir": workdir, "saved_model": os.path.join(tmp, "saved", "1"),
             "onnx": os.path.join(tmp, "tsr.onnx"), "litert": os.path.join(tmp, "tsr.tflite")}
    for fmt in ("saved_model", "onnx", "litert"):
        report = export_model(workdir, forms[fmt], fmt)
        print(f"exported {fmt}: checked with {report['runtime']}, max |diff| {report['max_abs_probabilities']:.1e}",
              flush=True)
    sizes = {"workdir": os.path.getsize(os.path.join(workdir, "best.keras")),
             **{k: _size(v) for k, v in forms.items() if k != "workdir"}}
    results = {}
    for name, form, env in ROWS:
        proc = subprocess.run([sys.executable, "-c", CHILD, forms[form], song, str(args.repeats)],
                              capture_output=True, text=True, env={**os.environ, **env})
        if proc.returncode:
            print(f"{name}: failed\n{proc.stderr[-1500:]}")
            continue
        results[name] = r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{name:17s} warm song->genre {r['song_ms']:7.1f} ms   model alone ({r['segments']} segments) "
              f"{r['model_ms']:7.1f} ms   load {r['load_s']:5.1f} s   size {sizes[form] / 1e6:6.2f} MB"
              f"{'  (.keras)' if form == 'workdir' else ''}", flush=True)
    if "keras/jax" in results:
        base = results["keras/jax"]
        for name, r in results.items():
            print(f"ratio keras/jax / {name}: song {base['song_ms'] / r['song_ms']:.2f}x, "
                  f"model {base['model_ms'] / r['model_ms']:.2f}x")


if __name__ == "__main__":
    main()
