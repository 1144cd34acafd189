"""
### Daily risk report

Runs when the risk stage (`risk__compute`) has updated `risk_metrics`: the risk report of the portfolio
(`REPORT_PORTFOLIO`) for the UTC calendar date the risk stage computed (the event's `as_of`, else the day
before the event). A manual run can name the date: `{"report_date": "2026-11-22"}`.
VaR/ES and their backtests, portfolio greeks, the stress
grid heatmap, expected return per position, the latest surface (smile per expiry) and ATM term
structure, forecasts against realised volatility, the data-quality summary and the model status.

1. `build_report` reads every section from the platform database, renders the charts (PNG), the HTML
   e-mail, its text alternative and a PDF, and writes them under `REPORTS_DIR/<date>/` (re-running a date
   rewrites the same files). Only the file paths go to XCom.
2. `send_report` sends the saved e-mail (HTML with inline charts, PDF attached) to `REPORT_RECIPIENTS`
   through the `smtp_default` connection.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import Param, dag, task

from cryptoderiv_airflow.assets import RISK_METRICS
from cryptoderiv_airflow.defaults import default_args


@dag(
    dag_id="risk__daily_report",
    schedule=[RISK_METRICS],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={"report_date": Param(None, type=["null", "string"], format="date",
                                 description="UTC date to report on (default: from the triggering risk run).")},
    default_args=default_args(),
    tags=["risk", "reports"],
    doc_md=__doc__,
)
def risk__daily_report() -> None:
    @task
    def build_report(**context: Any) -> dict[str, str]:
        from cryptoderiv.reports.daily import build_daily_report
        from cryptoderiv_airflow.hooks import platform_database_url
        from cryptoderiv_airflow.reporting import report_date_for_run

        return build_daily_report(platform_database_url(), report_date_for_run(context)).as_xcom()

    @task
    def send_report(files: dict[str, str]) -> list[str]:
        from cryptoderiv_airflow.reporting import send_message_file

        return send_message_file(files["message"])

    send_report(build_report())


risk__daily_report()
