"""The catalog's two records: an AWS service (what it is for, when to use it, how it bills,
which tools act on it) and a pipeline stage (its purpose and services in suggested order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, eq=False)  # one object per service: compared and hashed by identity
class Service:
    id: str
    name: str
    stages: tuple[str, ...]  # where the pipeline uses it, most important first
    purpose: str
    use_when: str
    avoid_when: str
    billing: str
    tools: tuple[str, ...] = ()  # sagecoach tools that act on it
    console: str = ""  # what to do in the console when sagecoach has no (full) programmatic path
    traits: tuple[str, ...] = ()  # ranking vocabulary: no-code, streaming, sql, serverless, ...
    keywords: tuple[str, ...] = ()  # other words a person may use for it
    aliases: tuple[str, ...] = ()  # other names (as the seed or people write them)
    cost_rank: int = 3  # 1 = pay per use, nearly free at small scale ... 5 = bills by time, big
    stage_roles: dict[str, str] = field(default_factory=dict)  # its job in a given stage

    @property
    def console_only(self) -> bool:
        return not self.tools and bool(self.console)

    def role_in(self, stage: str) -> str:
        return self.stage_roles.get(stage, self.purpose)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "stages": list(self.stages),
            "purpose": self.purpose,
            "use_when": self.use_when,
            "avoid_when": self.avoid_when,
            "billing": self.billing,
            "tools": list(self.tools),
            "console": self.console,
            "console_only": self.console_only,
            "traits": list(self.traits),
            "cost_rank": self.cost_rank,
        }


@dataclass(frozen=True)
class Stage:
    id: str
    number: int
    title: str
    purpose: str
    services: tuple[str, ...]  # service ids, in the order we would suggest them
    keywords: tuple[str, ...] = ()
