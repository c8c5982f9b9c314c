"""The multi-label head's loss with a weight for each genre's positives (`--class-weight balanced`)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_tsr")
class WeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy with each genre's positive term weighted, averaged over genres:

        -(w_j y log p + (1 - y) log(1 - p))

    Keras' BinaryCrossentropy has no per-genre positive weight; with every `positive_weights` 1 this is it.

    Example:
    >>> loss = WeightedBinaryCrossentropy([1.0, 1.0])
    >>> plain = keras.losses.BinaryCrossentropy()
    >>> y, p = np.array([[1.0, 0.0]]), np.array([[0.8, 0.3]])
    >>> bool(abs(float(loss(y, p)) - float(plain(y, p))) < 1e-5)
    True
    """

    def __init__(self, positive_weights, name="weighted_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positive_weights = [float(w) for w in positive_weights]

    def call(self, y_true, y_pred):
        eps = keras.config.epsilon()
        p = ops.clip(ops.cast(y_pred, "float32"), eps, 1.0 - eps)
        y = ops.cast(y_true, "float32")
        w = ops.convert_to_tensor(self.positive_weights, dtype="float32")
        return -ops.mean(w * y * ops.log(p) + (1.0 - y) * ops.log(1.0 - p), axis=-1)

    def get_config(self):
        return {**super().get_config(), "positive_weights": self.positive_weights}
