"""The main job end to end on the built-in demo data (no FMA download needed).

    tsr demo [--backend jax] [--workdir runs/demo]     (or python -m keras_tsr demo)

1. train: builds the synthetic FMA-shaped demo through the fma_small_logmel
   TFDS builder (once; cached under ~/.cache/keras_tsr), trains the `demo`
   preset and evaluates it (`tsr train --demo ...`);
2. export: writes a TF Serving SavedModel to saved_models/ts_resformer_demo/N
   (the next free version);
3. predict: classifies one demo song with the exported model.

Results on this data are on synthetic music, not FMA: they show that the
machinery works, not how well the model classifies real songs.
"""

import json
import os
import time
import zipfile

from keras_tsr.data import fma
from keras_tsr.datasets import pipeline as data
from keras_tsr.defaults import DEMO_TRACKS_PER_GENRE


def next_version(base):
    versions = [int(v) for v in os.listdir(base) if v.isdigit()] if os.path.isdir(base) else []
    return os.path.join(base, str(max(versions, default=0) + 1))


def demo_song(workdir, tracks_per_genre=DEMO_TRACKS_PER_GENRE):
    """Copies one test-split track of the demo data out of its zip, as a user's own file would be."""
    manual, _ = data.demo_layout(tracks_per_genre)
    with open(os.path.join(manual, "fixture.json")) as f:
        track = next(t for t in json.load(f)["tracks"] if t["split"] == "test" and not t["broken"])
    path = os.path.join(workdir, f"demo_song_{track['track_id']:06d}.mp3")
    with zipfile.ZipFile(os.path.join(manual, "fma_small.zip")) as zf:
        with open(path, "wb") as f:
            f.write(zf.read(fma.zip_member("small", track["track_id"])))
    return path, track["genre"]


def run_demo(workdir="runs/demo", saved_models="saved_models/ts_resformer_demo", tracks_per_genre=None,
             echo=print):
    """Trains, evaluates, exports and predicts on the synthetic demo; returns the test metrics.

    Choose the Keras backend before calling (it imports keras).
    """
    import keras

    from keras_tsr.artifacts import Workdir
    from keras_tsr.evaluate import summary_lines
    from keras_tsr.predict import GenreModel, format_table
    from keras_tsr.serve import export_saved_model
    from keras_tsr.train import TrainConfig, train_and_evaluate
    from keras_tsr.utils import check_writable

    check_writable(workdir, "folder", "--workdir")
    check_writable(saved_models, "folder", "--saved-models")
    tracks_per_genre = tracks_per_genre or DEMO_TRACKS_PER_GENRE
    backend = keras.backend.backend()
    start = time.time()
    echo(f"[1/3] tsr train --backend {backend} --demo --workdir {workdir}")
    metrics = train_and_evaluate(TrainConfig(demo=True, demo_tracks_per_genre=tracks_per_genre), workdir)
    output = next_version(saved_models)
    echo(f"[2/3] tsr export --workdir {workdir} --output {output}")
    export_saved_model(workdir, output)
    song, genre = demo_song(workdir, tracks_per_genre)
    echo(f"[3/3] tsr predict {song} --model {output}")
    result = GenreModel(output).predict_file(song)
    echo(format_table([result], 3))
    echo(f"(true genre of that synthetic track: {genre})")
    echo(f"\ndemo done in {(time.time() - start) / 60:.1f} min; test split of the synthetic demo data "
         f"(not FMA):")
    for line in summary_lines(metrics):
        echo("  " + line)
    echo(f"  run, metrics and plots: {workdir}/ ({os.path.relpath(Workdir(workdir).metrics_path, workdir)}, "
         f"eval/*.png)\n  SavedModel for TF Serving: {output}")
    return metrics

