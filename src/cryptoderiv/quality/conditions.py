"""The row conditions behind the custom expectations: vectorised NumPy/pandas, no Great Expectations.

Each ``*_ok`` function takes the columns it needs (as a DataFrame holding at least those columns, in
the input contract's names, see :mod:`cryptoderiv.quality.frames`) and returns a boolean array aligned
with the frame's rows: True where the row satisfies the rule *or the rule does not apply to it* (a
missing input, a put in a call-only rule, a strike without a partner). The custom expectations in
:mod:`cryptoderiv.quality.expectations` wrap them as Great Expectations metrics; they are separate so
they can be tested and reasoned about without GX.

Units: timestamps are timezone-aware UTC; time to expiry in ACT/365 years; implied volatility an annual
decimal; option prices are compared in *forward units* (USD at the option's own forward: a coin premium
times ``underlying_price``), so parity reads ``C - P = F - K`` with the zero rate Deribit marks with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtr

from cryptoderiv.quality.policy import TIMEFRAME_SECONDS, USD_LIKE_CURRENCIES

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SECONDS_PER_YEAR = 365.0 * 86_400.0
#: Weekly candles open on Mondays: grid anchor for every timeframe (all divide a week).
GRID_ANCHOR = pd.Timestamp("1970-01-05T00:00:00Z")
OPTION_SYMBOL = re.compile(
    r"^(?P<base>[^/]+)/(?P<quote>[^:]+):(?P<settle>[^-]+)-(?P<expiry>\d{6})-(?P<strike>[0-9.]+)-(?P<type>[CP])$")


# --------------------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------------------

def floats(values: Any) -> FloatArray:
    """``values`` as float64 with missing values as NaN."""
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def epoch_seconds(values: pd.Series) -> FloatArray:
    """Timezone-aware timestamps as float seconds since the epoch (NaT -> NaN), any resolution."""
    if values.empty:
        return np.empty(0, dtype=np.float64)
    ts = pd.to_datetime(values, utc=True)
    nanos = ts.dt.as_unit("ns").to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
    nanos[ts.isna().to_numpy()] = np.nan
    return nanos / 1e9


def _column_codes(column: pd.Series) -> tuple[IntArray, int]:
    """Integer codes of a column's values and how many distinct codes there can be."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int64)
        return codes + 1, len(column.cat.categories) + 1  # missing (-1) becomes its own code 0
    values, uniques = pd.factorize(column, use_na_sentinel=False)
    return values.astype(np.int64), max(len(uniques), 1)


def group_codes(*columns: pd.Series) -> IntArray:
    """Dense integer codes (0..g-1) of the combination of ``columns`` (missing values form their own group)."""
    if not columns:
        raise ValueError("group_codes needs at least one column")
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    span = 1
    for column in columns:
        codes, size = _column_codes(column)
        if span * size >= 2**62:  # keep the mixed radix inside int64
            combined, _ = pd.factorize(combined)
            combined = combined.astype(np.int64)
            span = int(combined.max()) + 1 if combined.size else 1
        combined = combined * size + codes
        span *= size
    dense, _ = pd.factorize(combined)
    return dense.astype(np.int64)


def _lookup(table: Mapping[str, float], default: float, *keys: pd.Series) -> FloatArray:
    """``table["k1:k2..."]`` per row (``default`` when absent), looked up once per distinct key."""
    codes = group_codes(*keys)
    if codes.size == 0:
        return np.empty(0, dtype=np.float64)
    first = np.unique(codes, return_index=True)[1]
    names = [":".join(str(k.iloc[i]) for k in keys) for i in first]
    values = np.array([table.get(name, default) for name in names], dtype=np.float64)
    return values[codes]


def is_coin_premium(premium_currency: pd.Series) -> BoolArray:
    """True where premiums are quoted in a coin (inverse options), False for USD-like currencies."""
    return ~premium_currency.isin(USD_LIKE_CURRENCIES).to_numpy()


def forward_units(price: pd.Series, premium_currency: pd.Series, forward: pd.Series) -> FloatArray:
    """Premiums in USD at the option's forward: coin premiums times the forward, USD ones unchanged."""
    values = floats(price)
    return np.where(is_coin_premium(premium_currency), values * floats(forward), values)


