"""The pandas twin of the market-features job: no look-ahead, known funding/basis/spread values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.features.market_features import OUTPUT_SCHEMA, instrument_features, market_features
from cryptoderiv.features.synthetic import synthetic_market_rows

START, END = pd.Timestamp("2026-11-08T00:00:00Z"), pd.Timestamp("2026-11-09T00:00:00Z")


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return synthetic_market_rows(bars=240, seed=4)


def test_window_and_columns(rows: pd.DataFrame) -> None:
    out = market_features(rows, START, END)
    assert list(out.columns) == list(OUTPUT_SCHEMA)
    assert len(out) == 3 * 24 and out["ts"].min() == START and out["ts"].max() < END
    assert out[["rv_cc_168", "rv_yz_168", "oi_change_24", "funding_apr"]].notna().all().all()


def test_no_look_ahead(rows: pd.DataFrame) -> None:
    one = rows[rows["instrument_id"] == 1]
    full = instrument_features(one, START, END)
    truncated = instrument_features(one[one["ts"] < END], START, END)  # the future removed
    pd.testing.assert_frame_equal(full, truncated)


def test_known_values(rows: pd.DataFrame) -> None:
    one = rows[rows["instrument_id"] == 1]
    out = instrument_features(one, START, END).set_index("ts")
    bars = one[one["source"] == "ohlcv"].set_index("ts")
    at = START + pd.Timedelta(hours=5)
    previous = bars.loc[at - pd.Timedelta(hours=1), "close"]
    assert out.loc[at, "log_return"] == pytest.approx(np.log(bars.loc[at, "close"] / previous))
    funding = one[(one["source"] == "funding") & (one["ts"] <= at)].iloc[-1]
    assert out.loc[at, "funding_rate"] == funding["rate"]
    assert out.loc[at, "funding_apr"] == pytest.approx(funding["rate"] * 3 * 365)
    assert out.loc[at, "basis"] == pytest.approx(bars.loc[at, "close"] * 1.0002 / one[
        (one["source"] == "futures_quote") & (one["ts"] == at)]["index_price"].iloc[0] - 1.0)
    returns = np.diff(np.log(bars.loc[:at, "close"].to_numpy()))[-24:]
    assert out.loc[at, "rv_cc_24"] == pytest.approx(np.std(returns, ddof=1) * np.sqrt(24 * 365))


def test_cross_venue_spread_is_against_the_median(rows: pd.DataFrame) -> None:
    out = market_features(rows, START, END)
    at = out[out["ts"] == START]
    median = at["close"].median()
    np.testing.assert_allclose(at["cross_venue_spread_bp"], (at["close"] / median - 1) * 1e4)
    assert (at["cross_venue_spread_bp"] == 0).sum() == 1  # the median venue
