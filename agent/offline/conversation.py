"""Conversation sense for the planner: answers to its own questions, numbered choices, "again",
"why did that fail?", "the best model", and reject reasons read as edits.

A mixin of `Planner` (agent.offline.planner): these steps read the conversation and then use
the planner's own ranking, extraction and outcomes.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agent.offline.best import BEST, best_known, lookup_call
from agent.offline.choices import MARGIN, RISKY
from agent.offline.entities import extract_entities
from agent.offline.extract import Extraction, extract, validate_and_trim
from agent.offline.followups import (
    AGAIN,
    last_failure,
    merge_args,
    rejected_reason,
    repeat_target,
    why_failed,
)
from agent.offline.memory import META_KEY, Memory, field_kind, read_messages, tool_object
from agent.offline.plan import Plan
from agent.offline.steps import ACTION_WORDS, SAME, short
from agent.offline.toolinfo import ToolInfo


class ConversationSense:
    """Steps that depend on what was said and done before (mixed into Planner)."""

    MIN_SCORE = 2.2

    def _edit_from_reason(self, messages: list[BaseMessage], call: Any) -> Plan | None:
        """A reject reason that says what to change ("use linear learner", "into raw/") is an
        edit of the call: the same call again with that change, approved again."""
        reason = rejected_reason(call)
        info = self.by_name.get(call.name)
        if not reason or info is None:
            return None
        ent = extract_entities(reason)
        ex = extract(info, reason, ent, Memory(), known=dict(call.args))
        changed = {k: v for k, v in ex.args.items() if k not in ex.from_context}
        changed.update(_relative_prefix(reason, call.args))
        if not changed:
            return None
        args = merge_args(call.args, changed)
        if args == call.args:
            return None
        dropped = _drop_nested_misfits(info, args, changed)
        done = validate_and_trim(info, Extraction(args=args))
        if done.missing or any(f in changed or f not in info.fields for f, _ in done.invalid):
            return None
        what = ", ".join(f"{k} {short(v)}" for k, v in changed.items())
        dropped += [f for f, _ in done.invalid]
        extra = f" Left out {', '.join(dropped)}: not valid after that change." if dropped else ""
        return self._call(messages, info, done.args, f"Changed as you said ({what}).{extra} ")

    def _why_failed(self, messages: list[BaseMessage], memory: Memory) -> Plan:
        """The last failed call explained; else the last job's own status (its failure
        reason), which a describe call shows."""
        if last_failure(memory) is None:
            for kind, tool in (
                ("training_job", "sagemaker_describe_training_job"),
                ("tuning_job", "sagemaker_describe_tuning_job"),
                ("processing_job", "sagemaker_describe_processing_job"),
                ("endpoint", "sagemaker_describe_endpoint"),
            ):
                name = memory.latest(kind)
                info = self.by_name.get(tool)
                if name and info is not None:
                    field_name = next(iter(info.required), None)
                    if field_name:
                        return self._call(messages, info, {field_name: name}, "")
        return Plan(why_failed(memory), meta={"kind": "answer"})

    def _take_choice(
        self, messages: list[BaseMessage], pending: dict[str, Any], index: int, memory: Memory
    ) -> Plan:
        choice = pending["choices"][index]
        info = self.by_name.get(str(choice.get("tool")))
        if info is None:
            return Plan("That choice is no longer available; say what you want in other words.")
        step = str(pending.get("request") or "")
        ex = validate_and_trim(
            info, extract(info, step, extract_entities(step), memory, known=choice.get("args"))
        )
        ex.args = {**dict(choice.get("args") or {}), **ex.args}
        ex = validate_and_trim(info, Extraction(args=ex.args, notes=ex.notes))
        if ex.missing or ex.invalid:
            return self._ask(info, ex, list(pending.get("rest") or []), memory=memory)
        return self._call(messages, info, ex.args, "", notes=ex.notes)

    def _pending_before_last_human(self, messages: list[BaseMessage]) -> dict[str, Any] | None:
        h = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        for msg in reversed(messages[:h]):
            if isinstance(msg, AIMessage):
                meta = (msg.additional_kwargs or {}).get(META_KEY) or {}
                return meta.get("pending") if meta.get("kind") == "ask" else None
            if isinstance(msg, HumanMessage):
                return None
        return None

    def _answers(
        self, pending: dict[str, Any], text: str, messages: list[BaseMessage]
    ) -> Plan | None:
        """An answer to the pending question fills that question's tool, never another one;
        a request with an intent of its own (an action word ranking another tool) is new."""
        info = self.by_name.get(pending.get("tool", ""))
        if info is None:
            return None
        missing = list(pending.get("missing") or [])
        if not missing:
            return None
        ent = extract_entities(text)
        memory = read_messages(messages)
        args = dict(pending.get("args") or {})
        ex = extract(info, text, ent, memory, known=args)
        filled = {k: v for k, v in ex.args.items() if k not in ex.from_context and k not in args}
        answered = {k: v for k, v in filled.items() if k in missing}
        words = text.split()
        if not answered and len(words) <= 3 and len(missing) >= 1:
            value = text.strip().strip("\"'`.")
            f = info.fields.get(missing[0])
            if f is not None and value and re.fullmatch(r"[\w.\-:/@+=,]+", value):
                answered[missing[0]] = int(value) if f.is_number and value.isdigit() else value
                filled[missing[0]] = answered[missing[0]]
        if self._new_intent(info, text, ent):
            return None
        if not filled:
            # Nothing for this question and no other request: ask it again, in other words.
            again = self._ask(
                info,
                Extraction(args=args, missing=missing),
                pending.get("rest") or [],
                memory=memory,
            )
            again.text = f"I could not find that in your answer.\n{again.text}"
            return again
        args.update(filled)
        done = validate_and_trim(info, Extraction(args=args))
        if done.missing or done.invalid:
            return self._ask(info, done, pending.get("rest") or [], memory=memory)
        return self._call(messages, info, done.args, "")

    def _new_intent(self, info: ToolInfo, text: str, ent: Any) -> bool:
        """Does this reply ask for something else? It must read as a request (an action word
        or a question) and rank another tool clearly above the pending one; a tool
        that bills or deletes also needs its own action word. "input s3://a and output to
        s3://b" is an answer, not a request to delete anything."""
        ranking_text = self.ranker.typos.fix(ent.ranking_text)
        action = bool(re.search(rf"(?i)\b({ACTION_WORDS})\b", ranking_text))
        question = bool(
            re.search(r"(?i)\?\s*$|^\s*(what|which|how|is|are|do|does|can|any)\b", text)
        )
        if not (action or question):
            return False  # no verb of its own, no question: it answers ("input s3://a and ...")
        ranked = self.ranker.rank(ranking_text, limit=60)
        if not ranked or ranked[0].tool.name == info.name:
            return False
        if ranked[0].tool.risk in RISKY and not action:
            return False
        mine = next((c for c in ranked if c.tool.name == info.name), None)
        return mine is None or ranked[0].score - mine.score > MARGIN

    def _best_first(
        self, messages: list[BaseMessage], step: str, memory: Memory, step_no: tuple[int, int]
    ) -> Plan | None:
        """ "deploy the best model": the job that scored best on its optimised metric becomes
        what "the model" refers to; when nobody has looked yet, the free look-up comes first."""
        known = best_known(memory)
        if known is not None:
            job, why = known
            memory.add("training_job", job)  # now the latest: "the model" means this one
            return self._note(
                self._plan_step_plain(messages, step, memory, step_no), f"Best: {job} ({why})."
            )
        turn_names = {c.name for c in memory.calls}
        lookup = lookup_call(memory, turn_names)
        info = self.by_name.get(lookup[0]) if lookup else None
        if lookup is None or info is None:
            return None
        plan = self._call(messages, info, lookup[1], "To find the best one by its metric, first: ")
        plan.meta["prereq"] = True
        return plan

    def _plan_step_plain(
        self, messages: list[BaseMessage], step: str, memory: Memory, step_no: tuple[int, int]
    ) -> Plan:
        return self._plan_step(messages, BEST.sub(" ", step), memory, step_no)

    @staticmethod
    def _note(plan: Plan, note: str) -> Plan:
        plan.text = f"{note} {plan.text}".strip()
        return plan

    def _same_again(self, messages: list[BaseMessage], step: str, memory: Memory) -> Plan | None:
        """ "again" / "same but X": the earlier call with every argument kept and only what was
        said changed (hyperparameters merge); a new job gets a new name (the tool's default)."""
        text = AGAIN.sub(" ", SAME.sub(" ", step))
        ent = extract_entities(text)
        ranked = self.ranker.rank(self.ranker.typos.fix(ent.ranking_text), limit=3)
        wanted = {c.tool.name for c in ranked[:2] if c.text_score >= self.MIN_SCORE}
        last = repeat_target(memory.calls, wanted)
        if last is None or last.name not in self.by_name:
            return None
        info = self.by_name[last.name]
        ex = extract(info, text, ent, Memory(), known=dict(last.args))
        changed = {k: v for k, v in ex.args.items() if k not in ex.from_context}
        is_same = bool(SAME.search(step))
        if not changed and is_same:
            return None  # "do the same for X" with nothing new: not a repeat
        args = merge_args(last.args, changed)
        # What the call creates needs a new name: drop the old one unless a new one was given.
        for key in list(args):
            kind = field_kind(info.name, key)
            if key not in changed and kind and _makes(info.name, kind):
                args.pop(key)
        done = validate_and_trim(info, Extraction(args=args))
        if done.missing or done.invalid:
            return self._ask(info, done, [], memory=memory)
        what = ", ".join(f"{k} {short(v)}" for k, v in changed.items()) or "nothing changed"
        return self._call(messages, info, done.args, f"Again, as before ({what}). ")


