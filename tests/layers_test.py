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
    (TFAttention, {"filters": 8, "reduction": 4, "conv1": "fused"}, (2, 32, 40, 1)),
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


def _outputs_and_gradients(layer, x, training):
    """The layer's output and the gradients of a fixed projection of it w.r.t. its input and its weights."""
    w = np.random.default_rng(1).standard_normal(layer.compute_output_shape(x.shape)).astype("float32")
    if keras.backend.backend() == "jax":
        import jax

        tv = [v.value for v in layer.trainable_variables]
        ntv = [v.value for v in layer.non_trainable_variables]

        def loss(tv, x):
            y, _ = layer.stateless_call(tv, ntv, x, training=training)
            return (y * w).sum(), y

        (_, y), (g_w, g_x) = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)(tv, x)
        return [np.asarray(y), np.asarray(g_x), *map(np.asarray, g_w)]
    import tensorflow as tf

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt, training=training)
        loss = tf.reduce_sum(y * w)
    grads = tape.gradient(loss, [xt, *layer.trainable_variables])
    return [y.numpy(), *(g.numpy() for g in grads)]


@pytest.mark.parametrize("freq_kernel,time_kernel", [((6, 2), (2, 10)), ((5, 3), (3, 7)), ((2, 2), (2, 2)),
                                                     ((8, 1), (1, 12))])
@pytest.mark.parametrize("training", [False, True])
def test_fused_conv1_computes_what_the_two_convolutions_do(freq_kernel, time_kernel, training):
    """conv1="fused" changes how Conv1 is computed, not what: with the same weights, outputs and the gradients
    (input and every weight) equal the two separate convolutions' within 1e-5 in float32 (relative to each array's
    largest value: the kernels' gradients are sums whose order differs), in inference and in training (batch
    statistics); the paper's kernels and odd and one-wide ones."""
    x = np.random.default_rng(0).uniform(-1, 1, (2, 24, 40, 1)).astype("float32")
    layers = [TFAttention(8, freq_kernel, time_kernel, reduction=4, conv1=c) for c in ("separate", "fused")]
    for layer in layers:
        layer.build(x.shape)
    layers[1].set_weights(layers[0].get_weights())  # the same variables in the same order: checkpoints load
    old, new = (_outputs_and_gradients(layer, x, training) for layer in layers)
    assert len(old) == len(new) == 2 + len(layers[0].trainable_variables)
    for a, b in zip(old, new):  # 1e-5 of each array's scale: a weight gradient sums ~2,000 products
        np.testing.assert_allclose(b, a, atol=1e-5 * max(1.0, float(np.abs(a).max())), rtol=1e-5)


def test_a_checkpoint_of_separate_conv1_loads_into_fused(tmp_path):
    """A model saved before the option existed (conv1 absent from its config) loads as "separate"; its weights
    load into a fused model of the same architecture, which predicts the same."""
    from keras_tsr.models import GenreClassifier

    x = np.random.default_rng(2).uniform(-80, 0, (2, 128, 128)).astype("float32")
    old = GenreClassifier.from_preset("debug", num_classes=3, num_frames=128, compile=False)
    path = str(tmp_path / "m.weights.h5")
    old.save_weights(path)
    fused = GenreClassifier.from_preset("debug", num_classes=3, num_frames=128, compile=False, tf_conv1="fused")
    fused.load_weights(path)
    np.testing.assert_allclose(fused.predict_on_batch(x), old.predict_on_batch(x), atol=1e-5)
    config = old.backbone.get_layer("tf_attention").get_config()
    config.pop("conv1")
    assert TFAttention.from_config(config).conv1 == "separate"


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
