"""The ingestion pipelines: one exchange dataset for one window into the published tables.

Every pipeline has the same five steps, so each DAG task and each CLI command is one call:

1. fetch through :mod:`cryptoderiv.exchanges` (ccxt, retries, pagination, normalisation);
2. land the raw responses as Parquet under the run's path (:mod:`~cryptoderiv.ingest.landing`);
3. map the normalised frame to the table's columns;
4. publish through the storage writer (contract-checked, idempotent upsert, all or nothing);
5. record the run in ``ingest_runs``.

Windows are ``[start, end)`` in UTC and come from the caller (the DAG's data interval): re-running or
backfilling a window publishes the same rows. A fetch that fails (after the exchange layer's retries)
or a batch that breaks a contract raises, and nothing of that batch is published.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cryptoderiv.config import get_settings
from cryptoderiv.errors import ContractViolation
from cryptoderiv.exchanges import fetch as exchange_fetch
from cryptoderiv.exchanges.fetch import FetchResult
from cryptoderiv.ingest.catalog import CATALOG_COLUMNS, CatalogChange, active_symbols, sync_instruments
from cryptoderiv.ingest.landing import land_raw
from cryptoderiv.ingest.runs import IngestRun, record_run
from cryptoderiv.storage import write_frame
from cryptoderiv.storage.database import connect

log = logging.getLogger(__name__)

# Columns of the normalised frames that describe the instrument, not the observation: they live in
# `instruments`, which the rows reference through (exchange, symbol).
INSTRUMENT_ATTRIBUTES = ("underlying", "expiry", "strike", "option_type", "kind")


@dataclass(frozen=True)
class IngestSummary:
    """What one pipeline run did (returned to the DAG task, shown by the CLI)."""

    dataset: str
    exchange: str
    table: str
    rows_fetched: int
    rows_changed: int
    missing: int = 0                 # grid points the venue did not return (histories)
    duplicates: int = 0              # rows received twice and dropped
    retries: int = 0                 # HTTP requests retried by the exchange layer
    landing_path: str | None = None
    catalog: CatalogChange | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _source() -> str:
    return get_settings().exchange_source.value


def _publish(url: str, dataset: str, exchange: str, table: str, result: FetchResult, run_id: str,
             start: pd.Timestamp, end: pd.Timestamp) -> IngestSummary:
    started = pd.Timestamp.now(tz="UTC")  # lineage only; the data window comes from the caller
    path = land_raw(result.raw, dataset, run_id, exchange)
    frame = result.frame.drop(columns=[c for c in INSTRUMENT_ATTRIBUTES if c in result.frame.columns])
    with connect(url) as conn:
        written = write_frame(conn, table, frame)
        record_run(conn, IngestRun(
            run_id=run_id, dataset=dataset, exchange=exchange, source=_source(), window_start=start,
            window_end=end, started_at=started, finished_at=pd.Timestamp.now(tz="UTC"), landing_path=path,
            rows_written={table: written.rows_changed},
        ))
        conn.commit()
    summary = IngestSummary(dataset, exchange, table, len(frame), written.rows_changed, result.missing,
                            result.duplicates, result.stats.retries, str(path))
    log.info("%s %s: %d rows fetched, %d changed, %d missing, %d retries", dataset, exchange,
             summary.rows_fetched, summary.rows_changed, summary.missing, summary.retries)
    return summary


def _window(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if lo.tzinfo is None or hi.tzinfo is None:
        raise ValueError(f"window bounds must be timezone-aware UTC times, got {start!r} and {end!r}")
    lo, hi = lo.tz_convert("UTC"), hi.tz_convert("UTC")
    if hi <= lo:
        raise ValueError(f"empty window: end {hi} is not after start {lo}")
    return lo, hi


def sync_catalog(url: str, exchange: str, run_id: str, as_of: Any,
                 kinds: Sequence[str] | None = None, **client: Any) -> IngestSummary:
    """Fetch the venue's instruments (``load_markets``) and sync ``instruments`` as of ``as_of``."""
    as_of_ts = pd.Timestamp(as_of).tz_convert("UTC")
    result = exchange_fetch.fetch_instruments(exchange, kinds=kinds, **client)
    path = land_raw(result.raw, "instruments", run_id, exchange)
    listing = result.frame.loc[:, list(CATALOG_COLUMNS)]
    with connect(url) as conn:
        change = sync_instruments(conn, exchange, listing, as_of_ts, kinds)
        record_run(conn, IngestRun(
            run_id=run_id, dataset="instruments", exchange=exchange, source=_source(),
            window_start=as_of_ts - pd.Timedelta(days=1), window_end=as_of_ts,
            started_at=pd.Timestamp.now(tz="UTC"), finished_at=pd.Timestamp.now(tz="UTC"), landing_path=path,
            rows_written={"instruments": change.listed}))
        conn.commit()
    return IngestSummary("instruments", exchange, "instruments", len(listing), change.listed,
                         retries=result.stats.retries, landing_path=str(path), catalog=change)


