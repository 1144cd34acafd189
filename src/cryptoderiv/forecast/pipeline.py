"""The forecast stage and the demo: champion models from the registry -> the ``forecasts`` table.

:func:`forecast_from_database` (DAG ``models__forecast``, daily) loads ``models:/<name>@champion`` of each
target, feeds it the recent history of every series from the database and upserts one row per series into
``forecasts``, with the model version that made it. Re-running a day gives the same rows.
:func:`run_forecasting_demo` is what ``make demo`` calls: a short training run with every model, the
registration and champion choice, then the forecast stage.

Only light imports at module level: DAG files import this module.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.forecast.data import TARGETS, SeriesSource, history_payload
from cryptoderiv.forecast.registry import ALIAS
from cryptoderiv.forecast.training import (
    DEFAULT_CONFIG,
    DEFAULT_SOURCES,
    DEMO_CONFIG,
    TrainingConfig,
    TrainingReport,
    load_training_series,
    resolve_config,
    train_from_database,
)

log = logging.getLogger(__name__)

LOOKBACK_PERIODS = 120   # enough history for every model (LSTM window + 30-period features)


@dataclass(frozen=True)
class ForecastRun:
    """What the forecast stage wrote: rows per target, the champion versions, targets skipped and why."""

    as_of: pd.Timestamp
    rows: int
    versions: dict[str, str]
    skipped: dict[str, str]
    frame: pd.DataFrame


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def forecast_from_database(database_url: str, as_of: Any, config: TrainingConfig | str = DEFAULT_CONFIG,
                           sources: Mapping[str, Sequence[SeriesSource]] = DEFAULT_SOURCES) -> ForecastRun:
    """Forecast every target with its champion from the history before ``as_of`` and upsert ``forecasts``.

    Parameters
    ----------
    database_url : str
        Platform database.
    as_of : datetime-like
        UTC time the forecasts are made at; only complete periods before it are used and each row's
        ``as_of`` is the end of the last period used.
    config : TrainingConfig or str
        Supplies the targets and the registered model names (or the name of a config).
    sources : mapping
        Series per target.

    Returns
    -------
    ForecastRun
        Targets without a champion or without enough history are skipped, with the reason.
    """
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from cryptoderiv.storage.writer import write_frame
    from cryptoderiv.tracking import configure_mlflow

    config = resolve_config(config)
    configure_mlflow(config.experiment)
    client = MlflowClient()
    as_of_ts = _utc(as_of)
    start = as_of_ts - pd.Timedelta(days=LOOKBACK_PERIODS + 2)
    rows: list[pd.DataFrame] = []
    versions: dict[str, str] = {}
    skipped: dict[str, str] = {}
    with psycopg.connect(database_url, options="-c timezone=UTC") as conn:
        series = load_training_series(conn, as_of_ts, config.targets, sources)
        for target in config.targets:
            spec = TARGETS[target]
            name = config.model_name(target)
            try:
                mv = client.get_model_version_by_alias(name, ALIAS)
            except MlflowException:
                skipped[target] = f"no {ALIAS} version of {name} registered"
                log.warning("%s: %s", target, skipped[target])
                continue
            frames = {k: f.loc[f.index >= start] for k, f in series.get(target, {}).items()}
            frames = {k: f for k, f in frames.items() if len(f) >= 2}
            if not frames:
                skipped[target] = "no history in the database"
                continue
            model = mlflow.pyfunc.load_model(f"models:/{name}@{ALIAS}")
            out = model.predict(history_payload(frames))
            period = next(s.period for s in sources[target])
            out = out[np.isfinite(out["forecast"].to_numpy(dtype=np.float64))]
            if out.empty:
                skipped[target] = "the champion produced no finite forecast (history too short)"
                continue
            exchange_symbol = out["series"].str.split(":", n=1, expand=True)
            value = out["forecast"].to_numpy(dtype=np.float64)
            rows.append(pd.DataFrame({
                "exchange": exchange_symbol[0], "symbol": exchange_symbol[1], "target": target,
                "horizon": spec.horizon, "period": period,
                "as_of": pd.to_datetime(out["ts"], utc=True) + pd.Timedelta(period),
                "value": value, "unit": spec.unit,
                "vol_annualised": np.sqrt(np.clip(value, 0, None) * 365) if spec.kind == "variance" else np.nan,
                "model_name": name, "model_version": str(mv.version), "model_kind": mv.tags.get("model_kind", ""),
                "mlflow_run_id": mv.run_id,
            }))
            versions[target] = str(mv.version)
        frame = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
        if not frame.empty:
            frame["horizon"] = frame["horizon"].astype(np.int32)
            write_frame(conn, "forecasts", frame)
            conn.commit()
    log.info("forecasts as of %s: %d rows, champions %s, skipped %s", as_of_ts, len(frame), versions, skipped)
    return ForecastRun(as_of_ts, len(frame), versions, skipped, frame)


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_forecasting_demo` did: the training report, the forecasts, printable text."""

    training: TrainingReport
    forecasts: ForecastRun

    def table(self) -> pd.DataFrame:
        return self.training.table()

    def summary(self) -> str:
        """The evaluation table, the champion decisions and the MLflow links, as text."""
        lines = []
        table = self.table()
        if not table.empty:
            cols = [c for c in ("target", "series", "model", "n", "qlike", "mse", "r2_vs_no_change", "dm_stat",
                                "dm_p_value") if c in table]
            lines.append(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        for o in self.training.outcomes:
            lines.append(f"{o.model_name}: champion v{o.champion_version} ({o.decision.winner_kind}):"
                         f" {o.decision.reason}")
        lines += [f"{target}: not trained: {reason}" for target, reason in self.training.skipped.items()]
        lines += [f"{target}: no forecast: {reason}" for target, reason in self.forecasts.skipped.items()]
        lines.append(f"forecasts written: {self.forecasts.rows} rows as of {self.forecasts.as_of}")
        lines += [f"MLflow {k}: {v}" for k, v in self.training.urls.items()]
        return "\n".join(lines)


def run_forecasting_demo(database_url: str, as_of: Any, config: TrainingConfig = DEMO_CONFIG,
                         sources: Mapping[str, Sequence[SeriesSource]] = DEFAULT_SOURCES) -> DemoResult:
    """Short training run with every model, registration, champion choice, then the forecast stage.

    Needs daily history in the database (``ohlcv`` candles of the sources, ``funding_rates``); with
    :data:`DEMO_CONFIG`, about 110 days (30 evaluated, 7 for the weekly target, 70 of training before
    them). Targets whose series are shorter are skipped and say so; :func:`ingest_demo_history` loads that
    history from the exchange simulator.
    """
    training = train_from_database(database_url, as_of, config, sources)
    forecasts = forecast_from_database(database_url, as_of, config, sources)
    return DemoResult(training, forecasts)


def ingest_demo_history(database_url: str, end: Any, days: int = 120, simulator_url: str | None = None,
                        sources: Mapping[str, Sequence[SeriesSource]] = DEFAULT_SOURCES) -> dict[str, int]:
    """Load ``days`` of hourly candles and funding before ``end`` for the demo sources (simulator by default).

    Uses the ingestion pipelines (CCXT against the configured exchange source); the instrument catalog
    must be loaded first. Returns rows fetched per dataset and series.
    """
    from cryptoderiv.ingest import pipelines

    end_ts = _utc(end).floor("1D")
    start = end_ts - pd.Timedelta(days=days)
    client: dict[str, Any] = {"simulator_url": simulator_url} if simulator_url else {}
    done: dict[str, int] = {}
    seen: set[SeriesSource] = set()
    for source in (s for group in sources.values() for s in group):
        if source in seen:
            continue
        seen.add(source)
        if source.target_kind == "variance":
            summary = pipelines.ingest_ohlcv(database_url, source.exchange, source.symbol, source.timeframe, start,
                                             end_ts, "forecast_demo_history", **client)
            done[f"ohlcv {source.key}"] = summary.rows_fetched
        else:
            summary = pipelines.ingest_funding(database_url, source.exchange, source.symbol, start, end_ts,
                                               "forecast_demo_history", **client)
            done[f"funding {source.key}"] = summary.rows_fetched
    return done
