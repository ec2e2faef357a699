"""How a tuning job chooses each training job's hyperparameters.

- Random: independent draws in each range's scaled space (RandomSeed makes them repeatable).
- Bayesian: optuna's TPE sampler, told each finished job's objective (the default strategy).
- Grid: every combination of the categorical values, in order, each once.
- Hyperband: random draws; its early stopping is the rung rule in `early_stopping.py`.
"""

from __future__ import annotations

import math
import random
from typing import Any

from sandbox.engine.tuning.space import Range, grid


class Strategy:
    name = "Random"

    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None) -> None:
        self.ranges = ranges
        self.maximize = maximize
        self.rng = random.Random(seed)

    def total(self, limit: int) -> int:
        """How many training jobs the strategy will launch."""
        return limit

    def ask(self) -> tuple[Any, dict[str, str]]:
        """(a token for `tell`, the tuned hyperparameters)."""
        return None, {r.name: r.sample(self.rng) for r in self.ranges}

    def tell(self, token: Any, value: float | None) -> None:
        """A job finished with this objective value (None: no value)."""


class GridStrategy(Strategy):
    name = "Grid"

    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None) -> None:
        super().__init__(ranges, maximize, seed)
        self.points = grid(ranges)
        self.next = 0

    def total(self, limit: int) -> int:
        return len(self.points)

    def ask(self) -> tuple[Any, dict[str, str]]:
        point = self.points[self.next % len(self.points)]
        self.next += 1
        return None, dict(point)


class BayesianStrategy(Strategy):
    """optuna's TPE: a model of which regions gave good objectives, sampled for the next job."""

    name = "Bayesian"

    def __init__(self, ranges: list[Range], maximize: bool, seed: int | None) -> None:
        super().__init__(ranges, maximize, seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=3)
        self.study = optuna.create_study(direction="maximize" if maximize else "minimize",
                                         sampler=sampler)  # fmt: skip
        self.distributions = {r.name: _distribution(r) for r in ranges}

    def ask(self) -> tuple[Any, dict[str, str]]:
        trial = self.study.ask(self.distributions)
        values: dict[str, str] = {}
        for item in self.ranges:
            raw = trial.params[item.name]
            if item.scale == "ReverseLogarithmic":
                raw = 1.0 - raw
            values[item.name] = item.format(raw)
        return trial, values

    def tell(self, token: Any, value: float | None) -> None:
        import optuna

        if value is None or not math.isfinite(value):
            self.study.tell(token, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(token, value)


def _distribution(item: Range) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if item.kind == "Categorical":
        return CategoricalDistribution(list(item.values))
    if item.kind == "Integer":
        return IntDistribution(int(item.low), int(item.high), log=item.scale == "Logarithmic")
    if item.scale == "ReverseLogarithmic":  # sample 1 - x on a log scale
        return FloatDistribution(1 - item.high, 1 - item.low, log=True)
    return FloatDistribution(item.low, item.high, log=item.scale == "Logarithmic")


class HyperbandStrategy(Strategy):
    name = "Hyperband"


STRATEGIES: dict[str, type[Strategy]] = {
    "Random": Strategy,
    "Bayesian": BayesianStrategy,
    "Grid": GridStrategy,
    "Hyperband": HyperbandStrategy,
}


def make(name: str, ranges: list[Range], maximize: bool, seed: int | None) -> Strategy:
    return STRATEGIES[name](ranges, maximize, seed)
