"""CCXT clients for the live venues or the local simulator.

:func:`make_client` builds a ccxt (REST, sync), ccxt.async_support or ccxt.pro (WebSocket) instance of
``deribit``, ``binance`` or ``bybit`` with:

* the rate limiter on;
* ``fetchMarkets`` narrowed to what the platform uses (Binance spot + USD-M; Bybit spot, linear and
  BTC/ETH options, all pages), so ``load_markets`` does not call coin-margined or other hosts;
* for the simulator, every URL of ``exchange.urls['api']`` (REST and WebSocket) rewritten so the original host
  stays in the path: ``https://fapi.binance.com/fapi/v1`` -> ``http://127.0.0.1:PORT/fapi.binance.com/fapi/v1``;
* (by default) a response check that turns non-JSON and incomplete 2xx answers into
  :class:`~cryptoderiv.exchanges.errors.MalformedResponse`;
* (optionally) per-request retries with backoff and jitter (:mod:`cryptoderiv.exchanges.retry`).
"""

from __future__ import annotations

import inspect
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import ccxt
import ccxt.async_support
import ccxt.pro

from cryptoderiv.config import ExchangeSource, get_settings
from cryptoderiv.exchanges.errors import ExchangeAccessError
from cryptoderiv.exchanges.response_checks import check_response, endpoint_path
from cryptoderiv.exchanges.retry import Retrier, RetryPolicy

logger = logging.getLogger(__name__)

VENUES = ("deribit", "binance", "bybit")
OPTION_CURRENCIES = ("BTC", "ETH")

#: ``options`` given to each venue's ccxt class (narrowing ``fetchMarkets``).
VENUE_OPTIONS: dict[str, dict[str, Any]] = {
    "deribit": {},
    "binance": {
        "fetchMarkets": {"types": ["spot", "linear"]},
        # the default miniTicker stream has no bid/ask
        "watchTicker": {"name": "ticker"},
        "watchTickers": {"name": "ticker"},
    },
    "bybit": {
        "fetchMarkets": {
            "types": ["spot", "linear", "option"],
            "options": list(OPTION_CURRENCIES),
            "loadAllOptions": True,
        }
    },
}

_classes: dict[tuple[str, str], type] = {}


