"""``models__train_forecasters`` and ``models__forecast`` run for real (``dag.test()``) against the test
database and a real MLflow store: candles and funding in, evaluations, registry and forecasts out."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest

from cryptoderiv.config import get_settings
from cryptoderiv.samples import SAMPLE_INSTRUMENTS
from cryptoderiv.storage import write_frame
from tests.unit.forecast.support import hourly_candles

pytestmark = pytest.mark.slow

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
END = pd.Timestamp("2026-11-20T00:00Z")
DAYS = 125


@pytest.fixture()
def mlflow_store(airflow_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    get_settings.cache_clear()
    yield uri
    get_settings.cache_clear()


def load_history(db: psycopg.Connection) -> None:
    write_frame(db, "instruments", SAMPLE_INSTRUMENTS)
    start = END - pd.Timedelta(days=DAYS)
    candles = []
    for i, (symbol, price) in enumerate((("BTC/USDT", 90_000.0), ("ETH/USDT", 3_000.0))):
        c = hourly_candles(DAYS, start, seed=20 + i, start_price=price)
        candles.append(c.assign(exchange="binance", symbol=symbol, timeframe="1h"))
    write_frame(db, "ohlcv", pd.concat(candles, ignore_index=True))
    rng = np.random.default_rng(3)
    ts = pd.date_range(start, END, freq="8h", tz="UTC", inclusive="left")
    funding = pd.DataFrame({"exchange": "binance", "symbol": "BTC/USDT:USDT", "ts": ts,
                            "rate": 1e-4 + 2e-5 * np.cumsum(rng.standard_normal(ts.size)) / 10,
                            "interval_hours": np.int16(8)})
    write_frame(db, "funding_rates", funding)
    db.commit()


def run(dag_id: str, logical_date: pd.Timestamp):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag(dag_id)
    result = dag.test(logical_date=logical_date.to_pydatetime(), run_conf={"config": "demo"})
    assert result.state == "success", [(ti.task_id, ti.state) for ti in result.get_task_instances()]
    return result


def test_train_then_forecast_writes_versioned_rows_idempotently(mlflow_store: str, db: psycopg.Connection) -> None:
    from mlflow import MlflowClient

    db.execute("TRUNCATE forecasts, forecast_evaluations")
    db.commit()
    load_history(db)
    # Manual runs cover the interval ending at the last schedule tick <= the logical date: training's ends
    # on Monday 2026-11-16 03:00 (data up to that day), the forecast's at END + 15 min (data up to END).
    run("models__train_forecasters", END)
    evaluations = db.execute("SELECT target, count(DISTINCT model_kind), count(*) FILTER (WHERE fold = -1)"
                             " FROM forecast_evaluations GROUP BY 1 ORDER BY 1").fetchall()
    # funding: one perpetual; ETH funding absent -> only BTC; variance: two series, five models
    assert evaluations == [("funding_1d", 4, 4), ("rv_1d", 5, 10), ("rv_7d", 5, 10)]
    client = MlflowClient()
    champions = {t: client.get_model_version_by_alias(f"cryptoderiv-forecast-{t}", "champion")
                 for t in ("rv_1d", "rv_7d", "funding_1d")}

    run("models__forecast", END + pd.Timedelta(minutes=15))
    query = ("SELECT exchange, symbol, target, horizon, as_of, value, vol_annualised, model_name, model_version,"
             " model_kind, mlflow_run_id FROM forecasts ORDER BY 1, 2, 3")
    rows = db.execute(query).fetchall()
    assert [(r[1], r[2]) for r in rows] == [("BTC/USDT", "rv_1d"), ("BTC/USDT", "rv_7d"),
                                            ("BTC/USDT:USDT", "funding_1d"), ("ETH/USDT", "rv_1d"),
                                            ("ETH/USDT", "rv_7d")]
    for r in rows:
        mv = champions[r[2]]
        assert r[4] == END.to_pydatetime()  # the end of the last complete day used
        assert (r[8], r[9], r[10]) == (str(mv.version), mv.tags["model_kind"], mv.run_id)
        if r[2].startswith("rv"):
            assert 0.05 < r[6] < 5.0 and r[6] == pytest.approx(np.sqrt(r[5] * 365))
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()
    run("models__forecast", END + pd.Timedelta(minutes=15))  # re-running the day writes the same rows
    again = db.execute(query).fetchall()
    assert hashlib.sha256(repr(again).encode()).hexdigest() == digest
