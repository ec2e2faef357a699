"""Read-only SQL detection, AWS naming validators and secret redaction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tools.aws.sql_readonly import is_read_only_sql, why_not_read_only
from tools.core.redact import redact, redact_text
from tools.core.validators import BucketName, RoleArn, S3Uri, SageMakerName, parse_s3_uri


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM churn LIMIT 10",
        "  select count(*) from t;",
        "WITH a AS (SELECT 1 AS x) SELECT x FROM a",
        "SHOW TABLES",
        "DESCRIBE churn",
        "EXPLAIN SELECT 1",
        "SELECT 'drop table t' AS s",  # keywords inside strings do not count
        '-- DROP TABLE t\nSELECT "create" FROM t',
        "/* insert */ SELECT 1",
    ],
)
def test_reads(sql: str) -> None:
    assert is_read_only_sql(sql), why_not_read_only(sql)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE t", "DROP"),
        ("SELECT 1; DROP TABLE t", "statement 2"),
        ("UNLOAD (SELECT 1) TO 's3://b/x/' WITH (format = 'PARQUET')", "UNLOAD"),
        ("CREATE TABLE x AS SELECT * FROM t", "CREATE"),
        ("INSERT INTO t SELECT * FROM u", "INSERT"),
        ("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "INSERT"),
        ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "INSERT"),
        ("/* SELECT */ MSCK REPAIR TABLE t", "MSCK"),
        ("", "empty"),
    ],
)
def test_writes(sql: str, reason: str) -> None:
    assert not is_read_only_sql(sql)
    assert reason in why_not_read_only(sql)


@given(st.text(max_size=60))
def test_appending_a_drop_is_never_read_only(prefix: str) -> None:
    assert not is_read_only_sql(f"{prefix}\n;DROP TABLE t")


class Args(BaseModel):
    bucket: BucketName | None = None
    uri: S3Uri | None = None
    name: SageMakerName | None = None
    role: RoleArn | None = None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("bucket", "My_Bucket", "lower case"),
        ("bucket", "ab", "3 to 63"),
        ("bucket", "my_bucket", "underscores"),
        ("bucket", "192.168.1.1", "IP address"),
        ("bucket", "a..b", "adjacent"),
        ("uri", "s3:///key", "no bucket"),
        ("uri", "bucket/key", "not an S3 URI"),
        ("name", "job_1", "letters, digits and hyphens"),
        ("name", "x" * 64, "at most 63"),
        ("role", "SageMakerRole", "IAM role ARN"),
    ],
)
def test_validators_explain(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Args(**{field: value})
    assert message in str(err.value)


def test_validators_accept_good_values() -> None:
    args = Args(
        bucket="churn-data.v2",
        uri="s3://churn-data/raw/churn.csv",
        name="xgb-churn-2026-11-24",
        role="arn:aws:iam::123456789012:role/service-role/SageMakerExecution",
    )
    assert parse_s3_uri(args.uri or "") == ("churn-data", "raw/churn.csv")


def test_redaction_of_planted_secrets() -> None:
    record = {
        "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "SessionToken": "FwoGZXIvYXdzE" + "A" * 100,
        "db": {"password": "p@ss", "user": "bob"},
        "url": "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F&X-Amz-Signature=abcdef0123&X-Amz-Security-Token=tok",
        "text": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and AKIAIOSFODNN7EXAMPLE",
        "usage": {"input_tokens": 12, "output_tokens": 3},
        "NextToken": "page-2",
    }
    out = redact(record)
    flat = str(out)
    for secret in (
        "wJalrXUtnFEMI",
        "FwoGZXIvYXdzE",
        "p@ss",
        "abcdef0123",
        "IOSFODNN7EXAMPLE",
        "=tok",
    ):
        assert secret not in flat, secret
    assert out["db"]["user"] == "bob"
    assert out["usage"] == {"input_tokens": 12, "output_tokens": 3}
    assert out["NextToken"] == "page-2"
    assert redact_text("Bearer abcdefghijkl") == "Bearer ***"
