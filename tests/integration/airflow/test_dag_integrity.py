"""Every DAG imports cleanly and follows the house rules (docs, tags, retries, the shared failure callbacks:
the e-mail notifier and the pipeline-failure alert)."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"


@pytest.fixture(scope="module")
def dag_bag(airflow_env: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dag_bag) -> None:
    assert dag_bag.import_errors == {}
    assert dag_bag.dags, "no DAG found"


def test_every_dag_follows_the_house_rules(dag_bag) -> None:
    from cryptoderiv_airflow.alerting import pipeline_failure_alert
    from cryptoderiv_airflow.defaults import failure_notifier

    for dag_id, dag in dag_bag.dags.items():
        assert "__" in dag_id, f"{dag_id}: ids are <area>__<what>"
        assert dag.doc_md and dag.doc_md.strip(), f"{dag_id}: no doc_md for the UI"
        assert dag.tags, f"{dag_id}: no tags"
        assert dag.start_date is not None and dag.start_date.tzinfo is not None
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id}: no retries"
            assert task.execution_timeout is not None, f"{dag_id}.{task.task_id}: no timeout"
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert failure_notifier in callbacks, f"{dag_id}.{task.task_id}: no notifier"
            assert pipeline_failure_alert in callbacks, f"{dag_id}.{task.task_id}: no pipeline-failure alert"
