"""The resource ledger: persistence, statuses, costs, and the start-up endpoint check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.results import Resource, ToolResult
from tools.ledger.store import (
    DELETED,
    FINISHED,
    LedgerEntry,
    ResourceLedger,
    find_running_endpoints,
    running_endpoints_warning,
)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


def test_entries_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.json"
    ledger = ResourceLedger(path)
    ledger.record(
        Resource("sagemaker_endpoint", "churn-ep", "arn:ep", "us-east-1", hourly_usd=0.115),
        session_id="s1",
    )
    ledger.record(Resource("s3_bucket", "my-bucket", region="us-east-1"), session_id="s1")

    reopened = ResourceLedger(path)
    rows = reopened.entries()
    assert [(e.kind, e.name, e.session_id, e.status) for e in rows] == [
        ("sagemaker_endpoint", "churn-ep", "s1", "active"),
        ("s3_bucket", "my-bucket", "s1", "active"),
    ]
    assert rows[0].hourly_usd == 0.115 and rows[0].arn == "arn:ep"
    # Plain JSON on disk, and no temp files left behind by the atomic write.
    data = json.loads(path.read_text())
    assert data["version"] == 1 and len(data["entries"]) == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["ledger.json", "ledger.json.lock"]


def test_same_resource_recorded_twice_is_one_entry_and_keeps_its_status(tmp_path: Path) -> None:
    ledger = ResourceLedger.in_state_dir(tmp_path)
    job = Resource("sagemaker_transform_job", "t1", "arn:t1", "us-east-1", hourly_usd=0.115)
    ledger.record(job, session_id="s")  # the tool records early ...
    ledger.mark("sagemaker_transform_job", "t1", FINISHED)  # ... the job ends ...
    ledger.record(job, session_id="s")  # ... and ToolSpec.run records the result again
    rows = ledger.entries()
    assert len(rows) == 1 and rows[0].status == FINISHED and rows[0].ended_at


def test_a_recreated_resource_is_a_new_entry(tmp_path: Path) -> None:
    ledger = ResourceLedger.in_state_dir(tmp_path)
    ledger.record(
        Resource("sagemaker_endpoint", "ep", created_at="2026-01-01T00:00:00Z"), session_id="s"
    )
    assert ledger.mark("sagemaker_endpoint", "ep", DELETED)
    ledger.record(
        Resource("sagemaker_endpoint", "ep", created_at="2026-01-02T00:00:00Z"), session_id="s"
    )
    assert [e.status for e in ledger.entries()] == ["deleted", "active"]
    assert ledger.find("sagemaker_endpoint", "ep").created_at == "2026-01-02T00:00:00Z"  # type: ignore[union-attr]


def test_cost_so_far_and_per_hour(tmp_path: Path) -> None:
    ledger = ResourceLedger.in_state_dir(tmp_path)
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    two_hours_ago = _iso(now - timedelta(hours=2))
    ledger.record(
        Resource("sagemaker_endpoint", "a", hourly_usd=0.5, created_at=two_hours_ago),
        session_id="s",
    )
    ledger.record(
        Resource("sagemaker_endpoint", "b", hourly_usd=1.0, created_at=two_hours_ago),
        session_id="s",
    )
    ledger.record(Resource("sagemaker_model", "m", created_at=two_hours_ago), session_id="other")
    # b was deleted after one hour: its cost stops there.
    ledger.mark("sagemaker_endpoint", "b", DELETED, when=_iso(now - timedelta(hours=1)))

    entry_a = ledger.find("sagemaker_endpoint", "a")
    assert entry_a is not None and entry_a.cost_so_far(now) == pytest.approx(1.0)
    summary = ledger.summary("s", now=now)
    assert summary == {"entries": 2, "active": 1, "hourly_usd": 0.5, "cost_so_far_usd": 2.0}
    assert ledger.summary(now=now)["entries"] == 3
    assert [e.name for e in ledger.entries(session_id="other")] == ["m"]
    assert ledger.entries(status="active", kinds=["sagemaker_endpoint"])[0].name == "a"


def test_unreadable_file_is_kept_aside_not_lost(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text("{not json")
    ledger = ResourceLedger(path)
    assert ledger.entries() == []
    assert ledger.load_error and "unreadable" in ledger.load_error
    backups = list(tmp_path.glob("ledger.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == "{not json"
    ledger.record(Resource("s3_bucket", "b"), session_id="s")
    assert [e.name for e in ResourceLedger(path).entries()] == ["b"]


def test_two_ledger_objects_on_one_file_do_not_lose_entries(tmp_path: Path) -> None:
    first = ResourceLedger.in_state_dir(tmp_path)
    second = ResourceLedger.in_state_dir(tmp_path)
    first.record(Resource("sagemaker_model", "one"), session_id="s1")
    second.record(Resource("sagemaker_model", "two"), session_id="s2")
    assert {e.name for e in ResourceLedger.in_state_dir(tmp_path).entries()} == {"one", "two"}


def test_entry_round_trip_tolerates_unknown_fields() -> None:
    entry = LedgerEntry.from_dict({"kind": "x", "name": "y", "status": "weird", "future": 1})
    assert entry.status == "active" and entry.kind == "x" and entry.id


class _NoArgs(BaseModel):
    pass


def test_toolspec_run_records_resources_in_the_ledger(
    tool_ctx: ToolContext, tmp_path: Path
) -> None:
    ledger = ResourceLedger.in_state_dir(tmp_path)
    tool_ctx.ledger = ledger

    def make(ctx: ToolContext, args: _NoArgs) -> ToolResult:
        return ToolResult("ok", resources=[Resource("sagemaker_model", "m1", "arn:m1")])

    spec = ToolSpec("t", "general", "d", "write", (), _NoArgs, make)
    spec.run(tool_ctx, {})
    rows = ledger.entries(session_id="test-session")
    assert [(e.kind, e.name, e.region) for e in rows] == [("sagemaker_model", "m1", "us-east-1")]


def _endpoint(aws, name: str, tags: list[dict[str, str]]) -> None:
    sm = aws.client("sagemaker")
    sm.create_model(
        ModelName=f"{name}-m",
        PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://b/m.tar.gz"},
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-m",
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-c", Tags=tags)


def test_find_running_endpoints_from_earlier_sessions(aws, aws_calls) -> None:
    _endpoint(
        aws,
        "old-ep",
        [{"Key": "CreatedBy", "Value": "sagecoach"}, {"Key": "sagecoach:session", "Value": "old"}],
    )
    _endpoint(aws, "mine-ep", aws.tags())  # this session's own
    _endpoint(aws, "foreign-ep", [{"Key": "team", "Value": "x"}])  # not sagecoach's
    aws_calls.clear()
    found = find_running_endpoints(aws, current_session="test-session")
    assert [(e["name"], e["session"]) for e in found] == [("old-ep", "old")]
    assert found[0]["hours_running"] is not None
    # Cheap: one list plus one tag check per endpoint, nothing else.
    assert sorted({c["operation"] for c in aws_calls}) == ["ListEndpoints", "ListTags"]
    assert sum(c["operation"] == "ListTags" for c in aws_calls) == 3
    warning = running_endpoints_warning(found)
    assert "1 endpoint" in warning and "old-ep" in warning and "is still running" in warning
    assert running_endpoints_warning([]) == ""


def test_startup_warning_never_raises(aws) -> None:
    from tools.ledger.store import startup_endpoint_warning

    _endpoint(aws, "left-on", [{"Key": "CreatedBy", "Value": "sagecoach"}])
    assert "left-on" in startup_endpoint_warning(aws, current_session="now")

    class Broken:
        def client(self, service: str):
            raise RuntimeError("no network")

    assert startup_endpoint_warning(Broken()) == ""
