"""What the conversation so far has named: the last bucket, job, model, endpoint, S3 URI ...

Read from the messages the planner is given (AIMessage tool calls, ToolMessage artifacts), so it
needs no state of its own and survives a resumed conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

META_KEY = "sagecoach_offline"  # the planner's notes on its own AIMessages
# Qualifiers that turn a bare "job_name" into a specific kind, from the tool's name.
_JOB_QUALIFIERS = (
    ("training", "training_job"),
    ("train", "training_job"),
    ("tuning", "tuning_job"),
    ("tune", "tuning_job"),
    ("hyperparameter", "tuning_job"),
    ("processing", "processing_job"),
    ("transform", "transform_job"),
    ("autopilot", "automl_job"),
    ("automl", "automl_job"),
    ("clarify", "processing_job"),
    ("baseline", "processing_job"),
    ("databrew", "databrew_job"),
    ("glue", "glue_job"),
    ("batch", "batch_job"),
)
_RESOURCE_PREFIXES = ("sagemaker_", "aws_", "amazon_", "s3_", "glue_", "featurestore_", "kinesis_")
_RESOURCE_ALIASES = {
    "automl_job": "automl_job",
    "autopilot_job": "automl_job",
    "hyper_parameter_tuning_job": "tuning_job",
    "hyperparameter_tuning_job": "tuning_job",
    "lambda_function": "function",
    "rest_api": "api",
    "apigateway_rest_api": "api",
    "monitoring_schedule": "schedule",
    "cloudwatch_alarm": "alarm",
    "pipeline_execution": "execution",
}


def qualify_job(tool_name: str) -> str:
    for word, kind in _JOB_QUALIFIERS:
        if word in tool_name:
            return kind
    return "job"


def field_kind(tool_name: str, field_name: str) -> str:
    """The kind of thing an argument names: 'endpoint', 'training_job', 'bucket', 'role' ..."""
    name = field_name.lower()
    if name in ("role", "role_arn", "execution_role", "execution_role_arn", "role_name"):
        return "role"
    for suffix in ("_names", "_name", "_arn", "_id", "_ids"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    if name in ("name", "job") or name == "job_name":
        # A bare "name": the object of the tool ("sagemaker_create_endpoint" -> endpoint).
        obj = tool_object(tool_name)
        if obj.endswith("job") or name == "job":
            return qualify_job(tool_name)
        return obj or "name"
    if name in ("bucket", "bucket_name", "s3_bucket"):
        return "bucket"
    if name.endswith("job") and name == "job":
        return qualify_job(tool_name)
    return name


def tool_object(tool_name: str) -> str:
    """'sagemaker_describe_training_job' -> 'training_job'; 's3_create_bucket' -> 'bucket'."""
    parts = tool_name.split("_")
    verbs = {
        "create", "delete", "list", "describe", "get", "start", "stop", "put", "update", "invoke",
        "upload", "preview", "run", "wait", "lookup", "build", "compare", "suggest", "submit",
        "ingest", "recommend", "for",
    }  # fmt: skip
    for i, p in enumerate(parts):
        if p in verbs:
            rest = [x for x in parts[i + 1 :] if x not in verbs]
            obj = "_".join(rest)
            if obj.endswith("s") and not obj.endswith("ss"):
                obj = obj[:-1]
            return obj
    return ""


def resource_kind(kind: str) -> str:
    k = kind.lower()
    if k in _RESOURCE_ALIASES:
        return _RESOURCE_ALIASES[k]
    for prefix in _RESOURCE_PREFIXES:
        if k.startswith(prefix) and len(k) > len(prefix):
            k = k[len(prefix) :]
            break
    return _RESOURCE_ALIASES.get(k, k)


def kinds_match(field_kind_: str, memory_kind: str) -> bool:
    if field_kind_.startswith("target_"):
        # TargetModel (an artifact path under a multi-model prefix) and TargetVariant are never
        # "the model" or "the variant" the session made: only what the request says fills them.
        return False
    if field_kind_ == memory_kind:
        return True
    return memory_kind.endswith("_" + field_kind_) or field_kind_.endswith("_" + memory_kind)


@dataclass
class Call:
    id: str
    name: str
    args: dict[str, Any]
    human_index: int  # index of the human message this call answered
    status: str = "pending"  # success | error | pending
    prereq: bool = False  # made first so the request's own step can run (a model to deploy)
    content: str = ""
    artifact: Any = None


@dataclass
class Memory:
    """Named things in order of appearance (latest last), and the calls made."""

    items: list[tuple[str, Any]] = field(default_factory=list)  # (kind, value)
    calls: list[Call] = field(default_factory=list)

    def add(self, kind: str, value: Any) -> None:
        if value in (None, "", [], {}):
            return
        self.items.append((kind, value))
        if isinstance(value, str) and value.startswith("s3://"):
            bucket = value[5:].split("/", 1)[0]
            if bucket:
                self.items.append(("bucket", bucket))

    def latest(self, kind: str, prefer: str = "") -> Any:
        """The latest value of a matching kind; `prefer` breaks ties toward a qualifier."""
        best = None
        for k, v in reversed(self.items):
            if k == kind:
                return v
            if best is None and kinds_match(kind, k) and (not prefer or prefer in k):
                best = v
        if best is None:
            for k, v in reversed(self.items):
                if kinds_match(kind, k):
                    return v
        return best

    def recent(self, kind: str, count: int, prefer: str = "") -> list[Any]:
        """Up to `count` distinct latest values of a matching kind, oldest first ("the two
        runs" -> [xgb-1, xgb-2])."""
        out: list[Any] = []
        for k, v in reversed(self.items):
            matches = k == kind or kinds_match(kind, k)
            if matches and (not prefer or prefer in k or k == kind) and v not in out:
                out.append(v)
            if len(out) >= count:
                break
        return list(reversed(out))

    def kind_of(self, value: Any) -> str:
        """The kind the conversation knows this value as ('training_job'), or ''."""
        for k, v in reversed(self.items):
            if v == value and not k.startswith("s3_"):
                return k
        return ""

    def last_call(self) -> Call | None:
        for call in reversed(self.calls):
            if call.status != "rejected":
                return call
        return None


def _scan_value(memory: Memory, tool: str, key: str, value: Any, first_s3: bool) -> None:
    if isinstance(value, str):
        if value.startswith("s3://"):
            memory.add("s3_uri" if first_s3 else f"s3_{key}", value)
            return
        if value.startswith("arn:aws") and ":role/" in value:
            memory.add("role", value)
            return
        kind = field_kind(tool, key)
        if kind and re.fullmatch(r"[\w.\-:/]{1,200}", value):
            memory.add(kind, value)
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        for v in value[:5]:
            if v.startswith("s3://"):
                memory.add("s3_uri", v)


_DATA_KEYS = {"uri", "s3_uri", "destination", "location", "object", "key_uri", "uploaded"}


def read_messages(messages: list[BaseMessage]) -> Memory:
    memory = Memory()
    human_index = -1
    by_id: dict[str, Call] = {}
    for i, msg in enumerate(messages):
        if isinstance(msg, HumanMessage):
            human_index = i
        elif isinstance(msg, AIMessage):
            meta = (msg.additional_kwargs or {}).get(META_KEY) or {}
            for tc in msg.tool_calls or []:
                call = Call(tc.get("id") or "", tc["name"], dict(tc.get("args") or {}), human_index)
                call.prereq = bool(meta.get("prereq"))
                memory.calls.append(call)
                by_id[call.id] = call
                seen_s3 = False
                for key, value in call.args.items():
                    is_s3 = isinstance(value, str) and value.startswith("s3://")
                    _scan_value(memory, call.name, key, value, is_s3 and not seen_s3)
                    seen_s3 = seen_s3 or is_s3
        elif isinstance(msg, ToolMessage):
            call = by_id.get(msg.tool_call_id)
            if call is None:
                continue
            text = msg.content if isinstance(msg.content, str) else str(msg.content)
            call.content = text
            call.artifact = msg.artifact
            status = getattr(msg, "status", "success") or "success"
            gate = (
                (msg.artifact or {}).get("sagecoach_status")
                if isinstance(msg.artifact, dict)
                else None
            )
            if status == "error" and gate in ("dry_run", "denied", "rejected"):
                status = gate  # the approval gate said so: nothing failed
            elif status == "error" and re.search(r"(?i)rejected|not approved|denied", text):
                status = "rejected"
            call.status = status
            if status != "success":
                continue
            artifact = msg.artifact if isinstance(msg.artifact, dict) else {}
            for res in artifact.get("resources") or []:
                if isinstance(res, dict) and res.get("name"):
                    kind = resource_kind(str(res.get("kind", "")))
                    memory.add(kind, res["name"])
                    if str(res["name"]).startswith("s3://"):
                        memory.add("s3_uri", res["name"])
            data = artifact.get("data") or {}
            if isinstance(data, dict):
                for key, value in data.items():
                    if key in _DATA_KEYS and isinstance(value, str) and value.startswith("s3://"):
                        memory.add("s3_uri", value)
                channels = data.get("channels")  # prepared data: "it" is now the train channel
                if isinstance(channels, dict) and str(channels.get("train", "")).startswith(
                    "s3://"
                ):
                    memory.add("s3_uri", channels["train"])
    return memory
