"""Train, evaluate, register and choose the champion of every forecasting model, tracked in MLflow.

:func:`train_forecasters` runs, per target, the walk-forward evaluation of every model kind on the last
``test_periods`` periods of each series, logs one MLflow run per model kind (parameters, metrics per
series and fold, a forecast-vs-realised plot, the model fitted on all the data as a pyfunc bundle with
its signature), registers each as a version of ``<model_prefix>-<target>`` and applies the
champion/challenger rule (:mod:`cryptoderiv.forecast.registry`). :func:`train_from_database` reads the
series from the platform database and also stores the evaluations in ``forecast_evaluations``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.errors import CryptoderivError
from cryptoderiv.forecast.baselines import FitError, Forecaster
from cryptoderiv.forecast.data import TARGETS, SeriesSource, TargetSpec, load_series
from cryptoderiv.forecast.registry import ALIAS, ChampionDecision, decide
from cryptoderiv.forecast.walkforward import (
    MODEL_KINDS,
    WalkForwardResult,
    comparison_table,
    fold_table,
    kinds_for,
    losses,
    make_forecaster,
    walk_forward,
)

log = logging.getLogger(__name__)

LSTM_DEFAULTS: dict[str, Any] = {"window": 30, "units": 16, "layers": 1, "epochs": 30, "batch_size": 64,
                                 "patience": 5}


@dataclass(frozen=True)
class TrainingConfig:
    """What a training run does.

    Attributes
    ----------
    targets : tuple of str
        Keys of :data:`cryptoderiv.forecast.data.TARGETS`.
    kinds : tuple of str
        Model kinds (GARCH is skipped for level targets).
    test_periods : int
        Length of the evaluation window (last periods of each series) the rule judges on.
    refit_every : int
        Periods per walk-forward fold.
    min_train_periods : int
        Series with fewer periods before the evaluation window are skipped.
    lstm : dict
        LSTM hyperparameters (:class:`cryptoderiv.forecast.lstm.LSTMForecaster`).
    random_state : int
        Seed of every estimator.
    experiment, model_prefix : str
        MLflow experiment; registered models are ``<model_prefix>-<target>``.
    alpha : float
        Significance level of the champion rule's one-sided DM test.
    """

    targets: tuple[str, ...] = ("rv_1d", "rv_7d", "funding_1d")
    kinds: tuple[str, ...] = MODEL_KINDS
    test_periods: int = 365
    refit_every: int = 30
    min_train_periods: int = 120
    lstm: Mapping[str, Any] = field(default_factory=lambda: dict(LSTM_DEFAULTS))
    random_state: int = 0
    experiment: str = "forecasting"
    model_prefix: str = "cryptoderiv-forecast"
    alpha: float = 0.05

    def __post_init__(self) -> None:
        unknown = [t for t in self.targets if t not in TARGETS]
        if unknown:
            raise CryptoderivError(f"unknown forecast target(s) {unknown}; known: {sorted(TARGETS)}")
        bad = [k for k in self.kinds if k not in MODEL_KINDS]
        if bad:
            raise CryptoderivError(f"unknown model kind(s) {bad}; known: {MODEL_KINDS}")
        if "no_change" not in self.kinds:
            raise CryptoderivError("the no-change baseline is required (R^2 is measured against it)")

    def model_name(self, target: str) -> str:
        return f"{self.model_prefix}-{target}"


DEFAULT_CONFIG = TrainingConfig()
# The LSTM needs 29 periods of feature history + its 10-row window + the horizon + 20 training windows
# before the evaluation window: 70 periods of training, so about 110 days of history in all.
DEMO_CONFIG = TrainingConfig(test_periods=30, refit_every=10, min_train_periods=70,
                             lstm={"window": 10, "units": 8, "layers": 1, "epochs": 8, "batch_size": 32,
                                   "patience": 3})

CONFIGS: dict[str, TrainingConfig] = {"default": DEFAULT_CONFIG, "demo": DEMO_CONFIG}


def resolve_config(config: TrainingConfig | str) -> TrainingConfig:
    """A config, or the name of one of :data:`CONFIGS` (``default``, ``demo``)."""
    if isinstance(config, TrainingConfig):
        return config
    if config not in CONFIGS:
        raise CryptoderivError(f"unknown training config {config!r}; known: {sorted(CONFIGS)}")
    return CONFIGS[config]


DEFAULT_SOURCES: dict[str, tuple[SeriesSource, ...]] = {
    "rv_1d": (SeriesSource("binance", "BTC/USDT"), SeriesSource("binance", "ETH/USDT")),
    "rv_7d": (SeriesSource("binance", "BTC/USDT"), SeriesSource("binance", "ETH/USDT")),
    "funding_1d": (SeriesSource("binance", "BTC/USDT:USDT", "level"),
                   SeriesSource("binance", "ETH/USDT:USDT", "level")),
}


@dataclass(frozen=True)
class TargetOutcome:
    """What happened to one target: the evaluation table, the registered versions and the decision."""

    target: str
    model_name: str
    table: pd.DataFrame                  # rows (series, model): n, qlike, mse, mae, r2_vs_no_change, dm_*
    versions: dict[str, str]             # model kind -> registered version
    run_ids: dict[str, str]              # model kind -> MLflow run id
    decision: ChampionDecision
    champion_version: str


@dataclass(frozen=True)
class TrainingReport:
    """Result of :func:`train_forecasters`."""

    parent_run_id: str
    experiment_id: str
    outcomes: tuple[TargetOutcome, ...]
    skipped: dict[str, str]              # target -> reason
    urls: dict[str, str]                 # "parent" / "<target>/<kind>" -> MLflow UI link

    def table(self) -> pd.DataFrame:
        """All evaluation rows: target, series, model and metrics."""
        if not self.outcomes:
            return pd.DataFrame()
        return pd.concat([o.table.assign(target=o.target) for o in self.outcomes]).reset_index()


def _tag(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key)


def _plot(kind: str, spec: TargetSpec, results: Mapping[str, WalkForwardResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 1, figsize=(10, 3 * len(results)), squeeze=False)
    for ax, (key, res) in zip(axes[:, 0], results.items(), strict=True):
        f = res.forecasts
        scale = (lambda v: np.sqrt(np.clip(v, 0, None) * 365)) if spec.kind == "variance" else (lambda v: v)
        ax.plot(f.index, scale(f["realized"].to_numpy()), lw=0.8, color="0.5", label="realised")
        ax.plot(f.index, scale(f["forecast"].to_numpy()), lw=1.2, label=f"{kind} forecast")
        ax.set_title(f"{key} {spec.name}")
        ax.set_ylabel("annualised vol" if spec.kind == "variance" else spec.unit)
        ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _current_champion(client: Any, name: str) -> tuple[str | None, str | None]:
    """(kind, version) of the champion alias of ``name``; (None, None) when there is none."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, ALIAS)
    except MlflowException:
        return None, None
    return mv.tags.get("model_kind"), str(mv.version)


