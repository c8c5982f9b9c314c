"""Audio: decoding (`decoding`), the one log-mel front-end (`features`) and the segment geometry (`geometry`).

    from keras_tsr import audio
    x = audio.load_audio("song.mp3")               # mono float32 at 44.1 kHz
    segs = audio.clip_features(x)                  # (N, 128, 512) log-mel segments of 12 s
"""

from keras_tsr.audio.decoding import (
    AUDIO_EXTENSIONS,
    AudioError,
    decode,
    is_audio_file,
    load_audio,
    resample,
    stderr_shown,
    unreadable_reason,
)
from keras_tsr.audio.features import (
    clip_db,
    clip_features,
    hann_window,
    mel_filterbank,
    segment_db,
    segments,
    zscore,
)
from keras_tsr.audio.geometry import (
    AMIN,
    CLIP_DB_FLOOR,
    HOP_LENGTH,
    N_FFT,
    N_MELS,
    OVERLAP,
    SAMPLE_RATE,
    SEGMENT_SECONDS,
    TOP_DB,
    Geometry,
    clip_frames,
    hop_frames,
    num_frames,
    num_segments,
    segment_samples,
)

__all__ = [
    "AMIN", "AUDIO_EXTENSIONS", "CLIP_DB_FLOOR", "HOP_LENGTH", "N_FFT", "N_MELS", "OVERLAP", "SAMPLE_RATE",
    "SEGMENT_SECONDS", "TOP_DB", "AudioError", "Geometry", "clip_db", "clip_features", "clip_frames", "decode",
    "hann_window", "hop_frames", "is_audio_file", "load_audio", "mel_filterbank", "num_frames", "num_segments",
    "resample", "segment_db", "segment_samples", "segments", "stderr_shown", "unreadable_reason", "zscore",
]
