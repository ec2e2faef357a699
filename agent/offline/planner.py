"""The planning step: given the conversation and the bound tools, one reply or one tool call.

Stateless: everything is re-derived from the messages (the request, the calls made for it so
far and their results), so it resumes cleanly from a stored conversation.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from agent.offline.best import LOOKUPS as BEST_LOOKUPS
from agent.offline.best import wants_best
from agent.offline.catalog_words import all_service_words
from agent.offline.choices import (
    MARGIN,
    MAX_CHOICES,
    READ_MARGIN,
    RISKY,
    RISKY_MARGIN,
    Choice,
    choices_text,
    picked,
    plain_words,
)
from agent.offline.conversation import ConversationSense
from agent.offline.direct import direct_call
from agent.offline.entities import extract_entities
from agent.offline.extract import (
    STAGE_WORDS,
    Extraction,
    extract,
    validate_and_trim,
)
from agent.offline.followups import (
    AGAIN,
    CANCEL,
    WHY_FAILED,
)
from agent.offline.guide import guided_start, is_first_minute
from agent.offline.memory import META_KEY as MEMORY_META_KEY
from agent.offline.memory import Memory, field_kind, read_messages, resource_kind, tool_object
from agent.offline.plan import Plan
from agent.offline.questions import ask_text
from agent.offline.ranking import Candidate, Ranker
from agent.offline.reply import result_reply
from agent.offline.steps import (
    ACTION_WORDS,
    SAME,
    SMALL_TALK,
    THANKS,
    split_steps,
)
from agent.offline.text import stem
from agent.offline.toolinfo import KNOWLEDGE_TOOLS, ToolInfo

LABEL = "offline planner — no LLM"
META_KEY = MEMORY_META_KEY
MIN_SCORE = 2.2


def _call_id(messages: list[BaseMessage], name: str, args: dict[str, Any]) -> str:
    raw = f"{len(messages)}|{name}|{json.dumps(args, sort_keys=True, default=str)}"
    return "offline_" + hashlib.sha1(raw.encode()).hexdigest()[:16]


def _text_of(msg: BaseMessage) -> str:
    content = msg.content
    if isinstance(content, str):
        return content
    out = []
    for block in content:
        if isinstance(block, str):
            out.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            out.append(str(block.get("text", "")))
    return "".join(out)


class Planner(ConversationSense):
    def __init__(self, tools: list[ToolInfo]) -> None:
        self._local = threading.local()
        self.tools = tools
        self.by_name = {t.name: t for t in tools}
        for t in tools:
            t.context_kind = _context_kind(t)
            if t.name == "describe_service":
                t.extra_words = list(all_service_words())
            elif t.name == "recommend_services":
                t.extra_words = [w for words in STAGE_WORDS.values() for w in words.split()]
        self.ranker = Ranker(tools)

    @property
    def lookup(self) -> Any:
        """What exists in the account (agent.offline.account.AccountLookup), when the session
        gave one for this call."""
        return getattr(self._local, "lookup", None)

    # ---- entry point --------------------------------------------------------------------
    def plan(self, messages: list[BaseMessage], lookup: Any = None) -> Plan:
        self._local.lookup = lookup
        try:
            return self._plan(messages)
        finally:
            self._local.lookup = None

    def _plan(self, messages: list[BaseMessage]) -> Plan:
        h = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        if h < 0:
            return Plan(guided_start(LABEL), meta={"kind": "answer", "guide": True})
        request = _text_of(messages[h]).strip()
        after = messages[h + 1 :]
        memory = read_messages(messages)
        turn_calls = [c for c in memory.calls if c.human_index == h]
        if after and turn_calls:
            return self._continue(messages, request, turn_calls, memory)
        return self._new_request(messages, h, request, memory)

    # ---- a turn in progress --------------------------------------------------------------
    def _continue(
        self, messages: list[BaseMessage], request: str, calls: list, memory: Memory
    ) -> Plan:
        last = calls[-1]
        if not isinstance(messages[-1], ToolMessage) or last.status == "pending":
            # Nothing new to act on (e.g. a call without a result): report what we have.
            return Plan(
                result_reply(
                    [c for c in calls if c.status != "pending"], self.by_name, self.tools, request
                )
                or "Waiting for the tool result.",
                meta={"kind": "report"},
            )
        if last.status == "rejected":
            edited = self._edit_from_reason(messages, last)
            if edited is not None:
                return edited
        steps = self._steps_of(messages, request)
        done = len([c for c in calls if not c.prereq])
        if last.status == "success" and done < len(steps):
            step = steps[done]
            plan = self._plan_step(
                messages,
                step,
                memory,
                step_no=(done + 1, len(steps)),
                # a free look-up made first (the best job) may be followed by another
                allow_prereq=not last.prereq or last.name in BEST_LOOKUPS,
            )
            if plan.tool_call is not None or plan.meta.get("kind") == "ask":
                if plan.meta.get("kind") == "ask":
                    so_far = result_reply(calls, self.by_name, self.tools, request)
                    plan.text = f"{so_far}\n{plan.text}" if so_far else plan.text
                    plan.meta.setdefault("pending", {})["rest"] = steps[done + 1 :]
                return plan
        return Plan(result_reply(calls, self.by_name, self.tools, request), meta={"kind": "report"})

    def _steps_of(self, messages: list[BaseMessage], request: str) -> list[str]:
        # A request that answered a question continues the steps left over from it.
        pending = self._pending_before_last_human(messages)
        steps = split_steps(request)
        if pending is not None and self._answers(pending, request, messages) is not None:
            return [request, *list(pending.get("rest") or [])]
        return steps

    # ---- a new request -------------------------------------------------------------------
    def _new_request(
        self, messages: list[BaseMessage], h: int, request: str, memory: Memory
    ) -> Plan:
        if request.startswith("/tool"):
            return direct_call(self, messages, request)
        pending = self._pending_before_last_human(messages)
        if pending is not None:
            if CANCEL.search(request):
                what = self.by_name.get(str(pending.get("tool", "")))
                done = f"I won't {_action_of(what)}" if what else "Dropped that"
                return Plan(f"OK. {done}; nothing was run.", meta={"kind": "answer"})
            if pending.get("choices") and not is_first_minute(request):
                chosen = picked(request, len(pending["choices"]))
                if chosen is not None:
                    return self._take_choice(messages, pending, chosen, memory)
                earlier = str(pending.get("request") or "")
                ent = extract_entities(request)
                if earlier and not re.search(rf"(?i)\b({ACTION_WORDS})\b", ent.ranking_text):
                    # "use s3://x" after "train a model" offered choices: the two together
                    return self._plan_step(messages, f"{earlier} {request}", memory, (1, 1))
            if not is_first_minute(request):
                answered = self._answers(pending, request, messages)
                if answered is not None:
                    return answered
        if is_first_minute(request):
            return Plan(guided_start(LABEL), meta={"kind": "answer", "guide": True})
        if THANKS.search(request):
            return Plan(
                'Anytime. Say what you want next, or "help" for where to start.',
                meta={"kind": "answer"},
            )
        if WHY_FAILED.search(request) and not extract_entities(request).identifiers:
            return self._why_failed(messages, memory)
        steps = split_steps(request)
        small = SMALL_TALK.search(request)
        if small and len(steps) == 1:
            rest = request[small.end() :]
            action = re.search(rf"(?i)\b({ACTION_WORDS})\b", rest)
            if not action or re.search(r"(?i)what can you do|who are you|what are you", request):
                return Plan(guided_start(LABEL), meta={"kind": "answer", "guide": True})
        plan = self._plan_step(messages, steps[0], memory, step_no=(1, len(steps)))
        if plan.meta.get("kind") == "ask":
            plan.meta.setdefault("pending", {})["rest"] = steps[1:]
        return plan

    # ---- one step ------------------------------------------------------------------------
    def _plan_step(
        self,
        messages: list[BaseMessage],
        step: str,
        memory: Memory,
        step_no: tuple[int, int],
        allow_prereq: bool = True,
    ) -> Plan:
        if (SAME.search(step) or AGAIN.search(step)) and memory.calls:
            plan = self._same_again(messages, step, memory)
            if plan is not None:
                return plan
        if wants_best(step) and memory.calls:
            plan = self._best_first(messages, step, memory, step_no)
            if plan is not None:
                return plan
        ent = extract_entities(step)
        # "named X" introduces something new: the pronoun then is not what the request is about.
        kinds = () if ent.named or ent.quoted else self._context_kinds(step, memory)
        specific = bool(
            ent.s3_uris or ent.arns or ent.identifiers or ent.named or ent.quoted or ent.files
        )
        ranking_text = self.ranker.typos.fix(ent.ranking_text)
        candidates = self.ranker.rank(ranking_text, limit=8, context_kinds=kinds, specific=specific)
        if not candidates or not self._understood(candidates, specific):
            return self._unsure(candidates, step, ent, memory)
        scored = self._choose(candidates, step, ent, memory)
        _, chosen, ex = scored[0]
        prefix = f"Step {step_no[0]} of {step_no[1]}: " if step_no[1] > 1 else ""
        if not self._clear(scored, ent, ranking_text):
            return self._offer(scored, step, prefix)
        if ex.missing and not ex.invalid and allow_prereq:
            first = self._prerequisite(messages, chosen.tool, ex, step, ent, memory, prefix)
            if first is not None:
                return first
        if ex.missing or ex.invalid:
            return self._ask(chosen.tool, ex, [], prefix=prefix, memory=memory, request=step)
        return self._call(messages, chosen.tool, ex.args, prefix, notes=ex.notes)

    @staticmethod
    def _understood(candidates: list[Candidate], specific: bool) -> bool:
        """Is any tool near what was asked (words, a whole phrase, or meaning)?"""
        best = max(candidates, key=lambda c: c.text_score)
        sem = max(c.semantic for c in candidates)
        return best.text_score >= MIN_SCORE or best.phrase_cover >= 0.3 or sem >= 2.5 or specific

    def _clear(
        self, scored: list[tuple[float, Candidate, Extraction]], ent: Any, text: str
    ) -> bool:
        """The confidence floor: the best tool leads the runner-up clearly; a tool that bills
        or deletes leads by more, or acts on something the request names (not on the
        conversation's last thing alone), with an action word of the person's."""
        top, cand, ex = scored[0]
        runner = next((s for s in scored[1:] if s[1].tool.name != cand.tool.name), None)
        margin = top - runner[0] if runner is not None else 99.0
        named = bool(
            ex.used
            & {"s3", "name", "file", "arn", "sql", "payload", "hyperparameters", "ranges", "target"}
        )
        typed = [w for w, qw in self.ranker.query_terms(text).items() if qw >= 0.85]
        vague = not set(typed) - _GENERIC and not self.ranker.plural_object(text)
        if vague and not named and not ex.from_context:
            return False  # "do something with my data", "the model": nothing says what to do
        if cand.tool.risk in RISKY and not ex.missing and not ex.invalid:
            # This would be a call (approval asked): the person's own action word, and either
            # the thing named or a clear lead.
            action = bool(re.search(rf"(?i)\b({ACTION_WORDS})\b", text)) or bool(
                set(self.ranker.query_terms(text)) & self.ranker.verbs.get(cand.tool.name, set())
            )
            if not action:
                return False
            if self._other_verbs_only(cand.tool, typed):
                return False  # "list everything you created" is not "delete everything ..."
            if named:
                return True
            if ent.s3_uris or ent.files or ent.identifiers or ent.named or ent.quoted:
                return False  # it would ignore what the request names: offer, do not guess
            if ex.from_context:
                # "delete the endpoint" / "delete it" after making one: the kind is said or
                # pointed at; a bare "delete" is not enough
                pointed = bool(re.search(r"(?i)\b(it|that|this|them|those)\b", text))
                return margin >= MARGIN and (pointed or self._says_kind(cand.tool, text))
            # nothing named, nothing from the conversation ("shut it down"): only a request
            # that says most of one of the tool's own phrases ("clean up everything"), or
            # says more than a word or two with the tool's own verb first ("delete all the
            # resources you created")
            if margin >= RISKY_MARGIN and cand.phrase_cover >= 0.6 and len(typed) >= 2:
                return True
            return (
                margin >= MARGIN
                and len(typed) >= 3
                and cand.phrase_cover >= 0.45
                and self._leads_with_verb(cand.tool, typed)
            )
        if named or ex.used & {"enum", "service", "stage"}:
            return True
        # A free read that can run as asked costs little if it is the wrong one: a small lead
        # will do. Anything else (a question, a write) needs a clear one.
        cheap = cand.tool.risk == "read" and not ex.missing and not ex.invalid
        return margin >= (READ_MARGIN if cheap else MARGIN)

    def _leads_with_verb(self, info: ToolInfo, typed: list[str]) -> bool:
        """Is the person's first verb one of the tool's own (its name's or phrases')?"""
        from agent.offline.text import expand

        vocab = self.ranker.verb_vocab
        first = next((v for w in typed for v in [w, *expand([w])[1:]] if v in vocab), None)
        return first is not None and first in self.ranker.verbs.get(info.name, set())

    def _other_verbs_only(self, info: ToolInfo, typed: list[str]) -> bool:
        """Does the person say what to do only with verbs that are not the tool's own (nor
        stand for them)? Then a tool that bills or deletes is not what they asked for."""
        from agent.offline.text import expand

        vocab = self.ranker.verb_vocab
        asked = {v for w in typed for v in [w, *expand([w])[1:]] if v in vocab}
        return bool(asked) and not asked & self.ranker.verbs.get(info.name, set())

    def _says_kind(self, info: ToolInfo, text: str) -> bool:
        """Does the request name the kind of thing the tool acts on ("the endpoint", "the
        files", "fit a model")?"""
        from agent.offline.text import content_words, expand

        kinds = set(expand([stem(w) for w in tool_object(info.name).split("_") if w]))
        kinds |= {"fil"} if "object" in kinds else set()
        return bool(kinds & set(expand(content_words(text))))

    def _offer(
        self, scored: list[tuple[float, Candidate, Extraction]], step: str, prefix: str
    ) -> Plan:
        choices: list[Choice] = []
        best = scored[0][0]
        for adjusted, cand, ex in scored:
            if len(choices) >= MAX_CHOICES or adjusted < best - 6.0:
                break
            if any(c.tool == cand.tool.name for c in choices):
                continue
            given = {k: v for k, v in ex.args.items() if k not in ex.from_context}
            choices.append(Choice(cand.tool.name, given, plain_words(cand.tool, given)))
        intro = (
            "I'm not sure which you mean. Did you want to:"
            if len(choices) > 1
            else "To be sure, did you mean:"
        )
        text = prefix + choices_text(choices, intro)
        return Plan(
            text,
            meta={
                "kind": "ask",
                "choices": [c.tool for c in choices],
                "pending": {"choices": [c.to_dict() for c in choices], "request": step},
            },
        )

    def _prerequisite(
        self,
        messages: list[BaseMessage],
        info: ToolInfo,
        ex: Extraction,
        step: str,
        ent: Any,
        memory: Memory,
        prefix: str,
    ) -> Plan | None:
        """A missing thing the conversation can make first: "deploy it" after a training job
        needs a model, and the model can be created from that job. Only when every argument of
        the maker comes from the request or the conversation (nothing invented)."""
        for fld in ex.missing:
            kind = field_kind(info.name, fld)
            if kind in ("", "name", "role", "bucket", "database", "table") or memory.latest(kind):
                continue
            makers = [
                t
                for t in self.tools
                if t.name != info.name
                and tool_object(t.name) == kind
                and "_create_" in f"_{t.name}_"
            ]
            for maker in makers:
                mex = validate_and_trim(maker, extract(maker, step, ent, memory))
                if mex.missing or mex.invalid or not mex.from_context:
                    continue
                source = ", ".join(str(mex.args[k]) for k in mex.from_context[:2])
                plan = self._call(
                    messages,
                    maker,
                    mex.args,
                    f"{prefix}To {_action_of(info)}, a {kind.replace('_', ' ')} comes first: "
                    f"making it from {source}. ",
                    notes=mex.notes,
                )
                plan.meta["prereq"] = True
                return plan
        return None

    def _context_kinds(self, step: str, memory: Memory) -> tuple[str, ...]:
        """With "it"/"that job"/"the endpoint", the kinds the last call dealt with."""
        if not _PRONOUN.search(step) or not memory.calls:
            return ()
        last = memory.last_call()
        if last is None:
            return ()
        kinds: list[str] = []
        artifact = last.artifact if isinstance(last.artifact, dict) else {}
        for res in artifact.get("resources") or []:
            if isinstance(res, dict):
                kinds.append(resource_kind(str(res.get("kind", ""))))
        for key, value in last.args.items():
            if isinstance(value, str) and not value.startswith("s3://"):
                kinds.append(field_kind(last.name, key))
        if any(isinstance(v, str) and v.startswith("s3://") for v in last.args.values()):
            kinds.append("s3_uri")
        return tuple(dict.fromkeys(k for k in kinds if k and k != "name"))

    def _choose(
        self, candidates: list[Candidate], step: str, ent: Any, memory: Memory
    ) -> list[tuple[float, Candidate, Extraction]]:
        """The candidates near the top, re-scored by how well the request fills each one's
        arguments (best first)."""
        salient = set(ent.kinds)
        if ent.quoted or ent.named or ent.identifiers:
            salient.add("name")
        if ent.arns:
            salient.add("arn")
        if ent.csv_payload or ent.json_payload or ent.rows_from_file:
            salient.add("payload")
        best_score = candidates[0].score
        # When the request names things, a tool that takes them may sit further down.
        window = 8.0 if salient else 3.0
        scored: list[tuple[float, int, Candidate, Extraction]] = []
        for i, cand in enumerate(candidates[:6]):
            if cand.score < best_score - window:
                break
            # knowledge tools take the words, not names: they see the spelling fixed
            text = self.ranker.typos.fix(step) if cand.tool.name in KNOWLEDGE_TOOLS else step
            ex = validate_and_trim(cand.tool, extract(cand.tool, text, ent, memory))
            used = ex.used & salient
            # a tool that would ignore what the request names (a URI, a name) is unlikely
            fit = 1.0 * len(used) - 1.2 * len(salient - ex.used)
            # A tool that needs a name the request does not give (and the conversation has
            # none of) is less likely than one that can run as asked.
            unnamed = [
                m
                for m in ex.missing
                if field_kind(cand.tool.name, m) not in ("", "role")
                and not memory.latest(field_kind(cand.tool.name, m))
            ]
            fit -= 0.25 * len(ex.missing) + 0.4 * len(ex.invalid) + 1.0 * len(unnamed)
            fit += 0.5 if "enum" in ex.used else 0.0  # "in progress" fits a status filter
            # hyperparameter values or ranges the tool takes: a strong sign it is the one
            fit += 1.5 if ex.used & {"hyperparameters", "ranges"} else 0.0
            adjusted = cand.score + max(-3.0, min(2.0, fit))
            scored.append((adjusted, i, cand, ex))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [(adjusted, cand, ex) for adjusted, _, cand, ex in scored]

    # ---- outcomes ------------------------------------------------------------------------
    def _call(
        self,
        messages: list[BaseMessage],
        info: ToolInfo,
        args: dict[str, Any],
        prefix: str,
        notes: list[str] | None = None,
    ) -> Plan:
        call_id = _call_id(messages, info.name, args)
        # The tool card shows the name and arguments; the text only says what the card cannot.
        extra = f"({'; '.join(notes)})" if notes else ""
        text = f"{prefix}{extra}".strip()
        if prefix.startswith("Step ") and not extra:
            text = f"{prefix}{_action_of(info)}."
        return Plan(
            text,
            {"name": info.name, "args": args, "id": call_id},
            meta={"kind": "call", "tool": info.name},
        )

    def _ask(
        self,
        info: ToolInfo,
        ex: Extraction,
        rest: list[str],
        prefix: str = "",
        memory: Memory | None = None,
        request: str = "",
    ) -> Plan:
        """A question in plain words, with the values that exist (conversation, account)."""
        missing = [m for m in ex.missing if m]
        missing += [fld for fld, _ in ex.invalid if fld in info.fields and fld not in missing]
        invalid = list(ex.invalid)
        text = ask_text(
            info, [m for m in missing], invalid, memory or Memory(), self.lookup, ex.reasons
        )
        text = prefix + (text or f"What should I change to {_action_of(info)}?")
        pending_missing = missing or [f for f, _ in invalid if f in info.fields]
        return Plan(
            text,
            meta={
                "kind": "ask",
                "pending": {
                    "tool": info.name,
                    "args": ex.args,
                    "missing": pending_missing,
                    "rest": rest,
                    "request": request,
                },
            },
        )

    def _unsure(self, candidates: list[Candidate], step: str, ent: Any, memory: Memory) -> Plan:
        """Nothing clearly meant: the closest few as numbered choices, or the guided start."""
        near = [c for c in candidates[:MAX_CHOICES] if c.score > 0.5 and c.semantic > 0.5]
        if len(near) >= 2:
            scored = [
                (c.score, c, validate_and_trim(c.tool, extract(c.tool, step, ent, memory)))
                for c in near
            ]
            return self._offer(scored, step, "")
        return Plan(
            "I did not understand that.\n" + guided_start(LABEL),
            meta={"kind": "ask", "guide": True, "pending": {}},
        )


# Words that name no action or thing of their own (stemmed as the ranker does).
_GENERIC = {"data", "model", "thing", "someth", "stuff", "everyth", "anyth", "it", "work", "do"}
_PRONOUN = re.compile(r"(?i)\b(it|its|that|this|them|those|the same|the \w+|my \w+)\b")


def _context_kind(info: ToolInfo) -> str:
    for f in info.fields.values():
        if f.required and "string" in f.types and not f.enum:
            kind = field_kind(info.name, f.name)
            if f.name.endswith(("s3_uri", "_uri")) or f.name == "s3_uri":
                return "s3_uri"
            if kind not in ("role", "name", ""):
                return kind
    return ""


def _action_of(info: ToolInfo | None) -> str:
    if info is None:
        return "do that"
    return info.phrases[0] if info.phrases else info.name.replace("_", " ")


def knowledge_tool_names() -> tuple[str, ...]:
    return KNOWLEDGE_TOOLS
