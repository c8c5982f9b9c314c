"""Your own multi-label collection: which genres (or tags) each audio file carries.

A labels file in the folder names them, one of:

    DIR/labels.csv     columns `file` and `genres`: `song.mp3,Rock;Punk` (genres split by `;` or `|`, or a
                       JSON list such as `["Rock", "Punk"]`)
    DIR/labels.json    {"song.mp3": ["Rock", "Punk"], ...}

`file` is the path under DIR (or the bare file name, where it is unique). Without a labels file, the files' own
genre tags are read (mutagen): ID3 TCON with several values, Vorbis and FLAC GENRE, MP4's genre. A file's first
genre is its primary one, which stratifies the splits. Audio files without a label are left out (and said).
Refused, each in one line: a listed file that is not there, an empty genre list, a genre too rare to split.
"""

from __future__ import annotations

import csv
import json
import logging
import os

from keras_tsr import audio
from keras_tsr.data.folders import AudioFile, FolderError

log = logging.getLogger("keras_tsr.data")

LABEL_FILES = ("labels.csv", "labels.json")


def label_file(manual_dir) -> str | None:
    return next((os.path.join(manual_dir, n) for n in LABEL_FILES if os.path.isfile(os.path.join(manual_dir, n))),
                None)


def _split_genres(text) -> list[str]:
    text = (text or "").strip()
    if text.startswith("["):
        try:
            return [str(g).strip() for g in json.loads(text) if str(g).strip()]
        except ValueError:
            raise FolderError(f"{text!r} is not a JSON list of genres") from None
    for sep in (";", "|"):
        if sep in text:
            return [g.strip() for g in text.split(sep) if g.strip()]
    return [text] if text else []


def read_label_file(path) -> dict[str, list[str]]:
    """{file as written: [genres]} of a labels.csv or labels.json; a clear error for another layout."""
    if path.endswith(".json"):
        try:
            with open(path) as f:
                data = json.load(f)
        except ValueError as e:
            raise FolderError(f"{path}: not valid JSON ({e}); expected {{\"file\": [\"genre\", ...]}}") from None
        if not isinstance(data, dict):
            raise FolderError(f"{path}: expected an object {{\"file\": [\"genre\", ...]}}")
        return {k: [str(g).strip() for g in (v if isinstance(v, list) else [v]) if str(g).strip()]
                for k, v in data.items()}
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "file" not in rows[0] or not ({"genres", "tags"} & set(rows[0])):
        raise FolderError(f"{path}: expected a header `file,genres` (or `file,tags`) and a row a file")
    return {r["file"].strip(): _split_genres(r.get("genres", r.get("tags"))) for r in rows if r["file"].strip()}


def file_tags(path) -> list[str]:
    """The genre tags inside an audio file (ID3 TCON's values, Vorbis/FLAC GENRE, MP4 ©gen), [] without."""
    import mutagen

    try:
        tags = mutagen.File(path, easy=True)
    except Exception:  # noqa: BLE001 - a file mutagen cannot parse has no tags we can read
        return []
    values = (tags or {}).get("genre") or []
    out = []
    for v in values:  # ID3v2.3 joins several genres in one string
        out.extend(_split_genres(v) if any(s in v for s in ";|") else [v.strip()])
    return [g for g in dict.fromkeys(out) if g]


def scan_labelled(manual_dir, need_per_genre=3, purpose="an 8:1:1 split") -> tuple[list[AudioFile], dict]:
    """(files with their primary genre, {relpath: genres}) of a multi-label folder; refuses unknown files,
    empty genre lists and genres with fewer than `need_per_genre` files (what `purpose` needs)."""
    manual_dir = os.fspath(manual_dir)
    if not os.path.isdir(manual_dir):
        raise FolderError(f"{manual_dir} does not exist or is not a folder")
    found = sorted(os.path.relpath(os.path.join(d, f), manual_dir) for d, dirs, fs in os.walk(manual_dir)
                   for f in fs if audio.is_audio_file(f) and not f.startswith("."))
    path = label_file(manual_dir)
    labels = _match(read_label_file(path), found, path) if path else {
        rel: file_tags(os.path.join(manual_dir, rel)) for rel in found}
    source = path or "the files' genre tags"
    empty = [rel for rel, gs in labels.items() if not gs]
    if path and empty:
        raise FolderError(f"{path}: {len(empty)} file(s) with no genre, e.g. {empty[:3]}: give each at least one")
    labels = {rel: gs for rel, gs in labels.items() if gs}
    left_out = [rel for rel in found if rel not in labels]
    if left_out:
        log.warning("%d audio file(s) without a genre in %s are left out, e.g. %s", len(left_out), source,
                    left_out[:3])
    counts = {}
    for gs in labels.values():
        for g in gs:
            counts[g] = counts.get(g, 0) + 1
    rare = sorted((g for g, n in counts.items() if n < need_per_genre), key=lambda g: (counts[g], g))
    if rare:
        raise FolderError(f"{source}: {len(rare)} genre(s) on fewer than {need_per_genre} files, too rare for "
                          f"{purpose}: " + ", ".join(f"{g} ({counts[g]})" for g in rare[:8])
                          + (" ..." if len(rare) > 8 else "") + "; merge them into a broader genre or remove them")
    if len(counts) < 2:
        raise FolderError(f"{source}: {len(counts)} genre(s) among the labelled files; multi-label training needs "
                          f"at least two")
    files = [AudioFile(os.path.join(manual_dir, rel), rel, labels[rel][0], i) for i, rel in enumerate(sorted(labels))]
    return files, labels


def _match(listed, found, path) -> dict[str, list[str]]:
    """The labels file's entries keyed by the audio files' paths under DIR (a bare name matches a unique file)."""
    by_name = {}
    for rel in found:
        by_name.setdefault(os.path.basename(rel), []).append(rel)
    out, unknown, present = {}, [], set(found)
    for name, genres in listed.items():
        rel = os.path.normpath(name)
        if rel in present:
            out[rel] = genres
        elif len(by_name.get(name, ())) == 1:
            out[by_name[name][0]] = genres
        else:
            unknown.append(name)
    if unknown:
        raise FolderError(f"{path}: {len(unknown)} listed file(s) not found among the audio files under "
                          f"{os.path.dirname(path)} (or a bare name that several files share), e.g. {unknown[:3]}")
    return out
