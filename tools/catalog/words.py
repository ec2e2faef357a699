"""Words of service names and requests, normalised the same way for matching."""

from __future__ import annotations

import re

NAME_PREFIXES = ("amazon ", "aws ", "sagemaker ")


def name_key(name: str) -> str:
    text = re.sub(r"\(.*?\)", " ", name.lower())
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    changed = True
    while changed:
        changed = False
        for prefix in NAME_PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix) :]
                changed = True
    return text.strip()


def split_words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def stem_key(text: str) -> str:
    return " ".join(stem(w) for w in split_words(text))


def stem(word: str) -> str:
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "as")):
        return word[:-1]
    return word
