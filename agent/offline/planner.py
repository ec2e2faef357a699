"""The planning step: given the conversation and the bound tools, one reply or one tool call.

Stateless: everything is re-derived from the messages (the request, the calls made for it so
far and their results), so it resumes cleanly from a stored conversation.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import threading
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agent.offline.best import BEST, best_known, lookup_call, wants_best
from agent.offline.best import LOOKUPS as BEST_LOOKUPS
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
    rejected_reason,
    repeat_target,
    why_failed,
)
from agent.offline.guide import guided_start, is_first_minute
from agent.offline.memory import META_KEY as MEMORY_META_KEY
from agent.offline.memory import Memory, field_kind, read_messages, resource_kind, tool_object
from agent.offline.questions import ask_text
from agent.offline.ranking import Candidate, Ranker
from agent.offline.reply import result_reply
from agent.offline.text import stem
from agent.offline.toolinfo import KNOWLEDGE_TOOLS, ToolInfo

LABEL = "offline planner — no LLM"
META_KEY = MEMORY_META_KEY
MIN_SCORE = 2.2
_ACTION_WORDS = (
    "upload|preview|train|deploy|create|make|delete|remove|list|show|describe|start|run|query|"
    "invoke|tune|compare|stop|check|get|put|clean|tear|build|register|crawl|ingest|profile|"
    "monitor|set|spin|kick|launch|add|predict|test|wait|explain|send|copy|look|peek|evaluate|push|"
    "open|read|fetch|find|count|score|host|serve|schedule|export|submit|catalog|inspect|load|"
    "drop|terminate|shut|halt|cancel|display|see|view|plot|graph|give|tell|recommend|suggest|"
    "wipe|erase|nuke|destroy|abort|kill|rerun|retrain|fit|stick|fire|alert|notify|ping"
)
# "... and train s3://b/train/": there "train" names a channel, not a next step
_NOT_A_NOUN = r"(?!-)(?!\s+(?:s3://|channel\b|set\b|split\b|to finish\b))"
_SPLIT = re.compile(
    r"(?i)\s*(?:;|(?<!\bincl)(?<!\betc)(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bapprox)\.\s+(?=[A-Za-z])|\band then\b|,?\s*then\b|\bafter that\b|\bafterwards\b|"
    r"\bonce (?:it'?s|that'?s|that is|it is) (?:done|finished|ready),?|\band finally\b|\bfinally\b|"
    rf",?\s*and (?=(?:also )?(?:{_ACTION_WORDS})\b{_NOT_A_NOUN})|,\s*(?=(?:{_ACTION_WORDS})\b{_NOT_A_NOUN}))\s*"
)
_SMALL_TALK = re.compile(
    r"(?i)^\s*(hi|hello|hey|yo|thanks|thank you|thx|cheers|ok|okay|great|cool|nice|good|bye|"
    r"goodbye|help|/help|\?|what can you do|who are you|what are you|are you (an? )?(ai|llm|bot|human))\b"
)
# A piece of a request that asks for nothing ("ok I'm done", "great", "so").
_FILLER = re.compile(
    r"(?i)^\s*(?:ok(?:ay)?|alright|all right|right|so|well|great|cool|nice|thanks|thank you|hey|hi|"
    r"hmm+|yes|yeah|yep|sure|good|perfect)?[\s,!.]*(?:(?:i'?m|i am|we'?re|we are) (?:done|finished|"
    r"good|happy|ready)(?: now| here| with (?:it|that|this))?)?[\s,!.]*$"
)
_THANKS = re.compile(
    r"(?i)^\s*(thanks|thank you|thx|cheers|ok|okay|great|cool|nice|good|perfect|awesome|got it|"
    r"bye|goodbye)\b[\s!.]*(?:(?:a lot|so much|again|then)[\s!.]*)?$"
)
_SAME = re.compile(
    r"(?i)\b(?:do (?:the )?same|same (?:thing )?(?:for|with|on)|again (?:for|with|on)|"
    r"repeat (?:it|that|this)?\s*(?:for|with|on)|likewise for|also for|now for)\b"
)
HELP = (
    f"I'm the {LABEL}: I match what you type to sagecoach's tools and fill in their arguments "
    "from your words — no language model is involved. Try, for example:\n"
    '  • "create a bucket named my-ml-data"\n'
    '  • "upload churn.csv to s3://my-ml-data/raw and then preview it"\n'
    '  • "train an xgboost model on s3://my-ml-data/raw/churn.csv"\n'
    '  • "which service should I use for feature engineering?"\n'
    "Or call any tool directly: /tool NAME key=value ..."
)


@dataclass
class Plan:
    text: str
    tool_call: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def split_steps(text: str) -> list[str]:
    if text.strip().startswith("/"):
        return [text.strip()]
    tail = ""
    sql = re.search(r"(?i)\b(select|with)\b.+\bfrom\b", text)
    if sql:  # never split inside a SQL statement
        text, tail = text[: sql.start()], text[sql.start() :]
    pieces = [m for m in _SPLIT.split(text) if m is not None]
    parts: list[str] = []
    for piece in pieces:
        piece = piece.strip(" ,.")
        if not piece or (_FILLER.match(piece) and len(pieces) > 1):
            continue  # "ok I'm done, tear it all down": the first piece asks for nothing
        # "train and evaluate ..." : a lone verb is not a step of its own
        if parts and len(parts[-1].split()) < 2:
            parts[-1] = f"{parts[-1]} and {piece}"
        else:
            parts.append(piece)
    if tail:
        if parts:
            parts[-1] = f"{parts[-1]} {tail}".strip()
        else:
            parts.append(tail.strip())
    return parts or [text.strip()]


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


def _describe_field(info: ToolInfo, name: str) -> str:
    f = info.fields.get(name)
    desc = f.description.rstrip(".") if f and f.description else name.replace("_", " ")
    return f"{name} ({desc})"


class Planner:
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
            return Plan(HELP, meta={"kind": "answer"})
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

    def _edit_from_reason(self, messages: list[BaseMessage], call: Any) -> Plan | None:
        """A reject reason that says what to change ("use linear learner", "into raw/") is an
        edit of the call: the same call again with that change, approved again."""
        from agent.offline.followups import merge_args

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
        what = ", ".join(f"{k} {_short(v)}" for k, v in changed.items())
        dropped += [f for f, _ in done.invalid]
        extra = f" Left out {', '.join(dropped)}: not valid after that change." if dropped else ""
        return self._call(messages, info, done.args, f"Changed as you said ({what}).{extra} ")

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
            return self._direct(messages, request)
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
                if earlier and not re.search(rf"(?i)\b({_ACTION_WORDS})\b", ent.ranking_text):
                    # "use s3://x" after "train a model" offered choices: the two together
                    return self._plan_step(messages, f"{earlier} {request}", memory, (1, 1))
            if not is_first_minute(request):
                answered = self._answers(pending, request, messages)
                if answered is not None:
                    return answered
        if is_first_minute(request):
            return Plan(guided_start(LABEL), meta={"kind": "answer", "guide": True})
        if _THANKS.search(request):
            return Plan(
                'Anytime. Say what you want next, or "help" for where to start.',
                meta={"kind": "answer"},
            )
        if WHY_FAILED.search(request) and not extract_entities(request).identifiers:
            return self._why_failed(messages, memory)
        steps = split_steps(request)
        small = _SMALL_TALK.search(request)
        if small and len(steps) == 1:
            rest = request[small.end() :]
            action = re.search(rf"(?i)\b({_ACTION_WORDS})\b", rest)
            if not action or re.search(r"(?i)what can you do|who are you|what are you", request):
                return Plan(guided_start(LABEL), meta={"kind": "answer", "guide": True})
        plan = self._plan_step(messages, steps[0], memory, step_no=(1, len(steps)))
        if plan.meta.get("kind") == "ask":
            plan.meta.setdefault("pending", {})["rest"] = steps[1:]
        return plan

    def _why_failed(self, messages: list[BaseMessage], memory: Memory) -> Plan:
        """The last failed call explained; else the last job's own status (its failure
        reason), which a describe call shows."""
        from agent.offline.followups import last_failure

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
        action = bool(re.search(rf"(?i)\b({_ACTION_WORDS})\b", ranking_text))
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

    # ---- one step ------------------------------------------------------------------------
    def _plan_step(
        self,
        messages: list[BaseMessage],
        step: str,
        memory: Memory,
        step_no: tuple[int, int],
        allow_prereq: bool = True,
    ) -> Plan:
        if (_SAME.search(step) or AGAIN.search(step)) and memory.calls:
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
            ex.used & {"s3", "name", "file", "arn", "sql", "payload", "hyperparameters", "ranges"}
        )
        typed = [w for w, qw in self.ranker.query_terms(text).items() if qw >= 0.85]
        vague = not set(typed) - _GENERIC and not self.ranker.plural_object(text)
        if vague and not named and not ex.from_context:
            return False  # "do something with my data", "the model": nothing says what to do
        if cand.tool.risk in RISKY and not ex.missing and not ex.invalid:
            # This would be a call (approval asked): the person's own action word, and either
            # the thing named or a clear lead.
            action = bool(re.search(rf"(?i)\b({_ACTION_WORDS})\b", text)) or bool(
                set(self.ranker.query_terms(text)) & self.ranker.verbs.get(cand.tool.name, set())
            )
            if not action:
                return False
            if named:
                return True
            if ex.from_context:
                # "delete the endpoint" / "delete it" after making one: the kind is said or
                # pointed at; a bare "delete" is not enough
                pointed = bool(re.search(r"(?i)\b(it|that|this|them|those)\b", text))
                return margin >= MARGIN and (pointed or self._says_kind(cand.tool, text))
            # nothing named, nothing from the conversation ("shut it down"): only a request
            # that says most of one of the tool's own phrases ("clean up everything")
            return margin >= RISKY_MARGIN and cand.phrase_cover >= 0.6 and len(typed) >= 2
        if named or ex.used & {"enum", "service", "stage"}:
            return True
        # A free read that can run as asked costs little if it is the wrong one: a small lead
        # will do. Anything else (a question, a write) needs a clear one.
        cheap = cand.tool.risk == "read" and not ex.missing and not ex.invalid
        return margin >= (READ_MARGIN if cheap else MARGIN)

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
                    f"{prefix}{info.name} needs a {kind.replace('_', ' ')}: first {maker.name} "
                    f"from {source}. ",
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

    def _same_again(self, messages: list[BaseMessage], step: str, memory: Memory) -> Plan | None:
        """ "again" / "same but X": the earlier call with every argument kept and only what was
        said changed (hyperparameters merge); a new job gets a new name (the tool's default)."""
        from agent.offline.followups import merge_args

        text = AGAIN.sub(" ", _SAME.sub(" ", step))
        ent = extract_entities(text)
        ranked = self.ranker.rank(self.ranker.typos.fix(ent.ranking_text), limit=3)
        wanted = {c.tool.name for c in ranked[:2] if c.text_score >= MIN_SCORE}
        last = repeat_target(memory.calls, wanted)
        if last is None or last.name not in self.by_name:
            return None
        info = self.by_name[last.name]
        ex = extract(info, text, ent, Memory(), known=dict(last.args))
        changed = {k: v for k, v in ex.args.items() if k not in ex.from_context}
        is_same = bool(_SAME.search(step))
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
        what = ", ".join(f"{k} {_short(v)}" for k, v in changed.items()) or "nothing changed"
        return self._call(messages, info, done.args, f"Again, as before ({what}). ")

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
            text = f"{prefix}{info.name}."
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

    def _direct(self, messages: list[BaseMessage], request: str) -> Plan:
        try:
            parts = shlex.split(request)
        except ValueError as exc:
            return Plan(f"Could not read that command: {exc}.", meta={"kind": "answer"})
        if len(parts) < 2:
            names = ", ".join(sorted(self.by_name))
            return Plan(f"Usage: /tool NAME key=value ... Tools: {names}", meta={"kind": "answer"})
        name = parts[1]
        info = self.by_name.get(name)
        if info is None:
            close = [c.tool.name for c in self.ranker.rank(name.replace("_", " "), limit=3)]
            return Plan(
                f"There is no tool named {name}. Did you mean {', '.join(close) or 'one from `sagecoach tools`'}?",
                meta={"kind": "ask", "pending": {}},
            )
        args: dict[str, Any] = {}
        for item in parts[2:]:
            key, sep, value = item.partition("=")
            if not sep:
                return Plan(
                    f"'{item}' is not key=value. Arguments of {name}: {', '.join(info.fields)}.",
                    meta={"kind": "answer"},
                )
            args[key.strip()] = _parse_value(value)
        ex = validate_and_trim(info, Extraction(args=dict(args)))
        problems = info.validate(args)
        if problems:
            details = "; ".join(f"{f or 'arguments'}: {m}" for f, _, m in problems)
            return Plan(
                f"{name} would reject these arguments — {details}. Arguments: {', '.join(info.fields)}.",
                meta={
                    "kind": "ask",
                    "pending": {"tool": name, "args": ex.args, "missing": ex.missing, "rest": []},
                },
            )
        return self._call(messages, info, args, "")


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


def _parse_value(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _short(value: Any) -> str:
    s = json.dumps(value, default=str) if not isinstance(value, str) else value
    return s if len(s) <= 60 else s[:57] + "…"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def knowledge_tool_names() -> tuple[str, ...]:
    return KNOWLEDGE_TOOLS
