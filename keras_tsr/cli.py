"""`tsr` (or `python -m keras_tsr`): command-line entry points, thin layers over library functions.

Heavy imports (keras, tensorflow) happen inside the commands, after `--backend`
has set KERAS_BACKEND (`keras_tsr.runtime.setup`). Nothing imports this module
but the `__main__.py` entry files (`python -m keras_tsr`, `python -m
keras_tsr.train`, ...), which nothing imports in turn.
"""

import contextlib
import os
import sys

import click

from keras_tsr import defaults as D
from keras_tsr.audio import geometry as G

CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True}


def _setup(backend=None, training=False):
    from keras_tsr import runtime

    try:
        runtime.setup(backend, training)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def _fail(message):
    from keras_tsr.audio.decoding import stderr_shown
    from keras_tsr.utils import printable

    # a bar that was refreshed but never closed (its generator not yet collected, or already dropped from tqdm's
    # list of bars) leaves no newline behind it: start the error on a line of its own wherever a bar may have run
    _end_progress_bars()
    lead = "\n" if "tqdm" in sys.modules else ""
    with stderr_shown():  # a dataset build's decoders on other threads may hold fd 2 on /dev/null meanwhile
        click.echo(f"{lead}error: {printable(message)}", err=True)
    sys.exit(2)  # errors.EXIT_REFUSED, without importing anything on the way out


def _input_failed(message):
    """One input of many failed (exit 1 at the end): its line on stderr, above any progress bar, names escaped."""
    from tqdm import tqdm

    from keras_tsr.audio.decoding import stderr_shown
    from keras_tsr.utils import printable

    with stderr_shown():  # not while a decoding thread has stderr sent to /dev/null
        tqdm.write(f"error: {printable(message)}", file=sys.stderr)


def _end_progress_bars():
    """Closes the progress bars an error left open (a build cut short), so the error line starts a line of its
    own instead of running on from a bar's last refresh."""
    if "tqdm" not in sys.modules:
        return
    from keras_tsr import compat

    for bar in compat.open_progress_bars():
        bar.close()


def parse_value(text):
    """A --set value: a Python literal (2, 0.1, (6, 2), True, None) or else a plain string (lstm)."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _parse_overrides(ctx, param, values):
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE. Received: {item!r}", ctx=ctx, param=param)
        out[key.strip()] = parse_value(value.strip())
    return out


def _comma_list(ctx, param, value):
    return [g.strip() for g in value.split(",") if g.strip()] if value else []


backend_option = click.option("--backend", type=click.Choice(["jax", "tensorflow"]),
                              default=lambda: os.environ.get("KERAS_BACKEND", "jax"),
                              show_default="$KERAS_BACKEND or jax", help="Keras backend (set before keras loads).")


MODEL_HELP = ("A trained model: a training workdir, its .keras file, an exported SavedModel, a preset folder or "
              "hf:// / kaggle:// handle, or an .onnx / .tflite export.")
model_option = click.option("--model", "model_ref", required=True, metavar="MODEL", help=MODEL_HELP)
keras_model_option = click.option("--model", "model_ref", required=True, metavar="MODEL",
                                  help="A trained Keras model: a training workdir, its .keras file, or a preset "
                                       "folder or hf:// / kaggle:// handle.")


@contextlib.contextmanager
def handled_errors():
    """The exit codes of docs/robustness.md (keras_tsr.errors): what a user can cause (a KerasTsrError, a missing
    extra, a full disk) is one line and exit 2; Ctrl-C is exit 130; anything else is a bug in keras-tsr, shown
    with its traceback, exit 3. Every entry point runs its command inside this (`tsr`, `python -m keras_tsr`,
    `python -m keras_tsr.train`, ...)."""
    from keras_tsr import errors, runtime, utils

    try:
        yield
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise  # click's own: usage errors (exit 2), --help, ...
    except errors.KerasTsrError as e:
        _fail(e)
    except KeyboardInterrupt:
        _end_progress_bars()
        click.echo("\ninterrupted", err=True)
        sys.exit(errors.EXIT_INTERRUPTED)
    except ModuleNotFoundError as e:
        if not runtime.is_tensorflow_module(e.name):
            _internal_error()
        _fail(runtime.missing_extra_message(e.name.split(".")[0]))
    except Exception as e:  # a full disk is an OSError, or TensorFlow's / TFDS' error that says so
        if utils.is_disk_full(e):
            _fail(utils.disk_full_message(e))
        _internal_error()


def _internal_error():
    import traceback

    from keras_tsr import __version__, errors

    _end_progress_bars()
    traceback.print_exc()
    click.echo(f"internal error: the traceback above is a bug in keras-tsr {__version__}, not in your input; please "
               f"report it with the command you ran", err=True)
    sys.exit(errors.EXIT_INTERNAL)


class _Group(click.Group):
    def invoke(self, ctx):
        with handled_errors():
            return super().invoke(ctx)


def run_command(name, prog_name):
    """Runs one command of the group as its own program (the `python -m keras_tsr.<part>` entry files), with the
    group's error handling."""
    with handled_errors():
        main.commands[name].main(prog_name=prog_name)


