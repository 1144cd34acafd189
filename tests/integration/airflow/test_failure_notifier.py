"""The shared failure notifier e-mails through the Airflow SMTP connection (a real SMTP server)."""

from __future__ import annotations

import time
from pathlib import Path


def test_a_failing_task_sends_one_mail(airflow_env: Path, smtp_server) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(Path(__file__).parent / "fixture_dags")).get_dag("tests__always_fails")
    before = len(smtp_server.messages)
    run = dag.test()
    assert run.state == "failed"
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp_server.messages) == before + 1
    mail = smtp_server.messages[-1]
    assert mail["Subject"] == "[cryptoderiv] tests__always_fails.explode failed (1 tries)"
    assert mail["To"] == "risk@example.com"
    body = mail.get_body(preferencelist=("html",)).get_content()
    assert "the exchange answered nonsense" in body
