"""Raw landing: the exchange responses a run used, as one Parquet file per (dataset, run, exchange).

Each row is one :class:`cryptoderiv.exchanges.fetch.RawResponse`: the ccxt method and its arguments,
the request URL, when it arrived (UTC) and the venue's JSON payload as text. Files are written to a
temporary name and renamed, so a reader never sees half a file, and a re-run of the same run id
replaces its file: landing is idempotent.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cryptoderiv.config import get_settings
from cryptoderiv.exchanges.fetch import RawResponse

SCHEMA = pa.schema([
    ("exchange", pa.string()),
    ("method", pa.string()),
    ("request", pa.string()),       # JSON of the call's arguments
    ("url", pa.string()),
    ("fetched_at", pa.timestamp("ms", tz="UTC")),
    ("payload", pa.string()),       # JSON, as the venue returned it
])
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


def landing_root() -> Path:
    return get_settings().local_dir / "landing"


def land_raw(responses: Sequence[RawResponse], dataset: str, run_id: str, exchange: str,
             root: Path | None = None) -> Path:
    """Write the responses of one (dataset, run, exchange) and return the file's path."""
    path = (root or landing_root()) / dataset / f"run_id={_UNSAFE.sub('_', run_id)}" / f"{exchange}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pydict({
        "exchange": [r.exchange for r in responses],
        "method": [r.method for r in responses],
        "request": [json.dumps(r.request, sort_keys=True, default=str) for r in responses],
        "url": [r.url for r in responses],
        "fetched_at": [pd.Timestamp(r.fetched_at).tz_convert("UTC") for r in responses],
        "payload": [json.dumps(r.payload, default=str) for r in responses],
    }, schema=SCHEMA)
    partial = path.with_suffix(".parquet.partial")
    pq.write_table(table, partial, compression="zstd")
    os.replace(partial, path)
    return path


def read_landed(path: Path) -> list[RawResponse]:
    """The responses of a landed file, arguments and payloads parsed back from JSON."""
    rows = pq.read_table(path, schema=SCHEMA).to_pylist()
    return [RawResponse(r["exchange"], r["method"], json.loads(r["request"]), r["url"],
                        pd.Timestamp(r["fetched_at"]), json.loads(r["payload"])) for r in rows]