def recipe_options(f):
    """The training-recipe options shared by `train` and `cv` (see docs/training.md, "Training recipes")."""
    options = [
        click.option("--augment", default=None, metavar="RECIPE",
                     help=f"Augmentation recipe: none (the paper's) or small_data (random crops from a clip-level "
                          f"build, SpecAugment masks, mixup, gain, shift) [default: {D.AUGMENT}; cv: "
                          f"{D.CV_RECIPE['augment']}, its measured best]."),
        click.option("--augment-set", "augment_overrides", multiple=True, metavar="KEY=VALUE",
                     callback=_parse_overrides,
                     help="Override a field of the recipe (repeatable), e.g. --augment-set mixup_alpha=0.4."),
        click.option("--label-smoothing", type=click.FloatRange(min=0, max=1, max_open=True), default=None,
                     help=f"Label smoothing of the training targets [default: {D.LABEL_SMOOTHING:g}]."),
        click.option("--weight-decay", type=click.FloatRange(min=0), default=None,
                     help=f"AdamW's decoupled weight decay; 0 keeps the paper's Adam [default: {D.WEIGHT_DECAY:g}; "
                          f"cv: {D.CV_RECIPE['weight_decay']:g}]."),
        click.option("--schedule", type=click.Choice(["constant", "cosine"]), default=None,
                     help=f"Learning rate: constant (the paper's), or cosine decay over the run [default: {D.SCHEDULE}; "
                          f"cv: {D.CV_RECIPE['schedule']}]."),
        click.option("--warmup-epochs", type=click.FloatRange(min=0), default=None,
                     help=f"With --schedule cosine: epochs of linear warm-up [default: {D.WARMUP_EPOCHS:g}; cv: "
                          f"{D.CV_RECIPE['warmup_epochs']:g}]."),
        click.option("--early-stopping", type=click.IntRange(min=1), default=None, metavar="PATIENCE",
                     help="Stop after this many epochs without a better validation accuracy (the best checkpoint "
                          "stays the one kept)."),
        click.option("--checkpoint", type=click.Choice(["best", "last"]), default=None,
                     help=f"Keep the best validation epoch, or the last one [default: {D.CHECKPOINT}; cv: "
                          f"{D.CV_RECIPE['checkpoint']}]."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def recipe_kwargs(kwargs):
    """The recipe options given on the command line (those left unset are not passed)."""
    names = ("augment", "augment_overrides", "label_smoothing", "weight_decay", "schedule", "warmup_epochs",
             "early_stopping", "checkpoint")
    out = {k: kwargs.pop(k) for k in names if k in kwargs}
    return {k: v for k, v in out.items() if v not in (None, {})}


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("--no-compile-cache", is_flag=True,
              help="Do not use JAX's persistent compilation cache (~/.cache/keras_tsr/jax_compile, or "
                   "$KERAS_TSR_COMPILE_CACHE; KERAS_TSR_COMPILE_CACHE=off does the same).")
def main(no_compile_cache):
    """keras-tsr: build FMA log-mel data, train and evaluate TS-Resformer, predict, embed, export for TF Serving,
    ONNX, LiteRT or as a preset."""
    if no_compile_cache:
        from keras_tsr import runtime

        runtime.disable_compile_cache()


@main.command("train", context_settings=CONTEXT)
@backend_option
@click.option("--dataset", default=None,
              help="TFDS name/config to train on [default: fma_small_logmel/12s if built, else the built-in demo].")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="TFDS data dir [default: $TFDS_DATA_DIR or ~/tensorflow_datasets].")
@click.option("--segment-seconds", type=click.FloatRange(min=0.5), default=None,
              help=f"Segment length cut from a clip-level dataset (e.g. fma_small_logmel/clip) [default: "
                   f"{G.SEGMENT_SECONDS:g}].")
@click.option("--overlap", type=click.FloatRange(min=0, max=1, max_open=True), default=None,
              help=f"Overlap of those segments [default: {G.OVERLAP:g}].")
@click.option("--architecture", "--preset", "preset", default=None,
              help="A named architecture (`tsr architectures`) [default: ts_resformer; demo on demo data].")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help=f"[default: {D.PAPER_EPOCHS}; {D.DEMO_EPOCHS} on the demo]")
