"""The streaming sidecar: feeds -> (write path, WebSocket fan-out, live alerts), plus ``/health`` and ``/metrics``.

One asyncio process (``cryptoderiv stream run``): a ccxt.pro client per venue (:mod:`.feeds`), the batched
writer with its disk spool (:mod:`.writer`), the channel hub (:mod:`.fanout`) and the live alert engine
(:mod:`cryptoderiv.alerts`), served by one aiohttp application on ``stream_host:stream_port``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from aiohttp import web

from cryptoderiv.alerts.engine import LiveAlertEngine
from cryptoderiv.alerts.notify import AlertDispatcher
from cryptoderiv.alerts.rules import AlertRule, load_rules_db, load_rules_yaml, merge_rules
from cryptoderiv.alerts.store import Alert, alerts_after, last_alert_id
from cryptoderiv.config import get_settings
from cryptoderiv.exchanges.client import make_client
from cryptoderiv.exchanges.retry import RetryPolicy
from cryptoderiv.streaming.events import Tick, Trade, iso_ms
from cryptoderiv.streaming.fanout import Hub
from cryptoderiv.streaming.feeds import VenueFeeds
from cryptoderiv.streaming.metrics import CONTENT_TYPE, StreamMetrics
from cryptoderiv.streaming.spool import Spool
from cryptoderiv.streaming.subscriptions import StreamConfig
from cryptoderiv.streaming.writer import BatchWriter

logger = logging.getLogger(__name__)

STOP_GRACE_S = 10.0  # how long trade feeds may take to finish a message (and its backfill) at shutdown


@dataclass(frozen=True)
class SidecarSummary:
    """What a run of the sidecar did.

    Attributes
    ----------
    ticks_received, trades_received : int
        Over WebSocket (trades: plus REST backfill).
    ticks_written, trades_written : int
        Rows committed to ``ticks`` / ``trades``.
    rows_spooled : int
        Rows that went through the disk spool.
    spool_files_left : int
        Batches still spooled at exit (0 unless the database was down at the end).
    reconnects : int
        WebSocket redials.
    alerts_fired : int
        Alerts stored and sent.
    seconds : float
        Wall time.
    """

    ticks_received: int
    trades_received: int
    ticks_written: int
    trades_written: int
    rows_spooled: int
    spool_files_left: int
    reconnects: int
    alerts_fired: int
    seconds: float


class Sidecar:
    """The streaming service.

    Parameters
    ----------
    config : StreamConfig
        Subscriptions and thresholds.
    database_url : str, optional
        Defaults to the platform database.
    source : {"simulator", "live"}, optional
        Defaults to ``EXCHANGE_SOURCE``.
    simulator_url : str, optional
        Defaults to ``SIMULATOR_URL``.
    host, port : optional
        Defaults to ``STREAM_HOST`` / ``STREAM_PORT``; port 0 picks a free one (see :attr:`port`).
    spool_dir : Path, optional
        Defaults to the config's, else ``LOCAL_DIR/stream_spool``.
    rules : list of AlertRule, optional
        Extra alert rules (merged over the YAML file's and the table's).
    start_ms : int, optional
        Trades from this time (ms UTC) on are wanted; defaults to now minus ``backfill_lookback_s``.
    """

    def __init__(self, config: StreamConfig, *, database_url: str | None = None, source: str | None = None,
                 simulator_url: str | None = None, host: str | None = None, port: int | None = None,
                 spool_dir: Path | None = None, rules: list[AlertRule] | None = None,
                 start_ms: int | None = None) -> None:
        from cryptoderiv.storage.database import database_url as default_url

        settings = get_settings()
        self.config = config
        self.database_url = database_url or default_url(settings)
        self.source = source
        self.simulator_url = simulator_url
        self.host = host or settings.stream_host
        self.port = settings.stream_port if port is None else port
        self.spool_dir = spool_dir or config.writer.spool_dir or settings.local_dir / "stream_spool"
        self.extra_rules = rules or []
        self.start_ms = start_ms if start_ms is not None else int((time.time() - config.backfill_lookback_s) * 1000)
        self.metrics = StreamMetrics()
        self.hub = Hub(config.client_buffer, self.metrics)
        self.writer = BatchWriter(self.database_url, Spool(Path(self.spool_dir)), config.writer, self.metrics)
        self.dispatcher = AlertDispatcher(self.database_url, push=self._push_alert)
        self.engine = LiveAlertEngine([])
        self.feeds: list[VenueFeeds] = []
        self._clients: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._alert_tasks: set[asyncio.Task[Any]] = set()
        self._pushed_alerts: set[int] = set()
        self._runner: web.AppRunner | None = None
        self._started = time.monotonic()

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the writer, the HTTP/WebSocket server, the feeds and the alert poller."""
        self.writer.start()
        self.engine = LiveAlertEngine(await asyncio.to_thread(self._load_rules))
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/ws", self.hub.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        if server is not None and server.sockets:  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        logger.info("sidecar serving http://%s:%d (/ws, /health, /metrics)", self.host, self.port)
        retry = RetryPolicy(max_attempts=5, base_delay_s=0.2, max_delay_s=3.0)
        for subs in self.config.venues:
            client = make_client(subs.venue, self.source, simulator_url=self.simulator_url, flavour="pro",
                                 retry=retry)
            self._clients.append(client)
            self.feeds.append(VenueFeeds(client, subs, self.start_ms, self.on_tick, self.on_trades, self.metrics,
                                         self.config.reconnect_base_delay_s, self.config.reconnect_max_delay_s))
        for tasks in await asyncio.gather(*(f.tasks() for f in self.feeds)):
            self._tasks += tasks
        self._tasks.append(asyncio.ensure_future(self._poll_alerts()))

    async def stop(self) -> None:
        """Stop the feeds (trade feeds finish the message in hand), flush the writer, close clients and server."""
        trade_tasks = [t for feeds in self.feeds for t in feeds.trade_tasks]
        for feeds in self.feeds:
            for feed in feeds.trade_feeds:
                feed.request_stop()
        if trade_tasks:
            await asyncio.wait(trade_tasks, timeout=STOP_GRACE_S)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for client in self._clients:
            with contextlib.suppress(Exception):
                await client.close()
        if self._alert_tasks:
            await asyncio.gather(*self._alert_tasks, return_exceptions=True)
        await self.writer.close()
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def run(self, duration_s: float | None = None) -> SidecarSummary:
        """Start, run for ``duration_s`` seconds (None: until cancelled), stop; the summary."""
        started = time.monotonic()
        await self.start()
        try:
            if duration_s is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(duration_s)
        finally:
            await self.stop()
        return self.summary(time.monotonic() - started)

    def summary(self, seconds: float) -> SidecarSummary:
        """Counts so far."""
        m = self.metrics
        return SidecarSummary(
            ticks_received=sum(m.ticks_in.values()),
            trades_received=sum(m.trades_in.values()) + sum(m.trades_backfilled.values()),
            ticks_written=m.rows_written["ticks"], trades_written=m.rows_written["trades"],
            rows_spooled=sum(m.rows_spooled.values()), spool_files_left=len(self.writer.spool),
            reconnects=sum(m.reconnects.values()), alerts_fired=sum(m.alerts_fired.values()), seconds=seconds,
        )

    def trade_watermarks(self) -> dict[tuple[str, str], int]:
        """``(venue, symbol) -> ms``: every trade up to that time has been handed to the writer."""
        return {(f.venue, f.symbol): f.watermark_ms for feeds in self.feeds for f in feeds.trade_feeds}

    # --- data path ----------------------------------------------------------------------------------------------

    async def on_tick(self, tick: Tick) -> None:
        """One tick: write, fan out, evaluate alerts."""
        await self.writer.put("ticks", tick.row(), tick.received_ms)
        if tick.source == "option":
            channel = f"option_marks:{tick.exchange}:{tick.base}:{tick.expiry}"
            if self.hub.has_subscribers(channel):
                self.hub.publish(channel, {
                    "venue": tick.exchange, "symbol": tick.symbol, "ts": iso_ms(tick.ts), "ts_ms": tick.ts,
                    "mark_price_coin": tick.mark_price, "mark_iv": tick.mark_iv, "delta": tick.delta,
                    "gamma": tick.gamma, "vega": tick.vega, "theta": tick.theta,
                    "underlying_price": tick.underlying_price})
        else:
            channel = f"ticker:{tick.exchange}:{tick.symbol}"
            if self.hub.has_subscribers(channel):
                self.hub.publish(channel, {
                    "venue": tick.exchange, "symbol": tick.symbol, "ts": iso_ms(tick.ts), "bid": tick.bid,
                    "ask": tick.ask, "last": tick.last, "sent_ts": iso_ms(tick.ts), "ts_ms": tick.ts,
                    "source": tick.source, "mark_price": tick.mark_price, "index_price": tick.index_price,
                    "funding_rate": tick.funding_rate})
        if self.engine.rules:
            for rule, alert in self.engine.on_tick(tick):
                self._fire(rule, alert)

    async def on_trades(self, trades: list[Trade]) -> None:
        """New trades (exactly once each): write, fan out."""
        for t in trades:
            await self.writer.put("trades", t.row(), time.time() * 1000.0)
            channel = f"trades:{t.exchange}:{t.symbol}"
            if self.hub.has_subscribers(channel):
                self.hub.publish(channel, {"venue": t.exchange, "symbol": t.symbol, "trade_id": t.trade_id,
                                           "ts": iso_ms(t.ts), "price": t.price, "amount": t.amount, "side": t.side})

    # --- alerts ---------------------------------------------------------------------------------------------------

    def _load_rules(self) -> list[AlertRule]:
        from_file = load_rules_yaml(self.config.alert_rules_file) if self.config.alert_rules_file else []
        from_db: list[AlertRule] = []
        if self.config.use_db_rules:
            try:
                with psycopg.connect(self.database_url, connect_timeout=3) as conn:
                    from_db = load_rules_db(conn)
            except psycopg.Error as exc:
                logger.warning("alert rules from the database unavailable (%s); using the file's", exc)
        rules = merge_rules(from_file, from_db, self.extra_rules)
        logger.info("%d alert rules loaded", len(rules))
        return rules

    def _fire(self, rule: AlertRule, alert: Alert) -> None:
        task = asyncio.ensure_future(self._dispatch(rule, alert))
        self._alert_tasks.add(task)
        task.add_done_callback(self._alert_tasks.discard)

    async def _dispatch(self, rule: AlertRule, alert: Alert) -> None:
        try:
            alert_id = await self.dispatcher.dispatch(rule, alert)
        except psycopg.Error as exc:  # database down: still tell the dashboard
            logger.error("alert %s not stored (%s); pushed only", alert.dedup_key, exc)
            self._push_alert(alert.as_dict(None, rule.channels))
            return
        if alert_id is not None:
            self.metrics.alerts_fired[alert.kind] += 1

    def _push_alert(self, row: dict[str, Any]) -> None:
        if row.get("alert_id") is not None:
            if row["alert_id"] in self._pushed_alerts:
                return
            self._pushed_alerts.add(row["alert_id"])
        self.hub.publish("alerts", row)

    async def _poll_alerts(self) -> None:
        """Push alerts other processes stored (DQ, pipeline failures) to the ``alerts`` channel."""
        last = None
        while True:
            try:
                if last is None:
                    last = await asyncio.to_thread(self._with_conn, last_alert_id)
                else:
                    rows = await asyncio.to_thread(self._with_conn, functools.partial(_rows_after, after=last))
                    for row in rows:
                        last = max(last, int(row["alert_id"]))
                        self._push_alert(row)
            except psycopg.Error as exc:
                logger.debug("alert poll skipped: %s", exc)
            await asyncio.sleep(self.config.alert_poll_interval_s)

    def _with_conn(self, fn: Any) -> Any:
        with psycopg.connect(self.database_url, connect_timeout=3, options="-c timezone=UTC") as conn:
            return fn(conn)

    # --- HTTP ----------------------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """The ``/health`` document."""
        m = self.metrics
        return {
            "status": "ok" if m.database_up else "degraded",
            "database_up": m.database_up,
            "uptime_s": round(time.monotonic() - self._started, 1),
            "clients": m.clients,
            "ticks_in": sum(m.ticks_in.values()),
            "trades_in": sum(m.trades_in.values()),
            "rows_written": dict(m.rows_written),
            "queue_rows": self.writer.queue.qsize(),
            "spool_files": m.spool_files,
            "reconnects": dict(m.reconnects),
            "subscriptions": {f.subs.venue: {"tickers": len(f.subs.tickers) + len(f.future_symbols),
                                             "book": len(f.subs.book), "trades": len(f.trade_feeds),
                                             "options": len(f.option_symbols)}
                              for f in self.feeds},
        }

    async def _health(self, _: web.Request) -> web.Response:
        return web.json_response(self.health())

    async def _metrics(self, _: web.Request) -> web.Response:
        self.metrics.queue_rows = self.writer.queue.qsize()
        return web.Response(body=self.metrics.render().encode(), headers={"Content-Type": CONTENT_TYPE})


def _rows_after(conn: psycopg.Connection, after: int) -> list[dict[str, Any]]:
    return alerts_after(conn, after)


async def run_sidecar(config: StreamConfig, duration_s: float | None = None, **kwargs: Any) -> SidecarSummary:
    """Run a :class:`Sidecar` (keyword arguments as its constructor's) for ``duration_s`` seconds."""
    return await Sidecar(config, **kwargs).run(duration_s)
