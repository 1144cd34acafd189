"""The report as an e-mail: building the MIME message, saving/loading it, and sending it over SMTP.

Structure of the message (RFC 2046/2387)::

    multipart/mixed
    |-- multipart/alternative
    |   |-- text/plain                      the text rendering
    |   `-- multipart/related
    |       |-- text/html                   refers to the charts as cid:<chart>.<date>@cryptoderiv
    |       `-- image/png (inline) ...      one per chart, with its Content-ID
    `-- application/pdf (attachment)        the same report

The library only builds the :class:`email.message.EmailMessage`. In Airflow the message is sent with the
SMTP provider's hook through the ``smtp_default`` connection (``cryptoderiv_airflow.mail``); the CLI and
the demo use :func:`send_via_smtp` with the platform settings.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid
from pathlib import Path
from typing import cast

from cryptoderiv.config import Settings, get_settings
from cryptoderiv.errors import ConfigurationError, CryptoderivError
from cryptoderiv.reports.content import Chart, DailyReport
from cryptoderiv.reports.render import render_html, render_text

log = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 30.0


class ReportDeliveryError(CryptoderivError):
    """The report could not be handed to the SMTP server (unreachable, refused, rejected recipients)."""


def content_id(chart: Chart, report: DailyReport) -> str:
    """The Content-ID (without angle brackets) of a chart: stable for a given report date."""
    return f"{chart.name}.{report.report_date.strftime('%Y%m%d')}@cryptoderiv"


def subject(report: DailyReport) -> str:
    """``[cryptoderiv] Daily risk report 2026-11-22 - portfolio sample - 1d 99% VaR (HS) 48,213 USD``."""
    text = f"[cryptoderiv] {report.title}"
    if report.headline:
        label, value = report.headline[0]
        text += f" - {label} {value}"
    return text


def pdf_filename(report: DailyReport) -> str:
    """File name of the PDF (attachment and on disk)."""
    return f"risk-report-{report.portfolio}-{report.report_date.isoformat()}.pdf"


def recipients(settings: Settings) -> list[str]:
    """The report's recipients (``REPORT_RECIPIENTS``, comma-separated).

    Raises
    ------
    ConfigurationError
        No valid address is configured.
    """
    addresses = [addr for _, addr in getaddresses([settings.report_recipients]) if "@" in addr]
    if not addresses:
        raise ConfigurationError(f"REPORT_RECIPIENTS holds no e-mail address: {settings.report_recipients!r}")
    return addresses


def build_message(report: DailyReport, pdf: bytes, settings: Settings | None = None,
                  html: str | None = None) -> EmailMessage:
    """The report e-mail: HTML with inline charts, a text alternative, the PDF attached.

    Parameters
    ----------
    report : DailyReport
        The gathered report.
    pdf : bytes
        Its PDF rendering (see :func:`cryptoderiv.reports.pdf.render_pdf`).
    settings : Settings, optional
        Sender and recipients (``REPORT_SENDER``, ``REPORT_RECIPIENTS``); default the platform settings.
    html : str, optional
        A pre-rendered HTML body using ``cid:`` image sources; rendered here when omitted.

    Returns
    -------
    email.message.EmailMessage
        Ready to send. ``Date`` and ``Message-ID`` are left to :func:`stamp_for_sending` (at send time),
        so the same report gives the same bytes on disk and every send is a distinct mail.
    """
    settings = settings or get_settings()
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject(report)
    message["From"] = Address(display_name="cryptoderiv reports", addr_spec=settings.report_sender)
    message["To"] = ", ".join(recipients(settings))
    message["X-Cryptoderiv-Report"] = f"risk__daily_report; date={report.report_date.isoformat()}; " \
                                      f"portfolio={report.portfolio}"
    message.set_content(render_text(report), subtype="plain", charset="utf-8")
    if html is None:
        html = render_html(report, lambda chart: f"cid:{content_id(chart, report)}")
    message.add_alternative(html, subtype="html", charset="utf-8")
    html_part = next(part for part in message.iter_parts() if part.get_content_type() == "text/html")
    for chart in report.charts:
        html_part.add_related(chart.png, maintype="image", subtype="png", cid=f"<{content_id(chart, report)}>",
                              filename=f"{chart.name}.png", disposition="inline")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_filename(report))
    # Boundaries derived from the content instead of random ones: the same report, the same bytes.
    digest = hashlib.sha256(html.encode("utf-8") + pdf).hexdigest()[:32]
    for i, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_cryptoderiv_{digest}_{i}")
    return message


def stamp_for_sending(message: EmailMessage) -> EmailMessage:
    """Set ``Date`` (now, UTC) and a fresh ``Message-ID`` on a message that has none; returns it."""
    if message["Date"] is None:
        message["Date"] = format_datetime(datetime.now(UTC))
    if message["Message-ID"] is None:
        message["Message-ID"] = make_msgid(idstring="risk-report", domain="cryptoderiv")
    return message


def save_message(message: EmailMessage, path: Path) -> Path:
    """Write the message as an RFC 5322 file (``.eml``), CRLF line ends."""
    path.write_bytes(message.as_bytes(policy=policy.SMTP))
    return path


def load_message(path: Path) -> EmailMessage:
    """Read a message written by :func:`save_message`.

    Raises
    ------
    ReportDeliveryError
        The file is missing or is not an e-mail message.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ReportDeliveryError(f"cannot read the report message {path}: {exc.strerror}") from exc
    message = BytesParser(policy=policy.SMTP).parsebytes(raw)
    if not message["To"] or not message["Subject"]:
        raise ReportDeliveryError(f"{path} is not a report message (no To or Subject header)")
    return cast(EmailMessage, message)


def send_via_smtp(message: EmailMessage, settings: Settings | None = None) -> list[str]:
    """Send ``message`` through the SMTP server of the settings (``SMTP_HOST``/``SMTP_PORT``; STARTTLS and
    login when ``SMTP_USER`` is set and the server offers STARTTLS).

    Returns
    -------
    list of str
        The recipients the server accepted.

    Raises
    ------
    ReportDeliveryError
        The server is unreachable, refuses the login or every recipient.
    """
    settings = settings or get_settings()
    where = f"{settings.smtp_host}:{settings.smtp_port}"
    stamp_for_sending(message)
    to = [addr for _, addr in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            smtp.ehlo()
            if settings.smtp_user:
                if smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_user, password)
            refused = smtp.send_message(message, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as exc:
        raise ReportDeliveryError(f"SMTP server {where} refused every recipient: {sorted(exc.recipients)}") from exc
    except smtplib.SMTPException as exc:
        raise ReportDeliveryError(f"SMTP server {where} did not accept the report: {exc}") from exc
    except OSError as exc:
        raise ReportDeliveryError(f"cannot reach the SMTP server at {where}: {exc}") from exc
    accepted = [addr for addr in to if addr not in refused]
    log.info("report %s sent through %s to %s", message["Message-ID"], where, ", ".join(accepted))
    return accepted
