"""A scripted ChatSession for UI tests: realistic event sequences, no model, no AWS.

It follows the protocol in agent/session_api.py: `send(text)` yields events and ends after
ApprovalRequested events when a call needs a decision; `decide({...})` resumes. The scenario is
picked by words in the request:

- "bucket"   a write call (s3_create_bucket) that asks in `ask` mode, is denied in read-only
             mode, and creates a bucket when approved (edited arguments are honoured)
- "train"    a costly training job with a cost estimate, progress, metrics series and a
             table, then an endpoint that bills by the hour
- "hang"     streams a few words, then waits until cancelled (for Ctrl+C tests)
- "retry"    streams a partial reply, discards it (a retried model call), then the real one
- "fail"     a tool call that fails, then an error event
- anything else: a markdown answer with a table (the knowledge question)

What the session did is recorded for assertions: `sent`, `decisions`, `created`, `cancelled`.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

from agent.events import (
    AnyEvent,
    ApprovalRequest,
    ApprovalRequested,
    Decision,
    DiscardMessage,
    ErrorEvent,
    Notice,
    ResourceCreated,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
    ToolProgress,
    TurnFinished,
)
from agent.session_api import ConversationInfo

ANSWER = """For **features**, use *Amazon SageMaker Feature Store*:

| need | service |
|---|---|
| online, low-latency reads | Feature Store online store |
| offline training sets | Feature Store offline store (S3 + Glue catalog) |

