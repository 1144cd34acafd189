"use client";
import { BarChart } from "../chart/BarChart";
import { Panel } from "../shell/Panel";
import { compact } from "../format";

export function QualityCharts({ runs, quarantine }: { runs: { table_name: string; n_rules: number; n_failed: number; rows_quarantined: number }[]; quarantine: { table_name: string; rows_quarantined: number }[] }) {
  const byTable = new Map<string, { passed: number; failed: number }>();
  for (const r of runs) {
    const e = byTable.get(r.table_name) ?? { passed: 0, failed: 0 };
    e.passed += r.n_rules - r.n_failed;
    e.failed += r.n_failed;
    byTable.set(r.table_name, e);
  }
  const q = new Map<string, number>();
  for (const r of quarantine) q.set(r.table_name, (q.get(r.table_name) ?? 0) + r.rows_quarantined);
  return (
    <div className="grid">
      <Panel title="Latest validation per table" note="Expectations passed / failed in each table's most recent gated batch.">
        <BarChart name="dq-latest" stacked groups={[...byTable.entries()].map(([t, v]) => ({ key: t, label: t, values: [v.passed, v.failed] }))} seriesLabels={["passed", "failed"]} colors={["#059669", "#dc2626"]}
          xLabel="table" yLabel="expectations" yFormat={compact} empty={{ title: "No validation results", detail: "The data-quality gate writes dq_results when an ingestion runs through it." }} />
      </Panel>
      <Panel title="Quarantined rows per table" note="Rows a hard expectation kept out of the published tables (counts only).">
        <BarChart name="quarantine" groups={[...q.entries()].map(([t, n]) => ({ key: t, label: t, values: [n] }))} seriesLabels={["rows quarantined"]} colors={["#d97706"]}
          xLabel="table" yLabel="rows" yFormat={compact} empty={{ title: "Nothing quarantined", detail: "No row has failed a hard expectation." }} />
      </Panel>
    </div>
  );
}
