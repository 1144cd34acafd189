"use client";
import { LineChart, type LineSeries } from "../chart/LineChart";
import { Panel } from "../shell/Panel";
import { num, utc, vol } from "../format";

export interface ModelsData {
  forecasts: { ts: string; symbol: string; target: string; model: string; forecast: number; realised: number | null; is_champion: boolean; model_version: string | null }[] | null;
  heston: { snapshot_ts: string; exchange: string; status: string; v0: number; kappa: number; theta: number; sigma: number; rho: number; rmse_iv: number | null }[] | null;
}

export function ModelsCharts({ d }: { d: ModelsData }) {
  // one forecast line per target (the champion that made each row may change over time) and its realised
  const byTarget = new Map<string, LineSeries>();
  const realised = new Map<string, LineSeries>();
  const champions = new Set<string>();
  for (const f of d.forecasts ?? []) {
    champions.add(`${f.target}: ${f.model}${f.model_version ? ` v${f.model_version}` : ""}`);
    const s = byTarget.get(f.target) ?? byTarget.set(f.target, { key: `f-${f.target}`, label: `${f.target} forecast`, points: [], mode: "both", dashed: true }).get(f.target)!;
    s.points.push({ x: Date.parse(f.ts), y: f.forecast });
    if (f.realised !== null) {
      const r = realised.get(f.target) ?? realised.set(f.target, { key: `r-${f.target}`, label: `${f.target} realised`, points: [], mode: "both" }).get(f.target)!;
      r.points.push({ x: Date.parse(f.ts), y: f.realised });
    }
  }
  const champion = champions.size ? [...champions].join(", ") : null;
  const fSeries: LineSeries[] = [...realised.values(), ...byTarget.values()];
  // only converged fits are parameters; failed or rejected runs (kept for the record) would plot as spikes.
  // One line per venue: Deribit and Bybit fit their own chains.
  const all = d.heston ?? [];
  const h = all.filter((r) => r.status === "converged");
  const skipped = all.length - h.length;
  const venues = [...new Set(h.map((r) => r.exchange))].sort();
  const hs = (f: (r: (typeof h)[number]) => number, key: string, label: string): LineSeries[] =>
    venues.map((v) => ({ key: venues.length > 1 ? `${key}-${v}` : key, label: venues.length > 1 ? `${label} ${v}` : label, mode: "both",
      points: h.filter((r) => r.exchange === v).map((r) => ({ x: Date.parse(r.snapshot_ts), y: f(r) })) }));
  const hNote = skipped ? ` Converged fits only (${skipped} failed or rejected left out; see the runs below).` : "";
  return (
    <div className="grid">
      <Panel title="Volatility forecasts vs realised" note={d.forecasts === null ? "The forecasting tables are not in this database yet." : `Annualised vol of ${d.forecasts[0]?.symbol ?? "the series"}: champion forecasts (dashed) vs realised over their horizon; champion ${champion ?? "not chosen yet"}. Baselines in the table below.`} wide>
        <LineChart name="forecasts" series={fSeries} xType="time" xLabel="forecast target time (UTC)" yLabel="volatility (%)" xFormat={(v) => utc(v)} yFormat={(v) => vol(v)}
          empty={{ title: "No forecasts yet", detail: d.forecasts === null ? "Forecast tables (migration 031) are not installed; this chart fills in once the forecasting DAG runs." : "Run the forecasting DAG." }} />
      </Panel>
      <Panel title="Heston variance parameters" note={`v0 (initial) and θ (long-run) variance, annual decimal²; vol of variance σ.${hNote}`}>
        <LineChart name="heston-var" series={[...hs((r) => r.v0, "v0", "v0"), ...hs((r) => r.theta, "theta", "θ"), ...hs((r) => r.sigma, "sigma", "σ (vol of var)")]} xType="time" xLabel="snapshot (UTC)" yLabel="value" xFormat={(v) => utc(v)} yFormat={(v) => num(v, 3)}
          empty={{ title: "No Heston calibrations", detail: "Run models__calibrate_heston." }} />
      </Panel>
      <Panel title="Heston mean reversion and correlation" note={`κ per year; ρ spot/variance correlation.${hNote}`}>
        <LineChart name="heston-kr" series={[...hs((r) => r.kappa, "kappa", "κ (1/yr)"), ...hs((r) => r.rho, "rho", "ρ")]} xType="time" xLabel="snapshot (UTC)" yLabel="value" xFormat={(v) => utc(v)} yFormat={(v) => num(v, 2)} includeZero
          empty={{ title: "No Heston calibrations", detail: "Run models__calibrate_heston." }} />
      </Panel>
    </div>
  );
}