def _checked_class(base: Any) -> type:
    """A subclass of a ccxt exchange class adding response checks and per-request retries.

    ``handle_errors`` first runs :func:`check_response` (when ``self.check_responses``); ``fetch`` (one HTTP
    request, called by ccxt after its rate limiter) is retried by ``self.retrier`` when one is set.
    """
    key = (base.__module__, base.__name__)
    cached = _classes.get(key)
    if cached is not None:
        return cached

    def handle_errors(
        self: Any,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        if self.check_responses:
            check_response(code, url, body, response)
        return base.handle_errors(
            self, code, reason, url, method, headers, body, response, request_headers, request_body
        )

    async def fetch_async(self: Any, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        if self.retrier is None:
            return await base.fetch(self, url, method, headers, body)
        return await self.retrier.run_async(
            self, f"{method} {endpoint_path(url)}", lambda: base.fetch(self, url, method, headers, body)
        )

    def fetch_sync(self: Any, url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        if self.retrier is None:
            return base.fetch(self, url, method, headers, body)
        return self.retrier.run(
            self, f"{method} {endpoint_path(url)}", lambda: base.fetch(self, url, method, headers, body)
        )

    fetch = fetch_async if inspect.iscoroutinefunction(base.fetch) else fetch_sync

    cls = type(
        f"Checked{base.__name__}",
        (base,),
        {
            "handle_errors": handle_errors,
            "fetch": fetch,
            "check_responses": True,
            "retrier": None,
            "__module__": __name__,
        },
    )
    _classes[key] = cls
    return cls


def rewrite_url(url: str, simulator_url: str, hostname: str | None = None) -> str:
    """Point an exchange URL at the simulator, keeping the original host as the first path segment.

    Parameters
    ----------
    url : str
        Exchange URL (``https://``, ``wss://``), possibly with ccxt's ``{hostname}`` placeholder.
    simulator_url : str
        Base URL of the simulator, e.g. ``http://127.0.0.1:8765``.
    hostname : str, optional
        Value of ``{hostname}`` (ccxt's ``exchange.hostname``).

    Returns
    -------
    str
        e.g. ``wss://stream.binance.com:9443/ws`` -> ``ws://127.0.0.1:8765/stream.binance.com/ws``.
    """
    if hostname is not None:
        url = url.replace("{hostname}", hostname)
    parts = urlsplit(url)
    sim = urlsplit(simulator_url)
    secure = sim.scheme == "https"
    scheme = ("wss" if secure else "ws") if parts.scheme in ("ws", "wss") else ("https" if secure else "http")
    path = "/" + (parts.hostname or "") + parts.path
    return urlunsplit((scheme, sim.netloc, path, parts.query, parts.fragment))


def _rewrite_tree(node: Any, simulator_url: str, hostname: str | None) -> Any:
    if isinstance(node, str):
        return rewrite_url(node, simulator_url, hostname) if "://" in node else node
    if isinstance(node, dict):
        return {k: _rewrite_tree(v, simulator_url, hostname) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_tree(v, simulator_url, hostname) for v in node]
    return node


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


SIMULATOR_RATE_LIMIT_MS = 2


def make_client(
    venue: str,
    source: ExchangeSource | str | None = None,
    *,
    simulator_url: str | None = None,
    flavour: str = "sync",
    timeout_ms: int = 10_000,
    check_responses: bool = True,
    retry: RetryPolicy | None = None,
    options: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
) -> Any:
    """A configured ccxt client of a venue.

    Parameters
    ----------
    venue : {"deribit", "binance", "bybit"}
        The exchange.
    source : {"simulator", "live"}, optional
        Where to connect; defaults to ``EXCHANGE_SOURCE`` (settings).
    simulator_url : str, optional
        Simulator base URL; defaults to ``SIMULATOR_URL`` (settings).
    flavour : {"sync", "async", "pro"}, default "sync"
        ``ccxt`` (REST, blocking), ``ccxt.async_support`` (REST, asyncio) or ``ccxt.pro`` (WebSocket + REST).
    timeout_ms : int, default 10000
        Request timeout.
    check_responses : bool, default True
        Reject non-JSON and incomplete 2xx answers (see :mod:`cryptoderiv.exchanges.response_checks`).
    retry : RetryPolicy, optional
        Retry each failed HTTP request (network errors, 429/5xx, timeouts, malformed answers) with
        backoff; None: no retries. With neither checks nor retries the plain ccxt class is returned.
    options : dict, optional
        Extra ccxt ``options`` merged over :data:`VENUE_OPTIONS`.
    config : dict, optional
        Extra ccxt constructor settings.

    Returns
    -------
    ccxt.Exchange
        The client; call ``close()`` (async flavours: ``await close()``) when done.

    Raises
    ------
    ExchangeAccessError
        On an unknown venue, source or flavour.
    """
    if venue not in VENUES:
        raise ExchangeAccessError(f"unknown venue {venue!r}; choose one of {', '.join(VENUES)}")
    settings = get_settings()
    try:
        resolved = ExchangeSource(source) if source is not None else settings.exchange_source
    except ValueError as exc:
        raise ExchangeAccessError(f"unknown exchange source {source!r}; use 'simulator' or 'live'") from exc
    modules = {"sync": ccxt, "async": ccxt.async_support, "pro": ccxt.pro}
    if flavour not in modules:
        raise ExchangeAccessError(f"unknown client flavour {flavour!r}; use sync, async or pro")
    base = getattr(modules[flavour], venue)
    cls = _checked_class(base) if check_responses or retry is not None else base
    merged_options = _deep_merge(VENUE_OPTIONS[venue], options or {})
    client = cls(
        {
            "enableRateLimit": True,
            "enableLastJsonResponse": True,
            "timeout": timeout_ms,
            "options": merged_options,
            **(config or {}),
        }
    )
    if cls is not base:
        client.check_responses = check_responses
        client.retrier = Retrier(retry) if retry is not None else None
    if resolved is ExchangeSource.SIMULATOR:
        url = simulator_url or settings.simulator_url
        client.urls["api"] = _rewrite_tree(client.urls["api"], url, getattr(client, "hostname", None))
        if "rateLimit" not in (config or {}):
            # The limiter stays on, paced for the local simulator rather than a venue's public limits.
            client.rateLimit = SIMULATOR_RATE_LIMIT_MS
        logger.debug("%s client points at the simulator %s", venue, url)
    return client
