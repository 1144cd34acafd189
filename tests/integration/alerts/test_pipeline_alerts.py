"""Pipeline alerts wired into the real pipeline: the DQ gate raises ``dq_failure`` alerts for every failed
expectation of a batch (real simulator in bad-data mode, real ingestion, real PostgreSQL), and every failed
Airflow task raises a ``pipeline_failure`` alert (a real DAG run with ``dag.test()``). The built-in rules are
dashboard-only: e-mail goes out only for a rule someone configured (real SMTP catcher)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest

from cryptoderiv.config import get_settings
from cryptoderiv.exchanges import fetch as exchange_fetch
from cryptoderiv.ingest import pipelines
from cryptoderiv.ingest.pipelines import INSTRUMENT_ATTRIBUTES
from cryptoderiv.quality.gate import alert_failures, audit_and_publish
from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.stack.supervisor import free_port

DAY_MS = 86_400_000
# A fixed day: which bars the bad-data mode damages depends only on the seed and the row.
DAY_START = int(pd.Timestamp("2026-11-20", tz="UTC").value // 1_000_000)
NOW_MS = DAY_START + 2 * DAY_MS + 9 * 3_600_000
T0 = pd.Timestamp(DAY_START, unit="ms", tz="UTC")
SEED = 5
#: The simulator's candle defects and the expectation that must catch each (see test_bad_data_mode).
CANDLE_RULES = {"negative_price": "ohlcv.close_positive", "nan": "ohlcv.close_not_null",
                "gap": "ohlcv.bar_grid_complete"}


@pytest.fixture(scope="module")
def bad_sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=SEED, clock=lambda: NOW_MS, bad_data=",".join(CANDLE_RULES)) as server:
        yield server


@pytest.fixture()
def clean_alerts(db: psycopg.Connection) -> psycopg.Connection:
    db.execute("DELETE FROM alerts")
    db.execute("DELETE FROM alert_rules")
    db.commit()
    return db


@contextmanager
def errors_logged(logger: str) -> Iterator[list[logging.LogRecord]]:
    """ERROR records of one logger, read by a handler on that logger itself (Airflow's logging set-up,
    once a DAG ran in this process, replaces the root handlers that ``caplog`` relies on)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler, target = Keep(logging.ERROR), logging.getLogger(logger)
    target.addHandler(handler)
    try:
        yield records
    finally:
        target.removeHandler(handler)


def via(server: SimulatorServer) -> dict[str, str]:
    return {"source": "simulator", "simulator_url": server.url}


def dq_alerts(conn: psycopg.Connection) -> list[dict[str, Any]]:
    cur = conn.execute("SELECT rule_name, kind, severity, subject, message, payload, channels FROM alerts"
                       " WHERE kind = 'dq_failure' ORDER BY alert_id")
    names = [d.name for d in cur.description or []]
    out = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    conn.commit()
    return out


def failed_expectations(conn: psycopg.Connection, run_id: str) -> dict[str, str]:
    rows = conn.execute("SELECT rule, severity FROM dq_results WHERE run_id = %s AND NOT success",
                        (run_id,)).fetchall()
    conn.commit()
    return dict(rows)


def ingest_candles(url: str, server: SimulatorServer, run_id: str) -> pipelines.IngestSummary:
    return pipelines.ingest_ohlcv(url, "binance", "BTC/USDT", "1m", T0, T0 + pd.Timedelta(hours=3), run_id,
                                  **via(server))


def batch_id(run_id: str) -> str:
    return f"{run_id}.ohlcv.binance.BTC-USDT"


@pytest.mark.slow
def test_a_damaged_candle_batch_raises_one_dashboard_alert_per_failed_expectation_once(
        database_url: str, clean_alerts: psycopg.Connection, bad_sim: SimulatorServer, smtp_server) -> None:
    db = clean_alerts
    pipelines.sync_catalog(database_url, "binance", "alerts-1", T0, kinds=["spot"], **via(bad_sim))
    mails_before = len(smtp_server.messages)
    summary = ingest_candles(database_url, bad_sim, "alerts-1")
    assert summary.rows_quarantined > 0

    failed = failed_expectations(db, batch_id("alerts-1"))
    injected = {r["defect"] for r in bad_sim.ctx.bad_data.records()}
    assert injected == set(CANDLE_RULES)
    # the simulator's ground truth: each defect's rule failed (and so must be alerted)
    assert {CANDLE_RULES[d] for d in injected} <= set(failed)

    alerts = dq_alerts(db)
    assert sorted(a["subject"] for a in alerts) == sorted(f"ohlcv:{rule}" for rule in failed)
    for a in alerts:
        rule = a["subject"].split(":", 1)[1]
        assert a["rule_name"] == "dq-failure" and a["channels"] == ["dashboard"]
        assert a["severity"] == ("critical" if failed[rule] == "hard" else "warning")
        assert rule in a["message"] and "ohlcv" in a["message"]
        assert a["payload"]["run_id"] == batch_id("alerts-1") and a["payload"]["table"] == "ohlcv"
    # the built-in rule is dashboard-only: no e-mail (the DAG's quality notice is the e-mail)
    assert len(smtp_server.messages) == mails_before

    # the same batch again, within the cool-down: the same rows, no new alert
    ingest_candles(database_url, bad_sim, "alerts-1")
    assert len(dq_alerts(db)) == len(alerts)

    # two hours later (past the 1 h cool-down): re-running the same batch still does not alert again...
    db.execute("UPDATE alerts SET fired_at = fired_at - interval '2 hours'")
    db.commit()
    ingest_candles(database_url, bad_sim, "alerts-1")
    assert len(dq_alerts(db)) == len(alerts)
    # ...but a new batch with the same failures does
    ingest_candles(database_url, bad_sim, "alerts-2")
    again = dq_alerts(db)[len(alerts):]
    assert sorted(a["subject"] for a in again) == sorted(a["subject"] for a in alerts)
    assert {a["payload"]["run_id"] for a in again} == {batch_id("alerts-2")}


