"""Idempotent, all-or-nothing batch writes: binary COPY, staged upsert when needed.

:func:`write_frame` is how every pipeline stage stores rows. A batch is checked against the table's
contract (read from the catalog, see :mod:`cryptoderiv.storage.catalog`) before anything is published:

1. in pandas: unknown or missing columns, wrong dtypes, naive timestamps, NULL/NaN/inf where the
   schema forbids them, duplicate keys within the batch, references to unknown instruments;
2. in the database: every CHECK constraint of the table, evaluated per row on a staged copy.

Any violation raises :class:`~cryptoderiv.errors.ContractViolation` naming the rows (0-based position
in the batch, with their key) and the column or constraint; the transaction is rolled back, so a
batch is written whole or not at all.

A batch for a window the table holds nothing of is COPied straight into the table (the fast path,
inside a savepoint); otherwise, or when PostgreSQL refuses a row there, it is staged and published with
``INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE row IS DISTINCT FROM``, so loading the same batch
twice leaves the same rows and does not even rewrite them.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from cryptoderiv.errors import ContractViolation
from cryptoderiv.storage.catalog import TableContract, load_contract
from cryptoderiv.storage.pgcopy import SUPPORTED_TYPES, encode_stream

log = logging.getLogger(__name__)

ROW_COLUMN = "_batch_row"  # staged rows keep their batch position, so errors can name them
MAX_LISTED = 20


@dataclass(frozen=True)
class WriteResult:
    """What a write did. ``rows_changed`` counts inserted plus updated rows; rows identical to what
    the table already held are ``rows_unchanged``."""

    table: str
    rows_in: int
    rows_changed: int
    seconds: float

    @property
    def rows_unchanged(self) -> int:
        return self.rows_in - self.rows_changed


@dataclass
class _Violations:
    table: str
    frame: pd.DataFrame
    key: tuple[str, ...]
    found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, rows: Iterable[int], message: str) -> None:
        self.found.extend((int(r), message) for r in rows)

    def raise_if_any(self) -> None:
        if not self.found:
            return
        self.found.sort()
        n_rows = len({r for r, _ in self.found})
        lines = [f"{self.table}: {n_rows} of {len(self.frame)} rows break the table's contract; nothing was written"]
        for row, message in self.found[:MAX_LISTED]:
            lines.append(f"  row {row} [{self._describe(row)}]: {message}")
        if len(self.found) > MAX_LISTED:
            lines.append(f"  ... and {len(self.found) - MAX_LISTED} more")
        raise ContractViolation("\n".join(lines))

    def _describe(self, row: int) -> str:
        cols = [c for c in self.key if c in self.frame.columns] or list(self.frame.columns[:3])
        return ", ".join(f"{c}={self.frame[c].iloc[row]}" for c in cols)


def write_frame(conn: psycopg.Connection, table: str, data: Any) -> WriteResult:
    """Upsert a pandas DataFrame or Arrow table into ``table``, all or nothing.

    Parameters
    ----------
    conn
        An open connection; the write runs in its own transaction (a savepoint if one is open).
    table
        Target table name.
    data
        ``pandas.DataFrame`` or ``pyarrow.Table`` whose columns are a subset of the table's.
        Timestamps must be timezone-aware. For tables keyed by ``instrument_id``, a batch may carry
        ``exchange`` and ``symbol`` instead; they are resolved against ``instruments``.

    Raises
    ------
    ContractViolation
        The batch breaks the contract; the message names the rows and columns. Nothing was written.
    """
    started = time.perf_counter()
    frame = data.to_pandas() if hasattr(data, "to_pandas") and not isinstance(data, pd.DataFrame) else data
    if not isinstance(frame, pd.DataFrame):
        raise ContractViolation(f"{table}: expected a pandas DataFrame or Arrow table, got {type(data).__name__}")
    frame = frame.reset_index(drop=True)
    contract = load_contract(conn, table)
    frame = _resolve_instruments(conn, contract, frame)
    frame = _check_frame(conn, contract, frame)
    if frame.empty:
        return WriteResult(table, 0, 0, time.perf_counter() - started)
    columns = list(frame.columns)
    types = [contract.column(c).pg_type for c in columns]
    with conn.transaction():
        if contract.time_column and contract.time_column in frame.columns:
            ts = frame[contract.time_column]
            conn.execute("SELECT cd_ensure_partitions(%s, %s, %s)", (table, ts.min(), ts.max()))
        changed = _copy_into_new_window(conn, contract, frame, columns, types)
        if changed is None:
            changed = _stage_check_and_upsert(conn, contract, frame, columns, types)
    seconds = time.perf_counter() - started
    log.info("%s: %d rows in, %d changed, %.2fs", table, len(frame), changed, seconds)
    return WriteResult(table, len(frame), changed, seconds)


_REFUSALS = (psycopg.errors.UniqueViolation, psycopg.errors.CheckViolation, psycopg.errors.NotNullViolation,
             psycopg.errors.ForeignKeyViolation)


def _copy_into_new_window(conn: psycopg.Connection, contract: TableContract, frame: pd.DataFrame,
                          columns: list[str], types: list[str]) -> int | None:
    """Fast path for a window the table holds nothing of (the usual case): COPY straight into it.

    Returns the rows written, or None when the fast path does not apply or PostgreSQL refused the
    rows (a CHECK, or a concurrent writer): the savepoint is rolled back and the staged path then
    names the offending rows or upserts.
    """
    if _window_occupied(conn, contract, frame):
        return None
    try:
        with conn.transaction(), conn.cursor().copy(_copy_sql(sql.Identifier(contract.name), columns)) as copy:
            for piece in encode_stream(frame, types):
                copy.write(piece)
    except _REFUSALS as exc:
        log.info("%s: direct load refused (%s); staging the batch", contract.name, type(exc).__name__)
        return None
    return len(frame)


def _stage_check_and_upsert(conn: psycopg.Connection, contract: TableContract, frame: pd.DataFrame,
                            columns: list[str], types: list[str]) -> int:
    """COPY into a temporary staging table, name every row that breaks a CHECK, then upsert."""
    stage = sql.Identifier(f"_stage_{contract.name}")
    conn.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
        stage, sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(contract.name)))
    conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} bigint").format(stage, sql.Identifier(ROW_COLUMN)))
    numbered = frame.assign(**{ROW_COLUMN: np.arange(len(frame), dtype=np.int64)})
    with conn.cursor().copy(_copy_sql(stage, [*columns, ROW_COLUMN])) as copy:
        for piece in encode_stream(numbered, [*types, "int8"]):
            copy.write(piece)
    _check_staged(conn, contract, frame, stage)
    changed = conn.execute(_upsert_sql(contract, columns, stage)).rowcount
    conn.execute(sql.SQL("DROP TABLE {}").format(stage))  # a later write in the same transaction stages anew
    return changed


def _copy_sql(target: sql.Identifier, columns: list[str]) -> sql.Composed:
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        target, sql.SQL(", ").join(map(sql.Identifier, columns)))


def _window_occupied(conn: psycopg.Connection, contract: TableContract, frame: pd.DataFrame) -> bool:
    """Whether the table already holds a row with one of the batch's key prefixes inside its time
    window (answered from the key index). Tables without a time column always count as occupied."""
    time_col = contract.time_column
    if not time_col or time_col not in frame.columns:
        return True
    prefix = [c for c in contract.key if c != time_col]
    ts = frame[time_col]
    condition = sql.SQL("t.{} BETWEEN %s AND %s").format(sql.Identifier(time_col))
    if not prefix:
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} t WHERE {})").format(sql.Identifier(contract.name), condition)
        row = conn.execute(query, (ts.min(), ts.max())).fetchone()
        return bool(row and row[0])
    distinct = frame[prefix].drop_duplicates()
    arrays = sql.SQL(", ").join(
        sql.SQL("%s::{}[]").format(sql.SQL(contract.column(c).pg_type)) for c in prefix)
    query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} t JOIN unnest({}) AS d({}) USING ({}) WHERE {})").format(
        sql.Identifier(contract.name), arrays, sql.SQL(", ").join(map(sql.Identifier, prefix)),
        sql.SQL(", ").join(map(sql.Identifier, prefix)), condition)
    params = [distinct[c].tolist() for c in prefix]
    row = conn.execute(query, (*params, ts.min(), ts.max())).fetchone()
    return bool(row and row[0])


def _upsert_sql(contract: TableContract, columns: list[str], stage: sql.Identifier) -> sql.Composed:
    target = sql.Identifier(contract.name)
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    updatable = [c for c in columns if c not in contract.key]
    if not updatable:
        action: sql.Composable = sql.SQL("DO NOTHING")
    else:
        sets = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in updatable)
        old = sql.SQL(", ").join(sql.SQL("{}.{}").format(target, sql.Identifier(c)) for c in updatable)
        new = sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in updatable)
        action = sql.SQL("DO UPDATE SET {} WHERE ROW({}) IS DISTINCT FROM ROW({})").format(sets, old, new)
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) {}").format(
        target, cols, cols, stage, sql.SQL(", ").join(map(sql.Identifier, contract.key)), action)


def instrument_ids(conn: psycopg.Connection, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """``(exchange, symbol) -> instrument_id`` for those of ``pairs`` that are in ``instruments`` (one query)."""
    unique = list(dict.fromkeys(pairs))
    if not unique:
        return {}
    rows = conn.execute(
        "SELECT i.exchange, i.symbol, i.instrument_id FROM instruments i"
        " JOIN unnest(%s::text[], %s::text[]) AS u(exchange, symbol)"
        " ON i.exchange = u.exchange AND i.symbol = u.symbol",
        ([e for e, _ in unique], [s for _, s in unique]),
    ).fetchall()
    return {(str(e), str(s)): int(i) for e, s, i in rows}


def _resolve_instruments(conn: psycopg.Connection, contract: TableContract, frame: pd.DataFrame) -> pd.DataFrame:
    """Replace ``exchange`` + ``symbol`` by ``instrument_id`` for tables that reference instruments."""
    wants_id = any(fk.column == "instrument_id" for fk in contract.foreign_keys)
    if not wants_id or "instrument_id" in frame.columns or not {"exchange", "symbol"} <= set(frame.columns):
        return frame
    pairs = frame[["exchange", "symbol"]].drop_duplicates()  # a large batch has few instruments
    ids = instrument_ids(conn, zip(pairs["exchange"].astype(str), pairs["symbol"].astype(str), strict=True))
    known = pd.DataFrame([(e, s, i) for (e, s), i in ids.items()], columns=["exchange", "symbol", "instrument_id"])
    merged = frame.merge(known, on=["exchange", "symbol"], how="left", validate="many_to_one")
    missing = merged["instrument_id"].isna().to_numpy()
    if missing.any():
        violations = _Violations(contract.name, frame, ("exchange", "symbol"))
        violations.add(np.flatnonzero(missing), "unknown instrument (not in instruments; sync the catalog first)")
        violations.raise_if_any()
    return merged.drop(columns=["exchange", "symbol"]).astype({"instrument_id": "int64"})


def _check_frame(conn: psycopg.Connection, contract: TableContract, frame: pd.DataFrame) -> pd.DataFrame:
    """The pandas-side checks; returns the frame with nullable NaNs made NULL-ready."""
    known = {c.name for c in contract.columns}
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise ContractViolation(
            f"{contract.name}: unknown columns {unknown} (the table has {sorted(known)}); nothing was written")
    missing = [c for c in contract.required if c not in frame.columns]
    if missing:
        raise ContractViolation(f"{contract.name}: required columns missing: {missing}; nothing was written")
    violations = _Violations(contract.name, frame, contract.key)
    for name in frame.columns:
        column = contract.column(name)
        values = frame[name]
        if column.pg_type not in SUPPORTED_TYPES:
            raise ContractViolation(f"{contract.name}.{name}: column type {column.pg_type} cannot be bulk-loaded")
        dtype_problem = _dtype_problem(values, column.pg_type)
        if dtype_problem:
            raise ContractViolation(f"{contract.name}.{name}: {dtype_problem}; nothing was written")
        null = values.isna().to_numpy()
        if column.pg_type == "float8":
            as_float = values.to_numpy(dtype=np.float64, na_value=np.nan)
            inf = np.isinf(as_float)
            violations.add(np.flatnonzero(inf), f"{name} is infinite")
            if column.not_null:
                violations.add(np.flatnonzero(np.isnan(as_float)), f"{name} is NaN")
        elif column.not_null:
            violations.add(np.flatnonzero(null), f"{name} is missing (NULL)")
    present_key = [c for c in contract.key if c in frame.columns]
    if len(present_key) == len(contract.key):
        dup = frame.duplicated(subset=present_key, keep=False).to_numpy()
        violations.add(np.flatnonzero(dup), f"duplicate key ({', '.join(present_key)}) within the batch")
    for fk in contract.foreign_keys:
        if fk.column not in frame.columns:
            continue
        ids = pd.unique(frame[fk.column].dropna())
        found = {row[0] for row in conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s)").format(
                sql.Identifier(fk.ref_column), sql.Identifier(fk.ref_table), sql.Identifier(fk.ref_column)),
            (list(ids),),
        )}
        unknown_ref = ~frame[fk.column].isin(found).to_numpy() & frame[fk.column].notna().to_numpy()
        violations.add(np.flatnonzero(unknown_ref), f"{fk.column} not found in {fk.ref_table}")
    violations.raise_if_any()
    return frame


def _dtype_problem(values: pd.Series, pg_type: str) -> str | None:
    dtype = values.dtype
    if pg_type == "timestamptz":
        if not isinstance(dtype, pd.DatetimeTZDtype):
            if pd.api.types.is_datetime64_dtype(dtype):
                return "timestamps are naive; give them a time zone (UTC)"
            return f"expected timezone-aware timestamps, got dtype {dtype}"
        return None
    if pg_type == "float8":
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            return f"expected numbers, got dtype {dtype}"
        return None
    if pg_type in {"int2", "int4", "int8"}:
        if not pd.api.types.is_integer_dtype(dtype):
            return f"expected integers, got dtype {dtype}"
        return None
    if pg_type == "bool":
        return None if pd.api.types.is_bool_dtype(dtype) else f"expected booleans, got dtype {dtype}"
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred not in {"string", "empty"}:
        return f"expected text, got {inferred} values"
    return None


_IDENT = re.compile(r"\b([a-z_][a-z0-9_]*)\b")


def _check_staged(conn: psycopg.Connection, contract: TableContract, frame: pd.DataFrame,
                  stage: sql.Identifier) -> None:
    """Evaluate the table's CHECK constraints on the staged rows and name every row that fails.

    A CHECK passes on NULL (as in PostgreSQL). Constraints that mention a column the batch does not
    carry are left to the database itself at insert time."""
    all_columns = {c.name for c in contract.columns}
    present = set(frame.columns)
    usable = [(name, expr) for name, expr in contract.checks
              if {w for w in _IDENT.findall(expr) if w in all_columns} <= present]
    if not usable:
        return
    failed = [sql.SQL("CASE WHEN NOT COALESCE({}, true) THEN {} END").format(sql.SQL(expr), sql.Literal(name))
              for name, expr in usable]
    condition = sql.SQL(" AND ").join(sql.SQL("COALESCE({}, true)").format(sql.SQL(expr)) for _, expr in usable)
    query = sql.SQL("SELECT {row}, array_remove(ARRAY[{failed}], NULL) FROM {stage} WHERE NOT ({cond})"
                    " ORDER BY {row} LIMIT 1000").format(
        row=sql.Identifier(ROW_COLUMN), failed=sql.SQL(", ").join(failed), stage=stage, cond=condition)
    rows = conn.execute(query).fetchall()
    if rows:
        expressions = dict(usable)
        violations = _Violations(contract.name, frame, contract.key)
        for row, names in rows:
            violations.add([row], "; ".join(f"violates {n} {expressions[n]}" for n in names))
        violations.raise_if_any()
