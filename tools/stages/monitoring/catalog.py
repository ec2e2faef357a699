"""Stage 8, model monitoring: what it is for and the AWS services it uses, in our own words.

Catalog data, assembled by `tools.catalog.lookup`; the stage's tools live beside it.
"""

from __future__ import annotations

from tools.catalog.model import Service

PURPOSE = "Watch the live model: latency, errors, data drift, who changed what."
# Words a person uses for this stage.
KEYWORDS: tuple[str, ...] = ("monitor", "monitoring", "drift", "alarm", "latency", "audit", "watch")
# The stage's services in the order we present them: the seed's services first, then others
# that also help here. (A test checks this agrees with each service's `stages`.)
SERVICE_ORDER: tuple[str, ...] = (
    "model-monitor",
    "cloudwatch",
    "cloudtrail",
    "clarify",
    "quicksight",
)

SERVICES: tuple[Service, ...] = (
    Service(
        id="cloudwatch",
        name="Amazon CloudWatch",
        stages=("monitoring",),
        purpose="Metrics, logs and alarms: endpoint invocations, latency and errors, training "
        "logs, and alarms that notify when a threshold is crossed.",
        use_when="Always for live models: watch latency and errors and alarm on them.",
        avoid_when="You need who-did-what API history (CloudTrail).",
        billing="Per custom metric, per alarm per month, per GB of logs ingested and stored; "
        "SageMaker's basic metrics are free.",
        tools=(
            "cloudwatch_get_endpoint_metrics",
            "cloudwatch_put_alarm",
            "cloudwatch_put_drift_alarm",
            "cloudwatch_list_alarms",
            "cloudwatch_alarm_history",
            "cloudwatch_get_log_events",
        ),
        traits=("metrics", "logs", "alarms", "realtime", "managed", "cheapest"),
        keywords=("metric", "log", "alarm", "latency", "error", "dashboard", "alert", "watch"),
        aliases=("CloudWatch",),
        cost_rank=1,
    ),
    Service(
        id="cloudtrail",
        name="AWS CloudTrail",
        stages=("monitoring",),
        purpose="The record of API calls in the account: who created, changed, invoked or "
        "deleted a model or endpoint, and when.",
        use_when="Auditing access and changes to models, endpoints and data.",
        avoid_when="You want performance metrics (CloudWatch).",
        billing="The last 90 days of management events are free to look up; trails and data "
        "events bill per 100,000 events.",
        tools=("cloudtrail_lookup_events",),
        traits=("audit", "security", "managed", "cheapest"),
        keywords=("audit", "api", "calls", "history", "access", "deleted", "changed", "trail"),
        aliases=("CloudTrail",),
        cost_rank=1,
    ),
)
