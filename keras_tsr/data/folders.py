"""Your own music: a folder of genre folders, scanned and split by file.

    DIR/<genre>/<any nesting>/<file>       any audio format keras_tsr.audio reads

GTZAN's layouts are recognised: `genres/<genre>/<genre>.000NN.au` (the
original) and `genres_original/<genre>/<genre>.000NN.wav` (the common Kaggle
copy, also found under `Data/`). Class names are the genre folder names.

Splits are always by file, never by segment: a seeded 8:1:1 split stratified by
genre, ten stratified folds for cross-validation (`fold0` ... `fold9`; five
folds are pairs of them), or the user's own lists (`train.txt`,
`validation.txt` or `valid.txt`, `test.txt` in DIR, one file per line, matched
by file name without extension, such as the artist-filtered GTZAN split of
Kereliuk et al. 2015).
"""

from __future__ import annotations

import dataclasses
import os

from keras_tsr import audio
from keras_tsr.data import splits
from keras_tsr.data.splits import NUM_FOLDS
from keras_tsr.errors import ArgumentError, KerasTsrError

GTZAN_ROOTS = ("genres", "genres_original", os.path.join("Data", "genres_original"))
LIST_NAMES = {"train": ("train.txt", "train_filtered.txt"),
              "validation": ("validation.txt", "valid.txt", "valid_filtered.txt"),
              "test": ("test.txt", "test_filtered.txt")}


class FolderError(KerasTsrError, ValueError):
    """The folder does not hold genre folders of audio files."""


@dataclasses.dataclass
class AudioFile:
    path: str  # absolute
    relpath: str  # relative to the genre root, e.g. "blues/blues.00001.au"
    genre: str
    file_id: int  # stable: the index in the sorted list of all files


def genre_root(manual_dir) -> str:
    """The folder whose subfolders are the genres: DIR itself, or GTZAN's genres/ (or genres_original/) in it."""
    manual_dir = os.fspath(manual_dir)
    if not os.path.isdir(manual_dir):
        raise FolderError(f"{manual_dir} does not exist or is not a folder: give a folder holding one folder per genre")
    for sub in GTZAN_ROOTS:
        if os.path.isdir(os.path.join(manual_dir, sub)):
            return os.path.join(manual_dir, sub)
    return manual_dir


def scan(manual_dir) -> list[AudioFile]:
    """Every audio file under each genre folder, sorted; a clear error when there are none or one genre only."""
    root = genre_root(manual_dir)
    genres = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    found = []
    for genre in genres:
        for d, dirs, files in os.walk(os.path.join(root, genre)):
            dirs[:] = sorted(x for x in dirs if not x.startswith("."))
            for f in sorted(files):
                if audio.is_audio_file(f) and not f.startswith("."):
                    path = os.path.join(d, f)
                    found.append((genre, os.path.relpath(path, root), path))
    with_files = sorted({g for g, _, _ in found})
    if len(with_files) < 2:
        raise FolderError(f"{root} holds audio files in {len(with_files)} genre folder(s); expected one folder per "
                          f"genre, at least two, with audio files ({', '.join(audio.AUDIO_EXTENSIONS)}) in them")
    found.sort(key=lambda t: t[1])
    return [AudioFile(path, rel, genre, i) for i, (genre, rel, path) in enumerate(found)]


def unreadable(files) -> dict[str, str]:
    """{relpath: reason} for the files whose header does not read as audio (`keras_tsr.audio.unreadable_reason`)."""
    out = {}
    for f in files:
        reason = audio.unreadable_reason(f.path)
        if reason is not None:
            out[f.relpath] = reason
    return out


def check_enough(files, splits, bad, need_per_genre, purpose, folder):
    """Refuses, before any build or training, a folder whose usable files (`files` less the `bad` ones) leave a
    genre with fewer than `need_per_genre` or a split (`splits`: name -> files) with none, in one line giving
    the usable files of each genre and what `purpose` needs."""
    names = genres(files)
    usable = {g: sum(1 for f in files if f.genre == g and f.relpath not in bad) for g in names}
    empty = [name for name, fs in splits.items() if not any(f.relpath not in bad for f in fs)]
    short = [g for g in names if usable[g] < need_per_genre]
    if not empty and not short:
        return
    counts = ", ".join(f"{g} {usable[g]}" for g in names)
    dropped = f" ({len(bad)} unreadable file(s) left out, e.g. {next(iter(bad))}: {next(iter(bad.values()))})" \
        if bad else ""
    problem = (f"{', '.join(short)} {'has' if len(short) == 1 else 'have'} fewer than {need_per_genre}" if short
               else f"{', '.join(empty[:3])}{' ...' if len(empty) > 3 else ''} would hold no usable file")
    raise FolderError(f"{folder}: too few usable audio files for {purpose}: {problem}. Usable files a genre: "
                      f"{counts}{dropped}; {purpose} needs at least {need_per_genre} a genre and one in each "
                      f"split: add files, or choose fewer folds")


