from tools.core.stages import STAGES


def test_nine_stages() -> None:
    assert [n for _, n, _ in STAGES] == list(range(1, 10))
