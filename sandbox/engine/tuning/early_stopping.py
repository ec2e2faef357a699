"""Stopping training jobs that are not going to win, as a tuning job does.

- `TrainingJobEarlyStoppingType: Auto` (the median rule SageMaker documents): at each epoch, a
  running job whose objective is worse than the median of the running averages of the
  objective of the jobs that already finished, up to the same epoch, is stopped.
- Hyperband's rungs (successive halving): at MinResource × 3^k epochs, a job whose objective
  is not in the best third of those recorded at that rung so far is stopped.

Both read the objective's values per epoch as they appear in the job's log.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

MIN_EPOCHS = 3  # do not judge a job before it has a few values
MIN_FINISHED = 3  # nor before a few jobs have finished
ETA = 3


def better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def running_average(values: list[float], epochs: int) -> float | None:
    head = values[:epochs]
    return sum(head) / len(head) if len(head) >= epochs else None


def median_rule(current: list[float], finished: list[list[float]], maximize: bool) -> bool:
    """True when the running job (values per epoch so far) should stop."""
    epochs = len(current)
    if epochs < MIN_EPOCHS:
        return False
    averages = [a for a in (running_average(v, epochs) for v in finished) if a is not None]
    if len(averages) < MIN_FINISHED:
        return False
    return better(statistics.median(averages), current[-1], maximize)


@dataclass
class Rungs:
    """Hyperband's rungs and the objective values recorded at each."""

    min_resource: int
    max_resource: int
    maximize: bool
    recorded: dict[int, list[float]] = field(default_factory=dict)
    judged: set[tuple[str, int]] = field(default_factory=set)

    @property
    def levels(self) -> list[int]:
        levels, level = [], max(1, self.min_resource)
        while level < self.max_resource:
            levels.append(level)
            level *= ETA
        return levels

    def should_stop(self, job: str, values: list[float]) -> bool:
        """Record the job at every rung it reached; stop it when it falls out of the top third."""
        for level in self.levels:
            if len(values) < level or (job, level) in self.judged:
                continue
            self.judged.add((job, level))
            value = values[level - 1]
            seen = self.recorded.setdefault(level, [])
            seen.append(value)
            if len(seen) < ETA:
                continue
            ranked = sorted(seen, reverse=self.maximize)
            cutoff = ranked[max(0, len(seen) // ETA - 1)]
            if better(cutoff, value, self.maximize):
                return True
        return False
