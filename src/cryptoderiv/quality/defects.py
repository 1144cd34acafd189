"""Defect injectors: turn a clean batch into one with a known, realistic defect.

Each injector takes a batch in the input contract of its table (:mod:`cryptoderiv.quality.frames`) and a
seed, and returns a :class:`Defect`: the damaged batch, the positions of the rows that must not be
published, the rule(s) expected to catch it and whether the right verdict is hard (quarantine) or soft
(recorded, rows published). The input frame is never modified. The quality tests use them on clean
synthetic batches; the exchange simulator's bad-data mode reuses them on its own output.

The defects are the ones real feeds produce: crossed books, sign and NaN corruption, duplicate and
missing candles, stale quotes, a parity break (one leg from another moment), IV in percent, coin
premiums labelled USD, funding spikes and quotes of expired options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from cryptoderiv.quality.conditions import black76_undiscounted, floats, is_coin_premium
from cryptoderiv.quality.policy import Severity


@dataclass(frozen=True)
class Defect:
    """A batch with one injected defect.

    Attributes
    ----------
    name
        What was injected.
    table
        The table the batch is for.
    frame
        The damaged batch (index 0..n-1).
    rows
        Positions in ``frame`` of the rows that must not reach the table (empty for a soft defect).
    rules
        Names of the rules that catch it; each must fail (on exactly ``rows`` for hard defects).
    severity
        HARD: the rows are quarantined; SOFT: the failure is recorded and every row is published.
    """

    name: str
    table: str
    frame: pd.DataFrame
    rows: tuple[int, ...]
    rules: frozenset[str]
    severity: Severity = Severity.HARD


def _pick(rng: np.random.Generator, candidates: np.ndarray, what: str) -> int:
    if candidates.size == 0:
        raise ValueError(f"the batch has no row suitable for {what}")
    return int(rng.choice(candidates))


def _copy(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.reset_index(drop=True).copy()


def _get(frame: pd.DataFrame, row: int, column: str) -> Any:
    return frame[column].iloc[row]


def _set(frame: pd.DataFrame, row: int, column: str, value: Any) -> None:
    frame.loc[row, column] = value


def crossed_book(frame: pd.DataFrame, table: str, seed: int = 0) -> Defect:
    """A quote whose bid is above its ask (option or futures quotes); its USD bid follows."""
    out = _copy(frame)
    rng = np.random.default_rng(seed)
    row = _pick(rng, np.flatnonzero(out["bid"].notna().to_numpy() & out["ask"].notna().to_numpy()), "a crossed book")
    factor = 1.05 * _get(out, row, "ask") / _get(out, row, "bid")
    _set(out, row, "bid", _get(out, row, "bid") * factor)
    if "bid_usd" in out.columns:
        _set(out, row, "bid_usd", _get(out, row, "bid_usd") * factor)
    return Defect("crossed book", table, out, (row,), frozenset({f"{table}.bid_le_ask"}))


def negative_price(frame: pd.DataFrame, table: str = "ohlcv", column: str = "close", seed: int = 0) -> Defect:
    """A price with its sign flipped."""
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.arange(len(out)), "a negative price")
    _set(out, row, column, -abs(_get(out, row, column)))
    return Defect(f"negative {column}", table, out, (row,), frozenset({f"{table}.{column}_positive"}))


def missing_value(frame: pd.DataFrame, table: str, column: str, seed: int = 0) -> Defect:
    """NaN in a required column."""
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.arange(len(out)), "a NaN")
    _set(out, row, column, np.nan)
    return Defect(f"NaN {column}", table, out, (row,), frozenset({f"{table}.{column}_not_null"}))


def duplicate_timestamp(frame: pd.DataFrame, table: str = "ohlcv", seed: int = 0) -> Defect:
    """A second candle (or quote) for the same key with different values, appended at the end."""
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.arange(len(out)), "a duplicate")
    copy = out.iloc[[row]].copy()
    for column in ("open", "high", "low", "close", "mark_price", "rate"):
        if column in copy.columns:
            copy[column] = copy[column] * 1.0005
    out = pd.concat([out, copy], ignore_index=True)
    return Defect("duplicate timestamp", table, out, (row, len(out) - 1), frozenset({f"{table}.unique_key"}))


def candle_gap(frame: pd.DataFrame, bars: int = 5, seed: int = 0) -> Defect:
    """``bars`` consecutive 1m candles of one series missing (not at the window's edges). Soft: the
    remaining bars are good; the gap is recorded."""
    out = _copy(frame)
    rng = np.random.default_rng(seed)
    series = out.groupby(["exchange", "symbol", "timeframe"], sort=False).indices
    key = list(series)[int(rng.integers(len(series)))]
    positions = np.sort(series[key])
    if positions.size < bars + 2:
        raise ValueError("the series is too short for a gap")
    first = int(rng.integers(1, positions.size - bars))
    keep = np.ones(len(out), dtype=bool)
    keep[positions[first:first + bars]] = False
    out = out.loc[keep].reset_index(drop=True)
    return Defect(f"gap of {bars} bars", "ohlcv", out, (), frozenset({"ohlcv.bar_grid_complete"}), Severity.SOFT)


def stale_quote(frame: pd.DataFrame, table: str, age_seconds: float = 600.0, seed: int = 0) -> Defect:
    """A quote the venue last updated ``age_seconds`` (default 10 minutes) before the snapshot."""
    age = pd.Timedelta(seconds=age_seconds)
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.arange(len(out)), "a stale quote")
    _set(out, row, "quote_ts", _get(out, row, "ts") - age)
    return Defect("stale quote", table, out, (row,), frozenset({f"{table}.quote_fresh"}))


def parity_break(frame: pd.DataFrame, size: float = 0.02, seed: int = 0) -> Defect:
    """The put of a near-the-money call/put pair taken from another moment: its price is ``size`` x F
    higher (a stale leg after a ~``2 * size`` spot move at delta 0.5), with its IV, bid and ask
    moved consistently, so each leg is internally sound but the pair breaks put-call parity. Both
    legs are expected in quarantine (parity cannot tell which leg is stale)."""
    out = _copy(frame)
    rng = np.random.default_rng(seed)
    keys = ["exchange", "base", "premium_currency", "ts", "expiry", "strike"]
    pairs = [p for p in out.groupby(keys, sort=False).indices.values() if len(p) == 2]
    if not pairs:
        raise ValueError("the batch has no call/put pair")
    moneyness = np.abs(np.log(floats(out["strike"]) / floats(out["underlying_price"])))[[p[0] for p in pairs]]
    near = [pairs[i] for i in np.argsort(moneyness)[: max(1, len(pairs) // 4)]]
    pair = near[int(rng.integers(len(near)))]
    put = int(pair[0] if out.at[pair[0], "option_type"] == "put" else pair[1])
    call = int(pair[1] if put == pair[0] else pair[0])
    forward, strike, t = (float(_get(out, put, c)) for c in ("underlying_price", "strike", "time_to_expiry"))
    coin = bool(is_coin_premium(out.loc[[put], "premium_currency"])[0])
    scale = forward if coin else 1.0  # premium currency -> forward units
    target = float(_get(out, put, "mark")) * scale + size * forward

    def excess(vol: float) -> float:
        model = black76_undiscounted(np.array([False]), np.array([forward]), np.array([strike]), np.array([t]),
                                     np.array([vol]))
        return float(model[0]) - target

    vol = brentq(excess, 1e-4, 20.0, xtol=1e-10)
    shift = size * forward / scale
    usd_rate = _get(out, put, "mark_usd") / _get(out, put, "mark")
    for column in ("mark", "bid", "ask"):
        if pd.notna(_get(out, put, column)):
            _set(out, put, column, _get(out, put, column) + shift)
            _set(out, put, f"{column}_usd", _get(out, put, column) * usd_rate)
    _set(out, put, "mark_iv", vol)
    return Defect("parity break", "option_quotes", out, tuple(sorted((call, put))),
                  frozenset({"option_quotes.put_call_parity_marks"}))


def iv_in_percent(frame: pd.DataFrame, seed: int = 0) -> Defect:
    """Implied volatilities of one quote in percent (55.0) instead of a decimal (0.55)."""
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.flatnonzero(out["mark_iv"].notna().to_numpy()), "IV in percent")
    for column in ("mark_iv", "bid_iv", "ask_iv"):
        _set(out, row, column, _get(out, row, column) * 100.0)
    return Defect("IV in percent", "option_quotes", out, (row,), frozenset({"option_quotes.mark_iv_range"}))


def coin_premium_labelled_usd(frame: pd.DataFrame, seed: int = 0) -> Defect:
    """A coin-premium (inverse) option quote whose currency says USD: the prices stay in coin."""
    out = _copy(frame)
    coin = is_coin_premium(out["premium_currency"])
    row = _pick(np.random.default_rng(seed), np.flatnonzero(coin & (floats(out["mark"]) > 0)),
                "a coin premium labelled USD")
    _set(out, row, "premium_currency", "USD")
    return Defect("coin premium labelled USD", "option_quotes", out, (row,),
                  frozenset({"option_quotes.premium_units"}))


def usd_columns_in_coin(frame: pd.DataFrame, seed: int = 0) -> Defect:
    """A coin-premium quote whose USD columns were filled with the coin values (no conversion)."""
    out = _copy(frame)
    coin = is_coin_premium(out["premium_currency"])
    row = _pick(np.random.default_rng(seed), np.flatnonzero(coin & (floats(out["mark"]) > 0)), "USD columns in coin")
    for column in ("mark", "bid", "ask"):
        _set(out, row, f"{column}_usd", _get(out, row, column))
    return Defect("USD columns holding coin", "option_quotes", out, (row,),
                  frozenset({"option_quotes.premium_units"}))


def funding_spike(frame: pd.DataFrame, rate: float = 0.05, seed: int = 0) -> Defect:
    """One funding rate set to ``rate`` per interval (5 %: far above any venue's clamp)."""
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.arange(len(out)), "a funding spike")
    _set(out, row, "rate", rate)
    return Defect("funding spike", "funding_rates", out, (row,), frozenset({"funding_rates.rate_within_venue_cap"}))


def funding_in_local_time(frame: pd.DataFrame, hours: int = 3, seed: int = 0) -> Defect:
    """One funding time shifted by ``hours`` (a UTC+3 source read as UTC)."""
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.arange(len(out)), "a shifted funding time")
    _set(out, row, "ts", _get(out, row, "ts") + pd.Timedelta(hours=hours))
    return Defect("funding time in UTC+3", "funding_rates", out, (row,), frozenset({"funding_rates.ts_on_interval"}))


