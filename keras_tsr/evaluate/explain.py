"""What the model listened to: `tsr explain FILE --model WORKDIR -o out.png`.

One picture per file: the clip's log-mel with the TF-Attention time weights
drawn along the time axis and the frequency weights along the mel axis, and
the genre probabilities of each segment over time (where the model changed
its mind), beside the track-level result. It needs the Keras model (a
training workdir, or its .keras file): the attention weights are read from
it; an exported SavedModel serves predictions only.
"""

from __future__ import annotations

import os

import numpy as np

from keras_tsr import audio
from keras_tsr.errors import KerasTsrError
from keras_tsr.utils import save_figure


class ExplainError(KerasTsrError, ValueError):
    """The model cannot be explained (no TF-Attention, or not a workdir)."""


def explain_file(path, model_ref):
    """Segment probabilities and TF-Attention weights of one file; returns a dict of numpy arrays."""
    import keras

    from keras_tsr.artifacts import ModelError, open_model

    try:
        ref = open_model(model_ref)
        geometry, names = ref.geometry, ref.class_names
        model = ref.load(for_inference=True)
    except ModelError as e:
        raise ExplainError(f"{e} (explain reads the attention weights from the Keras model)") from None
    segments, clip_db, num_samples = _file_log_mel(path, geometry)
    probs = np.concatenate([np.asarray(model.predict_on_batch(segments[i : i + CALL]))
                            for i in range(0, len(segments), CALL)])
    backbone = model.backbone
    try:
        tfa = backbone.get_layer("tf_attention")
    except ValueError:
        raise ExplainError(f"{model_ref}: its model has no TF-Attention module (preset {ref.metadata.get('preset')!r}); "
                           f"explain shows the attention of TS-Resformer models") from None
    stem = keras.Model(backbone.input, backbone.get_layer("add_channel").output)
    weights = [tfa.attention_weights(stem(segments[i : i + CALL])) for i in range(0, len(segments), CALL)]
    fw = np.concatenate([keras.ops.convert_to_numpy(f) for f, _ in weights])
    tw = np.concatenate([keras.ops.convert_to_numpy(t) for _, t in weights])
    return {"file": os.fspath(path), "class_names": names, "geometry": geometry,
            "segments": segments, "probabilities": probs, "freq_weights": fw, "time_weights": tw,
            "clip_db": clip_db, "num_samples": num_samples,
            # a multi-label model: each genre is its own yes/no, decided at the threshold tuned on validation
            "threshold": float(ref.metadata.get("threshold", 0.5)) if ref.metadata.get("task") == "multilabel"
            else None}


CALL = 16  # segments a model call at most (an hour's 600 in one call would need gigabytes)


def _file_log_mel(path, geometry):
    """(segments, the log-mel to draw (mels, frames), samples): a file over ten minutes is read in blocks
    (`keras_tsr.audio.streaming`) and drawn from its segments, overlapping frames averaged."""
    from keras_tsr.audio import streaming

    seconds = streaming.duration(path)
    if seconds is None or seconds <= streaming.STREAM_SECONDS:
        x = audio.load_audio(path, geometry.sample_rate)
        return audio.segments(x, geometry), audio.clip_db(x, geometry.sample_rate), len(x)
    segments = streaming.file_segments(path, geometry)
    frames = (len(segments) - 1) * geometry.hop_frames + geometry.frames
    drawn = np.stack([_overlap_add(segments[:, m, :], geometry.hop_frames, frames) for m in range(segments.shape[1])])
    return segments, drawn.astype(np.float32), int(seconds * geometry.sample_rate)


