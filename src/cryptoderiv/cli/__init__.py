"""The ``cryptoderiv`` command: the one entry point for people.

Each command group lives in its own module and is mounted here. Errors raised as
:class:`cryptoderiv.errors.CryptoderivError` are shown as one line with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from cryptoderiv.cli import alerts as alert_commands
from cryptoderiv.cli import db as db_commands
from cryptoderiv.cli import ingest as ingest_commands
from cryptoderiv.cli import portfolio as portfolio_commands
from cryptoderiv.cli import report as report_commands
from cryptoderiv.cli import simulator as simulator_commands
from cryptoderiv.cli import stack as stack_commands
from cryptoderiv.cli import stream as stream_commands
from cryptoderiv.cli.demo import demo
from cryptoderiv.errors import CryptoderivError

app = typer.Typer(
    name="cryptoderiv",
    help="Data and analytics platform for crypto spot, futures and options markets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_commands.app, name="db", help="Manage the database: local cluster and migrations.")
app.add_typer(simulator_commands.app, name="simulator", help="The local exchange simulator.")
app.add_typer(ingest_commands.app, name="ingest", help="Load exchange data into the tables.")
app.add_typer(portfolio_commands.app, name="portfolio", help="Portfolios: import positions, compute risk.")
app.add_typer(report_commands.app, name="report", help="The daily risk report: build, write, e-mail.")
app.add_typer(stack_commands.app, name="stack", help="The local stack (make up/down/status): start, probe, stop.")
app.add_typer(stack_commands.mail_app, name="mail", help="The local SMTP catcher with a web view.")
app.add_typer(stream_commands.app, name="stream", help="The streaming sidecar: live ticks, WebSocket, alerts.")
app.add_typer(alert_commands.app, name="alerts", help="Alert rules (alert_rules) and recent alerts.")
app.command(name="demo")(demo)


def main() -> None:
    """Run the CLI; turn library errors into one readable line and exit code 1."""
    try:
        app()
    except CryptoderivError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
