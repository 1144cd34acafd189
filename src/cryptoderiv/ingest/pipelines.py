"""The ingestion pipelines: one exchange dataset for one window into the published tables.

Every pipeline has the same five steps, so each DAG task and each CLI command is one call:

1. fetch through :mod:`cryptoderiv.exchanges` (ccxt, retries, pagination, normalisation);
2. land the raw responses as Parquet under the run's path (:mod:`~cryptoderiv.ingest.landing`);
3. map the normalised frame to the table's columns;
4. write, audit, publish through the quality gate (:func:`cryptoderiv.quality.gate.audit_and_publish`):
   rows failing a hard rule go to ``quarantine`` with the rule and what it saw, the rest is published
   by the storage writer (contract-checked, idempotent upsert) in the same transaction, every rule's
   verdict lands in ``dq_results`` and the batch's Data Docs are built;
5. record the run in ``ingest_runs``, commit, then raise a ``dq_failure`` alert per failed expectation
   (:func:`cryptoderiv.quality.gate.alert_failures`; at most once per batch id).

Windows are ``[start, end)`` in UTC and come from the caller (the DAG's data interval): re-running or
backfilling a window publishes the same rows. A fetch that fails (after the exchange layer's retries)
or a batch that fails a batch-level rule raises, and nothing of that batch is published. Snapshot
datasets (option chains, futures quotes) are dated by the venue: see :func:`snapshot_time`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cryptoderiv.config import get_settings
from cryptoderiv.errors import ContractViolation
from cryptoderiv.exchanges import fetch as exchange_fetch
from cryptoderiv.exchanges.fetch import FetchResult
from cryptoderiv.ingest.catalog import CATALOG_COLUMNS, CatalogChange, active_symbols, sync_instruments
from cryptoderiv.ingest.landing import land_raw
from cryptoderiv.ingest.runs import IngestRun, record_run
from cryptoderiv.storage.database import connect

if TYPE_CHECKING:
    from cryptoderiv.quality.gate import GateResult, Notifier

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
    quality: GateResult | None = None  # what the quality gate did with the batch
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_quarantined(self) -> int:
        """Rows the quality gate kept out of the table (in ``quarantine`` with their reasons)."""
        return self.quality.rows_quarantined if self.quality else 0

    @property
    def data_docs(self) -> str | None:
        """The batch's Data Docs (offline HTML), when built."""
        return str(self.quality.docs_path) if self.quality and self.quality.docs_path else None

    def outcome(self) -> dict[str, Any]:
        """What a DAG task returns (its XCom): counts and the Data Docs as a ``file://`` link."""
        docs = self.data_docs
        return {"rows": self.rows_fetched, "changed": self.rows_changed, "quarantined": self.rows_quarantined,
                "missing": self.missing, "data_docs": Path(docs).as_uri() if docs else None}


def _source() -> str:
    return get_settings().exchange_source.value


#: Tables whose batches are snapshots of the venue's current state rather than histories over a window.
SNAPSHOT_TABLES = frozenset({"option_quotes", "futures_quotes"})


def snapshot_time(venue_ts: pd.Series) -> pd.Timestamp:
    """The time of a snapshot: the median of the venue's own timestamps of its rows, to the millisecond.

    The venue's clock, not ours, so that a snapshot replayed or taken against a simulator with its own
    clock is consistent; the median, so that one quote with a wrong timestamp cannot move it. Every row
    of the snapshot carries it as ``ts``; each row's venue time is kept as ``quote_ts``, and the quality
    gate measures staleness as ``ts - quote_ts``.
    """
    stamps = pd.to_datetime(venue_ts, utc=True).dropna()
    if stamps.empty:
        raise ContractViolation("a snapshot without any venue timestamp cannot be dated")
    return pd.Timestamp(stamps.median()).floor("ms")


def gate_batch(table: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[pd.Timestamp, pd.Timestamp] | None]:
    """The normalised frame in the gate's input contract (:mod:`cryptoderiv.quality.frames`).

    Instrument attributes stay for the rules (``underlying`` becomes ``base``); the gate drops them
    before publishing. For a snapshot table the rows are stamped with :func:`snapshot_time` and the
    returned window is the snapshot's instant ``[ts, ts + 1 s)``; for histories it is ``None`` (the
    caller's window applies).
    """
    batch = frame.drop(columns=[c for c in ("kind",) if c in frame.columns]).rename(columns={"underlying": "base"})
    if table == "futures_quotes":
        batch = batch.drop(columns=["base"], errors="ignore")  # joined from the catalog
    if table not in SNAPSHOT_TABLES or batch.empty:
        return batch, None
    taken = snapshot_time(batch["ts"])
    batch["quote_ts"] = batch["ts"]
    batch["ts"] = taken
    return batch, (taken, taken + pd.Timedelta(seconds=1))


