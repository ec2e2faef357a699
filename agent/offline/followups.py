"""Conversation sense: "again", "same but …", "cancel", "why did that fail?", a reject reason.

Everything is read from the conversation's calls (memory.Call), so it survives a resume.
"""

from __future__ import annotations

import re
from typing import Any

from agent.offline.memory import Call, Memory

AGAIN = re.compile(
    r"(?i)\b(?:again|once more|one more time|re-?run|redo|repeat(?: it| that)?|"
    r"same (?:thing |again )?but|same as before|but this time|this time (?:with|use|using)|"
    r"same (?:settings|args|arguments|params|parameters)|(?:do|run|train) (?:it|that) with)\b"
)
CANCEL = re.compile(
    r"(?i)^\s*(?:no+|nope|nah)?[\s,!.]*(?:cancel(?: that| it)?|never ?mind|nvm|forget (?:it|that|about it)|"
    r"skip (?:it|that)|stop asking|don'?t bother|leave it|scratch that|abort that|no thanks)[\s!.]*$"
)
WHY_FAILED = re.compile(
    r"(?i)\b(?:why (?:did|does|is|was|has) (?:it|that|this|the \w+(?: \w+)?) (?:fail|failing|failed|"
    r"break|broken|error|not work)|why (?:didn'?t|doesn'?t|won'?t) (?:it|that|this) work|"
    r"what went wrong|what happened(?: there)?\??$|what was the error|what(?:'s| is) the error|"
    r"why the error|why(?: did)? (?:it|that) (?:fail|error)|why failed)"
)
_REASON = re.compile(r"\(reason: (.*)\)\. It did not run\.", re.S)
_MUTATING_HINT = ("create", "start", "put", "upload", "update", "submit", "ingest", "build")


def rejected_reason(call: Call) -> str:
    """The person's reason for rejecting a call ('' when none was given)."""
    m = _REASON.search(call.content or "")
    reason = m.group(1).strip() if m else ""
    return "" if reason == "no reason given" else reason


def repeat_target(calls: list[Call], wanted: set[str]) -> Call | None:
    """The call "again" repeats: the latest one of a tool the words point at, else the latest
    one that did something (not a read), else the latest call."""
    done = [c for c in calls if c.status not in ("rejected", "pending")]
    for call in reversed(done):
        if call.name in wanted:
            return call
    for call in reversed(done):
        if any(f"_{v}_" in f"_{call.name}_" for v in _MUTATING_HINT):
            return call
    return done[-1] if done else None


def merge_args(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Earlier arguments with the new ones on top; nested dicts (hyperparameters) merge."""
    out = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def last_failure(memory: Memory) -> Call | None:
    for call in reversed(memory.calls):
        if call.status == "error":
            return call
    return None


def why_failed(memory: Memory) -> str:
    """Explains the last failed call of the conversation in a person's words."""
    call = last_failure(memory)
    if call is None:
        return (
            "Nothing has failed in this conversation so far. If a job failed in AWS, ask "
            '"describe training job NAME" or "show the training logs of NAME".'
        )
    text = _plain_failure(call.content)
    args = ", ".join(f"{k}={v}" for k, v in call.args.items() if isinstance(v, str | int | float))[
        :160
    ]
    lines = [f"{call.name} failed{f' ({args})' if args else ''}: {text}"]
    hint = _hint(text)
    if hint:
        lines.append(hint)
    return "\n".join(lines)


def _plain_failure(content: str) -> str:
    text = " ".join((content or "").split())
    text = re.sub(r"(?i)^(?:error: )?", "", text)
    text = re.sub(r"(?i)\s*(?:do not retry|don't retry)[^.]*\.", "", text)
    return text[:400] or "no message came back"


def _hint(text: str) -> str:
    low = text.lower()
    if "nosuchbucket" in low or "bucket does not exist" in low or "no such bucket" in low:
        return 'The bucket does not exist: "list my buckets" shows the ones you have.'
    if "nosuchkey" in low or "not found" in low or "does not exist" in low:
        return 'Check the name or path; a list request ("list my …") shows what exists.'
    if "accessdenied" in low or "not authorized" in low:
        return "The credentials lack a permission; the message names the action."
    if "validation" in low or "invalid" in low:
        return "Fix the value it names and ask again."
    return ""
