"""The Airflow side of the data-quality gates: telling people when a batch needs attention.

The gate (:func:`cryptoderiv.quality.gate.audit_and_publish`) calls its ``notify`` hook when a batch had
soft failures or quarantined rows; :func:`notify_quality` is that hook for every ingest DAG. It e-mails
the gate's summary and the link to the batch's Data Docs through the Airflow SMTP connection (the same
one as the failure notifier), so a quarantined row never goes unnoticed even when the task succeeds.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from airflow.providers.smtp.hooks.smtp import SmtpHook

from cryptoderiv.config import get_settings
from cryptoderiv_airflow.defaults import SMTP_CONN_ID

if TYPE_CHECKING:
    from cryptoderiv.quality.gate import GateResult

log = logging.getLogger(__name__)


def quality_subject(result: GateResult) -> str:
    """One line: table, what happened, run."""
    what = "batch rejected" if result.blocked else (
        f"{result.rows_quarantined} rows quarantined" if result.rows_quarantined else
        f"{len(result.soft_failures)} soft checks failed")
    return f"[cryptoderiv] data quality: {result.table}: {what} ({result.run_id})"


def notify_quality(result: GateResult) -> None:
    """E-mail ``result``'s summary to the report recipients through the ``smtp_default`` connection."""
    recipients = [a.strip() for a in get_settings().report_recipients.split(",") if a.strip()]
    docs = f'<p>Data Docs: <a href="{Path(result.docs_path).as_uri()}">{result.docs_path}</a></p>' \
        if result.docs_path else ""
    body = f"<pre>{html.escape(result.summary())}</pre>{docs}"
    with SmtpHook(smtp_conn_id=SMTP_CONN_ID) as hook:
        hook.send_email_smtp(to=recipients, subject=quality_subject(result), html_content=body)
    log.info("data-quality notice for %s sent to %s", result.table, ", ".join(recipients))
