"""The Airflow side of the e-mail reports: which date a run reports on, and sending a message built by
the library (``cryptoderiv.reports``) through Airflow's SMTP connection.

The provider's :meth:`SmtpHook.send_email_smtp` builds its own MIME tree (HTML + attachments) and cannot
carry the report's structure (text alternative, inline ``cid:`` charts in ``multipart/related``, PDF).
:class:`MessageSmtpHook` extends the provider hook with a method that sends a ready
:class:`email.message.EmailMessage` over the connection the hook opened (host, port, TLS and login from
``smtp_default``), with the connection's retry limit.

(No module here is called ``email``: Airflow's plugin loader registers plugin files under their bare
file name in ``sys.modules``, which would shadow the standard library.)
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any, cast

from airflow.providers.smtp.hooks.smtp import SmtpHook

from cryptoderiv_airflow.defaults import SMTP_CONN_ID

log = logging.getLogger(__name__)


def report_date_for_run(context: Mapping[str, Any]) -> date:
    """The UTC calendar date a ``risk__daily_report`` run reports on.

    In order:

    1. the run's ``report_date`` param (a manual run: ``--conf '{"report_date": "2026-11-22"}'``);
    2. the latest ``as_of`` (ISO date) in the extras of the asset events that triggered the run;
    3. for a run triggered by asset events without that extra: the day before the latest event (the risk
       stage computes a day once it has closed);
    4. the start of the run's data interval when the interval is not empty;
    5. the day before the run's logical date (or ``run_after``).
    """
    param = (context.get("params") or {}).get("report_date")
    if param:
        return date.fromisoformat(str(param)[:10])
    events = [event for batch in (context.get("triggering_asset_events") or {}).values() for event in batch]
    dates = [date.fromisoformat(str(e.extra["as_of"])[:10]) for e in events if "as_of" in (e.extra or {})]
    if dates:
        return max(dates)
    if events:
        return (max(cast(datetime, e.timestamp) for e in events) - timedelta(days=1)).date()
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None and end > start:
        return cast(datetime, start).date()
    anchor = cast(datetime, context.get("logical_date") or context["dag_run"].run_after)
    return (anchor - timedelta(days=1)).date()


class MessageSmtpHook(SmtpHook):
    """The SMTP provider hook, able to send a complete MIME message as built."""

    hook_name = "SMTP (complete messages)"

    def send_message(self, message: EmailMessage) -> list[str]:
        """Send ``message`` to its To/Cc recipients; the hook must be open (``with hook:``).

        When the connection names a ``from_email``, it becomes the envelope sender and the ``From``
        header (keeping the message's display name), so the mail leaves as the account the connection
        is allowed to send for.

        Returns
        -------
        list of str
            The accepted recipients.
        """
        if self._smtp_client is None:
            raise smtplib.SMTPServerDisconnected("the SMTP hook is not open: use it as a context manager")
        client = cast("smtplib.SMTP", self._smtp_client)
        if self.from_email:
            display_name = parseaddr(str(message["From"] or ""))[0]
            del message["From"]
            message["From"] = Address(display_name=display_name, addr_spec=self.from_email)
        sender = parseaddr(str(message["From"]))[1]
        recipients = [addr for _, addr in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]
        for attempt in range(self.smtp_retry_limit + 1):
            try:
                refused = client.send_message(message, from_addr=sender, to_addrs=recipients)
                break
            except smtplib.SMTPServerDisconnected:
                if attempt == self.smtp_retry_limit:
                    raise
                log.warning("SMTP server disconnected; reconnecting (attempt %d)", attempt + 1)
                self._smtp_client = None
                self.get_conn()
                client = cast("smtplib.SMTP", self._smtp_client)
        return [addr for addr in recipients if addr not in refused]


def send_message_file(message_path: str | Path, smtp_conn_id: str = SMTP_CONN_ID) -> list[str]:
    """Send a saved ``.eml`` report (``cryptoderiv.reports.daily.ReportFiles.message``) through the
    Airflow SMTP connection; returns the accepted recipients."""
    from cryptoderiv.reports.mail import load_message, stamp_for_sending

    message = stamp_for_sending(load_message(Path(message_path)))
    with MessageSmtpHook(smtp_conn_id=smtp_conn_id) as hook:
        accepted = cast(MessageSmtpHook, hook).send_message(message)
    log.info("sent %s (%s) to %s", message["Subject"], message_path, ", ".join(accepted))
    return accepted
