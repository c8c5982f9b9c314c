"""Genre classifier: a backbone plus a softmax head (one genre a track) or a sigmoid head (multi-label genres)."""

import keras
from keras import layers

from keras_tsr import audio
from keras_tsr.errors import ArgumentError
from keras_tsr.models.architectures import get_architecture
from keras_tsr.models.backbone import TSResformerBackbone
from keras_tsr.models.class_accuracy import genre_accuracy_metrics

TASKS = ("single_label", "multilabel")


@keras.saving.register_keras_serializable(package="keras_tsr")
class GenreClassifier(keras.Model):
    """Genre classifier over a `TSResformerBackbone`.

    Args:
        backbone: a `TSResformerBackbone`.
        num_classes: number of genres.
        dropout: dropout before the classification layer.
        task: "single_label" (softmax: one genre a track, the paper's) or "multilabel" (sigmoid: one probability
            a genre, trained with binary cross-entropy).
        preprocessor: a `GenrePreprocessor` (the genres and the front-end geometry), which a trained preset
            carries; not part of `get_config` (a preset stores it in preprocessor.json, as keras-hub does).

    The output layer always runs in float32, so softmax and sigmoid stay stable under
    mixed precision.

    Example:
    >>> from keras_tsr.models import TSResformerBackbone, architectures
    >>> model = GenreClassifier(TSResformerBackbone(**architectures.ARCHITECTURES["debug"]["backbone"]), num_classes=8)
    >>> tuple(model(np.zeros((2, 128, 512), "float32")).shape)
    (2, 8)
    """

    def __init__(self, backbone, num_classes, dropout=0.0, preprocessor=None, task="single_label", **kwargs):
        if num_classes < 2:
            raise ArgumentError(f"num_classes must be >= 2. Received: num_classes={num_classes}")
        if task not in TASKS:
            raise ArgumentError(f"task must be one of {', '.join(TASKS)}. Received: task={task!r}")
        inputs = backbone.input
        x = backbone(inputs)
        if dropout:
            x = layers.Dropout(dropout, name="head_dropout")(x)
        activation = "sigmoid" if task == "multilabel" else "softmax"
        outputs = layers.Dense(num_classes, activation=activation, dtype="float32", name="predictions")(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = dropout
        self.task = task
        if preprocessor is not None and preprocessor.class_names and len(preprocessor.class_names) != num_classes:
            raise ArgumentError(f"the preprocessor names {len(preprocessor.class_names)} genres for "
                                f"{num_classes} outputs")
        self.preprocessor = preprocessor

    @property
    def class_names(self):
        """The genres of the outputs, in order (from the preprocessor; None without one)."""
        return None if self.preprocessor is None else self.preprocessor.class_names

    @property
    def geometry(self):
        """The front-end geometry (`keras_tsr.audio.Geometry`) the model was trained with; None without a
        preprocessor."""
        return None if self.preprocessor is None else self.preprocessor.geometry

    @classmethod
    def from_preset(cls, preset, num_classes=None, compile=True, task="single_label", **backbone_overrides):
        """A new classifier over a named architecture's backbone, or a trained one from a preset folder or handle.

        Args:
            preset: an architecture name (`keras_tsr.models.architectures.ARCHITECTURES`: "ts_resformer", the paper's model,
                "demo", ...), or a trained model's preset: a folder `save_to_preset` wrote, `hf://USER/NAME`
                (needs huggingface_hub) or `kaggle://OWNER/MODEL/keras/VARIANT` (needs kagglehub).
            num_classes: number of genres of a new classifier (a trained preset has its own: another number is
                refused, not ignored).
            compile: compile with the paper's training settings.
            task: a new classifier's head: "single_label" (softmax) or "multilabel" (sigmoid).
            **backbone_overrides: replace backbone arguments of a new classifier (e.g. num_frames=256); refused
                for a trained preset, whose weights fit only its own architecture.

        Example:
        >>> GenreClassifier.from_preset("ts_resformer", num_classes=8).count_params()
        2354608

        A trained preset folder (`tsr export --format preset`) loads the same way, with its genres:
        `GenreClassifier.from_preset("presets/tsr_fma_small").class_names`.
        """
        from keras_tsr import hub
        from keras_tsr.models import loading
        from keras_tsr.models.architectures import ARCHITECTURES

        if preset not in ARCHITECTURES and (hub.is_handle(preset) or hub.is_preset(preset)):
            path = hub.resolve(preset) if hub.is_handle(preset) else preset
            if not hub.is_preset(path):
                raise ArgumentError(f"{preset} is not a keras-tsr preset (no config.json, model.weights.h5 and "
                                 f"metadata.json in it)")
            info = hub.read_metadata(path)
            trained_classes = len(info.get("class_names") or ())
            if backbone_overrides or (num_classes is not None and num_classes != trained_classes):
                given = ([f"num_classes={num_classes}"] if num_classes is not None else []) + \
                    [f"{k}={v!r}" for k, v in backbone_overrides.items()]
                raise ArgumentError(f"{preset} is a trained model ({trained_classes} genres): it loads as it was "
                                    f"trained and cannot take {', '.join(given)}. For a new head or other backbone "
                                    f"arguments, fine-tune from it (`tsr train --init-from {preset}`)")
            model = loading.load_preset(path, for_inference=not compile)
            if compile:
                model.compile_paper_defaults(class_names=model.class_names if model.task != "multilabel" else None)
            return model
        get_architecture(preset)  # an unknown name: one line listing the architectures
        if num_classes is None:
            raise ArgumentError(f"num_classes is required for a new classifier over the {preset!r} architecture")
        backbone = TSResformerBackbone.from_preset(preset, **backbone_overrides)
        model = cls(backbone, num_classes, dropout=get_architecture(preset)["head_dropout"], name=preset, task=task)
        if compile:
            model.compile_paper_defaults()
        return model

    def save_to_preset(self, path, class_names=None, geometry=None, card=None, overwrite=False, **info):
        """Writes this model as a keras-hub style preset folder (`keras_tsr.models.preset_saving`).

        Args:
            path: the folder.
            class_names: the genres of the outputs, in order (default: those it was loaded with).
            geometry: the front-end geometry (`keras_tsr.audio.Geometry` or its dict; default: what it was loaded
                with, else the paper's 12 s).
            card: the model card's text (default: a short one).
            **info: more metadata (preset, dataset, overrides).
        """
        from keras_tsr.models import preset_saving
        from keras_tsr.models.preprocessor import GenrePreprocessor

        names = class_names or self.class_names
        if not names or len(names) != self.num_classes:
            raise ArgumentError(f"save_to_preset needs the {self.num_classes} class names of the outputs. "
                                f"Received: {names}")
        preprocessor = GenrePreprocessor(names, geometry or self.geometry)
        meta = {"class_names": preprocessor.class_names, "geometry": preprocessor.geometry.to_dict(),
                "preset": info.pop("preset", self.name), "overrides": info.pop("overrides", {}),
                "dataset": info.pop("dataset", None), "outputs": ["probabilities", "embedding"], **info}
        return preset_saving.save_preset(self, path, meta, preprocessor, card, overwrite=overwrite)

    def compile_paper_defaults(self, learning_rate=1e-3, class_names=None, optimizer=None, steps_per_execution=1,
                               positive_weights=None):
        """Compiles with the paper's settings: Adam(1e-3), categorical cross-entropy, accuracy; a multi-label
        head: binary cross-entropy, with the micro ROC-AUC over every (example, genre) pair (`auc`, what its
        checkpoint monitors: Keras' per-genre average would count genres absent from a validation split as 0).

        With `class_names`, each genre's accuracy is a metric too (`acc_<genre>`, single-label); `optimizer`
        replaces Adam (a training recipe's AdamW or schedule); `steps_per_execution` runs that many steps a
        compiled call; `positive_weights` (multi-label) weighs each genre's positives in the loss
        (`keras_tsr.models.losses.WeightedBinaryCrossentropy`).
        """
        optimizer = optimizer or keras.optimizers.Adam(learning_rate)
        if self.task == "multilabel":
            from keras_tsr.models.losses import WeightedBinaryCrossentropy

            loss = "binary_crossentropy" if positive_weights is None else WeightedBinaryCrossentropy(positive_weights)
            self.compile(optimizer=optimizer, loss=loss,
                         metrics=[keras.metrics.AUC(num_thresholds=200, name="auc")],
                         steps_per_execution=steps_per_execution)
            return
        metrics = ["accuracy"] + (genre_accuracy_metrics(class_names) if class_names else [])
        self.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=metrics,
                     steps_per_execution=steps_per_execution)

    @property
    def monitor(self):
        """The validation metric a checkpoint keeps the best of: val_accuracy, or a multi-label head's val_auc."""
        return "val_auc" if self.task == "multilabel" else "val_accuracy"

    def get_config(self):
        config = super().get_config()
        config.update({
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_classes": self.num_classes,
            "dropout": self.dropout,
        })
        if self.task != "single_label":  # a single-label config stays what it was
            config["task"] = self.task
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