Next: `create a feature group from s3://sagecoach-demo/churn/churn.csv`."""

TRAIN_ESTIMATE = {
    "low_usd": 0.02,
    "high_usd": 0.23,
    "basis": "ml.m5.large × 1 × up to 1.0 h × $0.115/h",
    "source": "bundled price table",
    "price_date": "2025-06-01",
    "hourly_usd": None,
    "notes": [],
    "known": True,
    "summary": "$0.02–$0.23 (ml.m5.large × 1 × up to 1.0 h × $0.115/h; bundled price table, prices as of 2025-06-01)",
}


def _chunks(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeSession:
    """Implements agent.session_api.ChatSession with scripted events."""

    def __init__(
        self,
        *,
        mode: str = "ask",
        sandbox: bool = True,
        region: str = "us-east-1",
        profile: str | None = None,
        model_label: str = "offline planner — no LLM",
        session_id: str = "sess-0001",
        conversation_id: str = "conv-0001",
        conversations: dict[str, list[dict[str, Any]]] | None = None,
        delay: float = 0.0,
        notices: list[Notice] | None = None,
    ) -> None:
        self.session_id = session_id
        # What open_session() announces: where calls go, then warnings (endpoints left running).
        self.notices: list[Notice] = (
            notices
            if notices is not None
            else [
                Notice("sandbox at http://127.0.0.1:5000", "warning")
                if sandbox
                else Notice("real AWS (credentials from environment)", "info")
            ]
        )
        self.conversation_id = conversation_id
        self.mode = mode
        self._sandbox = sandbox
        self._region = region
        self._profile = profile
        self._model_label = model_label
        self.delay = delay
        self.sent: list[str] = []
        self.decisions: list[dict[str, Decision]] = []
        self.created: list[dict[str, Any]] = []
        self.cancelled = 0
        self.closed = False
        self._spent = 0.0
        self._pending: list[ApprovalRequest] = []
        self._continuation: Any = None
        self._cancel = asyncio.Event()
        self._seq = 0
        self._conversations: dict[str, list[dict[str, Any]]] = conversations or {}
        self._conversations.setdefault(conversation_id, [])

    # --- labels -------------------------------------------------------------------------
    @property
    def model_label(self) -> str:
        return self._model_label

    @property
    def account_label(self) -> str:
        return "SANDBOX" if self._sandbox else "123456789012"

    @property
    def region(self) -> str:
        return self._region

    @property
    def profile(self) -> str | None:
        return self._profile

    @property
    def is_sandbox(self) -> bool:
        return self._sandbox

    @property
    def pending_approvals(self) -> list[ApprovalRequest]:
        return list(self._pending)

    @property
    def spent_usd(self) -> float:
        return self._spent

    def resources(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self.created)

    def set_mode(self, mode: str) -> None:
        self.mode = mode

    def cancel(self) -> None:
        self.cancelled += 1
        self._cancel.set()

    # --- turns --------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}-{self._seq}"

    async def _pause(self) -> None:
        await asyncio.sleep(self.delay)

    def _text(self, text: str, message_id: str | None = None) -> list[AnyEvent]:
        mid = message_id or self._id("msg")
        return [TextDelta(mid, chunk) for chunk in _chunks(text)]

    def send(self, text: str) -> AsyncIterator[AnyEvent]:
        self.sent.append(text)
        self._conversations[self.conversation_id].append({"role": "user", "text": text})
        self._cancel = asyncio.Event()
        return self._run(self._script(text.lower()))

    def decide(self, decisions: dict[str, Decision]) -> AsyncIterator[AnyEvent]:
        self.decisions.append(decisions)
        continuation, self._continuation = self._continuation, None
        pending, self._pending = self._pending, []
        if continuation is None or not pending:
            return self._run([Notice("nothing is waiting for a decision", "warning")])
        return self._run(continuation(decisions))

    async def _run(self, events: Any) -> AsyncIterator[AnyEvent]:
        for event in events:
            if event == "wait":
                await self._cancel.wait()
                yield TurnFinished(reply="", cancelled=True)
                return
            await self._pause()
            if self._cancel.is_set():
                yield TurnFinished(reply="", cancelled=True)
                return
            if isinstance(event, ApprovalRequested):
                self._pending.append(event.request)
            if isinstance(event, TurnFinished) and event.reply:
                self._conversations[self.conversation_id].append(
                    {"role": "assistant", "text": event.reply}
                )
            yield event

    def _script(self, text: str) -> list[Any]:
        if "bucket" in text:
            return self._bucket()
        if "train" in text:
            return self._train()
        if "hang" in text:
            return [*self._text("Working on it"), "wait"]
        if "retry" in text:
            first = self._id("msg")
            second = self._id("msg")
            reply = "Here is the complete answer after a retry."
            return [
                *self._text("Partial answ", first),
                DiscardMessage(first),
                *self._text(reply, second),
                TurnFinished(reply=reply),
            ]
        if "fail" in text:
            call = self._id("call")
            args = {"s3_uri": "s3://missing-bucket/data.csv"}
            return [
                ToolCallStarted(call, "s3_describe_object", "collection", "read", args),
                ToolCallFinished(
                    call,
                    "s3_describe_object",
                    "error",
                    "The bucket missing-bucket does not exist.",
                    duration_ms=42.0,
                    error_kind="not_found",
                    args=args,
                ),
                ErrorEvent("throttled", "Bedrock throttled the request; try again in a minute."),
                TurnFinished(reply=""),
            ]
        return [*self._text(ANSWER), TurnFinished(reply=ANSWER, usage={"input_tokens": 120})]

    # --- the bucket scenario (write risk) -----------------------------------------------
    def _bucket(self) -> list[Any]:
        call = self._id("call")
        args = {"bucket": "sagecoach-demo-data"}
        intro = self._text("I'll create the bucket `sagecoach-demo-data`.")
        started = ToolCallStarted(call, "s3_create_bucket", "collection", "write", args)
        if self.mode in ("read-only", "dry-run"):
            reason = (
                "read-only mode: s3_create_bucket is a write call and is not allowed. "
                "Switch mode to allow changes."
                if self.mode == "read-only"
                else "dry-run mode: would call s3_create_bucket (s3:CreateBucket). Nothing was run."
            )
            status = "denied" if self.mode == "read-only" else "dry_run"
            reply = "I did not create the bucket: " + reason
            return [
                *intro,
                started,
                ToolCallFinished(call, "s3_create_bucket", status, reason, args=args),
                *self._text(reply),
                TurnFinished(reply=reply),
            ]
        if self.mode in ("auto", "yes"):
            return [*intro, started, *self._bucket_done(call, args)]
        request = ApprovalRequest(
            call_id=call,
            tool="s3_create_bucket",
            stage="collection",
            risk="write",
            args=args,
            description="Create an S3 bucket in the session's region, tagged as created by sagecoach.",
            operations=["s3:CreateBucket", "s3:PutBucketTagging"],
            estimate=None,
            account=self.account_label,
            region=self._region,
            profile=self._profile,
            sandbox=self._sandbox,
            mode=self.mode,
            reason="write call",
            allow_session_offered=True,
            interrupt_id="int-1",
        )

        def after(decisions: dict[str, Decision]) -> list[Any]:
            decision = decisions.get(call) or Decision.reject("no decision")
            if decision.type == "reject":
                why = decision.reason or "no reason given"
                reply = f"OK, I did not create the bucket ({why})."
                return [
                    ToolCallFinished(
                        call,
                        "s3_create_bucket",
                        "rejected",
                        f"rejected by the user: {why}",
                        args=args,
                    ),
                    *self._text(reply),
                    TurnFinished(reply=reply),
                ]
            final = dict(args)
            if decision.type == "edit" and decision.args:
                final = dict(decision.args)
            return self._bucket_done(call, final)

        self._continuation = after
        return [*intro, started, ApprovalRequested(request)]

    def _bucket_done(self, call: str, args: dict[str, Any]) -> list[Any]:
        name = args["bucket"]
        resource = {
            "kind": "s3_bucket",
            "name": name,
            "arn": f"arn:aws:s3:::{name}",
            "region": self._region,
            "hourly_usd": None,
            "created_at": "2025-06-01T12:00:00Z",
            "extra": {},
        }
        self.created.append(resource)
        reply = f"Created the bucket **{name}**."
        return [
            ToolProgress(call, "s3_create_bucket", "creating bucket"),
            ToolCallFinished(
                call,
                "s3_create_bucket",
                "success",
                f"Created s3://{name} in {self._region}.",
                duration_ms=312.0,
                data={"rows": [{"bucket": name, "region": self._region, "tagged": "yes"}]},
                args=args,
            ),
            ResourceCreated(call, resource),
            *self._text(reply),
            TurnFinished(reply=reply, usage={"input_tokens": 200, "output_tokens": 30}),
        ]

    # --- the training scenario (costly) -------------------------------------------------
    def _train(self) -> list[Any]:
        call = self._id("call")
        args = {
            "job_name": "churn-xgb-1",
            "train_uri": "s3://sagecoach-demo/churn/churn.csv",
            "instance_type": "ml.m5.large",
            "max_runtime_hours": 1.0,
        }
        request = ApprovalRequest(
            call_id=call,
            tool="sagemaker_start_training_job",
            stage="training",
            risk="costly",
            args=args,
            description="Start a SageMaker training job with a built-in algorithm.",
            operations=["sagemaker:CreateTrainingJob", "iam:PassRole"],
            estimate=dict(TRAIN_ESTIMATE),
            account=self.account_label,
            region=self._region,
            profile=self._profile,
            sandbox=self._sandbox,
            mode=self.mode,
            reason="costly call",
        )

        def after(decisions: dict[str, Decision]) -> list[Any]:
            decision = decisions.get(call) or Decision.reject("no decision")
            if decision.type == "reject":
                reply = "Training was not started."
                return [
                    ToolCallFinished(
                        call,
                        "sagemaker_start_training_job",
                        "rejected",
                        f"rejected by the user: {decision.reason or 'no reason given'}",
                        args=args,
                    ),
                    *self._text(reply),
                    TurnFinished(reply=reply),
                ]
            self._spent += 0.23
            resource = {
                "kind": "sagemaker_endpoint",
                "name": "churn-xgb-endpoint",
                "arn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-xgb-endpoint",
                "region": self._region,
                "hourly_usd": 0.115,
                "created_at": "2025-06-01T12:00:00Z",
                "extra": {},
            }
            self.created.append(resource)
            reply = "The model trained (validation AUC 0.91) and the endpoint is up."
            events: list[Any] = [
                ToolProgress(call, "sagemaker_start_training_job", "Starting", 0, 3, "steps"),
                ToolProgress(call, "sagemaker_start_training_job", "Training", 2, 3, "steps"),
                ToolCallFinished(
                    call,
                    "sagemaker_start_training_job",
                    "success",
                    "Training job churn-xgb-1 Completed in 3 min; validation:auc 0.91.",
                    duration_ms=181_000.0,
                    data={
                        "metrics": {"validation:auc": 0.91, "train:auc": 0.95},
                        "series": {
                            "train:auc": [[1, 0.71], [2, 0.83], [3, 0.9], [4, 0.95]],
                            "validation:auc": [[1, 0.69], [2, 0.8], [3, 0.88], [4, 0.91]],
                        },
                        "rows": [
                            {"metric": "validation:auc", "value": 0.91},
                            {"metric": "train:auc", "value": 0.95},
                        ],
                    },
                    args=args,
                    estimate=dict(TRAIN_ESTIMATE),
                ),
                ResourceCreated(call, resource),
                *self._text(reply),
                TurnFinished(reply=reply, estimated_cost_usd=0.23),
            ]
            return events

        self._continuation = after
        intro = self._text("I'll start a training job on the churn data.")
        started = ToolCallStarted(call, "sagemaker_start_training_job", "training", "costly", args)
        return [*intro, started, ApprovalRequested(request)]

    # --- conversations ------------------------------------------------------------------
    async def list_conversations(self) -> list[ConversationInfo]:
        out = []
        for i, (cid, messages) in enumerate(sorted(self._conversations.items())):
            first = next((m["text"] for m in messages if m.get("role") == "user"), "(empty)")
            stamp = f"2025-06-0{min(i + 1, 9)}T10:00:00Z"
            out.append(ConversationInfo(cid, first[:40], stamp, stamp))
        return out

    async def new_conversation(self) -> str:
        self._seq += 1
        self.conversation_id = f"conv-new-{self._seq}"
        self._conversations[self.conversation_id] = []
        return self.conversation_id

    async def resume(self, conversation_id: str) -> list[dict[str, Any]]:
        if conversation_id not in self._conversations:
            raise KeyError(f"no conversation {conversation_id}")
        self.conversation_id = conversation_id
        return copy.deepcopy(self._conversations[conversation_id])

    async def delete_conversation(self, conversation_id: str) -> None:
        self._conversations.pop(conversation_id, None)

    async def aclose(self) -> None:
        self.closed = True
