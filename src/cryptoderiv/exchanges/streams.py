"""WebSocket subscriptions through ccxt.pro that survive dropped connections.

ccxt.pro does not reconnect by itself: when a connection drops, pending ``watch_*`` calls fail with
``NetworkError`` and the next call dials again. :func:`watch` wraps that into an endless async iterator with
backoff between failed attempts.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import ccxt

from cryptoderiv.exchanges.errors import ExchangeAccessError
from cryptoderiv.exchanges.retry import RetryPolicy

logger = logging.getLogger(__name__)


@dataclass
class StreamStats:
    """Counts of a :func:`watch` loop.

    Attributes
    ----------
    updates : int
        Results yielded.
    reconnects : int
        Failed watches followed by a new dial.
    """

    updates: int = 0
    reconnects: int = 0


async def watch(
    exchange: Any,
    method: str,
    *args: Any,
    retry: RetryPolicy | None = None,
    stats: StreamStats | None = None,
    **kwargs: Any,
) -> AsyncIterator[Any]:
    """Yield the successive results of ``await exchange.<method>(*args, **kwargs)``, reconnecting after drops.

    Parameters
    ----------
    exchange : ccxt.pro.Exchange
        A ccxt.pro client (see :func:`~cryptoderiv.exchanges.client.make_client` with ``flavour="pro"``).
    method : str
        ``watch_ticker``, ``watch_trades``, ...
    *args, **kwargs
        Arguments of the watch method.
    retry : RetryPolicy, optional
        Backoff between consecutive failures; ``max_attempts`` consecutive failures end the stream.
    stats : StreamStats, optional
        Updated in place.

    Raises
    ------
    ExchangeAccessError
        After ``max_attempts`` consecutive failed watches.
    """
    policy = retry or RetryPolicy()
    rng = random.Random(policy.seed)
    counters = stats if stats is not None else StreamStats()
    failures = 0
    fn = getattr(exchange, method)
    while True:
        try:
            result = await fn(*args, **kwargs)
        except ccxt.NetworkError as exc:
            failures += 1
            counters.reconnects += 1
            if failures >= policy.max_attempts:
                raise ExchangeAccessError(f"{exchange.id} {method}: {failures} failed watches in a row: {exc}") from exc
            wait = policy.delay(failures, rng)
            logger.info("%s %s dropped (%s); reconnecting in %.2f s", exchange.id, method, type(exc).__name__, wait)
            await asyncio.sleep(wait)
            continue
        failures = 0
        counters.updates += 1
        yield result
