"""A sagecoach session run in a child process so the kill -9 suite can kill it mid-turn.

    python -m tests.kill_child STATE_DIR SANDBOX_ENDPOINT PHASE

The turn: the model asks to create bucket `kill-b`, the person approves, the tool creates it,
the model answers. The child prints `CONVERSATION <id>` once the session is open and
`PHASE <name>` when it reaches PHASE, then waits there to be killed:

- model:       while the first model call is streaming
- approval:    paused at the approval request (never answered)
- in_flight:   during CreateBucket (the endpoint given holds the reply back; the parent kills)
- after_create: in the tool, after CreateBucket answered, before the tool returns
- next_model:  during the model call after the tool's result
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.core.context import ToolContext
from tools.core.declaration import ToolSpec
from tools.core.results import Resource, ToolResult

BUCKET = "kill-b"
PHASE = {"name": ""}


class BucketArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bucket: str


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def wait_to_be_killed() -> None:
    while True:
        time.sleep(60)


def _create(ctx: ToolContext, args: BucketArgs) -> ToolResult:
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket=args.bucket)
    if PHASE["name"] == "after_create":
        say("PHASE after_create")
        wait_to_be_killed()
    s3.put_bucket_tagging(Bucket=args.bucket, Tagging={"TagSet": ctx.aws.tags()})
    return ToolResult(f"created {args.bucket}", resources=[Resource("s3_bucket", args.bucket)])


TOOLS = [
    ToolSpec(
        "kill_create_bucket", "collection", "Create a bucket.", "write",
        ("s3:CreateBucket", "s3:PutBucketTagging"), BucketArgs, _create,
    ),
]  # fmt: skip


def _script(phase: str) -> list[Any]:
    from tests.scripted_model import tool_turn

    def pause(name: str) -> Any:
        def step(messages: list[Any]) -> str:
            say(f"PHASE {name}")
            wait_to_be_killed()
            return ""

        return step

    if phase == "model":
        return [pause("model")]
    last = pause("next_model") if phase == "next_model" else "Created kill-b."
    return [tool_turn("kill_create_bucket", {"bucket": BUCKET}, text="Creating it."), last]


async def run(state: Path, endpoint: str, phase: str) -> None:
    from agent.events import ApprovalRequested, Decision
    from agent.settings import Settings
    from agent.startup import open_session
    from tests.scripted_model import ScriptedChatModel

    PHASE["name"] = phase
    session = await open_session(
        Settings(state_dir=state, sandbox="on", mode="ask"),
        model=ScriptedChatModel(script=_script(phase)),
        sandbox_endpoint=endpoint,
        tools=TOOLS,
        retry_delay=0.0,
    )
    say(f"CONVERSATION {session.conversation_id}")
    asked = [e async for e in session.send(f"create the bucket {BUCKET}")]
    requests = [e.request for e in asked if isinstance(e, ApprovalRequested)]
    if phase == "approval":
        say("PHASE approval")
        wait_to_be_killed()
    if phase == "in_flight":
        say("PHASE deciding")
    async for _ in session.decide({r.call_id: Decision.approve() for r in requests}):
        pass
    await session.aclose()
    say("DONE")


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
