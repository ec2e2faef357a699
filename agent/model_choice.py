"""Which chat model a session uses, decided before any heavy import."""

from __future__ import annotations

# A current Claude model with tool use, through a cross-region inference profile.
DEFAULT_BEDROCK_BASE_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
OFFLINE = "offline"


def inference_profile_prefix(region: str) -> str:
    if region.startswith("eu-"):
        return "eu"
    if region.startswith("ap-"):
        return "apac"
    if region.startswith("us-gov-"):
        return "us-gov"
    return "us"


def default_bedrock_model(region: str) -> str:
    return f"bedrock_converse:{inference_profile_prefix(region)}.{DEFAULT_BEDROCK_BASE_MODEL}"


def resolve_model_spec(configured: str | None, *, is_sandbox: bool, region: str) -> str:
    """The configured model, or offline in the sandbox, or the default Bedrock model."""
    if configured:
        return configured
    return OFFLINE if is_sandbox else default_bedrock_model(region)


def describe_model(spec: str) -> str:
    if spec == OFFLINE:
        return "offline planner — no LLM"
    return spec
