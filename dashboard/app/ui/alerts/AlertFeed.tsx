"use client";
import { useState } from "react";
import { useStream } from "../live/useStream";
import { BarChart } from "../chart/BarChart";
import { Panel } from "../shell/Panel";
import { num, utc } from "../format";

export interface AlertItem {
  alert_id: number | string;
  rule_name: string;
  kind: string;
  severity: string;
  subject: string;
  fired_at: string;
  message: string;
  value: number | null;
  threshold: number | null;
}

/** History from the database plus alerts pushed live on the sidecar's "alerts" channel. */
export function AlertFeed({ url, history, counts, missing }: { url: string; history: AlertItem[]; counts: { day: string; severity: string; n: number }[]; missing: boolean }) {
  const [live, setLive] = useState<AlertItem[]>([]);
  const { state } = useStream(url, ["alerts"], (channel, data) => {
    if (channel !== "alerts") return;
    setLive((l) => [{ ...(data as unknown as AlertItem) }, ...l].slice(0, 100));
  });
  const rows = [...live, ...history];
  const days = dayRange(counts.map((c) => c.day));
  const sev = ["critical", "warning", "info"];
  return (
    <div className="grid" data-stream-state={state}>
      <Panel title="Alerts per day" note="Last 30 days of history, by severity.">
        <BarChart name="alert-history" stacked groups={days.map((d) => ({ key: d, label: d.slice(5), values: sev.map((s) => counts.find((c) => c.day === d && c.severity === s)?.n ?? 0) }))}
          seriesLabels={sev} colors={["#dc2626", "#d97706", "#2563eb"]} xLabel="day (UTC)" yLabel="alerts" yFormat={countTick}
          empty={{ title: "No alerts in the history", detail: missing ? "The alerts table is not installed in this database." : "No rule has fired yet." }} />
      </Panel>
      <Panel title="Alert feed" note={`Live from the sidecar (${state}); newest first.`} wide>
        {rows.length ? (
          <div className="scroll">
            <table className="data" data-testid="alert-feed">
              <thead><tr><th>fired</th><th>severity</th><th>rule</th><th>subject</th><th>message</th><th className="num">value</th><th className="num">threshold</th></tr></thead>
              <tbody>
                {rows.map((a, i) => (
                  <tr key={`${a.alert_id}-${i}`} data-live={i < live.length ? "true" : undefined}>
                    <td>{utc(a.fired_at, true)}</td><td><span className={`badge ${a.severity}`}>{a.severity}</span></td><td>{a.rule_name}</td><td>{a.subject}</td>
                    <td>{a.message}</td><td className="num">{num(a.value, 4)}</td><td className="num">{num(a.threshold, 4)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <div className="empty" data-empty="true"><div className="empty-title">No alerts</div><div className="empty-detail">New alerts appear here as they fire.</div></div>
        )}
      </Panel>
    </div>
  );
}

/** Every UTC day from the first to the last of ``days`` ("YYYY-MM-DD"): quiet days keep their place. */
function dayRange(days: string[]): string[] {
  const sorted = [...new Set(days)].sort();
  if (!sorted.length) return [];
  const out: string[] = [];
  const end = Date.parse(`${sorted[sorted.length - 1]}T00:00:00Z`);
  for (let t = Date.parse(`${sorted[0]}T00:00:00Z`); t <= end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** Alert counts are whole numbers: label integer ticks only. */
function countTick(v: number): string {
  return Number.isInteger(v) ? num(v, 0) : "";
}
