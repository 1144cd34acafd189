"""The simulator's HTTP/WebSocket server: one aiohttp application for all venues.

Every exchange endpoint is mounted under its original host, so a client keeps the host in the path::

    https://fapi.binance.com/fapi/v1/klines  ->  http://127.0.0.1:PORT/fapi.binance.com/fapi/v1/klines
    wss://www.deribit.com/ws/api/v2          ->  ws://127.0.0.1:PORT/www.deribit.com/ws/api/v2

Control endpoints live under ``/_sim``: ``GET /_sim/health``, ``GET /_sim/requests`` (the request log),
``DELETE /_sim/requests`` (clear it), ``GET``/``PUT /_sim/faults`` (the fault spec, as text), ``GET
/_sim/bad-data`` (the bad-data mode's defects and every row it damaged).

:class:`SimulatorServer` runs the application in a background thread (tests, notebooks) or in the foreground
(:meth:`SimulatorServer.serve_forever`, used by ``cryptoderiv simulator serve``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from cryptoderiv.simulator.bad_data import BadData
from cryptoderiv.simulator.errors import SimulatorError
from cryptoderiv.simulator.faults import FaultConfig, FaultInjector, drop_field, malformed_body, truncate_body
from cryptoderiv.simulator.instruments import Instrument
from cryptoderiv.simulator.market import Market, Trades
from cryptoderiv.simulator.requestlog import RequestLog

logger = logging.getLogger(__name__)

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    """Current wall-clock time in ms UTC."""
    return int(time.time() * 1000)


@dataclass
class ApiResult:
    """A REST answer before serialisation and fault injection."""

    payload: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """A venue-formatted error answer raised by a handler."""

    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(f"HTTP {status}: {payload}")
        self.status = status
        self.payload = payload


RestHandler = Callable[[dict[str, str], int], ApiResult]


@dataclass
class SimContext:
    """What every venue handler can use.

    Attributes
    ----------
    market : Market
        The simulated market (ground truth).
    clock : callable
        Returns the simulator's present in ms UTC.
    faults : FaultInjector
        Fault decisions.
    log : RequestLog
        Request log.
    replay : object or None
        A :class:`~cryptoderiv.simulator.replay.ReplayChain` served as Deribit's option chain, if any.
    ws_interval_s : float
        Period of WebSocket pushes.
    bad_data : BadData
        Defects injected into well-formed answers (:mod:`~cryptoderiv.simulator.bad_data`).
    """

    market: Market
    clock: Clock = wall_clock_ms
    faults: FaultInjector = field(default_factory=FaultInjector)
    log: RequestLog = field(default_factory=RequestLog)
    replay: Any = None
    ws_interval_s: float = 0.2
    bad_data: BadData = field(default_factory=BadData)

    def now_ms(self) -> int:
        """The simulator's present."""
        return self.clock()

    async def new_trades(self, inst: Instrument) -> AsyncIterator[tuple[int, Trades]]:
        """Every ``ws_interval_s``: the simulator's present and the trades of ``inst`` since the previous
        tick (ticks without trades are skipped; no trade is sent twice or left out)."""
        last = self.now_ms()
        while True:
            await asyncio.sleep(self.ws_interval_s)
            now = self.now_ms()
            trades = self.market.trades(inst, last + 1, now)
            last = now
            if len(trades):
                yield now, trades


class WsSession:
    """A WebSocket connection with message counting (for ``ws_drop_every``) and subscription tasks.

    Parameters
    ----------
    ws : aiohttp.web.WebSocketResponse
        The prepared connection.
    ctx : SimContext
        Shared context.
    venue, host, path : str
        For the request log.
    """

    def __init__(self, ws: web.WebSocketResponse, ctx: SimContext, venue: str, host: str, path: str) -> None:
        self.ws = ws
        self.ctx = ctx
        self.venue = venue
        self.host = host
        self.path = path
        self.data_messages = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.dropped = False

    def log(self, message: Any) -> None:
        """Record a client message."""
        params = message if isinstance(message, dict) else {"raw": message}
        self.ctx.log.add(
            ts_ms=wall_clock_ms(),
            transport="ws",
            venue=self.venue,
            host=self.host,
            path=self.path,
            params=params,
            status=0,
        )

    async def send(self, message: Any, data: bool = True) -> bool:
        """Send a JSON message; False if the connection is closed (or was dropped on purpose)."""
        if self.ws.closed or self.dropped:
            return False
        try:
            await self.ws.send_str(json.dumps(message, separators=(",", ":")))
        except (ConnectionResetError, RuntimeError):
            return False
        if data:
            self.data_messages += 1
            every = self.ctx.faults.config.ws_drop_every
            if every and self.data_messages >= every:
                self.dropped = True
                self.ctx.faults.injected["ws_drop"] += 1
                logger.info("dropping %s WebSocket after %d messages (fault)", self.venue, self.data_messages)
                await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"simulated drop")
                return False
        return True

    def spawn(self, coro: Awaitable[None]) -> None:
        """Run a push loop for the lifetime of the connection."""
        self.tasks.append(asyncio.ensure_future(coro))

    async def close(self) -> None:
        """Cancel the push loops."""
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