def _factory(kind: str, spec: TargetSpec, params: Mapping[str, Any], random_state: int) -> Callable[[], Forecaster]:
    return lambda: make_forecaster(kind, spec, params, random_state)


def _evaluate_target(spec: TargetSpec, frames: Mapping[str, pd.DataFrame], config: TrainingConfig
                     ) -> dict[str, dict[str, WalkForwardResult]]:
    """Walk-forward results per series and model kind."""
    out: dict[str, dict[str, WalkForwardResult]] = {}
    for key, frame in frames.items():
        test_start = frame.index[-config.test_periods - spec.horizon]
        per_kind: dict[str, WalkForwardResult] = {}
        for kind in kinds_for(spec, config.kinds):
            params = dict(config.lstm) if kind == "lstm" else {}
            per_kind[kind] = walk_forward(
                frame, _factory(kind, spec, params, config.random_state), spec.horizon,
                test_start, config.refit_every, name=f"{key} {kind}")
        out[key] = per_kind
    return out


def train_forecasters(series: Mapping[str, Mapping[str, pd.DataFrame]], trained_at: pd.Timestamp,
                      config: TrainingConfig = DEFAULT_CONFIG, conn: psycopg.Connection | None = None
                      ) -> TrainingReport:
    """Evaluate, log, register every model and move the champion alias by the rule.

    Parameters
    ----------
    series : mapping
        ``{target: {series key (exchange:symbol): series frame}}``.
    trained_at : pandas.Timestamp
        UTC as-of time of the data (recorded with the run and the evaluations).
    config : TrainingConfig
    conn : psycopg.Connection, optional
        When given, the evaluations are upserted into ``forecast_evaluations`` (committed).

    Returns
    -------
    TrainingReport
    """
    import mlflow
    from mlflow import MlflowClient

    from cryptoderiv.forecast.mlflow_model import log_bundle
    from cryptoderiv.tracking import configure_mlflow, run_url

    experiment_id = configure_mlflow(config.experiment)
    client = MlflowClient()
    trained_at = pd.Timestamp(trained_at)
    outcomes: list[TargetOutcome] = []
    skipped: dict[str, str] = {}
    urls: dict[str, str] = {}
    eval_rows: list[pd.DataFrame] = []
    with mlflow.start_run(run_name=f"train_forecasters {trained_at:%Y-%m-%dT%H:%MZ}") as parent, \
            tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({k: v for k, v in asdict(config).items() if k != "lstm"})
        mlflow.log_params({f"lstm.{k}": v for k, v in config.lstm.items()})
        mlflow.set_tag("trained_at", trained_at.isoformat())
        urls["parent"] = run_url(parent.info.run_id, experiment_id)
        for target in config.targets:
            spec = TARGETS[target]
            need = config.test_periods + spec.horizon + config.min_train_periods
            frames = {k: f for k, f in series.get(target, {}).items() if len(f) >= need}
            short = sorted(set(series.get(target, {})) - set(frames))
            if short:
                log.warning("%s: skipping series %s with fewer than %d periods", target, short, need)
            if not frames:
                skipped[target] = f"no series with at least {need} periods"
                mlflow.set_tag(f"skipped.{target}", skipped[target])
                continue
            try:
                results = _evaluate_target(spec, frames, config)
            except FitError as exc:
                skipped[target] = f"evaluation failed: {exc}"
                mlflow.set_tag(f"skipped.{target}", skipped[target][:5000])
                log.warning("%s: %s", target, skipped[target])
                continue
            outcome, rows = _log_target(spec, frames, results, config, client, trained_at, Path(tmp), log_bundle,
                                        experiment_id, urls)
            outcomes.append(outcome)
            eval_rows.append(rows)
            mlflow.set_tags({f"champion.{target}.decision": "promoted" if outcome.decision.promoted else "kept",
                             f"champion.{target}.kind": outcome.decision.winner_kind,
                             f"champion.{target}.version": outcome.champion_version,
                             f"champion.{target}.reason": outcome.decision.reason[:5000]})
        report = TrainingReport(parent.info.run_id, experiment_id, tuple(outcomes), skipped, urls)
    if conn is not None and eval_rows:
        from cryptoderiv.storage.writer import write_frame

        frame = pd.concat(eval_rows, ignore_index=True)
        metric_columns = ["qlike", "mse", "mae", "r2_vs_no_change", "dm_stat", "dm_p_value"]
        frame[metric_columns] = frame[metric_columns].astype(np.float64)  # None (metric n/a) -> NaN -> NULL
        frame[["fold", "n"]] = frame[["fold", "n"]].astype(np.int32)
        write_frame(conn, "forecast_evaluations", frame)
        conn.commit()
    return report


