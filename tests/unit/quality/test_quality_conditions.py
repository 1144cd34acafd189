"""The row conditions behind the custom expectations, on hand-built frames whose answers follow from the
definitions (no Great Expectations involved)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoderiv.quality import conditions as c
from cryptoderiv.quality.policy import DEFAULT_POLICY

TS = pd.Timestamp("2026-03-02T09:00:00Z")
EXPIRY = pd.Timestamp("2026-04-01T08:00:00Z")


def chain(strikes: list[float], forward: float = 100.0, t: float = 0.25, vol: float | list[float] = 0.5,
          expiry: pd.Timestamp = EXPIRY, coin: bool = False) -> pd.DataFrame:
    """Calls and puts priced with Black-76 (zero rate), in USD or (coin=True) in coin at the forward."""
    k = np.repeat(np.asarray(strikes, dtype=float), 2)
    call = np.tile([True, False], len(strikes))
    sigma = np.repeat(np.broadcast_to(np.asarray(vol, dtype=float), (len(strikes),)), 2)
    price = c.black76_undiscounted(call, np.full(k.size, forward), k, np.full(k.size, t), sigma)
    return pd.DataFrame({
        "exchange": "deribit", "base": "BTC", "premium_currency": "BTC" if coin else "USDC", "ts": TS,
        "expiry": expiry, "strike": k, "option_type": np.where(call, "call", "put"),
        "mark": price / forward if coin else price, "underlying_price": forward, "index_price": forward,
        "time_to_expiry": t, "mark_iv": sigma,
    })


def test_black76_matches_a_textbook_value_and_parity() -> None:
    # F = K = 100, sigma = 0.2, T = 1: C = 100 * (2 N(0.1) - 1) = 7.9656
    price = c.black76_undiscounted(np.array([True, False]), np.full(2, 100.0), np.full(2, 100.0), np.ones(2),
                                   np.full(2, 0.2))
    assert price == pytest.approx([7.965567455405804, 7.965567455405804], rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(forward=st.floats(50, 200), strike=st.floats(20, 400), t=st.floats(1e-3, 3), vol=st.floats(0.05, 3))
def test_black76_satisfies_parity_and_bounds(forward: float, strike: float, t: float, vol: float) -> None:
    call, put = c.black76_undiscounted(np.array([True, False]), np.full(2, forward), np.full(2, strike),
                                       np.full(2, t), np.full(2, vol))
    assert call - put == pytest.approx(forward - strike, abs=1e-9 * max(forward, strike))
    assert max(forward - strike, 0) - 1e-9 <= call <= forward
    assert max(strike - forward, 0) - 1e-9 <= put <= strike


def test_parity_of_black_prices_holds_and_a_shifted_put_breaks_both_legs() -> None:
    frame = chain([80, 90, 100, 110, 120], coin=True)
    assert c.parity_marks_residual(frame) == pytest.approx(np.zeros(10), abs=1e-12)
    assert c.parity_marks_ok(frame, 0.01).all()
    broken = frame.copy()
    broken.loc[5, "mark"] += 0.02  # the 100-strike put, +2 % of F in coin
    ok = c.parity_marks_ok(broken, 0.01)
    assert np.flatnonzero(~ok).tolist() == [4, 5]
    assert c.parity_marks_residual(broken)[4] == pytest.approx(0.02)


def test_parity_pairs_need_the_same_premium_currency() -> None:
    frame = chain([100], coin=True)
    frame.loc[1, "premium_currency"] = "USDC"  # a USDC put and a coin call are not a pair
    assert np.isnan(c.parity_marks_residual(frame)).all()
    assert c.parity_marks_ok(frame, 0.001).all()


def test_parity_quote_bounds_skip_one_sided_pairs() -> None:
    frame = chain([90, 100, 110])
    frame["bid"], frame["ask"] = frame["mark"] - 0.5, frame["mark"] + 0.5
    assert c.parity_quotes_ok(frame, 0.0).all()
    frame.loc[0, "bid"] = frame.loc[0, "mark"] + 3.0  # the 90 call bid far above what parity allows
    frame.loc[0, "ask"] = frame.loc[0, "bid"] + 1.0
    assert np.flatnonzero(~c.parity_quotes_ok(frame, 0.001)).tolist() == [0, 1]
    frame.loc[1, "bid"] = np.nan  # now the put is one-sided: the pair is not judged
    assert c.parity_quotes_ok(frame, 0.001).all()


def test_call_prices_must_fall_and_be_convex_in_strike() -> None:
    frame = chain([80, 90, 100, 110, 120])
    assert c.call_strike_arbitrage_ok(frame, 0.0).all()
    concave = frame.copy()
    concave.loc[4, "mark"] += 3.0  # the 100 call above the 80/100/120 chord: negative butterfly at 100
    bad = np.flatnonzero(~c.call_strike_arbitrage_ok(concave, 0.0005))
    assert 4 in bad and all(concave.loc[bad, "option_type"] == "call")
    rising = frame.copy()
    rising.loc[8, "mark"] = rising.loc[6, "mark"] + 1.0  # the 120 call above the 110 call
    assert 8 in np.flatnonzero(~c.call_strike_arbitrage_ok(rising, 0.0005))
    assert c.call_strike_arbitrage_ok(concave.assign(option_type="put"), 0.0).all()  # puts are not judged


def test_calendar_flags_falling_total_variance_inside_the_smile_body_only() -> None:
    near = chain([90, 95, 100, 105, 110], t=0.1, vol=0.6, expiry=pd.Timestamp("2026-03-30T08:00:00Z"))
    far = chain([90, 95, 100, 105, 110], t=0.2, vol=0.5, expiry=pd.Timestamp("2026-04-30T08:00:00Z"))
    frame = pd.concat([near, far], ignore_index=True)  # w: 0.036 then 0.05: rising, fine
    assert c.calendar_ok(frame, 0.0, 0.0, 2.0).all()
    frame.loc[frame["expiry"] == far["expiry"][0], "mark_iv"] = 0.4  # w_far = 0.032 < 0.036
    bad = ~c.calendar_ok(frame, 0.02, 1e-4, 2.0)
    assert bad[10:].all() and not bad[:10].any()  # the later expiry's rows fail
    body_only_atm = ~c.calendar_ok(frame, 0.02, 1e-4, 0.0)  # only k = 0 (strike 100) is inside a zero body
    assert frame.loc[body_only_atm, "strike"].tolist() == [100.0, 100.0]
    wings = c.calendar_ok(frame.assign(strike=frame["strike"] * 3), 0.02, 1e-4, 2.0)
    assert wings.all()  # outside the previous smile's strike range nothing is compared


def test_mark_iv_consistency_catches_percent_iv_and_unit_errors() -> None:
    frame = chain([80, 100, 120], coin=True)
    assert c.mark_consistent_with_iv_ok(frame, 0.01).all()
    assert c.mark_within_bounds_ok(frame, 0.01).all()
    percent = frame.assign(mark_iv=frame["mark_iv"] * 100)
    assert not c.mark_consistent_with_iv_ok(percent, 0.01).any()
    usd_labelled = frame.assign(premium_currency="USD")  # coin prices read as dollars
    assert not c.mark_consistent_with_iv_ok(usd_labelled, 0.01).any()


def test_premium_units_follow_the_settlement_currency_and_the_usd_rate() -> None:
    frame = pd.DataFrame({
        "symbol": ["BTC/USD:BTC-260401-100000-C"] * 3 + ["BTC/USDC:USDC-260401-100000-C"],
        "premium_currency": ["BTC", "USD", "BTC", "USDC"],
        "mark": [0.05, 0.05, 0.05, 4500.0], "mark_usd": [4500.0, 4500.0, 0.05, 4500.0],
        "bid": [np.nan] * 4, "bid_usd": [np.nan] * 4, "ask": [0.06, 0.06, 0.06, 5400.0],
        "ask_usd": [5400.0, 5400.0, 0.06, 5400.0], "index_price": 90_000.0, "underlying_price": 90_500.0,
    })
    assert c.premium_units_ok(frame, 0.02).tolist() == [True, False, False, True]


def test_candle_grid_window_and_gaps() -> None:
    ts = pd.date_range("2026-03-02T00:00Z", periods=10, freq="1min")
    frame = pd.DataFrame({"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1m", "ts": ts})
    assert c.bars_on_grid_ok(frame).all()
    assert c.bars_on_grid_ok(frame.assign(ts=ts + pd.Timedelta(seconds=30))).sum() == 0
    end = ts[-1]  # the window ends at the last bar's open: that bar is still forming
    assert np.flatnonzero(~c.bars_within_window_ok(frame, ts[0], end)).tolist() == [9]
    gappy = frame.drop(index=[3, 4]).reset_index(drop=True)
    gaps = c.bar_grid_gaps(gappy, ["exchange", "symbol"], ts[0] - pd.Timedelta(minutes=2), ts[-1] + pd.Timedelta(
        minutes=1))
    assert gaps["missing_bars"] == 4  # 2 before the first bar, 2 in the middle
    assert [g["first_missing"] for g in gaps["gaps"]] == [
        (ts[0] - pd.Timedelta(minutes=2)).isoformat(), ts[3].isoformat()]
    weekly = pd.DataFrame({"timeframe": "1w", "ts": pd.to_datetime(["2026-03-02T00:00Z", "2026-03-05T00:00Z"])})
    assert c.bars_on_grid_ok(weekly).tolist() == [True, False]  # weeks open on Mondays


def test_funding_cap_scales_with_the_interval_and_times_sit_on_the_grid() -> None:
    frame = pd.DataFrame({"exchange": ["binance", "binance", "bybit", "okx"], "rate": [0.005, 0.005, 0.01, 0.01],
                          "interval_hours": [8, 4, 8, 8],
                          "ts": pd.to_datetime(["2026-03-02T08:00:00.001Z", "2026-03-02T04:00:00.000Z",
                                                "2026-03-02T11:00:00.000Z", "2026-03-02T16:00:00.000Z"])})
    caps = dict(DEFAULT_POLICY.funding_hard_cap_per_8h)
    assert c.funding_within_cap_ok(frame, caps, 0.02).tolist() == [True, False, False, True]
    assert c.funding_on_interval_ok(frame, 1.0).tolist() == [True, True, False, True]


def test_strike_grid_time_to_expiry_and_staleness() -> None:
    frame = pd.DataFrame({"exchange": ["deribit", "deribit", "deribit", "okx"], "base": ["BTC", "BTC", "ETH", "BTC"],
                          "strike": [100_500.0, 100_250.0, 1_805.0, 1.0]})
    assert c.strike_on_grid_ok(frame, dict(DEFAULT_POLICY.strike_grid)).tolist() == [True, False, True, True]
    quotes = pd.DataFrame({"ts": [TS] * 3, "quote_ts": [TS - pd.Timedelta(seconds=s) for s in (1, 600, -30)],
                           "expiry": [EXPIRY] * 3})
    assert c.quotes_fresh_ok(quotes, 60, 5).tolist() == [True, False, False]
    t = (EXPIRY - TS).total_seconds() / c.SECONDS_PER_YEAR
    quotes["time_to_expiry"] = [t, t + 2 / 8760, t + 1 / 8760 / 2]  # exact, 2 h off, 30 min off
    assert c.time_to_expiry_consistent_ok(quotes, 1.0).tolist() == [True, False, True]
    assert c.expiry_after_snapshot_ok(quotes.assign(expiry=[EXPIRY, TS, pd.NaT])).tolist() == [True, False, True]


def test_futures_identities_curve_and_band() -> None:
    expiry = pd.to_datetime([pd.NaT, "2026-06-26T08:00Z", "2026-09-25T08:00Z", "2026-12-25T08:00Z"], utc=True)
    index = 90_000.0
    t = ((expiry - TS).total_seconds() / c.SECONDS_PER_YEAR).to_numpy()
    mark = index * np.exp(np.nan_to_num(0.06 * t, nan=1e-4))
    basis = mark - index
    frame = pd.DataFrame({"exchange": "deribit", "base": "BTC", "ts": TS, "expiry": expiry, "mark_price": mark,
                          "index_price": index, "basis": basis,
                          "basis_apr": np.where(np.isnan(t), np.nan, basis / index / t)})
    assert c.basis_identity_ok(frame, 1e-6).all() and c.basis_apr_ok(frame, 1e-3).all()
    assert c.futures_mark_near_index_ok(frame, 0.01, 0.5).all() and c.basis_curve_ok(frame, 0.2, 7).all()
    outlier = frame.copy()
    outlier.loc[2, "basis"] = index * 0.5 * t[2]  # 50 %/yr against a 6 % curve
    assert np.flatnonzero(~c.basis_curve_ok(outlier, 0.2, 7)).tolist() == [2]
    perpetual_with_apr = frame.assign(basis_apr=frame["basis_apr"].fillna(0.1))
    assert np.flatnonzero(~c.basis_apr_ok(perpetual_with_apr, 1e-3)).tolist() == [0]


def test_column_kinds_accept_any_utc_resolution_and_name_mismatches() -> None:
    frame = pd.DataFrame({"ts": pd.to_datetime(["2026-01-01T00:00Z"]).as_unit("s"), "naive": pd.Timestamp("2026-01-01"),
                          "x": [1.0], "n": pd.array([1], dtype="Int16"), "s": ["a"]})
    kinds = {"ts": "utc_timestamp", "naive": "utc_timestamp", "x": "float", "n": "integer", "s": "text",
             "absent": "float"}
    assert c.column_kind_mismatches(frame, kinds) == {
        "naive": {"expected": "utc_timestamp", "observed": "timestamp (datetime64[us])"},
        "absent": {"expected": "float", "observed": "missing"},
    }


def test_option_symbols_must_match_the_catalog_fields() -> None:
    frame = pd.DataFrame({"kind": ["option", "option", "spot"], "base": ["BTC", "BTC", "BTC"],
                          "settle": ["BTC", "BTC", None],
                          "symbol": ["BTC/USD:BTC-260401-100000-C", "BTC/USD:BTC-260401-100000-P", "BTC/USDT"],
                          "expiry": pd.to_datetime(["2026-04-01T08:00Z", "2026-04-01T08:00Z", None], utc=True),
                          "strike": [100_000.0, 100_000.0, np.nan], "option_type": ["call", "call", None],
                          "funding_interval_hours": [None, None, None]})
    assert c.option_symbol_matches_fields_ok(frame).tolist() == [True, False, True]
    assert c.instrument_fields_match_kind_ok(frame).tolist() == [True, True, True]
