"""Log-mel spectrogram as a backend-agnostic Keras layer."""

import keras
from keras import ops

from keras_tsr import audio


@keras.saving.register_keras_serializable(package="keras_tsr")
class LogMelSpectrogram(keras.layers.Layer):
    """In-graph twin of `keras_tsr.audio.log_mel`, for exported models.

    The constants (periodic Hann window, Slaney mel filter bank) come from
    `keras_tsr.audio`, so the layer and the numpy front-end share one
    definition; tests hold them within 0.01 dB on average. Unlike
    `keras.layers.MelSpectrogram` it uses librosa's Slaney mel scale, zero
    (not reflect) centre padding, and takes the dB reference and the
    `top_db` floor per example, never over the batch. It always computes in
    float32: |STFT|^2 of a z-scored clip overflows float16.

    Args:
        sample_rate: rate of the incoming waveform in Hz.
        frames: crop the time axis to this many frames (512 for 12 s at
            44.1 kHz); None keeps `1 + samples // 1024`.
        top_db: dynamic range kept below each example's maximum.

    Example:
    >>> layer = LogMelSpectrogram(frames=512)
    >>> layer(np.zeros((2, 529200), "float32")).shape
    (2, 128, 512)
    """

    def __init__(self, sample_rate=audio.SAMPLE_RATE, frames=None, top_db=audio.TOP_DB, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive. Received: sample_rate={sample_rate}")
        if frames is not None and frames <= 0:
            raise ValueError(f"frames must be positive or None. Received: frames={frames}")
        self.sample_rate = int(sample_rate)
        self.frames = frames
        self.top_db = float(top_db)
        self.fbank_t = audio.mel_filterbank(self.sample_rate).T  # (bins, mels) numpy constant
        self.window = audio.hann_window()

    def call(self, waveforms):
        x = ops.cast(waveforms, "float32")  # (batch, samples)
        pad = audio.N_FFT // 2
        x = ops.pad(x, [[0, 0], [pad, pad]])
        real, imag = ops.stft(
            x,
            sequence_length=audio.N_FFT,
            sequence_stride=audio.HOP_LENGTH,
            fft_length=audio.N_FFT,
            window=ops.convert_to_tensor(self.window),
            center=False,
        )  # (batch, frames, bins) each
        if self.frames is not None:
            real = real[:, : self.frames]
            imag = imag[:, : self.frames]
        power = ops.square(real) + ops.square(imag)
        mel = ops.matmul(power, ops.convert_to_tensor(self.fbank_t))  # (batch, frames, mels)
        db = 10.0 * ops.log10(ops.maximum(mel, audio.AMIN))
        db = db - ops.max(db, axis=(1, 2), keepdims=True)
        db = ops.maximum(db, -self.top_db)
        return ops.transpose(db, (0, 2, 1))  # (batch, mels, frames)

    def compute_output_shape(self, input_shape):
        samples = input_shape[1]
        frames = None if samples is None else 1 + samples // audio.HOP_LENGTH
        if self.frames is not None:
            frames = self.frames if frames is None else min(frames, self.frames)
        return (input_shape[0], audio.N_MELS, frames)

    def get_config(self):
        config = super().get_config()
        config.update({"sample_rate": self.sample_rate, "frames": self.frames, "top_db": self.top_db})
        return config
