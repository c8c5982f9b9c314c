"""Writing a trained model as a keras-hub preset (the layout: `keras_tsr.hub`): a folder that travels, loads with
`GenreClassifier.from_preset(dir)` (`keras_tsr.models.loading`), and publishes to Hugging Face or Kaggle as it is;
and its model card.
"""

from __future__ import annotations

import datetime
import os
import shutil

from keras_tsr.errors import OutputExistsError
from keras_tsr.hub import CARD, CONFIG, LICENSE, METADATA, PREPROCESSOR, WEIGHTS
from keras_tsr.utils import write_json_atomic, write_text_atomic


def save_preset(model, path, info, preprocessor, card=None, overwrite=False):
    """Writes `model` (a GenreClassifier) as a preset folder at `path`.

    Args:
        model: the Keras model.
        path: the folder to write (refused if it holds files, unless `overwrite`).
        info: the keras-tsr metadata: class_names, geometry (dict), preset, dataset (metadata.json, which
            tools read without Keras).
        preprocessor: its `GenrePreprocessor` (preprocessor.json, which loading reads back).
        card: the model card's text (README.md); a short one from `info` if None.
        overwrite: replace an existing preset (the old one stays whole until the new one is in place).
    """
    import keras

    path = os.fspath(path).rstrip("/")
    if os.path.exists(path) and os.listdir(path) and not overwrite:
        raise OutputExistsError(f"{path} already holds files: choose another folder or pass --overwrite")
    from keras_tsr import __version__

    tmp = path + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        write_json_atomic(os.path.join(tmp, CONFIG), keras.saving.serialize_keras_object(model))
        model.save_weights(os.path.join(tmp, WEIGHTS))
        write_json_atomic(os.path.join(tmp, METADATA), {
            "keras_version": keras.version(),
            "keras_tsr_version": __version__,
            "parameter_count": int(model.count_params()),
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            "keras_tsr": info,
        })
        write_json_atomic(os.path.join(tmp, PREPROCESSOR), keras.saving.serialize_keras_object(preprocessor))
        write_text_atomic(os.path.join(tmp, CARD), card or model_card(info, name=os.path.basename(path)))
        if os.path.exists(path):
            old = path + ".old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _interval(block, key):
    ci = (block.get("ci95") or {}).get(key)
    return f" (95% CI {ci[0]:.3f}-{ci[1]:.3f})" if ci else ""


def _multilabel_card(metrics):
    lines = [f"## Multi-label scores on the `{metrics.get('split', 'test')}` split (one run)", "",
             "| level | n | macro ROC-AUC | macro AP | micro-F1 | hierarchical F1 | top-level accuracy |",
             "|---|---|---|---|---|---|---|"]
    for level in ("segment", "track"):
        b = metrics[level]
        cell = lambda k, b=b: (f"{b[k]:.3f}{_interval(b, k)}" if k in b else "n/a")  # noqa: E731
        lines.append(f"| {level} | {b['n']} | {cell('macro_roc_auc')} | {cell('macro_average_precision')} | "
                     f"{cell('micro_f1')} | {cell('hierarchical_f1')} | {cell('top_level_accuracy')} |")
    return lines + ["", f"One sigmoid probability a genre; F1 at the threshold {metrics['threshold']:.2f}, tuned on "
                        f"the validation split. Intervals: 95% bootstrap over tracks. No published figure for FMA's "
                        f"multi-label genres to compare with.", ""]


def model_card(info, name="model", config=None, metrics=None, done=None):
    """The preset's README.md: what the model is, what it was trained on and for how long, its accuracies (plain
    and the paper's Eq. 10, segment and track level, with bootstrap intervals), the geometry, license, loading.
    `config`: the training workdir's `RunRecord` (or None for a model without its workdir)."""
    config, metrics, done = config or {}, metrics or {}, done or {}
    g = info["geometry"]
    synthetic = bool(config.get("demo")) or "demo" in str(info.get("dataset", ""))
    lines = [
        "---", "library_name: keras", "tags: [keras-tsr, audio-classification, music-genre-classification]",
        "license: apache-2.0", "---", "",
        f"# {name}: TS-Resformer music genre classifier (keras-tsr)", "",
        (f"A `{info.get('preset')}` TS-Resformer over log-mel segments, tagging each track with any of "
         f"{len(info['class_names'])} genres (multi-label: their parents included; threshold "
         f"{info.get('threshold', 0.5):.2f})." if info.get("task") == "multilabel" else
         f"A `{info.get('preset')}` TS-Resformer over log-mel segments, classifying "
         f"{len(info['class_names'])} genres: {', '.join(info['class_names'])}."), "",
        "## Training", "",
        f"- data: `{info.get('dataset')}`" + (" (synthetic demo audio, not real music)" if synthetic else ""),
        f"- epochs: {config.get('epochs', 'unknown')} at batch {config.get('batch_size', 'unknown')}, "
        f"seed {config.get('seed', 'unknown')}, augmentation `{config.get('augment', 'none')}`, "
        f"backend {config.get('backend', 'unknown')}" + (f", {done['train_seconds']:.0f} s of training"
                                                         if done.get("train_seconds") else ""),
        "",
    ]
    if metrics.get("task") == "multilabel" and metrics.get("track"):
        lines += _multilabel_card(metrics)
    elif metrics.get("segment") and metrics.get("track"):
        lines += [f"## Accuracy on the `{metrics.get('split', 'test')}` split (one run)", "",
                  "| level | n | accuracy | Eq. 10 average accuracy | macro F1 |", "|---|---|---|---|---|"]
        for level in ("segment", "track"):
            b = metrics[level]
            lines.append(f"| {level} | {b['n']} | {b['accuracy']:.3f}{_interval(b, 'accuracy')} | "
                         f"{b['average_accuracy']:.3f}{_interval(b, 'average_accuracy')} | "
                         f"{b['macro_f1']:.3f}{_interval(b, 'macro_f1')} |")
        lines += ["", "Intervals: 95% bootstrap over tracks. The paper reports 90.23% Eq. 10 average accuracy on "
                  "FMA-small (segment level); plain accuracy is the stricter figure.", ""]
    else:
        lines += ["## Accuracy", "", "Not evaluated (no eval/metrics.json in the training workdir).", ""]
    lines += [
        "## Front-end", "",
        f"Mono {g['sample_rate']} Hz, {g['n_mels']}-band log-mel (n_fft {g['n_fft']}, hop {g['hop_length']}, "
        f"top_db {g['top_db']}), segments of {g['segment_seconds']} s ({g['frames']} frames) at overlap "
        f"{g['overlap']}; a track's probabilities are the mean over its segments. The geometry is in "
        "preprocessor.json (a `GenrePreprocessor`) and metadata.json.", "",
        "## License", "", LICENSE + ".", "",
        "## Load it", "", "```python",
        "from keras_tsr.models import GenreClassifier",
        f"model = GenreClassifier.from_preset(\"{name}\")      # or \"hf://USER/{name}\", \"kaggle://...\"",
        "```", "", "```bash", f"tsr predict song.mp3 --model {name}", f"tsr embed music/ --model {name} -o emb.npz",
        "```", "",
    ]
    return "\n".join(lines)
