"""Library functions that fetch market data from a venue and return normalised frames.

Each function takes an exchange (a venue name, or a :class:`VenueClient` to reuse one connection), the
instruments and, for histories, a window ``[start, end)``; it returns a :class:`FetchResult`: the normalised
frame (a schema of :mod:`cryptoderiv.exchanges.schemas`), the raw venue answers it was built from (to land as
Parquet), the gaps found and the retry statistics.

========================  =====================================================================================
function                  ccxt calls (REST)
========================  =====================================================================================
fetch_ohlcv               ``fetch_ohlcv(symbol, tf, since, limit, {until})`` per page
fetch_funding_history     ``fetch_funding_rate_history(symbol, since, limit, {until})`` per page
fetch_open_interest       now: ``fetch_open_interest`` (+ a mark price); window: ``fetch_open_interest_history``
fetch_option_chain        ``fetch_option_chain`` (+ Deribit: ``fetch_ticker`` per option for greeks)
fetch_futures_quotes      Deribit ``fetch_ticker``; Bybit ``fetch_tickers``; Binance ``fetch_mark_prices`` +
                          ``fetch_bids_asks``
fetch_trades              ``fetch_trades(symbol, since, limit, {until})`` per page (Bybit: recent trades only)
fetch_instruments         ``load_markets``
========================  =====================================================================================
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from cryptoderiv.config import ExchangeSource
from cryptoderiv.exchanges import normalize as nz
from cryptoderiv.exchanges.client import make_client
from cryptoderiv.exchanges.errors import ExchangeAccessError, UnsupportedRequestError
from cryptoderiv.exchanges.pagination import Gap, find_gaps, grid, snap, to_ms, windows
from cryptoderiv.exchanges.retry import RETRYABLE, CallStats, RetryPolicy
from cryptoderiv.exchanges.schemas import OPTION_QUOTES, TRADES

logger = logging.getLogger(__name__)

TimeLike = int | float | str | datetime | pd.Timestamp

PAGE_CANDLES = {"binance": 1000, "bybit": 1000, "deribit": 1000}
PAGE_FUNDING = {"binance": 1000, "bybit": 200, "deribit": 720}
PAGE_OPEN_INTEREST = {"binance": 500, "bybit": 200}
TRADES_WINDOW_MS = 3_600_000
TRADES_PAGE = 1000


@dataclass(frozen=True)
class RawResponse:
    """One raw venue answer used to build a frame.

    Attributes
    ----------
    exchange : str
        Venue id.
    method : str
        ccxt method called.
    request : dict
        Its arguments.
    url : str or None
        Request URL of the answer.
    fetched_at : pandas.Timestamp
        When it arrived (UTC).
    payload : object
        The venue's JSON, untouched (for ``load_markets``: the list of market records).
    """

    exchange: str
    method: str
    request: dict[str, Any]
    url: str | None
    fetched_at: pd.Timestamp
    payload: Any


@dataclass
class FetchResult:
    """What a fetch returns.

    Attributes
    ----------
    frame : pandas.DataFrame
        Normalised data.
    raw : list of RawResponse
        Raw answers the frame was built from.
    gaps : list of Gap
        Missing grid intervals (histories only).
    duplicates : int
        Rows received twice (at page seams or within an answer) and dropped.
    stats : CallStats
        Calls, retries and failures.
    """

    frame: pd.DataFrame
    raw: list[RawResponse] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    duplicates: int = 0
    stats: CallStats = field(default_factory=CallStats)

    @property
    def missing(self) -> int:
        """Number of missing grid points over all gaps."""
        return sum(g.missing for g in self.gaps)

    def raw_frame(self) -> pd.DataFrame:
        """The raw answers as a flat frame (JSON text), ready for Parquet."""
        return pd.DataFrame(
            {
                "exchange": [r.exchange for r in self.raw],
                "method": [r.method for r in self.raw],
                "request": [json.dumps(r.request, default=str, sort_keys=True) for r in self.raw],
                "url": [r.url for r in self.raw],
                "fetched_at": pd.to_datetime([r.fetched_at for r in self.raw], utc=True),
                "payload": [json.dumps(r.payload, default=str) for r in self.raw],
            }
        )


class VenueClient:
    """A ccxt client of one venue with retries and capture of the raw answers.

    Parameters
    ----------
    venue : {"deribit", "binance", "bybit"}
        The exchange.
    source : {"simulator", "live"}, optional
        Defaults to ``EXCHANGE_SOURCE``.
    simulator_url : str, optional
        Defaults to ``SIMULATOR_URL``.
    retry : RetryPolicy, optional
        Per-request retry policy (default :class:`~cryptoderiv.exchanges.retry.RetryPolicy` ()).
    timeout_ms : int, default 10000
        Request timeout.
    """

    def __init__(
        self,
        venue: str,
        *,
        source: ExchangeSource | str | None = None,
        simulator_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout_ms: int = 10_000,
    ) -> None:
        self.venue = venue
        self.exchange = make_client(
            venue, source, simulator_url=simulator_url, timeout_ms=timeout_ms, retry=retry or RetryPolicy()
        )
        self.raw: list[RawResponse] = []

    @property
    def stats(self) -> CallStats:
        """Cumulative request statistics (HTTP requests, retries, failures)."""
        return self.exchange.retrier.stats

    def _invoke(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self.exchange, method)(*args, **kwargs)
        except RETRYABLE as exc:
            raise ExchangeAccessError(
                f"{self.venue} {method} failed after {self.exchange.retrier.policy.max_attempts} attempts: "
                f"{type(exc).__name__}: {str(exc)[:200]}"
            ) from exc

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a ccxt method (its requests are retried) and record its raw answer.

        Raises
        ------
        ExchangeAccessError
            When a request still fails with a transient error after every retry.
        """
        result = self._invoke(method, *args, **kwargs)
        self.raw.append(
            RawResponse(
                self.venue,
                method,
                {"args": list(args), **kwargs},
                getattr(self.exchange, "last_request_url", None),
                pd.Timestamp.now(tz="UTC"),
                getattr(self.exchange, "last_json_response", None),
            )
        )
        return result

    def markets(self) -> dict[str, dict[str, Any]]:
        """The venue's markets (loaded once, with retries)."""
        if not self.exchange.markets:
            self._invoke("load_markets")
        return self.exchange.markets

    def market(self, symbol: str) -> dict[str, Any]:
        """One market.

        Raises
        ------
        ExchangeAccessError
            If the venue does not list ``symbol``.
        """
        markets = self.markets()
        if symbol not in markets:
            raise ExchangeAccessError(f"{self.venue} does not list {symbol}")
        return markets[symbol]

    def now_ms(self) -> int:
        """The client's clock (what ccxt computes default windows from)."""
        return int(self.exchange.milliseconds())

    def close(self) -> None:
        """Release the HTTP session."""
        session = getattr(self.exchange, "session", None)
        if session is not None:
            session.close()

    def __enter__(self) -> VenueClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def _session(exchange: str | VenueClient, **client_kwargs: Any) -> Iterator[VenueClient]:
    if isinstance(exchange, VenueClient):
        yield exchange
        return
    client = VenueClient(exchange, **client_kwargs)
    try:
        yield client
    finally:
        client.close()


