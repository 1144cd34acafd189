"""Retries with exponential backoff and jitter for transient exchange failures.

Retries happen per HTTP request, inside the ccxt client (see :mod:`cryptoderiv.exchanges.client`): a ccxt
method that makes several requests (``load_markets`` makes up to seven on Bybit) only repeats the request
that failed. Only failures that say nothing about the request itself are retried: ccxt's ``NetworkError``
family (``RequestTimeout``, ``ExchangeNotAvailable`` and 5xx, ``RateLimitExceeded``, ``DDoSProtection``, dropped
connections) and :class:`~cryptoderiv.exchanges.errors.MalformedResponse` (a 2xx body that is not usable
JSON). Everything else (bad symbol, bad parameters, authentication, ``NotSupported``) fails at once.

The delay before retry ``n`` (1-based) is ``min(max_delay, base_delay * 2**(n-1))`` scaled by a uniform
factor in ``[1 - jitter, 1]`` ("equal jitter"), never shorter than the venue's ``Retry-After`` (capped at
``max_retry_after_s``); the client's rate limiter is consulted again before each retry.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import ccxt

from cryptoderiv.exchanges.errors import MalformedResponse

logger = logging.getLogger(__name__)

T = TypeVar("T")
RETRYABLE: tuple[type[BaseException], ...] = (ccxt.NetworkError, MalformedResponse)


@dataclass(frozen=True)
class RetryPolicy:
    """How to retry transient failures of one request.

    Attributes
    ----------
    max_attempts : int
        Attempts per request, first included.
    base_delay_s : float
        Delay before the first retry.
    max_delay_s : float
        Upper bound of the exponential delay.
    jitter : float
        Fraction of the delay drawn at random (0: none, 1: full jitter).
    max_retry_after_s : float
        Cap on a venue's ``Retry-After``.
    seed : int or None
        Seed of the jitter (None: nondeterministic).
    """

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    jitter: float = 0.5
    max_retry_after_s: float = 60.0
    seed: int | None = None

    def delay(self, retry: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        base = min(self.max_delay_s, self.base_delay_s * 2 ** (retry - 1))
        wait = base * (1.0 - self.jitter * rng.random())
        if retry_after_s is not None:
            wait = max(wait, min(retry_after_s, self.max_retry_after_s))
        return wait


@dataclass
class CallStats:
    """What the requests of a client went through.

    Attributes
    ----------
    calls : int
        HTTP requests made (retries included).
    retries : int
        Retried requests.
    failures : collections.Counter
        Failures by exception class name.
    slept_s : float
        Total backoff time.
    """

    calls: int = 0
    retries: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    slept_s: float = 0.0

    def copy(self) -> CallStats:
        """A snapshot."""
        return CallStats(self.calls, self.retries, self.failures.copy(), self.slept_s)

    def since(self, earlier: CallStats) -> CallStats:
        """What happened after the snapshot ``earlier``."""
        return CallStats(
            self.calls - earlier.calls,
            self.retries - earlier.retries,
            self.failures - earlier.failures,
            self.slept_s - earlier.slept_s,
        )


def retry_after_s(exchange: Any) -> float | None:
    """The ``Retry-After`` header (seconds) of the client's last answer, if any."""
    headers = getattr(exchange, "last_response_headers", None) or {}
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


class Retrier:
    """Runs one request with retries; shared by the sync and async clients.

    Parameters
    ----------
    policy : RetryPolicy
        Retry policy.
    """

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.stats = CallStats()
        self._rng = random.Random(policy.seed)

    def _next_wait(self, exchange: Any, exc: BaseException, attempt: int, what: str) -> float | None:
        """Record a failure; the backoff before the next attempt, or None to give up."""
        self.stats.failures[type(exc).__name__] += 1
        if attempt >= self.policy.max_attempts:
            logger.warning("%s %s: giving up after %d attempts (%s)", exchange.id, what, attempt, type(exc).__name__)
            return None
        limited = isinstance(exc, ccxt.DDoSProtection | ccxt.RateLimitExceeded)
        wait = self.policy.delay(attempt, self._rng, retry_after_s(exchange) if limited else None)
        logger.info("%s %s: %s; retry %d in %.2f s", exchange.id, what, type(exc).__name__, attempt, wait)
        self.stats.retries += 1
        self.stats.slept_s += wait
        return wait

    def run(self, exchange: Any, what: str, request: Callable[[], T]) -> T:
        """Run a blocking request with retries (re-raises the last error)."""
        attempt = 0
        while True:
            attempt += 1
            self.stats.calls += 1
            try:
                return request()
            except RETRYABLE as exc:
                wait = self._next_wait(exchange, exc, attempt, what)
                if wait is None:
                    raise
            time.sleep(wait)
            if exchange.enableRateLimit:
                exchange.throttle(1)

    async def run_async(self, exchange: Any, what: str, request: Callable[[], Awaitable[T]]) -> T:
        """Run an asyncio request with retries (re-raises the last error)."""
        attempt = 0
        while True:
            attempt += 1
            self.stats.calls += 1
            try:
                return await request()
            except RETRYABLE as exc:
                wait = self._next_wait(exchange, exc, attempt, what)
                if wait is None:
                    raise
            await asyncio.sleep(wait)
            if exchange.enableRateLimit:
                await exchange.throttle(1)
