"""``cryptoderiv alerts``: the ``alert_rules`` table (read by the sidecar and by the pipeline's DQ and failure
alerts) and the alerts raised lately."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from cryptoderiv.storage.database import connect, ensure_database

app = typer.Typer(no_args_is_help=True)


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(help="YAML rules file (see streaming/alert_rules.yaml).")],
    check: Annotated[bool, typer.Option("--check", help="Validate only; write nothing.")] = False,
) -> None:
    """Validate FILE and upsert its rules into alert_rules by name (all or nothing; errors name the rule)."""
    from cryptoderiv.alerts.rules import load_rules_yaml, save_rules_db

    rules = load_rules_yaml(file)
    if check:
        typer.echo(f"{file}: {len(rules)} rules, valid")
        return
    with connect(ensure_database()) as conn:
        n = save_rules_db(conn, rules)
        conn.commit()
    typer.echo(f"{n} rules loaded into alert_rules from {file}: {', '.join(r.name for r in rules)}")


@app.command("list")
def list_rules(
    recent: Annotated[int, typer.Option("--recent", help="Also show the newest N alerts.")] = 0,
) -> None:
    """The enabled rules of alert_rules (and, with --recent, the newest alerts)."""
    from cryptoderiv.alerts.rules import load_rules_db

    with connect(ensure_database()) as conn:
        rules = load_rules_db(conn)
        for r in rules:
            typer.echo(f"{r.name:<32} {r.kind:<16} {r.severity:<8} cool-down {r.cooldown_s:>6.0f} s  "
                       f"{','.join(r.channels)}")
        if not rules:
            typer.echo("no rules in alert_rules (the sidecar's YAML and the built-in DQ/failure rules apply)")
        if recent > 0:
            rows = conn.execute("SELECT fired_at, severity, kind, subject, message FROM alerts"
                                " ORDER BY fired_at DESC, alert_id DESC LIMIT %s", (recent,)).fetchall()
            for fired_at, severity, kind, subject, message in rows:
                when = fired_at.astimezone(dt.UTC)
                typer.echo(f"{when:%Y-%m-%d %H:%M:%S}Z {severity:<8} {kind:<16} {subject}: {message}")
