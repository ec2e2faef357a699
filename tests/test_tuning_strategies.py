"""The tuning strategies and early-stopping rules on their own (no training jobs): ranges and
scaling as SageMaker reads them, Grid's combinations, TPE learning where the optimum is, the
median rule and Hyperband's rungs."""

from __future__ import annotations

import math
import random

import pytest

from sandbox.engine.tuning.early_stopping import Rungs, median_rule
from sandbox.engine.tuning.space import RangeError, parse_ranges
from sandbox.engine.tuning.strategies import make


def test_ranges_are_checked_and_sampled_in_their_scale() -> None:
    ranges = parse_ranges({
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "9"}],
        "ContinuousParameterRanges": [
            {"Name": "eta", "MinValue": "0.001", "MaxValue": "1", "ScalingType": "Logarithmic"},
            {"Name": "subsample", "MinValue": "0.5", "MaxValue": "0.999", "ScalingType": "ReverseLogarithmic"},
        ],
        "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
    })  # fmt: skip
    rng = random.Random(0)
    draws = [{r.name: r.sample(rng) for r in ranges} for _ in range(400)]
    assert all(2 <= int(d["max_depth"]) <= 9 and d["max_depth"].isdigit() for d in draws)
    etas = [float(d["eta"]) for d in draws]
    assert all(0.001 <= e <= 1 for e in etas)
    # log scale: about a third of the draws fall below 0.01 (uniform would give 1%)
    assert 0.2 < sum(e < 0.01 for e in etas) / len(etas) < 0.5
    subsamples = [float(d["subsample"]) for d in draws]
    assert sum(s > 0.99 for s in subsamples) / len(subsamples) > 0.25  # dense near 1
    assert {d["booster"] for d in draws} == {"gbtree", "dart"}
    with pytest.raises(
        RangeError, match=r"Logarithmic scaling .* requires MinValue greater than 0"
    ):
        parse_ranges({"ContinuousParameterRanges": [
            {"Name": "alpha", "MinValue": "0", "MaxValue": "1", "ScalingType": "Logarithmic"}]})  # fmt: skip
    with pytest.raises(RangeError, match="greater than its MaxValue"):
        parse_ranges({"IntegerParameterRanges": [{"Name": "k", "MinValue": "5", "MaxValue": "2"}]})


def test_grid_gives_every_combination_once() -> None:
    ranges = parse_ranges({"CategoricalParameterRanges": [
        {"Name": "max_depth", "Values": ["1", "3"]}, {"Name": "eta", "Values": ["0.1", "0.3", "0.5"]}]})  # fmt: skip
    grid = make("Grid", ranges, maximize=True, seed=None)
    assert grid.total(limit=0) == 6
    points = [grid.ask()[1] for _ in range(6)]
    assert sorted((p["max_depth"], p["eta"]) for p in points) == sorted(
        (d, e) for d in ("1", "3") for e in ("0.1", "0.3", "0.5"))  # fmt: skip


def test_bayesian_learns_where_the_objective_is_best() -> None:
    """TPE, told each result, samples near the optimum far more often than random search."""
    ranges = parse_ranges(
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    )

    def objective(x: float) -> float:
        return -((x - 0.3) ** 2)

    def late_share_near_optimum(name: str) -> float:
        strategy = make(name, ranges, maximize=True, seed=3)
        xs = []
        for _ in range(40):
            token, values = strategy.ask()
            x = float(values["x"])
            xs.append(x)
            strategy.tell(token, objective(x))
        return sum(abs(x - 0.3) < 0.1 for x in xs[20:]) / 20

    assert late_share_near_optimum("Bayesian") > late_share_near_optimum("Random") + 0.2


def test_median_rule_and_hyperband_rungs() -> None:
    finished = [[0.70, 0.75, 0.80, 0.82], [0.72, 0.76, 0.79, 0.81], [0.69, 0.74, 0.78, 0.80]]
    assert median_rule([0.50, 0.52, 0.53], finished, maximize=True)  # worse than the median
    assert not median_rule([0.71, 0.77, 0.81], finished, maximize=True)
    assert not median_rule([0.1, 0.1], finished, maximize=True)  # too early to judge
    assert median_rule([0.9, 0.8, 0.7], [[0.5, 0.4, 0.3]] * 3, maximize=False)  # loss: lower wins

    rungs = Rungs(min_resource=1, max_resource=9, maximize=True)
    assert rungs.levels == [1, 3]
    assert not rungs.should_stop("a", [0.9])
    assert not rungs.should_stop("b", [0.8])
    assert rungs.should_stop("c", [0.1])  # third at rung 1, out of the top third
    assert not rungs.should_stop("d", [0.95])
    assert math.isclose(rungs.recorded[1][-1], 0.95)
