"""The daily risk report: gather every section for a date, render it, write the files, send the e-mail.

``risk__daily_report`` calls :func:`build_daily_report` (one task: gather, render, write HTML/PDF/e-mail
files; returns their paths) and then sends the saved message through Airflow's SMTP connection. The CLI
and ``make demo`` call :func:`run_daily_report`, which does the same and sends with :func:`send_via_smtp`.

Files, under ``REPORTS_DIR`` (default ``LOCAL_DIR/reports``)::

    <reports dir>/<YYYY-MM-DD>/risk-report-<portfolio>-<YYYY-MM-DD>.html   self-contained (charts inline)
    <reports dir>/<YYYY-MM-DD>/risk-report-<portfolio>-<YYYY-MM-DD>.pdf
    <reports dir>/<YYYY-MM-DD>/risk-report-<portfolio>-<YYYY-MM-DD>.txt   the text part
    <reports dir>/<YYYY-MM-DD>/risk-report-<portfolio>-<YYYY-MM-DD>.eml   the e-mail, ready to send

Re-running a date over the same data rewrites the same bytes (files are replaced atomically).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import psycopg
from psycopg import IsolationLevel

from cryptoderiv.config import Settings, get_settings
from cryptoderiv.reports.content import DailyReport, Section
from cryptoderiv.reports.mail import build_message, load_message, pdf_filename, send_via_smtp
from cryptoderiv.reports.pdf import render_pdf
from cryptoderiv.reports.render import render_html, render_text
from cryptoderiv.reports.sections import risk
from cryptoderiv.reports.sections.expected_returns import expected_returns_section
from cryptoderiv.reports.sections.forecasts import forecasts_section
from cryptoderiv.reports.sections.greeks import greeks_section
from cryptoderiv.reports.sections.models import models_section
from cryptoderiv.reports.sections.quality import quality_section
from cryptoderiv.reports.sections.stress import stress_section
from cryptoderiv.reports.sections.surface import surface_section

log = logging.getLogger(__name__)

SectionBuilder = Callable[[psycopg.Connection, date, str], Section]

SECTIONS: tuple[tuple[str, str, SectionBuilder], ...] = (
    ("var", "Value at risk and expected shortfall", risk.var_section),
    ("var_backtest", "VaR backtests", risk.backtest_section),
    ("greeks", "Portfolio greeks", greeks_section),
    ("stress", "Stress tests", stress_section),
    ("expected_returns", "Expected return per position", expected_returns_section),
    ("surface", "Volatility surface", lambda conn, day, _: surface_section(conn, day)),
    ("forecasts", "Forecasts vs realised", lambda conn, day, _: forecasts_section(conn, day)),
    ("quality", "Data quality", lambda conn, day, _: quality_section(conn, day)),
    ("models", "Model status", lambda conn, day, _: models_section(conn, day)),
)
"""(key, title, builder) in report order."""


@dataclass(frozen=True)
class ReportFiles:
    """Where a built report was written (the only thing passed between Airflow tasks)."""

    report_date: date
    portfolio: str
    html: Path
    pdf: Path
    text: Path
    message: Path

    def as_xcom(self) -> dict[str, str]:
        """Plain strings for XCom: the date, the portfolio and the four paths."""
        return {"report_date": self.report_date.isoformat(), "portfolio": self.portfolio, "html": str(self.html),
                "pdf": str(self.pdf), "text": str(self.text), "message": str(self.message)}

    @classmethod
    def from_xcom(cls, value: dict[str, str]) -> ReportFiles:
        """Inverse of :meth:`as_xcom`."""
        return cls(date.fromisoformat(value["report_date"]), value["portfolio"], Path(value["html"]),
                   Path(value["pdf"]), Path(value["text"]), Path(value["message"]))


def gather_report(conn: psycopg.Connection, report_date: date, portfolio: str) -> DailyReport:
    """Read every section of the report for ``report_date`` (a UTC calendar date).

    All sections read one consistent snapshot (a read-only REPEATABLE READ transaction). A section whose
    query fails (for instance a table that changed shape) is shown with the error instead of stopping the
    report, and the error is logged; a section without data shows one readable line.

    Parameters
    ----------
    conn : psycopg.Connection
        A connection that is not in a transaction (it is rolled back at the end; nothing is written).
    report_date : datetime.date
        The report date; every section uses its latest figures on or before it.
    portfolio : str
        Portfolio name of the risk tables.
    """
    conn.rollback()
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    sections: list[Section] = []
    try:
        headline = _headline(conn, report_date, portfolio)
        for key, title, builder in SECTIONS:
            try:
                with conn.transaction():
                    sections.append(builder(conn, report_date, portfolio))
            except psycopg.Error as exc:
                log.exception("report section %s failed for %s / %s", key, portfolio, report_date)
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                sections.append(Section(key, title, (f"This section could not be built: {reason}",)))
    finally:
        conn.rollback()
        conn.read_only = False
        conn.isolation_level = None
    return DailyReport(report_date, portfolio, tuple(sections), headline)


def _headline(conn: psycopg.Connection, report_date: date, portfolio: str) -> tuple[tuple[str, str], ...]:
    try:
        with conn.transaction():
            return risk.headline(conn, report_date, portfolio)
    except psycopg.Error:
        log.exception("report headline failed for %s / %s", portfolio, report_date)
        return ()


def report_dir(report_date: date, settings: Settings | None = None) -> Path:
    """``<reports dir>/<YYYY-MM-DD>``."""
    settings = settings or get_settings()
    return settings.resolved_reports_dir / report_date.isoformat()


def _write_atomic(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_report(report: DailyReport, settings: Settings | None = None, out_dir: Path | None = None) -> ReportFiles:
    """Render ``report`` (HTML with inline charts, text, PDF, the e-mail) and write the four files.

    Parameters
    ----------
    report : DailyReport
        A gathered report.
    settings : Settings, optional
        Reports folder, sender and recipients; default the platform settings.
    out_dir : pathlib.Path, optional
        Folder for the files; default :func:`report_dir`.
    """
    settings = settings or get_settings()
    folder = out_dir or report_dir(report.report_date, settings)
    stem = Path(pdf_filename(report)).stem
    pdf = render_pdf(report)
    message = build_message(report, pdf, settings)
    files = ReportFiles(report.report_date, report.portfolio, folder / f"{stem}.html", folder / f"{stem}.pdf",
                        folder / f"{stem}.txt", folder / f"{stem}.eml")
    _write_atomic(files.html, render_html(report).encode("utf-8"))
    _write_atomic(files.pdf, pdf)
    _write_atomic(files.text, render_text(report).encode("utf-8"))
    _write_atomic(files.message, message.as_bytes())
    log.info("report %s / %s written to %s", report.portfolio, report.report_date, folder)
    return files


def build_daily_report(database_url: str, report_date: date, portfolio: str | None = None,
                       settings: Settings | None = None, out_dir: Path | None = None) -> ReportFiles:
    """Gather the report of ``report_date`` from the database and write its files.

    Parameters
    ----------
    database_url : str
        libpq URL of the platform database.
    report_date : datetime.date
        UTC calendar date of the report.
    portfolio : str, optional
        Default ``REPORT_PORTFOLIO``.
    settings : Settings, optional
        Default the platform settings.
    out_dir : pathlib.Path, optional
        Default ``<reports dir>/<date>``.

    Returns
    -------
    ReportFiles
        Paths of the HTML, PDF, text and ``.eml`` files.

    Raises
    ------
    DatabaseError
        The database cannot be reached.
    """
    from cryptoderiv.storage.database import connect

    settings = settings or get_settings()
    portfolio = portfolio or settings.report_portfolio
    with connect(database_url) as conn:
        report = gather_report(conn, report_date, portfolio)
    return write_report(report, settings, out_dir)


def send_report_files(files: ReportFiles, settings: Settings | None = None) -> list[str]:
    """Send the saved e-mail of a built report with :func:`send_via_smtp`; returns the accepted recipients."""
    return send_via_smtp(load_message(files.message), settings)


def run_daily_report(report_date: date, *, portfolio: str | None = None, settings: Settings | None = None,
                     send: bool = True) -> ReportFiles:
    """Build the report of ``report_date`` from the platform database and (by default) send it through
    the settings' SMTP server. What ``cryptoderiv report build`` and ``make demo`` run.

    Parameters
    ----------
    report_date : datetime.date
        UTC calendar date.
    portfolio : str, optional
        Default ``REPORT_PORTFOLIO``.
    settings : Settings, optional
        Default the platform settings (database, reports folder, SMTP server, recipients).
    send : bool, default True
        Send the e-mail after writing the files.

    Returns
    -------
    ReportFiles
        ``.html`` and ``.pdf`` (and ``.txt``, ``.eml``) paths.

    Raises
    ------
    DatabaseError
        The database cannot be reached.
    ReportDeliveryError
        ``send`` and the SMTP server cannot be reached or refuses the mail (the files are written).
    """
    from cryptoderiv.storage.database import ensure_database

    settings = settings or get_settings()
    files = build_daily_report(ensure_database(settings), report_date, portfolio, settings)
    if send:
        send_report_files(files, settings)
    return files

