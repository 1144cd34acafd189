import "server-only";
import { query, relationExists } from "../db";
import { env } from "../env";

export interface HestonRow {
  exchange: string;
  underlying: string;
  snapshot_ts: string;
  status: string;
  is_current: boolean;
  v0: number;
  kappa: number;
  theta: number;
  sigma: number;
  rho: number;
  feller_ratio: number;
  rmse_iv: number | null;
  run_id: string;
  mlflow_run_id: string | null;
  mlflow_experiment_id: string | null;
}

export async function hestonHistory(underlying: string, limit = 500): Promise<HestonRow[] | null> {
  if (!(await relationExists("dash_heston_params"))) return null;
  return query<HestonRow>(
    `SELECT exchange, underlying, snapshot_ts, status, is_current, v0, kappa, theta, sigma, rho, feller_ratio,
            rmse_iv, run_id, mlflow_run_id, mlflow_experiment_id
       FROM (SELECT * FROM dash_heston_params WHERE underlying = $1 ORDER BY snapshot_ts DESC LIMIT $2) h
      ORDER BY snapshot_ts`,
    [underlying, limit],
  );
}

export interface ModelRun {
  run_id: string;
  kind: string;
  exchange: string;
  underlying: string;
  snapshot_ts: string;
  status: string;
  message: string;
  rmse_iv: number | null;
  mlflow_run_id: string | null;
  mlflow_experiment_id: string | null;
}

export async function recentModelRuns(limit = 20): Promise<ModelRun[] | null> {
  if (!(await relationExists("dash_model_runs"))) return null;
  return query<ModelRun>(
    `SELECT run_id, kind, exchange, underlying, snapshot_ts, status, message, rmse_iv, mlflow_run_id, mlflow_experiment_id
       FROM dash_model_runs ORDER BY snapshot_ts DESC LIMIT $1`,
    [limit],
  );
}

export function mlflowRunUrl(experimentId: string | null, runId: string | null): string | null {
  if (!runId) return null;
  const base = env().mlflowUiUrl;
  return experimentId ? `${base}/#/experiments/${encodeURIComponent(experimentId)}/runs/${encodeURIComponent(runId)}` : `${base}/#/runs/${encodeURIComponent(runId)}`;
}

export interface ForecastPoint {
  ts: string;
  symbol: string;
  target: string;
  model: string;
  forecast: number;
  realised: number | null;
  is_champion: boolean;
  model_version: string | null;
}

/** Champion vol forecasts vs realised (annualised decimal) of one series of ``base``; null until the
 * forecasting views exist. */
export async function forecastsVsRealised(base: string, limit = 2000): Promise<ForecastPoint[] | null> {
  if (!(await relationExists("dash_forecasts"))) return null;
  return query<ForecastPoint>(
    `SELECT ts, symbol, target, model, forecast, realised, is_champion, model_version FROM (
        SELECT * FROM dash_forecasts
         WHERE base = $1 AND symbol = (SELECT min(symbol) FROM dash_forecasts WHERE base = $1)
         ORDER BY ts DESC LIMIT $2) f
      ORDER BY ts`,
    [base, limit],
  );
}

export interface Evaluation {
  target: string;
  series: string;
  model_kind: string;
  model_name: string;
  trained_at: string;
  n: number;
  qlike: number | null;
  mse: number | null;
  r2_vs_no_change: number | null;
  dm_p_value: number | null;
  mlflow_run_id: string;
}

/** The latest walk-forward evaluation of every model (the baselines next to the champion). */
export async function forecastEvaluations(): Promise<Evaluation[] | null> {
  if (!(await relationExists("dash_forecast_evaluations"))) return null;
  return query<Evaluation>(
    `SELECT target, series, model_kind, model_name, trained_at, n, qlike, mse, r2_vs_no_change, dm_p_value, mlflow_run_id
       FROM dash_forecast_evaluations ORDER BY target, series, qlike NULLS LAST, mse LIMIT 200`,
  );
}
