"""What every DAG shares: default task arguments and the failure callbacks (e-mail, pipeline alert)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.smtp.notifications.smtp import SmtpNotifier
from airflow.sdk import CronDataIntervalTimetable

from cryptoderiv.config import get_settings
from cryptoderiv_airflow.alerting import pipeline_failure_alert

SMTP_CONN_ID = "smtp_default"

failure_notifier = SmtpNotifier(
    to=[a.strip() for a in get_settings().report_recipients.split(",") if a.strip()],
    smtp_conn_id=SMTP_CONN_ID,
    subject="[cryptoderiv] {{ ti.dag_id }}.{{ ti.task_id }} failed ({{ ti.try_number }} tries)",
    html_content=(
        "<p>Task <b>{{ ti.dag_id }}.{{ ti.task_id }}</b> failed in run <code>{{ run_id }}</code>"
        " (data interval {{ data_interval_start }} to {{ data_interval_end }}).</p>"
        "<p>Error: <code>{{ exception }}</code></p><p>Log: {{ ti.log_url }}</p>"
    ),
)
"""E-mail through the Airflow SMTP connection; attached to every task through ``DEFAULT_ARGS``."""


def default_args(**overrides: Any) -> dict[str, Any]:
    """Task defaults: bounded retries with exponential backoff, a timeout, the failure callbacks.

    A task that fails for good calls both ``failure_notifier`` (e-mail through the Airflow SMTP connection)
    and :func:`~cryptoderiv_airflow.alerting.pipeline_failure_alert` (a ``pipeline_failure`` row in
    ``alerts``, shown on the dashboard).
    """
    args: dict[str, Any] = {
        "owner": "data-eng",
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": [failure_notifier, pipeline_failure_alert],
    }
    args.update(overrides)
    return args


def interval_schedule(cron: str) -> CronDataIntervalTimetable:
    """A schedule whose runs cover data intervals (``[data_interval_start, data_interval_end)``).

    Airflow 3's plain cron schedules trigger at a time with a zero-length interval; the pipelines work on
    windows, so they use this. Manual runs and backfills then also get the interval they name.
    """
    return CronDataIntervalTimetable(cron, timezone="UTC")
