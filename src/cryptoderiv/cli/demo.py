"""``cryptoderiv demo``: run the main job once and print where to look."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from cryptoderiv.config import get_settings
from cryptoderiv.demo import run_demo


def demo() -> None:
    """Run the whole pipeline once on the embedded defaults and print a summary."""
    console = Console()
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
    settings = get_settings()
    console.print("Where to look:")
    console.print(f"  raw landing (Parquet): {settings.local_dir / 'landing'}", soft_wrap=True)
    console.print(f"  Airflow logs: {settings.local_dir / 'airflow' / 'logs'}", soft_wrap=True)
    console.print("  database: `cryptoderiv db url` (psql), schema status `cryptoderiv db status`")


def _when(ts: object) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if hasattr(ts, "strftime") else "-"
