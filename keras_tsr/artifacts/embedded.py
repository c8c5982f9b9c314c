"""keras-tsr's metadata (class names, front-end geometry, outputs) inside single-file exports, so that it travels
with the file: an ONNX model's metadata_props, a LiteRT (.tflite) flatbuffer's metadata table."""

from __future__ import annotations

import json
import struct

from keras_tsr import runtime

KEY = "keras_tsr"


def write_onnx_metadata(path, meta: dict):
    onnx = runtime.optional_module("onnx", "onnx", "writing an ONNX export")
    model = onnx.load(path)
    del model.metadata_props[:]
    entry = model.metadata_props.add()
    entry.key, entry.value = KEY, json.dumps(meta)
    onnx.save(model, path)


def onnx_session(path):
    """An onnxruntime session of `path` on the CPU, and the keras-tsr metadata it carries ({} if none)."""
    ort = runtime.optional_module("onnxruntime", "onnx", "running an .onnx model")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - onnxruntime's errors (InvalidProtobuf, Fail, ...) share no public base
        raise _damaged(path, "an ONNX model ONNX Runtime can load", e, "onnx") from None
    raw = session.get_modelmeta().custom_metadata_map.get(KEY)
    return session, _parse(raw, path, "onnx")


def _damaged(path, what, error, fmt):
    from keras_tsr.errors import DamagedFileError

    reason = (str(error).strip().splitlines() or [type(error).__name__])[-1][:160]
    return DamagedFileError(f"{path} is damaged or not {what} ({reason}; cut off?): export it again with "
                            f"`tsr export --format {fmt}`")


def _parse(raw, path, fmt) -> dict:
    if not raw:
        return {}
    try:
        meta = json.loads(raw)
    except ValueError as e:
        raise _damaged(path, "keras-tsr's metadata JSON", e, fmt) from None
    return meta if isinstance(meta, dict) else {}


LITERT_MISSING = ("ai-edge-litert is not installed (a LiteRT .tflite model needs it): "
                  "`pip install 'keras-tsr[litert]'`")


def _litert(name, fallback):
    """`name` from ai_edge_litert, else from TensorFlow's own copy of LiteRT (`fallback`), else the one line."""
    import importlib

    for module in (f"ai_edge_litert.{name}", f"tensorflow.lite.python.{fallback}"):
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError:
            continue
    raise runtime.MissingExtraError(LITERT_MISSING)


def _tflite_schema():
    return _litert("schema_py_generated", "schema_py_generated")


def write_tflite_metadata(path, meta: dict):
    import flatbuffers

    schema = _tflite_schema()
    with open(path, "rb") as f:
        model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(f.read(), 0))
    buffer = schema.BufferT()
    buffer.data = list(json.dumps(meta).encode())
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = KEY, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name not in (KEY, KEY.encode())] + [entry]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    with open(path, "wb") as f:
        f.write(builder.Output())


def read_tflite_metadata(path) -> dict:
    schema = _tflite_schema()
    with open(path, "rb") as f:
        data = f.read()
    if data[4:8] != b"TFL3":
        raise _damaged(path, "a LiteRT flatbuffer", ValueError("no TFL3 identifier"), "litert")
    try:
        model = schema.Model.GetRootAsModel(data, 0)
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() in (KEY, KEY.encode()):
                return _parse(bytes(model.Buffers(entry.Buffer()).DataAsNumpy()).decode(), path, "litert")
    except (struct.error, IndexError, UnicodeDecodeError, AttributeError) as e:  # a flatbuffer cut off
        raise _damaged(path, "a whole LiteRT flatbuffer", e, "litert") from None
    return {}


def tflite_interpreter(path):
    """A LiteRT interpreter of `path` (ai-edge-litert, else TensorFlow's own)."""
    try:
        return _litert("interpreter", "interpreter").Interpreter(model_path=path)
    except ValueError as e:  # the interpreter's "Model provided has model identifier ..." and the like
        raise _damaged(path, "a LiteRT model the interpreter can load", e, "litert") from None