def _makes(tool_name: str, kind: str) -> bool:
    """Does this tool create a thing of this kind (so each call needs a new name)?"""
    obj = tool_object(tool_name)
    verb = any(f"_{v}_" in f"_{tool_name}_" for v in ("create", "start", "submit"))
    return verb and bool(obj) and (kind == obj or obj.startswith(kind) or kind.endswith(obj))


def _drop_nested_misfits(
    info: ToolInfo, args: dict[str, Any], changed: dict[str, Any]
) -> list[str]:
    """After an edit ("use linear learner"), earlier nested values the tool now rejects
    ("hyperparameters.eta: is not a Linear Learner hyperparameter") are left out."""
    dropped: list[str] = []
    for _field, _kind, message in info.validate(args):
        for top, key in re.findall(r"\b([a-z_]+)\.([A-Za-z0-9_:]+):", message):
            value = args.get(top)
            if top in changed or not isinstance(value, dict) or key not in value:
                continue
            args[top] = {k: v for k, v in value.items() if k != key}
            if not args[top]:
                args.pop(top)
            dropped.append(f"{top}.{key}")
    return dropped


def _relative_prefix(reason: str, args: dict[str, Any]) -> dict[str, str]:
    """ "into raw/" for a call with s3://b/tmp/x.csv: the same bucket, that prefix."""
    m = re.search(
        r"(?i)\b(?:into|to|under|in|at)\s+([\w.\-]+(?:/[\w.\-]*)*/)(?=\s|$|[,.;])", reason
    )
    if m is None or m.group(1).startswith("s3:"):
        return {}
    prefix = m.group(1).lstrip("/")
    out: dict[str, str] = {}
    for key, value in args.items():
        if isinstance(value, str) and value.startswith("s3://"):
            bucket, _, key_part = value[5:].partition("/")
            name = key_part.rsplit("/", 1)[-1] if not key_part.endswith("/") else ""
            out[key] = f"s3://{bucket}/{prefix}{name}"
            break
    return out