def ingest_ohlcv(url: str, exchange: str, symbols: str | Sequence[str], timeframe: str, start: Any, end: Any,
                 run_id: str, **client: Any) -> IngestSummary:
    """Candles with open time in ``[start, end)`` into ``ohlcv``."""
    lo, hi = _window(start, end)
    result = exchange_fetch.fetch_ohlcv(exchange, symbols, timeframe, lo, hi, **client)
    return _publish(url, "ohlcv", exchange, "ohlcv", result, run_id, lo, hi)


def ingest_funding(url: str, exchange: str, symbols: str | Sequence[str], start: Any, end: Any,
                   run_id: str, **client: Any) -> IngestSummary:
    """Funding-rate history in ``[start, end)`` into ``funding_rates``."""
    lo, hi = _window(start, end)
    result = exchange_fetch.fetch_funding_history(exchange, symbols, lo, hi, **client)
    return _publish(url, "funding", exchange, "funding_rates", result, run_id, lo, hi)


def ingest_open_interest(url: str, exchange: str, symbols: str | Sequence[str], start: Any, end: Any,
                         run_id: str, history: bool = True, **client: Any) -> IngestSummary:
    """Open interest in ``[start, end)`` into ``open_interest``; ``history=False`` stores the venue's
    current figure instead (Deribit publishes no history)."""
    lo, hi = _window(start, end)
    if history:
        result = exchange_fetch.fetch_open_interest(exchange, symbols, lo, hi, **client)
    else:
        result = exchange_fetch.fetch_open_interest(exchange, symbols, **client)
    return _publish(url, "open_interest", exchange, "open_interest", result, run_id, lo, hi)


def ingest_futures_quotes(url: str, exchange: str, underlying: str, start: Any, end: Any, run_id: str,
                          **client: Any) -> IngestSummary:
    """A snapshot of the marks, index and basis of the underlying's active perpetuals and dated futures
    (from the catalog) into ``futures_quotes``."""
    lo, hi = _window(start, end)
    with connect(url) as conn:
        symbols = active_symbols(conn, exchange, ["perpetual", "future"], underlying)
    if not symbols:
        raise ContractViolation(f"{exchange}: no active {underlying} futures in the catalog; sync instruments first")
    result = exchange_fetch.fetch_futures_quotes(exchange, symbols, **client)
    return _publish(url, "futures_quotes", exchange, "futures_quotes", result, run_id, lo, hi)


def ingest_option_chain(url: str, exchange: str, underlying: str, start: Any, end: Any, run_id: str,
                        expiries: int | None = None, **client: Any) -> IngestSummary:
    """A chain snapshot (exchange mark IV and greeks) into ``option_quotes``; new listings are synced first."""
    lo, hi = _window(start, end)
    sync_catalog(url, exchange, run_id, hi, kinds=["option"], **client)
    result = exchange_fetch.fetch_option_chain(exchange, underlying, expiries=expiries, **client)
    return _publish(url, "option_chain", exchange, "option_quotes", result, run_id, lo, hi)


PIPELINES: dict[str, Callable[..., IngestSummary]] = {
    "ohlcv": ingest_ohlcv,
    "funding": ingest_funding,
    "open-interest": ingest_open_interest,
    "futures-quotes": ingest_futures_quotes,
    "option-chain": ingest_option_chain,
}
