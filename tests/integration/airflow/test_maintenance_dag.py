"""``maintenance__time_tables`` run for real with ``dag.test()`` against the test database."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg

from cryptoderiv.samples import SAMPLE_INSTRUMENTS, sample_candles
from cryptoderiv.storage import write_frame

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"


def test_maintenance_dag_refreshes_rollups_and_creates_partitions(airflow_env: Path, db: psycopg.Connection) -> None:
    from airflow.dag_processing.dagbag import DagBag

    write_frame(db, "instruments", SAMPLE_INSTRUMENTS.iloc[:1])
    write_frame(db, "ohlcv", sample_candles(SAMPLE_INSTRUMENTS.iloc[:1], pd.Timestamp("2026-11-01T00:00Z"), 180))
    db.commit()
    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("maintenance__time_tables")
    run = dag.test()
    assert run.state == "success", [(ti.task_id, ti.state) for ti in run.get_task_instances()]
    assert db.execute("SELECT count(*) FROM ohlcv_1h").fetchone() == (3,)
    ahead = db.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'ohlcv'::regclass").fetchone()[0]
    assert ahead >= 3  # default partition + this month + the next