@pytest.fixture()
def smtp_settings(smtp_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("REPORT_RECIPIENTS", "dq-desk@example.com")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def candle_frames(server: SimulatorServer, start: pd.Timestamp,
                  end: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean candles from the (clean) simulator, and a copy with one bar broken by hand (high below low)."""
    clean = exchange_fetch.fetch_ohlcv("binance", ["BTC/USDT"], "1m", start, end, **via(server)).frame
    clean = clean.drop(columns=[c for c in INSTRUMENT_ATTRIBUTES if c in clean.columns])
    damaged = clean.copy()
    damaged.loc[damaged.index[5], "high"] = damaged.loc[damaged.index[5], "low"] * 0.5
    return clean, damaged


def test_both_gate_paths_alert_after_the_commit_and_a_configured_rule_emails(
        database_url: str, clean_alerts: psycopg.Connection, smtp_settings: None, smtp_server,
        tmp_path: Path) -> None:
    db = clean_alerts
    db.execute("INSERT INTO alert_rules (name, kind, severity, params, cooldown_s, channels, recipients)"
               " VALUES ('ohlcv-hard', 'dq_failure', 'warning', '{\"table\": \"ohlcv\", \"severity\": \"hard\"}',"
               " 3600, ARRAY['dashboard', 'email'], 'quant@example.com')")
    db.commit()
    start, end = T0, T0 + pd.Timedelta(hours=1)
    with SimulatorServer(seed=SEED, clock=lambda: NOW_MS) as clean:
        pipelines.sync_catalog(database_url, "binance", "alerts-gate", T0, kinds=["spot"], **via(clean))
        good, frame = candle_frames(clean, start, end)
    mails_before = len(smtp_server.messages)

    # the gate owns its connection (a URL): it commits, then alerts
    result = audit_and_publish(database_url, "ohlcv", frame, "gate-url", window=(start, end), build_docs=False)
    assert result.rows_quarantined == 1 and result.rows_published == len(frame) - 1
    hard = {e.rule for e in result.hard_failures}
    assert hard and not result.soft_failures
    alerts = dq_alerts(db)
    assert sorted(a["subject"] for a in alerts) == sorted(f"ohlcv:{rule}" for rule in hard)
    assert {a["rule_name"] for a in alerts} == {"ohlcv-hard"}   # a configured rule replaces the default
    mails = smtp_server.messages[mails_before:]
    assert len(mails) == len(hard) and all(m["To"] == "quant@example.com" for m in mails)
    assert {m["Subject"] for m in mails} == {f"[cryptoderiv critical] ohlcv-hard: ohlcv:{r}" for r in hard}

    # the caller's connection: nothing is alerted inside its transaction; after its commit, alert_failures
    db.execute("UPDATE alerts SET fired_at = fired_at - interval '2 hours'")   # past the cool-down
    db.commit()
    with psycopg.connect(database_url, options="-c timezone=UTC") as conn:
        own = audit_and_publish(conn, "ohlcv", frame, "gate-conn", window=(start, end), build_docs=False)
        assert len(dq_alerts(db)) == len(alerts)    # not yet: the batch is not committed
        conn.commit()
        ids = alert_failures(conn, own)
    assert len(ids) == len(hard)
    assert {a["payload"]["run_id"] for a in dq_alerts(db)[len(alerts):]} == {"gate-conn"}
    # the clean batch passes every rule and alerts nothing
    ok = audit_and_publish(database_url, "ohlcv", good, "gate-ok", window=(start, end), build_docs=False)
    assert not ok.needs_attention and alert_failures(db, ok) == []
    assert db.execute("SELECT count(*) FROM dq_results WHERE run_id = 'gate-ok' AND NOT success").fetchone() == (0,)
    assert len(dq_alerts(db)) == 2 * len(alerts)


def test_a_failing_alert_is_logged_and_the_load_stands(
        database_url: str, clean_alerts: psycopg.Connection, bad_sim: SimulatorServer) -> None:
    db = clean_alerts
    # a broken rule in the table (webhook channel without a URL): loading the rules fails
    db.execute("INSERT INTO alert_rules (name, kind, channels) VALUES ('broken', 'dq_failure', ARRAY['webhook'])")
    db.commit()
    pipelines.sync_catalog(database_url, "binance", "alerts-broken", T0, kinds=["spot"], **via(bad_sim))
    with errors_logged("cryptoderiv.quality.gate") as logged:
        summary = ingest_candles(database_url, bad_sim, "alerts-broken")
    failures = [r for r in logged if "raising the data-quality alerts failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "webhook_url" in str(failures[0].exc_info[1])
    assert dq_alerts(db) == []
    stored = db.execute("SELECT count(*) FROM ohlcv").fetchone()
    runs = db.execute("SELECT count(*) FROM ingest_runs WHERE run_id = 'alerts-broken' AND dataset = 'ohlcv'")
    assert stored == (summary.quality.rows_published,) and summary.quality.rows_published > 0
    assert runs.fetchone() == (1,)


# --- pipeline failures -----------------------------------------------------------------------------------------

FIXTURE_DAGS = Path(__file__).resolve().parents[1] / "airflow" / "fixture_dags"


def failing_dag(captured: list[dict[str, Any]]) -> Any:
    """``tests__always_fails`` (``default_args(retries=0)``; its one task raises), with a third failure callback
    that keeps the real Airflow context for the direct calls below.

    Airflow 3.3's ``dag.test()`` syncs the DAG from a configured bundle first, so a DAG built inside a test
    cannot run; this one lives in the test bundle (``tests/integration/airflow/fixture_dags``).
    """
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(FIXTURE_DAGS)).get_dag("tests__always_fails")
    task = dag.get_task("explode")
    task.on_failure_callback = [*task.on_failure_callback, lambda context: captured.append(dict(context))]
    return dag


@pytest.mark.slow
def test_a_failed_task_stores_a_pipeline_failure_alert_and_sends_only_the_airflow_mail(
        airflow_env: Path, database_url: str, clean_alerts: psycopg.Connection, smtp_server,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptoderiv_airflow.alerting import pipeline_failure_alert
    from cryptoderiv_airflow.defaults import failure_notifier

    db = clean_alerts
    captured: list[dict[str, Any]] = []
    dag = failing_dag(captured)
    assert dag.get_task("explode").on_failure_callback[:2] == [failure_notifier, pipeline_failure_alert]
    mails_before = len(smtp_server.messages)
    run = dag.test()
    assert run.state == "failed"

    rows = db.execute("SELECT rule_name, kind, severity, subject, message, payload, channels FROM alerts"
                      " WHERE kind = 'pipeline_failure'").fetchall()
    db.commit()
    assert len(rows) == 1
    rule_name, _, severity, subject, text, payload, channels = rows[0]
    assert (rule_name, severity, subject, channels) == ("pipeline-failure", "critical",
                                                        "tests__always_fails.explode", ["dashboard"])
    assert "RuntimeError: the exchange answered nonsense" in text
    assert payload["run_id"] == run.run_id and payload["try_number"] == 1
    assert "tests__always_fails" in payload["log_url"] and "explode" in payload["log_url"]
    assert "logical_date" in payload
    # only the SmtpNotifier's mail: the default pipeline rule is dashboard-only
    deadline = time.monotonic() + 10
    while len(smtp_server.messages) == mails_before and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    mails = smtp_server.messages[mails_before:]
    assert [m["Subject"] for m in mails] == ["[cryptoderiv] tests__always_fails.explode failed (1 tries)"]

    # the callback again with the run's real context: the cool-down holds it (one row)
    assert len(captured) == 1
    context = captured[0]
    pipeline_failure_alert(context)
    assert db.execute("SELECT count(*) FROM alerts WHERE kind = 'pipeline_failure'").fetchone() == (1,)
    db.commit()

    # with the platform database unreachable, the callback logs and does not raise
    monkeypatch.setenv("AIRFLOW_CONN_CRYPTODERIV_DB", json.dumps({
        "conn_type": "postgres", "host": "127.0.0.1", "port": free_port(), "login": "x", "schema": "x"}))
    with errors_logged("cryptoderiv_airflow.alerting") as logged:
        pipeline_failure_alert(context)
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "cannot connect to the database" in str(logged[0].exc_info[1])
