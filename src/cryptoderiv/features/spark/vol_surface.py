"""Spark wrapper of :mod:`cryptoderiv.features.vol_surface`: SVI fits per snapshot and expiry, then metrics.

Both steps are grouped maps (``groupBy(...).applyInPandas``) of the twin's per-group functions: one
``(exchange, base, ts, expiry)`` chain is a few dozen rows, fitted in a few milliseconds.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from cryptoderiv.features.spark.schema import struct_type
from cryptoderiv.features.vol_surface import (
    INPUT_COLUMNS,
    METRICS_SCHEMA,
    SLICE_KEYS,
    SLICE_SCHEMA,
    SNAPSHOT_KEYS,
    fit_expiry,
    snapshot_metrics,
)


def surface_inputs(greeks: DataFrame, quotes: DataFrame, instruments: DataFrame) -> DataFrame:
    """Join ``option_greeks`` with the quotes' index price and the contracts' terms (the fit's input).

    Parameters
    ----------
    greeks : pyspark.sql.DataFrame
        Rows of ``option_greeks`` (or the output of :func:`~cryptoderiv.features.spark.option_greeks.option_greeks`).
    quotes : pyspark.sql.DataFrame
        Rows of ``option_quotes`` of the same window (``instrument_id``, ``ts``, ``index_price``).
    instruments : pyspark.sql.DataFrame
        Rows of ``instruments``.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``INPUT_COLUMNS`` of the twin.
    """
    terms = instruments.where(sf.col("kind") == "option").select("instrument_id", "exchange", "base", "expiry",
                                                                 "option_type")
    return (greeks.join(quotes.select("instrument_id", "ts", "index_price"), on=["instrument_id", "ts"])
            .join(sf.broadcast(terms), on="instrument_id")
            .select(*INPUT_COLUMNS))


def fit_vol_surfaces(inputs: DataFrame) -> DataFrame:
    """One SVI slice per ``(exchange, base, ts, expiry)`` (rows of the ``vol_surfaces`` table)."""
    return inputs.groupBy(*SLICE_KEYS).applyInPandas(fit_expiry, schema=struct_type(SLICE_SCHEMA))


def surface_metrics(slices: DataFrame) -> DataFrame:
    """Constant-maturity metrics per ``(exchange, base, ts)`` (rows of ``vol_surface_metrics``)."""
    return slices.groupBy(*SNAPSHOT_KEYS).applyInPandas(snapshot_metrics, schema=struct_type(METRICS_SCHEMA))
