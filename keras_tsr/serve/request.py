"""TF Serving REST request bodies for an audio file (`tsr serve-request`)."""

from __future__ import annotations

import numpy as np

from keras_tsr import audio
from keras_tsr.artifacts import open_model
from keras_tsr.errors import ArgumentError

SIGNATURES = ("serving_default", "serve_waveform")


def request_body(path, model_ref, signature="serve_waveform"):
    """The JSON body of POST .../models/NAME:predict for one file, at the geometry the model records.

    serve_waveform sends the mono waveform at the model's rate (the export computes the log-mel in-graph);
    serving_default sends the log-mel segments computed here (rounded to 0.001 dB to keep the body small).
    Raises keras_tsr.audio.AudioError or keras_tsr.artifacts.ModelError with one line.
    """
    if signature not in SIGNATURES:
        raise ArgumentError(f"signature must be one of {SIGNATURES}. Received: signature={signature!r}")
    geometry = open_model(model_ref).geometry
    x = audio.load_audio(path, geometry.sample_rate)
    if signature == "serve_waveform":
        return {"signature_name": signature, "inputs": {"waveform": [x.tolist()]}}
    return {"signature_name": signature, "inputs": {"log_mel": np.round(audio.segments(x, geometry), 3).tolist()}}