def _log_target(spec: TargetSpec, frames: Mapping[str, pd.DataFrame],
                results: Mapping[str, Mapping[str, WalkForwardResult]], config: TrainingConfig, client: Any,
                trained_at: pd.Timestamp, tmp: Path, log_bundle: Any, experiment_id: str,
                urls: dict[str, str]) -> tuple[TargetOutcome, pd.DataFrame]:
    import mlflow

    from cryptoderiv.tracking import run_url

    name = config.model_name(spec.name)
    kinds = list(next(iter(results.values())))
    tables = {key: comparison_table(spec, per_kind) for key, per_kind in results.items()}
    folds = {key: fold_table(spec, per_kind) for key, per_kind in results.items()}
    # Pooled per-row losses over every series, on the rows every model forecast (for the rule).
    pooled: dict[str, list[np.ndarray]] = {k: [] for k in kinds}
    for per_kind in results.values():
        common = None
        for r in per_kind.values():
            ok = r.forecasts[np.isfinite(r.forecasts["forecast"])].index
            common = ok if common is None else common.intersection(ok)
        for k, r in per_kind.items():
            f = r.forecasts.loc[common]
            pooled[k].append(losses(spec, f["realized"].to_numpy(), f["forecast"].to_numpy()))
    pooled_losses = {k: np.concatenate(v) for k, v in pooled.items()}
    champion_kind, champion_version = _current_champion(client, name)
    decision = decide(pooled_losses, champion_kind, spec.horizon, config.alpha)

    versions: dict[str, str] = {}
    run_ids: dict[str, str] = {}
    eval_rows: list[dict[str, Any]] = []
    history = {key: frame.iloc[-120:] for key, frame in frames.items()}
    from cryptoderiv.forecast.data import history_payload

    payload = history_payload(history)
    for kind in kinds:
        with mlflow.start_run(run_name=f"{spec.name} {kind}", nested=True) as run:
            estimator = make_forecaster(kind, spec, dict(config.lstm) if kind == "lstm" else {}, config.random_state)
            mlflow.log_params({"model_kind": kind, "target": spec.name, "horizon": spec.horizon, "unit": spec.unit,
                               "refit_every": config.refit_every, "test_periods": config.test_periods,
                               "series": ",".join(frames),
                               **{f"hp.{k}": v for k, v in estimator.get_params().items()}})
            for key in frames:
                tag = _tag(key)
                mlflow.log_param(f"{tag}.periods", len(frames[key]))
                for _, row in folds[key][folds[key]["model"] == kind].iterrows():
                    for metric in ("qlike", "mse", "mae", "r2_vs_no_change", "dm_stat", "dm_p_value"):
                        if metric in row and np.isfinite(row[metric]):
                            mlflow.log_metric(f"{tag}.fold.{metric}", float(row[metric]), step=int(row["fold"]))
                    eval_rows.append(_eval_row(trained_at, spec.name, key, kind, name, int(row["fold"]),
                                               {str(k): v for k, v in row.items()}, run.info.run_id))
                overall_map = {str(m): float(v) for m, v in tables[key].loc[kind].to_dict().items()}
                mlflow.log_metrics({f"{tag}.{m}": v for m, v in overall_map.items() if np.isfinite(v)})
                window = results[key][kind].forecasts.index
                eval_rows.append(_eval_row(trained_at, spec.name, key, kind, name, -1,
                                           overall_map | {"window_start": window.min(), "window_end": window.max()},
                                           run.info.run_id))
            mlflow.log_metric("pooled_loss", float(np.mean(pooled_losses[kind])))
            plot = tmp / f"{spec.name}_{kind}.png"
            _plot(kind, spec, {key: results[key][kind] for key in frames}, plot)
            mlflow.log_artifact(str(plot), artifact_path="plots")
            bundle = {key: make_forecaster(kind, spec, dict(config.lstm) if kind == "lstm" else {},
                                           config.random_state).fit(frame) for key, frame in frames.items()}
            info = log_bundle(bundle, payload, tmp)
            mv = mlflow.register_model(info.model_uri, name, tags={"model_kind": kind, "target": spec.name,
                                                                   "trained_at": trained_at.isoformat(),
                                                                   "run_id": run.info.run_id})
            versions[kind] = str(mv.version)
            run_ids[kind] = run.info.run_id
            urls[f"{spec.name}/{kind}"] = run_url(run.info.run_id, experiment_id)
    winner_version = versions.get(decision.winner_kind, champion_version)
    assert winner_version is not None
    client.set_registered_model_alias(name, ALIAS, winner_version)
    reason = decision.reason
    client.set_model_version_tag(name, winner_version, "champion_decision", reason[:5000])
    client.set_registered_model_tag(name, "last_decision", reason[:5000])
    if decision.challenger_kind and decision.challenger_kind in versions:
        client.set_model_version_tag(name, versions[decision.challenger_kind], "challenger_decision",
                                     ("promoted: " if decision.promoted else "rejected: ") + reason[:4900])
    log.info("%s: champion -> version %s (%s): %s", name, winner_version, decision.winner_kind, reason)
    table = pd.concat({key: t for key, t in tables.items()}, names=["series", "model"])
    outcome = TargetOutcome(spec.name, name, table, versions, run_ids, decision, winner_version)
    return outcome, pd.DataFrame(eval_rows)