@click.option("--batch-size", type=click.IntRange(min=1), default=D.BATCH_SIZE,
              help="Segments per training step (the paper's 32).")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=D.LEARNING_RATE, help="Adam.")
@click.option("--seed", type=int, default=D.SEED, help="Random seed (weights, shuffling); the same seed repeats a run.")
@click.option("--workdir", type=click.Path(file_okay=False), default="runs/ts_resformer",
              help="Checkpoints, logs, config and evaluation land here; rerun to resume.")
@click.option("--mixed-precision", type=click.Choice(["bf16", "fp16"]), is_flag=False, flag_value="fp16",
              default=None, help="Mixed precision: bf16 (recommended on GPUs and TPUs that have it: no loss scaling) "
                                 "or fp16 (the bare flag, as before); the log-mel input and softmax stay float32.")
@click.option("--steps-per-execution", type=click.IntRange(min=1), default=D.STEPS_PER_EXECUTION,
              help="Training steps a compiled call runs: fewer host round trips on an accelerator (recorded in the "
                   "config; changing it does not change the run).")
@click.option("--distribute", is_flag=True, help="Data parallel over all local devices (and hosts under JAX).")
@click.option("--loader", type=click.Choice(["auto", "grain", "tf"]), default="auto", show_default=True,
              help="Input pipeline: grain (ArrayRecord through tfds.data_source, no TensorFlow) or tf (tf.data); "
                   "auto takes tf.data where TensorFlow is installed. Unaugmented batches are equal; augmented "
                   "ones draw differently, so a run resumes with the loader it started with.")
@click.option("--steps-per-epoch", type=click.IntRange(min=1), default=None, help="Cap steps per epoch (smoke runs).")
@click.option("--demo", is_flag=True, help="Train on the built-in synthetic demo (at --dataset's segment config).")
@click.option("--genres", callback=_comma_list,
              default=None, metavar="G1,G2,...", help="Train and evaluate on these genres only.")
@click.option("--demo-tracks-per-genre", type=click.IntRange(min=3), default=D.DEMO_TRACKS_PER_GENRE, help="Size of the built-in demo (tracks a genre).")
@click.option("--init-from", default=None, metavar="MODEL",
              help="Start from a trained model (a workdir, .keras file or preset folder / hf:// / kaggle:// handle; "
                   "fine-tuning): every weight when the genres are the same, else the backbone with a new head.")
@click.option("--freeze-backbone", is_flag=True, help="With --init-from: train the new head only.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", callback=_parse_overrides,
              help="Override a backbone argument of the architecture (repeatable), e.g. --set num_transformer_layers=2 "
                   "--set freq_kernel=(4,2) --set attention_reading=axis. Recorded in the workdir's config.")
@recipe_options
def train_command(backend, workdir, **kwargs):
    """Train an architecture on fma_small_logmel (or the built-in demo), then evaluate the best checkpoint."""
    _setup(backend, training=True)
    from keras_tsr.artifacts import Workdir
    from keras_tsr.evaluate import summary_lines
    from keras_tsr.train import TrainConfig, train_and_evaluate

    kwargs["mixed_precision"] = kwargs["mixed_precision"] or False  # as configs without it record float32
    metrics = train_and_evaluate(TrainConfig(**recipe_kwargs(kwargs), **kwargs), workdir)
    for line in summary_lines(metrics):
        click.echo(line)
    click.echo(f"results in {Workdir(workdir).eval_dir}")


