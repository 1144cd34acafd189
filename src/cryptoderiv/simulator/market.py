"""The simulated market: one coherent, seeded market that is a pure function of (seed, time).

:class:`Market` is the ground truth the simulator serves and tests compare against:

* **index** - BTC and ETH spot follow correlated Heston paths (:mod:`cryptoderiv.simulator.paths`);
* **spot** instruments trade at the index; **perpetuals** at ``index * (1 + premium)``, where the premium
  is a per-venue piecewise-linear function of hourly knots; **dated futures** at the forward
  ``index * exp(b(tau) tau)`` with the annual basis term structure
  ``b(tau) = b_short + x(t) * basis_level_sd + (b_long - b_short)(1 - exp(-tau / basis_tau))``;
* **trades** arrive as a Poisson stream per instrument and day, priced off the one-second path; candle
  volumes are exactly the sums of the trades;
* **funding**: Binance and Bybit pay every 8 h at 00/08/16 UTC
  ``rate = P + clip(0.0001 - P, -0.0005, 0.0005)`` (clipped to +-0.3 %), ``P`` the mean premium over the
  interval; Deribit pays hourly ``interest_1h = (P - clip(P, -0.025 %, 0.025 %)) / 8``;
* **options** (Deribit coin-settled, Bybit USDT-settled) are priced with the Heston model of their asset
  (zero rates, on the per-expiry forward) through an :class:`~cryptoderiv.simulator.option_pricer.OptionPricer`;
  marks, implied vols and Black-76 greeks follow; bid/ask spreads in volatility widen in the wings and at short
  expiries and are rounded to the venue's tick.

Every random draw comes from ``SeedSequence((seed, tag, key..., day))``, so any window can be served again
identically, whatever was requested before.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cryptoderiv.simulator import instruments as ins
from cryptoderiv.simulator.calendar import (
    EPOCH_MS,
    MS_PER_DAY,
    MS_PER_HOUR,
    MS_PER_MINUTE,
    MS_PER_YEAR,
    deribit_date_code,
    floor_ms,
)
from cryptoderiv.simulator.instruments import VENUES, Instrument, round_to_step
from cryptoderiv.simulator.option_pricer import OptionPricer, black76_greeks, black76_price, default_pricer
from cryptoderiv.simulator.paths import HestonPaths, LRUCache, SpotHestonParams, day_rng, stable_hash

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

TIMEFRAME_MS = {
    "1m": MS_PER_MINUTE,
    "3m": 3 * MS_PER_MINUTE,
    "5m": 5 * MS_PER_MINUTE,
    "15m": 15 * MS_PER_MINUTE,
    "30m": 30 * MS_PER_MINUTE,
    "1h": MS_PER_HOUR,
    "2h": 2 * MS_PER_HOUR,
    "4h": 4 * MS_PER_HOUR,
    "6h": 6 * MS_PER_HOUR,
    "12h": 12 * MS_PER_HOUR,
    "1d": MS_PER_DAY,
}

_TAG_PREMIUM_DAY, _TAG_PREMIUM_HOUR, _TAG_BASIS, _TAG_OI_DAY, _TAG_OI_HOUR, _TAG_TRADES = 11, 12, 13, 14, 15, 16
_VENUE_CODE = {v: i for i, v in enumerate(VENUES)}


def _default_heston() -> dict[str, SpotHestonParams]:
    return {
        "BTC": SpotHestonParams(s0=94_000.0, v0=0.30, kappa=2.0, theta=0.30, sigma=0.8, rho=-0.3),
        "ETH": SpotHestonParams(s0=3_350.0, v0=0.45, kappa=2.0, theta=0.45, sigma=0.9, rho=-0.3),
    }


@dataclass(frozen=True)
class MarketParams:
    """Parameters of the simulated market (all annual decimals unless stated).

    Attributes
    ----------
    heston : dict of str to SpotHestonParams
        Spot dynamics per asset; options are priced with the same parameters.
    spot_correlation, variance_correlation : float
        Correlation of ETH's spot and variance shocks with BTC's.
    basis_short, basis_long, basis_tau, basis_level_sd : float
        Basis term structure (annualised) and the size of its slow daily moves.
    premium_mean, premium_daily_sd, premium_hourly_sd : float
        Perpetual premium over the index (decimal): mean, slow daily component, hourly noise.
    trades_per_minute : dict
        Mean trade arrival rate by ``(venue, kind)`` for BTC; ETH trades at 70 % of it.
    mean_trade_base : dict
        Mean trade size in base units by ``(kind, asset)`` (inverse contracts: USD / price).
    option_half_spread_vol : dict
        Half bid/ask spread at the money for long expiries, in volatility (decimal), per venue.
    perp_open_interest_base : dict
        Typical perpetual open interest in base units per ``(venue, asset)``.
    option_open_interest_base : dict
        Typical at-the-money option open interest in contracts per ``(venue, asset)``.
    """

    heston: dict[str, SpotHestonParams] = field(default_factory=_default_heston)
    spot_correlation: float = 0.75
    variance_correlation: float = 0.5
    basis_short: float = 0.05
    basis_long: float = 0.08
    basis_tau: float = 0.25
    basis_level_sd: float = 0.02
    premium_mean: float = 1.5e-4
    premium_daily_sd: float = 4e-4
    premium_hourly_sd: float = 1.5e-4
    trades_per_minute: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("binance", "spot"): 40.0,
            ("binance", "perpetual"): 60.0,
            ("binance", "future"): 4.0,
            ("bybit", "spot"): 20.0,
            ("bybit", "perpetual"): 40.0,
            ("deribit", "spot"): 2.0,
            ("deribit", "perpetual"): 25.0,
            ("deribit", "future"): 3.0,
        }
    )
    mean_trade_base: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("spot", "BTC"): 0.05,
            ("spot", "ETH"): 1.0,
            ("perpetual", "BTC"): 0.15,
            ("perpetual", "ETH"): 3.0,
            ("future", "BTC"): 0.5,
            ("future", "ETH"): 8.0,
        }
    )
    option_half_spread_vol: dict[str, float] = field(default_factory=lambda: {"deribit": 0.006, "bybit": 0.01})
    perp_open_interest_base: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("binance", "BTC"): 80_000.0,
            ("binance", "ETH"): 1_900_000.0,
            ("bybit", "BTC"): 55_000.0,
            ("bybit", "ETH"): 1_100_000.0,
            ("deribit", "BTC"): 11_000.0,
            ("deribit", "ETH"): 330_000.0,
        }
    )
    option_open_interest_base: dict[tuple[str, str], float] = field(
        default_factory=lambda: {
            ("deribit", "BTC"): 1_500.0,
            ("deribit", "ETH"): 12_000.0,
            ("bybit", "BTC"): 150.0,
            ("bybit", "ETH"): 1_500.0,
        }
    )


@dataclass(frozen=True)
class Candles:
    """Candles of one instrument (arrays of equal length, ascending open time).

    Attributes
    ----------
    ts : numpy.ndarray
        Open time, ms UTC.
    open, high, low, close : numpy.ndarray
        Prices in the quote currency, rounded to the tick.
    volume : numpy.ndarray
        Traded amount in base units.
    quote_volume : numpy.ndarray
        Traded value in the quote currency (sum of price x base amount).
    cost : numpy.ndarray
        Traded amount in USD contracts for inverse instruments (equal to ``quote_volume`` otherwise).
    count : numpy.ndarray
        Number of trades.
    taker_buy_base, taker_buy_quote : numpy.ndarray
        Buyer-initiated volume in base and quote units.
    """

    ts: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    quote_volume: FloatArray
    cost: FloatArray
    count: IntArray
    taker_buy_base: FloatArray
    taker_buy_quote: FloatArray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def frame(self) -> pd.DataFrame:
        """The candles as a DataFrame with a tz-aware UTC ``ts`` column."""
        out = pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__})
        out["ts"] = pd.to_datetime(out["ts"], unit="ms", utc=True)
        return out


@dataclass(frozen=True)
class Trades:
    """Trades of one instrument (ascending time).

    Attributes
    ----------
    id : numpy.ndarray
        Integer trade ids, unique and increasing per instrument.
    ts : numpy.ndarray
        Trade time, ms UTC.
    price : numpy.ndarray
        Price in the quote currency.
    amount : numpy.ndarray
        Amount as the venue reports it: USD for inverse futures and perpetuals, base units otherwise.
    base_amount : numpy.ndarray
        Amount in base units.
    buy : numpy.ndarray
        True when the taker bought.
    """

    id: IntArray
    ts: IntArray
    price: FloatArray
    amount: FloatArray
    base_amount: FloatArray
    buy: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def select(self, mask: NDArray[np.bool_] | slice) -> Trades:
        """A subset of the trades."""
        return Trades(
            self.id[mask], self.ts[mask], self.price[mask], self.amount[mask], self.base_amount[mask], self.buy[mask]
        )

    def frame(self) -> pd.DataFrame:
        """The trades as a DataFrame with a tz-aware UTC ``ts`` column."""
        out = pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__})
        out["ts"] = pd.to_datetime(out["ts"], unit="ms", utc=True)
        return out

    @staticmethod
    def concat(parts: list[Trades]) -> Trades:
        """Concatenate trade sets (in the given order)."""
        if not parts:
            e = np.empty(0)
            return Trades(e.astype(np.int64), e.astype(np.int64), e, e, e, e.astype(bool))
        return Trades(*(np.concatenate([getattr(p, f) for p in parts]) for f in Trades.__dataclass_fields__))


@dataclass(frozen=True)
class Funding:
    """Funding payments of one perpetual (ascending time).

    Attributes
    ----------
    ts : numpy.ndarray
        Funding time (end of the interval), ms UTC.
    rate : numpy.ndarray
        Rate paid for the interval, decimal (Deribit: ``interest_1h``).
    interval_hours : int
        Length of the interval.
    rate_8h : numpy.ndarray
        Deribit's trailing 8 h rate (sum of the last 8 hourly rates); equals ``rate`` elsewhere.
    index_price, prev_index_price, mark_price : numpy.ndarray
        Index at ``ts`` and at the start of the interval; mark at ``ts``.
    """

    ts: IntArray
    rate: FloatArray
    interval_hours: int
    rate_8h: FloatArray
    index_price: FloatArray
    prev_index_price: FloatArray
    mark_price: FloatArray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def frame(self) -> pd.DataFrame:
        """The funding rows as a DataFrame with a tz-aware UTC ``ts`` column."""
        out = pd.DataFrame({k: getattr(self, k) for k in self.__dataclass_fields__ if k != "interval_hours"})
        out["interval_hours"] = self.interval_hours
        out["ts"] = pd.to_datetime(out["ts"], unit="ms", utc=True)
        return out


@dataclass(frozen=True)
class DayTrades:
    """All trades of one instrument on one day plus its minute candles (internal cache entry)."""

    trades: Trades
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    quote_volume: FloatArray
    cost: FloatArray
    count: IntArray
    taker_buy_base: FloatArray
    taker_buy_quote: FloatArray


class Market:
    """The simulated market: ground truth for every venue, a pure function of (seed, time).

    Parameters
    ----------
    seed : int, default 7
        Seed of every random draw.
    params : MarketParams, optional
        Market parameters; defaults to :class:`MarketParams` ().
    pricer : OptionPricer, optional
        Option pricing kernels; defaults to :func:`~cryptoderiv.simulator.option_pricer.default_pricer`.
    kernel : callable, optional
        Heston block kernel (see :class:`~cryptoderiv.simulator.paths.HestonPaths`).

    Examples
    --------
    >>> m = Market(seed=7)
    >>> perp = m.instrument("binance", "usdm", "BTCUSDT")
    >>> c = m.candles(perp, "1m", 1_767_225_600_000, 1_767_225_600_000 + 59 * 60_000)
    >>> len(c)
    60
    """

    def __init__(
        self,
        seed: int = 7,
        params: MarketParams | None = None,
        pricer: OptionPricer | None = None,
        kernel: object | None = None,
    ) -> None:
        self.seed = int(seed)
        self.params = params or MarketParams()
        self.pricer = pricer or default_pricer()
        self.paths = HestonPaths(
            self.seed,
            self.params.heston,
            self.params.spot_correlation,
            self.params.variance_correlation,
            kernel=kernel,  # type: ignore[arg-type]
        )
        self._static = {v: {i.key: i for i in ins.static_instruments(v)} for v in VENUES}
        self._knots: LRUCache[tuple[int, ...], FloatArray] = LRUCache(4096)
        self._day_trades: LRUCache[tuple[tuple[str, str, str], int], DayTrades] = LRUCache(64)
        self._chains: LRUCache[tuple[str, int], pd.DataFrame] = LRUCache(64)
        self._strikes: LRUCache[tuple[str, int, int], FloatArray] = LRUCache(1024)
        self._lock = threading.RLock()
        logger.info("simulated market seed=%d, option pricer %s", self.seed, self.pricer.name)

    # --- instruments -------------------------------------------------------------------------------------

    def instruments(self, venue: str, t_ms: int) -> list[Instrument]:
        """Every instrument ``venue`` lists at ``t_ms`` (spot, perpetuals, futures, options)."""
        out = list(self._static[venue].values())
        for asset in self.params.heston:
            out.extend(ins.futures(venue, asset, t_ms))
            if venue in ("deribit", "bybit"):
                for expiry in ins.option_expiries(t_ms):
                    for strike in self.strikes(asset, expiry, t_ms):
                        for kind in ("call", "put"):
                            out.append(ins.option(venue, asset, expiry, float(strike), kind))
        return out

    def instrument(self, venue: str, market_type: str, instrument_id: str) -> Instrument | None:
        """Look an instrument up by its venue id (expired futures and options included); None if unknown."""
        found = self._static[venue].get((venue, market_type, instrument_id))
        if found is not None:
            return found
        parsed = ins.parse_dated_id(venue, market_type, instrument_id)
        if parsed is None or parsed.asset not in self.params.heston:
            return None
        if parsed.strike is None:
            candidate = (ins.deribit_future if venue == "deribit" else ins.binance_future)(
                parsed.asset, parsed.expiry_ms
            )
        else:
            if not np.any(np.isclose(self.strikes(parsed.asset, parsed.expiry_ms), parsed.strike)):
                return None
            assert parsed.option_type is not None
            candidate = ins.option(venue, parsed.asset, parsed.expiry_ms, parsed.strike, parsed.option_type)
        return candidate if candidate.id == instrument_id else None

    def instrument_by_symbol(self, venue: str, symbol: str, t_ms: int) -> Instrument:
        """The instrument with a CCXT unified symbol among those listed at ``t_ms``.

        Raises
        ------
        KeyError
            If no listed instrument has that symbol.
        """
        for inst in self.instruments(venue, t_ms):
            if inst.symbol == symbol:
                return inst
        raise KeyError(f"{venue} lists no {symbol} at {t_ms}")

    def strikes(self, asset: str, expiry_ms: int, t_ms: int | None = None) -> FloatArray:
        """Strikes listed for an option expiry at ``t_ms`` (None: every strike it ever had).

        The grid set at listing from the forward then (:func:`~cryptoderiv.simulator.instruments.strike_grid`),
        plus a finer band around the forward at every weekly re-listing
        (:func:`~cryptoderiv.simulator.instruments.strike_additions`).
        """
        times = ins.relisting_times(expiry_ms, expiry_ms - 1 if t_ms is None else t_ms)

        def compute() -> FloatArray:
            listed = ins.option_listing(expiry_ms)
            parts = [
                ins.strike_grid(self._minute_forward(asset, expiry_ms, listed), (expiry_ms - listed) / MS_PER_YEAR)
            ]
            for when in times:
                parts.append(
                    ins.strike_additions(self._minute_forward(asset, expiry_ms, when), (expiry_ms - when) / MS_PER_YEAR)
                )
            return np.unique(np.concatenate(parts))

        return self._strikes.get_or_compute((asset, expiry_ms, len(times)), compute)

    def _minute_forward(self, asset: str, expiry_ms: int, t_ms: int) -> float:
        """Forward at minute resolution (cheap: no one-second bridge), used to place strikes."""
        day = (t_ms - EPOCH_MS) // MS_PER_DAY
        minute = (t_ms - EPOCH_MS - day * MS_PER_DAY) // MS_PER_MINUTE
        spot = float(np.exp(self.paths.day(day)[asset].log_s[minute]))
        tau = max(expiry_ms - t_ms, 0) / MS_PER_YEAR
        return spot * float(np.exp(self.annual_basis(asset, tau, t_ms)[0] * tau))

    # --- smooth factors ----------------------------------------------------------------------------------

    def _daily_knots(self, tag: int, key: tuple[int, ...], days: IntArray) -> FloatArray:
        out = np.empty(days.shape[0])
        for i, d in enumerate(days.tolist()):

            def draw(d: int = d) -> FloatArray:
                return np.atleast_1d(day_rng(self.seed, tag, *key, d).standard_normal())

            out[i] = self._knots.get_or_compute((tag, *key, d), draw)[0]
        return out

    def _hourly_noise(self, tag: int, key: tuple[int, ...], day: int) -> FloatArray:
        return self._knots.get_or_compute(
            (tag, *key, day), lambda: day_rng(self.seed, tag, *key, day).standard_normal(24)
        )

    def _slow_factor(self, tag: int, key: tuple[int, ...], t: NDArray[np.int64]) -> FloatArray:
        """Piecewise-linear interpolation of standard normal daily knots at ``t`` (ms)."""
        rel = np.asarray(t, dtype=np.int64) - EPOCH_MS
        day = rel // MS_PER_DAY
        frac = (rel - day * MS_PER_DAY) / MS_PER_DAY
        uniq = np.unique(np.concatenate([day, day + 1]))
        knots = dict(zip(uniq.tolist(), self._daily_knots(tag, key, uniq).tolist(), strict=True))
        k0 = np.array([knots[d] for d in day.tolist()])
        k1 = np.array([knots[d + 1] for d in day.tolist()])
        return np.asarray(k0 * (1.0 - frac) + k1 * frac, dtype=np.float64)

    def _hourly_factor(
        self, day_tag: int, hour_tag: int, key: tuple[int, ...], t: NDArray[np.int64], daily_sd: float, hourly_sd: float
    ) -> FloatArray:
        """Daily knots plus hourly noise knots, linearly interpolated between hours."""
        rel = np.asarray(t, dtype=np.int64) - EPOCH_MS
        hour = rel // MS_PER_HOUR
        frac = (rel - hour * MS_PER_HOUR) / MS_PER_HOUR
        hours = np.unique(np.concatenate([hour, hour + 1]))
        times = EPOCH_MS + hours * MS_PER_HOUR
        slow = self._slow_factor(day_tag, key, times)
        noise = np.array([self._hourly_noise(hour_tag, key, int(h // 24))[int(h % 24)] for h in hours.tolist()])
        values = dict(zip(hours.tolist(), (daily_sd * slow + hourly_sd * noise).tolist(), strict=True))
        v0 = np.array([values[h] for h in hour.tolist()])
        v1 = np.array([values[h + 1] for h in hour.tolist()])
        return np.asarray(v0 * (1.0 - frac) + v1 * frac, dtype=np.float64)

    def _asset_code(self, asset: str) -> int:
        return list(self.params.heston).index(asset)

    def premium(self, venue: str, asset: str, t_ms: NDArray[np.int64] | int) -> FloatArray:
        """Premium of ``venue``'s perpetual over the index at ``t_ms`` (decimal)."""
        t = np.atleast_1d(np.asarray(t_ms, dtype=np.int64))
        key = (_VENUE_CODE[venue], self._asset_code(asset))
        p = self.params
        return p.premium_mean + self._hourly_factor(
            _TAG_PREMIUM_DAY, _TAG_PREMIUM_HOUR, key, t, p.premium_daily_sd, p.premium_hourly_sd
        )

    def annual_basis(self, asset: str, tau_years: FloatArray | float, t_ms: NDArray[np.int64] | int) -> FloatArray:
        """Annualised basis of a dated future with ``tau_years`` to expiry at ``t_ms``."""
        p = self.params
        level = self._slow_factor(_TAG_BASIS, (self._asset_code(asset),), np.atleast_1d(np.asarray(t_ms)))
        tau = np.asarray(tau_years, dtype=np.float64)
        return np.asarray(
            p.basis_short
            + p.basis_level_sd * level
            + (p.basis_long - p.basis_short) * (1 - np.exp(-tau / p.basis_tau)),
            dtype=np.float64,
        )

    def index_price(self, asset: str, t_ms: int) -> float:
        """Index (spot) of ``asset`` at ``t_ms`` in USD."""
        return self.paths.spot(asset, t_ms)

    def variance(self, asset: str, t_ms: int) -> float:
        """Instantaneous Heston variance of ``asset`` at ``t_ms``."""
        return self.paths.variance(asset, t_ms)

    def forward(self, asset: str, expiry_ms: int, t_ms: int) -> float:
        """Forward of ``asset`` for ``expiry_ms`` at ``t_ms`` (equal to the dated future's mark)."""
        tau = max(expiry_ms - t_ms, 0) / MS_PER_YEAR
        return float(self.index_price(asset, t_ms) * np.exp(self.annual_basis(asset, tau, t_ms)[0] * tau))

    def multiplier(self, inst: Instrument, t_ms: NDArray[np.int64]) -> FloatArray:
        """Price of ``inst`` relative to the index at ``t_ms`` (1 for spot)."""
        t = np.asarray(t_ms, dtype=np.int64)
        if inst.kind == "perpetual":
            return 1.0 + self.premium(inst.venue, inst.base, t)
        if inst.kind == "future":
            assert inst.expiry_ms is not None
            tau = np.maximum(inst.expiry_ms - t, 0) / MS_PER_YEAR
            return np.asarray(np.exp(self.annual_basis(inst.base, tau, t) * tau), dtype=np.float64)
        return np.ones(t.shape[0])

    def mark_price(self, inst: Instrument, t_ms: int) -> float:
        """Mark price of a spot, perpetual or future instrument (unrounded)."""
        return float(self.index_price(inst.base, t_ms) * self.multiplier(inst, np.array([t_ms]))[0])

    # --- trades and candles ------------------------------------------------------------------------------

    def _trade_rate(self, inst: Instrument) -> float:
        rate = self.params.trades_per_minute.get((inst.venue, inst.kind), 0.0)
        return rate * (1.0 if inst.base == "BTC" else 0.7)

    def _compute_day(self, inst: Instrument, day: int) -> DayTrades:
        start = EPOCH_MS + day * MS_PER_DAY
        sec = self.paths.seconds(inst.base, day)
        minutes = start + np.arange(1440, dtype=np.int64) * MS_PER_MINUTE
        mult = self.multiplier(inst, minutes)
        theta = self.params.heston[inst.base].theta
        scale = math.sqrt(float(np.mean(self.paths.day(day)[inst.base].v)) / theta)
        rng = day_rng(self.seed, _TAG_TRADES, stable_hash(*inst.key) & 0xFFFFFFFF, day)
        n = int(rng.poisson(self._trade_rate(inst) * 1440 * max(scale, 0.2)))
        offsets = np.sort(rng.integers(0, MS_PER_DAY, n))
        ts = start + offsets
        minute = offsets // MS_PER_MINUTE
        valid = (ts >= inst.listed_ms) & ((inst.expiry_ms is None) | (ts < (inst.expiry_ms or 0)))
        price = round_to_step(sec.price[offsets // 1000] * mult[minute], inst.tick_size)
        mean_base = self.params.mean_trade_base.get((inst.kind, inst.base), 0.1)
        # inverse contracts trade in USD lots of contract_size; others in base-unit lots
        mean_lots = mean_base * sec.open[0] / inst.contract_size if inst.inverse else mean_base / inst.lot_size
        lots = np.maximum(1.0, np.round(rng.lognormal(math.log(mean_lots) - 0.5, 1.0, n)))
        buy = rng.random(n) < 0.5
        amount = round_to_step(
            lots * (inst.contract_size if inst.inverse else inst.lot_size),
            inst.contract_size if inst.inverse else inst.lot_size,
        )
        base_amount = amount / price if inst.inverse else amount
        ids = (day + 1) * 10_000_000 + np.arange(n, dtype=np.int64)
        trades = Trades(ids[valid], ts[valid], price[valid], amount[valid], base_amount[valid], buy[valid])
        m = minute[valid]
        quote = trades.price * trades.base_amount
        opens = round_to_step(sec.open * mult, inst.tick_size)
        highs = round_to_step(sec.high * mult, inst.tick_size)
        lows = round_to_step(sec.low * mult, inst.tick_size)
        closes = round_to_step(sec.close * mult, inst.tick_size)
        vol_decimals = 8 if inst.inverse else ins.decimals_of(inst.lot_size)
        return DayTrades(
            trades=trades,
            open=opens,
            high=highs,
            low=lows,
            close=closes,
            volume=np.round(np.bincount(m, trades.base_amount, 1440), vol_decimals),
            quote_volume=np.round(np.bincount(m, quote, 1440), 8),
            cost=np.round(np.bincount(m, trades.amount if inst.inverse else quote, 1440), 8),
            count=np.bincount(m, minlength=1440).astype(np.int64),
            taker_buy_base=np.round(np.bincount(m, np.where(trades.buy, trades.base_amount, 0.0), 1440), vol_decimals),
            taker_buy_quote=np.round(np.bincount(m, np.where(trades.buy, quote, 0.0), 1440), 8),
        )

    def _day(self, inst: Instrument, day: int) -> DayTrades:
        return self._day_trades.get_or_compute((inst.key, day), lambda: self._compute_day(inst, day))

    def trades(self, inst: Instrument, start_ms: int, end_ms: int) -> Trades:
        """Trades of ``inst`` with ``start_ms <= ts <= end_ms`` (ascending)."""
        if inst.kind == "option":
            return Trades.concat([])
        start_ms = max(start_ms, EPOCH_MS, inst.listed_ms)
        if end_ms < start_ms:
            return Trades.concat([])
        parts = []
        for day in range((start_ms - EPOCH_MS) // MS_PER_DAY, (end_ms - EPOCH_MS) // MS_PER_DAY + 1):
            t = self._day(inst, day).trades
            parts.append(t.select((t.ts >= start_ms) & (t.ts <= end_ms)))
        return Trades.concat(parts)

    def candles(
        self, inst: Instrument, timeframe: str, start_ms: int, end_ms: int, now_ms: int | None = None
    ) -> Candles:
        """Candles of ``inst`` whose open time is in ``[start_ms, end_ms]``.

        Parameters
        ----------
        inst : Instrument
            A spot, perpetual or future.
        timeframe : str
            One of :data:`TIMEFRAME_MS`.
        start_ms, end_ms : int
            Inclusive bounds on the candle open time.
        now_ms : int, optional
            The present: later candles are left out and the candle containing it covers trades and prices
            up to ``now_ms`` only. None means every candle is complete.

        Returns
        -------
        Candles
            Possibly empty.
        """
        tf = TIMEFRAME_MS[timeframe]
        first = -(-max(start_ms, EPOCH_MS) // tf) * tf
        last = floor_ms(end_ms, tf)
        if now_ms is not None:
            last = min(last, floor_ms(now_ms, tf))
        if inst.expiry_ms is not None:
            last = min(last, floor_ms(inst.expiry_ms - 1, tf))
        first = max(first, floor_ms(inst.listed_ms, tf))
        if inst.kind == "option" or last < first:
            return _empty_candles()
        cols: dict[str, list[FloatArray]] = {k: [] for k in Candles.__dataclass_fields__}
        day0 = (first - EPOCH_MS) // MS_PER_DAY
        day1 = (last + tf - 1 - EPOCH_MS) // MS_PER_DAY
        for day in range(day0, day1 + 1):
            day_start = EPOCH_MS + day * MS_PER_DAY
            d = self._day(inst, day)
            minute_ts = day_start + np.arange(1440, dtype=np.int64) * MS_PER_MINUTE
            valid = (minute_ts >= inst.listed_ms) & (minute_ts >= first) & (minute_ts < last + tf)
            if inst.expiry_ms is not None:
                valid &= minute_ts < inst.expiry_ms
            opens, highs, lows, closes = d.open, d.high, d.low, d.close
            sums = {k: getattr(d, k) for k in ("volume", "quote_volume", "cost", "taker_buy_base", "taker_buy_quote")}
            count = d.count.astype(np.float64)
            if now_ms is not None and day_start <= now_ms < day_start + MS_PER_DAY:
                valid &= minute_ts <= now_ms
                opens, highs, lows, closes, sums, count = self._partial_minute(inst, d, day, now_ms, sums, count)
            if not valid.any():
                continue
            groups = (minute_ts - day_start) // tf * tf + day_start
            frame = pd.DataFrame(
                {
                    "g": groups[valid],
                    "open": opens[valid],
                    "high": highs[valid],
                    "low": lows[valid],
                    "close": closes[valid],
                    "count": count[valid],
                    **{k: v[valid] for k, v in sums.items()},
                }
            )
            agg = frame.groupby("g", sort=True).agg(
                open=("open", "first"),
                high=("high", "max"),
                low=("low", "min"),
                close=("close", "last"),
                count=("count", "sum"),
                **{k: (k, "sum") for k in sums},
            )
            cols["ts"].append(agg.index.to_numpy(dtype=np.int64))
            for k in agg.columns:
                cols[k].append(agg[k].to_numpy())
        if not cols["ts"]:
            return _empty_candles()
        merged = {k: np.concatenate(v) for k, v in cols.items()}
        # a candle spanning two days (never with the supported timeframes) would be split; merge by ts anyway
        frame = (
            pd.DataFrame(merged)
            .groupby("ts", sort=True)
            .agg(
                open=("open", "first"),
                high=("high", "max"),
                low=("low", "min"),
                close=("close", "last"),
                volume=("volume", "sum"),
                quote_volume=("quote_volume", "sum"),
                cost=("cost", "sum"),
                count=("count", "sum"),
                taker_buy_base=("taker_buy_base", "sum"),
                taker_buy_quote=("taker_buy_quote", "sum"),
            )
        )
        frame = frame[(frame.index >= first) & (frame.index <= last)]
        vol_decimals = 8 if inst.inverse else ins.decimals_of(inst.lot_size)
        for column in ("volume", "taker_buy_base"):
            frame[column] = np.round(frame[column].to_numpy(), vol_decimals)
        for column in ("quote_volume", "cost", "taker_buy_quote"):
            frame[column] = np.round(frame[column].to_numpy(), 8)
        return Candles(
            ts=frame.index.to_numpy(dtype=np.int64),
            open=frame["open"].to_numpy(),
            high=frame["high"].to_numpy(),
            low=frame["low"].to_numpy(),
            close=frame["close"].to_numpy(),
            volume=frame["volume"].to_numpy(),
            quote_volume=frame["quote_volume"].to_numpy(),
            cost=frame["cost"].to_numpy(),
            count=frame["count"].to_numpy().astype(np.int64),
            taker_buy_base=frame["taker_buy_base"].to_numpy(),
            taker_buy_quote=frame["taker_buy_quote"].to_numpy(),
        )

    def _partial_minute(
        self, inst: Instrument, d: DayTrades, day: int, now_ms: int, sums: dict[str, FloatArray], count: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, dict[str, FloatArray], FloatArray]:
        """Minute arrays where the minute containing ``now_ms`` only covers ``[minute start, now_ms]``."""
        day_start = EPOCH_MS + day * MS_PER_DAY
        m = int((now_ms - day_start) // MS_PER_MINUTE)
        s_now = int((now_ms - day_start) // 1000)
        sec = self.paths.seconds(inst.base, day).price
        mult = self.multiplier(inst, np.array([day_start + m * MS_PER_MINUTE]))[0]
        window = round_to_step(sec[m * 60 : s_now + 1] * mult, inst.tick_size)
        highs, lows, closes = d.high.copy(), d.low.copy(), d.close.copy()
        highs[m], lows[m], closes[m] = window.max(), window.min(), window[-1]
        t = d.trades
        late = (t.ts > now_ms) & ((t.ts - day_start) // MS_PER_MINUTE == m)
        new_sums = {k: v.copy() for k, v in sums.items()}
        if late.any():
            quote = t.price[late] * t.base_amount[late]
            new_sums["volume"][m] -= t.base_amount[late].sum()
            new_sums["quote_volume"][m] -= quote.sum()
            new_sums["cost"][m] -= (t.amount[late] if inst.inverse else quote).sum()
            new_sums["taker_buy_base"][m] -= np.where(t.buy[late], t.base_amount[late], 0.0).sum()
            new_sums["taker_buy_quote"][m] -= np.where(t.buy[late], quote, 0.0).sum()
            count = count.copy()
            count[m] -= late.sum()
        return d.open, highs, lows, closes, new_sums, count

    def last_price(self, inst: Instrument, now_ms: int) -> float:
        """Price of the last trade at or before ``now_ms`` (the current price if none today)."""
        day = (now_ms - EPOCH_MS) // MS_PER_DAY
        for d in (day, day - 1):
            if d < 0:
                break
            t = self._day(inst, d).trades
            k = int(np.searchsorted(t.ts, now_ms, side="right"))
            if k > 0:
                return float(t.price[k - 1])
        return self.current_price(inst, now_ms)

    def current_price(self, inst: Instrument, now_ms: int) -> float:
        """Traded price level of ``inst`` at ``now_ms`` (one-second path times the multiplier, on the tick)."""
        price = (
            self.index_price(inst.base, now_ms) * self.multiplier(inst, np.array([floor_ms(now_ms, MS_PER_MINUTE)]))[0]
        )
        return float(round_to_step(np.array([price]), inst.tick_size)[0])

    def top_of_book(self, inst: Instrument, now_ms: int) -> tuple[float, float, float, float]:
        """Best bid, bid size, best ask, ask size of a spot, perpetual or future (one tick wide)."""
        mid = (
            self.index_price(inst.base, now_ms) * self.multiplier(inst, np.array([floor_ms(now_ms, MS_PER_MINUTE)]))[0]
        )
        tick = inst.tick_size
        bid = float(round_to_step(np.array([math.floor(mid / tick + 1e-9) * tick]), tick)[0])
        ask = float(round_to_step(np.array([bid + tick]), tick)[0])
        h = stable_hash("book", self.seed, *inst.key, now_ms // 1000)
        lot = inst.contract_size if inst.inverse else inst.lot_size
        bid_size = float(round_to_step(np.array([lot * (1 + h % 500)]), lot)[0])
        ask_size = float(round_to_step(np.array([lot * (1 + (h >> 16) % 500)]), lot)[0])
        return bid, bid_size, ask, ask_size

    def stats_24h(self, inst: Instrument, now_ms: int) -> dict[str, float]:
        """Rolling 24 h statistics of a spot, perpetual or future at ``now_ms``.

        Returns
        -------
        dict
            ``open`` (first price of the window), ``high``, ``low``, ``last``, ``volume`` (base units),
            ``quote_volume``, ``cost`` (USD contracts for inverse), ``count``, ``first_id``, ``last_id``,
            ``open_time``, ``close_time``.
        """
        start = floor_ms(now_ms - MS_PER_DAY, MS_PER_MINUTE) + MS_PER_MINUTE
        c = self.candles(inst, "1m", start, now_ms, now_ms=now_ms)
        trades = self.trades(inst, start, now_ms)
        last = self.last_price(inst, now_ms)
        if len(c) == 0:
            return {
                "open": last,
                "high": last,
                "low": last,
                "last": last,
                "volume": 0.0,
                "quote_volume": 0.0,
                "cost": 0.0,
                "count": 0,
                "first_id": -1,
                "last_id": -1,
                "open_time": start,
                "close_time": now_ms,
            }
        return {
            "open": float(c.open[0]),
            "high": float(max(c.high.max(), last)),
            "low": float(min(c.low.min(), last)),
            "last": last,
            "volume": float(np.round(c.volume.sum(), 8)),
            "quote_volume": float(np.round(c.quote_volume.sum(), 8)),
            "cost": float(np.round(c.cost.sum(), 8)),
            "count": int(c.count.sum()),
            "first_id": int(trades.id[0]) if len(trades) else -1,
            "last_id": int(trades.id[-1]) if len(trades) else -1,
            "open_time": int(c.ts[0]),
            "close_time": now_ms,
        }

    # --- funding -----------------------------------------------------------------------------------------

    def _interval_premium(self, venue: str, asset: str, ends: IntArray, hours: int) -> FloatArray:
        """Mean premium over the minutes of ``[end - hours, end)`` for each end."""
        offsets = np.arange(hours * 60, dtype=np.int64) * MS_PER_MINUTE - hours * MS_PER_HOUR
        grid = (ends[:, None] + offsets[None, :]).reshape(-1)
        return self.premium(venue, asset, grid).reshape(ends.shape[0], -1).mean(axis=1)

    def funding(self, inst: Instrument, start_ms: int, end_ms: int, now_ms: int | None = None) -> Funding:
        """Funding payments of a perpetual with ``start_ms <= ts <= end_ms`` (and ``ts <= now_ms``).

        Raises
        ------
        ValueError
            If ``inst`` is not a perpetual.
        """
        if inst.kind != "perpetual" or inst.funding_interval_hours is None:
            raise ValueError(f"{inst.id} pays no funding")
        hours = inst.funding_interval_hours
        step = hours * MS_PER_HOUR
        first = max(-(-start_ms // step) * step, EPOCH_MS + step)
        last = floor_ms(min(end_ms, now_ms if now_ms is not None else end_ms), step)
        ts = np.arange(first, last + 1, step, dtype=np.int64) if last >= first else np.empty(0, dtype=np.int64)
        if inst.venue == "deribit":
            all_ts = np.arange(first - 7 * step, last + 1, step, dtype=np.int64) if len(ts) else ts
            p = self._interval_premium("deribit", inst.base, all_ts, 1)
            hourly = np.round((p - np.clip(p, -0.00025, 0.00025)) / 8.0, 12)
            rate = hourly[7:]
            window = np.lib.stride_tricks.sliding_window_view(hourly, 8).sum(axis=1) if len(ts) else hourly
            rate_8h = np.round(window, 12)
        else:
            p = self._interval_premium(inst.venue, inst.base, ts, hours)
            rate = np.asarray(
                np.round(np.clip(p + np.clip(0.0001 - p, -0.0005, 0.0005), -0.003, 0.003), 8), dtype=np.float64
            )
            rate_8h = rate
        index = np.array([self.index_price(inst.base, int(t)) for t in ts.tolist()])
        prev = np.array([self.index_price(inst.base, int(t - step)) for t in ts.tolist()])
        mark = index * self.multiplier(inst, ts) if len(ts) else index
        return Funding(
            ts=ts,
            rate=np.asarray(rate, dtype=np.float64),
            interval_hours=hours,
            rate_8h=np.asarray(rate_8h, dtype=np.float64),
            index_price=index,
            prev_index_price=prev,
            mark_price=np.asarray(mark, dtype=np.float64),
        )

    def predicted_funding(self, inst: Instrument, t_ms: int) -> float:
        """Funding rate the running interval of a perpetual would pay if it ended at ``t_ms``."""
        assert inst.funding_interval_hours is not None
        step = inst.funding_interval_hours * MS_PER_HOUR
        start = floor_ms(t_ms, step)
        grid = np.arange(start, max(t_ms, start + MS_PER_MINUTE), MS_PER_MINUTE, dtype=np.int64)
        p = float(self.premium(inst.venue, inst.base, grid).mean())
        if inst.venue == "deribit":
            return round((p - min(max(p, -0.00025), 0.00025)) / 8.0, 12)
        return round(min(max(p + min(max(0.0001 - p, -0.0005), 0.0005), -0.003), 0.003), 8)

    # --- open interest -----------------------------------------------------------------------------------

    def open_interest(self, inst: Instrument, t_ms: int | NDArray[np.int64]) -> FloatArray:
        """Open interest of a perpetual or future, in contracts as the venue counts them.

        Binance and Bybit count base units; Deribit counts USD (contracts of ``contract_size`` USD).
        """
        t = np.atleast_1d(np.asarray(t_ms, dtype=np.int64))
        key = (_VENUE_CODE[inst.venue], self._asset_code(inst.base), 1 if inst.kind == "future" else 0)
        level = self._hourly_factor(_TAG_OI_DAY, _TAG_OI_HOUR, key, t, 0.25, 0.02)
        base = self.params.perp_open_interest_base[(inst.venue, inst.base)] * np.exp(level)
        if inst.kind == "future":
            assert inst.expiry_ms is not None
            base = base * 0.08 * np.sqrt(np.maximum(inst.expiry_ms - t, 0) / MS_PER_YEAR + 0.01)
        if inst.inverse:
            index = np.array([self.index_price(inst.base, int(x)) for x in t.tolist()])
            return np.asarray(round_to_step(base * index, inst.contract_size), dtype=np.float64)
        return np.asarray(round_to_step(base, inst.lot_size), dtype=np.float64)

    # --- options -----------------------------------------------------------------------------------------

    def option_chain(self, asset: str, t_ms: int) -> pd.DataFrame:
        """Model (true) values of every option of ``asset`` listed at ``t_ms``.

        Returns
        -------
        pandas.DataFrame
            One row per (expiry, strike, option_type) with ``expiry_ms``, ``strike``, ``option_type``, ``tau``
            (ACT/365 years), ``forward``, ``index_price`` (USD), ``model_usd`` (Heston price, USD per unit of
            underlying), ``iv`` (Black-76 implied volatility of the model price, decimal) and Black-76
            ``delta``, ``gamma``, ``vega`` (per vol point) and ``theta`` (per day) at ``iv``.
        """
        t_s = floor_ms(t_ms, 1000)
        return self._chains.get_or_compute((asset, t_s), lambda: self._price_chain(asset, t_s))

    def _price_chain(self, asset: str, t_ms: int) -> pd.DataFrame:
        hp = self.params.heston[asset]
        spot = self.index_price(asset, t_ms)
        v = max(self.variance(asset, t_ms), 1e-6)
        rows = []
        for expiry in ins.option_expiries(t_ms):
            tau = (expiry - t_ms) / MS_PER_YEAR
            fwd = spot * float(np.exp(self.annual_basis(asset, tau, t_ms)[0] * tau))
            strikes = self.strikes(asset, expiry, t_ms)
            if tau < 1.0 / 365.0:
                # within the last day the Fourier integral is stiff; price with the expected average variance
                avg_var = hp.theta + (v - hp.theta) * (1 - math.exp(-hp.kappa * tau)) / (hp.kappa * tau)
                vol = math.sqrt(max(avg_var, 1e-6))
                call = black76_price("call", fwd, strikes, tau, vol)
            else:
                call = np.asarray(
                    self.pricer.heston_price(
                        "call", fwd, strikes, tau, 0.0, 0.0, v, hp.kappa, hp.theta, hp.sigma, hp.rho
                    ),
                    dtype=np.float64,
                )
            call = np.maximum(call, np.maximum(fwd - strikes, 0.0))
            put = call - fwd + strikes
            otm_call = strikes >= fwd
            otm_price = np.where(otm_call, call, put)
            iv_c = np.asarray(self.pricer.implied_vol("call", call, fwd, strikes, tau), dtype=np.float64)
            iv_p = np.asarray(self.pricer.implied_vol("put", put, fwd, strikes, tau), dtype=np.float64)
            iv = np.where(otm_call, iv_c, iv_p)
            iv = np.where(otm_price > 1e-9 * fwd, iv, np.nan)
            iv = pd.Series(iv).interpolate(limit_direction="both").to_numpy()
            if np.isnan(iv).all():
                iv = np.full_like(strikes, math.sqrt(v))
            for kind, price in (("call", call), ("put", put)):
                g = black76_greeks(kind, fwd, strikes, tau, iv)
                rows.append(
                    pd.DataFrame(
                        {
                            "expiry_ms": expiry,
                            "strike": strikes,
                            "option_type": kind,
                            "tau": tau,
                            "forward": fwd,
                            "index_price": spot,
                            "model_usd": np.maximum(price, 0.0),
                            "iv": iv,
                            "delta": g.delta,
                            "gamma": g.gamma,
                            "vega": g.vega,
                            "theta": g.theta,
                        }
                    )
                )
        if not rows:
            return pd.DataFrame(
                columns=[
                    "expiry_ms",
                    "strike",
                    "option_type",
                    "tau",
                    "forward",
                    "index_price",
                    "model_usd",
                    "iv",
                    "delta",
                    "gamma",
                    "vega",
                    "theta",
                ]
            )
        return pd.concat(rows, ignore_index=True).sort_values(["expiry_ms", "strike", "option_type"], ignore_index=True)

    def option_quotes(self, venue: str, asset: str, t_ms: int) -> pd.DataFrame:
        """Quotes ``venue`` shows for every option of ``asset`` at ``t_ms``.

        Returns
        -------
        pandas.DataFrame
            The columns of :meth:`option_chain` plus ``id`` and ``symbol`` (venue id and CCXT symbol),
            ``premium_currency``, ``bid``/``ask``/``mark`` in the premium currency (coin on Deribit, USDT on
            Bybit; bid NaN when there is no bid), ``bid_iv``/``ask_iv`` (decimal, NaN without a quote),
            ``bid_size``/``ask_size``/``open_interest``/``volume_24h`` in contracts, ``underlying_index`` (the
            Deribit future or ``SYN.`` forward of the expiry).
        """
        chain = self.option_chain(asset, t_ms).copy()
        if chain.empty:
            return chain
        tick = ins.option(
            venue, asset, int(chain["expiry_ms"].iloc[0]), float(chain["strike"].iloc[0]), "call"
        ).tick_size
        fwd, strikes, tau, iv = (chain[c].to_numpy(dtype=np.float64) for c in ("forward", "strike", "tau", "iv"))
        kinds = chain["option_type"].to_numpy()
        atm = np.sqrt(max(self.variance(asset, t_ms), 0.04))
        z = np.log(strikes / fwd) / (atm * np.sqrt(tau))
        tau_days = tau * 365.0
        half = (
            self.params.option_half_spread_vol[venue]
            * (1 + 0.8 * np.abs(z))
            * (1 + 1 / np.sqrt(np.maximum(tau_days, 0.25)))
        )
        half = np.minimum(half, 0.45 * iv)
        is_call = kinds == "call"
        raw_bid = np.where(
            is_call,
            black76_price("call", fwd, strikes, tau, iv - half),
            black76_price("put", fwd, strikes, tau, iv - half),
        )
        raw_ask = np.where(
            is_call,
            black76_price("call", fwd, strikes, tau, iv + half),
            black76_price("put", fwd, strikes, tau, iv + half),
        )
        unit = fwd if venue == "deribit" else np.ones_like(fwd)
        bid = np.floor(raw_bid / unit / tick + 1e-9) * tick
        ask = np.ceil(raw_ask / unit / tick - 1e-9) * tick
        ask = np.maximum(ask, bid + tick)
        bid = np.where(bid >= tick, bid, np.nan)
        decimals = ins.decimals_of(tick)
        chain["bid"] = np.round(bid, decimals)
        chain["ask"] = np.round(ask, decimals)
        chain["mark"] = np.round(chain["model_usd"].to_numpy() / unit, 8 if venue == "deribit" else 2)
        bid_usd = chain["bid"].to_numpy() * unit
        ask_usd = chain["ask"].to_numpy() * unit
        iv_bid_c = self.pricer.implied_vol("call", bid_usd, fwd, strikes, tau)
        iv_bid_p = self.pricer.implied_vol("put", bid_usd, fwd, strikes, tau)
        iv_ask_c = self.pricer.implied_vol("call", ask_usd, fwd, strikes, tau)
        iv_ask_p = self.pricer.implied_vol("put", ask_usd, fwd, strikes, tau)
        chain["bid_iv"] = np.asarray(np.where(is_call, iv_bid_c, iv_bid_p), dtype=np.float64)
        chain["ask_iv"] = np.asarray(np.where(is_call, iv_ask_c, iv_ask_p), dtype=np.float64)
        chain["premium_currency"] = asset if venue == "deribit" else "USDT"
        day = (t_ms - EPOCH_MS) // MS_PER_DAY
        ids, symbols, u1, u2, u3 = [], [], [], [], []
        for e, k, kind in zip(chain["expiry_ms"].tolist(), strikes.tolist(), kinds.tolist(), strict=True):
            inst = ins.option(venue, asset, int(e), float(k), kind)
            ids.append(inst.id)
            symbols.append(inst.symbol)
            h = stable_hash("oi", self.seed, venue, inst.id, day)
            u1.append((h & 0xFFFF) / 65535.0)
            u2.append(((h >> 16) & 0xFFFF) / 65535.0)
            u3.append(((h >> 32) & 0xFFFF) / 65535.0)
        chain["id"] = ids
        chain["symbol"] = symbols
        lot = ins.option(venue, asset, int(chain["expiry_ms"].iloc[0]), float(strikes[0]), "call").lot_size
        oi_base = self.params.option_open_interest_base[(venue, asset)]
        weight = np.where(tau > 0.2, 1.5, 1.0) * np.exp(-0.5 * (z / 1.5) ** 2)
        chain["open_interest"] = round_to_step(oi_base * weight * (0.5 + np.array(u1)), lot)
        chain["volume_24h"] = round_to_step(chain["open_interest"].to_numpy() * 0.15 * np.array(u2), lot)
        chain["bid_size"] = np.where(np.isnan(bid), 0.0, round_to_step(lot * (5 + 95 * np.array(u3)), lot))
        chain["ask_size"] = round_to_step(lot * (5 + 95 * np.array(u2)), lot)
        futures = set(ins.future_expiries("deribit", t_ms)) if venue == "deribit" else set()
        names = {}
        for e in chain["expiry_ms"].unique().tolist():
            code = deribit_date_code(int(e))
            names[e] = f"{asset}-{code}" if venue != "deribit" or e in futures else f"SYN.{asset}-{code}"
        chain["underlying_index"] = chain["expiry_ms"].map(names)
        return chain

    # --- ids ---------------------------------------------------------------------------------------------

    @staticmethod
    def trade_id_day_start(trade_id: int) -> int:
        """Start (ms UTC) of the day a trade id belongs to (ids are ``(day + 1) * 10**7 + n``)."""
        return EPOCH_MS + max(trade_id // 10_000_000 - 1, 0) * MS_PER_DAY

    @staticmethod
    def execution_uuid(inst: Instrument, trade_id: int) -> str:
        """Deterministic UUID of a trade (Bybit ``execId``)."""
        return str(uuid.UUID(int=stable_hash(*inst.key, trade_id) << 64 | stable_hash(trade_id, *inst.key)))


def _empty_candles() -> Candles:
    f = np.empty(0)
    i = np.empty(0, dtype=np.int64)
    return Candles(i, f, f, f, f, f, f, f, i, f, f)