def _publish(url: str, dataset: str, exchange: str, table: str, result: FetchResult, run_id: str,
             start: pd.Timestamp, end: pd.Timestamp, subject: str, notify: Notifier | None) -> IngestSummary:
    """Land the raw answers, then write, audit, publish through the quality gate, and record the run."""
    from cryptoderiv.quality.gate import alert_failures, audit_and_publish

    started = pd.Timestamp.now(tz="UTC")  # lineage only; the data window comes from the caller
    path = land_raw(result.raw, dataset, run_id, exchange)
    batch, snapshot_window = gate_batch(table, result.frame)
    batch_id = f"{run_id}.{dataset}.{exchange}.{subject}".replace("/", "-")  # GX keys refuse "/"
    with connect(url) as conn:
        gate = audit_and_publish(conn, table, batch, batch_id, snapshot_window or (start, end),
                                 notify=None, raise_on_rejection=False)
        record_run(conn, IngestRun(
            run_id=run_id, dataset=dataset, exchange=exchange, source=_source(), window_start=start,
            window_end=end, started_at=started, finished_at=pd.Timestamp.now(tz="UTC"), landing_path=path,
            rows_written={table: gate.rows_changed},
        ))
        conn.commit()
        alert_failures(conn, gate)  # dq_failure alerts once the batch is committed; never raises
    if gate.needs_attention and notify is not None:  # the gate has logged the summary already
        notify(gate)
    gate.raise_for_status()
    summary = IngestSummary(dataset, exchange, table, len(batch), gate.rows_changed, result.missing,
                            result.duplicates, result.stats.retries, str(path), quality=gate)
    log.info("%s %s: %d rows fetched, %d published (%d changed), %d quarantined, %d missing, %d retries",
             dataset, exchange, summary.rows_fetched, gate.rows_published, gate.rows_changed,
             gate.rows_quarantined, summary.missing, summary.retries)
    return summary


def _subject(symbols: str | Sequence[str]) -> str:
    return symbols if isinstance(symbols, str) else "+".join(symbols)



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
                 run_id: str, *, notify: Notifier | None = None, **client: Any) -> IngestSummary:
    """Candles with open time in ``[start, end)`` into ``ohlcv``."""
    lo, hi = _window(start, end)
    result = exchange_fetch.fetch_ohlcv(exchange, symbols, timeframe, lo, hi, **client)
    return _publish(url, "ohlcv", exchange, "ohlcv", result, run_id, lo, hi, _subject(symbols), notify)


def ingest_funding(url: str, exchange: str, symbols: str | Sequence[str], start: Any, end: Any,
                   run_id: str, *, notify: Notifier | None = None, **client: Any) -> IngestSummary:
    """Funding-rate history in ``[start, end)`` into ``funding_rates``."""
    lo, hi = _window(start, end)
    result = exchange_fetch.fetch_funding_history(exchange, symbols, lo, hi, **client)
    return _publish(url, "funding", exchange, "funding_rates", result, run_id, lo, hi, _subject(symbols), notify)


def ingest_open_interest(url: str, exchange: str, symbols: str | Sequence[str], start: Any, end: Any,
                         run_id: str, history: bool = True, *, notify: Notifier | None = None,
                         **client: Any) -> IngestSummary:
    """Open interest in ``[start, end)`` into ``open_interest``; ``history=False`` stores the venue's
    current figure instead (Deribit publishes no history)."""
    lo, hi = _window(start, end)
    if history:
        result = exchange_fetch.fetch_open_interest(exchange, symbols, lo, hi, **client)
    else:
        result = exchange_fetch.fetch_open_interest(exchange, symbols, **client)
        # the venue's current figure, dated by the venue: checked against its own instant, not the interval
        stamps = pd.to_datetime(result.frame["ts"], utc=True)
        if not stamps.empty:
            lo, hi = stamps.min(), stamps.max() + pd.Timedelta(seconds=1)
    return _publish(url, "open_interest", exchange, "open_interest", result, run_id, lo, hi, _subject(symbols),
                    notify)


def ingest_futures_quotes(url: str, exchange: str, underlying: str, start: Any, end: Any, run_id: str,
                          *, notify: Notifier | None = None, **client: Any) -> IngestSummary:
    """A snapshot of the marks, index and basis of the underlying's active perpetuals and dated futures
    (from the catalog) into ``futures_quotes``."""
    lo, hi = _window(start, end)
    with connect(url) as conn:
        symbols = active_symbols(conn, exchange, ["perpetual", "future"], underlying)
    if not symbols:
        raise ContractViolation(f"{exchange}: no active {underlying} futures in the catalog; sync instruments first")
    result = exchange_fetch.fetch_futures_quotes(exchange, symbols, **client)
    return _publish(url, "futures_quotes", exchange, "futures_quotes", result, run_id, lo, hi, underlying, notify)


def ingest_option_chain(url: str, exchange: str, underlying: str, start: Any, end: Any, run_id: str,
                        expiries: int | None = None, *, notify: Notifier | None = None,
                        **client: Any) -> IngestSummary:
    """A chain snapshot (exchange mark IV and greeks) into ``option_quotes``; new listings are synced first."""
    lo, hi = _window(start, end)
    sync_catalog(url, exchange, run_id, hi, kinds=["option"], **client)
    result = exchange_fetch.fetch_option_chain(exchange, underlying, expiries=expiries, **client)
    return _publish(url, "option_chain", exchange, "option_quotes", result, run_id, lo, hi, underlying, notify)


PIPELINES: dict[str, Callable[..., IngestSummary]] = {
    "ohlcv": ingest_ohlcv,
    "funding": ingest_funding,
    "open-interest": ingest_open_interest,
    "futures-quotes": ingest_futures_quotes,
    "option-chain": ingest_option_chain,
}
