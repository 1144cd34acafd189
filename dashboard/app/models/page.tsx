import { Shell, Panel } from "../ui/shell/Shell";
import { ModelsCharts } from "../ui/models/ModelsCharts";
import { requireUser, pageParams, type SearchParams } from "../lib/guard";
import { seriesParams } from "../lib/params";
import { forecastEvaluations, forecastsVsRealised, hestonHistory, mlflowRunUrl, recentModelRuns } from "../lib/queries/models";
import { num, pct, utc, vol } from "../ui/format";

export const dynamic = "force-dynamic";

export default async function Models({ searchParams }: { searchParams: SearchParams }) {
  const user = await requireUser();
  const { params } = await pageParams(seriesParams, searchParams);
  const [forecasts, heston, runs, evals] = await Promise.all([forecastsVsRealised(params.base), hestonHistory(params.base), recentModelRuns(), forecastEvaluations()]);
  return (
    <Shell active="/models" user={user} title="Models" subtitle={`Forecasts and calibrations for ${params.base}; details in MLflow.`}>
      <ModelsCharts d={{ forecasts, heston }} />
      <Panel title="Forecast models vs baselines" note="Latest walk-forward evaluation (whole window): lower QLIKE is better; R² against the no-change forecast; Diebold-Mariano p-value vs HAR-RV." wide>
        {evals && evals.length ? (
          <div className="scroll">
            <table className="data">
              <thead><tr><th>target</th><th>series</th><th>model</th><th className="num">n</th><th className="num">QLIKE</th><th className="num">MSE</th><th className="num">R² vs no-change</th><th className="num">DM p</th><th>MLflow</th></tr></thead>
              <tbody>
                {evals.map((e) => {
                  const href = mlflowRunUrl(null, e.mlflow_run_id);
                  return (
                    <tr key={`${e.target}|${e.series}|${e.model_kind}`}>
                      <td>{e.target}</td><td>{e.series}</td><td>{e.model_kind}</td><td className="num">{e.n}</td><td className="num">{num(e.qlike, 4)}</td>
                      <td className="num">{num(e.mse, 8)}</td><td className="num">{pct(e.r2_vs_no_change, 1)}</td><td className="num">{num(e.dm_p_value, 3)}</td>
                      <td>{href ? <a href={href} target="_blank" rel="noreferrer">run {e.mlflow_run_id.slice(0, 8)}</a> : "—"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : (
          <div className="empty" data-empty="true"><div className="empty-title">No model evaluations yet</div><div className="empty-detail">They appear after models__train_forecasters runs.</div></div>
        )}
      </Panel>
      <Panel title="Recent model runs" note="Each run links to its MLflow run (parameters, metrics, artefacts)." wide>
        {runs && runs.length ? (
          <div className="scroll">
            <table className="data">
              <thead>
                <tr><th>snapshot</th><th>kind</th><th>venue</th><th>underlying</th><th>status</th><th className="num">RMSE IV</th><th>message</th><th>MLflow</th></tr>
              </thead>
              <tbody>
                {runs.map((r) => {
                  const href = mlflowRunUrl(r.mlflow_experiment_id, r.mlflow_run_id);
                  return (
                    <tr key={r.run_id}>
                      <td>{utc(r.snapshot_ts)}</td><td>{r.kind}</td><td>{r.exchange}</td><td>{r.underlying}</td>
                      <td><span className={`badge ${r.status === "converged" ? "ok" : "fail"}`}>{r.status}</span></td>
                      <td className="num">{vol(r.rmse_iv, 2)}</td><td>{r.message.slice(0, 80)}</td>
                      <td>{href ? <a href={href} target="_blank" rel="noreferrer">run {r.mlflow_run_id?.slice(0, 8)}</a> : "—"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : (
          <div className="empty" data-empty="true"><div className="empty-title">No model runs yet</div><div className="empty-detail">Calibrations appear here after models__calibrate_heston runs.</div></div>
        )}
      </Panel>
    </Shell>
  );
}
