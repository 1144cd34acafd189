"""Each Spark transform against its pandas twin on the same generated input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.features.market_features import market_features as market_features_pandas
from cryptoderiv.features.option_greeks import compute_option_greeks
from cryptoderiv.features.synthetic import SyntheticChainSpec, greeks_input, synthetic_chain, synthetic_market_rows
from cryptoderiv.features.vol_surface import fit_vol_surfaces as fit_pandas
from cryptoderiv.features.vol_surface import surface_metrics as metrics_pandas

pytestmark = pytest.mark.slow


def _utc_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Spark's toPandas gives naive UTC timestamps: make them aware, as the twin's input is."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]) and not isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_localize("UTC")
    return out


def _compare(spark_out: pd.DataFrame, pandas_out: pd.DataFrame, keys: list[str]) -> None:
    left = _utc_frame(spark_out).sort_values(keys).reset_index(drop=True)
    right = pandas_out.sort_values(keys).reset_index(drop=True)
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right) > 0
    for column in left.columns:
        if pd.api.types.is_float_dtype(right[column]):
            np.testing.assert_allclose(left[column].to_numpy(dtype=float), right[column].to_numpy(dtype=float),
                                       rtol=1e-12, atol=1e-14, equal_nan=True, err_msg=column)
        elif pd.api.types.is_datetime64_any_dtype(right[column]):
            assert (pd.to_datetime(left[column], utc=True) == pd.to_datetime(right[column], utc=True)).all(), column
        else:
            assert left[column].astype(object).where(left[column].notna(), None).tolist() == \
                right[column].astype(object).where(right[column].notna(), None).tolist(), column


@pytest.fixture(scope="module")
def chain() -> tuple[pd.DataFrame, pd.DataFrame]:
    instruments, quotes = synthetic_chain(SyntheticChainSpec(snapshots=3), seed=7)
    # a missing bid and a mark above the no-arbitrage bound: the twin gives NaN IVs, Spark must too
    quotes.loc[0, ["bid", "bid_usd"]] = np.nan
    quotes.loc[1, "mark"] = 2.0  # coins: 2 F USD > any put bound K
    return instruments, quotes


def test_option_greeks_spark_equals_pandas(spark: Any, chain: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from cryptoderiv.features.spark.option_greeks import option_greeks, option_quote_inputs

    instruments, quotes = chain
    sdf = option_greeks(option_quote_inputs(spark.createDataFrame(quotes), spark.createDataFrame(instruments)))
    got = sdf.repartition(3).toPandas()  # several partitions: rows must not depend on batching
    expected = compute_option_greeks(greeks_input(instruments, quotes))
    _compare(got, expected, ["instrument_id", "ts"])
    assert got["iv_mark"].notna().sum() == len(got) - 1


def test_vol_surface_spark_equals_pandas(spark: Any, chain: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from cryptoderiv.features.spark.option_greeks import option_greeks, option_quote_inputs
    from cryptoderiv.features.spark.vol_surface import fit_vol_surfaces, surface_inputs, surface_metrics

    instruments, quotes = chain
    sq, si = spark.createDataFrame(quotes), spark.createDataFrame(instruments)
    slices = fit_vol_surfaces(surface_inputs(option_greeks(option_quote_inputs(sq, si)), sq, si)).cache()
    got_slices = slices.toPandas()
    got_metrics = surface_metrics(slices).toPandas()

    inputs = greeks_input(instruments, quotes)
    twin_in = inputs[["instrument_id", "ts", "exchange", "base", "expiry", "option_type", "index_price"]].merge(
        compute_option_greeks(inputs), on=["instrument_id", "ts"])
    expected_slices = fit_pandas(twin_in)
    _compare(got_slices, expected_slices, ["exchange", "base", "ts", "expiry"])
    _compare(got_metrics, metrics_pandas(expected_slices), ["exchange", "base", "ts"])
    assert len(got_slices) == 3 * 4 and len(got_metrics) == 3


def test_market_features_spark_equals_pandas(spark: Any) -> None:
    from cryptoderiv.features.market_features import LONG_COLUMNS
    from cryptoderiv.features.spark.market_features import market_features
    from cryptoderiv.features.spark.schema import struct_type

    rows = synthetic_market_rows(bars=260, seed=3)
    start, end = pd.Timestamp("2026-11-08T00:00:00Z"), pd.Timestamp("2026-11-11T00:00:00Z")
    frame = spark.createDataFrame(rows, schema=struct_type(LONG_COLUMNS))
    got = market_features(frame, start.to_pydatetime(), end.to_pydatetime()).toPandas()
    expected = market_features_pandas(rows, start, end)
    _compare(got, expected, ["instrument_id", "ts"])
    assert len(got) == 3 * 72


def test_vol_surface_skips_an_expiry_too_thin_to_fit(spark: Any, chain: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """A slice with fewer quotes than a fit needs yields no row (an empty group result), not a failed job."""
    from cryptoderiv.features.spark.option_greeks import option_greeks, option_quote_inputs
    from cryptoderiv.features.spark.vol_surface import fit_vol_surfaces, surface_inputs

    instruments, quotes = chain
    first_expiry = instruments["expiry"].min()
    thin_ids = set(instruments.loc[instruments["expiry"] == first_expiry, "instrument_id"])
    first_ts = quotes["ts"].min()
    in_slice = quotes["instrument_id"].isin(thin_ids) & (quotes["ts"] == first_ts)
    thinned = pd.concat([quotes[~in_slice], quotes[in_slice].head(2)], ignore_index=True)
    sq, si = spark.createDataFrame(thinned), spark.createDataFrame(instruments)
    got = fit_vol_surfaces(surface_inputs(option_greeks(option_quote_inputs(sq, si)), sq, si)).toPandas()
    inputs = greeks_input(instruments, thinned)
    twin_in = inputs[["instrument_id", "ts", "exchange", "base", "expiry", "option_type", "index_price"]].merge(
        compute_option_greeks(inputs), on=["instrument_id", "ts"])
    _compare(got, fit_pandas(twin_in), ["exchange", "base", "ts", "expiry"])
    assert len(got) == 3 * 4 - 1
