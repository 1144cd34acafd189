"use client";
import { LineChart, type LineSeries } from "../chart/LineChart";
import { BarChart } from "../chart/BarChart";
import { Heatmap } from "../chart/Heatmap";
import { Panel } from "../shell/Panel";
import { compact, date, num, pct, usd } from "../format";

export interface RiskData {
  greeks: { position_id: string; value_usd: number; delta_usd: number; gamma_usd: number; vega_usd: number; theta_usd: number }[];
  varHist: { as_of: string; method: string; var_usd: number; es_usd: number; next_pnl_usd: number | null; is_exception: boolean | null }[];
  stress: { spot_shock: number; vol_shock_pts: number; pnl_usd: number }[];
  positions: { position_id: string; carry_usd: number | null; theta_usd: number | null; convexity_usd: number | null; vrp_usd: number | null; drift_usd: number | null }[];
  payoff: { curve: string; spot_usd: number; pnl_usd: number }[];
  probProfit: number | null;
}

export function RiskCharts({ d }: { d: RiskData }) {
  const total = d.greeks.find((g) => g.position_id === "TOTAL");
  const methods = [...new Set(d.varHist.map((v) => v.method))];
  const varSeries: LineSeries[] = methods.flatMap((m) => {
    const rows = d.varHist.filter((v) => v.method === m);
    return [
      { key: `var-${m}`, label: `VaR 99 % ${m}`, mode: "line" as const, points: rows.map((r) => ({ x: Date.parse(r.as_of), y: -r.var_usd })) },
      { key: `es-${m}`, label: `ES 99 % ${m}`, mode: "line" as const, dashed: true, points: rows.map((r) => ({ x: Date.parse(r.as_of), y: -r.es_usd })) },
    ];
  });
  const first = methods[0];
  const pnl = d.varHist.filter((v) => v.method === first && v.next_pnl_usd !== null);
  if (pnl.length) varSeries.unshift({ key: "pnl", label: "next-day P&L", mode: "points", color: "#111827", points: pnl.map((r) => ({ x: Date.parse(r.as_of), y: r.next_pnl_usd! })) });
  const exceptions = d.varHist.filter((v) => v.is_exception && v.next_pnl_usd !== null).map((v) => ({ x: Date.parse(v.as_of), y: v.next_pnl_usd!, label: `${v.method} exception ${date(v.as_of)}` }));
  const spots = [...new Set(d.stress.map((s) => s.spot_shock))].sort((a, b) => a - b);
  const vols = [...new Set(d.stress.map((s) => s.vol_shock_pts))].sort((a, b) => b - a);
  return (
    <div className="grid">
      <Panel title="Portfolio greeks" note="USD; gamma per 1 % move; vega per vol point; theta per day." wide>
        <div className="kpis" data-testid="greeks">
          {total ? (
            [["value", usd(total.value_usd)], ["delta", usd(total.delta_usd)], ["gamma (1 %)", usd(total.gamma_usd)], ["vega (1 pt)", usd(total.vega_usd)], ["theta (1 d)", usd(total.theta_usd)]].map(([k, v]) => (
              <div className="kpi" key={k}><b>{v}</b><span>{k}</span></div>
            ))
          ) : (
            <div className="empty" data-empty="true"><div className="empty-title">No greeks</div><div className="empty-detail">Run the risk DAG for a portfolio.</div></div>
          )}
        </div>
        <BarChart name="greeks" groups={d.greeks.filter((g) => g.position_id !== "TOTAL").map((g) => ({ key: g.position_id, label: g.position_id, values: [g.delta_usd, g.vega_usd * 10, g.theta_usd * 10] }))}
          seriesLabels={["delta (USD)", "vega ×10 (USD/pt)", "theta ×10 (USD/d)"]} xLabel="position" yLabel="USD" yFormat={(v) => usd(v)} height={230}
          empty={{ title: "No positions with greeks", detail: "Load positions and run the risk DAG." }} />
      </Panel>
      <Panel title="VaR / ES history (1 day, 99 %)" note="Losses negative; red rings: days the next-day P&L fell below −VaR (backtest exceptions).">
        <LineChart name="var" series={varSeries} markers={exceptions} xType="time" xLabel="as of (UTC date)" yLabel="P&L (USD)" xFormat={(v) => date(v)} yFormat={(v) => usd(v)} includeZero
          empty={{ title: "No VaR history", detail: "Run the risk DAG (VaR/ES per day)." }} />
      </Panel>
      <Panel title="Stress P&L: spot × vol" note="Full revaluation, USD; spot shock relative, vol shock in vol points.">
        <Heatmap name="stress" diverging showValues cells={d.stress.map((s) => ({ row: String(s.vol_shock_pts), col: String(s.spot_shock), value: s.pnl_usd }))}
          rows={vols.map((v) => ({ key: String(v), label: `vol ${v > 0 ? "+" : ""}${num(v, 0)} pt` }))} cols={spots.map((s) => ({ key: String(s), label: pct(s, 0) }))}
          xLabel="spot shock" yLabel="vol shock" valueLabel="P&L" format={(v) => compact(v)}
          empty={{ title: "No stress results", detail: "Run the stress job for the portfolio." }} />
      </Panel>
      <Panel title="Expected return decomposition" note="Per position over the horizon, USD: carry, theta, convexity, variance premium, drift.">
        <BarChart name="expected" stacked groups={d.positions.filter((p) => p.carry_usd !== null).map((p) => ({ key: p.position_id, label: p.position_id, values: [p.carry_usd ?? 0, p.theta_usd ?? 0, p.convexity_usd ?? 0, p.vrp_usd ?? 0, p.drift_usd ?? 0] }))}
          seriesLabels={["carry", "theta", "convexity", "VRP", "drift"]} xLabel="position" yLabel="expected P&L (USD)" yFormat={(v) => usd(v)}
          empty={{ title: "No expected returns", detail: "Run the expected-return job." }} />
      </Panel>
      <Panel title="Payoff diagram" note={`P&L (USD) against spot at expiry and at the horizon; probability of profit ${d.probProfit !== null ? pct(d.probProfit, 0) : "—"}.`}>
        <LineChart name="payoff" xType="linear" includeZero xLabel="spot (USD)" yLabel="P&L (USD)" xFormat={(v) => compact(v)} yFormat={(v) => usd(v)}
          series={["expiry", "horizon"].map((c) => ({ key: c, label: c === "expiry" ? "at expiry" : "at horizon", mode: "both" as const, dashed: c === "horizon", points: d.payoff.filter((p) => p.curve === c).map((p) => ({ x: p.spot_usd, y: p.pnl_usd })) }))}
          empty={{ title: "No payoff curves", detail: "Run the risk DAG (payoff curves)." }} />
      </Panel>
    </div>
  );
}
