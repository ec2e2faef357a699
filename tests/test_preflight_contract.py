"""The built-in algorithms' data contract, checked on the bytes of a channel's first object."""

from __future__ import annotations

import pytest

from sandbox.demo_data import churn_csv
from tools.preflight import contract
from tools.stages.training.algorithms import channel_content_type


def _check(data: str, algorithm: str = "xgboost", content_type: str = "text/csv", **hp: str):
    return contract.check_csv(
        data.encode(),
        algorithm=algorithm,
        hyperparameters=dict(hp),
        channel="train",
        uri="s3://b/raw/data.csv",
        content_type=content_type,
        complete=True,
    )


def _statuses(results) -> dict[str, str]:
    return {r.name: r.status for r in results}


def test_the_raw_demo_csv_fails_on_its_header_its_id_column_and_its_text() -> None:
    results = _check(churn_csv(50), objective="binary:logistic")
    by = {r.name: r for r in results}
    assert by["data.header"].status == "fail"
    assert "customer_id, signup_date" in by["data.header"].message
    assert by["data.label"].status == "fail" and "customer_id" in by["data.label"].message
    assert "an id" in by["data.label"].message
    assert by["data.numeric"].status == "fail" and "state ('" in by["data.numeric"].message
    # The fix names the preparation tool, the same object and the label column it guessed.
    assert "prepare_training_data" in by["data.header"].fix
    assert "source_s3_uri=s3://b/raw/data.csv target_column=churned" in by["data.header"].fix


def test_prepared_rows_pass_and_say_what_was_seen() -> None:
    rows = "\n".join(f"{i % 2},{i},{i * 0.5},1" for i in range(30))
    results = _check(rows, objective="binary:logistic")
    assert _statuses(results) == {"data.contract": "pass"}
    assert "30 rows sampled" in results[0].message and "3 numeric features" in results[0].message


def test_label_values_must_fit_the_objective() -> None:
    rows = "\n".join(f"{i % 3},{i}" for i in range(20))
    (bad,) = [r for r in _check(rows, objective="binary:logistic") if r.status == "fail"]
    assert bad.name == "data.label" and "[0, 1]" in bad.message and "found 2" in bad.message
    assert _statuses(_check(rows, objective="multi:softmax", num_class="3")) == {
        "data.contract": "pass"
    }
    (bad,) = [
        r for r in _check(rows, objective="multi:softmax", num_class="2") if r.status == "fail"
    ]
    assert "0..1" in bad.message
    assert _statuses(_check(rows, objective="reg:squarederror")) == {"data.contract": "pass"}
    ll = _check(rows, algorithm="linear-learner", predictor_type="binary_classifier")
    assert _statuses(ll)["data.label"] == "fail"


def test_a_row_number_in_the_first_column_is_not_a_label() -> None:
    rows = "\n".join(f"{i + 1},{i % 7},{i % 3}" for i in range(40))
    (bad,) = [r for r in _check(rows, objective="reg:squarederror") if r.status == "fail"]
    assert bad.name == "data.label" and "an id" in bad.message


def test_missing_cells_are_fine_for_xgboost_only() -> None:
    rows = "\n".join(f"{i % 2},{'' if i % 5 == 0 else i},3" for i in range(20))
    assert _statuses(_check(rows)) == {"data.contract": "pass"}
    ll = _check(rows, algorithm="linear-learner", predictor_type="binary_classifier")
    assert _statuses(ll)["data.missing"] == "fail"


def test_feature_dim_is_checked_against_the_rows() -> None:
    rows = "\n".join(f"{i},{i * 2},{i % 4}" for i in range(20))
    ok = _check(rows, "kmeans", "text/csv;label_size=0", k="3", feature_dim="3")
    assert _statuses(ok) == {"data.contract": "pass"}
    bad = [
        r
        for r in _check(rows, "kmeans", "text/csv;label_size=0", feature_dim="4")
        if r.status == "fail"
    ]
    assert [r.name for r in bad] == ["data.feature_dim"] and "set feature_dim to 3" in bad[0].fix


def test_content_types_follow_the_containers() -> None:
    def names(algorithm: str, ctype: str) -> list[tuple[str, str]]:
        return [
            (r.name, r.status) for r in contract.check_content_type(algorithm, "train", ctype, "x")
        ]

    assert names("xgboost", "text/csv") == []
    assert names("xgboost", "text/libsvm") == []
    assert names("xgboost", "application/x-parquet") == []
    assert names("xgboost", "text/csv;label_size=1") == []
    assert names("xgboost", "text/csv;label_size=0") == [("data.content_type", "fail")]
    assert names("xgboost", "application/json") == [("data.content_type", "fail")]
    assert names("kmeans", "text/csv;label_size=0") == []
    assert names("randomcutforest", "text/csv;label_size=1") == []
    assert names("kmeans", "text/csv") == [("data.content_type", "warn")]
    assert names("linear-learner", "application/x-parquet") == [("data.content_type", "fail")]


def test_unsupervised_channels_get_their_label_size() -> None:
    assert channel_content_type("kmeans", "train", "text/csv") == "text/csv;label_size=0"
    assert channel_content_type("randomcutforest", "train", "text/csv") == "text/csv;label_size=0"
    assert channel_content_type("randomcutforest", "test", "text/csv") == "text/csv;label_size=1"
    assert channel_content_type("xgboost", "train", "text/csv") == "text/csv"


def test_bytes_that_are_not_what_the_channel_says() -> None:
    bad = contract.check_bytes_kind(b"PAR1\x00\x00", "text/csv", "train")
    assert bad is not None and "parquet" in bad.message
    assert contract.check_bytes_kind(b'{"a": 1}\n', "text/csv", "train") is not None
    assert contract.check_bytes_kind(b"1,2,3\n", "text/csv", "train") is None
    assert contract.check_bytes_kind(b"1,2\n", "application/x-parquet", "train") is not None


def test_xgboost_settings_the_containers_accept() -> None:
    """Defect 8: device, verbosity, csv_weights, max_bin and comma-separated eval_metric."""
    from pydantic import ValidationError

    from tools.stages.training.algorithms import XGBoostHyperparameters, xgboost_version_problems

    model = XGBoostHyperparameters.model_validate(
        {"eval_metric": "auc,logloss,error@0.7", "verbosity": 1, "csv_weights": 1, "max_bin": 512}
    )
    assert model.eval_metric == "auc,logloss,error@0.7"
    for bad, words in (
        ({"eval_metric": "auc,bogus"}, "bogus"),
        ({"eval_metric": "rmse@3"}, "@threshold"),
        ({"objective": "reg:squarederror", "eval_metric": "auc"}, "binary: and rank:"),
        ({"device": "cuda"}, "gpu_hist"),  # not in any offered container (3.2 branch only)
        ({"verbosity": 4}, "verbosity"),
    ):
        with pytest.raises(ValidationError, match=words):
            XGBoostHyperparameters.model_validate(bad)
    assert xgboost_version_problems("1.7-1", {"objective": "reg:absoluteerror"}) == []
    assert xgboost_version_problems("1.2-2", {"eval_metric": "auc,mape"}) == [
        "mape needs XGBoost 1.3-1 or later (this job uses 1.2-2)"
    ]
    assert xgboost_version_problems("1.7-1", {"single_precision_histogram": "true"})