@main.command("evaluate", context_settings=CONTEXT)
@backend_option
@click.option("--workdir", type=click.Path(exists=True, file_okay=False), required=True,
              help="The training workdir to evaluate (its best checkpoint).")
@click.option("--split", default="test", help="Split to evaluate.")
def evaluate_command(backend, workdir, split):
    """Segment- and track-level metrics, confusion matrices and plots for a trained workdir."""
    _setup(backend)
    from keras_tsr.artifacts import Workdir
    from keras_tsr.evaluate import evaluate_workdir, summary_lines

    m = evaluate_workdir(workdir, split)
    for line in summary_lines(m):
        click.echo(line)
    click.echo(f"wrote {Workdir(workdir).metrics_path} and plots")


@main.command("predict", context_settings=CONTEXT)
@backend_option
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@model_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@click.option("--top-k", type=click.IntRange(min=1), default=3, help="Genres listed per file, most likely first.")
@click.option("--segments", is_flag=True,
              help="The genre over time: a row a segment with its start and end, under each file's row (a "
                   "\"timeline\" list in --json and -o), for mixes, concerts and long recordings.")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Also write the results to this file: .csv (a row a file, or with --segments a row a segment; "
                   "a column a genre), .json or .jsonl.")
@click.option("--plot", type=click.Path(), default=None, metavar="PNG_OR_FOLDER",
              help="Draw each file's genre over time (a heat map a segment, as a taggram): a .png path for one "
                   "file, else a folder (FILE.timeline.png each). Implies the segments.")
def predict_command(backend, inputs, model_ref, as_json, top_k, segments, output, plot):
    """Genre of each audio file (folders are searched for audio files); files over ten minutes are read in
    blocks, in bounded memory."""
    _setup(backend)
    import json

    from keras_tsr.predict import expand_inputs, format_table, predict_paths
    from keras_tsr.predict.prediction import RESULT_FORMATS, timeline_plot, write_results

    plots = _plot_targets(plot, expand_inputs(inputs)[0], ".timeline.png") if plot else {}
    if output:
        if os.path.splitext(output)[1].lower() not in RESULT_FORMATS:
            raise click.BadParameter(f"the extension chooses the format: {', '.join(RESULT_FORMATS)}. Received: "
                                     f"{output}", param_hint="'-o' / '--output'")
        from keras_tsr.utils import check_writable

        check_writable(output, "file", "-o")
    results, failed = [], 0
    for status, item in predict_paths(inputs, model_ref, top_k, segments=segments or bool(plot)):
        if status == "error":
            failed += 1
            _input_failed(item[1])
            continue
        if item["file"] in plots:
            timeline_plot(item, plots[item["file"]])
        if not segments:
            item.pop("timeline", None)
        results.append(item)
        if as_json:
            click.echo(json.dumps(item))
    if results and not as_json:
        click.echo(format_table(results, top_k))
    if output and results:
        write_results(output, results, list(results[0]["probabilities"]))
        click.echo(f"wrote {output}", err=True)
    for f, target in plots.items():
        if any(r["file"] == f for r in results):
            click.echo(f"wrote {target}", err=True)
    if failed:
        sys.exit(1)


def _plot_targets(plot, files, suffix):
    """{file: PNG path} for --plot: a .png path when there is one file, else a folder of FILE<suffix> (checked
    writable before any work)."""
    from keras_tsr.utils import check_writable

    if plot.lower().endswith(".png"):
        if len(files) != 1:
            raise click.BadParameter(f"{plot} is one PNG, for {len(files)} files: give a folder",
                                     param_hint="'--plot'")
        check_writable(plot, "file", "--plot")
        return {files[0]: plot}
    check_writable(plot, "folder", "--plot")
    return {f: os.path.join(plot, os.path.splitext(os.path.basename(f))[0] + suffix) for f in files}


@main.command("export", context_settings=CONTEXT)
@click.option("--workdir", "--model", "model_ref", required=True, metavar="MODEL",
              help="The trained model to export: a training workdir, its .keras file, or a preset.")
@click.option("--format", "fmt", type=click.Choice(["saved_model", "onnx", "litert", "preset"]), default="saved_model",
              help="saved_model: TF Serving (saved_models/NAME/VERSION); onnx: a .onnx file (ONNX Runtime); litert: "
                   "a .tflite file (LiteRT, mobile and edge); preset: a keras-hub style folder with a model card.")
