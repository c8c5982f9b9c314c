"""What the `tsr` commands share: set-up, error handling, the options several commands take.

Heavy imports (keras, tensorflow) happen inside the commands, after `--backend` has set KERAS_BACKEND
(`keras_tsr.runtime.setup`).
"""

import contextlib
import os
import sys

import click

from keras_tsr import defaults as D

CONTEXT = {"help_option_names": ["-h", "--help"], "show_default": True}


def setup(backend=None, training=False):
    from keras_tsr import runtime

    try:
        runtime.setup(backend, training)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


def fail(message):
    from keras_tsr.audio.decoding import stderr_shown
    from keras_tsr.utils import printable

    # a bar that was refreshed but never closed (its generator not yet collected, or already dropped from tqdm's
    # list of bars) leaves no newline behind it: start the error on a line of its own wherever a bar may have run
    end_progress_bars()
    lead = "\n" if "tqdm" in sys.modules else ""
    with stderr_shown():  # a dataset build's decoders on other threads may hold fd 2 on /dev/null meanwhile
        click.echo(f"{lead}error: {printable(message)}", err=True)
    sys.exit(2)  # errors.EXIT_REFUSED, without importing anything on the way out


def input_failed(message):
    """One input of many failed (exit 1 at the end): its line on stderr, above any progress bar, names escaped."""
    from tqdm import tqdm

    from keras_tsr.audio.decoding import stderr_shown
    from keras_tsr.utils import printable

    with stderr_shown():  # not while a decoding thread has stderr sent to /dev/null
        tqdm.write(f"error: {printable(message)}", file=sys.stderr)


def end_progress_bars():
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


def parse_overrides(ctx, param, values):
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE. Received: {item!r}", ctx=ctx, param=param)
        out[key.strip()] = parse_value(value.strip())
    return out


def comma_list(ctx, param, value):
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
        fail(e)
    except KeyboardInterrupt:
        end_progress_bars()
        click.echo("\ninterrupted", err=True)
        sys.exit(errors.EXIT_INTERRUPTED)
    except ModuleNotFoundError as e:
        if not runtime.is_tensorflow_module(e.name):
            internal_error()
        fail(runtime.missing_extra_message(e.name.split(".")[0]))
    except Exception as e:  # a full disk is an OSError, or TensorFlow's / TFDS' error that says so
        if utils.is_disk_full(e):
            fail(utils.disk_full_message(e))
        internal_error()


def internal_error():
    import traceback

    from keras_tsr import __version__, errors

    end_progress_bars()
    traceback.print_exc()
    click.echo(f"internal error: the traceback above is a bug in keras-tsr {__version__}, not in your input; please "
               f"report it with the command you ran", err=True)
    sys.exit(errors.EXIT_INTERNAL)


class Group(click.Group):
    def invoke(self, ctx):
        with handled_errors():
            return super().invoke(ctx)


def recipe_options(f):
    """The training-recipe options shared by `train` and `cv` (see docs/training.md, "Training recipes")."""
    options = [
        click.option("--augment", default=None, metavar="RECIPE",
                     help=f"Augmentation recipe: none (the paper's) or small_data (random crops from a clip-level "
                          f"build, SpecAugment masks, mixup, gain, shift) [default: {D.AUGMENT}; cv: "
                          f"{D.CV_RECIPE['augment']}, its measured best]."),
        click.option("--augment-set", "augment_overrides", multiple=True, metavar="KEY=VALUE",
                     callback=parse_overrides,
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
        click.option("--class-weight", type=click.Choice(["none", "balanced"]), default=None,
                     help="A multi-label build: balanced weighs each genre's positive examples by sqrt(negatives / "
                          "positives) in the training split (at most 10), so rare genres count [default: none]."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def recipe_kwargs(kwargs):
    """The recipe options given on the command line (those left unset are not passed)."""
    names = ("augment", "augment_overrides", "label_smoothing", "weight_decay", "schedule", "warmup_epochs",
             "early_stopping", "checkpoint", "class_weight")
    out = {k: kwargs.pop(k) for k in names if k in kwargs}
    return {k: v for k, v in out.items() if v not in (None, {})}
