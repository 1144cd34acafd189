"""What a suite expects as input: the normalised frame of each table, and how the gate completes it.

A batch handed to the gate is the frame the ingestion produces for a table:

- the table's own columns, named and typed as in ``sql/migrations`` (timestamps timezone-aware UTC,
  prices as floats, IV decimal, time to expiry in ACT/365 years), with ``exchange`` + ``symbol``
  (or ``instrument_id``) instead of the instrument reference;
- for the tables whose rules need more than a row of the table, the instrument's fields and the
  venue's quote time, which are *not* stored in the table (they are dropped before publishing):

  ============== =============================================================================
  option_quotes  ``base``, ``expiry``, ``strike``, ``option_type`` (from the instrument) and
                 ``quote_ts`` (the venue's timestamp of the quote; ``ts`` is the snapshot time)
  futures_quotes ``base``, ``expiry`` (NaT for perpetuals) and ``quote_ts``
  ============== =============================================================================

With a database connection, :func:`prepare` fills what is missing from the ``instruments`` catalog
(``instrument_id`` from exchange + symbol, or exchange + symbol from ``instrument_id``, and the
instrument fields above); an instrument the catalog does not know gets a missing ``instrument_id``,
which the ``<table>.instrument_known`` rule quarantines. :data:`INPUT_COLUMNS` lists every column a
suite expects with its kind; ``<table>.columns_present`` and ``<table>.column_kinds`` check them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd
import psycopg

from cryptoderiv.quality.errors import UnknownTableError

log = logging.getLogger(__name__)

_MARKET = {"exchange": "text", "symbol": "text", "instrument_id": "integer"}

#: Every column a suite expects, with its kind (see :func:`cryptoderiv.quality.conditions.column_kind`).
INPUT_COLUMNS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "instruments": MappingProxyType({
        "exchange": "text", "symbol": "text", "kind": "text", "base": "text", "quote": "text", "settle": "text",
        "is_inverse": "boolean", "contract_size": "float", "expiry": "utc_timestamp", "strike": "float",
        "option_type": "text", "funding_interval_hours": "integer",
    }),
    "ohlcv": MappingProxyType({
        **_MARKET, "timeframe": "text", "ts": "utc_timestamp", "open": "float", "high": "float", "low": "float",
        "close": "float", "volume": "float",
    }),
    "trades": MappingProxyType({
        **_MARKET, "trade_id": "text", "ts": "utc_timestamp", "price": "float", "amount": "float", "side": "text",
    }),
    "funding_rates": MappingProxyType({
        **_MARKET, "ts": "utc_timestamp", "rate": "float", "interval_hours": "integer",
    }),
    "open_interest": MappingProxyType({
        **_MARKET, "ts": "utc_timestamp", "oi_contracts": "float", "oi_base": "float", "oi_usd": "float",
    }),
    "futures_quotes": MappingProxyType({
        **_MARKET, "base": "text", "expiry": "utc_timestamp", "ts": "utc_timestamp", "quote_ts": "utc_timestamp",
        "mark_price": "float", "index_price": "float", "bid": "float", "ask": "float", "basis": "float",
        "basis_apr": "float",
    }),
    "option_quotes": MappingProxyType({
        **_MARKET, "base": "text", "expiry": "utc_timestamp", "strike": "float", "option_type": "text",
        "ts": "utc_timestamp", "quote_ts": "utc_timestamp", "premium_currency": "text",
        "bid": "float", "ask": "float", "mark": "float", "bid_usd": "float", "ask_usd": "float", "mark_usd": "float",
        "bid_iv": "float", "ask_iv": "float", "mark_iv": "float", "delta": "float", "gamma": "float",
        "vega": "float", "theta": "float", "underlying_price": "float", "index_price": "float",
        "time_to_expiry": "float", "open_interest": "float", "volume": "float",
    }),
})

#: Natural key of each table in input terms (exchange + symbol stand for the instrument).
NATURAL_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "instruments": ("exchange", "symbol"),
    "ohlcv": ("exchange", "symbol", "timeframe", "ts"),
    "trades": ("exchange", "symbol", "trade_id"),
    "funding_rates": ("exchange", "symbol", "ts"),
    "open_interest": ("exchange", "symbol", "ts"),
    "futures_quotes": ("exchange", "symbol", "ts"),
    "option_quotes": ("exchange", "symbol", "ts"),
})

#: Columns joined from the instrument or the venue for the rules; never published.
VALIDATION_ONLY: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "option_quotes": ("base", "expiry", "strike", "option_type", "quote_ts"),
    "futures_quotes": ("base", "expiry", "quote_ts"),
})

#: Instrument fields the gate joins from the catalog when a frame lacks them.
_CATALOG_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "option_quotes": ("base", "expiry", "strike", "option_type"),
    "futures_quotes": ("base", "expiry"),
})

#: Repetitive text columns held as categoricals while validating: GX copies the batch once per column
#: rule, and copying integer codes is several times cheaper than copying strings (1M option quotes:
#: ~1.8 s instead of ~2.6 s). They are turned back into text before publishing.
CATEGORICAL_TEXT = ("exchange", "symbol", "base", "option_type", "premium_currency", "timeframe", "side",
                    "kind", "quote", "settle")

TABLES = tuple(INPUT_COLUMNS)
TIME_SERIES_TABLES = tuple(t for t in TABLES if t != "instruments")


def check_table(table: str) -> None:
    """Raise :class:`UnknownTableError` unless a suite exists for ``table``."""
    if table not in INPUT_COLUMNS:
        raise UnknownTableError(f"no quality suite for table {table!r}; suites exist for {', '.join(TABLES)}")


def references_instruments(table: str) -> bool:
    """Whether rows of ``table`` point at an instrument."""
    return "instrument_id" in INPUT_COLUMNS[table]


def prepare(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` (positions 0..n-1) completed from the instrument catalog, with its repetitive
    text columns as categoricals (:data:`CATEGORICAL_TEXT`).

    Adds ``instrument_id`` (nullable integer; missing for an instrument the catalog does not know),
    ``exchange``/``symbol`` when the frame came with ids only, and the instrument fields the table's
    rules need (:data:`VALIDATION_ONLY`) when the frame does not carry them.
    """
    check_table(table)
    frame = frame.reset_index(drop=True).copy()
    if not references_instruments(table):
        return _categorical_text(frame)
    wanted = [c for c in _CATALOG_FIELDS.get(table, ()) if c not in frame.columns]
    if "instrument_id" in frame.columns and not {"exchange", "symbol"} <= set(frame.columns):
        ids = pd.unique(frame["instrument_id"].dropna()).tolist()
        catalog = _catalog(conn, "instrument_id = ANY(%s)", ([int(i) for i in ids],), ["exchange", "symbol", *wanted])
        merged = frame.merge(catalog, on="instrument_id", how="left", validate="many_to_one")
    else:
        pairs = frame[["exchange", "symbol"]].drop_duplicates()
        catalog = _catalog(
            conn, "(exchange, symbol) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            (pairs["exchange"].astype(str).tolist(), pairs["symbol"].astype(str).tolist()),
            ["exchange", "symbol", *wanted])
        if "instrument_id" in frame.columns:
            frame = frame.drop(columns=["instrument_id"])
        merged = frame.merge(catalog, on=["exchange", "symbol"], how="left", validate="many_to_one")
    merged["instrument_id"] = merged["instrument_id"].astype("Int64")
    unknown = int(merged["instrument_id"].isna().sum())
    if unknown:
        log.warning("%s: %d rows reference instruments missing from the catalog", table, unknown)
    return _categorical_text(merged)


