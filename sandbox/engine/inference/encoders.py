"""Array encoders as the SageMaker serving toolkits write them (sagemaker-containers /
sagemaker-inference `encoder`): CSV is numpy's savetxt with `%s` (one row per line), JSON is
`json.dumps` of the list, NPY is `numpy.save`."""

from __future__ import annotations

import io
import json
from typing import Any

JSON = "application/json"
CSV = "text/csv"
NPY = "application/x-npy"
JSONLINES = "application/jsonlines"


def array_to_csv(array_like: Any) -> str:
    import numpy as np

    stream = io.StringIO()
    np.savetxt(stream, array_like, delimiter=",", fmt="%s")
    return stream.getvalue()


def array_to_json(array_like: Any) -> str:
    def default(value: Any) -> Any:
        if hasattr(value, "tolist"):
            return value.tolist()
        return json.JSONEncoder().default(value)

    return json.dumps(array_like, default=default)


def array_to_npy(array_like: Any) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, array_like)
    return buffer.getvalue()


ENCODERS = {JSON: array_to_json, CSV: array_to_csv, NPY: array_to_npy}


def unsupported_format(content_type: str) -> str:
    """sagemaker-containers' UnsupportedFormatError message."""
    return (
        f"Content type {content_type} is not supported by this framework.\n\n"
        "   Please implement input_fn to to deserialize the request data or an output_fn to\n"
        "   serialize the response. For more information, see the SageMaker Python SDK README."
    )


def text(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


def flask_mimetype(content_type: str) -> str:
    """Flask's Response(mimetype=...) adds a charset to text types."""
    if content_type.startswith("text/") and "charset" not in content_type:
        return f"{content_type}; charset=utf-8"
    return content_type
