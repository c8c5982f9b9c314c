"""`tsr synth-fma` and `check-data`: the data before training."""

import sys

import click

from keras_tsr.cli.common import CONTEXT, fail


@click.command("synth-fma", context_settings=CONTEXT)
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


@click.command("check-data", context_settings=CONTEXT)
@click.argument("dataset", metavar="NAME/CONFIG")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="TFDS data dir [default: $TFDS_DATA_DIR or ~/tensorflow_datasets].")
def check_data_command(dataset, data_dir):
    """Read every record of a built dataset (e.g. fma_small_logmel/12s) and report missing, truncated or
    corrupted files, with the command that rebuilds it; exits 1 if any is damaged."""
    from keras_tsr.datasets import pipeline, verify

    data_dir = data_dir or pipeline.default_data_dir()
    if not pipeline.is_prepared(dataset, data_dir):
        fail(f"{dataset} is not built in {data_dir} (or its dataset_info.json does not read): build it with "
              f"`{pipeline.build_command(*dataset.partition('/')[::2], '--manual_dir DIR', f'--data_dir {data_dir}')}`")
    files, errors = verify.report(dataset, data_dir)
    for path, reason in errors.items():
        click.echo(f"damaged: {path}: {reason}", err=True)
    if errors:
        click.echo(f"{len(errors)} of {len(files)} files of {dataset} are damaged; rebuild it with "
                   f"`{verify.rebuild_command(dataset)}`", err=True)
        sys.exit(1)
    click.echo(f"{dataset}: all {len(files)} files read whole ({sum(n or 0 for _, _, n in files)} records)")
