"""Meaning, not only words: the bundled static embedding and its blend with word ranking."""

from __future__ import annotations

from typing import Any

import pytest

from agent.offline import semantic
from agent.offline.model import _default_tools, planner_for


def test_the_model_ships_inside_the_installed_package() -> None:
    root = semantic.package_dir()
    assert root is not None
    assert (root / semantic.WEIGHTS).is_file() and (root / semantic.TOKENIZER).is_file()
    m = semantic.model()
    assert m is not None and m.dim == 256
    assert semantic.status().startswith("semantic ranking on")


def test_loading_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the embedding model tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    model = semantic._load()  # a fresh load from the package files
    vectors = model.embed(["take down the endpoint", "delete the endpoint", "list my buckets"])
    assert vectors.shape == (3, 256)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


def test_meaning_ranks_a_paraphrase_near_its_tool() -> None:
    planner = planner_for(_default_tools())
    for text, tool, other in (
        ("take down the endpoint", "sagemaker_delete_endpoint", "sagemaker_create_endpoint"),
        (
            "how did the loss go during training",
            "sagemaker_get_training_metrics",
            "s3_create_bucket",
        ),
        ("storage buckets in this account", "s3_list_buckets", "sagemaker_list_endpoints"),
    ):
        scores = planner.ranker.semantic_scores(text)
        assert scores[tool] > scores[other], text
        assert scores[tool] > 0.5  # above the tool set's mean


def test_without_the_model_words_alone_still_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.offline.ranking import Ranker
    from agent.offline.toolinfo import tool_info_from_any
    from tools.core.registry import all_tools

    monkeypatch.setattr(semantic, "_model", None)
    monkeypatch.setattr(semantic, "_failed", "FileNotFoundError: not installed")
    ranker = Ranker([tool_info_from_any(t) for t in all_tools()])
    assert ranker.semantic_scores("list my buckets") == {}
    top = ranker.rank("list my buckets", limit=1)[0]
    assert top.tool.name == "s3_list_buckets" and top.semantic == 0.0
    assert semantic.status().startswith("semantic ranking off")


@pytest.mark.parametrize("signal", ["lexical", "semantic", "blend"])
def test_each_signal_can_be_chosen_for_comparison(
    monkeypatch: pytest.MonkeyPatch, signal: str
) -> None:
    monkeypatch.setenv("SAGECOACH_RANKING", signal)
    planner = planner_for(_default_tools())
    top = planner.ranker.rank("delete the endpoint churn-ep", limit=3)
    # meaning alone also likes "who deleted the endpoint" (CloudTrail): top 3, not first
    names = [c.tool.name for c in top] if signal == "semantic" else [top[0].tool.name]
    assert "sagemaker_delete_endpoint" in names
    if signal == "lexical":
        assert all(c.semantic == 0.0 for c in top)
    else:
        assert top[0].semantic != 0.0


def test_warm_up_loads_in_the_background() -> None:
    from agent.offline.model import warm_up

    thread = warm_up()
    thread.join(timeout=30)
    assert not thread.is_alive() and semantic.model() is not None
