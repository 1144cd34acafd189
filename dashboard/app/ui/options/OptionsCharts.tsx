"use client";
import { LineChart, type LineSeries } from "../chart/LineChart";
import { BarChart } from "../chart/BarChart";
import { Heatmap } from "../chart/Heatmap";
import { Panel } from "../shell/Panel";
import { compact, date, expiry as fmtExpiry, num, pct, price, usd, utc, vol } from "../format";

export interface OptionsData {
  venue: string;
  base: string;
  chainTs: string | null;
  hestonSnapshot: string | null;
  smile: {
    expiry: string;
    forward: number;
    points: { strike: number; optionType: string; bidIv: number | null; askIv: number | null; markIv: number | null }[];
    svi: { strike: number; iv: number }[];
    heston: { strike: number; iv: number }[];
  } | null;
  surface: { ts: string | null; cells: { expiry: string; t: number; k: number; iv: number }[]; ks: number[] };
  term: { key: string; label: string; ts: string | null; points: { days: number; atmIv: number }[] }[];
  history: { ts: string; rr25: number | null; bf25: number | null; varIndex: number | null; atm30: number | null }[];
  ivRank: number;
  current: { varIndex: number | null; atm30: number | null; rr25: number | null; bf25: number | null } | null;
  positioning: {
    spot: number;
    oiByStrike: { strike: number; callOi: number; putOi: number }[];
    gex: { grid: number[]; gex: number[]; atSpot: number; flip: number } | null;
    maxPain: number | null;
  };
}

const pts = (xs: { x: number; y: number | null }[]) => xs.filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y));