def prepare_offline(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` ready for validation without a database: when it has no ``instrument_id``,
    every (exchange, symbol) is numbered as if the catalog knew it (catalog membership is then not
    checked). Instrument fields must already be in the frame."""
    check_table(table)
    frame = frame.reset_index(drop=True).copy()
    if references_instruments(table) and "instrument_id" not in frame.columns:
        codes = frame.groupby(["exchange", "symbol"], sort=False, dropna=False).ngroup()
        frame["instrument_id"] = (codes + 1).astype("Int64")
    return _categorical_text(frame)


def _categorical_text(frame: pd.DataFrame) -> pd.DataFrame:
    for column in CATEGORICAL_TEXT:
        if column in frame.columns and column_is_text(frame[column]):
            frame[column] = frame[column].astype("category")
    return frame


def column_is_text(values: pd.Series) -> bool:
    """Whether ``values`` holds text (missing values allowed)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return True
    return pd.api.types.infer_dtype(values, skipna=True) in {"string", "empty"}


def publishable(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s publishable columns (:func:`publish_columns`), categoricals turned back into text."""
    out = frame[publish_columns(table, frame)].copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype("str")  # missing values stay missing
    return out


def publish_columns(table: str, frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that go to the table: the instrument id instead of exchange + symbol,
    and none of the validation-only columns."""
    dropped = set(VALIDATION_ONLY.get(table, ()))
    if references_instruments(table):
        dropped |= {"exchange", "symbol"}
    return [c for c in frame.columns if c not in dropped]


def _catalog(conn: psycopg.Connection, where: str, params: tuple[object, ...], fields: list[str]) -> pd.DataFrame:
    columns = ["instrument_id", *dict.fromkeys(fields)]
    select = ", ".join(columns)
    rows = conn.execute(f"SELECT {select} FROM instruments WHERE {where}", params).fetchall()
    catalog = pd.DataFrame(rows, columns=columns)
    if "expiry" in catalog.columns:
        catalog["expiry"] = pd.to_datetime(catalog["expiry"], utc=True)
    if "strike" in catalog.columns:
        catalog["strike"] = catalog["strike"].astype("float64")
    for text in ("exchange", "symbol", "base", "option_type"):
        if text in catalog.columns:
            catalog[text] = catalog[text].astype("str")
    return catalog
