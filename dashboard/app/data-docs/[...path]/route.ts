import { readFile, realpath } from "node:fs/promises";
import path from "node:path";
import { NextResponse, type NextRequest } from "next/server";
import { cookies } from "next/headers";
import { env } from "@/app/lib/env";
import { seeOther } from "@/app/lib/auth/redirect";
import { SESSION_COOKIE, verifySession } from "@/app/lib/auth/session";

export const dynamic = "force-dynamic";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml" };

/** Serve the offline Data Docs sites under DATA_DOCS_ROOT to signed-in users, sandboxed (their inline
 * scripts run in an opaque origin with no access to the dashboard's cookies or APIs). */
export async function GET(request: NextRequest, ctx: { params: Promise<{ path: string[] }> }) {
  const session = await verifySession((await cookies()).get(SESSION_COOKIE)?.value, env().sessionSecret);
  if (!session) return seeOther("/sign-in");
  const parts = (await ctx.params).path;
  if (parts.some((p) => p === ".." || p.includes("\0"))) return new NextResponse("bad path", { status: 400 });
  const root = env().dataDocsRoot;
  let file: string;
  try {
    file = await realpath(path.join(root, ...parts));
    const realRoot = await realpath(root);
    if (!file.startsWith(realRoot + path.sep)) return new NextResponse("not found", { status: 404 });
    const body = await readFile(file);
    return new NextResponse(body, {
      headers: {
        "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "content-security-policy": "sandbox allow-scripts; default-src 'self' 'unsafe-inline'; img-src 'self' data:",
        "cache-control": "private, no-store",
      },
    });
  } catch {
    return new NextResponse("not found", { status: 404 });
  }
}
