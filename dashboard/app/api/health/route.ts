import { NextResponse } from "next/server";
import { query } from "@/app/lib/db";

export const dynamic = "force-dynamic";

/** Liveness and database reachability (no data, no sign-in). */
export async function GET() {
  const started = performance.now();
  try {
    await query("SELECT 1");
    return NextResponse.json({ status: "ok", database: "ok", db_ms: Math.round(performance.now() - started) });
  } catch (err) {
    return NextResponse.json(
      { status: "degraded", database: "unavailable", detail: err instanceof Error ? err.message.slice(0, 200) : "error" },
      { status: 503 },
    );
  }
}
