"""What `tsr predict` shows and writes of its results: the table, the result files (.csv, .json, .jsonl) and the
genre-over-time picture (a taggram)."""

from __future__ import annotations

import os

import numpy as np

from keras_tsr.utils import printable


def format_table(results, top_k):
    """The table `tsr predict` prints: a row a file (names escaped), and under it a row a segment when the
    results hold their timeline (--segments)."""
    multilabel = any("genres" in r for r in results)
    lines = [f"{'file':40s} {'genre':16s} {'prob':>6s}  top-{top_k}" +
             (f"  |  over the threshold ({results[0]['threshold']:.2f}), as genre < parent" if multilabel else "")]
    for r in results:
        name = printable(r["file"])
        name = name if len(name) <= 40 else "..." + name[-37:]
        top = ", ".join(f"{g} {p:.2f}" for g, p in r["top_k"])
        over = "  |  " + (", ".join(f"{g['genre']}{' < ' + g['parent'] if g['parent'] else ''} {g['probability']:.2f}"
                                    for g in r["genres"]) or "none") if multilabel else ""
        lines.append(f"{name:40s} {r['genre']:16s} {r['probability']:6.3f}  {top}{over}")
        for s in r.get("timeline", ()):
            span = f"  {clock(s['start'])}-{clock(s['end'])}"
            top = ", ".join(f"{g} {p:.2f}" for g, p in s["top_k"])
            lines.append(f"{span:40s} {s['genre']:16s} {s['probability']:6.3f}  {top}")
    return "\n".join(lines)


def clock(seconds) -> str:
    """Seconds as h:mm:ss (or m:ss under an hour), as players show a position."""
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def write_results(path, results, class_names):
    """Writes `tsr predict`'s results to `path` (atomically), by its extension: .csv (a row a file, or with
    timelines a row a segment with its start and end; a column a genre), .json (a list) or .jsonl (a line a
    file). Names are kept exact."""
    import csv
    import io
    import json

    from keras_tsr.utils import write_text_atomic

    ext = os.path.splitext(path)[1].lower()
    if ext == ".json":
        return write_text_atomic(path, json.dumps(results, indent=1))
    if ext == ".jsonl":
        return write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in results))
    buf = io.StringIO()
    writer = csv.writer(buf)
    timelines = any("timeline" in r for r in results)
    writer.writerow(["file", *(("start", "end") if timelines else ()), "genre", "probability", *class_names])
    for r in results:
        for row in r.get("timeline", ()) if timelines else (r,):
            writer.writerow([r["file"], *((row["start"], row["end"]) if timelines else ()), row["genre"],
                             f"{row['probability']:.6f}", *(f"{row['probabilities'][n]:.6f}" for n in class_names)])
    write_text_atomic(path, buf.getvalue())


RESULT_FORMATS = (".csv", ".json", ".jsonl")


def timeline_plot(result, path):
    """The genre over time of one file as a PNG (a taggram, as musicnn draws one): each genre's probability a
    segment as a heat map, genres ordered by their track probability, the top genre of each segment marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_tsr.utils import save_figure

    rows = result["timeline"]
    names = sorted(result["probabilities"], key=lambda n: -result["probabilities"][n])
    probs = np.array([[s["probabilities"][n] for s in rows] for n in names])  # (genres, segments)
    starts = np.array([s["start"] for s in rows])
    end = rows[-1]["end"]
    minutes = end > 600
    unit = 60.0 if minutes else 1.0
    fig, ax = plt.subplots(figsize=(min(16, 9 + len(rows) * 0.02), 1.4 + 0.35 * len(names)))
    edges = np.append(starts, rows[-1]["start"] + (starts[1] - starts[0] if len(starts) > 1 else end)) / unit
    mesh = ax.pcolormesh(edges, np.arange(len(names) + 1), probs, cmap="viridis", vmin=0, vmax=1, shading="flat")
    top = probs.argmax(axis=0)
    ax.scatter((starts + (edges[1] - edges[0]) * unit / 2) / unit, top + 0.5, s=6, c="white", marker="s")
    ax.set_yticks(np.arange(len(names)) + 0.5, [f"{n} ({result['probabilities'][n]:.2f})" for n in names])
    ax.invert_yaxis()
    ax.set_xlabel("time (min)" if minutes else "time (s)")
    ax.set_title(f"{printable(os.path.basename(result['file']))}: genre probability a segment ({len(rows)}; "
                 f"white: its top genre)", fontsize=10)
    fig.colorbar(mesh, ax=ax, fraction=0.03, pad=0.01)
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    return path

