"""The grids of the paper's studies (section 4): each a list of settings, backbone arguments over one base
preset (`ts_resformer` at full scale, `demo` at demo scale), with the scales they run at and the runs' folders.
`keras_tsr.studies.experiment` runs them; `keras_tsr.studies.results` writes their tables and plots."""

from __future__ import annotations

import dataclasses
import os

from keras_tsr.errors import ArgumentError
from keras_tsr.models.architectures import PLAIN_RES
from keras_tsr.utils import slug


@dataclasses.dataclass
class Setting:
    """One row of a grid: a label, the backbone arguments it changes, and what the paper says of it."""

    label: str
    overrides: dict = dataclasses.field(default_factory=dict)
    x: float | None = None  # position on the plot's x axis (seconds, filter size, layers)
    segment_seconds: int = 12
    paper: str = ""
    clip_level: bool = False  # cut from the clip-level build (any length) instead of the 12 s build


def _slice_length():
    claims = {3: "best accuracy, slowest training (Fig. 13)", 12: "0.36 points below 3 s, far less training time"}
    return [Setting(f"{s} s", {}, s, s, claims.get(s, ""), clip_level=True) for s in (3, 5, 6, 10, 12, 15)]


def _filter_height():
    return [Setting(f"height {h}", {"freq_kernel": (h, 2)}, h, paper="chosen: 6" if h == 6 else "")
            for h in range(2, 16)]


def _filter_width():
    return [Setting(f"width {w}", {"time_kernel": (2, w)}, w, paper="chosen: 10" if w == 10 else "")
            for w in range(2, 16)]


def _ablation():
    return [
        Setting("serial", {**PLAIN_RES, "fusion": "serial"}, paper="parallel is +1.01 acc, +0.032 F1 over it"),
        Setting("parallel", dict(PLAIN_RES), paper="+1.01 acc, +0.032 F1 over serial"),
        Setting("+TF-Attention", {"squeeze_excite": False}, paper="+1.51 acc, +0.019 F1 (TF-Attention)"),
        Setting("+SE-Res", {"tf_attention": False}, paper="+1.3 acc, +0.01 F1 (SE-Res)"),
        Setting("full", {}, paper="TS-Resformer: 90.23 (Eq. 10 average accuracy, i.e. 60.9 plain)"),
        Setting("full, axis attention", {"attention_reading": "axis"},
                paper="(the other reading of the attention descriptor)"),
    ]


def _transformer_layers():
    return [Setting(f"{n} layers", {"num_transformer_layers": n}, n, paper="best" if n == 4 else "")
            for n in range(1, 6)]


def _baselines():
    return [
        Setting("LSTM", {"spectral": False, "temporal": "lstm"}),
        Setting("GRU", {"spectral": False, "temporal": "gru"}),
        Setting("Bi-GRU", {"spectral": False, "temporal": "bigru"}),
        Setting("ResNet", {**PLAIN_RES, "temporal": None}),
        Setting("Transformer", {"spectral": False}),
        Setting("ResNet + LSTM", {**PLAIN_RES, "temporal": "lstm"}),
        Setting("ResNet + GRU", {**PLAIN_RES, "temporal": "gru"}),
        Setting("ResNet + Bi-GRU", {**PLAIN_RES, "temporal": "bigru"}),
        Setting("TS-Resformer", {}, paper="best of Table 5"),
    ]


GRIDS = {
    "slice_length": (_slice_length, "segment length (s)"),
    "filter_height": (_filter_height, "frequency filter height (mel bands)"),
    "filter_width": (_filter_width, "time filter width (frames)"),
    "ablation": (_ablation, None),
    "transformer_layers": (_transformer_layers, "Transformer layers"),
    "baselines": (_baselines, None),
}

# What a scale changes: the base preset, the data and the training length.
SCALES = {
    "full": {"preset": "ts_resformer", "epochs": None, "batch_size": 32, "demo": False},
    "demo": {"preset": "demo", "epochs": 2, "batch_size": 16, "demo": True, "demo_tracks_per_genre": 10},
    # smoke: the machinery of a grid (shards, resume, report) in about a minute; its numbers mean nothing
    "smoke": {"preset": "debug", "epochs": 1, "batch_size": 16, "demo": True, "demo_tracks_per_genre": 3},
}

# Sustained throughput assumed by --dry-run's time estimate (training costs about 3x the forward FLOPs).
# demo: measured on a 2-core CPU with the demo preset; full: an assumption for one H100, not a measurement.
ASSUMED_FLOPS_PER_S = {"demo": 20e9, "smoke": 20e9, "full": 100e12}
FMA_SMALL_TRAIN_TRACKS = 6400


def settings(name):
    if name not in GRIDS:
        raise ArgumentError(f"Unknown experiment {name!r}. Choose one of: {', '.join(GRIDS)}")
    return GRIDS[name][0]()


def plan(name, seeds=1):
    """[(setting, seed)] in run order: every setting's first seed, then the second, and so on."""
    return [(s, seed) for seed in range(seeds) for s in settings(name)]


def parse_shard(text):
    """"I/N" -> (I, N), 1 <= I <= N: the I-th of N disjoint parts of a grid."""
    try:
        i, n = (int(v) for v in str(text).split("/"))
    except ValueError:
        raise ArgumentError(f"--shard must be I/N (e.g. 2/4). Received: {text!r}") from None
    if not 1 <= i <= n:
        raise ArgumentError(f"--shard I/N needs 1 <= I <= N. Received: {text!r}")
    return i, n


def shard_runs(runs, shard=None):
    """The runs of one shard (I, N): every N-th run from the I-th, so each part mixes settings and seeds and the
    N parts together are the grid, each run in exactly one."""
    if shard is None:
        return list(runs)
    i, n = shard
    return [r for k, r in enumerate(runs) if k % n == i - 1]


def run_dir(root, setting, seed):
    return os.path.join(root, f"{slug(setting.label)}_seed{seed}")
