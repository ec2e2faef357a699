"""An engine extension's records are kept with the sandbox's state (Engine.persisted_dict)."""

from __future__ import annotations

from pathlib import Path

from sandbox.engine.core import Engine


def test_an_extensions_records_go_into_every_snapshot_and_come_back(tmp_path: Path) -> None:
    engine = Engine(state_dir=tmp_path)
    records = engine.persisted_dict("sagecoach.test-records")
    assert engine.persisted_dict("sagecoach.test-records") is records  # one dict throughout
    records[("123456789012", "us-east-1", "p1")] = {"status": "Executing"}

    saved = engine.persistence.snapshot()["extensions"]["sagecoach.test-records"]
    assert saved == {("123456789012", "us-east-1", "p1"): {"status": "Executing"}}
    assert saved is not records  # a copy: later changes do not alter a snapshot being written

    # A snapshot read before the extension registered is handed over when it registers.
    later = Engine(state_dir=tmp_path / "other")
    later.persistence._pending_extensions["sagecoach.test-records"] = saved
    restored = later.persisted_dict("sagecoach.test-records")
    assert restored == saved
    records.clear()
    assert restored == saved  # separate engines, separate records


def test_without_a_state_dir_records_live_in_memory_only() -> None:
    engine = Engine()
    records = engine.persisted_dict("sagecoach.test-records")
    records["a"] = 1
    assert engine.persistence is None and engine.extensions["sagecoach.test-records"] == {"a": 1}
