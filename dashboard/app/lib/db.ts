import "server-only";
import { Pool, types, type QueryResultRow } from "pg";
import { env } from "./env";

// timestamptz -> ISO string (UTC) rather than Date: the value goes straight to JSON and the browser.
types.setTypeParser(1184, (v: string) => new Date(v).toISOString());
// bigint counts -> number (counts here stay far below 2^53)
types.setTypeParser(20, (v: string) => Number(v));
// numeric -> number
types.setTypeParser(1700, (v: string) => Number(v));

export class DatabaseUnavailable extends Error {}

const globalForPool = globalThis as unknown as { __cdPool?: Pool };

/** The one database client of the dashboard: a small pool on the read-only login. */
export function pool(): Pool {
  if (!globalForPool.__cdPool) {
    const url = env().databaseUrl;
    if (!url) throw new DatabaseUnavailable("DASHBOARD_DATABASE_URL is not set");
    globalForPool.__cdPool = new Pool({
      connectionString: url,
      max: 6,
      idleTimeoutMillis: 30_000,
      statement_timeout: 10_000,
      application_name: "cryptoderiv-dashboard",
      options: "-c timezone=UTC -c default_transaction_read_only=on",
    });
  }
  return globalForPool.__cdPool;
}

/** Run one parameterised query (text with $1.. placeholders, values separately). */
export async function query<T extends QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<T[]> {
  const result = await pool().query<T>(text, values as unknown[]);
  return result.rows;
}

/** Does the relation exist and can we read it? Pages over tables another stage creates degrade to empty. */
export async function relationExists(name: string): Promise<boolean> {
  const rows = await query<{ ok: boolean }>(
    "SELECT to_regclass($1) IS NOT NULL AND has_table_privilege(to_regclass($1), 'SELECT') AS ok",
    [name],
  );
  return rows[0]?.ok === true;
}
