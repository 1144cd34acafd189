"""Data quality of the report date (``dq_results``, ``quarantine``): checks passed, failed and rows
quarantined per table, and the rules that failed."""

from __future__ import annotations

from datetime import date

import psycopg

from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Section, Table, Tone
from cryptoderiv.reports.sources import day_window, fetch_dicts, table_exists

MAX_FAILED_RULES = 15

SUMMARY_QUERY = """
WITH checks AS (
    SELECT table_name,
           count(DISTINCT run_id)                                  AS batches,
           count(*)                                                AS checks,
           count(*) FILTER (WHERE success)                         AS passed,
           count(*) FILTER (WHERE NOT success AND severity = 'hard') AS failed_hard,
           count(*) FILTER (WHERE NOT success AND severity = 'soft') AS failed_soft,
           max(checked_at)                                         AS last_checked_at
    FROM dq_results
    WHERE checked_at >= %s AND checked_at < %s
    GROUP BY table_name
), quarantined AS (
    SELECT table_name, count(DISTINCT (run_id, batch_row)) AS rows_quarantined
    FROM quarantine
    WHERE quarantined_at >= %s AND quarantined_at < %s
    GROUP BY table_name
)
SELECT COALESCE(c.table_name, q.table_name) AS table_name, COALESCE(c.batches, 0) AS batches,
       COALESCE(c.checks, 0) AS checks, COALESCE(c.passed, 0) AS passed,
       COALESCE(c.failed_hard, 0) AS failed_hard, COALESCE(c.failed_soft, 0) AS failed_soft,
       COALESCE(q.rows_quarantined, 0) AS rows_quarantined, c.last_checked_at
FROM checks c FULL JOIN quarantined q USING (table_name)
ORDER BY 1
"""

FAILED_QUERY = """
SELECT table_name, rule, severity, count(*) AS batches_failed, sum(unexpected_count) AS unexpected,
       sum(rows_quarantined) AS rows_quarantined
FROM dq_results
WHERE checked_at >= %s AND checked_at < %s AND NOT success
GROUP BY table_name, rule, severity
ORDER BY severity, sum(rows_quarantined) DESC, table_name, rule
LIMIT %s
"""


def quality_section(conn: psycopg.Connection, report_date: date) -> Section:
    """Per table, over the report date (UTC): gated batches, expectation results passed / failed (hard
    and soft), and distinct rows quarantined; then the failing rules."""
    title = "Data quality"
    if not table_exists(conn, "dq_results"):
        return Section("quality", title, ("No data-quality results yet: the quality tables are not deployed.",))
    start, end = day_window(report_date)
    summary = fetch_dicts(conn, SUMMARY_QUERY, (start, end, start, end))
    if not summary:
        return Section("quality", title, (f"No data-quality checks ran on {report_date.isoformat()} (UTC).",))
    rows, tones = [], []
    for r in summary:
        rows.append((r["table_name"], f"{r['batches']:,}", f"{r['checks']:,}", f"{r['passed']:,}",
                     f"{r['failed_hard']:,}", f"{r['failed_soft']:,}", f"{r['rows_quarantined']:,}",
                     fmt.timestamp(r["last_checked_at"])))
        hard: Tone = "bad" if r["failed_hard"] else None
        soft: Tone = "warn" if r["failed_soft"] else None
        quarantined: Tone = "bad" if r["rows_quarantined"] else None
        tones.append((None, None, None, "good" if r["passed"] == r["checks"] and r["checks"] else None,
                      hard, soft, quarantined, None))
    tables = [Table(("Table", "Batches", "Checks", "Passed", "Failed (hard)", "Failed (soft)", "Rows quarantined",
                     "Last check"), tuple(rows), (False,) + (True,) * 6 + (False,), tuple(tones),
                    caption=f"Checks on {report_date.isoformat()} (UTC)")]
    failed = fetch_dicts(conn, FAILED_QUERY, (start, end, MAX_FAILED_RULES))
    if failed:
        tables.append(Table(("Table", "Rule", "Severity", "Batches failed", "Unexpected", "Rows quarantined"),
                            tuple((f["table_name"], f["rule"], f["severity"], f"{f['batches_failed']:,}",
                                   f"{int(f['unexpected'] or 0):,}", f"{int(f['rows_quarantined'] or 0):,}")
                                  for f in failed),
                            (False, False, False, True, True, True),
                            tuple(("bad" if f["severity"] == "hard" else "warn",) + (None,) * 5 for f in failed),
                            caption=f"Failing rules (up to {MAX_FAILED_RULES})"))
    n_quarantined = sum(r["rows_quarantined"] for r in summary)
    n_failed = sum(r["failed_hard"] + r["failed_soft"] for r in summary)
    notes = (f"{sum(r['checks'] for r in summary):,} expectation results over {len(summary)} tables: "
             f"{n_failed:,} failed, {n_quarantined:,} rows quarantined. Hard failures keep rows out of the "
             "published tables; soft ones are recorded only.",)
    return Section("quality", title, notes, tuple(tables))
