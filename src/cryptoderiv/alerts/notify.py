"""Where alerts go: e-mail (SMTP, settings from :func:`~cryptoderiv.config.get_settings`), webhooks (JSON POST
with aiohttp), the dashboard channel (a callback), and the ``alerts`` table for every one of them.

:class:`AlertDispatcher` is the one path: cool-down check and insert (:func:`~.store.record_alert`), then the
rule's channels. A notifier that fails is logged and counted; it does not stop the others.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import aiohttp
import psycopg

from cryptoderiv.alerts.rules import AlertRule
from cryptoderiv.alerts.store import Alert, record_alert
from cryptoderiv.config import Settings, get_settings
from cryptoderiv.errors import ConfigurationError

logger = logging.getLogger(__name__)

SENDER = "alerts@cryptoderiv.local"


def email_message(alert: Alert, recipients: tuple[str, ...], sender: str = SENDER) -> EmailMessage:
    """The e-mail of an alert (plain text)."""
    msg = EmailMessage()
    msg["Subject"] = f"[cryptoderiv {alert.severity}] {alert.rule_name}: {alert.subject}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    lines = [alert.message, "", f"rule: {alert.rule_name} ({alert.kind})", f"subject: {alert.subject}",
             f"fired at: {alert.fired_at.isoformat()}"]
    if alert.value is not None:
        lines.append(f"value: {alert.value:.6g}")
    if alert.threshold is not None:
        lines.append(f"threshold: {alert.threshold:.6g}")
    msg.set_content("\n".join(lines) + "\n")
    return msg


def send_email(alert: Alert, recipients: tuple[str, ...], settings: Settings | None = None,
               timeout_s: float = 10.0) -> None:
    """Send the alert's e-mail through the configured SMTP server (blocking).

    Raises
    ------
    OSError, smtplib.SMTPException
        When the server cannot be reached or refuses the message.
    """
    s = settings or get_settings()
    with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout_s) as smtp:
        if s.smtp_user and s.smtp_password is not None:
            smtp.starttls()
            smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
        smtp.send_message(email_message(alert, recipients))


async def post_webhook(session: aiohttp.ClientSession, url: str, body: dict[str, Any],
                       timeout_s: float = 10.0) -> int:
    """POST ``body`` as JSON; returns the HTTP status.

    Raises
    ------
    aiohttp.ClientError
        When the receiver cannot be reached or answers with an error status.
    """
    async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
        resp.raise_for_status()
        return resp.status


@dataclass
class AlertDispatcher:
    """Store, de-duplicate and send alerts.

    Parameters
    ----------
    database_url : str or None
        Where ``alerts`` lives (a new connection per alert); or give ``conn``.
    push : callable, optional
        Receives the stored row (dict) for the dashboard channel.
    settings : Settings, optional
        SMTP and default recipients.
    conn : psycopg.Connection, optional
        An open connection to store alerts with (its transaction is committed per alert).
    """

    database_url: str | None
    push: Callable[[dict[str, Any]], None] | None = None
    settings: Settings | None = None
    conn: psycopg.Connection | None = None
    sent: dict[str, int] = field(default_factory=lambda: {"email": 0, "webhook": 0, "dashboard": 0, "failed": 0})

    def _recipients(self, rule: AlertRule) -> tuple[str, ...]:
        if rule.recipients:
            return rule.recipients
        s = self.settings or get_settings()
        return tuple(a.strip() for a in s.report_recipients.split(",") if a.strip())

    def store(self, rule: AlertRule, alert: Alert) -> int | None:
        """Cool-down check + insert (blocking); the alert id, or None when suppressed."""
        if self.conn is not None:
            return record_alert(self.conn, alert, rule.cooldown_s, rule.channels)
        if self.database_url is None:
            raise ConfigurationError("AlertDispatcher needs a database_url or a conn")
        with psycopg.connect(self.database_url, connect_timeout=5, options="-c timezone=UTC") as conn:
            return record_alert(conn, alert, rule.cooldown_s, rule.channels)

    async def dispatch(self, rule: AlertRule, alert: Alert) -> int | None:
        """Store the alert and send it to the rule's channels; None when suppressed by the cool-down."""
        alert_id = await asyncio.to_thread(self.store, rule, alert)
        if alert_id is None:
            logger.info("alert %s suppressed (cool-down %.0f s)", alert.dedup_key, rule.cooldown_s)
            return None
        body = alert.as_dict(alert_id, rule.channels)
        logger.warning("ALERT %s [%s] %s", alert.dedup_key, alert.severity, alert.message)
        if "dashboard" in rule.channels and self.push is not None:
            self.push(body)
            self.sent["dashboard"] += 1
        if "email" in rule.channels:
            try:
                await asyncio.to_thread(send_email, alert, self._recipients(rule), self.settings)
                self.sent["email"] += 1
            except (OSError, smtplib.SMTPException) as exc:
                self.sent["failed"] += 1
                logger.error("alert %s: e-mail failed: %s", alert.dedup_key, exc)
        if "webhook" in rule.channels and rule.webhook_url:
            try:
                async with aiohttp.ClientSession() as session:
                    await post_webhook(session, rule.webhook_url, body)
                self.sent["webhook"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                self.sent["failed"] += 1
                logger.error("alert %s: webhook %s failed: %s", alert.dedup_key, rule.webhook_url, exc)
        return alert_id

    def dispatch_sync(self, rule: AlertRule, alert: Alert) -> int | None:
        """:meth:`dispatch` from synchronous code (pipeline tasks, failure callbacks)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.dispatch(rule, alert))
        # called from inside an event loop: run it on a private loop in a worker thread
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, self.dispatch(rule, alert)).result()
