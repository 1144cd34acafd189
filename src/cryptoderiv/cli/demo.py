"""``cryptoderiv demo``: run the main job once and print where to look."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from cryptoderiv.config import get_settings
from cryptoderiv.demo import run_demo


def demo() -> None:
    """Run the whole pipeline once on the embedded defaults and print a summary."""
    console = Console(width=None if sys.stdout.isatty() else 160)  # piped: wide enough for the tables
    with console.status("starting") as status:
        summary = run_demo(progress=lambda step: status.update(step))
    console.print("[bold]Airflow DAG runs[/bold] (metadata in .local/airflow)")
    for run in summary.dag_runs:
        console.print(f"  {run.dag_id}: {run.state}, run id {run.run_id}", soft_wrap=True)
        console.print(f"    log: {run.log_file}", soft_wrap=True)
    table = Table(title="cryptoderiv demo: market tables")
    for column in ("table", "rows", "first ts (UTC)", "last ts (UTC)"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for row in summary.tables:
        table.add_row(row.table, f"{row.rows:,}", _when(row.first_ts), _when(row.last_ts))
    console.print(table)
    quality = Table(title="data quality of this run (every batch went through its gate)")
    for column in ("table", "batches", "checks passed", "hard failed", "soft failed", "rows quarantined",
                   "rules that failed"):
        quality.add_column(column, justify="left" if column in ("table", "rules that failed") else "right")
    for q in summary.quality:
        quality.add_row(q.table, str(q.batches), str(q.checks_passed), str(q.hard_failed), str(q.soft_failed),
                        str(q.rows_quarantined), ", ".join(r.split(".", 1)[1] for r in q.failed_rules) or "-")
    console.print(quality)
    for q in summary.quality:
        if q.latest_docs:
            console.print(f"  Data Docs ({q.table}): {q.latest_docs}", soft_wrap=True)
    if summary.risk is not None:
        risk = Table(title=f"risk of portfolio {summary.risk.portfolio} on {summary.risk.as_of} (USD, loss > 0)")
        for column in ("method", "horizon (days)", "level", "VaR", "ES"):
            risk.add_column(column, justify="left" if column == "method" else "right")
        for f in summary.risk.figures:
            risk.add_row(f.method, str(f.horizon_days), f"{f.level:.0%}", f"{f.var_usd:,.0f}", f"{f.es_usd:,.0f}")
        console.print(risk)
        for note in summary.risk.notes:
            console.print(f"  note: {note}", soft_wrap=True)
    if summary.evaluation is not None and not summary.evaluation.empty:
        console.print("[bold]forecasters: walk-forward evaluation[/bold] (table forecast_evaluations)")
        console.print(summary.evaluation.to_string(index=False, max_rows=60), soft_wrap=True)
    if summary.backtests:
        console.print(summary.backtests, soft_wrap=True)
    if summary.stream is not None:
        s = summary.stream
        console.print(f"streaming sidecar (15 s): ticks {s.ticks_received:,} received / {s.ticks_written:,} written,"
                      f" trades {s.trades_received:,} / {s.trades_written:,}, reconnects {s.reconnects}")
    settings = get_settings()
    console.print("Where to look:")
    console.print(f"  MLflow: mlflow ui --backend-store-uri {summary.mlflow_uri} (or make up), then:", soft_wrap=True)
    for link in summary.mlflow_runs or []:
        console.print(f"    {link}", soft_wrap=True)
    for kind, path in (summary.report or {}).items():
        console.print(f"  daily report ({kind}): {path}", soft_wrap=True)
    if summary.mail_dir:
        console.print(f"  e-mails received by the mail catcher (.eml): {summary.mail_dir}", soft_wrap=True)
    for shot in summary.screenshots or []:
        console.print(f"  dashboard screenshot: {shot}", soft_wrap=True)
    console.print(f"  raw landing (Parquet): {settings.local_dir / 'landing'}", soft_wrap=True)
    console.print(f"  Airflow logs: {settings.local_dir / 'airflow' / 'logs'}", soft_wrap=True)
    console.print("  database: `cryptoderiv db url` (psql), schema status `cryptoderiv db status`")


def _when(ts: object) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if hasattr(ts, "strftime") else "-"
