import "server-only";
import path from "node:path";

/** Settings of the dashboard process, read once from the environment (the only place that reads it). */
export interface DashboardEnv {
  /** Read-only database URL (login cryptoderiv_dashboard, member of cryptoderiv_readonly). */
  databaseUrl: string | undefined;
  /** JSON object user -> "scrypt$N$r$p$salt$hash" (base64). */
  users: string | undefined;
  /** HMAC key of the session cookie (at least 32 characters). */
  sessionSecret: string | undefined;
  /** Base URL of the streaming sidecar (http://host:port); the browser connects to <base>/ws. */
  streamUrl: string;
  /** Base URL of Airflow's API server. */
  airflowUrl: string;
  airflowUser: string | undefined;
  airflowPassword: string | undefined;
  /** Base URL of the MLflow UI, for run links. */
  mlflowUiUrl: string;
  /** Folder the Data Docs sites are written to (``<local_dir>/data_docs``). */
  dataDocsRoot: string;
}

let cached: DashboardEnv | undefined;

export function env(): DashboardEnv {
  if (cached) return cached;
  const e = process.env;
  const localDir = e.LOCAL_DIR ?? path.resolve(process.cwd(), "..", ".local");
  cached = {
    databaseUrl: e.DASHBOARD_DATABASE_URL,
    users: e.DASHBOARD_USERS,
    sessionSecret: e.DASHBOARD_SESSION_SECRET,
    streamUrl: (e.STREAM_URL ?? "http://127.0.0.1:8090").replace(/\/$/, ""),
    airflowUrl: (e.AIRFLOW_URL ?? "http://127.0.0.1:8080").replace(/\/$/, ""),
    airflowUser: e.AIRFLOW_API_USER,
    airflowPassword: e.AIRFLOW_API_PASSWORD,
    mlflowUiUrl: (e.MLFLOW_UI_URL ?? "http://127.0.0.1:5000").replace(/\/$/, ""),
    dataDocsRoot: e.DATA_DOCS_ROOT ?? path.join(localDir, "data_docs"),
  };
  return cached;
}

/** ws:// (or wss://) URL of the sidecar's WebSocket. */
export function streamWsUrl(): string {
  return env().streamUrl.replace(/^http/, "ws") + "/ws";
}