def option_past_expiry(frame: pd.DataFrame, seed: int = 0) -> Defect:
    """A quote of an option that expired the day before the snapshot (its time to expiry, as the
    feed published it, still positive)."""
    out = _copy(frame)
    row = _pick(np.random.default_rng(seed), np.arange(len(out)), "an expired option")
    _set(out, row, "expiry", _get(out, row, "ts") - pd.Timedelta(days=1))
    return Defect("option past expiry", "option_quotes", out, (row,),
                  frozenset({"option_quotes.expiry_after_snapshot"}))


def partial_last_bar(frame: pd.DataFrame, seed: int = 0) -> Defect:
    """The bar still forming when the download ran: a 1m bar opening at the window's end (a copy of
    a series' last bar, one minute later), so it closes after the window."""
    out = _copy(frame)
    rng = np.random.default_rng(seed)
    series = out.groupby(["exchange", "symbol", "timeframe"], sort=False).indices
    key = list(series)[int(rng.integers(len(series)))]
    last = int(np.max(series[key]))
    extra = out.iloc[[last]].copy()
    extra["ts"] = extra["ts"] + pd.Timedelta(minutes=1)
    out = pd.concat([out, extra], ignore_index=True)
    return Defect("partial last bar", "ohlcv", out, (len(out) - 1,), frozenset({"ohlcv.bars_within_window"}))


