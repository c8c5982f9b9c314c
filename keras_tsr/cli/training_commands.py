"""`tsr train`, `evaluate`, `cv`, `experiment` and `demo`: training and the studies."""


import click

from keras_tsr import defaults as D
from keras_tsr.audio import geometry as G
from keras_tsr.cli.common import (
    CONTEXT,
    backend_option,
    comma_list,
    parse_overrides,
    recipe_kwargs,
    recipe_options,
    setup,
)


@click.command("train", context_settings=CONTEXT)
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
@click.option("--genres", callback=comma_list,
              default=None, metavar="G1,G2,...", help="Train and evaluate on these genres only.")
@click.option("--demo-tracks-per-genre", type=click.IntRange(min=3), default=D.DEMO_TRACKS_PER_GENRE, help="Size of the built-in demo (tracks a genre).")
@click.option("--init-from", default=None, metavar="MODEL",
              help="Start from a trained model (a workdir, .keras file or preset folder / hf:// / kaggle:// handle; "
                   "fine-tuning): every weight when the genres are the same, else the backbone with a new head.")
@click.option("--freeze-backbone", is_flag=True, help="With --init-from: train the new head only.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", callback=parse_overrides,
              help="Override a backbone argument of the architecture (repeatable), e.g. --set num_transformer_layers=2 "
                   "--set freq_kernel=(4,2) --set attention_reading=axis. Recorded in the workdir's config.")
@recipe_options
def train_command(backend, workdir, **kwargs):
    """Train an architecture on fma_small_logmel (or the built-in demo), then evaluate the best checkpoint."""
    setup(backend, training=True)
    from keras_tsr.artifacts import Workdir
    from keras_tsr.evaluate import summary_lines
    from keras_tsr.train import TrainConfig, train_and_evaluate

    kwargs["mixed_precision"] = kwargs["mixed_precision"] or False  # as configs without it record float32
    metrics = train_and_evaluate(TrainConfig(**recipe_kwargs(kwargs), **kwargs), workdir)
    for line in summary_lines(metrics):
        click.echo(line)
    click.echo(f"results in {Workdir(workdir).eval_dir}")


@click.command("evaluate", context_settings=CONTEXT)
@backend_option
@click.option("--workdir", type=click.Path(exists=True, file_okay=False), required=True,
              help="The training workdir to evaluate (its best checkpoint).")
@click.option("--split", default="test", help="Split to evaluate.")
def evaluate_command(backend, workdir, split):
    """Segment- and track-level metrics, confusion matrices and plots for a trained workdir."""
    setup(backend)
    from keras_tsr.artifacts import Workdir
    from keras_tsr.evaluate import evaluate_workdir, summary_lines

    m = evaluate_workdir(workdir, split)
    for line in summary_lines(m):
        click.echo(line)
    click.echo(f"wrote {Workdir(workdir).metrics_path} and plots")


@click.command("demo", context_settings=CONTEXT)
@backend_option
@click.option("--workdir", type=click.Path(file_okay=False), default="runs/demo", help="Training workdir.")
@click.option("--saved-models", type=click.Path(file_okay=False), default="saved_models/ts_resformer_demo",
              help="The export goes to the next free version folder under it.")
@click.option("--tracks-per-genre", type=click.IntRange(min=3), default=None,
              help=f"Size of the synthetic demo data [default: {D.DEMO_TRACKS_PER_GENRE}].")
def demo_command(backend, workdir, saved_models, tracks_per_genre):
    """The main job on built-in synthetic data: build, train, evaluate, export, predict (no download)."""
    setup(backend, training=True)
    from keras_tsr.studies.demo import run_demo

    run_demo(workdir, saved_models, tracks_per_genre, echo=click.echo)


@click.command("cv", context_settings=CONTEXT)
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
@click.option("--multilabel/--single-label", default=None,
              help="Several genres a file, from FOLDER/labels.csv or labels.json (else the files' own genre tags), "
                   "one multi-label model a fold [default: multi-label when FOLDER has a labels file].")
