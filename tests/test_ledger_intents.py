"""Ledger intents: a create is in the ledger before it is sent; answers confirm or drop it; what
a dead process left pending is settled by tags (and by name) at the next start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import exceptions as bx

from tests.test_connection_failures import FaultServer
from tools.aws.context import AwsContext
from tools.core.results import Resource
from tools.ledger.intents import LedgerIntents, reconcile
from tools.ledger.store import ACTIVE, PENDING, ResourceLedger


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def ledger(tmp_path: Path) -> ResourceLedger:
    return ResourceLedger.in_state_dir(tmp_path / "state")


def watched(aws: AwsContext, ledger: ResourceLedger, session: str = "test-session") -> AwsContext:
    aws.add_listener(LedgerIntents(ledger, session, aws.region))
    return aws


def leave_pending(ledger: ResourceLedger, kind: str, name: str, session: str) -> None:
    """What a process killed during the call leaves behind."""
    ledger.record_intent(
        kind, name, session_id=session, region="us-east-1",
        extra={"pid": dead_pid(), "host": __import__("socket").gethostname()},
    )  # fmt: skip


def test_a_create_is_confirmed_and_not_recorded_twice(
    aws: AwsContext, ledger: ResourceLedger
) -> None:
    watched(aws, ledger).client("s3").create_bucket(Bucket="confirmed-b")
    (entry,) = ledger.entries()
    assert (entry.kind, entry.name, entry.status) == ("s3_bucket", "confirmed-b", ACTIVE)
    ledger.record(Resource("s3_bucket", "confirmed-b", region="us-east-1"), session_id="x")
    assert len(ledger.entries()) == 1  # the tool's own record lands on the same entry


def test_a_refused_create_leaves_nothing(aws: AwsContext, ledger: ResourceLedger) -> None:
    with pytest.raises(bx.ClientError):
        watched(aws, ledger).client("sagemaker").create_endpoint(
            EndpointName="no-config", EndpointConfigName="missing-config"
        )
    assert ledger.entries() == []


def test_no_answer_leaves_the_intent_pending(
    ledger: ResourceLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FaultServer("silent")
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE12")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x" * 40)
    try:
        aws = AwsContext(region="us-east-1", read_timeout=0.3, connect_timeout=0.3)
        with pytest.raises(bx.ReadTimeoutError):
            watched(aws, ledger, "s1").client("s3").create_bucket(Bucket="maybe-made")
    finally:
        server.close()
    (entry,) = ledger.entries()
    assert (entry.name, entry.status, entry.session_id) == ("maybe-made", PENDING, "s1")
    assert entry.extra["operation"] == "s3:CreateBucket"


def test_reconcile_finds_by_tag_by_name_and_drops_what_is_not_there(
    aws: AwsContext, sandbox: Any, ledger: ResourceLedger
) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=sandbox.endpoint, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="y",
    )  # fmt: skip
    s3.create_bucket(Bucket="lost-reply")  # created; the reply never reached sagecoach
    s3.put_bucket_tagging(
        Bucket="lost-reply",
        Tagging={"TagSet": [{"Key": "sagecoach:session", "Value": "dead-1"}]},
    )
    s3.create_bucket(Bucket="untagged")  # killed between CreateBucket and PutBucketTagging
    leave_pending(ledger, "s3_bucket", "lost-reply", "dead-1")
    leave_pending(ledger, "s3_bucket", "untagged", "dead-1")
    leave_pending(ledger, "s3_bucket", "never-made", "dead-1")
    leave_pending(ledger, "glue_crawler", "never-crawled", "dead-1")
    ledger.record_intent(  # a live process mid-call: left alone
        "s3_bucket", "in-flight", session_id="live", region="us-east-1",
        extra={"pid": __import__("os").getpid(), "host": __import__("socket").gethostname()},
    )  # fmt: skip
    settled = reconcile(ledger, aws, current_session="now")
    assert sorted(settled.found) == ["s3_bucket lost-reply", "s3_bucket untagged"]
    assert sorted(settled.dropped) == ["glue_crawler never-crawled", "s3_bucket never-made"]
    assert {e.name: e.status for e in ledger.entries()} == {
        "lost-reply": ACTIVE,
        "untagged": ACTIVE,
        "in-flight": PENDING,
    }
    assert "now in the ledger: s3_bucket" in settled.notice()
    assert reconcile(ledger, aws).found == []  # settled once