def _eval_row(trained_at: pd.Timestamp, target: str, series: str, kind: str, name: str, fold: int,
              row: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    def value(key: str) -> float | None:
        v = row.get(key)
        return float(v) if v is not None and np.isfinite(v) else None

    return {"trained_at": trained_at, "target": target, "series": series, "model_kind": kind, "model_name": name,
            "fold": fold, "window_start": pd.Timestamp(row["window_start"]),
            "window_end": pd.Timestamp(row["window_end"]),
            "n": int(row.get("n", 0)), "qlike": value("qlike"), "mse": value("mse"), "mae": value("mae"),
            "r2_vs_no_change": value("r2_vs_no_change"), "dm_stat": value("dm_stat"),
            "dm_p_value": value("dm_p_value"), "mlflow_run_id": run_id}


def load_training_series(conn: psycopg.Connection, as_of: pd.Timestamp, targets: Sequence[str],
                         sources: Mapping[str, Sequence[SeriesSource]] = DEFAULT_SOURCES
                         ) -> dict[str, dict[str, pd.DataFrame]]:
    """Series frames per target from the database, complete periods before ``as_of``."""
    cache: dict[tuple[SeriesSource, pd.Timestamp], pd.DataFrame] = {}
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for target in targets:
        out[target] = {}
        for source in sources.get(target, ()):
            key = (source, pd.Timestamp(as_of))
            if key not in cache:
                cache[key] = load_series(conn, source, as_of)
            frame = cache[key]
            if len(frame):
                out[target][source.key] = frame
    return out


def train_from_database(database_url: str, as_of: Any, config: TrainingConfig | str = DEFAULT_CONFIG,
                        sources: Mapping[str, Sequence[SeriesSource]] = DEFAULT_SOURCES) -> TrainingReport:
    """Train every forecaster on the database's history before ``as_of`` (UTC) and store the evaluations.

    ``config`` is a :class:`TrainingConfig` or the name of one (``"default"``, ``"demo"``).
    """
    config = resolve_config(config)
    as_of_ts = pd.Timestamp(as_of)
    as_of_ts = as_of_ts.tz_localize("UTC") if as_of_ts.tzinfo is None else as_of_ts.tz_convert("UTC")
    with psycopg.connect(database_url, options="-c timezone=UTC") as conn:
        series = load_training_series(conn, as_of_ts, config.targets, sources)
        return train_forecasters(series, as_of_ts, config, conn)


def run_lstm_experiment(frames: Mapping[str, pd.DataFrame], target_name: str, lstm: Mapping[str, Any],
                        test_periods: int, refit_every: int, random_state: int = 0) -> pd.DataFrame:
    """One LSTM experiment inside the active MLflow run (the ``mlflow run models/lstm`` entry point).

    Walk-forward evaluation of the LSTM next to no-change and HAR-RV on the last ``test_periods`` of each
    series, metrics per series and fold, a plot, then the LSTM refitted on everything logged as a Keras
    model per series (with its signature) and as the pyfunc bundle. Returns the comparison table.
    """
    import mlflow
    from mlflow.models import infer_signature

    from cryptoderiv.forecast.data import history_payload
    from cryptoderiv.forecast.lstm import LSTMForecaster, lstm_features, sliding_windows
    from cryptoderiv.forecast.mlflow_model import log_bundle

    spec = TARGETS[target_name]
    config = TrainingConfig(targets=(target_name,), kinds=("no_change", "har", "lstm"), test_periods=test_periods,
                            refit_every=refit_every, lstm=dict(lstm), random_state=random_state)
    mlflow.log_params({"target": target_name, "test_periods": test_periods, "refit_every": refit_every,
                       "series": ",".join(frames), **{f"lstm.{k}": v for k, v in lstm.items()}})
    results = _evaluate_target(spec, frames, config)
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, per_kind in results.items():
            tag = _tag(key)
            table = comparison_table(spec, per_kind)
            tables.append(table.assign(series=key))
            mlflow.log_metrics({f"{tag}.{kind}.{m}": float(v) for kind, row in table.iterrows()
                                for m, v in row.items() if np.isfinite(v)})
            folds = fold_table(spec, per_kind)
            for _, row in folds[folds["model"] == "lstm"].iterrows():
                for metric in ("qlike", "mse", "dm_stat", "dm_p_value"):
                    if metric in row and np.isfinite(row[metric]):
                        mlflow.log_metric(f"{tag}.lstm.fold.{metric}", float(row[metric]), step=int(row["fold"]))
            plot = Path(tmp) / f"{tag}_{target_name}_lstm.png"
            _plot("lstm", spec, {key: per_kind["lstm"]}, plot)
            mlflow.log_artifact(str(plot), artifact_path="plots")
        bundle: dict[str, Any] = {}
        for key, frame in frames.items():
            est = LSTMForecaster(horizon=spec.horizon, kind=spec.kind, random_state=random_state, **lstm).fit(frame)
            bundle[key] = est
            windows, _ = sliding_windows(lstm_features(frame, spec.kind), est.window)
            sample = ((windows[-5:] - est.feature_mean_) / est.feature_std_).astype(np.float32)
            signature = infer_signature(sample, np.asarray(est.model_(sample), dtype=np.float32))
            mlflow.tensorflow.log_model(est.model_, name=f"keras_{_tag(key)}", signature=signature)
        log_bundle(bundle, history_payload({k: f.iloc[-120:] for k, f in frames.items()}), Path(tmp))
    return pd.concat(tables)
