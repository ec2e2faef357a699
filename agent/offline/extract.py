"""Fills a tool's arguments from the request, guided by the argument JSON schema.

Values come from the text (S3 URIs, files, names, numbers with units, enum words), then from
the conversation (the last bucket, job, endpoint ... when the request refers to it or the
argument is required), then the tool's own defaults (left out, so pydantic applies them).
Nothing is invented: a name, bucket, path or ARN the person did not give comes from the
conversation or becomes a question; only defaults the tool declares apply.

This module is the entry point; the work is split by job: `argument_fill` (the shared state
and field tests), one filler mixin per kind of value (`fill_specific`, `fill_locations`,
`fill_values`, `fill_names`, `fill_context`), the vocabulary they read (`argument_words`),
stage and service matching (`catalog_match`) and the result with its schema check
(`extraction`).
"""

from __future__ import annotations

from typing import Any

from agent.offline.catalog_match import (
    STAGE_WORDS,
    match_service,
    match_stage,
    services_named,
)
from agent.offline.entities import Entities
from agent.offline.extraction import Extraction, validate_and_trim
from agent.offline.fill_context import ContextFill
from agent.offline.fill_locations import LocationFill
from agent.offline.fill_names import NameFill
from agent.offline.fill_specific import SpecificFieldFill
from agent.offline.fill_values import ValueFill
from agent.offline.memory import Memory
from agent.offline.toolinfo import ToolInfo

__all__ = [
    "STAGE_WORDS",
    "Extraction",
    "Extractor",
    "extract",
    "match_service",
    "match_stage",
    "services_named",
    "validate_and_trim",
]


class Extractor(SpecificFieldFill, LocationFill, ValueFill, NameFill, ContextFill):
    """Runs the fillers in order; each takes only what the ones before it left."""

    def run(self) -> Extraction:
        fields = list(self.info.fields.values())
        # Order: specific shapes first, then names, then free numbers.
        for f in fields:
            self._fill_specific(f)
        self._fill_s3(fields)
        self._fill_files(fields)
        algo = self.info.fields.get("algorithm")
        if algo is not None and algo.enum and "algorithm" not in self.result.args:
            self._fill_enum(algo)
        self._fill_structured()
        for f in fields:
            if f.name not in self.result.args and f.enum:
                self._fill_enum(f)
        self._fill_names(fields)
        for f in fields:
            if f.name not in self.result.args and f.is_number:
                self._fill_number(f)
        for f in fields:
            if f.name not in self.result.args and f.is_bool:
                self._fill_bool(f)
        for f in fields:
            if f.name not in self.result.args and f.is_array:
                self._fill_array(f)
        self._fill_from_context(fields)
        self._enum_from_context(fields)
        self.result.missing = [
            f.name for f in fields if f.required and f.name not in self.result.args
        ]
        return self.result


def extract(
    info: ToolInfo,
    text: str,
    ent: Entities,
    memory: Memory,
    known: dict[str, Any] | None = None,
) -> Extraction:
    """`known`: arguments settled earlier (an answer to a question continues that call)."""
    extractor = Extractor(info, text, ent, memory)
    extractor.known = dict(known or {})
    return extractor.run()
