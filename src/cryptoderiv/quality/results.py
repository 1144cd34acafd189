"""Persisting a gated batch's verdict: ``dq_results`` (one row per rule) and ``quarantine`` (one row per
offending row and hard rule), both keyed by (run_id, table_name).

:func:`replace_run` deletes what an earlier attempt of the same run recorded and inserts the new
verdict, inside the caller's transaction, so re-running a run id never duplicates rows. The tables
are created by ``sql/migrations/010_data_quality.sql``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from cryptoderiv.quality.policy import Severity
from cryptoderiv.quality.validation import RuleOutcome, SuiteRun, jsonable

log = logging.getLogger(__name__)

RESULT_COLUMNS = ("run_id", "table_name", "rule", "expectation_type", "suite_name", "suite_version", "dimension",
                  "severity", "success", "observed_value", "element_count", "unexpected_count",
                  "unexpected_percent", "rows_quarantined", "exception", "window_start", "window_end",
                  "checked_at", "data_docs_path")
QUARANTINE_COLUMNS = ("run_id", "table_name", "batch_row", "rule", "expectation_type", "reason", "observed_value",
                      "row_data", "quarantined_at")


@dataclass(frozen=True)
class QuarantinedRow:
    """One offending row and one hard rule it failed."""

    batch_row: int
    outcome: RuleOutcome
    observed: Any


def quarantine_plan(run: SuiteRun, frame: pd.DataFrame) -> list[QuarantinedRow]:
    """The (row, hard rule) pairs of ``run`` to quarantine, ordered by row then rule; each with what the
    rule saw on the row (its columns' values in ``frame``, the batch that was validated)."""
    plan: list[QuarantinedRow] = []
    for outcome in run.outcomes:
        if outcome.success or outcome.severity is not Severity.HARD or outcome.failed_rows is None:
            continue
        rows = outcome.failed_rows.tolist()
        columns = [c for c in rule_columns(outcome.rule.kwargs) if c in frame.columns]
        seen = frame.iloc[rows][columns].to_dict(orient="records") if columns else [None] * len(rows)
        plan += [QuarantinedRow(int(row), outcome, values) for row, values in zip(rows, seen, strict=True)]
    order = {o.name: i for i, o in enumerate(run.outcomes)}
    plan.sort(key=lambda item: (item.batch_row, order[item.outcome.name]))
    return plan


def rule_columns(kwargs: Mapping[str, Any]) -> list[str]:
    """The columns a rule looks at (``column``, ``column_A``/``column_B`` or ``column_list``)."""
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_A" in kwargs:
        return [kwargs["column_A"], kwargs["column_B"]]
    return list(kwargs.get("column_list", ()))


def replace_run(conn: psycopg.Connection, run_id: str, run: SuiteRun, frame: pd.DataFrame,
                plan: Sequence[QuarantinedRow], checked_at: datetime, docs_path: str | None) -> None:
    """Replace what ``dq_results`` and ``quarantine`` hold for (``run_id``, ``run.table``) by this verdict.

    Runs in the caller's transaction (or a savepoint of it); nothing is committed here.
    """
    per_rule: dict[str, int] = {}
    for item in plan:
        per_rule[item.outcome.name] = per_rule.get(item.outcome.name, 0) + 1
    window_start, window_end = run.window if run.window else (None, None)
    conn.execute("DELETE FROM dq_results WHERE run_id = %s AND table_name = %s", (run_id, run.table))
    conn.execute("DELETE FROM quarantine WHERE run_id = %s AND table_name = %s", (run_id, run.table))
    placeholders = ", ".join(["%s"] * len(RESULT_COLUMNS))
    with conn.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO dq_results ({', '.join(RESULT_COLUMNS)}) VALUES ({placeholders})",
            [(run_id, run.table, o.name, o.expectation_type, run.suite_name, run.suite_version, o.dimension.value,
              o.severity.value, o.success, _jsonb(o.observed_value), o.element_count, o.unexpected_count,
              o.unexpected_percent, per_rule.get(o.name, 0), o.exception,
              _py(window_start), _py(window_end), checked_at, docs_path)
             for o in run.outcomes])
    if plan:  # COPY: a bad batch can quarantine many rows
        rows = _row_records(frame, sorted({item.batch_row for item in plan}))
        with conn.cursor().copy(f"COPY quarantine ({', '.join(QUARANTINE_COLUMNS)}) FROM STDIN") as copy:
            for item in plan:
                copy.write_row((run_id, run.table, item.batch_row, item.outcome.name, item.outcome.expectation_type,
                                item.outcome.rule.rationale, _jsonb(item.observed), Jsonb(rows[item.batch_row]),
                                checked_at))
    log.info("%s run %s: %d results, %d quarantine rows recorded", run.table, run_id, len(run.outcomes), len(plan))


