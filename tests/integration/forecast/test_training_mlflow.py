"""Training against a real MLflow store (SQLite in tmp_path): runs, metrics per fold, plots, signed
models, registry versions and the champion alias moving only by the rule."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.config import get_settings
from cryptoderiv.forecast.data import history_payload
from cryptoderiv.forecast.training import TrainingConfig, train_forecasters
from tests.unit.forecast.support import funding_daily_series, garch_daily_series

pytestmark = pytest.mark.slow

CONFIG = TrainingConfig(targets=("rv_1d", "funding_1d"), test_periods=30, refit_every=15, min_train_periods=60,
                        lstm={"window": 8, "units": 4, "epochs": 2, "batch_size": 32, "patience": 1},
                        experiment="forecast-test", model_prefix="test-forecast")


@pytest.fixture()
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("LOCAL_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield uri
    get_settings.cache_clear()


def series() -> dict[str, dict[str, pd.DataFrame]]:
    rv = {"binance:BTC/USDT": garch_daily_series(150, seed=1), "binance:ETH/USDT": garch_daily_series(150, seed=2)}
    return {"rv_1d": rv, "funding_1d": {"binance:BTC/USDT:USDT": funding_daily_series(150)}}


def test_training_logs_registers_and_moves_the_champion_only_by_the_rule(mlflow_store: str) -> None:
    import mlflow
    from mlflow import MlflowClient

    trained_at = pd.Timestamp("2024-05-30", tz="UTC")
    report = train_forecasters(series(), trained_at, CONFIG)
    assert report.skipped == {}
    client = MlflowClient()
    by_target = {o.target: o for o in report.outcomes}
    rv = by_target["rv_1d"]
    assert set(rv.versions) == {"no_change", "ewma", "har", "garch", "lstm"}
    assert set(by_target["funding_1d"].versions) == {"no_change", "ewma", "har", "lstm"}  # no GARCH on levels
    # the first run: the lowest pooled QLIKE becomes champion
    assert rv.decision.promoted and rv.decision.champion_kind is None
    champion = client.get_model_version_by_alias("test-forecast-rv_1d", "champion")
    assert str(champion.version) == rv.champion_version == rv.versions[rv.decision.winner_kind]
    assert champion.tags["model_kind"] == rv.decision.winner_kind
    assert "lowest mean loss" in champion.tags["champion_decision"]
    # runs: parameters, metrics per fold (steps), a plot, the model with a signature
    run = client.get_run(rv.run_ids["har"])
    assert run.data.params["model_kind"] == "har" and run.data.params["hp.lags"] == "(1, 7, 30)"
    history = client.get_metric_history(run.info.run_id, "binance_BTC_USDT.fold.qlike")
    assert [m.step for m in history] == [0, 1]
    assert "binance_BTC_USDT.r2_vs_no_change" in run.data.metrics
    assert [a.path for a in client.list_artifacts(run.info.run_id, "plots")] == ["plots/rv_1d_har.png"]
    model = mlflow.pyfunc.load_model("models:/test-forecast-rv_1d@champion")
    signature = model.metadata.get_input_schema()
    assert signature is not None and signature.input_names() == ["series", "ts", "value", "ret"]
    frames = series()["rv_1d"]
    out = model.predict(history_payload({k: f.iloc[-60:] for k, f in frames.items()}))
    assert list(out["series"]) == sorted(frames) and (out["forecast"] > 0).all()
    parent = client.get_run(report.parent_run_id)
    assert parent.data.tags["champion.rv_1d.decision"] == "promoted"
    table = report.table()
    assert {"target", "series", "model", "qlike", "dm_p_value"} <= set(table.columns)
    assert report.urls["parent"].startswith(get_settings().mlflow_ui_url)

    # A second run on the same data: the same kind stays champion (a refit); no challenger passes the
    # rule against itself, and the decision says why.
    again = train_forecasters(series(), trained_at + pd.Timedelta(days=7), CONFIG)
    rv2 = {o.target: o for o in again.outcomes}["rv_1d"]
    assert rv2.decision.champion_kind == rv.decision.winner_kind
    assert rv2.decision.winner_kind == rv.decision.winner_kind and not rv2.decision.promoted
    assert rv2.champion_version == rv2.versions[rv2.decision.winner_kind] != rv.champion_version
    assert "kept" in rv2.decision.reason
    assert client.get_registered_model("test-forecast-rv_1d").tags["last_decision"] == rv2.decision.reason
    # the same data and seed give the same LSTM forecasts (reproducible training)
    np.testing.assert_allclose(
        rv2.table.loc[("binance:BTC/USDT", "lstm"), "qlike"], rv.table.loc[("binance:BTC/USDT", "lstm"), "qlike"],
        rtol=0, atol=0)
