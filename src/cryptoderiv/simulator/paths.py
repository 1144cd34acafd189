"""Seeded Heston paths on a fixed time grid: a pure function of (seed, time).

The grid is one step per UTC minute from :data:`~cryptoderiv.simulator.calendar.EPOCH_MS`. The random numbers
of day ``d`` come from ``SeedSequence((seed, tag, d))`` (counter-based: no state is carried between draws), so
a day's numbers never depend on which days were asked for before. The state at the start of day ``d`` is the
end state of day ``d - 1``; :class:`HestonPaths` computes those states once, in order, and caches them.

Inside a minute the log price is a Brownian bridge on a one-second grid between the two minute points, with
the minute's variance; candles take their high and low from it and trades their prices.

Dynamics (full-truncation Euler, :math:`v^+ = \\max(v, 0)`, :math:`\\Delta = 1` minute in years):

.. math::
    \\ln S_{n+1} = \\ln S_n - \\tfrac12 v_n^+\\Delta + \\sqrt{v_n^+\\Delta}\\,(\\rho Z^v_n + \\sqrt{1-\\rho^2} Z^s_n)

    v_{n+1} = v_n + \\kappa(\\theta - v_n^+)\\Delta + \\sigma\\sqrt{v_n^+\\Delta}\\, Z^v_n

so the spot is a martingale (zero rates) with the Heston parameters of :class:`SpotHestonParams`.

References
----------
Lord, R., Koekkoek, R., van Dijk, D. (2010). A comparison of biased simulation schemes for stochastic
volatility models. Quantitative Finance 10(2).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from cryptoderiv.pricing.heston import HestonParams
from cryptoderiv.simulator.calendar import EPOCH_MS, MS_PER_DAY, SECONDS_PER_YEAR

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
MINUTES_PER_DAY = 1440
SECONDS_PER_MINUTE = 60
DT_MINUTE = 60.0 / SECONDS_PER_YEAR
DT_SECOND = 1.0 / SECONDS_PER_YEAR

_TAG_HESTON = 1
_TAG_BRIDGE = 2

K = TypeVar("K")
V = TypeVar("V")


def stable_hash(*parts: object) -> int:
    """A 63-bit hash of ``parts`` that is the same in every process (unlike :func:`hash`)."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def day_rng(seed: int, *key: int) -> np.random.Generator:
    """Counter-based generator for one block: ``SeedSequence((seed, *key))`` feeding PCG64."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence((seed, *key))))


class LRUCache(OrderedDict[K, V]):
    """A small thread-safe least-recently-used cache."""

    def __init__(self, capacity: int) -> None:
        super().__init__()
        self.capacity = capacity
        self.lock = threading.RLock()

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """Return the cached value of ``key`` or compute, store and return it."""
        with self.lock:
            if key in self:
                self.move_to_end(key)
                return self[key]
        value = compute()
        with self.lock:
            self[key] = value
            self.move_to_end(key)
            while len(self) > self.capacity:
                self.popitem(last=False)
        return value


@dataclass(frozen=True, slots=True)
class SpotHestonParams(HestonParams):
    """The simulated spot of one asset: the Heston dynamics of
    :class:`cryptoderiv.pricing.heston.HestonParams` (validated there) and the spot at the epoch.

    Attributes
    ----------
    s0 : float
        Spot at the epoch, USD.
    """

    s0: float

    def __post_init__(self) -> None:
        HestonParams.__post_init__(self)  # explicit: zero-argument super() breaks in slotted dataclasses
        if not (self.s0 > 0 and self.v0 > 0 and self.theta > 0 and self.sigma > 0):
            raise ValueError(f"a simulated asset needs s0, v0, theta and sigma > 0: {self}")
        if not -1.0 < self.rho < 1.0:
            raise ValueError(f"rho must be in (-1, 1): {self.rho}")


def heston_day_plain(
    log_s0: float,
    v0: float,
    z_s: FloatArray,
    z_v: FloatArray,
    kappa: float,
    theta: float,
    sigma: float,
    rho: float,
    dt: float,
) -> tuple[FloatArray, FloatArray]:
    """One block of the full-truncation Euler scheme, plain Python (the twin of the compiled kernel).

    Parameters
    ----------
    log_s0, v0 : float
        Log spot and variance at the start of the block.
    z_s, z_v : numpy.ndarray
        Independent (spot) and variance standard normals, one per step.
    kappa, theta, sigma, rho : float
        Heston parameters.
    dt : float
        Step in years.

    Returns
    -------
    log_s, v : numpy.ndarray
        Arrays of length ``len(z_s) + 1`` including the start point.
    """
    n = z_s.shape[0]
    log_s = np.empty(n + 1)
    v = np.empty(n + 1)
    log_s[0] = log_s0
    v[0] = v0
    rho_c = (1.0 - rho * rho) ** 0.5
    for i in range(n):
        vp = v[i] if v[i] > 0.0 else 0.0
        sq = (vp * dt) ** 0.5
        log_s[i + 1] = log_s[i] - 0.5 * vp * dt + sq * (rho * z_v[i] + rho_c * z_s[i])
        v[i + 1] = v[i] + kappa * (theta - vp) * dt + sigma * sq * z_v[i]
    return log_s, v


def _compile_kernel() -> Callable[..., tuple[FloatArray, FloatArray]]:
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a declared dependency
        logger.warning("numba not importable; Heston paths use the plain Python kernel")
        return heston_day_plain
    compiled: Callable[..., tuple[FloatArray, FloatArray]] = numba.njit(cache=True, nogil=True)(heston_day_plain)
    return compiled


_kernel: Callable[..., tuple[FloatArray, FloatArray]] | None = None
_kernel_lock = threading.Lock()


def heston_day(*args: Any) -> tuple[FloatArray, FloatArray]:
    """Compiled :func:`heston_day_plain` (numba), compiled on first use."""
    global _kernel
    if _kernel is None:
        with _kernel_lock:
            if _kernel is None:
                _kernel = _compile_kernel()
    return _kernel(*args)


@dataclass(frozen=True)
class DayPath:
    """Minute path of one asset over one UTC day.

    Attributes
    ----------
    log_s : numpy.ndarray
        Log spot at the 1441 minute points of the day (the last is the next day's first).
    v : numpy.ndarray
        Variance (truncated at 0) at the same points.
    """

    log_s: FloatArray
    v: FloatArray


@dataclass(frozen=True)
class DaySeconds:
    """One-second path of one asset over one UTC day and the minute candles of the index.

    Attributes
    ----------
    price : numpy.ndarray
        Spot at the 86401 second points of the day.
    open, high, low, close : numpy.ndarray
        Index candles of the 1440 minutes (high and low over the 61 second points of each minute).
    """

    price: FloatArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray


class HestonPaths:
    """Correlated Heston paths of several assets: minute grid plus one-second bridges.

    Parameters
    ----------
    seed : int
        Market seed.
    params : dict of str to SpotHestonParams
        Parameters per asset, in a fixed order (the first asset drives the common factor).
    spot_correlation, variance_correlation : float
        Correlation of the spot and variance shocks of every other asset with the first.
    kernel : callable, optional
        Block kernel; defaults to the numba-compiled one. Pass :func:`heston_day_plain` to use plain Python.

    Notes
    -----
    Day ``d``'s normals are one draw of shape ``(assets, 2, 1440)`` from ``SeedSequence((seed, 1, d))``.
    """

    def __init__(
        self,
        seed: int,
        params: dict[str, SpotHestonParams],
        spot_correlation: float = 0.75,
        variance_correlation: float = 0.5,
        kernel: Callable[..., tuple[FloatArray, FloatArray]] | None = None,
    ) -> None:
        self.seed = seed
        self.params = dict(params)
        self.assets = tuple(params)
        self.spot_correlation = spot_correlation
        self.variance_correlation = variance_correlation
        self._kernel = kernel or heston_day
        self._states: list[FloatArray] = [
            np.array([[np.log(p.s0), p.v0] for p in self.params.values()], dtype=np.float64)
        ]
        self._lock = threading.RLock()
        self._days: LRUCache[int, dict[str, DayPath]] = LRUCache(96)
        self._seconds: LRUCache[tuple[str, int], DaySeconds] = LRUCache(24)

    def _normals(self, day: int) -> FloatArray:
        z = day_rng(self.seed, _TAG_HESTON, day).standard_normal((len(self.assets), 2, 1440))
        out = np.empty_like(z)
        out[0] = z[0]
        cs, cv = self.spot_correlation, self.variance_correlation
        for i in range(1, len(self.assets)):
            out[i, 0] = cs * z[0, 0] + np.sqrt(1.0 - cs * cs) * z[i, 0]
            out[i, 1] = cv * z[0, 1] + np.sqrt(1.0 - cv * cv) * z[i, 1]
        return out

    def _simulate_day(self, day: int, state: FloatArray) -> dict[str, DayPath]:
        z = self._normals(day)
        out = {}
        for i, asset in enumerate(self.assets):
            p = self.params[asset]
            log_s, v = self._kernel(
                float(state[i, 0]),
                float(state[i, 1]),
                z[i, 0],
                z[i, 1],
                p.kappa,
                p.theta,
                p.sigma,
                p.rho,
                DT_MINUTE,
            )
            out[asset] = DayPath(log_s=np.asarray(log_s), v=np.asarray(v))
        return out

    def day(self, day: int) -> dict[str, DayPath]:
        """Minute paths of every asset on day ``day`` (``day >= 0``, counted from the epoch)."""
        if day < 0:
            raise ValueError(f"day {day} is before the simulated market's epoch")

        def compute() -> dict[str, DayPath]:
            with self._lock:
                while len(self._states) <= day:
                    d = len(self._states) - 1
                    paths = self._simulate_day(d, self._states[d])
                    self._states.append(
                        np.array([[paths[a].log_s[-1], paths[a].v[-1]] for a in self.assets], dtype=np.float64)
                    )
                state = self._states[day]
            return self._simulate_day(day, state)

        paths = self._days.get_or_compute(day, compute)
        return {a: DayPath(log_s=p.log_s, v=np.maximum(p.v, 0.0)) for a, p in paths.items()}

    def seconds(self, asset: str, day: int) -> DaySeconds:
        """One-second bridge path and index minute candles of ``asset`` on ``day``."""
        return self._seconds.get_or_compute((asset, day), lambda: self._bridge(asset, day))

    def _bridge(self, asset: str, day: int) -> DaySeconds:
        path = self.day(day)[asset]
        idx = self.assets.index(asset)
        z = day_rng(self.seed, _TAG_BRIDGE, idx, day).standard_normal((1440, SECONDS_PER_MINUTE))
        vol = np.sqrt(path.v[:-1] * DT_SECOND)[:, None]
        walk = np.cumsum(vol * z, axis=1)
        frac = np.arange(1, SECONDS_PER_MINUTE + 1, dtype=np.float64)[None, :] / SECONDS_PER_MINUTE
        jump = np.diff(path.log_s)[:, None]
        bridge = walk - frac * walk[:, -1:] + frac * jump
        log_sec = path.log_s[:-1, None] + bridge
        log_sec[:, -1] = path.log_s[1:]
        inner = np.exp(log_sec)
        minute_points = np.exp(path.log_s)
        price = np.empty(1440 * SECONDS_PER_MINUTE + 1)
        price[0] = minute_points[0]
        price[1:] = inner.reshape(-1)
        opens = minute_points[:-1]
        closes = minute_points[1:]
        highs = np.maximum(inner.max(axis=1), opens)
        lows = np.minimum(inner.min(axis=1), opens)
        return DaySeconds(price=price, open=opens, high=highs, low=lows, close=closes)

    def spot(self, asset: str, t_ms: int) -> float:
        """Spot of ``asset`` at ``t_ms`` (one-second resolution, floor)."""
        day = (t_ms - EPOCH_MS) // MS_PER_DAY
        second = (t_ms - EPOCH_MS - day * MS_PER_DAY) // 1000
        return float(self.seconds(asset, day).price[second])

    def variance(self, asset: str, t_ms: int) -> float:
        """Instantaneous variance of ``asset`` at ``t_ms`` (minute resolution, floor)."""
        day = (t_ms - EPOCH_MS) // MS_PER_DAY
        minute = (t_ms - EPOCH_MS - day * MS_PER_DAY) // 60_000
        return float(self.day(day)[asset].v[minute])
