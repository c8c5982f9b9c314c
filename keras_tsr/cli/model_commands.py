"""`tsr export`, `serve-request`, `summary` and `architectures`: the model itself, its forms and serving."""


import click

from keras_tsr.cli.common import CONTEXT, backend_option, setup


@click.command("export", context_settings=CONTEXT)
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
    setup()
    from keras_tsr.serve import export_model
    from keras_tsr.serve.check import check_export

    export_model(model_ref, output, fmt, overwrite, check=False)
    click.echo(f"exported {output} ({fmt})")
    report = check_export(model_ref, output, check_audio)
    click.echo(f"checked in a fresh process with {report['runtime']}: {report['segments']} segments, max |diff| "
               f"{report['max_abs_probabilities']:.1e} (probabilities), {report['max_abs_embedding']:.1e} "
               f"(embedding); {report['bytes'] / 1e6:.2f} MB")


@click.command("serve-request", context_settings=CONTEXT)
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


@click.command(context_settings=CONTEXT)
@backend_option
@click.option("--architecture", "--preset", "preset", default="ts_resformer",
              help="A named architecture (`tsr architectures`) or a trained preset folder / hf:// / kaggle:// handle.")
@click.option("--num-classes", default=8, help="Genres of the classifier head (a named architecture's).")
def summary(backend, preset, num_classes):
    """Print an architecture's (or a trained preset's) layer summary and parameter count."""
    setup(backend)
    from keras_tsr.models import ARCHITECTURES, GenreClassifier

    model = GenreClassifier.from_preset(preset, num_classes=num_classes if preset in ARCHITECTURES else None,
                                        compile=False)
    model.backbone.summary()
    model.summary()


@click.command(context_settings=CONTEXT)
def architectures():
    """List the named architectures (`--architecture`): the paper's model, its baselines and ablations."""
    from keras_tsr.models import ARCHITECTURES

    for name, p in ARCHITECTURES.items():
        click.echo(f"{name:30s} {p['description']}")
