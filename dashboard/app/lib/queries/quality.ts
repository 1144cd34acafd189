import "server-only";
import { query } from "../db";
import { env } from "../env";

export interface DqResult {
  table_name: string;
  run_id: string;
  rule: string;
  dimension: string;
  severity: "hard" | "soft";
  success: boolean;
  element_count: number | null;
  unexpected_count: number | null;
  unexpected_percent: number | null;
  rows_quarantined: number;
  exception: string | null;
  checked_at: string;
  data_docs_path: string | null;
}

export async function latestValidation(table?: string): Promise<DqResult[]> {
  return query<DqResult>(
    `SELECT table_name, run_id, rule, dimension, severity, success, element_count, unexpected_count,
            unexpected_percent, rows_quarantined, exception, checked_at, data_docs_path
       FROM dash_dq_latest WHERE ($1::text IS NULL OR table_name = $1)
      ORDER BY table_name, success, severity, rule`,
    [table ?? null],
  );
}

export interface DqRun {
  table_name: string;
  run_id: string;
  checked_at: string;
  n_rules: number;
  n_failed: number;
  n_hard_failed: number;
  rows_quarantined: number;
  data_docs_path: string | null;
}

export async function recentDqRuns(limit = 30): Promise<DqRun[]> {
  return query<DqRun>(
    `SELECT table_name, run_id, checked_at, n_rules, n_failed, n_hard_failed, rows_quarantined, data_docs_path
       FROM dash_dq_runs ORDER BY checked_at DESC LIMIT $1`,
    [limit],
  );
}

export interface QuarantineCount {
  table_name: string;
  rule: string;
  rows_quarantined: number;
  last_quarantined_at: string;
  reason: string;
}

export async function quarantineCounts(): Promise<QuarantineCount[]> {
  return query<QuarantineCount>(
    `SELECT table_name, rule, rows_quarantined, last_quarantined_at, reason
       FROM dash_quarantine_counts ORDER BY rows_quarantined DESC, table_name, rule LIMIT 200`,
  );
}

/** Path of a Data Docs index relative to the Data Docs root, for the /data-docs/ route; null outside it. */
export function dataDocsHref(path: string | null): string | null {
  if (!path) return null;
  const root = env().dataDocsRoot.replace(/\/+$/, "");
  if (!path.startsWith(root + "/")) return null;
  return "/data-docs/" + path.slice(root.length + 1).split("/").map(encodeURIComponent).join("/");
}

export interface DagRun {
  dag_id: string;
  dag_run_id: string;
  state: string;
  logical_date: string | null;
  start_date: string | null;
  end_date: string | null;
}

export type AirflowStatus = { ok: true; runs: DagRun[] } | { ok: false; reason: string };

async function airflowToken(): Promise<string | null> {
  const { airflowUrl, airflowUser, airflowPassword } = env();
  if (!airflowUser || !airflowPassword) return null;
  const res = await fetch(`${airflowUrl}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: airflowUser, password: airflowPassword }),
    signal: AbortSignal.timeout(1500),
  });
  if (!res.ok) throw new Error(`token request answered ${res.status}`);
  const body = (await res.json()) as { access_token?: string };
  return body.access_token ?? null;
}

/** Recent DAG runs from Airflow's REST API (v2); a readable reason instead when Airflow is not up. */
export async function recentDagRuns(limit = 25): Promise<AirflowStatus> {
  const { airflowUrl } = env();
  try {
    const token = await airflowToken();
    const res = await fetch(`${airflowUrl}/api/v2/dags/~/dagRuns?order_by=-start_date&limit=${limit}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(2000),
      cache: "no-store",
    });
    if (!res.ok) return { ok: false, reason: `Airflow at ${airflowUrl} answered HTTP ${res.status}` };
    const body = (await res.json()) as { dag_runs?: Record<string, unknown>[] };
    const runs = (body.dag_runs ?? []).map((r) => ({
      dag_id: String(r.dag_id ?? ""),
      dag_run_id: String(r.dag_run_id ?? ""),
      state: String(r.state ?? "unknown"),
      logical_date: (r.logical_date as string | null) ?? null,
      start_date: (r.start_date as string | null) ?? null,
      end_date: (r.end_date as string | null) ?? null,
    }));
    return { ok: true, runs };
  } catch (err) {
    const reason = err instanceof Error && err.name === "TimeoutError" ? "timed out" : "not reachable";
    return { ok: false, reason: `Airflow at ${airflowUrl} is ${reason}` };
  }
}
