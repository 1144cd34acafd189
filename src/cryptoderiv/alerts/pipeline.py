"""Alerts raised by the batch pipeline: data-quality failures and failed tasks.

The DQ gate (:func:`cryptoderiv.quality.gate.audit_and_publish` and the ingest pipelines) calls
:func:`evaluate_dq_alerts` once a batch's results are committed; the Airflow failure callback
(``cryptoderiv_airflow.alerting``) calls :func:`raise_pipeline_alert`. Both go through
:class:`~.notify.AlertDispatcher` (stored in ``alerts`` with cool-down, sent by e-mail/webhook per rule); the
sidecar pushes the new rows to the dashboard's ``alerts`` channel.

Rules of kind ``dq_failure`` / ``pipeline_failure`` come from the ``alert_rules`` table; without one, a
built-in default rule applies, and the defaults go to the dashboard only: the DAGs already e-mail a
data-quality notice and a task-failure e-mail through Airflow's SMTP connection, so e-mail or webhook
alerts of these kinds go out only where someone configured a rule with those channels.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import psycopg

from cryptoderiv.alerts.notify import AlertDispatcher
from cryptoderiv.alerts.rules import AlertRule, load_rules_db
from cryptoderiv.alerts.store import Alert
from cryptoderiv.config import Settings
from cryptoderiv.storage.database import connect

logger = logging.getLogger(__name__)

#: Applies when ``alert_rules`` has no enabled ``dq_failure`` rule: dashboard only (the DAGs e-mail a DQ notice).
DEFAULT_DQ_RULE = AlertRule(name="dq-failure", kind="dq_failure", severity="warning", cooldown_s=3600.0,
                            channels=("dashboard",))
#: Applies when ``alert_rules`` has no enabled ``pipeline_failure`` rule: dashboard only (Airflow e-mails the
#: task failure through the shared SmtpNotifier).
DEFAULT_PIPELINE_RULE = AlertRule(name="pipeline-failure", kind="pipeline_failure", severity="critical",
                                  cooldown_s=900.0, channels=("dashboard",))


def _rules(conn: psycopg.Connection, kind: str, default: AlertRule) -> list[AlertRule]:
    rules = [r for r in load_rules_db(conn) if r.kind == kind]
    return rules or [default]


def evaluate_dq_alerts(conn: psycopg.Connection, run_id: str, fired_at: dt.datetime | None = None,
                       settings: Settings | None = None, *, table: str | None = None,
                       once_per_run: bool = False) -> list[int]:
    """Fire ``dq_failure`` alerts for the failed expectations of one gated run.

    One alert per (rule, table, expectation), subject ``table:expectation``; a rule's ``params.table``
    limits it to one table and ``params.severity`` (``hard``, ``soft`` or ``any``, default ``any``) to a
    severity. Alert rows are committed on ``conn``, so call it outside the transaction that recorded the
    results (after the commit).

    Parameters
    ----------
    conn : psycopg.Connection
        The platform database (``dq_results``, ``alerts``, ``alert_rules``).
    run_id : str
        The gate's run id (``dq_results.run_id``).
    fired_at : datetime, optional
        Alert time (UTC); defaults to the ``checked_at`` of each result.
    settings : Settings, optional
        SMTP server and default recipients; defaults to :func:`~cryptoderiv.config.get_settings`.
    table : str, optional
        Only the results of this table (a run id may cover several tables).
    once_per_run : bool
        Skip a (rule, subject) that already has an alert for this ``run_id``, whatever the cool-down: re-running
        a batch (a retry, a backfill) then never alerts twice for it. The gate uses this.

    Returns
    -------
    list of int
        Ids of the alerts stored (suppressed duplicates are not listed).
    """
    rows = conn.execute(
        "SELECT table_name, rule, severity, unexpected_count, element_count, rows_quarantined, checked_at,"
        " exception FROM dq_results WHERE run_id = %s AND NOT success AND (%s::text IS NULL OR table_name = %s)"
        " ORDER BY table_name, rule", (run_id, table, table),
    ).fetchall()
    if not rows:
        return []
    rules = _rules(conn, "dq_failure", DEFAULT_DQ_RULE)
    dispatcher = AlertDispatcher(None, conn=conn, settings=settings)
    ids: list[int] = []
    for table_name, expectation, severity, unexpected, elements, quarantined, checked_at, exception in rows:
        for rule in rules:
            if (rule.param("table") not in (None, table_name)
                    or rule.param("severity", "any") not in ("any", severity)):
                continue
            what = f"{unexpected} of {elements} rows" if unexpected is not None else "the batch"
            alert = Alert(
                rule.name, rule.kind, "critical" if severity == "hard" else rule.severity,
                f"{table_name}:{expectation}", fired_at or checked_at,
                f"data quality: {expectation} failed on {table_name} for {what} (run {run_id}"
                f"{', ' + str(quarantined) + ' rows quarantined' if quarantined else ''})",
                float(unexpected) if unexpected is not None else None, None,
                {"run_id": run_id, "table": table_name, "expectation": expectation, "dq_severity": severity,
                 "exception": exception},
            )
            if once_per_run and _alerted_for_run(conn, alert.dedup_key, run_id):
                logger.info("dq alert %s already raised for run %s", alert.dedup_key, run_id)
                continue
            alert_id = dispatcher.dispatch_sync(rule, alert)
            if alert_id is not None:
                ids.append(alert_id)
    return ids


def _alerted_for_run(conn: psycopg.Connection, dedup_key: str, run_id: str) -> bool:
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM alerts WHERE dedup_key = %s AND payload->>'run_id' = %s)",
                       (dedup_key, run_id)).fetchone()
    return bool(row and row[0])


def raise_pipeline_alert(subject: str, message: str, *, database_url: str | None = None,
                         fired_at: dt.datetime | None = None, payload: dict[str, Any] | None = None,
                         settings: Settings | None = None) -> list[int]:
    """Fire ``pipeline_failure`` alerts (a failed task or run).

    Parameters
    ----------
    subject : str
        What failed, e.g. ``"options__compute_greeks.compute"`` (DAG id and task id); a rule's
        ``params.dag_id`` limits it to subjects starting with that DAG id.
    message : str
        One line (the exception).
    database_url : str, optional
        Defaults to the platform database.
    fired_at : datetime, optional
        UTC; defaults to now.
    payload : dict, optional
        Details (run id, log URL, try number, ...).
    settings : Settings, optional
        SMTP server and default recipients; defaults to :func:`~cryptoderiv.config.get_settings`.

    Returns
    -------
    list of int
        Ids of the alerts stored.
    """
    when = fired_at or dt.datetime.now(dt.UTC)
    with connect(database_url) as conn:
        rules = _rules(conn, "pipeline_failure", DEFAULT_PIPELINE_RULE)
        dispatcher = AlertDispatcher(None, conn=conn, settings=settings)
        ids = []
        for rule in rules:
            dag = rule.param("dag_id")
            if dag is not None and not subject.startswith(str(dag)):
                continue
            alert = Alert(rule.name, rule.kind, rule.severity, subject, when, f"pipeline failure: {subject}: {message}",
                          payload=dict(payload or {}))
            alert_id = dispatcher.dispatch_sync(rule, alert)
            if alert_id is not None:
                ids.append(alert_id)
    return ids