@click.option("--output", "-o", type=click.Path(), required=True,
              help="saved_models/NAME/VERSION, FILE.onnx, FILE.tflite or a preset folder.")
@click.option("--overwrite", is_flag=True, help="Replace an existing export at --output.")
@click.option("--check-audio", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Check the export on this file's segments [default: built-in synthetic music].")
def export_command(model_ref, fmt, output, overwrite, check_audio):
    """Export a trained model, then check it in a fresh process that loads it with its own runtime only
    (TensorFlow, ONNX Runtime, LiteRT or Keras) against the Keras model, within 1e-4."""
    _setup()
    from keras_tsr.serve import export_model
    from keras_tsr.serve.check import check_export

    export_model(model_ref, output, fmt, overwrite, check=False)
    click.echo(f"exported {output} ({fmt})")
    report = check_export(model_ref, output, check_audio)
    click.echo(f"checked in a fresh process with {report['runtime']}: {report['segments']} segments, max |diff| "
               f"{report['max_abs_probabilities']:.1e} (probabilities), {report['max_abs_embedding']:.1e} "
               f"(embedding); {report['bytes'] / 1e6:.2f} MB")


@main.command("embed", context_settings=CONTEXT)
@backend_option
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@model_option
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="Where to write: .npz (arrays + ids; what `tsr similar --index` reads), .parquet or .csv.")
@click.option("--segments", is_flag=True, help="One row per segment, with its start time, instead of one per track.")
@click.option("--overwrite", is_flag=True, help="Replace an existing output.")
def embed_command(backend, inputs, model_ref, output, segments, overwrite):
    """Write each track's embedding: the vector the classifier head reads (the spectral and temporal branch
    vectors, concatenated), the mean over the track's segments; for similarity search, clustering, your own
    classifiers."""
    _setup(backend)
    import numpy as np

    from keras_tsr.artifacts import open_model
    from keras_tsr.predict import GenreModel, embed_paths, write_embeddings
    from keras_tsr.predict.embedding import check_output, index_meta

    ids, rows, starts, failed = [], [], [], 0
    check_output(output, overwrite)
    ref = open_model(model_ref)
    model = GenreModel(ref)
    for status, item in embed_paths(inputs, model, segments=segments):
        if status == "error":
            failed += 1
            _input_failed(item[1])
            continue
        path, emb, start = item
        ids += [path] * len(emb)
        rows.append(emb)
        if start is not None:
            starts.append(start)
    if not rows:
        _fail("no file could be embedded")
    meta = index_meta(model, ref, segments)
    emb = np.concatenate(rows)
    write_embeddings(output, ids, emb, np.concatenate(starts) if segments else None, meta)
    click.echo(f"wrote {output}: {len(emb)} rows of {emb.shape[1]} dimensions from {len(rows)} files"
               + (f" ({failed} failed)" if failed else ""))
    if failed:
        sys.exit(1)


@main.command("similar", context_settings=CONTEXT)
@backend_option
@click.argument("queries", nargs=-1, required=True)
@click.option("--index", "index_path", type=click.Path(dir_okay=False), required=True,
              help="Embeddings `tsr embed` wrote (.npz, .parquet or .csv).")
@click.option("-k", type=click.IntRange(min=1), default=10, help="Neighbours listed per query.")
@click.option("--model", "model_ref", default=None, metavar="MODEL",
              help="The model to embed query files with [default: the one the index records].")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per query instead of a table.")
def similar_command(backend, queries, index_path, k, model_ref, as_json):
    """The nearest tracks of an embedded collection by cosine similarity. A QUERY is an id of the index (a file
    embedded in it; its own row is left out) or an audio file (or folder), embedded first."""
    _setup(backend)
    import json

    from keras_tsr.predict import similar
    from keras_tsr.predict.embedding import format_neighbours

    failed = 0
    for status, item in similar(queries, index_path, k, model=model_ref):
        if status == "error":
            failed += 1
            _input_failed(item[1])
        else:
            click.echo(json.dumps(item) if as_json else format_neighbours(item))
    if failed:
        sys.exit(1)


@main.command("serve-request", context_settings=CONTEXT)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", "model_ref", required=True, metavar="MODEL",
              help="The exported SavedModel (or any form of its model): its recorded geometry sets the sample rate "
                   "and segments.")