def is_call(option_type: pd.Series) -> BoolArray:
    """True for calls (``option_type == 'call'``)."""
    return (option_type == "call").to_numpy()


def black76_undiscounted(call: BoolArray, forward: FloatArray, strike: FloatArray, t: FloatArray,
                         vol: FloatArray) -> FloatArray:
    r"""Black-76 price with a zero rate, in the currency of ``forward`` and ``strike``.

    .. math:: C = F\,\Phi(d_1) - K\,\Phi(d_2),\quad P = K\,\Phi(-d_2) - F\,\Phi(-d_1),\quad
              d_{1,2} = \frac{\ln(F/K) \pm \tfrac12\sigma^2 T}{\sigma\sqrt{T}}

    A deliberately independent implementation (the gate must not trust the pricing library it
    checks); NaN where an input is invalid. References: Black (1976), J. Financial Economics 3, eq. 3.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sd = vol * np.sqrt(t)
        d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
        d2 = d1 - sd
        call_price = forward * ndtr(d1) - strike * ndtr(d2)
        put_price = strike * ndtr(-d2) - forward * ndtr(-d1)
        price = np.where(call, call_price, put_price)
        intrinsic = np.where(call, np.maximum(forward - strike, 0.0), np.maximum(strike - forward, 0.0))
        price = np.where(sd > 0, np.maximum(price, 0.0), intrinsic)
    valid = (forward > 0) & (strike > 0) & (t >= 0) & (vol >= 0)
    return np.where(valid, price, np.nan)


# --------------------------------------------------------------------------------------------------
# structure
# --------------------------------------------------------------------------------------------------

def column_kind(values: pd.Series) -> str:
    """The kind of a column: ``float``, ``integer``, ``boolean``, ``utc_timestamp``, ``timestamp``
    (naive or another zone), ``text`` or ``other``."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return column_kind(pd.Series(dtype.categories)) if len(dtype.categories) else "text"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return "utc_timestamp" if str(dtype.tz) in {"UTC", "utc"} else "timestamp"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        return "text" if inferred in {"string", "empty"} else "other"
    return "other"


#: Kinds a column of each expected kind may have (an all-missing float column reads as "float").
COMPATIBLE_KINDS: Mapping[str, frozenset[str]] = {
    "float": frozenset({"float", "integer"}),
    "integer": frozenset({"integer"}),
    "boolean": frozenset({"boolean"}),
    "utc_timestamp": frozenset({"utc_timestamp"}),
    "text": frozenset({"text"}),
}


