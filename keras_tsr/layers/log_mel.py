"""The log-mel front-end as a backend-agnostic Keras layer, for exported models."""

import keras
from keras import ops

from keras_tsr import audio
from keras_tsr.errors import ArgumentError


def _mel_power(padded, window, fbank_t):
    """Mel power of the uncentred STFT frames of already padded waveforms, (batch, frames, mels)."""
    real, imag = ops.stft(
        padded,
        sequence_length=audio.N_FFT,
        sequence_stride=audio.HOP_LENGTH,
        fft_length=audio.N_FFT,
        window=ops.convert_to_tensor(window),
        center=False,
    )  # (batch, frames, bins) each
    power = ops.square(real) + ops.square(imag)
    return ops.matmul(power, ops.convert_to_tensor(fbank_t))


def _to_db(mel, axes, top_db):
    """10 log10 relative to the maximum over `axes` (one example), floored at -top_db."""
    db = 10.0 * ops.log10(ops.maximum(mel, audio.AMIN))
    db = db - ops.max(db, axis=axes, keepdims=True)
    return ops.maximum(db, -top_db)


@keras.saving.register_keras_serializable(package="keras_tsr")
class ClipLogMelSegments(keras.layers.Layer):
    """In-graph twin of `keras_tsr.audio.clip_features`: whole clips to log-mel segments.

    Z-scores each clip, takes one centred STFT of it, and cuts the mel power
    into segments of `num_frames(segment_seconds)` frames every
    `hop_frames(segment_seconds)`, each in dB relative to its own maximum.
    The number of segments follows the clip length as in
    `keras_tsr.audio.num_segments` (a clip shorter than one segment gives one
    zero-padded segment). All clips of a batch share one length.

    Args:
        segment_seconds: segment length (the model's training setting).
        sample_rate: rate of the incoming waveform in Hz.
        top_db: dynamic range kept below each segment's maximum.

    Example:
    >>> x = np.random.default_rng(0).standard_normal((1, 1_321_967)).astype("float32")  # a 30 s FMA clip
    >>> tuple(ClipLogMelSegments(12.0)(x).shape)
    (1, 4, 128, 512)
    """

    def __init__(self, segment_seconds=audio.SEGMENT_SECONDS, sample_rate=audio.SAMPLE_RATE, top_db=audio.TOP_DB,
                 **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if segment_seconds <= 0:
            raise ArgumentError(f"segment_seconds must be positive. Received: segment_seconds={segment_seconds}")
        self.segment_seconds = float(segment_seconds)
        self.sample_rate = int(sample_rate)
        self.top_db = float(top_db)
        self.fbank_t = audio.mel_filterbank(self.sample_rate).T
        self.window = audio.hann_window()
        self.seg = audio.segment_samples(self.segment_seconds, self.sample_rate)
        self.frames = audio.num_frames(self.segment_seconds, self.sample_rate)
        self.hop = audio.hop_frames(self.segment_seconds, self.sample_rate)

    def call(self, clips):
        # Computed in float32 whatever the policy: |STFT|^2 of a z-scored clip overflows float16.
        x = ops.cast(clips, "float32")  # (batch, samples)
        length = ops.shape(x)[1]
        mean = ops.mean(x, axis=1, keepdims=True)
        std = ops.sqrt(ops.maximum(ops.mean(ops.square(x), axis=1, keepdims=True) - ops.square(mean), 0.0))
        x = ops.where(std < 1e-8, ops.zeros_like(x), (x - mean) / ops.maximum(std, 1e-8))
        n = ops.cast(audio.num_segments(ops.cast(length, "float32"), self.seg, audio.OVERLAP, xp=ops), "int32")
        # Zeros before (centring) and after (the padded tail): enough for any length.
        batch = ops.shape(x)[0]
        x = ops.concatenate([ops.zeros((batch, audio.N_FFT // 2)), x,
                             ops.zeros((batch, self.seg + audio.N_FFT))], axis=1)
        mel = _mel_power(x, self.window, self.fbank_t)  # (batch, frames, mels)
        idx = ops.arange(n)[:, None] * self.hop + ops.arange(self.frames)[None, :]  # (n, frames)
        segs = ops.take(mel, idx, axis=1)  # (batch, n, frames, mels)
        db = _to_db(segs, axes=(2, 3), top_db=self.top_db)
        return ops.transpose(db, (0, 1, 3, 2))  # (batch, n, mels, frames)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], None, audio.N_MELS, self.frames)

    def get_config(self):
        config = super().get_config()
        config.update({"segment_seconds": self.segment_seconds, "sample_rate": self.sample_rate,
                       "top_db": self.top_db})
        return config
