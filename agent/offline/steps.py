"""Reading a request's shape: several steps ("A and then B"), filler, small talk, repeats.

Only text patterns live here; what a step means is the planner's business.
"""

from __future__ import annotations

import json
import re
from typing import Any

ACTION_WORDS = (
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
    rf",?\s*and (?=(?:also )?(?:{ACTION_WORDS})\b{_NOT_A_NOUN})|,\s*(?=(?:{ACTION_WORDS})\b{_NOT_A_NOUN}))\s*"
)

SMALL_TALK = re.compile(
    r"(?i)^\s*(hi|hello|hey|yo|thanks|thank you|thx|cheers|ok|okay|great|cool|nice|good|bye|"
    r"goodbye|help|/help|\?|what can you do|who are you|what are you|are you (an? )?(ai|llm|bot|human))\b"
)

# A piece of a request that asks for nothing ("ok I'm done", "great", "so").
FILLER = re.compile(
    r"(?i)^\s*(?:ok(?:ay)?|alright|all right|right|so|well|great|cool|nice|thanks|thank you|hey|hi|"
    r"hmm+|yes|yeah|yep|sure|good|perfect)?[\s,!.]*(?:(?:i'?m|i am|we'?re|we are) (?:done|finished|"
    r"good|happy|ready)(?: now| here| with (?:it|that|this))?)?[\s,!.]*$"
)

THANKS = re.compile(
    r"(?i)^\s*(thanks|thank you|thx|cheers|ok|okay|great|cool|nice|good|perfect|awesome|got it|"
    r"bye|goodbye)\b[\s!.]*(?:(?:a lot|so much|again|then)[\s!.]*)?$"
)

SAME = re.compile(
    r"(?i)\b(?:do (?:the )?same|same (?:thing )?(?:for|with|on)|again (?:for|with|on)|"
    r"repeat (?:it|that|this)?\s*(?:for|with|on)|likewise for|also for|now for)\b"
)


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
        if not piece or (FILLER.match(piece) and len(pieces) > 1):
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


def short(value: Any) -> str:
    s = json.dumps(value, default=str) if not isinstance(value, str) else value
    return s if len(s) <= 60 else s[:57] + "…"


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
