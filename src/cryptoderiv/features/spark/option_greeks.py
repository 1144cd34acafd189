"""Spark wrapper of :mod:`cryptoderiv.features.option_greeks`: IVs and greeks for every option quote.

The pandas twin runs on each Arrow batch through ``mapInPandas``: the kernels are compiled and vectorised,
so a batch of 100,000 quotes costs one call; rows are independent, so no shuffle is needed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as sf

from cryptoderiv.features.option_greeks import INPUT_COLUMNS, OUTPUT_SCHEMA, compute_option_greeks
from cryptoderiv.features.spark.schema import struct_type

OPTION_INSTRUMENT_COLUMNS = ("instrument_id", "option_type", "strike", "is_inverse", "expiry", "exchange", "base")


def option_quote_inputs(quotes: DataFrame, instruments: DataFrame) -> DataFrame:
    """Join option quotes with their contract terms (``option_type``, ``strike``, ``is_inverse``, ...).

    Parameters
    ----------
    quotes : pyspark.sql.DataFrame
        Rows of ``option_quotes``.
    instruments : pyspark.sql.DataFrame
        Rows of ``instruments`` (small: broadcast).

    Returns
    -------
    pyspark.sql.DataFrame
        The quotes with the columns of ``OPTION_INSTRUMENT_COLUMNS``; quotes of unknown instruments dropped.
    """
    terms = instruments.where(sf.col("kind") == "option").select(*OPTION_INSTRUMENT_COLUMNS)
    return quotes.join(sf.broadcast(terms), on="instrument_id", how="inner")


def _greeks_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    for batch in batches:
        yield compute_option_greeks(batch)


def option_greeks(quotes: DataFrame) -> DataFrame:
    """IVs from bid/ask/mid/mark and greeks in USD and coin for every quote (see the pandas twin).

    Parameters
    ----------
    quotes : pyspark.sql.DataFrame
        Columns ``INPUT_COLUMNS`` of the twin (quotes joined with instruments, see
        :func:`option_quote_inputs`).

    Returns
    -------
    pyspark.sql.DataFrame
        The ``option_greeks`` columns (``OUTPUT_SCHEMA`` of the twin), one row per quote.
    """
    selected = quotes.select(*[sf.col(c) for c in INPUT_COLUMNS])
    return selected.mapInPandas(_greeks_batches, schema=struct_type(OUTPUT_SCHEMA))
