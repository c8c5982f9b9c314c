"""Embeddings and similarity search: what the classifier head reads, per track or per segment, for nearest-neighbour
search, clustering and classifiers of your own.

    tsr embed music/ --model MODEL -o emb.npz [--segments]       (.npz, .parquet or .csv by the extension)
    tsr similar query.mp3 --index emb.npz -k 10                   (cosine similarity; scikit-learn NearestNeighbors)

A track's embedding is the mean of its segments' embeddings. The head applied to a segment's embedding gives that
segment's probabilities; a track's probabilities (`tsr predict`) are the mean of those, not the head of the mean
embedding (the softmax is not linear).

An .npz index holds `embeddings` (float32, rows), `ids` (the file of each row), with `--segments` `starts` (the
segment's start in seconds), and `meta` (JSON: the model, its kind, class names, geometry, embedding size and its embedding of a fixed test
segment) so that `tsr
similar` can embed a query file with the same model.
"""

from __future__ import annotations

import json
import os

import numpy as np

from keras_tsr.errors import KerasTsrError
from keras_tsr.predict.prediction import GenreModel, run_paths

FORMATS = (".npz", ".parquet", ".csv")


class EmbeddingFileError(KerasTsrError, ValueError):
    """An embedding file that cannot be written or read as an index."""


PROBE_VALUES = 16


def model_probe(model: GenreModel) -> list:
    """The first values of the model's embedding of one fixed log-mel segment: what an index records of the model
    that made it, so a query embedded by another model is refused (an export of the same model gives the same
    values within float error, so any form of it can query)."""
    g = model.geometry
    x = np.random.default_rng(0).uniform(-g.top_db, 0.0, (1, g.n_mels, g.frames)).astype(np.float32)
    _, emb = model.segment_outputs(x)
    return [round(float(v), 6) for v in emb[0, :PROBE_VALUES]] + [int(emb.shape[1])]


def index_meta(model: GenreModel, ref, segments) -> dict:
    """What an embedding file records of its model (`tsr similar` reads it back)."""
    probe = model_probe(model)
    return {"model": os.path.abspath(ref.path) if not ref.handle else ref.handle, "kind": ref.kind,
            "class_names": model.class_names, "geometry": model.geometry.to_dict(), "segments": segments,
            "embedding_dim": probe[-1], "probe": probe[:-1]}


def check_query_model(model: GenreModel, model_ref, index_path, meta, dim):
    """Refuses a query model that embeds differently from the one that made the index (another model, or another
    embedding size)."""
    probe = model_probe(model)
    made_by = meta.get("model", "an unrecorded model")
    if probe[-1] != dim:
        raise EmbeddingFileError(f"{index_path} holds {dim}-dimension embeddings made by {made_by}, but --model "
                                 f"{model_ref} embeds in {probe[-1]} dimensions: query with the index's model, or "
                                 f"embed the collection again with this one")
    recorded = meta.get("probe")
    if recorded and not np.allclose(probe[: len(recorded)], recorded, rtol=1e-3, atol=1e-4):
        raise EmbeddingFileError(f"{index_path} was embedded by {made_by}, and --model {model_ref} is another model "
                                 f"(its embedding of a test segment differs): query with the index's model, or "
                                 f"embed the collection again with this one")


def embed_paths(paths, model, segments=False, progress=True, batch_segments=None, workers=None):
    """Yields ("ok", (file, embeddings (1 or N, dim), starts or None)) or ("error", (path, message)), in order."""
    for status, item in run_paths(paths, model, True, progress, batch_segments, workers, desc="embed"):
        if status == "ok":
            path, _, emb = item
            item = (path, emb, model.segment_starts(len(emb))) if segments else (path, emb.mean(0, keepdims=True),
                                                                                   None)
        yield status, item


def check_output(out, overwrite=False):
    from keras_tsr.utils import check_writable

    check_writable(out, "file")
    ext = os.path.splitext(out)[1].lower()
    if ext not in FORMATS:
        raise EmbeddingFileError(f"{out}: the output's extension chooses its format: {', '.join(FORMATS)}")
    if os.path.exists(out) and not overwrite:
        raise EmbeddingFileError(f"{out} already exists: choose another name or pass --overwrite")


def write_embeddings(out, ids, embeddings, starts=None, meta=None):
    """Writes rows of embeddings with their ids (and segment starts) as .npz, .parquet or .csv (atomically)."""
    from keras_tsr.utils import atomic_path

    ext = os.path.splitext(out)[1].lower()
    embeddings = np.asarray(embeddings, np.float32)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with atomic_path(out) as tmp:
        if ext == ".npz":
            arrays = {"embeddings": embeddings, "ids": np.asarray(ids, dtype=str),
                      "meta": np.asarray(json.dumps(meta or {}))}
            if starts is not None:
                arrays["starts"] = np.asarray(starts, np.float32)
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        else:
            import pandas as pd

            frame = pd.DataFrame(embeddings, columns=[f"e{i}" for i in range(embeddings.shape[1])])
            if starts is not None:
                frame.insert(0, "start", np.asarray(starts, np.float32))
            frame.insert(0, "id", list(ids))
            if ext == ".parquet":
                frame.attrs["keras_tsr"] = json.dumps(meta or {})
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False, float_format="%.7g")
    return out


