"""S3 checks: inputs exist, buckets are in the session's region, channels hold data files only,
and each channel's first object meets the algorithm's data contract."""

from __future__ import annotations

from typing import Any

from tools.core.validators import parse_s3_uri
from tools.preflight import contract
from tools.preflight.needs import Channel, DataContract, Needs
from tools.preflight.probe import Probe, error_code
from tools.preflight.report import CheckResult, failed, passed, skipped

NOT_DATA = ("schema.json", "_SUCCESS", ".crc", "manifest.json")


def _bucket(uri: str) -> str:
    return parse_s3_uri(uri)[0]


def check_regions(probe: Probe, needs: Needs) -> list[CheckResult]:
    """Every bucket named is in the session's region (SageMaker reads and writes same-region)."""
    out = []
    for bucket in dict.fromkeys(_bucket(u) for u in [*needs.reads, *needs.writes]):
        try:
            region = probe.bucket_region(bucket)
        except Exception as exc:
            code = error_code(exc)
            if code in ("NoSuchBucket", "404"):
                out.append(
                    failed(
                        "s3.bucket",
                        f"bucket {bucket} does not exist",
                        "create it with s3_create_bucket, or fix the S3 URI",
                        f"s3://{bucket}",
                    )
                )
            else:
                out.append(
                    skipped("s3.region", f"could not read the bucket's region ({code})", bucket)
                )
            continue
        if region != probe.region:
            out.append(
                failed(
                    "s3.region",
                    f"bucket {bucket} is in {region}, the session in {probe.region}: the job "
                    "cannot read or write it",
                    f"use a bucket in {probe.region}, or switch the session region to {region}",
                    f"s3://{bucket}",
                )
            )
    if not out and (needs.reads or needs.writes):
        out.append(passed("s3.region", f"buckets are in {probe.region}"))
    return out


def check_inputs_exist(probe: Probe, needs: Needs) -> list[CheckResult]:
    out = []
    for uri in needs.reads:
        try:
            objects = probe.listing(uri)
        except Exception as exc:
            if error_code(exc) == "NoSuchBucket":
                continue  # check_regions says so
            out.append(skipped("s3.exists", f"could not list ({error_code(exc)})", uri))
            continue
        if not objects:
            out.append(
                failed(
                    "s3.exists",
                    "nothing is there: no object with that key or under that prefix",
                    "upload the data first (s3_upload_file) or fix the URI (s3_list_objects)",
                    uri,
                )
            )
        elif sum(o["size"] for o in objects) == 0:
            out.append(failed("s3.exists", "the object(s) there are empty", "upload the data", uri))
        else:
            out.append(passed("s3.exists", f"{len(objects)} object(s) found", uri))
    return out


def _first_data_object(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next(
        (o for o in objects if o["size"] > 0 and not o["key"].endswith(NOT_DATA)),
        None,
    )


def check_channel(probe: Probe, data: DataContract, channel: Channel) -> list[CheckResult]:
    subject = f"{channel.name} {channel.uri}"
    media, _ = contract.parse_content_type(channel.content_type)
    out = contract.check_content_type(data.algorithm, channel.name, channel.content_type, subject)
    if any(c.status == "fail" for c in out):
        return out
    try:
        objects = probe.listing(channel.uri)
    except Exception as exc:
        return [*out, skipped("data.contract", f"could not list ({error_code(exc)})", subject)]
    if not objects:
        return out  # s3.exists reports it
    strays = [o["key"] for o in objects if o["key"].endswith(NOT_DATA)]
    folders = {
        o["key"][len(parse_s3_uri(channel.uri)[1]) :].strip("/").split("/")[0] for o in objects
    }
    nested = (
        [f for f in folders if f in ("train", "validation", "test")] if len(folders) > 1 else []
    )
    if strays or nested:
        what = ", ".join((strays + [f"{f}/" for f in nested])[:4])
        out.append(
            failed(
                "data.files",
                f"the {channel.name} channel would also read {what}: the container reads every "
                "file under the prefix as data",
                f"point {channel.name} at the data files only (e.g. …/{channel.name}/)",
                subject,
            )
        )
    first = _first_data_object(objects)
    if first is None:
        return out
    bucket, _ = parse_s3_uri(channel.uri)
    try:
        head = probe.head_bytes(bucket, first["key"], first["size"])
    except Exception as exc:
        return [*out, skipped("data.contract", f"could not read ({error_code(exc)})", subject)]
    subject = f"{channel.name} s3://{bucket}/{first['key']}"
    mismatch = contract.check_bytes_kind(head, media, subject)
    if mismatch is not None:
        return [*out, mismatch]
    if media not in contract.CSV_TYPES:
        return [*out, passed("data.contract", f"{media}: format matches", subject)]
    return out + contract.check_csv(
        head,
        algorithm=data.algorithm,
        hyperparameters=data.hyperparameters,
        channel=channel.name,
        uri=channel.uri,
        content_type=channel.content_type,
        complete=len(head) >= first["size"],
    )


def check_contract(probe: Probe, needs: Needs) -> list[CheckResult]:
    if needs.contract is None:
        return []
    out: list[CheckResult] = []
    if needs.contract.algorithm == "xgboost":
        from tools.stages.training.algorithms import ALGORITHMS, xgboost_version_problems

        version = needs.contract.version or str(ALGORITHMS["xgboost"].default_version)
        problems = xgboost_version_problems(version, needs.contract.hyperparameters)
        if problems:
            out.append(
                failed(
                    "hyperparameters.version",
                    "; ".join(problems),
                    "choose a later version (version=1.7-1) or leave those settings out",
                    f"XGBoost {version}",
                )
            )
    for channel in needs.contract.channels:
        out += check_channel(probe, needs.contract, channel)
    return out
