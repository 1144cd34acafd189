"""ccxt.pro subscriptions of one venue: tickers, best bid/ask, option tickers and trades with gap repair.

Every ``watch_*`` loop survives dropped sockets: ccxt.pro fails the pending watch with ``NetworkError``, the
loop waits (exponential backoff with jitter, reset after a success) and calls again, which redials and
resubscribes. Trades are also *complete*: after a redial, and whenever the venue's per-instrument trade sequence skips a
number (anywhere in a message, or between messages), the span from the last trade handed on to the newest one
received is fetched over REST (:meth:`TradeFeed.backfill`) and merged, de-duplicated by trade id. The span
ends at the newest trade, not the first new one: a watch result can hold trades received before a redial
followed by trades received after it, with the gap between them. Each trade feed keeps a watermark: every
trade with a timestamp up to it has been handed on.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import ccxt

from cryptoderiv.streaming.events import Tick, Trade, tick_from_ticker, trade_from_ccxt
from cryptoderiv.streaming.metrics import StreamMetrics
from cryptoderiv.streaming.subscriptions import OptionSubscription, VenueSubscriptions

logger = logging.getLogger(__name__)

TickSink = Callable[[Tick], Awaitable[None]]
TradeSink = Callable[[list[Trade]], Awaitable[None]]
BACKFILL_PAGE = 1000
_CONNECTION_SEQ = itertools.count(1)
RECENT_IDS = 20_000


@dataclass
class Backoff:
    """Exponential backoff with jitter between failed watches (reset after a success)."""

    base_s: float = 0.2
    max_s: float = 10.0
    failures: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random()

    def next_delay(self) -> float:
        """Seconds to wait after one more failure."""
        self.failures += 1
        base = min(self.max_s, self.base_s * 2 ** (self.failures - 1))
        return base * (0.5 + 0.5 * self._rng.random())

    def reset(self) -> None:
        """A watch succeeded."""
        self.failures = 0


def sequence_gap(last_seq: int | None, batch: Iterable[Trade]) -> tuple[int, int] | None:
    """The first skipped span of per-instrument trade sequence numbers.

    Parameters
    ----------
    last_seq : int or None
        Sequence of the newest trade handed on before ``batch`` (None: nothing yet).
    batch : iterable of Trade
        New trades, any order; those without a sequence are ignored.

    Returns
    -------
    tuple of int or None
        ``(before, after)``: the sequences either side of the first gap, or None when contiguous.
    """
    previous = last_seq
    for seq in sorted(t.seq for t in batch if t.seq is not None):
        if previous is not None and seq > previous + 1:
            return previous, seq
        previous = seq if previous is None else max(previous, seq)
    return None


class TradeFeed:
    """Trades of one symbol: WebSocket stream plus REST repair of gaps.

    Parameters
    ----------
    client : ccxt.pro.Exchange
        Venue client (markets loaded).
    symbol : str
        ccxt unified symbol.
    start_ms : int
        Trades from this time on are wanted (the first message's gap back to it is backfilled).
    sink : callable
        Receives every new trade exactly once (per process), in batches.
    metrics : StreamMetrics
        Updated in place.
    backoff : Backoff
        Delays between failed watches.
    """

    def __init__(self, client: Any, symbol: str, start_ms: int, sink: TradeSink, metrics: StreamMetrics,
                 backoff: Backoff) -> None:
        self.client = client
        self.venue = str(client.id)
        self.symbol = symbol
        self.market = client.market(symbol)
        self.sink = sink
        self.metrics = metrics
        self.backoff = backoff
        self.last_ts = start_ms - 1          # newest trade time handed on
        self.last_seq: int | None = None       # newest per-instrument sequence handed on
        self.watermark_ms = start_ms - 1     # every trade with ts <= watermark has been handed on
        self._recent: deque[str] = deque()
        self._seen: set[str] = set()
        self._needs_backfill = True          # the first message: back to start_ms
        self._stop = asyncio.Event()
        self._seen_connections: frozenset[int] | None = None

    def _new(self, trades: Iterable[Trade]) -> list[Trade]:
        """The trades not handed on yet, in time order, each once (not yet marked as seen)."""
        out: dict[str, Trade] = {}
        for t in sorted(trades, key=lambda t: (t.ts, t.trade_id)):
            if t.trade_id not in self._seen:
                out.setdefault(t.trade_id, t)
        return list(out.values())

    def _mark_seen(self, trades: Iterable[Trade]) -> None:
        for t in trades:
            self._seen.add(t.trade_id)
            self._recent.append(t.trade_id)
            if len(self._recent) > RECENT_IDS:
                self._seen.discard(self._recent.popleft())

    async def backfill(self, since_ms: int, until_ms: int) -> list[Trade]:
        """Trades with ``since_ms <= ts <= until_ms`` over REST (paged by time; Bybit: its recent trades)."""
        got: list[Trade] = []
        if self.venue == "bybit":
            raw = await self.client.fetch_trades(self.symbol, limit=BACKFILL_PAGE)
            rows = [trade_from_ccxt(self.venue, r, self.market) for r in raw]
            if rows and min(r.ts for r in rows) > since_ms and len(rows) >= BACKFILL_PAGE:
                logger.warning("bybit %s: gap since %d is older than the venue's recent trades", self.symbol,
                               since_ms)
            return [r for r in rows if since_ms <= r.ts <= until_ms]
        cursor = since_ms
        while True:
            raw = await self.client.fetch_trades(self.symbol, since=cursor, limit=BACKFILL_PAGE,
                                                 params={"until": until_ms})
            rows = [trade_from_ccxt(self.venue, r, self.market) for r in raw]
            got.extend(r for r in rows if since_ms <= r.ts <= until_ms)
            if len(raw) < BACKFILL_PAGE:
                return got
            newest = max(r.ts for r in rows)
            if newest >= until_ms:
                return got
            cursor = newest if newest > cursor else cursor + 1

    def _connections(self) -> frozenset[int]:
        """Numbers of the client's open WebSocket connections. A connection that dropped and was redialled by
        another watch on the same socket (so this feed's watch never saw the error) shows up as a change."""
        for conn in list(getattr(self.client, "clients", {}).values()):
            if getattr(conn, "_cryptoderiv_seq", None) is None:
                conn._cryptoderiv_seq = next(_CONNECTION_SEQ)
        return frozenset(c._cryptoderiv_seq for c in getattr(self.client, "clients", {}).values())

    async def handle(self, raw: list[dict[str, Any]]) -> None:
        """Process one ``watch_trades`` result."""
        connections = self._connections()
        if self._seen_connections is not None and connections != self._seen_connections:
            self._needs_backfill = True
        self._seen_connections = connections
        batch = self._new(trade_from_ccxt(self.venue, r, self.market) for r in raw)
        if not batch:
            return
        self.metrics.trades_in[self.venue] += len(batch)
        gap = None if self._needs_backfill else sequence_gap(self.last_seq, batch)
        if self._needs_backfill or gap is not None:
            if gap is not None:
                self.metrics.gaps[self.venue] += 1
                logger.info("%s %s: trade sequence gap %d -> %d; backfilling", self.venue, self.symbol, *gap)
            # the gap may lie anywhere up to the newest trade received (trades from before a redial can share
            # a watch result with trades from after it), so the REST span ends there, not at the first new one.
            # A failing backfill raises before anything is marked as seen: the retry still covers this batch.
            until = batch[-1].ts
            filled = self._new(await self.backfill(self.last_ts, until))
            self.metrics.trades_backfilled[self.venue] += len({t.trade_id for t in filled}
                                                              - {t.trade_id for t in batch})
            batch = self._new(filled + batch)
            self._needs_backfill = False
            logger.debug("%s %s: backfilled [%d, %d]: %d trades", self.venue, self.symbol, self.last_ts, until,
                         len(filled))
        self._mark_seen(batch)
        logger.debug("%s %s: handing on %d trades %s..%s (ts %d..%d)", self.venue, self.symbol, len(batch),
                     batch[0].trade_id, batch[-1].trade_id, batch[0].ts, batch[-1].ts)
        await self.sink(batch)
        newest = batch[-1]
        self.last_ts = max(self.last_ts, newest.ts)
        seqs = [t.seq for t in batch if t.seq is not None]
        if seqs:
            self.last_seq = max(seqs + ([self.last_seq] if self.last_seq is not None else []))
        # trades sharing the newest timestamp may still be on their way in a later message
        self.watermark_ms = max(self.watermark_ms, self.last_ts - 1)

    def dropped(self) -> None:
        """The socket dropped: what was sent meanwhile is lost, so the next message starts with a backfill."""
        self._needs_backfill = True
        self.metrics.gaps[self.venue] += 1

    def request_stop(self) -> None:
        """Finish the message in hand (and its backfill), then return from :meth:`run`."""
        self._stop.set()

    async def run(self) -> None:
        """Watch until :meth:`request_stop` (or cancellation)."""
        while not self._stop.is_set():
            watch = asyncio.ensure_future(self.client.watch_trades(self.symbol))
            stop = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({watch, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not watch.done():
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError, ccxt.BaseError):
                    await watch
                return
            try:
                raw = watch.result()
            except ccxt.NetworkError as exc:
                self.metrics.reconnects[self.venue] += 1
                self.dropped()
                delay = self.backoff.next_delay()
                logger.info("%s trades %s: %s; redialling in %.2f s", self.venue, self.symbol, type(exc).__name__,
                            delay)
                await asyncio.sleep(delay)
                continue
            self.backoff.reset()
            try:
                await self.handle(raw)
            except ccxt.NetworkError as exc:  # the REST backfill failed: try again with the next message
                self._needs_backfill = True
                logger.warning("%s %s: backfill failed (%s); retrying", self.venue, self.symbol, exc)
                await asyncio.sleep(self.backoff.next_delay())


async def watch_ticks(client: Any, method: str, symbol: str, source: str, sink: TickSink, metrics: StreamMetrics,
                      backoff: Backoff) -> None:
    """Forward ``watch_ticker`` (``method="watch_ticker"``) or best bid/ask (``"watch_bids_asks"``) updates."""
    venue = str(client.id)
    market = client.market(symbol)
    while True:
        try:
            result = await (client.watch_ticker(symbol) if method == "watch_ticker"
                            else client.watch_bids_asks([symbol]))
        except ccxt.NetworkError as exc:
            metrics.reconnects[venue] += 1
            delay = backoff.next_delay()
            logger.info("%s %s %s: %s; redialling in %.2f s", venue, method, symbol, type(exc).__name__, delay)
            await asyncio.sleep(delay)
            continue
        backoff.reset()
        received = time.time() * 1000.0
        tickers = [result] if method == "watch_ticker" else list(result.values())
        for ticker in tickers:
            tick = tick_from_ticker(venue, ticker, source, received, market)
            if tick is not None:
                metrics.ticks_in[venue] += 1
                metrics.event_lag_s = (received - tick.ts) / 1000.0
                await sink(tick)


def select_options(markets: Iterable[dict[str, Any]], sub: OptionSubscription, forward: float | None,
                   now_ms: int) -> list[str]:
    """Option symbols of the configured expiries, ``strikes_around_atm`` strikes each side of ``forward``."""
    options = [m for m in markets if m.get("option") and m.get("base") == sub.base and m.get("active", True)
               and (m.get("expiry") or 0) > now_ms]
    expiries = sorted({int(m["expiry"]) for m in options})
    wanted: set[int] = set()
    for e in sub.expiries:
        if e.startswith("next:"):
            wanted.update(expiries[: int(e[5:])])
        else:
            day = dt.date.fromisoformat(e)
            wanted.update(x for x in expiries if dt.datetime.fromtimestamp(x / 1000, tz=dt.UTC).date() == day)
    out: list[str] = []
    for expiry in sorted(wanted):
        chain = [m for m in options if int(m["expiry"]) == expiry]
        strikes = sorted({float(m["strike"]) for m in chain})
        if sub.strikes_around_atm and forward is not None and strikes:
            centre = min(range(len(strikes)), key=lambda i: abs(strikes[i] - forward))
            lo, hi = max(0, centre - sub.strikes_around_atm), centre + sub.strikes_around_atm + 1
            keep = set(strikes[lo:hi])
            chain = [m for m in chain if float(m["strike"]) in keep]
        out.extend(sorted(m["symbol"] for m in chain))
    return out


def nearest_futures(markets: Iterable[dict[str, Any]], base: str, count: int, now_ms: int) -> list[str]:
    """The ``count`` nearest dated futures of ``base``."""
    futures = sorted((m for m in markets if m.get("future") and m.get("base") == base
                      and (m.get("expiry") or 0) > now_ms), key=lambda m: m["expiry"])
    return [m["symbol"] for m in futures[:count]]


@dataclass
class VenueFeeds:
    """Every subscription of one venue on one ccxt.pro client."""

    client: Any
    subs: VenueSubscriptions
    start_ms: int
    on_tick: TickSink
    on_trades: TradeSink
    metrics: StreamMetrics
    base_delay_s: float = 0.2
    max_delay_s: float = 10.0

    def __post_init__(self) -> None:
        self.trade_feeds: list[TradeFeed] = []
        self.option_symbols: list[str] = []
        self.future_symbols: list[str] = []
        self.trade_tasks: list[asyncio.Task[None]] = []

    def _backoff(self) -> Backoff:
        return Backoff(self.base_delay_s, self.max_delay_s)

    async def tasks(self) -> list[asyncio.Task[None]]:
        """Load markets and start every watch loop."""
        await self.client.load_markets()
        venue = str(self.client.id)
        now_ms = int(time.time() * 1000)
        markets = list(self.client.markets.values())
        out: list[Awaitable[None]] = []
        tickers = list(self.subs.tickers)
        for base, count in self.subs.futures:
            self.future_symbols += nearest_futures(markets, base, count, now_ms)
        tickers += [s for s in self.future_symbols if s not in tickers]
        for symbol in tickers:
            out.append(watch_ticks(self.client, "watch_ticker", symbol, "ticker", self.on_tick, self.metrics,
                                   self._backoff()))
        for symbol in self.subs.book:
            out.append(watch_ticks(self.client, "watch_bids_asks", symbol, "book", self.on_tick, self.metrics,
                                   self._backoff()))
        for sub in self.subs.options:
            forward = None
            index = f"{sub.base}/USD:{sub.base}"
            if index in self.client.markets:
                forward = (await self.client.fetch_ticker(index)).get("last")
            symbols = select_options(markets, sub, forward, now_ms)
            self.option_symbols += symbols
            for symbol in symbols:
                out.append(watch_ticks(self.client, "watch_ticker", symbol, "option", self.on_tick, self.metrics,
                                       self._backoff()))
        for symbol in self.subs.trades:
            feed = TradeFeed(self.client, symbol, self.start_ms, self.on_trades, self.metrics, self._backoff())
            self.trade_feeds.append(feed)
            out.append(feed.run())
        logger.info("%s: %d ticker, %d book, %d option and %d trade subscriptions", venue, len(tickers),
                    len(self.subs.book), len(self.option_symbols), len(self.trade_feeds))
        tasks = [asyncio.ensure_future(c) for c in out]
        self.trade_tasks = tasks[len(tasks) - len(self.trade_feeds):]
        return tasks
