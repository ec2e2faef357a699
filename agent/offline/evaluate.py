"""The evaluation harness: how often a model routes requests to the right tool and arguments.

A case file is JSON Lines, one case a line:

    {"id": "c1", "request": "...", "context": ["earlier request", ...],
     "expect": {"tool": "NAME", "args": {"key": value}}}

`context` turns run first (their tool calls really run, in the sandbox, approved); the request
is then sent and its first tool call compared: the tool name exactly, `args` as a subset
(strings case-insensitively). `{"ask": true}` expects a clarifying question (numbered choices
count) and no call; `{"tool": null}` expects an answer with no call; `{"choices": true}`
expects numbered choices. Besides accuracy, the report gives top-3: the expected tool was
called or was among the choices offered. Every case gets a freshly reset sandbox and a
working directory holding the demo files (churn.csv, data.csv, train.py, handler.py,
payload.json), so requests can name local files.

Two drivers: through the agent runtime (`open_session`, mode "yes"; the default) or directly
against the chat model with a small tool loop (`direct=True`; no runtime needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_TOOL_ROUNDS = 6


@dataclass
class Case:
    id: str
    request: str
    expect: dict[str, Any]
    context: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    reply: str = ""
    error: str = ""
    choices: list[str] = field(default_factory=list)  # tools offered as numbered choices

    @property
    def asked(self) -> bool:
        return self.tool is None and "?" in self.reply

    def to_dict(self) -> dict[str, Any]:
        if self.error:
            return {"error": self.error}
        if self.tool is None:
            out: dict[str, Any] = {"tool": None, "ask": self.asked, "reply": self.reply[:300]}
            if self.choices:
                out["choices"] = self.choices
            return out
        return {"tool": self.tool, "args": self.args}


@dataclass
class Report:
    total: int = 0
    correct: int = 0
    top3: int = 0  # correct, or the expected tool among the choices offered
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return round(self.correct / self.total, 4) if self.total else 0.0

    @property
    def top3_accuracy(self) -> float:
        return round(self.top3 / self.total, 4) if self.total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "top3": self.top3,
            "top3_accuracy": self.top3_accuracy,
            "failures": self.failures,
        }


class CaseFileError(ValueError):
    pass


def load_cases(path: Path) -> list[Case]:
    cases: list[Case] = []
    seen: set[str] = set()
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            raw = json.loads(line)
        except ValueError as exc:
            raise CaseFileError(f"{path}:{n}: not JSON ({exc})") from None
        if not isinstance(raw, dict) or "request" not in raw or "expect" not in raw:
            raise CaseFileError(f"{path}:{n}: a case needs 'request' and 'expect'")
        expect = raw["expect"]
        if not isinstance(expect, dict) or not (
            "tool" in expect or expect.get("ask") or expect.get("choices")
        ):
            raise CaseFileError(
                f"{path}:{n}: 'expect' needs 'tool' (a name or null), 'ask': true or 'choices': true"
            )
        cid = str(raw.get("id") or f"line{n}")
        if cid in seen:
            raise CaseFileError(f"{path}:{n}: duplicate id '{cid}'")
        seen.add(cid)
        context = raw.get("context") or []
        if not isinstance(context, list) or not all(isinstance(c, str) for c in context):
            raise CaseFileError(f"{path}:{n}: 'context' must be a list of strings")
        cases.append(Case(cid, str(raw["request"]), expect, list(context)))
    return cases


def _same(expected: Any, got: Any) -> bool:
    if isinstance(expected, str) and isinstance(got, str):
        return expected.strip().lower() == got.strip().lower()
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(float(expected) - float(got)) < 1e-9
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(
            _same(e, g) for e, g in zip(expected, got, strict=True)
        )
    if isinstance(expected, dict) and isinstance(got, dict):
        return all(k in got and _same(v, got[k]) for k, v in expected.items())
    return expected == got


def judge(case: Case, outcome: Outcome) -> bool:
    if outcome.error:
        return False
    expect = case.expect
    if expect.get("choices"):
        return outcome.tool is None and len(outcome.choices) >= 2
    if expect.get("ask"):
        return outcome.tool is None and (outcome.asked or bool(outcome.choices))
    if expect.get("tool") is None:
        return outcome.tool is None
    if outcome.tool != expect["tool"]:
        return False
    return _same(expect.get("args") or {}, outcome.args)


def in_top3(case: Case, outcome: Outcome) -> bool:
    """Right, or the expected tool was one of the numbered choices offered."""
    if judge(case, outcome):
        return True
    tool = case.expect.get("tool")
    return bool(tool) and outcome.tool is None and tool in outcome.choices[:3]


def _choices_of(message: Any) -> list[str]:
    from agent.offline.memory import META_KEY

    meta = (getattr(message, "additional_kwargs", None) or {}).get(META_KEY) or {}
    return [str(c) for c in meta.get("choices") or []]


# ---- the working directory every case runs in ----------------------------------------------


def write_demo_files(directory: Path) -> None:
    from sandbox.demo_data import write_churn_csv

    write_churn_csv(directory / "churn.csv", rows=200)
    (directory / "data.csv").write_text((directory / "churn.csv").read_text())
    (directory / "train.py").write_text(
        "import argparse\n\nif __name__ == '__main__':\n    argparse.ArgumentParser().parse_args()\n"
    )
    (directory / "handler.py").write_text(
        "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"
    )
    (directory / "payload.json").write_text('{"instances": [[1, 2, 3]]}\n')
    (directory / "records.csv").write_text("id,value\n1,0.5\n2,0.7\n")


@contextlib.contextmanager
def demo_workdir() -> Iterator[Path]:
    old = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="sagecoach-eval-") as tmp:
        path = Path(tmp)
        write_demo_files(path)
        os.chdir(path)
        try:
            yield path
        finally:
            os.chdir(old)


# ---- drivers --------------------------------------------------------------------------------


class DirectDriver:
    """Calls the chat model with the registry's tools and runs its calls itself (approved)."""

    def __init__(self, model: Any, sandbox: Any, tools: list[Any] | None = None) -> None:
        from tools.aws.context import AwsContext
        from tools.core.context import ToolContext
        from tools.core.registry import all_tools

        self.specs = {s.name: s for s in (tools or all_tools())}
        self.model = model.bind_tools(list(self.specs.values()))
        self.sandbox = sandbox
        self.aws = AwsContext(sandbox_endpoint=sandbox.endpoint, session_id="eval")
        self._state = tempfile.TemporaryDirectory(prefix="sagecoach-eval-state-")
        self.ctx = ToolContext(
            self.aws, session_id="eval", state_dir=Path(self._state.name), sandbox=sandbox
        )

    def close(self) -> None:
        self._state.cleanup()

    def _turn(self, messages: list[Any], text: str, *, execute: bool) -> Outcome:
        from langchain_core.messages import HumanMessage, ToolMessage

        messages.append(HumanMessage(text))
        first: Outcome | None = None
        for _ in range(MAX_TOOL_ROUNDS):
            ai = self.model.invoke(messages)
            messages.append(ai)
            if not ai.tool_calls:
                reply = ai.text if hasattr(ai, "text") else str(ai.content)
                reply = reply if isinstance(reply, str) else str(reply)
                return first or Outcome(reply=reply, choices=_choices_of(ai))
            for tc in ai.tool_calls:
                if first is None:
                    first = Outcome(tool=tc["name"], args=dict(tc.get("args") or {}))
                    if not execute:
                        messages.append(
                            ToolMessage("dry run", tool_call_id=tc["id"], name=tc["name"])
                        )
                        return first
                messages.append(self._run_tool(tc))
        return first or Outcome(reply="")

    def _run_tool(self, tc: dict[str, Any]) -> Any:
        from langchain_core.messages import ToolMessage

        from tools.core.errors import ToolError

        spec = self.specs.get(tc["name"])
        if spec is None:
            return ToolMessage(f"unknown tool {tc['name']}", tool_call_id=tc["id"], status="error")
        try:
            result = spec.run(self.ctx, dict(tc.get("args") or {}))
        except ToolError as exc:
            return ToolMessage(exc.message, tool_call_id=tc["id"], name=tc["name"], status="error")
        except Exception as exc:  # a tool bug must not end the evaluation
            return ToolMessage(
                f"{type(exc).__name__}: {exc}",
                tool_call_id=tc["id"],
                name=tc["name"],
                status="error",
            )
        return ToolMessage(
            result.text, tool_call_id=tc["id"], name=tc["name"], artifact=result.artifact()
        )

    def run_case(self, case: Case) -> Outcome:
        self.sandbox.reset()
        messages: list[Any] = []
        for turn in case.context:
            self._turn(messages, turn, execute=True)
        return self._turn(messages, case.request, execute=False)


