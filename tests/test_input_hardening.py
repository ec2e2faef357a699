"""Hostile arguments: SQL the read-only check cannot read is refused, numbers must be finite."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from agent.policy import SessionBudget, decide
from tools.aws.context import AwsContext
from tools.aws.guard import ReadOnlyViolation
from tools.aws.sql_readonly import is_read_only_sql, why_not_read_only
from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec, non_finite_fields
from tools.core.errors import ToolError
from tools.core.registry import load_all
from tools.core.results import ToolResult

UNREADABLE = [
    ("SELECT '\\'' ; DROP TABLE x; --'", "backslash before a quote"),
    ("SELECT 1 /* DROP TABLE x; never closed", "comment is never closed"),
    ("SELECT 'open string; DROP TABLE x", "quote is never closed"),
    ('SELECT "col FROM t; DROP TABLE x', "quote is never closed"),
    ("SELECT 'a\\'; DROP TABLE t; SELECT '", "backslash before a quote"),
]


@pytest.mark.parametrize(("sql", "why"), UNREADABLE)
def test_sql_that_cannot_be_read_is_not_read_only(sql: str, why: str) -> None:
    assert not is_read_only_sql(sql)
    assert "cannot be read with certainty" in why_not_read_only(sql)
    assert why in why_not_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'it''s' AS quote",
        "SELECT regexp_like(name, '\\d+') FROM t",
        'SELECT "weird""name" FROM t -- trailing comment',
        "/* note */ WITH a AS (SELECT 1) SELECT * FROM a",
        "SHOW TABLES",
    ],
)
def test_ordinary_reads_still_pass(sql: str) -> None:
    assert is_read_only_sql(sql), why_not_read_only(sql)


def test_the_read_only_guard_refuses_unreadable_sql(aws: AwsContext) -> None:
    aws.client("s3").create_bucket(Bucket="athena-out")
    aws.set_read_only(True)
    for sql, _ in UNREADABLE:
        with pytest.raises(ReadOnlyViolation):
            aws.client("athena").start_query_execution(
                QueryString=sql, ResultConfiguration={"OutputLocation": "s3://athena-out/q/"}
            )


def test_a_json_overflow_threshold_never_reaches_cloudwatch(
    tool_ctx: ToolContext, aws_calls: list[dict[str, Any]]
) -> None:
    spec = load_all().get("cloudwatch_put_alarm")
    raw = json.loads('{"alarm_name": "a", "endpoint_name": "ep-1", "threshold": 1e309}')
    assert raw["threshold"] == float("inf")  # what a model's JSON turns into
    with pytest.raises(ToolError, match="threshold: must be a finite number"):
        spec.run(tool_ctx, raw)
    nan = {**raw, "threshold": float("nan")}
    verdict = decide(
        spec,
        nan,
        mode="yes",
        budget_per_call=5,
        budget_per_session=20,
        session=SessionBudget(),
        region="us-east-1",
    )
    assert verdict.action == "deny" and "finite" in verdict.reason
    assert aws_calls == []


class Nested(BaseModel):
    ranges: dict[str, list[float]]


def test_non_finite_numbers_are_found_at_any_depth() -> None:
    spec = ToolSpec("t", "tuning", "T.", "read", (), Nested, lambda ctx, args: ToolResult("ok"))
    with pytest.raises(ToolError, match=r"ranges\.eta\[1\]: must be a finite number"):
        spec.validate({"ranges": {"eta": [0.1, float("-inf")]}})
    assert non_finite_fields({"a": [1.0, {"b": 2}]}) == []
