"""Genre classifier: a backbone plus a softmax head."""

import keras
from keras import layers

from keras_tsr import audio
from keras_tsr.models.backbone import TSResformerBackbone
from keras_tsr.models.class_accuracy import genre_accuracy_metrics
from keras_tsr.models.presets import get_preset


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

    @classmethod
    def from_preset(cls, preset, num_classes, compile=True, **backbone_overrides):
        """A classifier over a named preset's backbone (`keras_tsr.models.presets.PRESETS`).

        Args:
            preset: a preset name, e.g. "ts_resformer" (the paper's model) or "demo".
            num_classes: number of genres.
            compile: compile with the paper's training settings.
            **backbone_overrides: replace backbone arguments (e.g. num_frames=256).

        Example:
        >>> model = GenreClassifier.from_preset("ts_resformer", num_classes=8)
        """
        backbone = TSResformerBackbone.from_preset(preset, **backbone_overrides)
        model = cls(backbone, num_classes, dropout=get_preset(preset)["head_dropout"], name=preset)
        if compile:
            model.compile_paper_defaults()
        return model

    def compile_paper_defaults(self, learning_rate=1e-3, class_names=None, optimizer=None):
        """Compiles with the paper's settings: Adam(1e-3), categorical cross-entropy, accuracy.

        With `class_names`, each genre's accuracy is a metric too (`acc_<genre>`); `optimizer` replaces
        Adam (a training recipe's AdamW or schedule).
        """
        metrics = ["accuracy"] + (genre_accuracy_metrics(class_names) if class_names else [])
        self.compile(optimizer=optimizer or keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy",
                     metrics=metrics)

    def get_config(self):
        config = super().get_config()
        config.update({
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)


def build_classifier(preset="ts_resformer", num_classes=8, num_frames=None, num_mels=None, compile=True,
                     **overrides):
    """Alias of `GenreClassifier.from_preset` (num_frames defaults to a 12 s segment's)."""
    return GenreClassifier.from_preset(preset, num_classes, compile=compile,
                                       num_frames=num_frames or audio.num_frames(),
                                       num_mels=num_mels or audio.N_MELS, **overrides)
