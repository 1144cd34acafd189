"""Spark wrapper of :mod:`cryptoderiv.features.market_features`.

The market tables of a window (plus the look-back the rolling windows need) are stacked into the twin's
long layout, grouped by instrument and mapped with :func:`~cryptoderiv.features.market_features.instrument_features`;
the cross-venue spread is a window median over ``(base, kind, ts)`` in Spark itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as sf

from cryptoderiv.features.market_features import (
    DEFAULT_TIMEFRAME,
    LONG_COLUMNS,
    OUTPUT_SCHEMA,
    instrument_features,
)
from cryptoderiv.features.spark.schema import struct_type

_SPARK_TYPES = {"string": "string", "int": "int", "double": "double", "timestamp": "timestamp"}


def _long(frame: DataFrame, source: str, instruments: DataFrame) -> DataFrame:
    terms = instruments.select("instrument_id", "exchange", "base", "kind", "expiry")
    joined = frame.join(sf.broadcast(terms), on="instrument_id").withColumn("source", sf.lit(source))
    cols: list[Column] = []
    for name, kind in LONG_COLUMNS.items():
        col = sf.col(name) if name in joined.columns else sf.lit(None)
        cols.append(col.cast(_SPARK_TYPES[kind]).alias(name))
    return joined.select(*cols)


def market_rows(
    ohlcv: DataFrame,
    instruments: DataFrame,
    funding: DataFrame | None = None,
    open_interest: DataFrame | None = None,
    futures_quotes: DataFrame | None = None,
    timeframe: str = DEFAULT_TIMEFRAME,
) -> DataFrame:
    """Stack the market tables into the twin's long layout (``LONG_COLUMNS``).

    Parameters
    ----------
    ohlcv : pyspark.sql.DataFrame
        Candles (rows of ``ohlcv``); only ``timeframe`` is used.
    instruments : pyspark.sql.DataFrame
        Rows of ``instruments``; spot, perpetual and future instruments are kept.
    funding, open_interest, futures_quotes : pyspark.sql.DataFrame, optional
        Rows of ``funding_rates``, ``open_interest``, ``futures_quotes``.
    timeframe : str, default "1h"
        Candle timeframe.

    Returns
    -------
    pyspark.sql.DataFrame
        The long frame.
    """
    linear = instruments.where(sf.col("kind").isin("spot", "perpetual", "future"))
    parts = [_long(ohlcv.where(sf.col("timeframe") == timeframe), "ohlcv", linear)]
    for frame, source in ((funding, "funding"), (open_interest, "open_interest"), (futures_quotes, "futures_quote")):
        if frame is not None:
            parts.append(_long(frame, source, linear))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out


def _per_instrument(start: datetime | None, end: datetime | None,
                    timeframe: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def apply(rows: pd.DataFrame) -> pd.DataFrame:
        return instrument_features(rows, pd.Timestamp(start) if start else None,
                                   pd.Timestamp(end) if end else None, timeframe)
    return apply


def market_features(
    rows: DataFrame,
    start: datetime | None = None,
    end: datetime | None = None,
    timeframe: str = DEFAULT_TIMEFRAME,
) -> DataFrame:
    """Features per instrument and bar of ``[start, end)`` with cross-venue spreads (see the twin).

    Parameters
    ----------
    rows : pyspark.sql.DataFrame
        Long rows (:func:`market_rows`), including the look-back before ``start``.
    start, end : datetime.datetime, optional
        Output window (timezone-aware); default all bars.
    timeframe : str, default "1h"
        Candle timeframe.

    Returns
    -------
    pyspark.sql.DataFrame
        Columns ``OUTPUT_SCHEMA`` of the twin (rows of ``market_features``).
    """
    features = rows.groupBy("instrument_id").applyInPandas(_per_instrument(start, end, timeframe),
                                                           schema=struct_type(OUTPUT_SCHEMA))
    median = sf.median("close").over(Window.partitionBy("base", "kind", "ts"))
    spread = (sf.col("close") / median - sf.lit(1.0)) * sf.lit(1e4)
    return features.withColumn("cross_venue_spread_bp", spread).select(*OUTPUT_SCHEMA)