#: The injectors by name, with the table each applies to (for the simulator's bad-data mode).
INJECTORS: dict[str, tuple[str, Callable[..., Defect]]] = {
    "crossed_book": ("option_quotes", lambda f, seed=0: crossed_book(f, "option_quotes", seed)),
    "crossed_futures_book": ("futures_quotes", lambda f, seed=0: crossed_book(f, "futures_quotes", seed)),
    "negative_price": ("ohlcv", lambda f, seed=0: negative_price(f, "ohlcv", "close", seed)),
    "nan": ("ohlcv", lambda f, seed=0: missing_value(f, "ohlcv", "close", seed)),
    "duplicate_timestamp": ("ohlcv", lambda f, seed=0: duplicate_timestamp(f, "ohlcv", seed)),
    "gap": ("ohlcv", lambda f, seed=0: candle_gap(f, seed=seed)),
    "partial_last_bar": ("ohlcv", lambda f, seed=0: partial_last_bar(f, seed)),
    "stale_quote": ("option_quotes", lambda f, seed=0: stale_quote(f, "option_quotes", seed=seed)),
    "parity_break": ("option_quotes", lambda f, seed=0: parity_break(f, seed=seed)),
    "iv_in_percent": ("option_quotes", lambda f, seed=0: iv_in_percent(f, seed)),
    "coin_premium_labelled_usd": ("option_quotes", lambda f, seed=0: coin_premium_labelled_usd(f, seed)),
    "usd_columns_in_coin": ("option_quotes", lambda f, seed=0: usd_columns_in_coin(f, seed)),
    "funding_spike": ("funding_rates", lambda f, seed=0: funding_spike(f, seed=seed)),
    "funding_in_local_time": ("funding_rates", lambda f, seed=0: funding_in_local_time(f, seed=seed)),
    "option_past_expiry": ("option_quotes", lambda f, seed=0: option_past_expiry(f, seed)),
}


def inject(name: str, frame: pd.DataFrame, seed: int = 0) -> Defect:
    """Apply the injector called ``name`` (see :data:`INJECTORS`) to ``frame``."""
    if name not in INJECTORS:
        raise KeyError(f"unknown defect {name!r}; known: {', '.join(INJECTORS)}")
    return INJECTORS[name][1](frame, seed=seed)
