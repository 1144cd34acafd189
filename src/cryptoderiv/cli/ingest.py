"""``cryptoderiv ingest``: the library functions the DAGs call, for data engineers at a terminal.

Windows are ``[--start, --end)`` in UTC. Long windows are loaded in chunks (``--chunk-hours``) with a
progress bar; every chunk is idempotent, so an interrupted command can simply be run again.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cryptoderiv.config import ExchangeSource
from cryptoderiv.ingest import pipelines
from cryptoderiv.ingest.pipelines import IngestSummary
from cryptoderiv.storage.database import ensure_database

app = typer.Typer(no_args_is_help=True)

Exchange = Annotated[str, typer.Option("--exchange", "-e", help="binance, bybit or deribit.")]
Start = Annotated[str, typer.Option("--start", help="Window start, UTC (e.g. 2026-11-01T00:00Z).")]
End = Annotated[str, typer.Option("--end", help="Window end (exclusive), UTC.")]
Source = Annotated[ExchangeSource | None, typer.Option("--source", help="simulator or live (default: settings).")]
SimulatorUrl = Annotated[str | None, typer.Option("--simulator-url", help="Simulator base URL (default: settings).")]
ChunkHours = Annotated[int, typer.Option("--chunk-hours", min=1, help="Hours loaded per step.")]


def _utc(text: str, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a time", param_hint=name) from exc
    if ts.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no time zone; write it in UTC, e.g. 2026-11-01T00:00Z",
                                 param_hint=name)
    return ts.tz_convert("UTC")


def _client(source: ExchangeSource | None, simulator_url: str | None) -> dict[str, Any]:
    client: dict[str, Any] = {}
    if source:
        client["source"] = source.value
    if simulator_url:
        client["simulator_url"] = simulator_url
    return client


def _run_chunks(dataset: str, start: str, end: str, chunk_hours: int,
                call: Callable[[str, pd.Timestamp, pd.Timestamp, str], IngestSummary]) -> None:
    lo, hi = _utc(start, "--start"), _utc(end, "--end")
    if hi <= lo:
        raise typer.BadParameter("--end must be after --start", param_hint="--end")
    edges = [*pd.date_range(lo, hi, freq=f"{chunk_hours}h", inclusive="left"), hi]
    run_id = f"cli__{dataset}__{lo:%Y%m%dT%H%M}__{hi:%Y%m%dT%H%M}"
    url = ensure_database()
    fetched = changed = missing = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task = progress.add_task(f"{dataset} {lo:%Y-%m-%d %H:%M} .. {hi:%Y-%m-%d %H:%M}", total=len(edges) - 1)
        for a, b in pairwise(edges):
            summary = call(url, a, b, run_id)
            fetched, changed, missing = fetched + summary.rows_fetched, changed + summary.rows_changed, \
                missing + summary.missing
            progress.advance(task)
    typer.echo(f"{dataset}: {fetched} rows fetched, {changed} inserted or changed, {missing} missing; run {run_id}")


@app.command()
def ohlcv(exchange: Exchange, start: Start, end: End,
          symbol: Annotated[list[str], typer.Option("--symbol", "-s", help="CCXT symbol; repeat for several.")],
          timeframe: Annotated[str, typer.Option("--timeframe", help="Candle length.")] = "1m",
          source: Source = None, simulator_url: SimulatorUrl = None, chunk_hours: ChunkHours = 6) -> None:
    """Candles with open time in [start, end) into ohlcv."""
    client = _client(source, simulator_url)
    _run_chunks("ohlcv", start, end, chunk_hours, lambda url, a, b, run: pipelines.ingest_ohlcv(
        url, exchange, symbol, timeframe, a, b, run, **client))


@app.command()
def funding(exchange: Exchange, start: Start, end: End,
            symbol: Annotated[list[str], typer.Option("--symbol", "-s", help="Perpetual; repeat for several.")],
            source: Source = None, simulator_url: SimulatorUrl = None, chunk_hours: ChunkHours = 24) -> None:
    """Funding-rate history in [start, end) into funding_rates."""
    client = _client(source, simulator_url)
    _run_chunks("funding", start, end, chunk_hours, lambda url, a, b, run: pipelines.ingest_funding(
        url, exchange, symbol, a, b, run, **client))


@app.command("open-interest")
def open_interest(exchange: Exchange, start: Start, end: End,
                  symbol: Annotated[list[str], typer.Option("--symbol", "-s", help="Perpetual; repeat.")],
                  source: Source = None, simulator_url: SimulatorUrl = None, chunk_hours: ChunkHours = 24) -> None:
    """Open-interest history in [start, end) into open_interest (Deribit: the current figure)."""
    client = _client(source, simulator_url)
    history = exchange != "deribit"
    _run_chunks("open_interest", start, end, chunk_hours, lambda url, a, b, run: pipelines.ingest_open_interest(
        url, exchange, symbol, a, b, run, history=history, **client))


@app.command("option-chain")
def option_chain(exchange: Exchange, start: Start, end: End,
                 underlying: Annotated[str, typer.Option("--underlying", "-u", help="Base coin, e.g. BTC.")],
                 expiries: Annotated[int | None, typer.Option("--expiries", help="Nearest N expiries only.")] = None,
                 source: Source = None, simulator_url: SimulatorUrl = None) -> None:
    """One chain snapshot (labelled with the window [start, end)) into option_quotes."""
    client = _client(source, simulator_url)
    lo, hi = _utc(start, "--start"), _utc(end, "--end")
    _run_chunks("option_chain", start, end, max(1, int((hi - lo) / pd.Timedelta(hours=1)) + 1),
                lambda url, a, b, run: pipelines.ingest_option_chain(
                    url, exchange, underlying, a, b, run, expiries=expiries, **client))


@app.command()
def instruments(exchange: Exchange,
                as_of: Annotated[str, typer.Option("--as-of", help="As-of time of the sync, UTC.")],
                source: Source = None, simulator_url: SimulatorUrl = None) -> None:
    """Sync the venue's instrument catalog into instruments."""
    ts = _utc(as_of, "--as-of")
    summary = pipelines.sync_catalog(ensure_database(), exchange, f"cli__instruments__{ts:%Y%m%dT%H%M}", ts,
                                     **_client(source, simulator_url))
    change = summary.catalog
    assert change is not None
    typer.echo(f"{exchange}: {change.listed} listed, {change.new} new, {change.delisted} delisted")
