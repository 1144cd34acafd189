"""Pipeline-failure alerts: every failed task also lands in ``alerts`` (and so on the dashboard).

:func:`pipeline_failure_alert` is the second ``on_failure_callback`` that :func:`~cryptoderiv_airflow.defaults.
default_args` attaches to every task, next to the e-mailing SmtpNotifier. It calls
:func:`cryptoderiv.alerts.raise_pipeline_alert` with subject ``<dag_id>.<task_id>``, the exception as the
message and the run's details as the payload. The built-in ``pipeline-failure`` rule is dashboard-only (the
SmtpNotifier already e-mails), so e-mail or webhook alerts go out only for rules configured in
``alert_rules``. Airflow runs failure callbacks only when a task has failed for good (not on a retry).

A callback must never fail the task's bookkeeping: anything that goes wrong here is logged with its
traceback and swallowed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)


def _iso(value: Any) -> str | None:
    """A date as ISO-8601 UTC text (``None`` stays ``None``: manual runs may have no logical date)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC).isoformat()
    return str(value)


def failure_message(exception: Any) -> str:
    """One line for the alert: the exception's class and text (the text alone when it is a string)."""
    if exception is None:
        return "the task failed (no exception recorded)"
    if isinstance(exception, BaseException):
        text = str(exception).strip()
        name = type(exception).__name__
        first = text.splitlines()[0] if text else ""
        return f"{name}: {first}" if first else name
    return str(exception).strip().splitlines()[0] if str(exception).strip() else "the task failed"


def failure_details(context: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Subject (``dag_id.task_id``), message and payload of a failed task from its Airflow context."""
    ti = context["ti"]
    subject = f"{ti.dag_id}.{ti.task_id}"
    payload: dict[str, Any] = {
        "dag_id": ti.dag_id,
        "task_id": ti.task_id,
        "run_id": str(context.get("run_id") or ti.run_id),
        "try_number": getattr(ti, "try_number", None),
        "map_index": getattr(ti, "map_index", -1),
        "log_url": getattr(ti, "log_url", None),
        "logical_date": _iso(context.get("logical_date")),
    }
    return subject, failure_message(context.get("exception")), payload


def pipeline_failure_alert(context: Mapping[str, Any]) -> None:
    """``on_failure_callback``: raise a ``pipeline_failure`` alert for the failed task; never raises.

    Parameters
    ----------
    context : Mapping
        The task's Airflow context (``ti``, ``run_id``, ``logical_date``, ``exception``).
    """
    try:
        from cryptoderiv.alerts.pipeline import raise_pipeline_alert
        from cryptoderiv_airflow.hooks import platform_database_url

        subject, message, payload = failure_details(context)
        ids = raise_pipeline_alert(subject, message, database_url=platform_database_url(), payload=payload)
        if ids:
            log.info("pipeline-failure alert %s stored for %s", ids, subject)
        else:
            log.info("pipeline-failure alert for %s suppressed (cool-down)", subject)
    except Exception:  # a failure callback must never raise: log it and let Airflow carry on
        log.exception("could not raise the pipeline-failure alert")
