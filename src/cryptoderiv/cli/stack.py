"""``cryptoderiv stack up|down|status`` (``make up``/``down``/``status``) and ``cryptoderiv mail serve``.

``up`` starts PostgreSQL (the local cluster, unless ``DATABASE_URL``), the exchange simulator (unless
``EXCHANGE_SOURCE=live``), the mail catcher, MLflow, the streaming sidecar and the dashboard (when they
exist and are built) and Airflow, waits until each answers its health endpoint and prints where they
are. ``down`` stops exactly what ``up`` started (``LOCAL_DIR/stack/pids.json``). Exit codes: ``up`` 1
when a service failed or stayed unhealthy; ``status`` 3 when a service this stack started is not
healthy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cryptoderiv.config import get_settings

if TYPE_CHECKING:
    from cryptoderiv.stack.supervisor import ServiceReport

app = typer.Typer(no_args_is_help=True)
mail_app = typer.Typer(no_args_is_help=True)

COLOURS = {"healthy": typer.colors.GREEN, "external": typer.colors.GREEN, "unavailable": typer.colors.YELLOW,
           "stopped": typer.colors.WHITE, "started": typer.colors.YELLOW, "unhealthy": typer.colors.RED,
           "failed": typer.colors.RED}


def _table(reports: list[ServiceReport]) -> None:
    for r in reports:
        timing = f" ({r.seconds:.1f} s)" if r.seconds is not None else ""
        pid = f" pid {r.pid}" if r.pid else ""
        line = f"  {r.name:<11} {r.url:<34} "
        typer.echo(line, nl=False)
        typer.secho(f"{r.state.value:<11}", fg=COLOURS.get(r.state.value), nl=False)
        typer.echo(f"{pid}{timing}{'  ' + r.detail if r.detail else ''}")


def _progress(message: str) -> None:
    typer.secho(f"· {message}", dim=True, err=True)


@app.command()
def up(quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final table.")] = False) -> None:
    """Start the stack and wait until every service is healthy."""
    import time

    from cryptoderiv.stack.supervisor import ServiceState, Stack

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    began = time.monotonic()
    stack = Stack(get_settings())
    reports = stack.up(progress=(lambda _: None) if quiet else _progress)
    typer.echo(f"stack ({time.monotonic() - began:.1f} s; pids in {stack.pids_file}, logs in {stack.log_dir}):")
    _table(reports)
    if any(r.state in {ServiceState.FAILED, ServiceState.UNHEALTHY} for r in reports):
        typer.secho("some services did not come up: see their logs; 'cryptoderiv stack down' stops the rest",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)


@app.command()
def status() -> None:
    """Print each service's URL and health."""
    from cryptoderiv.stack.supervisor import ServiceState, Stack

    stack = Stack(get_settings())
    reports = stack.status()
    _table(reports)
    recorded = stack.recorded()
    if any(r.name in recorded and r.state is not ServiceState.HEALTHY for r in reports):
        raise typer.Exit(code=3)


@app.command()
def down() -> None:
    """Stop exactly what 'up' started (by process group), PostgreSQL last if 'up' started it."""
    from cryptoderiv.stack.supervisor import ServiceState, Stack

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    reports = Stack(get_settings()).down(progress=_progress)
    if not reports:
        typer.echo("nothing to stop (no services recorded by 'up')")
        return
    _table(reports)
    if any(r.state is ServiceState.FAILED for r in reports):
        raise typer.Exit(code=1)


@mail_app.command()
def serve(
    smtp_port: Annotated[int, typer.Option(help="SMTP port (0: any free port).", min=0, max=65535)] = 1025,
    web_port: Annotated[int, typer.Option(help="Port of the web view (0: any free port).", min=0, max=65535)] = 8025,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    directory: Annotated[Path | None, typer.Option("--dir", help="Where messages are stored (.eml).")] = None,
) -> None:
    """Catch every message sent to SMTP_PORT and show them on a small web page."""
    from cryptoderiv.stack.mailcatcher import MailCatcher, serve_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    catcher = MailCatcher(directory or get_settings().local_dir / "mail", host, smtp_port, web_port)
    serve_forever(catcher, on_ready=lambda c: typer.echo(
        f"mail catcher: SMTP {c.host}:{c.smtp_port}, web http://{c.host}:{c.web_port} "
        f"(messages in {c.store.directory})"))
