"""Script-mode serving (the SageMaker scikit-learn container, and the XGBoost container in
framework mode): the user's module `SAGEMAKER_PROGRAM` from `SAGEMAKER_SUBMIT_DIRECTORY` is
imported and its `model_fn(model_dir)`, `input_fn(body, content_type)`,
`predict_fn(data, model)`, `output_fn(prediction, accept)` (or `transform_fn`) are used, with
the containers' defaults where the script defines none:

- model_fn: none (the container raises NotImplementedError: the endpoint never passes ping);
- input_fn: text/csv → `numpy.genfromtxt(..., delimiter=",")` (one row comes back 1-D, as it
  does in the container), application/json → `numpy.array(json.loads(...))`,
  application/x-npy → `numpy.load`; anything else 415 (UnsupportedFormatError);
- predict_fn: `model.predict(data)`;
- output_fn: application/json (the default Accept), text/csv, application/x-npy; else 406.

An exception in user code is a 500 (the Flask worker's error page); its traceback goes to the
endpoint's log.
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import sys
import traceback
from pathlib import Path
from typing import Any

from sandbox.engine.inference import encoders
from sandbox.engine.inference.errors import FLASK_500, InferenceError, LoadError, parse_media_type

log = logging.getLogger("sagemaker_containers")

MODEL_FN_MISSING = (
    "Please provide a model_fn implementation.\n"
    "See documentation for model_fn at https://github.com/aws/sagemaker-python-sdk"
)


def _unsupported(content_type: str) -> str:
    return json.dumps({"error": "UnsupportedFormatError",
                       "error-message": encoders.unsupported_format(content_type),
                       "stack-trace": ""})  # fmt: skip


def default_input_fn(body: Any, content_type: str) -> Any:
    import numpy as np

    base, _ = parse_media_type(content_type)
    if base == encoders.CSV:
        text = body.decode() if isinstance(body, bytes) else body
        return np.genfromtxt(io.StringIO(text), dtype=None, delimiter=",").astype(np.float32)
    if base == encoders.JSON:
        text = body.decode() if isinstance(body, bytes) else body
        return np.array(json.loads(text)).astype(np.float32)
    if base == encoders.NPY:
        return np.load(io.BytesIO(body), allow_pickle=True)
    raise _Unsupported(content_type, 415)


class _Unsupported(Exception):
    def __init__(self, content_type: str, status: int) -> None:
        super().__init__(content_type)
        self.content_type = content_type
        self.status = status


def default_predict_fn(data: Any, model: Any) -> Any:
    return model.predict(data)


def default_output_fn(prediction: Any, accept: str) -> tuple[Any, str]:
    base, _ = parse_media_type(accept)
    encoder = encoders.ENCODERS.get(base)
    if encoder is None:
        raise _Unsupported(accept, 406)
    return encoder(prediction), base


def import_user_module(code_dir: Path, program: str) -> Any:
    module_name = Path(program).stem
    path = code_dir / program
    if not path.is_file():
        raise LoadError(f"No module named {module_name} (SAGEMAKER_PROGRAM {program} is not in "
                        f"the source directory)")  # fmt: skip
    sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        log.error("Importing the user module failed:\n%s", traceback.format_exc())
        raise LoadError(f"importing {program} failed (see the log)") from None
    return module


class ScriptHandler:
    """The user's module with the container's defaults."""

    def __init__(self, model_dir: Path, code_dir: Path, env: dict[str, str],
                 input_default: Any = None, predict_default: Any = None) -> None:  # fmt: skip
        program = env.get("SAGEMAKER_PROGRAM", "")
        if not program:
            raise LoadError("SAGEMAKER_PROGRAM is not set: the container does not know which "
                            "script defines model_fn")  # fmt: skip
        module = import_user_module(code_dir, program)
        self.env = env
        self.transform_fn = getattr(module, "transform_fn", None)
        self.input_fn = getattr(module, "input_fn", None) or input_default or default_input_fn
        self.predict_fn = (
            getattr(module, "predict_fn", None) or predict_default or default_predict_fn
        )
        self.output_fn = getattr(module, "output_fn", None) or default_output_fn
        if self.transform_fn and any(
            hasattr(module, n) for n in ("input_fn", "predict_fn", "output_fn")
        ):
            raise LoadError("Cannot use transform_fn implementation with input_fn, predict_fn, "
                            "and/or output_fn")  # fmt: skip
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:
            log.error("NotImplementedError: %s", MODEL_FN_MISSING)
            raise LoadError(MODEL_FN_MISSING)
        try:
            self.model = model_fn(str(model_dir))
        except Exception:
            log.error("model_fn failed:\n%s", traceback.format_exc())
            raise LoadError("model_fn raised an exception (see the log)") from None

    def invoke(self, body: bytes, content_type: str | None, accept: str | None,
               target: str = "") -> tuple[str, bytes]:  # fmt: skip
        default_accept = self.env.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", encoders.JSON)
        accept = accept if accept and accept != "*/*" else default_accept
        content_type = content_type or encoders.JSON
        try:
            if self.transform_fn is not None:
                result = self.transform_fn(self.model, body, content_type, accept)
            else:
                data = self.input_fn(body, content_type)
                prediction = self.predict_fn(data, self.model)
                result = self.output_fn(prediction, accept)
        except _Unsupported as exc:
            raise InferenceError(exc.status, _unsupported(exc.content_type)) from None
        except InferenceError:
            raise
        except Exception:
            trace = traceback.format_exc()
            log.error("Exception on /invocations [POST]\n%s", trace)
            raise InferenceError(500, FLASK_500, trace) from None
        if isinstance(result, tuple):
            data, returned_type = result[0], str(result[1])
        else:
            data, returned_type = result, accept
        return encoders.flask_mimetype(returned_type), encoders.text(
            data if isinstance(data, (bytes, str)) else str(data)
        )