@click.option("--signature", type=click.Choice(["serving_default", "serve_waveform"]), default="serve_waveform",
              help="serve_waveform sends the audio (the export computes the log-mel); serving_default sends log-mel.")
@click.option("--output", "-o", type=click.File("w"), default="-", help="Where to write the JSON body.")
def serve_request_command(file, model_ref, signature, output):
    """Turn an audio file into a TF Serving REST request body (POST .../models/NAME:predict)."""
    import json

    from keras_tsr.serve import request_body

    body = request_body(file, model_ref, signature)
    json.dump(body, output)
    output.write("\n")


@main.command("synth-fma", context_settings=CONTEXT)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder to write the zips into.")
@click.option("--tracks-per-genre", type=click.IntRange(min=3), default=10, help="Good tracks per genre.")
@click.option("--subset", type=click.Choice(["small", "medium"]), default="small",
              help="FMA subset to imitate: small (8 genres) or medium (16).")
@click.option("--seed", type=int, default=0, help="Random seed of the generated music and track ids.")
@click.option("--no-broken", is_flag=True, help="Leave out the broken files.")
@click.option("--compact", is_flag=True, help="Mono 16/22.05 kHz only: small files for checked-in test data.")
@click.option("--fma-bitrate", is_flag=True,
              help="256 kbps constant bit rate, as most of FMA's mp3s: for benchmarks (larger, slower to write).")
@click.option("--overwrite", is_flag=True, help="Replace existing zips in --out.")
def synth_command(out, tracks_per_genre, subset, seed, no_broken, compact, fma_bitrate, overwrite):
    """Write a synthetic FMA-shaped dataset (fma_<subset>.zip + fma_metadata.zip + fixture.json)."""
    from keras_tsr.data import synth

    desc = synth.write_fixture(out, tracks_per_genre, subset, seed, not no_broken, overwrite=overwrite,
                               compact=compact, fma_bitrate=fma_bitrate)
    n_broken = sum(1 for t in desc["tracks"] if t["broken"])
    click.echo(f"wrote {len(desc['tracks'])} tracks ({n_broken} broken) in {len(desc['genres'])} genres to {out}")


@main.command("demo", context_settings=CONTEXT)
@backend_option
@click.option("--workdir", type=click.Path(file_okay=False), default="runs/demo", help="Training workdir.")
@click.option("--saved-models", type=click.Path(file_okay=False), default="saved_models/ts_resformer_demo",
              help="The export goes to the next free version folder under it.")
@click.option("--tracks-per-genre", type=click.IntRange(min=3), default=None,
              help=f"Size of the synthetic demo data [default: {D.DEMO_TRACKS_PER_GENRE}].")
def demo_command(backend, workdir, saved_models, tracks_per_genre):
    """The main job on built-in synthetic data: build, train, evaluate, export, predict (no download)."""
    _setup(backend, training=True)
    from keras_tsr.studies.demo import run_demo

    run_demo(workdir, saved_models, tracks_per_genre, echo=click.echo)


@main.command("cv", context_settings=CONTEXT)
@backend_option
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--folds", type=click.Choice(["2", "5", "10"]), default="5",
              help="k of k-fold cross-validation (by file); 2 with --protocol fixed only.")
@click.option("--architecture", "--preset", "preset", default="demo",
              help="A named architecture (`tsr architectures`).")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help=f"[default: {D.CV_EPOCHS}; with --augment none: {D.DEMO_EPOCHS} for demo, else "
                   f"{D.PAPER_EPOCHS}]")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help=f"Segments per training step [default: {D.CV_BATCH_SIZE}; with --augment none: "
                   f"{D.CV_PAPER_BATCH_SIZE}].")
@click.option("--segment-seconds", type=click.FloatRange(min=0.5), default=None,
              help=f"Segment length cut from each clip [default: {D.CV_SEGMENT_SECONDS:g}; with --augment none: "
                   f"{G.SEGMENT_SECONDS:g}].")
@click.option("--overlap", type=click.FloatRange(min=0, max=1, max_open=True), default=None,
              help=f"Overlap of the segments (more segments a clip to train on and to average at test) [default: "
                   f"{D.CV_OVERLAP:g}; with --augment none: {G.OVERLAP:g}].")
