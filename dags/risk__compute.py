"""
### Daily risk

Once a day, after the hour's market data: for every portfolio in `positions`, as of the end of the UTC day
before the run (the data interval's day), portfolio greeks (`position_greeks`), VaR/ES by historical
simulation with full revaluation, filtered HS, Monte Carlo under Heston and the parametric comparison, 1 and
10 days at 95/99 % (`risk_metrics`), the stress grid, time decay, funding shocks and historical crash days
(`stress_results`), the expected-return decomposition (`expected_returns`) and payoff curves
(`payoff_curves`); then the VaR models backtested on the stored BTC/ETH daily history (`var_backtests`).
Each (portfolio, date) is replaced in one transaction: re-running a date gives the same rows.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task

from cryptoderiv_airflow.assets import (
    EXPECTED_RETURNS,
    PAYOFF_CURVES,
    POSITION_GREEKS,
    RISK_METRICS,
    STRESS_RESULTS,
    VAR_BACKTESTS,
)
from cryptoderiv_airflow.defaults import default_args, interval_schedule
from cryptoderiv_airflow.hooks import platform_database_url


@dag(
    dag_id="risk__compute",
    schedule=interval_schedule("30 0 * * *"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["risk"],
    doc_md=__doc__,
)
def risk__compute() -> None:
    @task(outlets=[POSITION_GREEKS, RISK_METRICS, STRESS_RESULTS, EXPECTED_RETURNS, PAYOFF_CURVES])
    def compute_portfolio_risk(**context: object) -> dict[str, int]:
        from cryptoderiv.risk.jobs import compute_risk_all

        as_of = context["data_interval_start"].date()  # type: ignore[attr-defined]
        runs = compute_risk_all(platform_database_url(), as_of)
        return {run.portfolio: sum(run.rows.values()) for run in runs}

    @task(outlets=[VAR_BACKTESTS])
    def backtest_var_models(**context: object) -> int:
        from cryptoderiv.risk.jobs import backtest_spot_models

        return backtest_spot_models(platform_database_url(), context["data_interval_start"].date())  # type: ignore[attr-defined]

    compute_portfolio_risk() >> backtest_var_models()


risk__compute()
