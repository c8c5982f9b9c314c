"""Preset handles on model hubs: `hf://USER/NAME` (Hugging Face) and `kaggle://OWNER/MODEL/keras/VARIANT[/VERSION]`
resolve to a local folder through `huggingface_hub` or `kagglehub`, whichever the handle names (neither is a
dependency: install the one you use). Downloads are cached by those libraries.
"""

from __future__ import annotations

from keras_tsr import runtime

SCHEMES = {"hf://": ("huggingface_hub", "a hf:// model handle"), "kaggle://": ("kagglehub", "a kaggle:// model handle")}


def is_handle(ref) -> bool:
    return isinstance(ref, str) and ref.startswith(tuple(SCHEMES))


def resolve(handle: str) -> str:
    """The local folder of a hub handle (downloading it if it is not cached)."""
    for scheme, (module, purpose) in SCHEMES.items():
        if handle.startswith(scheme):
            name = handle[len(scheme):].strip("/")
            if not name:
                raise ValueError(f"{handle}: the handle names no model (e.g. {scheme}USER/NAME)")
            try:
                lib = __import__(module)
            except ModuleNotFoundError as e:
                if e.name != module:
                    raise
                raise runtime.MissingExtraError(f"{module} is not installed ({purpose} needs it): "
                                                f"`pip install {module}`") from None
            if module == "huggingface_hub":
                return lib.snapshot_download(repo_id=name)
            return lib.model_download(name)
    raise ValueError(f"{handle}: not a model hub handle (hf://... or kaggle://...)")
