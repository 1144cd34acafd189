"""Raw landing: the exchange responses a run used, as one Parquet file per (dataset, run, exchange).

Each response keeps the request (method and parameters), the parsed JSON payload as text, and when it
was fetched (UTC). Files are written to a temporary name and renamed, so a reader never sees half a
file, and a re-run of the same run id replaces its file: landing is idempotent.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cryptoderiv.config import get_settings

SCHEMA = pa.schema([
    ("exchange", pa.string()),
    ("method", pa.string()),
    ("params", pa.string()),        # JSON
    ("payload", pa.string()),       # JSON, as the exchange (or ccxt's raw `info`) returned it
    ("fetched_at", pa.timestamp("ms", tz="UTC")),
])
_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


@dataclass(frozen=True)
class RawResponse:
    """One exchange response used by a run."""

    exchange: str
    method: str
    params: dict[str, Any]
    payload: Any
    fetched_at: pd.Timestamp


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
        "params": [json.dumps(r.params, sort_keys=True, default=str) for r in responses],
        "payload": [json.dumps(r.payload, default=str) for r in responses],
        "fetched_at": [pd.Timestamp(r.fetched_at).tz_convert("UTC") for r in responses],
    }, schema=SCHEMA)
    partial = path.with_suffix(".parquet.partial")
    pq.write_table(table, partial, compression="zstd")
    os.replace(partial, path)
    return path


def read_landed(path: Path) -> list[RawResponse]:
    """The responses of a landed file, payloads parsed back from JSON."""
    table = pq.read_table(path, schema=SCHEMA).to_pandas()
    return [
        RawResponse(row.exchange, row.method, json.loads(row.params), json.loads(row.payload), row.fetched_at)
        for row in table.itertuples(index=False)
    ]
