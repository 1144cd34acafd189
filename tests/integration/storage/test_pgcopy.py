"""The binary COPY encoder, checked by PostgreSQL itself: what it reads back is what we encoded."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import psycopg
import pytest

from cryptoderiv.storage.pgcopy import encode_frame

TYPES = ["int2", "int4", "int8", "float8", "bool", "timestamptz", "text", "jsonb"]
DDL = "a int2, b int4, c int8, d float8, e bool, f timestamptz, g text, h jsonb"


def frame(with_nulls: bool) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 257
    out = pd.DataFrame({
        "a": rng.integers(-32768, 32767, n).astype("int16"),
        "b": rng.integers(-2**31, 2**31 - 1, n).astype("int32"),
        "c": rng.integers(-2**62, 2**62, n),
        "d": rng.standard_normal(n) * 1e6,
        "e": rng.random(n) > 0.5,
        "f": pd.Timestamp("1999-12-31T23:59:59.999999Z") + pd.to_timedelta(rng.integers(0, 10**15, n), unit="us"),
        "g": [("é€" * (i % 5)) + str(i) if with_nulls else "abcd" for i in range(n)],
        "h": [json.dumps({"k": i}) if with_nulls else '{"k": 1}' for i in range(n)],
    })
    if with_nulls:
        out = out.astype({"a": "Int16", "b": "Int32", "c": "Int64", "e": "boolean"})
        for col in out.columns:
            out.loc[out.index % 7 == TYPES.index(TYPES[out.columns.get_loc(col)]) % 7, col] = None
    return out


@pytest.mark.parametrize("with_nulls", [False, True], ids=["constant-width-path", "general-path"])
def test_postgres_reads_back_what_was_encoded(database_url: str, with_nulls: bool) -> None:
    data = frame(with_nulls)
    with psycopg.connect(database_url) as conn:
        conn.execute(f"CREATE TEMP TABLE t ({DDL})")
        with conn.cursor().copy("COPY t FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(encode_frame(data, TYPES))
        rows = conn.execute("SELECT a, b, c, d, e, f, g, h FROM t").fetchall()
    assert len(rows) == len(data)
    for got, (_, want) in zip(rows, data.iterrows(), strict=True):
        for value, (name, expected) in zip(got, want.items(), strict=True):
            if pd.isna(expected):
                assert value is None, name
            elif name == "h":
                assert value == json.loads(expected)
            elif name == "f":
                assert pd.Timestamp(value) == expected
            else:
                assert value == expected, name


def test_unsupported_types_are_named() -> None:
    with pytest.raises(ValueError, match="numeric"):
        encode_frame(pd.DataFrame({"x": [1.5]}), ["numeric"])


def test_the_chunked_stream_is_the_same_bytes_as_the_whole_stream() -> None:
    from cryptoderiv.storage.pgcopy import encode_stream

    for with_nulls in (False, True):
        data = frame(with_nulls)
        assert b"".join(encode_stream(data, TYPES, chunk_rows=50)) == encode_frame(data, TYPES)
