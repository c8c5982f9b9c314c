"""keras-tsr's metadata (class names, front-end geometry, outputs) inside single-file exports, so that it travels
with the file: an ONNX model's metadata_props, a LiteRT (.tflite) flatbuffer's metadata table."""

from __future__ import annotations

import json

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
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    raw = session.get_modelmeta().custom_metadata_map.get(KEY)
    return session, (json.loads(raw) if raw else {})


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
        model = schema.Model.GetRootAsModel(f.read(), 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() in (KEY, KEY.encode()):
            return json.loads(bytes(model.Buffers(entry.Buffer()).DataAsNumpy()).decode())
    return {}


def tflite_interpreter(path):
    """A LiteRT interpreter of `path` (ai-edge-litert, else TensorFlow's own)."""
    return _litert("interpreter", "interpreter").Interpreter(model_path=path)