@recipe_options
def cv_command(backend, folder, folds, preset, epochs, batch_size, segment_seconds, seed, seeds, out, protocol,
               overlap, multilabel, **recipe):
    """k-fold cross-validation on FOLDER (one folder per genre, GTZAN's layouts too; or a multi-label collection
    with its labels file): how well does it do on your music? Prints per-fold and mean ± sd track and segment
    accuracy and macro F1 (multi-label: macro ROC-AUC, macro average precision, micro-F1)."""
    setup(backend, training=True)
    from keras_tsr.studies.cv import cross_validate

    summary = cross_validate(folder, out, int(folds), preset, epochs, batch_size, seed, segment_seconds,
                             echo=click.echo, protocol=protocol, recipe=recipe_kwargs(recipe), overlap=overlap,
                             seeds=seeds, multilabel=multilabel)
    m, sd = summary["mean"], summary["sd"]
    if summary["task"] == "multilabel":
        for level in ("track", "segment"):
            click.echo(f"{level:8s} " + "  ".join(f"{k} {m[f'{level}_{k}']:.3f} ± {sd[f'{level}_{k}'] or 0:.3f}"
                                                  for k in summary["keys"]) + f"  (mean ± sd over {summary['folds']} "
                                                                                 f"folds)")
        click.echo(f"wrote {out}/cv_results.md and cv_results.json")
        return
    for level in ("track", "segment"):
        click.echo(f"{level:8s} accuracy {m[level + '_accuracy']:.3f} ± {sd[level + '_accuracy'] or 0:.3f}  "
                   f"Eq.10 average accuracy {m[level + '_average_accuracy']:.3f}  "
                   f"macro F1 {m[level + '_macro_f1']:.3f} ± {sd[level + '_macro_f1'] or 0:.3f}  (mean ± sd over "
                   f"{summary['folds']} folds)")
    click.echo(f"wrote {out}/cv_results.md, cv_results.json and confusion_matrix.png")


@click.command("experiment", context_settings=CONTEXT)
@backend_option
@click.argument("name", type=click.Choice(["slice_length", "filter_height", "filter_width", "ablation",
                                           "transformer_layers", "baselines"]))
@click.option("--out", type=click.Path(file_okay=False), default="runs/experiments",
              help="Runs, results.csv, results.md and results.png go to OUT/NAME/.")
@click.option("--scale", type=click.Choice(["full", "demo", "smoke"]), default="full",
              help="full: the paper's settings on FMA-small; demo: narrow models, 2 epochs, the synthetic demo data; "
                   "smoke: the debug model, 1 epoch, a tiny demo (the machinery in a minute; numbers mean nothing).")
@click.option("--seeds", type=click.IntRange(min=1), default=1, help="Runs per setting (seeds 0..N-1).")
@click.option("--genres", callback=comma_list,
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
@click.option("--multilabel", is_flag=True,
              help="Multi-label models on fma_small_logmel/clip_multilabel (every genre of a track, with its "
                   "parents), reported by macro ROC-AUC, macro average precision and micro-F1.")
def experiment_command(backend, name, out, scale, seeds, genres, epochs, data_dir, dry_run, shard, report,
                       multilabel):
    """Run one of the paper's studies as a grid of training runs (reruns skip finished runs, resume the rest).

    \b
    slice_length        3, 5, 6, 10, 12, 15 s segments (Fig. 13)
    filter_height       frequency filter heights 2..15 (Fig. 14)
    filter_width        time filter widths 2..15 (Fig. 15)
    ablation            Table 3's rows, and the other attention reading
    transformer_layers  1..5 layers (Table 4)
    baselines           Table 5's models
    """
    setup(backend, training=True)
    from keras_tsr.studies.experiment import parse_shard, report_experiment, run_experiment

    if report:
        report_experiment(name, out, scale, seeds, echo=click.echo)
        return
    run_experiment(name, out, scale, seeds, genres, data_dir, epochs, dry_run, echo=click.echo,
                   shard=parse_shard(shard) if shard else None, multilabel=multilabel)
