"""Instruments of the simulated venues: identifiers, contract specifications and listing rules.

Each venue lists BTC and ETH spot and perpetuals; Deribit and Binance list dated futures; Deribit (inverse,
coin-settled) and Bybit (USDT-settled) list options. The identifiers follow each venue's own convention:

============  =====================  ======================  ============================
venue         perpetual              dated future            option
============  =====================  ======================  ============================
deribit       ``BTC-PERPETUAL``      ``BTC-27NOV26``         ``BTC-27NOV26-90000-C``
binance       ``BTCUSDT`` (usdm)     ``BTCUSDT_261225``      (none)
bybit         ``BTCUSDT`` (linear)   (none)                  ``BTC-27NOV26-90000-C-USDT``
============  =====================  ======================  ============================

Spot ids are ``BTC_USDC`` (Deribit) and ``BTCUSDT`` (Binance, Bybit). Binance spot and USD-M share ids, as do
Bybit spot and linear, so an instrument is identified by ``(venue, market_type, id)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cryptoderiv.simulator.calendar import (
    DERIBIT_FUTURE_HORIZON_DAYS,
    EPOCH_MS,
    MS_PER_DAY,
    MS_PER_YEAR,
    OPTION_HORIZON_DAYS,
    deribit_date_code,
    listed_expiries,
    listing_time,
    month_end_after,
    parse_deribit_date_code,
    quarter_end_before,
    quarter_ends_after,
    to_datetime,
    yymmdd,
)

VENUES = ("deribit", "binance", "bybit")
LINEAR_PERP_MARKET = {"binance": "usdm", "bybit": "linear"}  # API family of the USDT perpetuals
ASSETS = ("BTC", "ETH")


def format_number(value: float) -> str:
    """Shortest exact positional decimal text of a number (``90000``, ``2.5``, ``0.00001``)."""
    return str(np.format_float_positional(float(value), trim="-"))


def decimals_of(step: float) -> int:
    """Number of decimals of a tick or lot size (``0.05`` -> 2, ``5`` -> 0, ``1e-05`` -> 5)."""
    text = format_number(step)
    return len(text.split(".")[1]) if "." in text else 0


def round_to_step(values: np.ndarray, step: float) -> np.ndarray:
    """Round to the nearest multiple of ``step`` and to its number of decimals (no binary residue)."""
    return np.asarray(np.round(np.round(np.asarray(values, dtype=np.float64) / step) * step, decimals_of(step)))


@dataclass(frozen=True)
class Instrument:
    """One tradable instrument of a simulated venue.

    Attributes
    ----------
    venue : str
        ``deribit``, ``binance`` or ``bybit``.
    market_type : str
        The venue's API family: Deribit ``spot``/``future``/``option``; Binance ``spot``/``usdm``;
        Bybit ``spot``/``linear``/``option``.
    id : str
        The venue's instrument id.
    kind : str
        ``spot``, ``perpetual``, ``future`` or ``option``.
    base, quote : str
        Base and quote currency (Deribit derivatives quote in USD).
    settle : str or None
        Settlement currency; None for spot.
    inverse : bool
        True for coin-settled contracts whose size is in USD (Deribit futures and perpetuals) and for
        coin-quoted options (Deribit).
    contract_size : float
        USD per contract for inverse futures, base units per contract otherwise.
    tick_size, lot_size : float
        Price tick and amount step (amount in contracts; for inverse futures in USD).
    expiry_ms : int or None
        Expiry, ms UTC.
    strike : float or None
        Strike, quote currency (USD/USDT).
    option_type : str or None
        ``call`` or ``put``.
    listed_ms : int
        Listing time, ms UTC.
    funding_interval_hours : int or None
        Funding interval of perpetuals (hours).
    """

    venue: str
    market_type: str
    id: str
    kind: str
    base: str
    quote: str
    settle: str | None
    inverse: bool
    contract_size: float
    tick_size: float
    lot_size: float
    expiry_ms: int | None = None
    strike: float | None = None
    option_type: str | None = None
    listed_ms: int = EPOCH_MS
    funding_interval_hours: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """``(venue, market_type, id)``: unique across the simulator."""
        return (self.venue, self.market_type, self.id)

    @property
    def symbol(self) -> str:
        """The CCXT unified symbol of the instrument (what ccxt 4.5 derives from the venue's fields)."""
        if self.kind == "spot":
            return f"{self.base}/{self.quote}"
        out = f"{self.base}/{self.quote}:{self.settle}"
        if self.expiry_ms is not None:
            out += "-" + yymmdd(self.expiry_ms)
        if self.kind == "option":
            assert self.strike is not None and self.option_type is not None
            out += f"-{format_number(self.strike)}-{'C' if self.option_type == 'call' else 'P'}"
        return out

    def is_listed(self, t_ms: int) -> bool:
        """True if the instrument trades at ``t_ms``."""
        return self.listed_ms <= t_ms and (self.expiry_ms is None or t_ms < self.expiry_ms)

    def tau(self, t_ms: int) -> float:
        """Time to expiry in ACT/365 years at ``t_ms`` (0 for perpetuals and after expiry)."""
        if self.expiry_ms is None:
            return 0.0
        return max(self.expiry_ms - t_ms, 0) / MS_PER_YEAR


# --- static instruments ------------------------------------------------------------------------------------

_SPOT_TICK = {
    ("deribit", "BTC"): 1.0,
    ("deribit", "ETH"): 0.05,
    ("binance", "BTC"): 0.01,
    ("binance", "ETH"): 0.01,
    ("bybit", "BTC"): 0.1,
    ("bybit", "ETH"): 0.01,
}
_SPOT_LOT = {
    ("deribit", "BTC"): 0.0001,
    ("deribit", "ETH"): 0.001,
    ("binance", "BTC"): 0.00001,
    ("binance", "ETH"): 0.0001,
    ("bybit", "BTC"): 0.000001,
    ("bybit", "ETH"): 0.00001,
}
_PERP_TICK = {
    ("deribit", "BTC"): 0.5,
    ("deribit", "ETH"): 0.05,
    ("binance", "BTC"): 0.1,
    ("binance", "ETH"): 0.01,
    ("bybit", "BTC"): 0.1,
    ("bybit", "ETH"): 0.01,
}
_LINEAR_LOT = {"BTC": 0.001, "ETH": 0.01}
_DERIBIT_INVERSE_SIZE = {"BTC": 10.0, "ETH": 1.0}
_OPTION_TICK = {("deribit", "BTC"): 0.0001, ("deribit", "ETH"): 0.0001, ("bybit", "BTC"): 5.0, ("bybit", "ETH"): 0.1}
_OPTION_LOT = {("deribit", "BTC"): 0.1, ("deribit", "ETH"): 1.0, ("bybit", "BTC"): 0.01, ("bybit", "ETH"): 0.1}


def static_instruments(venue: str) -> list[Instrument]:
    """Spot and perpetual instruments of a venue (listed from the epoch, never expiring)."""
    out = []
    for asset in ASSETS:
        if venue == "deribit":
            out.append(
                Instrument(
                    "deribit",
                    "spot",
                    f"{asset}_USDC",
                    "spot",
                    asset,
                    "USDC",
                    None,
                    False,
                    1.0,
                    _SPOT_TICK[(venue, asset)],
                    _SPOT_LOT[(venue, asset)],
                )
            )
            out.append(
                Instrument(
                    "deribit",
                    "future",
                    f"{asset}-PERPETUAL",
                    "perpetual",
                    asset,
                    "USD",
                    asset,
                    True,
                    _DERIBIT_INVERSE_SIZE[asset],
                    _PERP_TICK[(venue, asset)],
                    _DERIBIT_INVERSE_SIZE[asset],
                    funding_interval_hours=1,
                )
            )
        elif venue in LINEAR_PERP_MARKET:
            # Binance and Bybit list the same pair of USDT instruments; only the perpetual's API family differs.
            out.append(
                Instrument(
                    venue,
                    "spot",
                    f"{asset}USDT",
                    "spot",
                    asset,
                    "USDT",
                    None,
                    False,
                    1.0,
                    _SPOT_TICK[(venue, asset)],
                    _SPOT_LOT[(venue, asset)],
                )
            )
            out.append(
                Instrument(
                    venue,
                    LINEAR_PERP_MARKET[venue],
                    f"{asset}USDT",
                    "perpetual",
                    asset,
                    "USDT",
                    "USDT",
                    False,
                    1.0,
                    _PERP_TICK[(venue, asset)],
                    _LINEAR_LOT[asset],
                    funding_interval_hours=8,
                )
            )
        else:
            raise ValueError(f"unknown venue {venue!r}")
    return out


# --- dated futures -----------------------------------------------------------------------------------------


def deribit_future(asset: str, expiry_ms: int) -> Instrument:
    """The Deribit inverse future of ``asset`` expiring at ``expiry_ms``."""
    listed = max(listing_time(expiry_ms, DERIBIT_FUTURE_HORIZON_DAYS), EPOCH_MS)
    return Instrument(
        "deribit",
        "future",
        f"{asset}-{deribit_date_code(expiry_ms)}",
        "future",
        asset,
        "USD",
        asset,
        True,
        _DERIBIT_INVERSE_SIZE[asset],
        2.5 if asset == "BTC" else 0.25,
        _DERIBIT_INVERSE_SIZE[asset],
        expiry_ms=expiry_ms,
        listed_ms=listed,
    )


def binance_future_listing(expiry_ms: int) -> int:
    """Listing time of a Binance USD-M delivery contract.

    Quarterlies are listed two quarters ahead (CURRENT_QUARTER and NEXT_QUARTER); the current-month
    contract (a month-end that is not a quarter end) from the previous month end.
    """
    dt = to_datetime(expiry_ms)
    if dt.month in (3, 6, 9, 12):
        return max(quarter_end_before(quarter_end_before(expiry_ms)), EPOCH_MS)
    return max(expiry_ms - 35 * MS_PER_DAY, EPOCH_MS)


def binance_future(asset: str, expiry_ms: int) -> Instrument:
    """The Binance USD-M delivery contract of ``asset`` expiring at ``expiry_ms``."""
    return Instrument(
        "binance",
        "usdm",
        f"{asset}USDT_{yymmdd(expiry_ms)}",
        "future",
        asset,
        "USDT",
        "USDT",
        False,
        1.0,
        _PERP_TICK[("binance", asset)],
        _LINEAR_LOT[asset],
        expiry_ms=expiry_ms,
        listed_ms=binance_future_listing(expiry_ms),
    )


def binance_contract_type(expiry_ms: int, t_ms: int) -> str:
    """Binance ``contractType`` of a delivery contract at ``t_ms``."""
    quarters = quarter_ends_after(t_ms, 2)
    if expiry_ms == quarters[0]:
        return "CURRENT_QUARTER"
    if expiry_ms == quarters[1]:
        return "NEXT_QUARTER"
    return "CURRENT_MONTH"


def future_expiries(venue: str, t_ms: int) -> list[int]:
    """Expiries of the dated futures a venue lists at ``t_ms``."""
    if venue == "deribit":
        return listed_expiries(t_ms, DERIBIT_FUTURE_HORIZON_DAYS)
    if venue == "binance":
        quarters = quarter_ends_after(t_ms, 2)
        month = month_end_after(t_ms)
        expiries = set(quarters)
        if to_datetime(month).month not in (3, 6, 9, 12) and binance_future_listing(month) <= t_ms:
            expiries.add(month)
        return sorted(e for e in expiries if binance_future_listing(e) <= t_ms)
    return []


def futures(venue: str, asset: str, t_ms: int) -> list[Instrument]:
    """Dated futures of ``asset`` listed on ``venue`` at ``t_ms``."""
    make = deribit_future if venue == "deribit" else binance_future
    return [make(asset, e) for e in future_expiries(venue, t_ms)] if venue in ("deribit", "binance") else []


# --- options -----------------------------------------------------------------------------------------------


def nice_step(raw: float) -> float:
    """Smallest of 1, 2, 2.5, 5 times a power of ten that is >= ``raw``."""
    exponent = math.floor(math.log10(raw))
    for mantissa in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = mantissa * 10.0**exponent
        if step >= raw * (1 - 1e-12):
            return float(round(step, 10))
    return float(10.0 ** (exponent + 1))  # pragma: no cover - the loop always returns


def strike_grid(forward: float, tau_years: float, reference_vol: float = 0.7) -> np.ndarray:
    """Strikes listed for one expiry, from the forward at listing.

    A fine step within 1.2 standard deviations of the forward and a coarse step (2.5x) out to 3.2 standard
    deviations (clipped to ``[0.2 F, 4 F]``), with ``sd = reference_vol * sqrt(max(tau, 7 days))``.

    Parameters
    ----------
    forward : float
        Forward at listing.
    tau_years : float
        Time to expiry at listing, years.
    reference_vol : float, default 0.7
        Volatility that sets the width.

    Returns
    -------
    numpy.ndarray
        Sorted strikes.
    """
    sd = reference_vol * math.sqrt(max(tau_years, 7.0 / 365.0))
    fine = nice_step(forward * sd * 0.1)
    coarse = nice_step(fine * 2.5)
    lo = max(forward * math.exp(-3.2 * sd), 0.2 * forward)
    hi = min(forward * math.exp(3.2 * sd), 4.0 * forward)
    inner_lo, inner_hi = forward * math.exp(-1.2 * sd), forward * math.exp(1.2 * sd)
    inner = np.arange(math.ceil(inner_lo / fine), math.floor(inner_hi / fine) + 1) * fine
    outer = np.arange(math.ceil(lo / coarse), math.floor(hi / coarse) + 1) * coarse
    outer = outer[(outer < inner_lo) | (outer > inner_hi)]
    strikes = np.unique(np.round(np.concatenate([inner, outer]), 8))
    return strikes[strikes > 0]


def strike_additions(forward: float, tau_years: float, reference_vol: float = 0.7) -> np.ndarray:
    """Strikes added to a listed expiry at a weekly re-listing: a fine band around the then forward.

    Within one standard deviation (``sd = reference_vol * sqrt(max(tau, 7 days))``) of ``forward``, on a step of
    a tenth of it; as expiry nears the band narrows and the step shrinks, as on Deribit.
    """
    sd = reference_vol * math.sqrt(max(tau_years, 7.0 / 365.0))
    step = nice_step(forward * sd * 0.1)
    lo, hi = forward * math.exp(-sd), forward * math.exp(sd)
    return np.round(np.arange(math.ceil(lo / step), math.floor(hi / step) + 1) * step, 8)


def relisting_times(expiry_ms: int, t_ms: int) -> list[int]:
    """Weekly re-listing times of an option expiry up to ``t_ms``: every Friday 08:00 after listing."""
    listed = option_listing(expiry_ms)
    out: list[int] = []
    k = 1
    while True:
        when = expiry_ms - 7 * k * MS_PER_DAY
        if when <= listed:
            return sorted(out)
        if when <= t_ms:
            out.append(when)
        k += 1


def option_expiries(t_ms: int) -> list[int]:
    """Option expiries listed at ``t_ms`` (Deribit and Bybit share the calendar)."""
    return listed_expiries(t_ms, OPTION_HORIZON_DAYS)


def option_listing(expiry_ms: int) -> int:
    """Listing time of an option expiry."""
    return max(listing_time(expiry_ms, OPTION_HORIZON_DAYS), EPOCH_MS)


def option(venue: str, asset: str, expiry_ms: int, strike: float, option_type: str) -> Instrument:
    """The option of ``venue`` on ``asset`` with the given terms."""
    letter = "C" if option_type == "call" else "P"
    code = deribit_date_code(expiry_ms)
    if venue == "deribit":
        return Instrument(
            "deribit",
            "option",
            f"{asset}-{code}-{format_number(strike)}-{letter}",
            "option",
            asset,
            "USD",
            asset,
            True,
            1.0,
            _OPTION_TICK[(venue, asset)],
            _OPTION_LOT[(venue, asset)],
            expiry_ms=expiry_ms,
            strike=strike,
            option_type=option_type,
            listed_ms=option_listing(expiry_ms),
        )
    if venue == "bybit":
        return Instrument(
            "bybit",
            "option",
            f"{asset}-{code}-{format_number(strike)}-{letter}-USDT",
            "option",
            asset,
            "USDT",
            "USDT",
            False,
            1.0,
            _OPTION_TICK[(venue, asset)],
            _OPTION_LOT[(venue, asset)],
            expiry_ms=expiry_ms,
            strike=strike,
            option_type=option_type,
            listed_ms=option_listing(expiry_ms),
        )
    raise ValueError(f"{venue} lists no options in the simulator")


@dataclass(frozen=True)
class ParsedId:
    """Terms parsed from a dated instrument id."""

    asset: str
    expiry_ms: int
    strike: float | None = None
    option_type: str | None = None


def parse_dated_id(venue: str, market_type: str, instrument_id: str) -> ParsedId | None:
    """Parse a future or option id of a venue; None if it is not one."""
    try:
        if venue == "deribit" and market_type in ("future", "option"):
            parts = instrument_id.split("-")
            if len(parts) == 2 and parts[1] != "PERPETUAL":
                return ParsedId(parts[0], parse_deribit_date_code(parts[1]))
            if len(parts) == 4:
                kind = {"C": "call", "P": "put"}[parts[3]]
                return ParsedId(parts[0], parse_deribit_date_code(parts[1]), float(parts[2]), kind)
        if venue == "bybit" and market_type == "option":
            parts = instrument_id.split("-")
            if len(parts) == 5 and parts[4] == "USDT":
                kind = {"C": "call", "P": "put"}[parts[3]]
                return ParsedId(parts[0], parse_deribit_date_code(parts[1]), float(parts[2]), kind)
        if venue == "binance" and market_type == "usdm" and "_" in instrument_id:
            pair, code = instrument_id.split("_")
            from datetime import UTC, datetime

            expiry = datetime.strptime(code + "08", "%y%m%d%H").replace(tzinfo=UTC)
            return ParsedId(pair.removesuffix("USDT"), int(expiry.timestamp() * 1000))
    except (KeyError, ValueError, IndexError):
        return None
    return None