@click.option("--protocol", type=click.Choice(["fixed", "val_fold"]), default=None,
              help=f"fixed: train on k-1 folds, keep the last epoch; val_fold: train on k-2, keep the best epoch on "
                   f"the next fold [default: {D.CV_PROTOCOL}; with --augment none: {D.CV_PAPER_PROTOCOL}].")
@click.option("--seed", type=int, default=D.SEED, help="Random seed (weights, shuffling); the same seed repeats a run.")
@click.option("--seeds", type=click.IntRange(min=1), default=None,
              help=f"Models trained a fold (seeds SEED, SEED+1, ...), their probabilities averaged on the test fold: "
                   f"an ensemble, N times the training time [default: {D.CV_SEEDS}; with --augment none: 1].")
@click.option("--out", type=click.Path(file_okay=False), default="runs/cv",
              help="Folds' workdirs, the built folds (OUT/tfds) and cv_results.{json,md} go here; rerun to resume.")
@recipe_options
def cv_command(backend, folder, folds, preset, epochs, batch_size, segment_seconds, seed, seeds, out, protocol,
               overlap, **recipe):
    """k-fold cross-validation on FOLDER (one folder per genre, GTZAN's layouts too): how well does it do on
    your music? Prints per-fold and mean ± sd track and segment accuracy and macro F1."""
    _setup(backend, training=True)
    from keras_tsr.studies.cv import cross_validate

    summary = cross_validate(folder, out, int(folds), preset, epochs, batch_size, seed, segment_seconds,
                             echo=click.echo, protocol=protocol, recipe=recipe_kwargs(recipe), overlap=overlap,
                             seeds=seeds)
    m, sd = summary["mean"], summary["sd"]
    for level in ("track", "segment"):
        click.echo(f"{level:8s} accuracy {m[level + '_accuracy']:.3f} ± {sd[level + '_accuracy'] or 0:.3f}  "
                   f"Eq.10 average accuracy {m[level + '_average_accuracy']:.3f}  "
                   f"macro F1 {m[level + '_macro_f1']:.3f} ± {sd[level + '_macro_f1'] or 0:.3f}  (mean ± sd over "
                   f"{summary['folds']} folds)")
    click.echo(f"wrote {out}/cv_results.md, cv_results.json and confusion_matrix.png")


@main.command("explain", context_settings=CONTEXT)
@backend_option
@click.argument("files", nargs=-1, required=True, type=click.Path())
@keras_model_option
@click.option("-o", "--output", type=click.Path(), default=None,
              help="PNG path for one file, or a folder for several [default: <file>.explain.png beside each].")
def explain_command(backend, files, model_ref, output):
    """Draw what the model listened to: log-mel, TF-Attention time and frequency weights, and each segment's
    genre probabilities over time."""
    _setup(backend)
    from keras_tsr import audio
    from keras_tsr.evaluate.explain import explain_file, plot
    from keras_tsr.utils import check_writable

    if output and (len(files) > 1 or os.path.isdir(output)):
        check_writable(output, "folder", "-o")
        targets = [os.path.join(output, os.path.splitext(os.path.basename(f))[0] + ".explain.png") for f in files]
    else:
        targets = [output or os.path.splitext(f)[0] + ".explain.png" for f in files]
    for target in targets:
        check_writable(target, "file", "-o" if output else "the plot")
    failed = 0
    for f, target in zip(files, targets):
        try:
            click.echo(f"wrote {plot(explain_file(f, model_ref), target)}")
        except audio.AudioError as e:
            _input_failed(e)
            failed += 1
    if failed:
        sys.exit(1)


@main.command("experiment", context_settings=CONTEXT)
@backend_option
@click.argument("name", type=click.Choice(["slice_length", "filter_height", "filter_width", "ablation",
                                           "transformer_layers", "baselines"]))
@click.option("--out", type=click.Path(file_okay=False), default="runs/experiments",
              help="Runs, results.csv, results.md and results.png go to OUT/NAME/.")
@click.option("--scale", type=click.Choice(["full", "demo", "smoke"]), default="full",
              help="full: the paper's settings on FMA-small; demo: narrow models, 2 epochs, the synthetic demo data; "
                   "smoke: the debug model, 1 epoch, a tiny demo (the machinery in a minute; numbers mean nothing).")
