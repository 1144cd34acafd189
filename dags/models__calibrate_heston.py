"""
### Heston calibration (tracked in MLflow)

Runs whenever `option_quotes` is updated. Per option venue (Deribit, Bybit) and underlying (BTC, ETH), and
per chain snapshot, calibrates the Heston model to the liquid out-of-the-money quotes (rules in
`docs/heston-calibration.md`), warm-started from the previous snapshot's good parameters
(`cryptoderiv.calibration.run_calibrations`). Each calibration is an MLflow run (experiment
`heston-calibration`: parameters, RMSE in IV and premium, share inside bid/ask, iterations, time, Feller
ratio, a smile-fit plot per expiry) and a row of `model_runs` / `heston_params`. A fit that does not
converge or is worse than the acceptance thresholds is stored as `failed` / `rejected` and never replaces
the current parameters (`heston_params_current`).

Window: the `window_start`/`window_end` extras of the triggering asset events when present, else the
snapshots not yet calibrated. Idempotent: a snapshot whose inputs are unchanged is not recalibrated.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import dag, task

from cryptoderiv.calibration.runner import run_calibrations, window_from_event_extras
from cryptoderiv.ingest.universe import UNDERLYINGS
from cryptoderiv_airflow.assets import HESTON_PARAMS, OPTION_QUOTES
from cryptoderiv_airflow.defaults import default_args
from cryptoderiv_airflow.hooks import platform_database_url


@dag(
    dag_id="models__calibrate_heston",
    schedule=[OPTION_QUOTES],
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["models", "heston", "mlflow"],
    doc_md=__doc__,
)
def models__calibrate_heston() -> None:
    @task(outlets=[HESTON_PARAMS], map_index_template="{{ underlying }}")
    def calibrate(underlying: str, **context: Any) -> list[dict[str, Any]]:
        extras = [event.extra for events in (context.get("triggering_asset_events") or {}).values()
                  for event in events]
        window = window_from_event_extras(extras) or (None, None)
        outcomes = run_calibrations(platform_database_url(), *window, underlyings=[underlying])
        if outcomes:
            context["outlet_events"][HESTON_PARAMS].extra = {
                "window_start": min(o.snapshot_ts for o in outcomes).isoformat(),
                "window_end": (max(o.snapshot_ts for o in outcomes) + pendulum.duration(microseconds=1)).isoformat(),
            }
        return [{"run_id": o.run_id, "status": o.status, "mlflow_url": o.mlflow_url} for o in outcomes]

    calibrate.expand(underlying=list(UNDERLYINGS))


models__calibrate_heston()