def _symbols(symbols: str | Sequence[str]) -> list[str]:
    return [symbols] if isinstance(symbols, str) else list(symbols)


class _Collector:
    """Slices the raw answers and stats of one library call out of a (possibly shared) client."""

    def __init__(self, client: VenueClient) -> None:
        self.client = client
        self.first_raw = len(client.raw)
        self.start = client.stats.copy()

    def result(self, frame: pd.DataFrame, gaps: list[Gap] | None = None, duplicates: int = 0) -> FetchResult:
        return FetchResult(
            frame, self.client.raw[self.first_raw :], gaps or [], duplicates, self.client.stats.since(self.start)
        )


def _history(
    client: VenueClient,
    symbol: str,
    start_ms: int,
    end_ms: int,
    step_ms: int,
    page_size: int,
    fetch_page: Callable[[int, int, int], list[Any]],
    timestamp_of: Callable[[Any], int],
    refetch: int,
) -> tuple[dict[int, Any], list[Any], int]:
    """Fetch ``[start_ms, end_ms)`` page by page; refetch pages with holes; merge rows by grid point.

    A row sent again unchanged (overlapping pages, a refetch) is dropped and counted in ``duplicates``.
    A second, *different* row for a grid point within one answer is a venue defect, not an overlap:
    both copies are kept (the first in ``rows``, the others in ``conflicts``) so that the quality gate
    sees the duplicated key and quarantines every copy, since which one is right cannot be told.
    """
    rows: dict[int, Any] = {}
    conflicts: list[Any] = []
    duplicates = 0
    for w0, w1 in windows(start_ms, end_ms, step_ms, page_size):
        expected = set(grid(w0, w1, step_ms))
        owned: set[int] = set()
        for attempt in range(refetch + 1):
            seen: set[int] = set()
            for row in fetch_page(w0, w1, len(expected)):
                point = snap(timestamp_of(row), step_ms)
                if point is None or point not in expected:
                    continue
                if point in seen:
                    if row != rows[point] and row not in conflicts:
                        conflicts.append(row)
                    else:
                        duplicates += 1
                    continue
                seen.add(point)
                if point in rows and point not in owned:
                    duplicates += 1
                    continue
                rows[point] = row
                owned.add(point)
            if expected <= owned:
                break
            logger.info(
                "%s %s: page [%d, %d) has %d of %d points (attempt %d)",
                client.venue,
                symbol,
                w0,
                w1,
                len(owned),
                len(expected),
                attempt + 1,
            )
    return rows, conflicts, duplicates


