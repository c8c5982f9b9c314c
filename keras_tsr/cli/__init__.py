"""`tsr` (or `python -m keras_tsr`): command-line entry points, thin layers over library functions.

The group is here; the commands sit in modules by what they work on (`data_commands`, `training_commands`,
`inference_commands`, `model_commands`), what they share in `common`.

Heavy imports (keras, tensorflow) happen inside the commands, after `--backend`
has set KERAS_BACKEND (`keras_tsr.runtime.setup`). Nothing imports this module
but the `__main__.py` entry files (`python -m keras_tsr`, `python -m
keras_tsr.train`, ...), which nothing imports in turn.
"""

import click

from keras_tsr.cli.common import CONTEXT, Group, handled_errors
from keras_tsr.cli.data_commands import check_data_command, synth_command
from keras_tsr.cli.inference_commands import embed_command, explain_command, predict_command, similar_command
from keras_tsr.cli.model_commands import architectures, export_command, serve_request_command, summary
from keras_tsr.cli.training_commands import (
    cv_command,
    demo_command,
    evaluate_command,
    experiment_command,
    train_command,
)


@click.group(cls=Group, context_settings=CONTEXT)
@click.option("--no-compile-cache", is_flag=True,
              help="Do not use JAX's persistent compilation cache (~/.cache/keras_tsr/jax_compile, or "
                   "$KERAS_TSR_COMPILE_CACHE; KERAS_TSR_COMPILE_CACHE=off does the same).")
def main(no_compile_cache):
    """keras-tsr: build FMA log-mel data, train and evaluate TS-Resformer, predict, embed, export for TF Serving,
    ONNX, LiteRT or as a preset."""
    if no_compile_cache:
        from keras_tsr import runtime

        runtime.disable_compile_cache()


for _command in (train_command, evaluate_command, predict_command, export_command, embed_command, similar_command,
                 serve_request_command, synth_command, demo_command, cv_command, explain_command, experiment_command,
                 check_data_command, summary, architectures):
    main.add_command(_command)


# `tsr presets`, the command's name before "preset" came to mean a trained model folder: kept for old scripts
main.add_command(click.Command("presets", callback=architectures.callback, hidden=True, context_settings=CONTEXT,
                               help="Same as `tsr architectures`."))


def run_command(name, prog_name):
    """Runs one command of the group as its own program (the `python -m keras_tsr.<part>` entry files), with the
    group's error handling."""
    with handled_errors():
        main.commands[name].main(prog_name=prog_name)
