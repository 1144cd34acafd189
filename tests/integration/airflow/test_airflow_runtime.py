"""The local Airflow runtime the demo uses: a real ``airflow dags test`` in a home of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import psycopg

from cryptoderiv.airflow_runtime import AirflowRuntime
from cryptoderiv.config import Settings
from cryptoderiv.samples import SAMPLE_INSTRUMENTS, sample_candles
from cryptoderiv.storage import write_frame


def test_runtime_runs_a_dag_through_airflow(database_url: str, db: psycopg.Connection, tmp_path: Path) -> None:
    write_frame(db, "instruments", SAMPLE_INSTRUMENTS.iloc[:1])
    write_frame(db, "ohlcv", sample_candles(SAMPLE_INSTRUMENTS.iloc[:1], pd.Timestamp("2026-11-01T00:00Z"), 120))
    db.commit()
    runtime = AirflowRuntime(Settings(local_dir=tmp_path), database_url)
    env = runtime.environment()
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST" not in env  # nothing leaks from the caller
    assert json.loads(env["AIRFLOW_CONN_SPARK_DEFAULT"]) == {"conn_type": "spark", "host": "local[*]"}
    runtime.migrate()
    outcome = runtime.run_dag("maintenance__time_tables", "2026-11-02T00:00:00+00:00")
    assert outcome.succeeded, outcome.log_file.read_text()[-3000:]
    assert outcome.run_id and outcome.run_id.startswith("manual__")
    assert db.execute("SELECT count(*) FROM ohlcv_1h").fetchone() == (2,)
    missing = runtime.run_dag("no_such__dag", "2026-11-02T00:00:00+00:00")
    assert not missing.succeeded and missing.run_id is None
