"""Rows sent to a model: the content type its container reads, and the shape it was trained on
(features only, the right count), using the prepared data's manifest when there is one."""

from __future__ import annotations

from typing import Any

from tools.core.validators import parse_s3_uri
from tools.dataprep import manifest as manifests
from tools.preflight.needs import Needs
from tools.preflight.probe import Probe, error_code
from tools.preflight.report import CheckResult, failed, passed, skipped

# What each built-in container's inference accepts (sagemaker-xgboost-container encoder.py:
# CSV, LIBSVM and RecordIO-protobuf; JSON only as a response type).
REQUEST_TYPES: dict[str, tuple[str, ...]] = {
    "xgboost": ("text/csv", "text/libsvm", "text/x-libsvm", "application/x-recordio-protobuf"),
}


def image_family(image: str) -> str:
    name = image.rsplit("/", 1)[-1].split(":")[0].split("@")[0]
    if "xgboost" in name:
        return "xgboost"
    return name


def check_payload(probe: Probe, needs: Needs) -> list[CheckResult]:
    need = needs.payload
    if need is None:
        return []
    model = need.model_name
    if model is None and need.endpoint_name:
        model = probe.once(
            ("model-of", need.endpoint_name),
            lambda: manifests.model_of_endpoint(probe.aws, str(need.endpoint_name)),
        )
    if not model:
        return [skipped("payload.schema", "could not find the endpoint's model")]
    subject = f"model {model}"
    image = probe.once(("image", model), lambda: manifests.image_of_model(probe.aws, model))
    media = need.content_type.split(";")[0].strip().lower()
    family = image_family(image)
    accepted = REQUEST_TYPES.get(family)
    if accepted and media not in accepted:
        return [
            failed(
                "payload.content_type",
                f"the {family} container does not read {media} requests",
                f"send {accepted[0]} rows (features only, no header)",
                subject,
            )
        ]
    manifest = probe.once(
        ("manifest", model), lambda: manifests.manifest_for_model(probe.aws, model)
    )
    if manifest is None:
        return [
            skipped(
                "payload.schema", "no manifest for this model (not prepared by sagecoach)", subject
            )
        ]
    if media != "text/csv":
        return [skipped("payload.schema", f"{media}: rows not checked", subject)]
    text = _payload_text(probe, need)
    if text is None:
        return [skipped("payload.schema", "could not read the input", subject)]
    rows = manifests.parse_rows(text)
    shape = manifests.row_shape(manifest, rows)
    n = len(manifest["features"])
    if shape == "features":
        return [passed("payload.schema", f"rows hold the {n} features in training order", subject)]
    if shape in ("raw", "header+raw") and not need.encodes_raw:
        return [
            failed(
                "payload.schema",
                f"raw rows ({len(manifest['source_columns'])} source columns): the model takes "
                f"the {n} encoded features ({manifests.encoding_summary(manifest)})",
                "send the prepared rows without their label (the test/ channel minus its first "
                "column), or encode these rows the same way first",
                subject,
                manifest=manifest.get("uri"),
            )
        ]
    if shape in ("raw", "header+raw"):
        return [
            passed(
                "payload.schema",
                f"raw rows: sagecoach encodes them first ({manifests.encoding_summary(manifest)})",
                subject,
                manifest=manifest.get("uri"),
            )
        ]
    if shape == "labelled" and need.input_uri and need.encodes_raw:
        return [
            passed(
                "payload.schema", "prepared rows: the transform drops their label ($[1:])", subject
            )
        ]
    if shape == "labelled":
        return [
            failed(
                "payload.schema",
                f"rows carry the label first ({n + 1} values): the model takes the {n} features only",
                "leave out the first column (the prepared test rows hold the label first)",
                subject,
            )
        ]
    widths = sorted({len(r) for r in rows})
    source = manifest["source_columns"]
    return [
        failed(
            "payload.schema",
            f"rows have {', '.join(map(str, widths))} values; the model takes {n} features, or raw "
            f"rows with the {len(source)} source columns ({', '.join(source[:5])}, …)",
            f"send rows from the original table (they are encoded with {manifest.get('uri')}) "
            "or the prepared test rows without their label",
            subject,
        )
    ]


def _payload_text(probe: Probe, need: Any) -> str | None:
    if need.body is not None:
        return bytes(need.body[:65536]).decode("utf-8", errors="replace")
    if not need.input_uri:
        return None
    try:
        objects = [o for o in probe.listing(need.input_uri) if o["size"] > 0]
    except Exception as exc:
        if error_code(exc):
            return None
        raise
    if not objects:
        return None
    bucket, _ = parse_s3_uri(need.input_uri)
    head = probe.head_bytes(bucket, objects[0]["key"], objects[0]["size"])
    text = head.decode("utf-8", errors="replace")
    if len(head) < objects[0]["size"]:
        text = text.rsplit("\n", 1)[0]
    return text
