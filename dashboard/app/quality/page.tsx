import { Shell, Panel } from "../ui/shell/Shell";
import { QualityCharts } from "../ui/quality/QualityCharts";
import { requireUser } from "../lib/guard";
import { dataDocsHref, latestValidation, quarantineCounts, recentDagRuns } from "../lib/queries/quality";
import { compact, pct, utc } from "../ui/format";

export const dynamic = "force-dynamic";

export default async function Quality() {
  const user = await requireUser();
  const [latest, quarantine, airflow] = await Promise.all([latestValidation(), quarantineCounts(), recentDagRuns()]);
  const perTable = new Map<string, { table_name: string; run_id: string; checked_at: string; n_rules: number; n_failed: number; rows_quarantined: number; docs: string | null }>();
  for (const r of latest) {
    const e = perTable.get(r.table_name) ?? { table_name: r.table_name, run_id: r.run_id, checked_at: r.checked_at, n_rules: 0, n_failed: 0, rows_quarantined: 0, docs: dataDocsHref(r.data_docs_path) };
    e.n_rules += 1;
    e.n_failed += r.success ? 0 : 1;
    e.rows_quarantined += r.rows_quarantined;
    perTable.set(r.table_name, e);
  }
  const failures = latest.filter((r) => !r.success);
  return (
    <Shell active="/quality" user={user} title="Data quality & pipelines" subtitle="Validation results of the latest gated batch per table, quarantine counts and recent Airflow runs.">
      <QualityCharts runs={[...perTable.values()]} quarantine={quarantine} />
      <div className="grid">
        <Panel title="Latest validation per table" wide>
          {perTable.size ? (
            <table className="data">
              <thead><tr><th>table</th><th>run</th><th>checked</th><th className="num">expectations</th><th className="num">failed</th><th className="num">quarantined</th><th>Data Docs</th></tr></thead>
              <tbody>
                {[...perTable.values()].map((t) => (
                  <tr key={t.table_name}>
                    <td>{t.table_name}</td><td>{t.run_id}</td><td>{utc(t.checked_at)}</td><td className="num">{t.n_rules}</td>
                    <td className="num"><span className={`badge ${t.n_failed ? "fail" : "ok"}`}>{t.n_failed}</span></td><td className="num">{compact(t.rows_quarantined)}</td>
                    <td>{t.docs ? <a href={t.docs} target="_blank" rel="noreferrer">open</a> : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <div className="empty" data-empty="true"><div className="empty-title">No validation results</div><div className="empty-detail">Ingest through the quality gate to record results.</div></div>
          )}
          {failures.length ? (
            <>
              <h2 style={{ marginTop: 12 }}>Failing expectations</h2>
              <table className="data">
                <thead><tr><th>table</th><th>rule</th><th>severity</th><th className="num">unexpected</th><th className="num">%</th></tr></thead>
                <tbody>
                  {failures.map((f) => (
                    <tr key={`${f.table_name}|${f.rule}`}><td>{f.table_name}</td><td>{f.rule}</td><td><span className={`badge ${f.severity === "hard" ? "fail" : "soft"}`}>{f.severity}</span></td>
                      <td className="num">{compact(f.unexpected_count)}</td><td className="num">{pct(f.unexpected_percent === null ? null : f.unexpected_percent / 100, 2)}</td></tr>
                  ))}
                </tbody>
              </table>
            </>
          ) : null}
        </Panel>
        <Panel title="Recent Airflow DAG runs" note="From Airflow's REST API (v2)." wide>
          {airflow.ok ? (
            airflow.runs.length ? (
              <table className="data" data-testid="dag-runs">
                <thead><tr><th>DAG</th><th>run</th><th>state</th><th>logical date</th><th>started</th><th>ended</th></tr></thead>
                <tbody>
                  {airflow.runs.map((r) => (
                    <tr key={`${r.dag_id}|${r.dag_run_id}`}><td>{r.dag_id}</td><td>{r.dag_run_id}</td><td><span className={`badge ${r.state}`}>{r.state}</span></td>
                      <td>{utc(r.logical_date)}</td><td>{utc(r.start_date)}</td><td>{utc(r.end_date)}</td></tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <div className="empty" data-empty="true"><div className="empty-title">No DAG runs</div><div className="empty-detail">Airflow is up but has not run any DAG yet.</div></div>
            )
          ) : (
            <div className="empty" data-empty="true" data-testid="airflow-unavailable"><div className="empty-title">Airflow unavailable</div><div className="empty-detail">{airflow.reason}. Start it with `make up`; validation results above come from the database.</div></div>
          )}
        </Panel>
      </div>
    </Shell>
  );
}