def fetch_ohlcv(
    exchange: str | VenueClient,
    symbols: str | Sequence[str],
    timeframe: str,
    start: TimeLike,
    end: TimeLike,
    *,
    page_limit: int | None = None,
    refetch: int = 2,
    include_partial: bool = False,
    **client_kwargs: Any,
) -> FetchResult:
    """Candles of ``symbols`` with open time in ``[start, end)``.

    Parameters
    ----------
    exchange : str or VenueClient
        Venue name or client.
    symbols : str or sequence of str
        CCXT unified symbols.
    timeframe : str
        ccxt timeframe (``1m``, ``1h``, ``1d``, ...).
    start, end : int, str, datetime or Timestamp
        Window (ms or UTC times); ``end`` is exclusive.
    page_limit : int, optional
        Candles per request (default: the venue's maximum page).
    refetch : int, default 2
        Extra requests for a page that came back with holes.
    include_partial : bool, default False
        Keep the candle still forming at the time of the fetch.
    **client_kwargs
        Passed to :class:`VenueClient` when ``exchange`` is a name.

    Returns
    -------
    FetchResult
        :data:`~cryptoderiv.exchanges.schemas.CANDLES` frame; gaps are missing candles.
    """
    with _session(exchange, **client_kwargs) as client:
        col = _Collector(client)
        tf_ms = int(client.exchange.parse_timeframe(timeframe) * 1000)
        start_ms, end_ms = to_ms(start), to_ms(end)
        if not include_partial:
            end_ms = min(end_ms, (client.now_ms() // tf_ms) * tf_ms)
        page = page_limit or PAGE_CANDLES[client.venue]
        frames, gaps, duplicates = [], [], 0
        for symbol in _symbols(symbols):
            client.market(symbol)

            def page_fn(w0: int, w1: int, n: int, symbol: str = symbol) -> list[Any]:
                return client.call(
                    "fetch_ohlcv",
                    symbol,
                    timeframe,
                    since=w0,
                    limit=n,
                    params={"until": w1 - 1},
                )

            rows, conflicts, dup = _history(
                client,
                symbol,
                start_ms,
                end_ms,
                tf_ms,
                page,
                page_fn,
                lambda r: int(r[0]) if r and r[0] is not None else -1,
                refetch,
            )
            duplicates += dup
            valid = {t: r for t, r in rows.items() if len(r) >= 6 and all(x is not None for x in r[:6])}
            ordered = [valid[t] for t in sorted(valid)] + [r for r in conflicts if len(r) >= 6]
            frames.append(nz.candles_frame(client.venue, symbol, timeframe, ordered))
            gaps.extend(find_gaps(symbol, valid, start_ms, end_ms, tf_ms))
        frame = pd.concat(frames, ignore_index=True) if frames else nz.CANDLES.empty()
        return col.result(frame, gaps, duplicates)


def fetch_funding_history(
    exchange: str | VenueClient,
    symbols: str | Sequence[str],
    start: TimeLike,
    end: TimeLike,
    *,
    page_limit: int | None = None,
    refetch: int = 1,
    **client_kwargs: Any,
) -> FetchResult:
    """Funding payments of perpetuals with funding time in ``[start, end)``.

    Deribit rows are hourly ``interest_1h`` (``interval_hours = 1``); Binance and Bybit pay every 8 h.

    Returns
    -------
    FetchResult
        :data:`~cryptoderiv.exchanges.schemas.FUNDING` frame; gaps are missing funding times.
    """
    with _session(exchange, **client_kwargs) as client:
        col = _Collector(client)
        start_ms, end_ms = to_ms(start), min(to_ms(end), client.now_ms() + 1)
        frames, gaps, duplicates = [], [], 0
        for symbol in _symbols(symbols):
            market = client.market(symbol)
            hours = nz.funding_interval_hours(client.venue, market)
            if hours is None:
                raise UnsupportedRequestError(f"{symbol} on {client.venue} is not a perpetual")
            step = hours * 3_600_000
            page = page_limit or PAGE_FUNDING[client.venue]

            def page_fn(w0: int, w1: int, n: int, symbol: str = symbol) -> list[Any]:
                return client.call(
                    "fetch_funding_rate_history",
                    symbol,
                    since=w0,
                    limit=n,
                    params={"until": w1 - 1},
                )

            rows, conflicts, dup = _history(
                client, symbol, start_ms, end_ms, step, page, page_fn, lambda r: int(r.get("timestamp") or -1), refetch
            )
            duplicates += dup
            kept = [t for t in sorted(rows) if not math.isnan(_rate(client.venue, rows[t]))]
            frames.append(nz.funding_frame(client.venue, symbol, [rows[t] for t in kept] + conflicts, hours))
            gaps.extend(find_gaps(symbol, kept, start_ms, end_ms, step))
        frame = pd.concat(frames, ignore_index=True) if frames else nz.FUNDING.empty()
        return col.result(frame, gaps, duplicates)


def _rate(venue: str, row: dict[str, Any]) -> float:
    value = (row.get("info") or {}).get("interest_1h") if venue == "deribit" else row.get("fundingRate")
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _mark_price(client: VenueClient, symbol: str, oi: dict[str, Any]) -> float:
    info = oi.get("info") or {}
    if client.venue == "deribit":
        return float(info.get("mark_price") or info.get("estimated_delivery_price") or math.nan)
    if client.venue == "binance":
        return float(client.call("fetch_mark_price", symbol).get("markPrice") or math.nan)
    return float(client.call("fetch_ticker", symbol).get("markPrice") or math.nan)


def fetch_open_interest(
    exchange: str | VenueClient,
    symbols: str | Sequence[str],
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    *,
    timeframe: str = "1h",
    page_limit: int | None = None,
    **client_kwargs: Any,
) -> FetchResult:
    """Open interest now (no window) or its history over ``[start, end)`` at ``timeframe`` steps.

    The current value comes with a mark price to express it in contracts, base coin and USD (Binance and
    Bybit: one extra ``mark price``/``ticker`` call per symbol). History is offered by Binance (last 30 days,
    with USD value) and Bybit (base units only); Deribit has none.

    Returns
    -------
    FetchResult
        :data:`~cryptoderiv.exchanges.schemas.OPEN_INTEREST` frame.

    Raises
    ------
    UnsupportedRequestError
        For a history on Deribit.
    """
    with _session(exchange, **client_kwargs) as client:
        col = _Collector(client)
        rows: list[dict[str, Any]] = []
        gaps: list[Gap] = []
        duplicates = 0
        for symbol in _symbols(symbols):
            market = client.market(symbol)
            if start is None:
                oi = client.call("fetch_open_interest", symbol)
                oi = {**oi, "timestamp": oi.get("timestamp") or client.now_ms()}
                rows.append(nz.open_interest_row(client.venue, market, oi, _mark_price(client, symbol, oi)))
                continue
            if client.venue not in PAGE_OPEN_INTEREST:
                raise UnsupportedRequestError(f"{client.venue} publishes no open-interest history")
            step = int(client.exchange.parse_timeframe(timeframe) * 1000)
            start_ms = to_ms(start)
            end_ms = min(to_ms(end) if end is not None else client.now_ms(), client.now_ms() + 1)

            def page_fn(w0: int, w1: int, n: int, symbol: str = symbol) -> list[Any]:
                return client.call(
                    "fetch_open_interest_history",
                    symbol,
                    timeframe,
                    since=w0,
                    limit=n,
                    params={"until": w1 - 1},
                )

            got, conflicts, dup = _history(
                client,
                symbol,
                start_ms,
                end_ms,
                step,
                page_limit or PAGE_OPEN_INTEREST[client.venue],
                page_fn,
                lambda r: int(r.get("timestamp") or -1),
                0,
            )
            duplicates += dup
            received = [*(got[t] for t in sorted(got)), *conflicts]
            rows.extend(nz.open_interest_row(client.venue, market, r, None) for r in received)
            gaps.extend(find_gaps(symbol, got, start_ms, end_ms, step))
        return col.result(nz.open_interest_frame(rows), gaps, duplicates)


def _expiry_filter(
    markets: dict[str, dict[str, Any]],
    symbols: list[str],
    expiries: int | Sequence[date | datetime | str | pd.Timestamp] | None,
) -> list[str]:
    if expiries is None:
        return symbols
    all_expiries = sorted({markets[s]["expiry"] for s in symbols})
    if isinstance(expiries, int):
        keep = set(all_expiries[:expiries])
    else:
        days = {pd.Timestamp(e).date() for e in expiries}
        keep = {e for e in all_expiries if pd.Timestamp(e, unit="ms", tz="UTC").date() in days}
    return [s for s in symbols if markets[s]["expiry"] in keep]


def fetch_option_chain(
    exchange: str | VenueClient,
    underlying: str,
    *,
    greeks: bool = True,
    expiries: int | Sequence[date | datetime | str | pd.Timestamp] | None = None,
    **client_kwargs: Any,
) -> FetchResult:
    """An option chain snapshot: premiums (quoted and USD), IVs (decimal), greeks, forward, index, OI, volume.

    Parameters
    ----------
    exchange : str or VenueClient
        ``deribit`` or ``bybit``.
    underlying : str
        Base coin, e.g. ``BTC``.
    greeks : bool, default True
        Deribit only: call ``ticker`` for each selected option to get greeks and bid/ask IVs (the book
        summary has mark IV only). Bybit's chain always carries them.
    expiries : int or sequence of dates, optional
        Keep the nearest ``n`` expiries, or the given expiry dates (UTC); default: all.

    Returns
    -------
    FetchResult
        :data:`~cryptoderiv.exchanges.schemas.OPTION_QUOTES` frame.

    Raises
    ------
    UnsupportedRequestError
        On a venue without options in the platform (Binance).
    """
    with _session(exchange, **client_kwargs) as client:
        col = _Collector(client)
        markets = client.markets()
        if client.venue == "deribit":
            chain = client.call("fetch_option_chain", underlying)
            keep = set(_expiry_filter(markets, [s for s in chain if s in markets], expiries))
            chain = {s: v for s, v in chain.items() if s in keep}
            tickers: dict[str, dict[str, Any]] = {}
            if greeks:
                for symbol in sorted(chain, key=lambda s: (markets[s]["expiry"], markets[s]["strike"], s)):
                    tickers[symbol] = client.call("fetch_ticker", symbol).get("info") or {}
            frame = nz.deribit_option_quotes(chain, markets, tickers)
        elif client.venue == "bybit":
            chain = client.call("fetch_option_chain", underlying)
            fetched = (client.exchange.last_json_response or {}).get("time") or client.now_ms()
            keep = set(_expiry_filter(markets, [s for s in chain if s in markets], expiries))
            frame = nz.bybit_option_quotes({s: v for s, v in chain.items() if s in keep}, markets, int(fetched))
        else:
            raise UnsupportedRequestError(f"{client.venue} options are not collected by the platform")
        return col.result(frame if not frame.empty else OPTION_QUOTES.empty())


def fetch_futures_quotes(
    exchange: str | VenueClient, symbols: str | Sequence[str], **client_kwargs: Any
) -> FetchResult:
    """Mark, index, best bid/ask and basis of perpetuals and dated futures.

    Returns
    -------
    FetchResult
        :data:`~cryptoderiv.exchanges.schemas.FUTURES_QUOTES` frame.
    """
    with _session(exchange, **client_kwargs) as client:
        col = _Collector(client)
        markets = client.markets()
        wanted = _symbols(symbols)
        for s in wanted:
            client.market(s)
        rows: list[dict[str, Any]] = []
        if client.venue == "deribit":
            for s in wanted:
                t = client.call("fetch_ticker", s)
                rows.append(
                    {
                        "symbol": s,
                        "ts": t["timestamp"],
                        "mark": t.get("markPrice"),
                        "index": t.get("indexPrice"),
                        "bid": t.get("bid"),
                        "ask": t.get("ask"),
                    }
                )
        elif client.venue == "bybit":
            tickers = client.call("fetch_tickers", wanted)
            fetched = (client.exchange.last_json_response or {}).get("time") or client.now_ms()
            for s in wanted:
                t = tickers[s]
                rows.append(
                    {
                        "symbol": s,
                        "ts": t.get("timestamp") or fetched,
                        "mark": t.get("markPrice"),
                        "index": t.get("indexPrice"),
                        "bid": t.get("bid"),
                        "ask": t.get("ask"),
                    }
                )
        else:
            marks: dict[str, Any] = {}
            books: dict[str, Any] = {}
            for kind in ("swap", "future"):  # ccxt asks for one market type per call
                group = [s for s in wanted if markets[s]["type"] == kind]
                if group:
                    marks.update(client.call("fetch_mark_prices", group))
                    books.update(client.call("fetch_bids_asks", group))
            for s in wanted:
                m, b = marks[s], books.get(s, {})
                rows.append(
                    {
                        "symbol": s,
                        "ts": m.get("timestamp") or client.now_ms(),
                        "mark": m.get("markPrice"),
                        "index": m.get("indexPrice"),
                        "bid": b.get("bid"),
                        "ask": b.get("ask"),
                    }
                )
        return col.result(nz.futures_quotes_frame(client.venue, rows, markets))


def fetch_trades(
    exchange: str | VenueClient,
    symbols: str | Sequence[str],
    start: TimeLike,
    end: TimeLike,
    **client_kwargs: Any,
) -> FetchResult:
    """Public trades of ``symbols`` in ``[start, end)``, de-duplicated by trade id.

    Binance and Deribit are walked in one-hour windows, each continued from its last trade while a page is full.
    Bybit publishes only its most recent trades: a window older than those is reported as a gap.

    Returns
    -------
    FetchResult
        :data:`~cryptoderiv.exchanges.schemas.TRADES` frame.
    """
    with _session(exchange, **client_kwargs) as client:
        col = _Collector(client)
        start_ms, end_ms = to_ms(start), to_ms(end)
        frames, gaps, duplicates = [], [], 0
        for symbol in _symbols(symbols):
            market = client.market(symbol)
            kept: dict[str, dict[str, Any]] = {}
            if client.venue == "bybit":
                got = client.call("fetch_trades", symbol, limit=1000)
                for t in got:
                    if start_ms <= t["timestamp"] < end_ms:
                        kept[str(t["id"])] = t
                oldest = min((t["timestamp"] for t in got), default=end_ms)
                if oldest > start_ms:
                    gaps.append(
                        Gap(
                            symbol,
                            pd.Timestamp(start_ms, unit="ms", tz="UTC"),
                            pd.Timestamp(min(oldest, end_ms), unit="ms", tz="UTC"),
                            0,
                        )
                    )
            else:
                for w0 in range(start_ms, end_ms, TRADES_WINDOW_MS):
                    w1 = min(w0 + TRADES_WINDOW_MS, end_ms)
                    cursor = w0
                    while True:
                        got = client.call(
                            "fetch_trades", symbol, since=cursor, limit=TRADES_PAGE, params={"until": w1 - 1}
                        )
                        for t in got:
                            key = str(t["id"])
                            if not w0 <= t["timestamp"] < w1:
                                continue
                            if key in kept:
                                duplicates += 1
                                continue
                            kept[key] = t
                        if len(got) < TRADES_PAGE:
                            break
                        last = max(t["timestamp"] for t in got)
                        cursor = last if last > cursor else cursor + 1
            ordered = sorted(kept.values(), key=lambda t: (t["timestamp"], str(t["id"])))
            frames.append(nz.trades_frame(client.venue, symbol, market, ordered))
        frame = pd.concat(frames, ignore_index=True) if frames else TRADES.empty()
        return col.result(frame, gaps, duplicates)


def fetch_instruments(
    exchange: str | VenueClient, kinds: Sequence[str] | None = None, **client_kwargs: Any
) -> FetchResult:
    """The venue's instruments (``load_markets``), optionally only some kinds.

    Parameters
    ----------
    kinds : sequence of {"spot", "perpetual", "future", "option"}, optional
        Kinds to keep.

    Returns
    -------
    FetchResult
        :data:`~cryptoderiv.exchanges.schemas.INSTRUMENTS` frame; ``raw`` holds one entry with every market
        record as the venue sent it.
    """
    with _session(exchange, **client_kwargs) as client:
        col = _Collector(client)
        markets = client.markets()
        client.raw.append(
            RawResponse(
                client.venue,
                "load_markets",
                {},
                None,
                pd.Timestamp.now(tz="UTC"),
                [m.get("info") for m in markets.values()],
            )
        )
        frame = nz.instruments_frame(client.venue, markets.values())
        if kinds is not None:
            frame = frame[frame["kind"].isin(list(kinds))].reset_index(drop=True)
        return col.result(frame)
