"""The main job end to end on the built-in demo data (no FMA download needed).

    python -m keras_tsr.demo [--backend jax] [--workdir runs/demo]

1. train: builds the synthetic FMA-shaped demo through the fma_small_logmel
   TFDS builder (once; cached under ~/.cache/keras_tsr), trains the `demo`
   preset and evaluates it (`python -m keras_tsr.train --demo ...`);
2. export: writes a TF Serving SavedModel to saved_models/ts_resformer_demo/N
   (the next free version);
3. predict: classifies one demo song with the exported model.
"""

import argparse
import json
import os
import time
import zipfile


def next_version(base):
    versions = [int(v) for v in os.listdir(base) if v.isdigit()] if os.path.isdir(base) else []
    return os.path.join(base, str(max(versions, default=0) + 1))


def demo_song(workdir, tracks_per_genre):
    """Copies one test-split track of the demo data out of its zip, as a user's own file would be."""
    from keras_tsr import data

    manual = os.path.join(data.cache_dir(), f"demo_{tracks_per_genre}", "manual")
    with open(os.path.join(manual, "fixture.json")) as f:
        track = next(t for t in json.load(f)["tracks"] if t["split"] == "test" and not t["broken"])
    tid = f"{track['track_id']:06d}"
    path = os.path.join(workdir, f"demo_song_{tid}.mp3")
    with zipfile.ZipFile(os.path.join(manual, "fma_small.zip")) as zf:
        with open(path, "wb") as f:
            f.write(zf.read(f"fma_small/{tid[:3]}/{tid}.mp3"))
    return path, track["genre"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m keras_tsr.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["jax", "tensorflow"], default=os.environ.get("KERAS_BACKEND", "jax"))
    parser.add_argument("--workdir", default="runs/demo")
    parser.add_argument("--saved-models", default="saved_models/ts_resformer_demo")
    parser.add_argument("--tracks-per-genre", type=int, default=40, help="size of the demo data (default 40)")
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend
    from keras_tsr.cli import _setup

    _setup(args.backend)
    from keras_tsr.export import export_saved_model
    from keras_tsr.predict import GenreModel, format_table
    from keras_tsr.train import TrainConfig, train_and_evaluate

    start = time.time()
    print(f"[1/3] python -m keras_tsr.train --backend {args.backend} --demo --workdir {args.workdir}", flush=True)
    metrics = train_and_evaluate(TrainConfig(demo=True, demo_tracks_per_genre=args.tracks_per_genre), args.workdir)
    output = next_version(args.saved_models)
    print(f"[2/3] python -m keras_tsr.export --workdir {args.workdir} --output {output}", flush=True)
    export_saved_model(args.workdir, output)
    song, genre = demo_song(args.workdir, args.tracks_per_genre)
    print(f"[3/3] python -m keras_tsr.predict {song} --model {output}", flush=True)
    result = GenreModel(output).predict_file(song)
    print(format_table([result], 3))
    print(f"(true genre of that synthetic track: {genre})")
    seg, trk = metrics["segment"], metrics["track"]
    print(f"\ndemo done in {(time.time() - start) / 60:.1f} min: test accuracy {trk['accuracy']:.3f} per track "
          f"({trk['n']} tracks), {seg['accuracy']:.3f} per segment; macro F1 {trk['macro_f1']:.3f}\n"
          f"  run, metrics and plots: {args.workdir}/ (eval/metrics.json, eval/*.png)\n"
          f"  SavedModel for TF Serving: {output}")


if __name__ == "__main__":
    main()