WsHandler = Callable[[WsSession, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """A REST endpoint (``rest``) or WebSocket endpoint (``ws_message``) of a venue.

    ``path`` matches exactly, or as a prefix when it ends with ``/``.
    """

    venue: str
    host: str
    path: str
    rest: RestHandler | None = None
    ws_message: WsHandler | None = None
    rate_limit_payload: Callable[[], Any] | None = None

    def matches(self, host: str, path: str) -> bool:
        """True if this route serves ``host`` + ``path``."""
        if host != self.host:
            return False
        return path.startswith(self.path) if self.path.endswith("/") else path == self.path


CTX_KEY: web.AppKey[SimContext] = web.AppKey("ctx", SimContext)
ROUTES_KEY: web.AppKey[list[Route]] = web.AppKey("routes", list)


def build_app(ctx: SimContext) -> web.Application:
    """The aiohttp application serving every venue of the simulator."""
    from cryptoderiv.simulator.venues import binance, bybit, deribit

    routes: list[Route] = [*deribit.routes(ctx), *binance.routes(ctx), *bybit.routes(ctx)]
    app = web.Application()
    app[CTX_KEY] = ctx
    app[ROUTES_KEY] = routes

    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "seed": ctx.market.seed,
                "now": ctx.now_ms(),
                "pricer": ctx.market.pricer.name,
                "faults": dict(ctx.faults.injected),
            }
        )

    async def requests_get(_: web.Request) -> web.Response:
        return web.json_response([r.as_dict() for r in ctx.log.records()])

    async def requests_delete(_: web.Request) -> web.Response:
        ctx.log.clear()
        return web.json_response({"cleared": True})

    async def faults_get(_: web.Request) -> web.Response:
        return web.json_response({"config": ctx.faults.config.__dict__, "injected": dict(ctx.faults.injected)})

    async def faults_put(request: web.Request) -> web.Response:
        try:
            ctx.faults.configure(FaultConfig.parse(await request.text()))
        except SimulatorError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return await faults_get(request)

    app.router.add_get("/_sim/health", health)
    app.router.add_get("/_sim/requests", requests_get)
    app.router.add_delete("/_sim/requests", requests_delete)
    async def bad_data_get(_: web.Request) -> web.Response:
        return web.json_response({"defects": list(ctx.bad_data.defects), "injected": ctx.bad_data.records()})

    app.router.add_get("/_sim/bad-data", bad_data_get)
    app.router.add_get("/_sim/faults", faults_get)
    app.router.add_put("/_sim/faults", faults_put)
    app.router.add_route("*", "/{host}/{tail:.*}", _dispatch)
    return app


async def _dispatch(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX_KEY]
    host = request.match_info["host"]
    path = "/" + request.match_info["tail"]
    route = next((r for r in request.app[ROUTES_KEY] if r.matches(host, path)), None)
    if route is None:
        ctx.log.add(
            ts_ms=wall_clock_ms(),
            transport="http",
            venue="sim",
            host=host,
            path=path,
            params=dict(request.query),
            status=404,
        )
        return web.json_response({"error": f"the simulator does not serve {host}{path}"}, status=404)
    if route.ws_message is not None and request.headers.get("Upgrade", "").lower() == "websocket":
        return await _serve_ws(request, ctx, route, host, path)
    assert route.rest is not None
    return await _serve_rest(request, ctx, route, host, path)


async def _serve_rest(request: web.Request, ctx: SimContext, route: Route, host: str, path: str) -> web.Response:
    params = {k: v for k, v in request.query.items()}
    request_key = request.method + " " + host + path + "?" + "&".join(f"{k}={params[k]}" for k in sorted(params))
    fault = ctx.faults.decide(request_key)
    cfg = ctx.faults.config

    def log(status: int) -> None:
        ctx.log.add(
            ts_ms=wall_clock_ms(),
            transport="http",
            venue=route.venue,
            host=host,
            path=path,
            params=params,
            status=status,
            fault=fault,
        )

    if fault == "timeout":
        log(0)
        await asyncio.sleep(cfg.timeout_s)
        return web.json_response({"error": "late"}, status=504)
    if fault == "slow":
        await asyncio.sleep(cfg.slow_ms / 1000.0)
    if fault == "429":
        log(429)
        payload = route.rate_limit_payload() if route.rate_limit_payload else {"error": "too many requests"}
        return web.json_response(payload, status=429, headers={"Retry-After": str(cfg.retry_after)})
    if fault == "5xx":
        status = (502, 503, 504)[len(request_key) % 3]
        log(status)
        return web.Response(
            text=f"<html><body><h1>{status}</h1>simulated upstream failure</body></html>",
            status=status,
            content_type="text/html",
        )
    assert route.rest is not None
    now = ctx.now_ms()
    try:
        result = route.rest(params, now)
    except ApiError as exc:
        result = ApiResult(exc.payload, exc.status)
    except Exception:
        logger.exception("simulator handler failed for %s%s %s", host, path, params)
        result = ApiResult({"error": "simulator internal error"}, 500)
    if fault == "malformed" and result.status == 200:
        log(200)
        return web.Response(text=malformed_body(request_key), status=200, content_type="application/json")
    payload = result.payload
    if result.status == 200:
        payload = ctx.bad_data.damage(route.venue, path, params, payload, now)
    if fault == "missing_field" and result.status == 200:
        payload, what = drop_field(payload, request_key)
        logger.debug("dropped %s from %s%s", what, host, path)
    body = json.dumps(payload, separators=(",", ":"))
    if fault == "truncated" and result.status == 200:
        body = truncate_body(body, request_key)
    log(result.status)
    return web.Response(text=body, status=result.status, content_type="application/json", headers=result.headers)


