import "server-only";
import { NextResponse, type NextRequest } from "next/server";
import type { z } from "zod";
import { DatabaseUnavailable } from "./db";
import { InvalidInput, parseParams } from "./params";

/** A GET JSON route: validated search params in, JSON out; 400 names the bad field, 503 when the
 * database is unavailable. Responses are private and never cached by shared caches. */
export function jsonRoute<S extends z.ZodType>(schema: S, handler: (p: z.infer<S>) => Promise<unknown>) {
  return async function GET(request: NextRequest) {
    let params: z.infer<S>;
    try {
      params = parseParams(schema, request.nextUrl.searchParams);
    } catch (err) {
      if (err instanceof InvalidInput) return NextResponse.json({ error: "invalid input", issues: err.issues }, { status: 400 });
      throw err;
    }
    try {
      const body = await handler(params);
      return NextResponse.json(body, { headers: { "cache-control": "private, no-store" } });
    } catch (err) {
      if (err instanceof DatabaseUnavailable || (err as { code?: string }).code === "ECONNREFUSED") {
        return NextResponse.json({ error: "database unavailable" }, { status: 503 });
      }
      console.error("route failed", err);
      return NextResponse.json({ error: "internal error" }, { status: 500 });
    }
  };
}
