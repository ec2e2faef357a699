"""ParameterRanges as SageMaker reads them: integer, continuous and categorical ranges with
their scaling types, checked as CreateHyperParameterTuningJob checks them, sampled uniformly in
the scaled space, and formatted as the strings a training job receives."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from typing import Any


class RangeError(ValueError):
    """A range SageMaker refuses (the message is its ValidationException)."""


@dataclass(frozen=True)
class Range:
    name: str
    kind: str  # "Integer" | "Continuous" | "Categorical"
    low: float = 0.0
    high: float = 0.0
    scaling: str = "Auto"  # Auto | Linear | Logarithmic | ReverseLogarithmic
    values: tuple[str, ...] = ()

    @property
    def scale(self) -> str:
        """Auto becomes Linear (SageMaker picks a scale; the sandbox picks linear)."""
        return "Linear" if self.scaling == "Auto" else self.scaling

    def format(self, value: Any) -> str:
        if self.kind == "Integer":
            return str(round(float(value)))
        if self.kind == "Continuous":
            return repr(float(value))
        return str(value)

    def sample(self, rng: random.Random) -> str:
        if self.kind == "Categorical":
            return rng.choice(self.values)
        u = rng.random()
        if self.scale == "Logarithmic":
            value = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        elif self.scale == "ReverseLogarithmic":
            lo, hi = math.log(1 - self.high), math.log(1 - self.low)
            value = 1 - math.exp(lo + u * (hi - lo))
        else:
            value = self.low + u * (self.high - self.low)
        if self.kind == "Integer":
            value = min(self.high, max(self.low, round(value)))
        return self.format(value)


def parse_ranges(ranges: dict[str, Any] | None) -> list[Range]:
    parsed: list[Range] = []
    for item in (ranges or {}).get("IntegerParameterRanges") or []:
        parsed.append(_numeric(item, "Integer"))
    for item in (ranges or {}).get("ContinuousParameterRanges") or []:
        parsed.append(_numeric(item, "Continuous"))
    for item in (ranges or {}).get("CategoricalParameterRanges") or []:
        values = tuple(str(v) for v in item.get("Values") or [])
        if not values:
            raise RangeError(f"The categorical parameter range {item.get('Name')} needs Values.")
        parsed.append(Range(str(item["Name"]), "Categorical", values=values))
    names = [r.name for r in parsed]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RangeError(f"Hyperparameters {duplicates} appear in more than one parameter range.")
    if not parsed:
        raise RangeError("ParameterRanges must name at least one hyperparameter to tune.")
    return parsed


def _numeric(item: dict[str, Any], kind: str) -> Range:
    name = str(item.get("Name", ""))
    try:
        low, high = float(item["MinValue"]), float(item["MaxValue"])
    except (KeyError, TypeError, ValueError):
        raise RangeError(f"The {kind.lower()} parameter range {name} needs numeric MinValue and "
                         "MaxValue.") from None  # fmt: skip
    if low > high:
        raise RangeError(f"The MinValue ({item['MinValue']}) of parameter range {name} is greater "
                         f"than its MaxValue ({item['MaxValue']}).")  # fmt: skip
    scaling = str(item.get("ScalingType") or "Auto")
    if scaling == "Logarithmic" and low <= 0:
        raise RangeError(f"Logarithmic scaling for parameter range {name} requires MinValue greater "
                         "than 0.")  # fmt: skip
    if scaling == "ReverseLogarithmic" and (kind == "Integer" or low < 0 or high >= 1):
        raise RangeError(f"ReverseLogarithmic scaling for parameter range {name} is valid only for "
                         "continuous ranges within [0, 1).")  # fmt: skip
    return Range(name, kind, low, high, scaling)


def grid(ranges: list[Range]) -> list[dict[str, str]]:
    """Every combination, for the Grid strategy (categorical ranges only)."""
    numeric = [r.name for r in ranges if r.kind != "Categorical"]
    if numeric:
        raise RangeError(
            f"The Grid strategy tunes categorical parameters only; {numeric} are numeric ranges "
            "(list their values as CategoricalParameterRanges, or use Random or Bayesian)."
        )
    names = [r.name for r in ranges]
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(r.values for r in ranges))
    ]
