"""The chat-model factory: `offline`, `bedrock_converse:<id>`, or any init_chat_model string.

    make_chat_model("bedrock_converse:us.anthropic.claude-sonnet-4-5-20250929-v1:0", aws)

Bedrock goes through the session's AwsContext, so profiles, regions, SSO and the
`AWS_ENDPOINT_URL_BEDROCK_RUNTIME` variable work as in boto3, with adaptive retries.
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.language_models import BaseChatModel

from agent.model_choice import OFFLINE, describe_model
from tools.aws.context import AwsContext

BEDROCK_PREFIX = "bedrock_converse:"
MAX_OUTPUT_TOKENS = 4096


class ModelError(Exception):
    """A model spec that cannot be used; the message says what to do."""


def _bedrock_endpoint_override() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_BEDROCK_RUNTIME") or os.environ.get("AWS_ENDPOINT_URL")


def bedrock_client(aws: AwsContext) -> Any:
    """A bedrock-runtime client from the session's AwsContext.

    In the sandbox there is no Bedrock: only an explicit endpoint override (a local stub) is
    allowed, so nothing reaches real AWS from the sandbox."""
    if not aws.is_sandbox:
        return aws.client("bedrock-runtime")
    endpoint = _bedrock_endpoint_override()
    if not endpoint:
        raise ModelError(
            "The sandbox has no Bedrock. Use --model offline, or run against real AWS "
            "(without --sandbox) to use a Bedrock model."
        )
    from botocore.config import Config

    from tools.aws.context import BEDROCK_READ_TIMEOUT_S, USER_AGENT

    config = Config(
        retries={"mode": "adaptive", "max_attempts": 3},
        user_agent_extra=USER_AGENT,
        connect_timeout=aws.connect_timeout,
        read_timeout=max(aws.read_timeout, BEDROCK_READ_TIMEOUT_S),
    )
    return aws.session.client(
        "bedrock-runtime", region_name=aws.region, endpoint_url=endpoint, config=config
    )


def make_bedrock_model(model_id: str, aws: AwsContext, **kwargs: Any) -> BaseChatModel:
    from langchain_aws import ChatBedrockConverse

    params: dict[str, Any] = {
        "model": model_id,
        "client": bedrock_client(aws),
        "region_name": aws.region,
        "temperature": 0,
        "max_tokens": MAX_OUTPUT_TOKENS,
    }
    if model_id.startswith("arn:"):
        # An ARN hides the provider; assume Anthropic unless told (used for caching and tools).
        params["provider"] = kwargs.pop("provider", "anthropic")
    params.update(kwargs)
    return ChatBedrockConverse(**params)


def make_offline_model() -> BaseChatModel:
    try:
        from agent.offline import OfflinePlanner  # type: ignore[import-not-found]
    except ImportError:
        return CatalogModel()
    return OfflinePlanner()


def make_chat_model(spec: str, aws: AwsContext, **kwargs: Any) -> BaseChatModel:
    """Build the chat model a spec names; raises ModelError with a readable message."""
    spec = (spec or "").strip()
    if not spec:
        raise ModelError("No model given. Use 'offline' or 'bedrock_converse:<model id>'.")
    if spec == OFFLINE:
        return make_offline_model()
    if spec.startswith(BEDROCK_PREFIX):
        model_id = spec[len(BEDROCK_PREFIX) :]
        if not model_id:
            raise ModelError(
                "bedrock_converse: needs a model id, e.g. bedrock_converse:us.amazon.nova-pro-v1:0"
            )
        return make_bedrock_model(model_id, aws, **kwargs)
    if ":" not in spec:
        raise ModelError(
            f"Model '{spec}' needs a provider prefix: 'bedrock_converse:{spec}' for Bedrock, "
            "or 'provider:model' (for example 'openai:gpt-4.1') for other providers."
        )
    provider = spec.split(":", 1)[0]
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(spec, temperature=0, **kwargs)
    except ImportError as exc:
        package = f"langchain-{provider.replace('_', '-')}"
        raise ModelError(
            f"Model provider '{provider}' needs the package {package}: "
            f"pip install {package} (in sagecoach's environment). ({exc})"
        ) from None
    except ValueError as exc:
        raise ModelError(f"Cannot use model '{spec}': {exc}") from None


def model_label(spec: str) -> str:
    return describe_model(spec)


def supports_prompt_caching(model: BaseChatModel) -> bool:
    """Bedrock prompt caching works for Anthropic Claude and Amazon Nova via Converse."""
    try:
        from langchain_aws import ChatBedrockConverse
    except ImportError:  # pragma: no cover
        return False
    if not isinstance(model, ChatBedrockConverse):
        return False
    ident = f"{getattr(model, 'model_id', '')} {getattr(model, 'provider', '') or ''}".lower()
    return "anthropic" in ident or "nova" in ident


class CatalogModel(BaseChatModel):
    """Stand-in for the offline planner until it lands: answers with the stage catalog.

    It never calls a tool, so it is safe in every mode."""

    @property
    def _llm_type(self) -> str:
        return "sagecoach-catalog"

    def bind_tools(self, tools: Any, **kwargs: Any) -> CatalogModel:  # type: ignore[override]
        return self

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any):
        from langchain_core.messages import AIMessage
        from langchain_core.outputs import ChatGeneration, ChatResult

        from tools.core.stages import STAGES

        question = ""
        for message in reversed(messages):
            if message.type == "human":
                question = message.text.lower()
                break
        lines = ["The offline model cannot plan tool calls yet; here is the pipeline by stage:"]
        for sid, number, title in STAGES:
            mark = (
                " <- matches your request" if sid in question or title.lower() in question else ""
            )
            lines.append(f"{number}. {title}{mark}")
        lines.append("Use a Bedrock model (--model bedrock_converse:<id>) for a full assistant.")
        message = AIMessage(content="\n".join(lines))
        message.usage_metadata = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
        return ChatResult(generations=[ChatGeneration(message=message)])
