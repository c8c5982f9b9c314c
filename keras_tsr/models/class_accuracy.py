"""Per-genre accuracy, a metric of the classifier logged every epoch (the paper's Fig. 12)."""

import keras
from keras import ops

from keras_tsr.utils import slug


@keras.saving.register_keras_serializable(package="keras_tsr")
class ClassAccuracy(keras.metrics.Metric):
    """Accuracy on the examples of one class (its recall): correct / examples whose label is `class_id`.

    With one-hot labels and class probabilities, as `GenreClassifier` trains.
    Logged as `acc_<genre>` (and `val_acc_<genre>`), so `log.csv` and
    TensorBoard hold per-genre accuracy for every epoch.

    Args:
        class_id: the class index.
    """

    def __init__(self, class_id, name=None, **kwargs):
        super().__init__(name=name or f"acc_{class_id}", **kwargs)
        self.class_id = int(class_id)
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        is_class = ops.cast(ops.equal(ops.argmax(y_true, axis=-1), self.class_id), "float32")  # (batch,)
        hit = ops.cast(ops.equal(ops.argmax(y_pred, axis=-1), self.class_id), "float32")
        if sample_weight is not None:
            is_class = is_class * ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        self.total.assign_add(ops.sum(is_class))
        self.correct.assign_add(ops.sum(is_class * hit))

    def result(self):
        return ops.divide_no_nan(self.correct, self.total)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"class_id": self.class_id})
        return config


def genre_accuracy_metrics(class_names):
    """One ClassAccuracy per genre, named acc_<genre slug>."""
    return [ClassAccuracy(i, name=metric_name(n)) for i, n in enumerate(class_names)]


def metric_name(genre):
    """The metric name of a genre's accuracy: "Old-Time / Historic" -> "acc_old_time_historic"."""
    return f"acc_{slug(genre)}"
