import keras
import numpy as np
import pytest

from keras_tsr import audio
from keras_tsr.layers import (
    AxisAttention,
    ClipLogMelSegments,
    SEResBlock,
    SinePositionEncoding,
    TFAttention,
    TransformerEncoder,
)
from keras_tsr.testing import TestCase, realistic_signal


@pytest.mark.parametrize("layer_cls,kwargs,shape", [
    (AxisAttention, {"axis": "time", "reduction": 4}, (2, 16, 24, 8)),
    (AxisAttention, {"axis": "frequency", "reduction": 4}, (2, 16, 24, 8)),
    (AxisAttention, {"axis": "time", "reduction": 4, "reading": "axis"}, (2, 16, 24, 8)),
    (AxisAttention, {"axis": "frequency", "reduction": 4, "reading": "axis"}, (2, 16, 24, 8)),
    (TFAttention, {"filters": 8, "reduction": 4, "attention_reading": "axis"}, (2, 32, 40, 1)),
    (TFAttention, {"filters": 8, "reduction": 4}, (2, 32, 40, 1)),
    (SEResBlock, {"filters": 8, "strides": 2, "se_reduction": 4}, (2, 16, 20, 4)),
    (SEResBlock, {"filters": 4, "strides": 1, "squeeze_excite": False}, (2, 16, 20, 4)),
    (SinePositionEncoding, {}, (2, 12, 16)),
    (TransformerEncoder, {"num_heads": 2, "intermediate_dim": 32, "dropout": 0.4}, (2, 12, 16)),
])
class TestLayers(TestCase):
    def test_shapes_config_and_saving(self, layer_cls, kwargs, shape):
        x = np.random.default_rng(0).standard_normal(shape).astype("float32")
        self.run_layer_test(layer_cls, kwargs, x)


def test_tf_attention_uses_paper_kernels():
    layer = TFAttention()
    layer.build((None, 128, 512, 1))
    assert tuple(layer.freq_conv.kernel.shape) == (6, 2, 1, 32)
    assert tuple(layer.time_conv.kernel.shape) == (2, 10, 1, 32)
    assert layer.compute_output_shape((None, 128, 512, 1)) == (None, 128, 512, 64)


def test_axis_reading_gives_one_weight_per_step():
    """reading="axis": every channel and every frequency band of a frame gets the same weight."""
    x = np.ones((1, 6, 10, 4), "float32")
    layer = AxisAttention("time", reduction=2, reading="axis")
    y = keras.ops.convert_to_numpy(layer(x))
    assert np.allclose(y, y[:, :1, :, :1])  # constant over frequency and channels
    assert [w.shape for w in layer.reduce.weights][0] == (10, 5)  # the reduction runs along time: 10 -> 5
    channel = AxisAttention("time", reduction=2, reading="channel")
    channel(x)
    assert channel.reduce.weights[0].shape[-2:] == (4, 2)  # the reduction runs over channels: 4 -> 2
    with pytest.raises(ValueError, match="reading"):
        AxisAttention(reading="both")


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="axis"):
        AxisAttention(axis="space")
    with pytest.raises(ValueError, match="num_heads"):
        TransformerEncoder(num_heads=3)(np.zeros((1, 4, 16), "float32"))
    with pytest.raises(ValueError, match="segment_seconds"):
        ClipLogMelSegments(segment_seconds=0)


@pytest.mark.parametrize("seconds,sr", [(12.0, 44100), (6.0, 22050)])
def test_clip_segments_layer_matches_numpy_clip_features(seconds, sr):
    for length, seed in ((int(29.98 * sr), 4), (int(7.5 * sr), 5)):
        clip = realistic_signal(length / sr, sr, seed=seed)[:length]
        ours = audio.clip_features(clip, seconds, sample_rate=sr)
        got = keras.ops.convert_to_numpy(ClipLogMelSegments(seconds, sample_rate=sr)(clip[None]))[0]
        assert got.shape == ours.shape
        diff = np.abs(got - ours)
        assert diff.mean() <= 0.01 and diff.max() <= 0.5, (diff.mean(), diff.max())


def test_clip_segments_layer_config_round_trip():
    layer = ClipLogMelSegments(6.0, sample_rate=22050)
    assert ClipLogMelSegments.from_config(layer.get_config()).get_config() == layer.get_config()
