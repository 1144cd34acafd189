"""Heston calibration end to end: simulator chains ingested by the real pipeline into PostgreSQL, calibrated
by ``run_calibrations``, logged to a real MLflow store, and the ``models__calibrate_heston`` DAG via
``dag.test()``.

The simulator prices its options with a known Heston model (fixed kappa, theta, sigma, rho per asset; v0 is
the simulated variance at the snapshot), quotes bid/ask around it and rounds them to the venue tick, and the
calibration fits the mid of those quotes. Tolerances of the truth check (measured errors on this seed are
about a third of them): v0 and theta within 5 % relative, sigma within 10 %, kappa within 15 %, rho within
0.05 absolute.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from cryptoderiv.calibration import CalibrationConfig, run_calibrations

pytestmark = [pytest.mark.db, pytest.mark.slow]

DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"
TOLERANCE = {"v0": 0.05, "theta": 0.05, "sigma": 0.10, "kappa": 0.15}  # relative
RHO_TOLERANCE = 0.05  # absolute


def utc(ms: int) -> pd.Timestamp:
    return pd.Timestamp(ms, unit="ms", tz="UTC")


def window(ms: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A window holding the snapshot taken at ``ms`` (quote times are at or just before the clock)."""
    return utc(ms - 60_000), utc(ms + 60_000)


def table_checksum(database_url: str) -> str:
    with psycopg.connect(database_url) as conn:
        runs = conn.execute("SELECT run_id, status, message, n_quotes, metrics, input_fingerprint, mlflow_run_id,"
                            " started_at FROM model_runs ORDER BY run_id").fetchall()
        params = conn.execute("SELECT * FROM heston_params ORDER BY exchange, underlying, snapshot_ts").fetchall()
    return hashlib.sha256(repr((runs, params)).encode()).hexdigest()


def current(database_url: str, exchange: str, underlying: str) -> list[tuple]:
    with psycopg.connect(database_url, options="-c timezone=UTC") as conn:
        return conn.execute("SELECT snapshot_ts, run_id FROM heston_params_current WHERE exchange = %s"
                            " AND underlying = %s", (exchange, underlying)).fetchall()


