"""One lineage row per ingestion run in ``ingest_runs``; a re-run of the same run replaces it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import psycopg


@dataclass(frozen=True)
class IngestRun:
    run_id: str
    dataset: str
    exchange: str
    source: str
    window_start: pd.Timestamp
    window_end: pd.Timestamp
    started_at: pd.Timestamp
    finished_at: pd.Timestamp
    status: str = "succeeded"
    landing_path: Path | None = None
    rows_written: dict[str, int] = field(default_factory=dict)
    message: str | None = None


def record_run(conn: psycopg.Connection, run: IngestRun) -> None:
    """Insert or replace the lineage row of ``run`` (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO ingest_runs (run_id, dataset, exchange, source, window_start, window_end, landing_path,"
        " rows_written, status, message, started_at, finished_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s)"
        " ON CONFLICT (run_id, dataset, exchange) DO UPDATE SET source = EXCLUDED.source,"
        " window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,"
        " landing_path = EXCLUDED.landing_path, rows_written = EXCLUDED.rows_written, status = EXCLUDED.status,"
        " message = EXCLUDED.message, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at",
        (run.run_id, run.dataset, run.exchange, run.source, run.window_start, run.window_end,
         str(run.landing_path) if run.landing_path else None, json.dumps(run.rows_written), run.status,
         run.message, run.started_at, run.finished_at),
    )
