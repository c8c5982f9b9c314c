"""`tsr predict`, `explain`, `embed` and `similar`: what a trained model says of audio."""

import os
import sys

import click

from keras_tsr.cli.common import CONTEXT, backend_option, fail, input_failed, keras_model_option, model_option, setup


@click.command("predict", context_settings=CONTEXT)
@backend_option
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@model_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line instead of a table.")
@click.option("-k", "--top-k", type=click.IntRange(min=1), default=3,
              help="Genres listed per file, most likely first (a multi-label model also lists every genre over its "
                   "tuned threshold, with its parent genre).")
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
    setup(backend)
    import json

    from keras_tsr.predict import expand_inputs, format_table, predict_paths
    from keras_tsr.predict.output import RESULT_FORMATS, timeline_plot, write_results

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
            input_failed(item[1])
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


@click.command("explain", context_settings=CONTEXT)
@backend_option
@click.argument("files", nargs=-1, required=True, type=click.Path())
@keras_model_option
@click.option("-o", "--output", type=click.Path(), default=None,
              help="PNG path for one file, or a folder for several [default: <file>.explain.png beside each].")
def explain_command(backend, files, model_ref, output):
    """Draw what the model listened to: log-mel, TF-Attention time and frequency weights, and each segment's
    genre probabilities over time."""
    setup(backend)
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
            input_failed(e)
            failed += 1
    if failed:
        sys.exit(1)


@click.command("embed", context_settings=CONTEXT)
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
    setup(backend)
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
            input_failed(item[1])
            continue
        path, emb, start = item
        ids += [path] * len(emb)
        rows.append(emb)
        if start is not None:
            starts.append(start)
    if not rows:
        fail("no file could be embedded")
    meta = index_meta(model, ref, segments)
    emb = np.concatenate(rows)
    write_embeddings(output, ids, emb, np.concatenate(starts) if segments else None, meta)
    click.echo(f"wrote {output}: {len(emb)} rows of {emb.shape[1]} dimensions from {len(rows)} files"
               + (f" ({failed} failed)" if failed else ""))
    if failed:
        sys.exit(1)


@click.command("similar", context_settings=CONTEXT)
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
    setup(backend)
    import json

    from keras_tsr.predict import similar
    from keras_tsr.predict.embedding import format_neighbours

    failed = 0
    for status, item in similar(queries, index_path, k, model=model_ref):
        if status == "error":
            failed += 1
            input_failed(item[1])
        else:
            click.echo(json.dumps(item) if as_json else format_neighbours(item))
    if failed:
        sys.exit(1)
