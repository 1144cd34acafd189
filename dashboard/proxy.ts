import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE, verifySession } from "./app/lib/auth/session";
import { seeOther } from "./app/lib/auth/redirect";

// Sign-in gate and content-security policy for every request but static assets.
const PUBLIC_PATHS = new Set(["/sign-in", "/api/auth/sign-in", "/api/health"]);

function streamOrigin(): string {
  const base = process.env.STREAM_URL ?? "http://127.0.0.1:8090";
  try {
    const u = new URL(base);
    return `${u.protocol === "https:" ? "wss:" : "ws:"}//${u.host}`;
  } catch {
    return "";
  }
}

export function contentSecurityPolicy(nonce: string, https: boolean, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    // React sets style attributes (positions of tooltips): inline styles allowed, inline scripts not
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self' ${streamOrigin()}`.trim(),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

export async function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const https = request.nextUrl.protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
  if (!PUBLIC_PATHS.has(pathname) && !pathname.startsWith("/data-docs/")) {
    const session = await verifySession(request.cookies.get(SESSION_COOKIE)?.value, process.env.DASHBOARD_SESSION_SECRET);
    if (!session) {
      if (pathname.startsWith("/api/")) {
        return NextResponse.json({ error: "sign-in required" }, { status: 401 });
      }
      return seeOther(pathname === "/" ? "/sign-in" : `/sign-in?next=${encodeURIComponent(pathname + search)}`);
    }
  }
  if (pathname.startsWith("/data-docs/")) {
    // the route sets its own (sandboxed) policy; it checks the session itself
    return NextResponse.next();
  }
  const nonce = btoa(crypto.randomUUID());
  const csp = contentSecurityPolicy(nonce, https, process.env.NODE_ENV === "development");
  const headers = new Headers(request.headers);
  headers.set("x-nonce", nonce);
  headers.set("Content-Security-Policy", csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", csp);
  if (https) response.headers.set("Strict-Transport-Security", "max-age=31536000; includeSubDomains");
  return response;
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
