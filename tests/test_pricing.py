"""Cost estimates (training job, endpoint-hour, Athena scan, unknown prices) and the price refresh."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from typer.testing import CliRunner

from tools.cost import prices, refresh
from tools.cost.estimates import (
    estimate_athena_scan,
    estimate_hourly_resource,
    estimate_instances,
    estimate_units,
)

REGION = "us-east-1"
M5_XL = 0.23  # bundled us-east-1 price for ml.m5.xlarge (all components)
M5_L = 0.115


@pytest.fixture(autouse=True)
def bundled_table_only():
    """Each test starts from the bundled table (no refreshed cache from another test)."""
    prices.set_cache_path(None)
    yield
    prices.set_cache_path(None)


# --- estimates ---------------------------------------------------------------------------------
def test_training_job_estimate_is_instance_count_hours_price() -> None:
    est = estimate_instances("ml.m5.xlarge", 2, 3, "training", REGION)
    assert est.known
    assert est.high_usd == pytest.approx(2 * 3 * M5_XL)
    assert est.low_usd == pytest.approx(2 * 0.1 * M5_XL)  # a job that ends after 6 minutes
    assert est.basis == "2 × ml.m5.xlarge × up to 3 h × $0.23/h"
    assert est.price_date == prices.table().price_date and est.price_date
    assert "us-east-1" in est.source
    assert est.summary().startswith("$0.05–$1.38 (2 × ml.m5.xlarge × up to 3 h × $0.23/h;")
    assert "billed per second while running" in est.notes


def test_training_job_with_spot_gives_the_discount_range() -> None:
    on_demand = estimate_instances("ml.m5.xlarge", 2, 3, "training", REGION)
    spot = estimate_instances("ml.m5.xlarge", 2, 3, "training", REGION, spot=True)
    assert spot.high_usd == pytest.approx(on_demand.high_usd * 0.5)  # type: ignore[operator]
    assert spot.low_usd == pytest.approx(on_demand.low_usd * 0.1)  # type: ignore[operator]
    assert "managed spot" in spot.basis
    assert any("interrupted" in n for n in spot.notes)


def test_tuning_multiplies_by_jobs_and_min_hours_sets_the_low_end() -> None:
    est = estimate_instances("ml.m5.large", 1, 2, "training", REGION, jobs=10, min_hours=0.5)
    assert est.high_usd == pytest.approx(10 * 2 * M5_L)
    assert est.low_usd == pytest.approx(10 * 0.5 * M5_L)
    assert est.basis.startswith("10 jobs × 1 × ml.m5.large")


def test_prices_differ_by_region() -> None:
    us = estimate_instances("ml.m5.xlarge", 1, 1, "training", "us-east-1")
    eu = estimate_instances("ml.m5.xlarge", 1, 1, "training", "eu-west-1")
    assert eu.high_usd is not None and us.high_usd is not None
    assert eu.high_usd > us.high_usd
    assert "regional factor" in eu.source  # the bundled table says how it got the figure


def test_endpoint_hour_estimate_bills_until_deleted() -> None:
    est = estimate_hourly_resource("ml.m5.large", 2, REGION)
    assert est.hourly_usd == pytest.approx(2 * M5_L)
    assert est.low_usd == pytest.approx(2 * M5_L)  # the first hour
    assert est.high_usd == pytest.approx(2 * M5_L * 24)  # the first day
    assert "$0.23/h" in est.basis and "$5.52/day" in est.basis and "/month" in est.basis
    assert "runs until deleted" in est.notes
    assert "until deleted" in est.summary()


def test_athena_scan_estimate_has_the_10_mb_minimum() -> None:
    tb = 1024**4
    small = estimate_athena_scan(1_000, REGION)  # a tiny query still bills 10 MB
    assert small.high_usd == pytest.approx(10 * 1024**2 / tb * 5.0)
    assert small.low_usd == small.high_usd
    assert "10 MB minimum" in small.basis and "$5/TB" in small.basis
    big = estimate_athena_scan(2 * tb, REGION, bytes_low=0)
    assert big.high_usd == pytest.approx(10.0)
    assert big.low_usd == pytest.approx(small.high_usd)
    odd = estimate_athena_scan(15 * 1024**2 + 1, REGION)  # rounded up to the next MB
    assert odd.high_usd == pytest.approx(16 * 1024**2 / tb * 5.0)


def test_unit_estimates_glue_and_serverless() -> None:
    glue = estimate_units("glue_dpu_hour", 2 * 0.1, 10 * 2, REGION, "10 DPU × up to 2 h")
    assert glue.high_usd == pytest.approx(20 * 0.44) and glue.low_usd == pytest.approx(0.2 * 0.44)
    assert glue.basis == "10 DPU × up to 2 h × $0.44 per glue dpu hour"


@pytest.mark.parametrize(
    "call",
    [
        lambda: estimate_instances("ml.x99.huge", 1, 1, "training", REGION),
        lambda: estimate_instances("ml.t3.medium", 1, 1, "training", REGION),  # no training SKU
        lambda: estimate_instances("ml.m5.xlarge", 1, 1, "training", "mars-north-1"),
        lambda: estimate_hourly_resource("ml.x99.huge", 1, REGION),
        lambda: estimate_units("no_such_unit", 1, 2, REGION, "x"),
        lambda: estimate_athena_scan(10, "mars-north-1"),
    ],
)
def test_unknown_prices_are_unknown_never_free(call) -> None:
    est = call()
    assert not est.known
    assert est.low_usd is None and est.high_usd is None
    assert est.source == "no price known"
    assert est.summary().startswith("no price known")


def test_check_instance_for_rejects_types_without_a_sku() -> None:
    assert prices.check_instance_for("training", "ml.m5.xlarge") == "ml.m5.xlarge"
    with pytest.raises(ValueError, match=r"ml\.t3\.medium is not a known SageMaker training"):
        prices.check_instance_for("training", "ml.t3.medium")


# --- refresh from the Price List API (botocore Stubber) ---------------------------------------
def price_item(
    usagetype: str,
    usd: str | list[str],
    *,
    instance: str | None = None,
    region: str = REGION,
    family: str = "ML Instance",
    location_type: str = "AWS Region",
    unit: str = "Hrs",
) -> str:
    """A PriceList entry as the API returns it: a JSON string."""
    instance = instance or usagetype.split(":", 1)[1]
    sku = "SKU" + str(abs(hash(usagetype + str(usd))) % 10**8)
    dims = {}
    for i, amount in enumerate([usd] if isinstance(usd, str) else usd):
        dims[f"{sku}.JRTCKXETXF.6YS6EN2CT{i}"] = {
            "unit": unit,
            "endRange": "Inf",
            "description": f"${amount} per {instance} hour",
            "appliesTo": [],
            "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT{i}",
            "beginRange": "0",
            "pricePerUnit": {"USD": amount},
        }
    return json.dumps(
        {
            "product": {
                "productFamily": family,
                "attributes": {
                    "regionCode": region,
                    "location": "US East (N. Virginia)",
                    "locationType": location_type,
                    "instanceName": instance,
                    "usagetype": usagetype,
                    "operation": "RunInstance",
                    "servicecode": "AmazonSageMaker",
                    "vCpu": "4",
                    "memory": "16 GiB",
                },
                "sku": sku,
            },
            "serviceCode": "AmazonSageMaker",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "priceDimensions": dims,
                        "sku": sku,
                        "effectiveDate": "2026-11-01T00:00:00Z",
                        "offerTermCode": "JRTCKXETXF",
                        "termAttributes": {},
                    }
                }
            },
            "version": "20261101000000",
            "publicationDate": "2026-11-20T12:00:00Z",
        }
    )


PAGE_1 = [
    price_item("USE1-Train:ml.m5.xlarge", "0.2400000000"),
    price_item("USE1-Host:ml.m5.xlarge", "0.2400000000"),
    price_item("USE1-Processing:ml.m5.xlarge", "0.2400000000"),
    price_item("USE1-Tsform:ml.m5.xlarge", "0.2400000000"),
    price_item("USE1-Notebk:ml.m5.xlarge", ["0.0000000000", "0.2500000000"]),  # free tier first
    price_item("USE1-TrSpt:ml.m5.xlarge", "0.0720000000"),  # spot: not a component we keep
    price_item("USE1-AsyncInf:ml.m5.xlarge", "0.2400000000"),
]
PAGE_2 = [
    price_item("USE1-Train:ml.p9.mega", "99.5000000000"),  # a type the bundled table lacks
    price_item("USE1-Studio:JupyterLab-ml.t3.medium", "0.05", instance="ml.t3.medium"),
    price_item("USE1-Host:ml.m5.xlarge", "0.2400000000", location_type="AWS Outposts"),
    price_item("USE1-Host:ml.g5.xlarge", "1.5000000000"),
]
FILTERS = [
    {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "ML Instance"},
    {"Type": "TERM_MATCH", "Field": "regionCode", "Value": REGION},
]


def stubbed_pricing_client():
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="x" * 40,
    )
    stubber = Stubber(client)
    base = {"ServiceCode": "AmazonSageMaker", "Filters": FILTERS, "FormatVersion": "aws_v1"}
    stubber.add_response(
        "get_products", {"PriceList": PAGE_1, "FormatVersion": "aws_v1", "NextToken": "t2"}, base
    )
    stubber.add_response(
        "get_products",
        {"PriceList": PAGE_2, "FormatVersion": "aws_v1"},
        {**base, "NextToken": "t2"},
    )
    stubber.activate()
    return client, stubber


def test_parse_usagetype() -> None:
    assert refresh.parse_usagetype("USE1-Host:ml.m5.xlarge") == ("hosting", "ml.m5.xlarge")
    assert refresh.parse_usagetype("EU-Tsform:ml.c5.xlarge") == ("transform", "ml.c5.xlarge")
    assert refresh.parse_usagetype("Train:ml.m5.large") == ("training", "ml.m5.large")
    assert refresh.parse_usagetype("USE1-TrSpt:ml.m5.large") is None
    assert refresh.parse_usagetype("USE1-Studio:JupyterLab-ml.t3.medium") is None
    assert refresh.parse_usagetype("garbage") is None


def test_refresh_writes_a_cache_the_estimates_use(tmp_path: Path) -> None:
    client, stubber = stubbed_pricing_client()
    path = tmp_path / "cache" / "prices.json"
    pages: list[str] = []
    report = refresh.refresh(
        client, [REGION], path, progress=pages.append, now=datetime(2026, 11, 24, tzinfo=UTC)
    )
    stubber.assert_no_pending_responses()
    cache = json.loads(path.read_text())
    assert cache["fetched_at"] == "2026-11-24T00:00:00Z"
    instances = cache["regions"][REGION]["instances"]
    assert instances["ml.m5.xlarge"] == {
        "training": 0.24,
        "hosting": 0.24,
        "processing": 0.24,
        "transform": 0.24,
        "notebook": 0.25,  # the smallest non-zero tier
    }
    assert instances["ml.p9.mega"] == {"training": 99.5}
    assert instances["ml.g5.xlarge"] == {"hosting": 1.5}
    assert "ml.t3.medium" not in instances  # Studio SKUs are not instance components
    assert report.regions == {REGION: 3} and report.prices == 7 and report.skipped == 4
    assert len(pages) == 2
    assert "7 prices" in report.summary()

    # refresh() pointed the table at the cache: estimates now use it, and say so
    est = estimate_instances("ml.m5.xlarge", 1, 2, "training", REGION)
    assert est.high_usd == pytest.approx(0.48)
    assert est.source == "AWS Price List API (cached)" and est.price_date == "2026-11-24"
    new_type = estimate_instances("ml.p9.mega", 1, 1, "training", REGION)
    assert new_type.high_usd == pytest.approx(99.5)
    # components missing from the cache fall back to the bundled table
    bundled = estimate_hourly_resource("ml.m5.large", 1, REGION)
    assert bundled.hourly_usd == pytest.approx(M5_L) and "bundled" in bundled.source


def test_refresh_keeps_other_regions_and_rejects_empty_answers(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"regions": {"eu-west-1": {"instances": {"ml.x": {"hosting": 1}}}}}))
    client, _ = stubbed_pricing_client()
    refresh.refresh(client, [REGION], path)
    cache = json.loads(path.read_text())
    assert set(cache["regions"]) == {"eu-west-1", REGION}

    empty = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    stubber = Stubber(empty)
    stubber.add_response("get_products", {"PriceList": []})
    stubber.activate()
    before = path.read_text()
    with pytest.raises(RuntimeError, match="no SageMaker instance prices for mars-north-1"):
        refresh.refresh(empty, ["mars-north-1"], path)
    assert path.read_text() == before  # nothing half-written


def test_cli_refresh_refuses_in_the_sandbox(tmp_path: Path, monkeypatch) -> None:
    from tui.cli import app

    monkeypatch.setenv("SAGECOACH_STATE_DIR", str(tmp_path / "state"))
    result = CliRunner().invoke(app, ["prices", "refresh"])  # no credentials: sandbox
    assert result.exit_code == 1
    assert "needs real AWS (no AWS credentials found)" in result.output
    assert "sandbox has no Price List API" in result.output
    forced = CliRunner().invoke(app, ["prices", "refresh", "--sandbox"])
    assert forced.exit_code == 1 and "--sandbox was given" in forced.output
    assert not refresh.cache_path(tmp_path / "state").exists()


def test_cli_refresh_with_credentials_then_show(tmp_path: Path, monkeypatch) -> None:
    from agent import environment
    from tools.aws.context import AwsContext
    from tui.cli import app

    state = tmp_path / "state"
    monkeypatch.setenv("SAGECOACH_STATE_DIR", str(state))
    monkeypatch.setattr(environment, "choose_sandbox", lambda s: (False, "real AWS (test)"))
    client, stubber = stubbed_pricing_client()
    asked: list[tuple[str, str | None]] = []

    def fake_client(self, service, region=None):
        asked.append((service, region))
        return client

    monkeypatch.setattr(AwsContext, "client", fake_client)
    result = CliRunner().invoke(app, ["prices", "refresh", "--region", REGION])
    assert result.exit_code == 0, result.output
    assert asked == [("pricing", "us-east-1")]
    stubber.assert_no_pending_responses()
    assert "7 prices from the AWS Price List API (us-east-1: 3 instance types)" in result.output
    assert refresh.cache_path(state).is_file()

    prices.set_cache_path(None)
    shown = CliRunner().invoke(app, ["prices", "show", "--region", REGION, "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["instances"]["ml.m5.xlarge"]["training"] == 0.24  # from the cache
    assert data["instances"]["ml.m5.large"]["training"] == M5_L  # bundled
    assert data["cache"] == str(refresh.cache_path(state))
    assert data["units"]["athena_tb_scanned"] == 5.0


def test_cli_prices_show_table_and_unknown_region(tmp_path: Path, monkeypatch) -> None:
    from tui.cli import app

    monkeypatch.setenv("SAGECOACH_STATE_DIR", str(tmp_path / "state"))
    table = CliRunner().invoke(app, ["prices", "show", "--family", "m5.xl"])
    assert table.exit_code == 0
    assert "Bundled table dated" in table.output
    row = next(line for line in table.output.splitlines() if line.startswith("ml.m5.xlarge"))
    assert row.split() == ["ml.m5.xlarge", "0.23", "0.23", "0.23", "0.23", "0.23"]
    t3 = CliRunner().invoke(app, ["prices", "show", "--family", "t3.medium"])
    assert next(x for x in t3.output.splitlines() if x.startswith("ml.t3.medium")).split()[1] == "—"
    bad = CliRunner().invoke(app, ["prices", "show", "--region", "ap-east-1"])
    assert bad.exit_code == 2 and "no prices for ap-east-1" in bad.output
