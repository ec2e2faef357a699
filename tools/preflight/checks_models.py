"""Prerequisites of hosting and monitoring: a model's artifact exists before an endpoint is
made from it, an endpoint captures data before a monitoring schedule reads the captures, and
rows sent to a model match what it was trained on."""

from __future__ import annotations

from tools.preflight.needs import Needs
from tools.preflight.probe import Probe, error_code
from tools.preflight.report import CheckResult, failed, passed, skipped
from tools.stages.deployment.endpoint_config import is_serverless


def check_artifacts(probe: Probe, needs: Needs) -> list[CheckResult]:
    out = []
    for model in needs.model_names:
        subject = f"model {model}"
        try:
            desc = probe.describe("model", model)
        except Exception as exc:
            if error_code(exc) in ("ValidationException", "ResourceNotFound"):
                out.append(
                    failed(
                        "model.exists",
                        f"there is no model named {model}",
                        "create it first (sagemaker_create_model) or fix model_name",
                        subject,
                    )
                )
            else:
                out.append(
                    skipped("model.artifact", f"could not describe ({error_code(exc)})", subject)
                )
            continue
        containers = [desc.get("PrimaryContainer") or {}, *(desc.get("Containers") or [])]
        urls = [c.get("ModelDataUrl") for c in containers if c.get("ModelDataUrl")]
        if not urls:
            out.append(
                passed("model.artifact", "no artifact needed (image only or package)", subject)
            )
            continue
        for url in urls:
            if str(url).endswith("/"):
                out.append(passed("model.artifact", f"multi-model prefix {url}", subject))
                continue
            try:
                exists = probe.object_exists(str(url))
            except Exception as exc:
                out.append(
                    skipped("model.artifact", f"could not look ({error_code(exc)})", subject)
                )
                continue
            if exists:
                out.append(passed("model.artifact", f"{url} is there", subject))
            else:
                out.append(
                    failed(
                        "model.artifact",
                        f"the model's artifact {url} does not exist: the endpoint would bill "
                        "while it fails to start",
                        "train (or wait for) the job that writes it, or recreate the model "
                        "from a completed training job",
                        subject,
                    )
                )
    return out


def check_capture(probe: Probe, needs: Needs) -> list[CheckResult]:
    name = needs.capture_endpoint
    if not name:
        return []
    subject = f"endpoint {name}"
    try:
        endpoint = probe.describe("endpoint", name)
        config = probe.describe("endpoint_config", str(endpoint.get("EndpointConfigName")))
    except Exception as exc:
        if error_code(exc) in ("ValidationException", "ResourceNotFound"):
            return [
                failed(
                    "endpoint.exists",
                    f"there is no endpoint named {name}",
                    "deploy it first (sagemaker_create_endpoint) or fix endpoint_name",
                    subject,
                )
            ]
        return [
            skipped("endpoint.data_capture", f"could not describe ({error_code(exc)})", subject)
        ]
    capture = endpoint.get("DataCaptureConfig") or config.get("DataCaptureConfig") or {}
    if capture.get("EnableCapture", bool(capture.get("DestinationS3Uri"))):
        where = capture.get("DestinationS3Uri", "")
        return [passed("endpoint.data_capture", f"captures requests to {where}", subject)]
    if is_serverless(config.get("ProductionVariants") or []):
        fix = (
            "serverless endpoints do not support data capture: deploy the model to a realtime "
            "endpoint with data capture on (sagemaker_create_endpoint with data_capture) and "
            "monitor that one"
        )
    else:
        fix = (
            "turn capture on first: sagemaker_update_endpoint with data_capture "
            "(destination_s3_uri), or redeploy with data capture"
        )
    return [
        failed(
            "endpoint.data_capture",
            f"endpoint {name} does not capture data: a monitoring schedule would have nothing "
            "to analyse and still bill every run",
            fix,
            subject,
        )
    ]