@click.option("--seeds", type=click.IntRange(min=1), default=1, help="Runs per setting (seeds 0..N-1).")
@click.option("--genres", callback=_comma_list,
              default=None, metavar="G1,G2,...",
              help="Train and evaluate on these genres only (the paper's filter study used its four weakest).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="[default: 60 full, 2 demo]")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="TFDS data dir holding fma_small_logmel (full scale).")
@click.option("--dry-run", is_flag=True, help="Print the runs with parameters, FLOPs and an estimated time; run nothing.")
@click.option("--shard", default=None, metavar="I/N",
              help="Run only the I-th of N disjoint parts of the grid (a Slurm array task, one of several machines "
                   "over a shared --out); each part writes the results of every run finished so far.")
@click.option("--report", is_flag=True,
              help="Run nothing: write results.md/csv/png from the finished runs and name the missing ones.")
def experiment_command(backend, name, out, scale, seeds, genres, epochs, data_dir, dry_run, shard, report):
    """Run one of the paper's studies as a grid of training runs (reruns skip finished runs, resume the rest).

    \b
    slice_length        3, 5, 6, 10, 12, 15 s segments (Fig. 13)
    filter_height       frequency filter heights 2..15 (Fig. 14)
    filter_width        time filter widths 2..15 (Fig. 15)
    ablation            Table 3's rows, and the other attention reading
    transformer_layers  1..5 layers (Table 4)
    baselines           Table 5's models
    """
    _setup(backend, training=True)
    from keras_tsr.studies.experiment import parse_shard, report_experiment, run_experiment

    if report:
        report_experiment(name, out, scale, seeds, echo=click.echo)
        return
    run_experiment(name, out, scale, seeds, genres, data_dir, epochs, dry_run, echo=click.echo,
                   shard=parse_shard(shard) if shard else None)


@main.command("check-data", context_settings=CONTEXT)
@click.argument("dataset", metavar="NAME/CONFIG")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="TFDS data dir [default: $TFDS_DATA_DIR or ~/tensorflow_datasets].")
def check_data_command(dataset, data_dir):
    """Read every record of a built dataset (e.g. fma_small_logmel/12s) and report missing, truncated or
    corrupted files, with the command that rebuilds it; exits 1 if any is damaged."""
    from keras_tsr.datasets import pipeline, verify

    data_dir = data_dir or pipeline.default_data_dir()
    if not pipeline.is_prepared(dataset, data_dir):
        _fail(f"{dataset} is not built in {data_dir} (or its dataset_info.json does not read): build it with "
              f"`{pipeline.build_command(*dataset.partition('/')[::2], '--manual_dir DIR', f'--data_dir {data_dir}')}`")
    files, errors = verify.report(dataset, data_dir)
    for path, reason in errors.items():
        click.echo(f"damaged: {path}: {reason}", err=True)
    if errors:
        click.echo(f"{len(errors)} of {len(files)} files of {dataset} are damaged; rebuild it with "
                   f"`{verify.rebuild_command(dataset)}`", err=True)
        sys.exit(1)
    click.echo(f"{dataset}: all {len(files)} files read whole ({sum(n or 0 for _, _, n in files)} records)")


@main.command(context_settings=CONTEXT)
@backend_option
@click.option("--architecture", "--preset", "preset", default="ts_resformer",
              help="A named architecture (`tsr architectures`) or a trained preset folder / hf:// / kaggle:// handle.")
@click.option("--num-classes", default=8, help="Genres of the classifier head (a named architecture's).")
def summary(backend, preset, num_classes):
    """Print an architecture's (or a trained preset's) layer summary and parameter count."""
    _setup(backend)
    from keras_tsr.models import ARCHITECTURES, GenreClassifier

    model = GenreClassifier.from_preset(preset, num_classes=num_classes if preset in ARCHITECTURES else None,
                                        compile=False)
    model.backbone.summary()
    model.summary()


@main.command(context_settings=CONTEXT)
def architectures():
    """List the named architectures (`--architecture`): the paper's model, its baselines and ablations."""
    from keras_tsr.models import ARCHITECTURES

    for name, p in ARCHITECTURES.items():
        click.echo(f"{name:30s} {p['description']}")



# `tsr presets`, the command's name before "preset" came to mean a trained model folder: kept for old scripts
main.add_command(click.Command("presets", callback=architectures.callback, hidden=True, context_settings=CONTEXT,
                               help="Same as `tsr architectures`."))
