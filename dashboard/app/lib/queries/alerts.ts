import "server-only";
import { query, relationExists } from "../db";

export interface AlertRow {
  alert_id: number;
  rule_name: string;
  kind: string;
  severity: "info" | "warning" | "critical";
  subject: string;
  fired_at: string;
  message: string;
  value: number | null;
  threshold: number | null;
}

export async function recentAlerts(limit: number, severity?: string): Promise<AlertRow[] | null> {
  if (!(await relationExists("dash_alerts"))) return null;
  return query<AlertRow>(
    `SELECT alert_id, rule_name, kind, severity, subject, fired_at, message, value, threshold
       FROM dash_alerts WHERE ($2::text IS NULL OR severity = $2) ORDER BY fired_at DESC LIMIT $1`,
    [limit, severity ?? null],
  );
}

/** Alerts per day and severity over the last 30 days of history (for the history chart). */
export async function alertCounts(): Promise<{ day: string; severity: string; n: number }[]> {
  if (!(await relationExists("dash_alerts"))) return [];
  return query<{ day: string; severity: string; n: number }>(
    `SELECT date_trunc('day', fired_at)::date::text AS day, severity, count(*) AS n FROM dash_alerts
      WHERE fired_at > (SELECT max(fired_at) FROM dash_alerts) - interval '30 days'
      GROUP BY 1, 2 ORDER BY 1, 2`,
  );
}
