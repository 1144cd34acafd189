"""``cryptoderiv portfolio``: load portfolios into the ``positions`` table and compute their risk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoderiv.storage.database import ensure_database

app = typer.Typer(no_args_is_help=True)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="YAML or CSV portfolio file (see examples/portfolio.yaml).")],
    name: Annotated[str | None, typer.Option("--name", help="Portfolio name (default: from the file).")] = None,
    check: Annotated[bool, typer.Option("--check", help="Validate only; write nothing.")] = False,
) -> None:
    """Validate FILE and replace the portfolio's rows in the positions table (errors name the line)."""
    from cryptoderiv.portfolio.loader import load_portfolio_file
    from cryptoderiv.risk.jobs import import_portfolio

    portfolio = load_portfolio_file(file, name)
    if check:
        typer.echo(f"{file}: portfolio {portfolio.name}, {len(portfolio)} positions, valid")
        return
    n = import_portfolio(ensure_database(), file, name)
    typer.echo(f"portfolio {portfolio.name}: {n} positions imported from {file}")


@app.command("risk")
def risk(
    portfolio: Annotated[str, typer.Argument(help="Portfolio name in the positions table.")],
    as_of: Annotated[str, typer.Option("--as-of", help="UTC day, e.g. 2026-11-24.")],
) -> None:
    """Compute and store greeks, VaR/ES, stress, expected returns and payoff curves for one day."""
    from cryptoderiv.risk.jobs import compute_risk

    run = compute_risk(ensure_database(), portfolio, as_of)
    for f in run.figures:
        label = " (comparison)" if f.method == "parametric" else ""
        typer.echo(f"{f.method:>10}{label} {f.horizon_days:>2}d {100 * f.level:.0f}%: VaR {f.var_usd:>12,.0f} USD"
                   f"  ES {f.es_usd:>12,.0f} USD")
    for note in run.notes:
        typer.echo(f"note: {note}")