export function OptionsCharts({ d }: { d: OptionsData }) {
  const smileSeries: LineSeries[] = d.smile
    ? [
        { key: "bid", label: "bid IV", mode: "points", color: "#059669", points: pts(d.smile.points.map((p) => ({ x: p.strike, y: p.bidIv }))) },
        { key: "ask", label: "ask IV", mode: "points", color: "#dc2626", points: pts(d.smile.points.map((p) => ({ x: p.strike, y: p.askIv }))) },
        { key: "svi", label: "SVI fit", mode: "line", color: "#2563eb", points: d.smile.svi.map((p) => ({ x: p.strike, y: p.iv })) },
        { key: "heston", label: "Heston fit", mode: "line", color: "#7c3aed", dashed: true, points: d.smile.heston.map((p) => ({ x: p.strike, y: p.iv })) },
      ]
    : [];
  const expiries = [...new Set(d.surface.cells.map((c) => c.expiry))].sort();
  const termSeries: LineSeries[] = d.term.map((c, i) => ({
    key: c.key,
    label: c.ts ? `${c.label} (${date(c.ts)})` : `${c.label} (no snapshot)`,
    mode: "both",
    dashed: i > 0,
    points: c.points.map((p) => ({ x: p.days, y: p.atmIv })),
  }));
  const hist = (f: (h: OptionsData["history"][number]) => number | null) => pts(d.history.map((h) => ({ x: Date.parse(h.ts), y: f(h) })));
  const gex = d.positioning.gex;
  return (
    <div className="grid">
      <Panel title={d.smile ? `Smile ${fmtExpiry(d.smile.expiry)}` : "Smile"} note={`Venue bid/ask IVs with our SVI fit and the current Heston calibration${d.hestonSnapshot ? ` (${utc(d.hestonSnapshot)})` : " (none yet)"}; forward ${price(d.smile?.forward)}.`}>
        <LineChart name="smile" series={smileSeries} xType="linear" xLabel="strike (USD)" yLabel="implied vol (%)" xFormat={(v) => compact(v)} yFormat={(v) => vol(v)}
          empty={{ title: "No option chain", detail: "Run the chain snapshot (options__snapshot_chains) for this venue and underlying." }} />
      </Panel>
      <Panel title="IV surface" note={`SVI implied vol by expiry and log-moneyness ln(K/F)${d.surface.ts ? `, snapshot ${utc(d.surface.ts)}` : ""}.`}>
        <Heatmap name="surface" cells={d.surface.cells.map((c) => ({ row: c.expiry, col: c.k.toFixed(2), value: c.iv }))}
          rows={expiries.map((e) => ({ key: e, label: fmtExpiry(e) }))} cols={d.surface.ks.map((k) => ({ key: k.toFixed(2), label: k.toFixed(2) }))}
          xLabel="log-moneyness ln(K/F)" yLabel="expiry" valueLabel="IV" format={(v) => vol(v, 0)}
          empty={{ title: "No fitted surface", detail: "Run the surface fit (options__fit_surfaces) after the greeks job." }} />
      </Panel>
      <Panel title="ATM term structure — time-lapse" note="ATM IV per expiry now, and at the snapshots 1 day, 1 week and 1 month earlier.">
        <LineChart name="term" series={termSeries} xType="linear" xLabel="days to expiry" yLabel="ATM IV (%)" xFormat={(v) => num(v, 0)} yFormat={(v) => vol(v)}
          empty={{ title: "No term structure", detail: "Needs fitted surfaces." }} />
      </Panel>
      <Panel title="25-delta risk reversal and butterfly (30-day)" note="RR = 25Δ call IV − 25Δ put IV; BF = wings average − ATM; vol points.">
        <LineChart name="skew" xType="time" includeZero xLabel="time (UTC)" yLabel="vol points (%)" xFormat={(v) => utc(v)} yFormat={(v) => pct(v, 1)}
          series={[{ key: "rr", label: "RR 25Δ", mode: "both", points: hist((h) => h.rr25) }, { key: "bf", label: "BF 25Δ", mode: "both", points: hist((h) => h.bf25) }]}
          empty={{ title: "No surface metrics", detail: "Needs fitted surfaces over time." }} />
      </Panel>
      <Panel title="Variance index and IV rank" note={`30-day variance-swap vol index; IV rank ${Number.isFinite(d.ivRank) ? pct(d.ivRank, 0) : "— (needs a history with a range)"} of its history; now ${vol(d.current?.varIndex)}.`}>
        <LineChart name="varindex" xType="time" xLabel="time (UTC)" yLabel="vol (%)" xFormat={(v) => utc(v)} yFormat={(v) => vol(v)}
          series={[{ key: "vix", label: "variance index 30d", mode: "both", points: hist((h) => h.varIndex) }, { key: "atm", label: "ATM IV 30d", mode: "both", dashed: true, points: hist((h) => h.atm30) }]}
          empty={{ title: "No surface metrics", detail: "Needs fitted surfaces over time." }} />
      </Panel>
      <Panel title="Open interest by strike" note={`Contracts (1 ${d.base} each on Deribit); max pain ${d.positioning.maxPain ? price(d.positioning.maxPain) : "—"} (selected expiry).`}>
        <BarChart name="oi" groups={d.positioning.oiByStrike.map((o) => ({ key: String(o.strike), label: compact(o.strike), values: [o.callOi, o.putOi] }))}
          seriesLabels={["calls", "puts"]} colors={["#059669", "#dc2626"]} xLabel="strike (USD)" yLabel="open interest (contracts)" yFormat={compact}
          highlight={d.positioning.maxPain ? [{ key: String(d.positioning.maxPain), label: "max pain" }] : undefined}
          empty={{ title: "No open interest", detail: "The chain snapshot carries open interest per option." }} />
      </Panel>
      <Panel title="Dealer gamma exposure" note={`Dealers long calls, short puts (SqueezeMetrics convention); USD delta change per 1 % move. At spot ${usd(gex?.atSpot)}; flip ${gex && Number.isFinite(gex.flip) ? price(gex.flip) : "— (no sign change within ±30 %)"}.`}>
        <LineChart name="gex" xType="linear" includeZero xLabel="spot (USD)" yLabel="GEX (USD per 1 %)" xFormat={(v) => compact(v)} yFormat={(v) => usd(v)}
          series={gex ? [{ key: "gex", label: "GEX", mode: "both", points: gex.grid.map((x, i) => ({ x, y: gex.gex[i]! })) }] : []}
          vlines={gex ? [{ x: d.positioning.spot, label: "spot" }, ...(Number.isFinite(gex.flip) ? [{ x: gex.flip, label: "flip" }] : [])] : []}
          empty={{ title: "No gamma exposure", detail: "Needs open interest and IVs in the chain snapshot." }} />
      </Panel>
    </div>
  );
}