def column_kind_mismatches(frame: pd.DataFrame, kinds: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Columns whose kind differs from ``kinds`` (absent columns are reported as ``missing``)."""
    found: dict[str, dict[str, str]] = {}
    for name, expected in kinds.items():
        if name not in frame.columns:
            found[name] = {"expected": expected, "observed": "missing"}
            continue
        observed = column_kind(frame[name])
        if observed not in COMPATIBLE_KINDS.get(expected, frozenset({expected})):
            if observed == "other" and frame[name].isna().all():
                continue  # an all-missing nullable column carries no type
            found[name] = {"expected": expected, "observed": f"{observed} ({frame[name].dtype})"}
    return found


# --------------------------------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------------------------------

def timeframe_seconds(timeframe: pd.Series) -> FloatArray:
    """Candle length in seconds (NaN for an unknown timeframe)."""
    return _lookup(TIMEFRAME_SECONDS, np.nan, timeframe)


def bars_on_grid_ok(frame: pd.DataFrame) -> BoolArray:
    """Candle open times sit on their timeframe's grid (UTC, weeks starting Monday)."""
    seconds = epoch_seconds(frame["ts"]) - GRID_ANCHOR.timestamp()
    step = timeframe_seconds(frame["timeframe"])
    with np.errstate(invalid="ignore"):
        return np.fmod(seconds, step) == 0


def bars_within_window_ok(frame: pd.DataFrame, window_start: Any, window_end: Any) -> BoolArray:
    """The whole candle ``[ts, ts + timeframe)`` lies in the load window ``[start, end)``: a bar that
    ends after the window is still forming (the partial last bar of a download)."""
    start = epoch_seconds(frame["ts"])
    end = start + timeframe_seconds(frame["timeframe"])
    ok = np.isfinite(end)
    if window_start is not None:
        ok &= start >= pd.Timestamp(window_start).timestamp()
    if window_end is not None:
        ok &= end <= pd.Timestamp(window_end).timestamp()
    return ok


def bar_grid_gaps(frame: pd.DataFrame, key_columns: list[str], window_start: Any = None,
                  window_end: Any = None, max_listed: int = 50) -> dict[str, Any]:
    """Missing candles per series (``key_columns`` + ``timeframe``) between consecutive bars and, when
    a window is given, at its edges. Returns ``missing_bars``, ``series`` and the first ``gaps``
    (series, first missing open time, bars missing)."""
    if frame.empty:
        return {"missing_bars": 0, "series": 0, "gaps": []}
    step = timeframe_seconds(frame["timeframe"])
    seconds = epoch_seconds(frame["ts"])
    keys = group_codes(*(frame[c] for c in [*key_columns, "timeframe"]))
    valid = np.isfinite(step) & np.isfinite(seconds)
    keys, seconds, step = keys[valid], seconds[valid], step[valid]
    rows = np.flatnonzero(valid)
    order = np.lexsort((seconds, keys))
    keys, seconds, step, rows = keys[order], seconds[order], step[order], rows[order]
    same = keys[1:] == keys[:-1]
    missing_between = np.where(same, np.maximum(np.round((seconds[1:] - seconds[:-1]) / step[1:]) - 1, 0), 0)
    gap_rows: list[tuple[int, float, float]] = [
        (int(rows[i + 1]), seconds[i] + step[i], missing_between[i]) for i in np.flatnonzero(missing_between > 0)]
    first = np.flatnonzero(np.concatenate(([True], ~same)))
    last = np.flatnonzero(np.concatenate((~same, [True])))
    anchor = GRID_ANCHOR.timestamp()
    if window_start is not None:
        lo = pd.Timestamp(window_start).timestamp()
        expected_first = anchor + np.ceil((lo - anchor) / step[first]) * step[first]
        before = np.maximum(np.round((seconds[first] - expected_first) / step[first]), 0)
        gap_rows += [(int(rows[first[j]]), expected_first[j], before[j]) for j in np.flatnonzero(before > 0)]
    if window_end is not None:
        hi = pd.Timestamp(window_end).timestamp()
        expected_last = anchor + np.floor((hi - anchor) / step[last] - 1) * step[last]
        after = np.maximum(np.round((expected_last - seconds[last]) / step[last]), 0)
        gap_rows += [(int(rows[last[j]]), seconds[last[j]] + step[last[j]], after[j])
                     for j in np.flatnonzero(after > 0)]
    gap_rows.sort(key=lambda g: (g[1], g[0]))
    listed = []
    for row, first_missing, bars in gap_rows[:max_listed]:
        series = {c: _plain(frame[c].iloc[row]) for c in [*key_columns, "timeframe"]}
        listed.append({**series, "first_missing": pd.Timestamp(first_missing, unit="s", tz="UTC").isoformat(),
                       "bars": int(bars)})
    return {"missing_bars": int(sum(g[2] for g in gap_rows)), "series": len(first), "gaps": listed}


def funding_on_interval_ok(frame: pd.DataFrame, tolerance_seconds: float) -> BoolArray:
    """Funding times sit on the venue's interval grid (00:00 UTC + k * interval_hours)."""
    seconds = epoch_seconds(frame["ts"])
    step = floats(frame["interval_hours"]) * 3_600.0
    with np.errstate(invalid="ignore"):
        offset = np.fmod(seconds, step)
        distance = np.minimum(offset, step - offset)
        return distance <= tolerance_seconds


def quotes_fresh_ok(frame: pd.DataFrame, max_age_seconds: float, max_lead_seconds: float) -> BoolArray:
    """The venue's quote time is at most ``max_age`` before (and ``max_lead`` after) the snapshot."""
    age = epoch_seconds(frame["ts"]) - epoch_seconds(frame["quote_ts"])
    with np.errstate(invalid="ignore"):
        return (age <= max_age_seconds) & (age >= -max_lead_seconds)


def expiry_after_snapshot_ok(frame: pd.DataFrame) -> BoolArray:
    """The contract has not expired at the snapshot time (perpetuals, with no expiry, pass)."""
    expiry = epoch_seconds(frame["expiry"])
    with np.errstate(invalid="ignore"):
        return np.isnan(expiry) | (expiry > epoch_seconds(frame["ts"]))


def time_to_expiry_consistent_ok(frame: pd.DataFrame, tolerance_hours: float) -> BoolArray:
    """``time_to_expiry`` (ACT/365 years) matches ``expiry - ts``."""
    implied = (epoch_seconds(frame["expiry"]) - epoch_seconds(frame["ts"])) / SECONDS_PER_YEAR
    with np.errstate(invalid="ignore"):
        return np.abs(floats(frame["time_to_expiry"]) - implied) <= tolerance_hours * 3_600.0 / SECONDS_PER_YEAR


# --------------------------------------------------------------------------------------------------
# domain
# --------------------------------------------------------------------------------------------------

def funding_within_cap_ok(frame: pd.DataFrame, caps_per_8h: Mapping[str, float], default_cap: float) -> BoolArray:
    """|rate| <= cap(exchange) * interval_hours / 8."""
    cap = _lookup(caps_per_8h, default_cap, frame["exchange"])
    limit = cap * floats(frame["interval_hours"]) / 8.0
    with np.errstate(invalid="ignore"):
        return np.abs(floats(frame["rate"])) <= limit


def strike_on_grid_ok(frame: pd.DataFrame, grid: Mapping[str, float],
                      levels: Mapping[str, float] | None = None) -> BoolArray:
    """Strikes are multiples of the venue's step for the underlying (unknown venues pass).

    A venue's ladder scales with the price: the step observed at forward level ``levels[key]`` is
    ``grid[key]``, and at a forward ``F`` (``underlying_price``, when the frame has it) the step is
    ``grid[key] * 10**floor(log10(F / level))`` (Deribit BTC: 500 around 100,000, 50 around 12,000).
    """
    step = _lookup(grid, np.nan, frame["exchange"], frame["base"])
    if levels and "underlying_price" in frame.columns:
        level = _lookup(levels, np.nan, frame["exchange"], frame["base"])
        with np.errstate(invalid="ignore", divide="ignore"):
            decades = np.floor(np.log10(floats(frame["underlying_price"]) / level))
        step = np.where(np.isfinite(decades), step * 10.0 ** np.minimum(decades, 0.0), step)
    strike = floats(frame["strike"])
    ratio = strike / step
    with np.errstate(invalid="ignore"):
        on_grid = np.abs(ratio - np.round(ratio)) <= 1e-9 * np.maximum(1.0, np.abs(ratio))
    return np.isnan(step) | np.isnan(strike) | on_grid


def settle_currency(symbol: pd.Series) -> pd.Series:
    """The settlement currency encoded in a CCXT unified derivative symbol (``BASE/QUOTE:SETTLE...``)."""
    codes, uniques = pd.factorize(symbol)
    parsed = pd.Series(uniques).astype(str).str.extract(r":([A-Za-z0-9]+)", expand=False)
    values = parsed.to_numpy(dtype=object)[np.maximum(codes, 0)]
    values[codes < 0] = None
    return pd.Series(values, index=symbol.index)


def premium_units_ok(frame: pd.DataFrame, tolerance: float) -> BoolArray:
    """Premiums are in the currency the contract settles in, and the USD columns convert them at a
    plausible rate: coin premiums at a rate within ``tolerance`` of [min(S, F), max(S, F)], USD-like
    premiums at 1. Catches coin premiums labelled USD and USD columns that still hold coins."""
    currency = frame["premium_currency"]
    combo = group_codes(frame["symbol"], currency)
    first = np.unique(combo, return_index=True)[1]
    symbols, currencies = frame["symbol"].iloc[first], currency.iloc[first]
    settle = settle_currency(symbols.reset_index(drop=True))
    combo_ok = (settle.isna() | (settle.to_numpy(dtype=object) == currencies.to_numpy(dtype=object))).to_numpy()
    currency_ok = np.asarray(combo_ok, dtype=bool)[combo]
    coin = is_coin_premium(currency)
    spot, forward = floats(frame["index_price"]), floats(frame["underlying_price"])
    low = np.minimum(spot, forward) * (1 - tolerance)
    high = np.maximum(spot, forward) * (1 + tolerance)
    ok = currency_ok.copy()
    for native, usd in (("mark", "mark_usd"), ("bid", "bid_usd"), ("ask", "ask_usd")):
        if native not in frame.columns or usd not in frame.columns:
            continue
        value, value_usd = floats(frame[native]), floats(frame[usd])
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = value_usd / value
            coin_ok = (rate >= low) & (rate <= high)
            usd_ok = np.abs(value_usd - value) <= tolerance * np.maximum(np.abs(value), 1e-12)
        priced = np.isfinite(value) & np.isfinite(value_usd) & (value > 0)
        zero_ok = ~(np.isfinite(value) & (value == 0)) | (value_usd == 0)
        ok &= np.where(priced, np.where(coin, coin_ok, usd_ok), zero_ok)
    return ok


# --------------------------------------------------------------------------------------------------
# derivatives
# --------------------------------------------------------------------------------------------------

def mark_consistent_with_iv_ok(frame: pd.DataFrame, band: float) -> BoolArray:
    """The mark equals Black-76 at the mark IV (zero rate) within ``band`` of max(F, K). An IV in
    percent, or a premium in the wrong unit, misses by far more than the band."""
    forward, strike = floats(frame["underlying_price"]), floats(frame["strike"])
    model = black76_undiscounted(is_call(frame["option_type"]), forward, strike,
                                 floats(frame["time_to_expiry"]), floats(frame["mark_iv"]))
    observed = forward_units(frame["mark"], frame["premium_currency"], frame["underlying_price"])
    with np.errstate(invalid="ignore"):
        miss = np.abs(observed - model) > band * np.maximum(forward, strike)
    return ~miss


def mark_within_bounds_ok(frame: pd.DataFrame, band: float) -> BoolArray:
    """max(intrinsic, 0) - tol <= mark <= upper + tol, upper = F for calls and K for puts (forward units)."""
    forward, strike = floats(frame["underlying_price"]), floats(frame["strike"])
    call = is_call(frame["option_type"])
    value = forward_units(frame["mark"], frame["premium_currency"], frame["underlying_price"])
    intrinsic = np.where(call, np.maximum(forward - strike, 0.0), np.maximum(strike - forward, 0.0))
    upper = np.where(call, forward, strike)
    tol = band * np.maximum(forward, strike)
    with np.errstate(invalid="ignore"):
        bad = (value < intrinsic - tol) | (value > upper + tol)
    return ~bad


def forward_near_index_ok(frame: pd.DataFrame, abs_band: float, apr_band: float) -> BoolArray:
    """|ln(F / S)| <= abs_band + apr_band * T: the per-expiry forward is a plausible carry of the index."""
    with np.errstate(divide="ignore", invalid="ignore"):
        carry = np.abs(np.log(floats(frame["underlying_price"]) / floats(frame["index_price"])))
        bad = carry > abs_band + apr_band * floats(frame["time_to_expiry"])
    return ~bad


def _pairs(frame: pd.DataFrame) -> tuple[IntArray, BoolArray, int]:
    """Call/put pair ids (same venue, underlying, premium currency, snapshot, expiry and strike: a coin
    option and a USDC option on the same strike are not a pair)."""
    pair = group_codes(frame["exchange"], frame["base"], frame["premium_currency"], frame["ts"], frame["expiry"],
                       frame["strike"])
    return pair, is_call(frame["option_type"]), int(pair.max()) + 1 if len(pair) else 0


def _per_pair(pair: IntArray, mask: BoolArray, values: FloatArray, n_pairs: int) -> FloatArray:
    out = np.full(n_pairs, np.nan)
    out[pair[mask]] = values[mask]
    return out


def parity_marks_residual(frame: pd.DataFrame) -> FloatArray:
    """Per row, its pair's |C - P - (F - K)| / max(F, K) in forward units (NaN without a partner);
    each leg is converted at its own forward, F is the legs' mean."""
    pair, call, n_pairs = _pairs(frame)
    forward = floats(frame["underlying_price"])
    value = forward_units(frame["mark"], frame["premium_currency"], frame["underlying_price"])
    c, p = _per_pair(pair, call, value, n_pairs), _per_pair(pair, ~call, value, n_pairs)
    f = 0.5 * (_per_pair(pair, call, forward, n_pairs) + _per_pair(pair, ~call, forward, n_pairs))
    k = np.full(n_pairs, np.nan)
    k[pair] = floats(frame["strike"])
    with np.errstate(invalid="ignore"):
        residual = np.abs(c - p - (f - k)) / np.maximum(f, k)
    return residual[pair]


def parity_marks_ok(frame: pd.DataFrame, band: float) -> BoolArray:
    """Put-call parity of marks within ``band`` (both legs of a broken pair fail: the pair is the unit
    of the rule, and which leg is wrong cannot be told from parity alone)."""
    with np.errstate(invalid="ignore"):
        return ~(parity_marks_residual(frame) > band)


def parity_quotes_ok(frame: pd.DataFrame, band: float) -> BoolArray:
    """No-arbitrage bounds of two-sided quotes: C_bid - P_ask <= F - K <= C_ask - P_bid, up to
    ``band`` of max(F, K). Pairs where a leg is one-sided (no bid, bid 0, or no ask) are not judged."""
    pair, call, n_pairs = _pairs(frame)
    forward = floats(frame["underlying_price"])
    bid = forward_units(frame["bid"], frame["premium_currency"], frame["underlying_price"])
    ask = forward_units(frame["ask"], frame["premium_currency"], frame["underlying_price"])
    bid = np.where(bid > 0, bid, np.nan)
    c_bid, c_ask = _per_pair(pair, call, bid, n_pairs), _per_pair(pair, call, ask, n_pairs)
    p_bid, p_ask = _per_pair(pair, ~call, bid, n_pairs), _per_pair(pair, ~call, ask, n_pairs)
    f = 0.5 * (_per_pair(pair, call, forward, n_pairs) + _per_pair(pair, ~call, forward, n_pairs))
    k = np.full(n_pairs, np.nan)
    k[pair] = floats(frame["strike"])
    with np.errstate(invalid="ignore"):
        violation = np.maximum((c_bid - p_ask) - (f - k), (f - k) - (c_ask - p_bid)) / np.maximum(f, k)
        return ~(violation[pair] > band)


def call_strike_arbitrage_ok(frame: pd.DataFrame, tolerance: float) -> BoolArray:
    """Call marks per expiry are decreasing and convex in strike, up to ``tolerance`` of F (forward
    units). A call priced above the next lower strike fails; for a negative butterfly the middle
    strike fails. Puts pass (they are the calls' mirror through parity, checked separately)."""
    n = len(frame)
    ok = np.ones(n, dtype=bool)
    call_rows = np.flatnonzero(is_call(frame["option_type"]))
    if call_rows.size < 2:
        return ok
    calls = frame.iloc[call_rows]
    slices = group_codes(calls["exchange"], calls["base"], calls["premium_currency"], calls["ts"], calls["expiry"])
    strike = floats(calls["strike"])
    order = np.lexsort((strike, slices))
    s, k = slices[order], strike[order]
    f = floats(calls["underlying_price"])[order]
    c = forward_units(calls["mark"], calls["premium_currency"], calls["underlying_price"])[order]
    tol = tolerance * f
    same = (s[1:] == s[:-1]) & (k[1:] > k[:-1])
    with np.errstate(invalid="ignore"):
        rising = same & (c[1:] - c[:-1] > tol[1:])
    bad = np.zeros(order.size, dtype=bool)
    bad[1:] |= rising
    if order.size >= 3:
        triple = same[:-1] & same[1:]
        k0, k1, k2 = k[:-2], k[1:-1], k[2:]
        with np.errstate(invalid="ignore", divide="ignore"):
            w = (k2 - k1) / (k2 - k0)
            butterfly = w * c[:-2] + (1 - w) * c[2:] - c[1:-1]
            bad[1:-1] |= triple & (butterfly < -tol[1:-1])
    ok[call_rows[order[bad]]] = False
    return ok


def calendar_ok(frame: pd.DataFrame, rel_tolerance: float, abs_tolerance: float,
                max_standardised_moneyness: float) -> BoolArray:
    """Total implied variance ``w = iv^2 T`` does not fall from one expiry to the next at equal
    log-moneyness ``k = ln(K / F)``: each row is compared with the previous expiry's smile of the
    same venue, underlying, premium currency and snapshot, interpolated linearly in ``k`` (only inside that smile's
    strike range, and only for ``|k| / sqrt(w) <= max_standardised_moneyness``). The later-expiry
    row fails when ``w < w_prev (1 - rel) - abs``."""
    n = len(frame)
    ok = np.ones(n, dtype=bool)
    if n == 0:
        return ok
    t = floats(frame["time_to_expiry"])
    iv = floats(frame["mark_iv"])
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.log(floats(frame["strike"]) / floats(frame["underlying_price"]))
        w = iv * iv * t
    usable = np.isfinite(k) & np.isfinite(w) & (w > 0) & (np.abs(k) < 50)
    rows = np.flatnonzero(usable)
    if rows.size == 0:
        return ok
    sub = frame.iloc[rows]
    surface = group_codes(sub["exchange"], sub["base"], sub["premium_currency"], sub["ts"])
    expiry = epoch_seconds(sub["expiry"])
    slices = group_codes(pd.Series(surface), pd.Series(expiry))
    k, w = k[rows], w[rows]
    # rank of each slice within its surface by expiry; the previous slice of slice s
    slice_table = pd.DataFrame({"slice": slices, "surface": surface, "expiry": expiry}).drop_duplicates("slice")
    slice_table = slice_table.sort_values(["surface", "expiry"])
    previous = np.full(int(slices.max()) + 1, -1, dtype=np.int64)
    same_surface = slice_table["surface"].to_numpy()[1:] == slice_table["surface"].to_numpy()[:-1]
    slice_ids = slice_table["slice"].to_numpy()
    previous[slice_ids[1:][same_surface]] = slice_ids[:-1][same_surface]
    position = np.empty(int(slices.max()) + 1, dtype=np.float64)
    position[slice_ids] = np.arange(slice_ids.size, dtype=np.float64)
    # sorted keys: slice position * span + k, so one searchsorted finds the neighbours in any slice
    span = 200.0
    order = np.lexsort((k, position[slices]))
    keys = position[slices][order] * span + k[order]
    sorted_slice, sorted_w = slices[order], w[order]
    prev = previous[slices]
    has_prev = prev >= 0
    query = np.where(has_prev, position[np.maximum(prev, 0)] * span + k, np.inf)
    right = np.searchsorted(keys, query, side="right")
    left = right - 1
    left_ok = has_prev & (left >= 0) & (sorted_slice[np.clip(left, 0, None)] == prev)
    right_in = right < keys.size
    right_ok = has_prev & right_in & (sorted_slice[np.clip(right, None, keys.size - 1)] == prev)
    li, ri = np.clip(left, 0, keys.size - 1), np.clip(right, 0, keys.size - 1)
    exact = left_ok & (keys[li] == query)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = (query - keys[li]) / (keys[ri] - keys[li])
        w_prev = np.where(exact, sorted_w[li], sorted_w[li] + frac * (sorted_w[ri] - sorted_w[li]))
        comparable = exact | (left_ok & right_ok)
        body = np.abs(k) / np.sqrt(w) <= max_standardised_moneyness
        bad = comparable & body & (w < w_prev * (1 - rel_tolerance) - abs_tolerance)
    ok[rows[bad]] = False
    return ok


# --------------------------------------------------------------------------------------------------
# futures
# --------------------------------------------------------------------------------------------------

def basis_identity_ok(frame: pd.DataFrame, tolerance: float) -> BoolArray:
    """basis = mark_price - index_price (quote currency), up to ``tolerance`` of the index."""
    mark, index, basis = floats(frame["mark_price"]), floats(frame["index_price"]), floats(frame["basis"])
    with np.errstate(invalid="ignore"):
        return ~(np.abs(basis - (mark - index)) > tolerance * np.abs(index))


def basis_apr_ok(frame: pd.DataFrame, tolerance: float) -> BoolArray:
    """Dated futures: basis_apr = basis / index * 365 / days to expiry (relative ``tolerance``);
    perpetuals (no expiry) must leave basis_apr empty."""
    expiry = epoch_seconds(frame["expiry"])
    days = (expiry - epoch_seconds(frame["ts"])) / 86_400.0
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = floats(frame["basis"]) / floats(frame["index_price"]) * 365.0 / days
        apr = floats(frame["basis_apr"])
        dated_ok = np.abs(apr - expected) <= tolerance * np.abs(expected) + 1e-9
    perpetual = np.isnan(expiry)
    return np.where(perpetual, np.isnan(apr), dated_ok | ~(days > 0))


def futures_mark_near_index_ok(frame: pd.DataFrame, abs_band: float, apr_band: float) -> BoolArray:
    """|ln(mark / index)| <= abs_band + apr_band * T (T = 0 for perpetuals)."""
    t = (epoch_seconds(frame["expiry"]) - epoch_seconds(frame["ts"])) / SECONDS_PER_YEAR
    t = np.where(np.isnan(t), 0.0, np.maximum(t, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.abs(np.log(floats(frame["mark_price"]) / floats(frame["index_price"])))
        return ~(gap > abs_band + apr_band * t)


def basis_curve_ok(frame: pd.DataFrame, band: float, min_days: float) -> BoolArray:
    """A dated future's annualised basis is within ``band`` of its snapshot's curve median (same venue,
    underlying, snapshot); futures nearer than ``min_days`` to expiry and perpetuals are not judged."""
    n = len(frame)
    expiry = epoch_seconds(frame["expiry"])
    ts = epoch_seconds(frame["ts"])
    days = (expiry - ts) / 86_400.0
    with np.errstate(invalid="ignore", divide="ignore"):
        apr = floats(frame["basis"]) / floats(frame["index_price"]) * 365.0 / days
        judged = np.isfinite(apr) & (days >= min_days)
    if not judged.any():
        return np.ones(n, dtype=bool)
    curve = group_codes(frame["exchange"], frame["base"], frame["ts"])
    median = pd.Series(apr[judged]).groupby(curve[judged]).median()
    centre = median.reindex(curve).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return ~(judged & (np.abs(apr - centre) > band))


# --------------------------------------------------------------------------------------------------
# trades and instruments
# --------------------------------------------------------------------------------------------------

def trade_price_not_outlier_ok(frame: pd.DataFrame, log_band: float) -> BoolArray:
    """|ln(price / median price of the instrument in the batch)| <= ``log_band``."""
    price = floats(frame["price"])
    series = group_codes(frame["exchange"], frame["symbol"])
    median = pd.Series(price).groupby(series).transform("median").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ~(np.abs(np.log(price / median)) > log_band)


def instrument_fields_match_kind_ok(frame: pd.DataFrame) -> BoolArray:
    """Options carry strike, type and expiry; futures an expiry; perpetuals a funding interval;
    spot none of the derivative fields."""
    kind = frame["kind"].to_numpy(dtype=object)
    has_expiry = frame["expiry"].notna().to_numpy()
    has_strike = frame["strike"].notna().to_numpy()
    has_type = frame["option_type"].notna().to_numpy()
    has_funding = frame["funding_interval_hours"].notna().to_numpy()
    option = kind == "option"
    ok = np.where(option, has_expiry & has_strike & has_type, ~has_strike & ~has_type)
    ok &= np.where(kind == "future", has_expiry, True)
    ok &= np.where(kind == "perpetual", has_funding & ~has_expiry, True)
    ok &= np.where(kind == "spot", ~has_expiry & ~has_funding, True)
    return np.asarray(ok, dtype=bool)


def option_symbol_matches_fields_ok(frame: pd.DataFrame) -> BoolArray:
    """An option's CCXT symbol (``BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P``) encodes the same base,
    settle, expiry date, strike and type as the catalog fields."""
    option = (frame["kind"] == "option").to_numpy()
    ok = np.ones(len(frame), dtype=bool)
    if not option.any():
        return ok
    rows = np.flatnonzero(option)
    sub = frame.iloc[rows]
    parts = sub["symbol"].astype(str).str.extract(OPTION_SYMBOL)
    expiry = pd.to_datetime(sub["expiry"], utc=True).dt.strftime("%y%m%d")
    with np.errstate(invalid="ignore"):
        strike_ok = np.isclose(floats(pd.to_numeric(parts["strike"], errors="coerce")), floats(sub["strike"]))
    matches = (
        parts["base"].notna().to_numpy()
        & (parts["base"].to_numpy(dtype=object) == sub["base"].to_numpy(dtype=object))
        & (parts["settle"].to_numpy(dtype=object) == sub["settle"].to_numpy(dtype=object))
        & (parts["expiry"].to_numpy(dtype=object) == expiry.to_numpy(dtype=object))
        & strike_ok
        & (parts["type"].map({"C": "call", "P": "put"}).to_numpy(dtype=object)
           == sub["option_type"].to_numpy(dtype=object))
    )
    ok[rows] = matches
    return ok


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value