class RuntimeDriver:
    """Runs each case as a new conversation of one agent session (mode "yes", sandbox)."""

    def __init__(self, settings: Any, model: Any, sandbox: Any) -> None:
        self.settings = settings
        self.model = model
        self.sandbox = sandbox
        self.loop = asyncio.new_event_loop()
        from agent.startup import open_session

        self.session = self.loop.run_until_complete(
            open_session(settings, model=model, sandbox_endpoint=sandbox.endpoint)
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(self.session.aclose())
        self.loop.close()

    async def _send(self, text: str, *, first_only: bool) -> Outcome:
        from agent.events import ErrorEvent, ToolCallFinished, ToolCallStarted, TurnFinished

        out = Outcome()
        async for event in self.session.send(text):
            if isinstance(event, ToolCallStarted | ToolCallFinished) and out.tool is None:
                out.tool, out.args = event.name, dict(event.args)
            elif isinstance(event, TurnFinished):
                out.reply = event.reply
            elif isinstance(event, ErrorEvent) and not out.tool:
                out.error = f"{event.error_kind}: {event.message}"
        if out.tool is None:
            out.choices = await self._last_choices()
        return out

    async def _last_choices(self) -> list[str]:
        """The numbered choices the model's last message offered (from the checkpoint)."""
        try:
            state = await self.session.agent.aget_state(
                {"configurable": {"thread_id": self.session.conversation_id}}
            )
        except Exception:
            return []
        messages = (getattr(state, "values", None) or {}).get("messages") or []
        return _choices_of(messages[-1]) if messages else []

    def run_case(self, case: Case) -> Outcome:
        self.sandbox.reset()
        self.loop.run_until_complete(self.session.new_conversation())
        self.session.set_mode("yes")
        for turn in case.context:
            self.loop.run_until_complete(self._send(turn, first_only=False))
        # The request itself is not executed: dry-run reports the call without running it.
        self.session.set_mode("dry-run")
        try:
            return self.loop.run_until_complete(self._send(case.request, first_only=True))
        finally:
            self.session.set_mode("yes")


def evaluate(
    cases: list[Case],
    run_case: Callable[[Case], Outcome],
    progress: Callable[[Case, bool], None] | None = None,
) -> Report:
    report = Report()
    for case in cases:
        try:
            outcome = run_case(case)
        except Exception as exc:  # one broken case is a failure, not the end of the run
            outcome = Outcome(error=f"{type(exc).__name__}: {exc}")
        ok = judge(case, outcome)
        report.total += 1
        report.correct += int(ok)
        report.top3 += int(in_top3(case, outcome))
        if not ok:
            report.failures.append(
                {"id": case.id, "expected": case.expect, "got": outcome.to_dict()}
            )
        if progress is not None:
            progress(case, ok)
    return report


def run_eval(
    cases: list[Case],
    *,
    model: Any,
    sandbox: Any,
    direct: bool = False,
    settings: Any = None,
    progress: Callable[[Case, bool], None] | None = None,
) -> Report:
    """Evaluate `cases` against `model` on a running sandbox, in the demo working directory."""
    with demo_workdir():
        if direct:
            driver: DirectDriver | RuntimeDriver = DirectDriver(model, sandbox)
        else:
            driver = RuntimeDriver(settings, model, sandbox)
        try:
            return evaluate(cases, driver.run_case, progress)
        finally:
            driver.close()
