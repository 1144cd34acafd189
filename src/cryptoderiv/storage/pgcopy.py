"""Vectorised encoder for PostgreSQL's binary COPY format.

A whole column is turned into bytes with NumPy at once, and the row-major COPY stream is assembled
by scattering each column's bytes to their offsets: no per-row Python. Supported column types are
the ones the schema uses: float8, int2/int4/int8, bool, timestamptz, text/varchar, jsonb.

Format (PostgreSQL docs, "COPY ... Binary Format"): an 11-byte signature, int32 flags, int32 header
extension length; each tuple is an int16 field count followed by, per field, an int32 byte length
(-1 for NULL) and the value in network byte order; the trailer is int16 -1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in microseconds since the Unix epoch

FIXED_WIDTH = {"float8": ">f8", "int8": ">i8", "int4": ">i4", "int2": ">i2", "bool": "u1", "timestamptz": ">i8"}
VARIABLE_WIDTH = {"text", "varchar", "jsonb"}
SUPPORTED_TYPES = frozenset(FIXED_WIDTH) | VARIABLE_WIDTH


@dataclass(frozen=True)
class EncodedColumn:
    """One column as COPY field payloads: per-row byte lengths (-1 = NULL) and the payload bytes."""

    lengths: np.ndarray  # int64, one per row
    payload: np.ndarray  # uint8, the non-null values back to back


def encode_column(values: pd.Series, pg_type: str) -> EncodedColumn:
    """Encode one column; ``values`` must already hold the right dtype (the writer checks that)."""
    null = values.isna().to_numpy()
    if pg_type in FIXED_WIDTH:
        width = np.dtype(FIXED_WIDTH[pg_type]).itemsize
        present = values[~null]
        if pg_type == "timestamptz":
            micros = present.dt.tz_convert("UTC").dt.as_unit("us").astype("int64").to_numpy()
            raw = (micros - PG_EPOCH_US).astype(">i8")
        elif pg_type == "bool":
            raw = present.to_numpy(dtype=bool).astype("u1")
        else:
            raw = present.to_numpy().astype(FIXED_WIDTH[pg_type])
        lengths = np.where(null, -1, width).astype(np.int64)
        return EncodedColumn(lengths, np.ascontiguousarray(raw).view(np.uint8))
    if pg_type in VARIABLE_WIDTH:
        # Encode each distinct string once, then gather: market tables repeat a few values millions of times.
        codes, uniques = pd.factorize(values[~null], sort=False)
        encoded = [str(u).encode("utf-8") for u in uniques]
        if pg_type == "jsonb":
            encoded = [b"\x01" + e for e in encoded]  # jsonb binary format version 1
        unique_lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        width = int(unique_lengths.max(initial=0))
        table = np.frombuffer(b"".join(e.ljust(width, b"\0") for e in encoded), dtype=np.uint8)
        table = table.reshape(len(encoded), width) if width else np.zeros((len(encoded), 0), np.uint8)
        row_lengths = unique_lengths[codes]
        lengths = np.full(len(values), -1, dtype=np.int64)
        lengths[~null] = row_lengths
        payload = table[codes][np.arange(width) < row_lengths[:, None]]
        return EncodedColumn(lengths, payload)
    raise ValueError(f"binary COPY encoding of PostgreSQL type {pg_type!r} is not supported")


def encode_frame(frame: pd.DataFrame, pg_types: list[str]) -> bytes:
    """The complete binary COPY stream (header, tuples, trailer) for ``frame``'s columns in order."""
    return SIGNATURE + encode_tuples(frame, pg_types) + TRAILER


def encode_stream(frame: pd.DataFrame, pg_types: list[str], chunk_rows: int = 100_000) -> Iterator[bytes]:
    """The same stream in pieces of ``chunk_rows`` tuples: the server ingests one piece while the next
    is encoded, so encoding and loading overlap on two cores."""
    yield SIGNATURE
    for start in range(0, len(frame), chunk_rows):
        yield encode_tuples(frame.iloc[start:start + chunk_rows], pg_types)
    yield TRAILER


def encode_tuples(frame: pd.DataFrame, pg_types: list[str]) -> bytes:
    """The tuples of ``frame`` in binary COPY format, without the header and trailer."""
    n_rows, n_cols = len(frame), len(frame.columns)
    if n_cols != len(pg_types):
        raise ValueError(f"{n_cols} columns but {len(pg_types)} types")
    columns = [encode_column(frame.iloc[:, j], pg_types[j]) for j in range(n_cols)]
    widths = [_constant_width(c.lengths) for c in columns]
    if n_rows and all(w is not None for w in widths):
        return _encode_constant_width(columns, [int(w or 0) for w in widths], n_rows)
    data_lengths = [np.maximum(c.lengths, 0) for c in columns]
    row_sizes = np.full(n_rows, 2 + 4 * n_cols, dtype=np.int64)
    for data_len in data_lengths:
        row_sizes += data_len
    row_starts = np.zeros(n_rows, dtype=np.int64)
    np.cumsum(row_sizes[:-1], out=row_starts[1:])
    buf = np.empty(int(row_sizes.sum()), dtype=np.uint8)
    _scatter(buf, row_starts, np.full(n_rows, n_cols, dtype=">i2").view(np.uint8), 2)
    cursor = row_starts + 2
    for column, data_len in zip(columns, data_lengths, strict=True):
        _scatter(buf, cursor, column.lengths.astype(">i4").view(np.uint8), 4)
        present = column.lengths >= 0
        starts = cursor[present] + 4
        sizes = data_len[present]
        if sizes.size and np.all(sizes == sizes[0]):
            _scatter(buf, starts, column.payload, int(sizes[0]))
        elif sizes.size:
            # Variable width: the destination of every payload byte, built without a Python loop.
            offsets_in_payload = np.zeros(sizes.size, dtype=np.int64)
            np.cumsum(sizes[:-1], out=offsets_in_payload[1:])
            dest = np.repeat(starts - offsets_in_payload, sizes) + np.arange(column.payload.size)
            buf[dest] = column.payload
        cursor = cursor + 4 + data_len
    return buf.tobytes()


def _constant_width(lengths: np.ndarray) -> int | None:
    """The common payload width of a column with no NULLs and equal-sized values, else None."""
    if lengths.size == 0 or lengths[0] < 0 or not np.all(lengths == lengths[0]):
        return None
    return int(lengths[0])


def _encode_constant_width(columns: list[EncodedColumn], widths: list[int], n_rows: int) -> bytes:
    """Fast path: every tuple has the same layout, so the rows form one NumPy structured array."""
    fields: list[tuple[str, str | tuple[str, int]]] = [("n", ">i2")]
    for j, width in enumerate(widths):
        fields += [(f"l{j}", ">i4"), (f"v{j}", ("u1", width))]
    rows = np.empty(n_rows, dtype=np.dtype(fields))
    rows["n"] = len(columns)
    for j, (column, width) in enumerate(zip(columns, widths, strict=True)):
        rows[f"l{j}"] = width
        rows[f"v{j}"] = column.payload.reshape(n_rows, width)
    return rows.tobytes()


def _scatter(buf: np.ndarray, starts: np.ndarray, payload: np.ndarray, width: int) -> None:
    """Write fixed-``width`` items of ``payload`` at byte offsets ``starts``."""
    if starts.size == 0:
        return
    buf[starts[:, None] + np.arange(width)] = payload.reshape(-1, width)
