"""``cryptoderiv report``: build the daily risk report and, on request, e-mail it.

Example::

    cryptoderiv report build --date 2026-11-22 --send

writes ``REPORTS_DIR/2026-11-22/risk-report-<portfolio>-2026-11-22.{html,pdf,txt,eml}`` from the platform
database and, with ``--send``, mails it to ``REPORT_RECIPIENTS`` through ``SMTP_HOST:SMTP_PORT``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from cryptoderiv.errors import ConfigurationError

app = typer.Typer(help="The daily risk report (HTML e-mail with a PDF).", no_args_is_help=True,
                  pretty_exceptions_enable=False)


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(f"--date must be an ISO date (YYYY-MM-DD), got {value!r}") from exc


@app.command()
def build(
    report_date: Annotated[str | None, typer.Option("--date", help="UTC date of the report (default: today).")] = None,
    portfolio: Annotated[str | None, typer.Option("--portfolio", help="Default: REPORT_PORTFOLIO.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Default: REPORTS_DIR/<date>.")] = None,
    send: Annotated[bool, typer.Option("--send/--no-send", help="E-mail it through SMTP_HOST:SMTP_PORT.")] = False,
) -> None:
    """Build the report from the database, write its files, optionally send it; print the file paths."""
    from cryptoderiv.config import get_settings
    from cryptoderiv.reports.daily import build_daily_report, send_report_files
    from cryptoderiv.reports.mail import recipients
    from cryptoderiv.storage.database import ensure_database

    settings = get_settings()
    day = _parse_date(report_date) if report_date else datetime.now(UTC).date()
    files = build_daily_report(ensure_database(settings), day, portfolio, settings, out_dir)
    typer.echo(f"html: {files.html}")
    typer.echo(f"pdf:  {files.pdf}")
    typer.echo(f"eml:  {files.message}")
    if send:
        accepted = send_report_files(files, settings)
        typer.echo(f"sent to {', '.join(accepted) or '(nobody)'} via {settings.smtp_host}:{settings.smtp_port}")
    else:
        typer.echo(f"not sent (use --send to mail it to {', '.join(recipients(settings))})")