def _row_records(frame: pd.DataFrame, rows: list[int]) -> Mapping[int, Any]:
    records = frame.iloc[rows].to_dict(orient="records")
    return {row: jsonable(record) for row, record in zip(rows, records, strict=True)}


def _jsonb(value: Any) -> Jsonb | None:
    """``value`` as jsonb, or SQL NULL when there is none."""
    return None if value is None else Jsonb(jsonable(value))


def _py(value: Any) -> Any:
    return value.to_pydatetime() if isinstance(value, pd.Timestamp) else value


def load_results(conn: psycopg.Connection, run_id: str, table: str | None = None) -> pd.DataFrame:
    """``dq_results`` of ``run_id`` (optionally one table), ordered by table and rule."""
    query = f"SELECT {', '.join(RESULT_COLUMNS)} FROM dq_results WHERE run_id = %s"
    params: list[Any] = [run_id]
    if table is not None:
        query += " AND table_name = %s"
        params.append(table)
    rows = conn.execute(query + " ORDER BY table_name, rule", params).fetchall()
    return pd.DataFrame(rows, columns=list(RESULT_COLUMNS))


def load_quarantine(conn: psycopg.Connection, run_id: str, table: str | None = None) -> pd.DataFrame:
    """``quarantine`` rows of ``run_id`` (optionally one table), ordered by table, row and rule."""
    query = f"SELECT {', '.join(QUARANTINE_COLUMNS)} FROM quarantine WHERE run_id = %s"
    params: list[Any] = [run_id]
    if table is not None:
        query += " AND table_name = %s"
        params.append(table)
    rows = conn.execute(query + " ORDER BY table_name, batch_row, rule", params).fetchall()
    return pd.DataFrame(rows, columns=list(QUARANTINE_COLUMNS))


@dataclass(frozen=True)
class TableQuality:
    """How the batches of one table fared since a moment: what the demo and the reports print."""

    table: str
    batches: int
    checks_passed: int
    hard_failed: int  # hard rule verdicts that failed (their rows quarantined, or a batch rejected)
    soft_failed: int  # soft rule verdicts that failed (recorded and notified, rows published)
    rows_quarantined: int
    failed_rules: tuple[str, ...]
    latest_docs: str | None


def quality_since(conn: psycopg.Connection, since: datetime) -> list[TableQuality]:
    """Per table, the verdicts of every batch checked at or after ``since`` (UTC), and its latest Data Docs."""
    rows = conn.execute(
        """
        SELECT table_name,
               count(DISTINCT run_id),
               count(*) FILTER (WHERE success),
               count(*) FILTER (WHERE NOT success AND severity = 'hard'),
               count(*) FILTER (WHERE NOT success AND severity = 'soft'),
               (SELECT count(DISTINCT (q.run_id, q.batch_row)) FROM quarantine q
                 WHERE q.table_name = r.table_name AND q.quarantined_at >= %(since)s),
               coalesce(array_agg(DISTINCT rule) FILTER (WHERE NOT success), '{}'),
               (array_agg(data_docs_path ORDER BY checked_at DESC))[1]
          FROM dq_results r
         WHERE checked_at >= %(since)s
         GROUP BY table_name
         ORDER BY table_name
        """, {"since": since}).fetchall()
    return [TableQuality(t, b, p, h, s, q, tuple(sorted(rules)), docs) for t, b, p, h, s, q, rules, docs in rows]