def _overlap_add(per_segment, hop, length):
    """Places each segment's per-frame values at its start and averages where segments overlap."""
    total, count = np.zeros(length), np.zeros(length)
    for i, v in enumerate(per_segment):
        start = i * hop
        end = min(start + len(v), length)
        total[start:end] += v[: end - start]
        count[start:end] += 1
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def plot(result, out_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = result["geometry"]
    names = result["class_names"]
    probs = result["probabilities"]
    n_seg = len(probs)
    clip = result["clip_db"]
    clip = np.maximum(clip - clip.max(), -g.top_db)
    frames = min(clip.shape[1], (n_seg - 1) * g.hop_frames + g.frames)
    clip = clip[:, :frames]
    sec_per_frame = g.hop_length / g.sample_rate
    time_w = _overlap_add(result["time_weights"], g.hop_frames, frames)
    freq_w = result["freq_weights"].mean(axis=0)

    fig = plt.figure(figsize=(13, 8.5))
    grid = fig.add_gridspec(3, 2, width_ratios=(12, 1.6), height_ratios=(4, 1.2, 3), hspace=0.35, wspace=0.05)
    ax = fig.add_subplot(grid[0, 0])
    extent = (0, frames * sec_per_frame, 0, clip.shape[0])
    ax.imshow(clip, origin="lower", aspect="auto", cmap="magma", extent=extent)
    ax.set_ylabel("mel band")
    ax.set_title(f"{os.path.basename(result['file'])}: log-mel (dB re max)")
    ax_f = fig.add_subplot(grid[0, 1], sharey=ax)
    ax_f.plot(freq_w, np.arange(len(freq_w)) + 0.5, color="tab:green")
    ax_f.set_xlabel("frequency\nattention")
    ax_f.tick_params(labelleft=False)
    ax_t = fig.add_subplot(grid[1, 0], sharex=ax)
    ax_t.plot(np.arange(frames) * sec_per_frame, time_w, color="tab:blue")
    ax_t.set_ylabel("time\nattention")
    ax_p = fig.add_subplot(grid[2, 0], sharex=ax)
    centres = (np.arange(n_seg) * g.hop_frames + g.frames / 2) * sec_per_frame
    for j in np.argsort(probs.mean(0))[::-1][: min(5, len(names))]:
        ax_p.plot(centres, probs[:, j], marker="o", label=names[j])
    threshold = result.get("threshold")
    if threshold is not None:
        ax_p.axhline(threshold, color="black", linestyle="--", linewidth=1, label=f"threshold {threshold:.2f}")
    ax_p.set_ylim(-0.02, 1.02)
    ax_p.set_xlabel("time (s): segment centres")
    ax_p.set_ylabel("genre probability\nper segment")
    ax_p.legend(fontsize=8, loc="upper right")
    head = _track_panel(fig.add_subplot(grid[2, 1]), probs.mean(0), names, threshold)
    fig.suptitle(f"{head}\n{n_seg} segments of "
                 f"{g.segment_seconds:g} s, TF-Attention weights averaged over channels and overlapping segments")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    save_figure(fig, out_path, dpi=100)
    plt.close(fig)
    return out_path


def _track_panel(ax_b, track, names, threshold):
    """The track's five most probable genres as bars (a multi-label model's over its threshold in green, the
    threshold drawn); returns the figure's headline."""
    order = np.argsort(track)[::-1][: min(5, len(names))]
    ax_b.barh(range(len(order))[::-1], track[order], color=[
        "tab:green" if threshold is not None and track[j] >= threshold else "tab:gray" for j in order])
    if threshold is not None:
        ax_b.axvline(threshold, color="black", linestyle="--", linewidth=1)
    ax_b.set_yticks(range(len(order))[::-1], [names[j] for j in order], fontsize=8)
    ax_b.yaxis.tick_right()
    ax_b.set_xlim(0, 1)
    ax_b.set_xlabel("track")
    if threshold is None:
        return f"{names[int(track.argmax())]} ({track.max():.2f})"
    over = ", ".join(f"{names[j]} ({track[j]:.2f})" for j in np.argsort(track)[::-1] if track[j] >= threshold)
    return "genres over the threshold: " + (over[:120] or "none")
