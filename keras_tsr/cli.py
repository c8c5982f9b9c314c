"""`tsr`: command-line entry points; each command is a thin layer over a library function."""

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
def main():
    """keras-tsr: build FMA log-mel data, train and evaluate TS-Resformer, predict, export."""


@main.command()
@click.option("--preset", default="ts_resformer", help="Model preset (see `tsr presets`).")
@click.option("--num-classes", default=8)
def summary(preset, num_classes):
    """Print a preset's layer summary and parameter count."""
    from keras_tsr.models import build_classifier

    model = build_classifier(preset, num_classes, compile=False)
    model.backbone.summary(expand_nested=False)
    model.summary()


@main.command()
def presets():
    """List the model presets."""
    from keras_tsr.models import PRESETS

    for name, p in PRESETS.items():
        click.echo(f"{name:30s} {p['description']}")


if __name__ == "__main__":
    main()