def genres(files) -> list[str]:
    return sorted({f.genre for f in files})


def stratified_split(files, seed=42, fractions=(0.8, 0.1, 0.1)) -> dict[str, list[AudioFile]]:
    """Seeded 8:1:1 split by file, stratified by genre (`keras_tsr.data.splits.stratified_split`)."""
    return splits.stratified_split(files, _genre, _file_id, seed, fractions)


def stratified_folds(files, seed=42, num_folds=NUM_FOLDS) -> dict[str, list[AudioFile]]:
    """Files in `num_folds` stratified folds (`keras_tsr.data.splits.stratified_folds`)."""
    return splits.stratified_folds(files, _genre, _file_id, seed, num_folds)


def _genre(f):
    return f.genre


def _file_id(f):
    return f.file_id


PROTOCOLS = ("fixed", "val_fold")


def cv_splits(fold, folds, num_folds=NUM_FOLDS, protocol="fixed") -> dict[str, str | None]:
    """TFDS split expressions for one fold of k-fold cross-validation over the built ten folds.

    k folds are groups of the ten (k must divide ten); fold `fold` is the test
    set. protocol "fixed": every other fold trains, with no validation split
    (a fixed schedule, the last epoch kept: no checkpoint is chosen, so the
    test fold is seen once, at its evaluation). "val_fold": the next fold is
    the validation set (for the best checkpoint), the rest train.
    """
    if num_folds % folds or not 2 <= folds <= num_folds:
        raise ArgumentError(f"folds must divide {num_folds} (2, 5 or 10). Received: folds={folds}")
    if protocol not in PROTOCOLS:
        raise ArgumentError(f"protocol must be one of {PROTOCOLS}. Received: protocol={protocol!r}")
    if protocol == "val_fold" and folds < 3:
        raise ArgumentError(f"folds must be 5 or 10 (a validation fold is held out besides the test fold). "
                         f"Received: folds={folds}")
    groups = [[f"fold{j}" for j in range(num_folds) if j % folds == k] for k in range(folds)]
    held = {fold} if protocol == "fixed" else {fold, (fold + 1) % folds}
    train = [name for k, g in enumerate(groups) if k not in held for name in g]
    val = None if protocol == "fixed" else "+".join(groups[(fold + 1) % folds])
    return {"train": "+".join(train), "validation": val, "test": "+".join(groups[fold])}


def list_split(files, manual_dir) -> dict[str, list[AudioFile]]:
    """The user's own split: train/validation/test list files in DIR, matched by file name without extension."""
    manual_dir = os.fspath(manual_dir)
    by_stem = {}
    for f in files:
        by_stem.setdefault(os.path.splitext(os.path.basename(f.relpath))[0], []).append(f)
    out, missing_lists = {}, []
    for split, names in LIST_NAMES.items():
        path = next((os.path.join(manual_dir, n) for n in names if os.path.isfile(os.path.join(manual_dir, n))), None)
        if path is None:
            missing_lists.append(" or ".join(names))
            continue
        with open(path) as fh:
            stems = [os.path.splitext(os.path.basename(line.strip()))[0] for line in fh if line.strip()]
        unknown = [s for s in stems if s not in by_stem]
        if unknown:
            raise FolderError(f"{path}: {len(unknown)} listed file(s) not found among the audio files, e.g. "
                              f"{unknown[:3]}")
        out[split] = sorted({f.file_id: f for s in stems for f in by_stem[s]}.values(), key=lambda f: f.file_id)
    if missing_lists:
        raise FolderError(f"{manual_dir} lacks the split list(s) {'; '.join(missing_lists)} (one file per line)")
    return out
