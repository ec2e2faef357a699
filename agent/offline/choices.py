"""The confidence floor: when no tool is clearly meant, offer up to three numbered choices.

    "do something with my data" ->
        I'm not sure what you'd like. Did you mean:
          1. preview a csv in s3
          2. list files in s3
          3. profile my data
        Answer with the number, or say it in other words.

A choice is a tool and the arguments the request already gave; answering "2" runs (or asks
the rest of) that one. Nothing is called while the choices are open, so a vague request never
reaches a costly or destructive tool.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from agent.offline.toolinfo import ToolInfo

MAX_CHOICES = 3
# Below this lead over the runner-up (in ranking points) the best tool is not clearly meant.
MARGIN = 1.0
# A free read that can run as asked: a wrong guess costs a glance, so a small lead will do.
READ_MARGIN = 0.3
# A tool that bills or deletes needs a clearer lead, or a request that names what it acts on.
RISKY_MARGIN = 2.5
RISKY = ("costly", "destructive")
_ORDINALS = {
    "first": 1, "one": 1, "1st": 1, "second": 2, "two": 2, "2nd": 2, "third": 3, "three": 3,
    "3rd": 3, "last": -1,
}  # fmt: skip
_PICK = re.compile(
    r"(?i)^\s*(?:(?:ok(?:ay)?|yes|yeah|yep|sure|let'?s do|let'?s go with|go with|i'?ll take|"
    r"take|pick|choose|do|i mean|i meant|make it)\s*,?\s*)?(?:(?:the|option|number|no\.?|choice|#)\s*)?"
    r"(\d|first|second|third|last|one|two|three|1st|2nd|3rd)\b(?:\s*(?:one|option|choice|please|pls|thanks))*"
    r"\s*[.!)]*\s*$"
)


@dataclass
class Choice:
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    words: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": self.args, "words": self.words}


def plain_words(info: ToolInfo, args: dict[str, Any]) -> str:
    """What calling the tool would do, in the words it declares ("list my buckets")."""
    phrase = info.phrases[0] if info.phrases else info.name.replace("_", " ")
    shown = [
        str(v)
        for k, v in args.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool) and k != "goal"
    ][:2]
    return f"{phrase} ({', '.join(shown)})" if shown else phrase


def choices_text(choices: list[Choice], intro: str) -> str:
    lines = [intro]
    for n, choice in enumerate(choices, 1):
        lines.append(f"  {n}. {choice.words}")
    lines.append(
        "Which one? Answer with the number, or say it in other words."
        if len(choices) > 1
        else "Is that it? Answer 1 (or yes), or say it in other words."
    )
    return "\n".join(lines)


_YES = re.compile(
    r"(?i)^\s*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|do it|go ahead|please do|that one|correct|right)"
    r"(?:\s*(?:please|pls|thanks|do it|go ahead))*[\s!.]*$"
)


def picked(text: str, count: int) -> int | None:
    """The 0-based choice a short answer picks ("2", "the second one", "option 3"; "yes" when
    there was one), or None."""
    if count == 1 and _YES.match(text):
        return 0
    m = _PICK.match(text)
    if m is None:
        return None
    raw = m.group(1).lower()
    n = int(raw) if raw.isdigit() else _ORDINALS.get(raw, 0)
    if n == -1:
        n = count
    return n - 1 if 1 <= n <= count else None