async def _serve_ws(request: web.Request, ctx: SimContext, route: Route, host: str, path: str) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True, heartbeat=None)
    await ws.prepare(request)
    session = WsSession(ws, ctx, route.venue, host, path)
    assert route.ws_message is not None
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                message = json.loads(msg.data)
            except ValueError:
                message = msg.data
            session.log(message)
            await route.ws_message(session, message)
    finally:
        await session.close()
    return ws


class SimulatorServer:
    """The simulator, served on ``host:port``.

    Parameters
    ----------
    market : Market, optional
        The market to serve; defaults to ``Market(seed)``.
    seed : int, default 7
        Seed of the default market.
    faults : FaultConfig or str, optional
        Faults to inject (a :class:`FaultConfig` or a spec string).
    host : str, default "127.0.0.1"
        Interface to bind.
    port : int, default 0
        Port; 0 picks a free ephemeral port (see :attr:`port` after :meth:`start`).
    clock : callable, optional
        The simulator's present (ms UTC); defaults to the wall clock.
    replay : str or Path, optional
        A Deribit option-chain snapshot file (``.csv`` or ``.csv.gz``) to serve as Deribit's chain.
    ws_interval_s : float, default 0.2
        Period of WebSocket pushes.
    bad_data : BadData or str, optional
        Bad-data mode: defects to inject into well-formed answers (``"all"`` or a comma-separated list of
        :data:`~cryptoderiv.simulator.bad_data.DEFECTS`), seeded by ``seed``.

    Examples
    --------
    >>> with SimulatorServer(seed=7) as sim:  # doctest: +SKIP
    ...     print(sim.url)
    http://127.0.0.1:54321
    """

    def __init__(
        self,
        market: Market | None = None,
        seed: int = 7,
        faults: FaultConfig | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        replay: str | Path | None = None,
        ws_interval_s: float = 0.2,
        bad_data: BadData | str | None = None,
    ) -> None:
        config = faults if isinstance(faults, FaultConfig) else FaultConfig.parse(faults)
        replay_chain = None
        if replay is not None:
            from cryptoderiv.simulator.replay import ReplayChain

            replay_chain = ReplayChain.load(Path(replay))
        self.ctx = SimContext(
            market=market or Market(seed),
            clock=clock or wall_clock_ms,
            faults=FaultInjector(config),
            replay=replay_chain,
            ws_interval_s=ws_interval_s,
            bad_data=bad_data if isinstance(bad_data, BadData) else BadData.parse(bad_data, seed),
        )
        self.host = host
        self.port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def market(self) -> Market:
        """The served market (ground truth)."""
        return self.ctx.market

    @property
    def request_log(self) -> RequestLog:
        """The request log."""
        return self.ctx.log

    @property
    def faults(self) -> FaultInjector:
        """The fault injector (``configure`` it at run time)."""
        return self.ctx.faults

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    async def _start_site(self) -> None:
        self._runner = web.AppRunner(build_app(self.ctx), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            raise SimulatorError(f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}") from exc
        server = site._server
        if server is not None and server.sockets:  # type: ignore[attr-defined]
            self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        logger.info("exchange simulator listening on %s (seed %d)", self.url, self.market.seed)

    def start(self, timeout_s: float = 30.0) -> SimulatorServer:
        """Start serving in a background thread; returns when the port is bound.

        Raises
        ------
        SimulatorError
            If the server cannot start.
        """

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_site())
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
                self._error = exc
                self._started.set()
                loop.close()
                return
            self._started.set()
            loop.run_forever()
            loop.run_until_complete(self._cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="exchange-simulator", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout_s):
            raise SimulatorError(f"simulator did not start within {timeout_s} s")
        if self._error is not None:
            if isinstance(self._error, SimulatorError):
                raise self._error
            raise SimulatorError(f"simulator failed to start: {self._error}") from self._error
        return self

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        """Stop the background server and wait for its thread."""
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve in the foreground until interrupted (Ctrl-C).

        Parameters
        ----------
        on_ready : callable, optional
            Called with the base URL once the port is bound.
        """

        async def main() -> None:
            await self._start_site()
            if on_ready is not None:
                on_ready(self.url)
            try:
                await asyncio.Event().wait()
            finally:
                await self._cleanup()

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
