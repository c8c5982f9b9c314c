"""Genre classifier: a backbone plus a softmax head."""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="keras_tsr")
class GenreClassifier(keras.Model):
    """Softmax genre classifier over a `TSResformerBackbone`.

    Args:
        backbone: a `TSResformerBackbone`.
        num_classes: number of genres.
        dropout: dropout before the classification layer.

    The output layer always runs in float32, so softmax stays stable under
    mixed precision.

    Example:
    >>> model = GenreClassifier(TSResformerBackbone(**debug_args), num_classes=8)
    >>> model(np.zeros((2, 128, 512), "float32")).shape
    (2, 8)
    """

    def __init__(self, backbone, num_classes, dropout=0.0, **kwargs):
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2. Received: num_classes={num_classes}")
        inputs = backbone.input
        x = backbone(inputs)
        if dropout:
            x = layers.Dropout(dropout, name="head_dropout")(x)
        outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="predictions")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = dropout

    def compile_paper_defaults(self, learning_rate=1e-3):
        """Compiles with the paper's settings: Adam(1e-3), categorical cross-entropy, accuracy."""
        self.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                     metrics=["accuracy"])

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