def test_calibration_recovers_the_simulator_truth_and_is_tracked(
        snapshots, database_url: str, mlflow_store: str, clean_model_tables: Callable[[], None]) -> None:
    import mlflow

    clean_model_tables()
    first, second = snapshots.bybit_btc
    outcomes = run_calibrations(database_url, utc(first - 60_000), utc(second + 60_000), exchanges=["bybit"],
                                underlyings=["BTC"])
    assert [o.status for o in outcomes] == ["converged", "converged"], [o.message for o in outcomes]
    market = snapshots.sim.market
    truth = market.params.heston["BTC"]
    for outcome in outcomes:
        p = outcome.params
        assert p is not None
        t_ms = int(outcome.snapshot_ts.value // 1_000_000)
        expected = {"v0": market.variance("BTC", t_ms), "kappa": truth.kappa, "theta": truth.theta,
                    "sigma": truth.sigma}
        for name, tol in TOLERANCE.items():
            got = getattr(p, name)
            assert abs(got / expected[name] - 1) < tol, (name, got, expected[name])
        assert abs(p.rho - truth.rho) < RHO_TOLERANCE, (p.rho, truth.rho)
        m = outcome.metrics
        assert m["rmse_iv"] < 0.005 and m["within_spread"] > 0.9 and m["n_expiries"] >= 5
        assert m["wall_time_s"] < 5.0  # demo budget: a few seconds per underlying snapshot
        assert m["feller_ratio"] == pytest.approx(2 * p.kappa * p.theta / p.sigma**2)
    # the second snapshot is warm-started from the first and becomes the current parameters
    assert outcomes[0].warm_start_from is None and outcomes[1].warm_start_from == outcomes[0].snapshot_ts
    assert outcomes[1].metrics["iterations"] <= outcomes[0].metrics["iterations"]
    assert current(database_url, "bybit", "BTC") == [(outcomes[1].snapshot_ts.to_pydatetime(), outcomes[1].run_id)]

    # MLflow: one run per calibration, with params, metrics, status and one smile plot per expiry
    run = mlflow.get_run(outcomes[1].mlflow_run_id)
    assert run.info.status == "FINISHED" and run.data.tags["calibration_status"] == "converged"
    assert run.data.metrics["rho"] == pytest.approx(outcomes[1].params.rho)
    assert run.data.params["initial_source"] == "warm_start"
    assert run.data.params["config.liquidity.min_t"] == str(2 / 365)
    client = mlflow.MlflowClient()
    smiles = [f.path for f in client.list_artifacts(run.info.run_id, "smiles")]
    assert len(smiles) == int(outcomes[1].metrics["n_expiries"]) and all(s.endswith(".png") for s in smiles)
    local = Path(client.download_artifacts(run.info.run_id, smiles[0]))
    assert local.read_bytes()[:4] == b"\x89PNG"
    assert outcomes[1].mlflow_url == (f"http://mlflow.test:5000/#/experiments/{run.info.experiment_id}"
                                      f"/runs/{run.info.run_id}")

    # idempotent: the same window again reuses the stored runs and leaves the tables unchanged
    before = table_checksum(database_url)
    again = run_calibrations(database_url, utc(first - 60_000), utc(second + 60_000), exchanges=["bybit"],
                             underlyings=["BTC"])
    assert all(o.reused for o in again) and [o.params for o in again] == [o.params for o in outcomes]
    assert table_checksum(database_url) == before
    # forced: recalibrated into the same MLflow runs, with the same parameters
    forced = run_calibrations(database_url, utc(first - 60_000), utc(second + 60_000), exchanges=["bybit"],
                              underlyings=["BTC"], force=True)
    assert [o.mlflow_run_id for o in forced] == [o.mlflow_run_id for o in outcomes]
    assert [o.params for o in forced] == [o.params for o in outcomes]


def test_rejected_and_failed_fits_do_not_replace_the_current_parameters(
        snapshots, database_url: str, mlflow_store: str, clean_model_tables: Callable[[], None]) -> None:
    import mlflow

    clean_model_tables()
    first, second = snapshots.bybit_btc
    good = run_calibrations(database_url, *window(first), exchanges=["bybit"], underlyings=["BTC"])
    assert good[0].status == "converged" and good[0].is_current
    strict = CalibrationConfig(max_rmse_iv=1e-6)
    rejected = run_calibrations(database_url, *window(second), exchanges=["bybit"], underlyings=["BTC"],
                                config=strict)
    assert rejected[0].status == "rejected" and not rejected[0].is_current
    assert "RMSE in IV" in rejected[0].message and rejected[0].params is not None
    assert current(database_url, "bybit", "BTC") == [(good[0].snapshot_ts.to_pydatetime(), good[0].run_id)]
    assert mlflow.get_run(rejected[0].mlflow_run_id).data.tags["calibration_status"] == "rejected"

    failed = run_calibrations(database_url, *window(snapshots.deribit_eth), exchanges=["deribit"],
                              underlyings=["ETH"], config=CalibrationConfig(min_quotes=10_000))
    assert failed[0].status == "failed" and failed[0].params is None and "min_quotes" in failed[0].message
    assert mlflow.get_run(failed[0].mlflow_run_id).info.status == "FAILED"
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM heston_params WHERE run_id = %s",
                            (failed[0].run_id,)).fetchone() == (0,)
        assert conn.execute("SELECT status FROM model_runs WHERE run_id = %s",
                            (failed[0].run_id,)).fetchone() == ("failed",)

    # the same snapshot under the default rules converges and only then replaces the current parameters
    redo = run_calibrations(database_url, *window(second), exchanges=["bybit"], underlyings=["BTC"])
    assert redo[0].status == "converged" and redo[0].is_current and not redo[0].reused
    assert current(database_url, "bybit", "BTC") == [(redo[0].snapshot_ts.to_pydatetime(), redo[0].run_id)]


def test_inverse_deribit_chain_reports_premium_errors_in_coin(
        snapshots, database_url: str, mlflow_store: str, clean_model_tables: Callable[[], None]) -> None:
    clean_model_tables()
    [outcome] = run_calibrations(database_url, *window(snapshots.deribit_eth), exchanges=["deribit"],
                                 underlyings=["ETH"])
    assert outcome.status == "converged", outcome.message
    truth = snapshots.sim.market.params.heston["ETH"]
    assert abs(outcome.params.rho - truth.rho) < 0.1
    with psycopg.connect(database_url) as conn:
        currency, coin, usd = conn.execute("SELECT premium_currency, rmse_premium, rmse_premium_usd FROM heston_params"
                                           " WHERE run_id = %s", (outcome.run_id,)).fetchone()
    index = snapshots.sim.market.index_price("ETH", snapshots.deribit_eth)
    assert currency == "ETH" and 0 < coin < usd
    assert coin == pytest.approx(usd / index, rel=0.2)  # coin errors are USD errors over forwards near the index


def test_dag_calibrates_the_uncalibrated_snapshots(
        snapshots, airflow_env: Path, database_url: str, mlflow_store: str,
        clean_model_tables: Callable[[], None]) -> None:
    from airflow.dag_processing.dagbag import DagBag

    clean_model_tables()
    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("models__calibrate_heston")
    result = dag.test(logical_date=utc(snapshots.deribit_eth).to_pydatetime())
    assert result.state == "success", [(ti.task_id, ti.map_index, ti.state) for ti in result.get_task_instances()]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT exchange, underlying, status FROM model_runs ORDER BY 1, 2, snapshot_ts").fetchall()
    assert rows == [("bybit", "BTC", "converged"), ("bybit", "BTC", "converged"), ("deribit", "ETH", "converged")]
    before = table_checksum(database_url)
    result = dag.test(logical_date=(utc(snapshots.deribit_eth) + pd.Timedelta(minutes=5)).to_pydatetime())
    assert result.state == "success"
    assert table_checksum(database_url) == before  # nothing new to calibrate: the same rows
