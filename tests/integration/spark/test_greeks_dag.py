"""``options__compute_greeks`` end to end with ``dag.test()``: the operator zips the library, runs
``spark-submit spark_jobs/option_greeks.py`` on local[2] through the ``spark_default`` connection, and the
job publishes ``option_greeks`` for the window into the test database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from cryptoderiv.features.synthetic import SyntheticChainSpec, synthetic_chain
from cryptoderiv.storage import write_frame

pytestmark = [pytest.mark.db, pytest.mark.slow]

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
WINDOW_END = pd.Timestamp("2026-11-03T00:00:00Z")


def test_compute_greeks_dag_submits_the_job(airflow_env: Path, db: psycopg.Connection) -> None:
    from airflow.dag_processing.dagbag import DagBag

    db.execute("TRUNCATE option_greeks")
    instruments, quotes = synthetic_chain(SyntheticChainSpec(snapshots=2, expiry_days=(7.0, 30.0)), seed=5)
    write_frame(db, "instruments", instruments)
    write_frame(db, "option_quotes", quotes.drop(columns=["bid_iv", "ask_iv"]))
    db.commit()
    os.environ["AIRFLOW_CONN_SPARK_DEFAULT"] = json.dumps({"conn_type": "spark", "host": "local[2]"})

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("options__compute_greeks")
    run = dag.test(logical_date=WINDOW_END.to_pydatetime())  # manual run: the day before logical_date

    assert run.state == "success", [(ti.task_id, ti.state) for ti in run.get_task_instances()]
    count, n_iv = db.execute("SELECT count(*), count(iv_mark) FROM option_greeks").fetchone()
    assert count == n_iv == len(quotes)