def read_embeddings(path):
    """(ids, embeddings (N, dim), starts or None, meta) of a file `write_embeddings` wrote."""
    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path):
        raise EmbeddingFileError(f"{path}: no such file (write one with `tsr embed ... -o {os.path.basename(path)}`)")
    try:
        if ext == ".npz":
            with np.load(path, allow_pickle=False) as z:
                starts = z["starts"] if "starts" in z.files else None
                return list(z["ids"]), z["embeddings"], starts, json.loads(str(z["meta"]))
        import pandas as pd

        frame = pd.read_parquet(path) if ext == ".parquet" else pd.read_csv(path)
        columns = [c for c in frame.columns if c.startswith("e") and c[1:].isdigit()]
        starts = frame["start"].to_numpy(np.float32) if "start" in frame else None
        meta = json.loads(frame.attrs.get("keras_tsr", "{}")) if ext == ".parquet" else {}
        return list(frame["id"].astype(str)), frame[columns].to_numpy(np.float32), starts, meta
    except (KeyError, ValueError, OSError) as e:
        raise EmbeddingFileError(f"{path}: not an embedding file `tsr embed` writes ({e})") from None


def nearest(index_embeddings, queries, k, exclude=None):
    """Indices and cosine similarities of each query's k nearest index rows (scikit-learn NearestNeighbors).

    `exclude`: per query, a list of index rows to leave out (the query's own rows when it is in the index).
    """
    from sklearn.neighbors import NearestNeighbors

    exclude = exclude or [[] for _ in queries]
    n = len(index_embeddings)
    search = NearestNeighbors(n_neighbors=min(n, k + max(len(e) for e in exclude)), metric="cosine")
    distances, indices = search.fit(index_embeddings).kneighbors(np.asarray(queries, np.float32))
    out = []
    for d, i, skip in zip(distances, indices, exclude):
        skip = set(skip)
        out.append([(int(j), float(1.0 - dj)) for j, dj in zip(i, d) if j not in skip][:k])
    return out


def similar(queries, index_path, k=10, model=None, progress=True):
    """Yields ("ok", {"query": ..., "neighbours": [{"id", "similarity", ("start")}...]}) or ("error", (q, msg)).

    A query is an id of the index (the mean of its rows; its own rows are left out) or an audio file or folder,
    embedded with `model` or else the model the index records (left out of its neighbours too if it is in the
    index under the same path).
    """
    ids, emb, starts, meta = read_embeddings(index_path)
    rows_of = {}
    for n, i in enumerate(ids):
        rows_of.setdefault(os.path.normpath(i), []).append(n)
    known = [q for q in queries if os.path.normpath(q) in rows_of]
    files = [q for q in queries if os.path.normpath(q) not in rows_of]
    vectors = {q: emb[rows_of[os.path.normpath(q)]].mean(axis=0) for q in known}
    gm = None
    if model is not None:  # checked even when every query is in the index: another model is a mistake either way
        gm = model if isinstance(model, GenreModel) else GenreModel(model)
        check_query_model(gm, getattr(gm, "ref", model), index_path, meta, emb.shape[1])
    if files:
        if gm is None and meta.get("model") is None:
            raise EmbeddingFileError(f"{index_path} records no model to embed {files[0]} with: pass --model")
        gm = gm or GenreModel(meta["model"])
        for status, item in embed_paths(files, gm, progress=progress):
            if status == "error":
                yield "error", item
            else:
                vectors[item[0]] = item[1][0]
    asked = [q for q in queries if q in vectors] + [q for q in vectors if q not in queries]  # folders' files last
    if not asked:
        return
    found = nearest(emb, [vectors[q] for q in asked], k,
                    exclude=[rows_of.get(os.path.normpath(q), []) for q in asked])
    for q, hits in zip(asked, found):
        rows = []
        for j, sim in hits:
            row = {"id": ids[j], "similarity": round(sim, 6)}
            if starts is not None:
                row["start"] = float(starts[j])
            rows.append(row)
        yield "ok", {"query": q, "neighbours": rows}


def format_neighbours(result):
    from keras_tsr.utils import printable

    lines = [printable(result["query"])]
    for rank, row in enumerate(result["neighbours"], 1):
        at = f" @ {row['start']:.1f} s" if "start" in row else ""
        lines.append(f"  {rank:3d}. {row['similarity']:.4f}  {printable(row['id'])}{at}")
    return "\n".join(lines)
