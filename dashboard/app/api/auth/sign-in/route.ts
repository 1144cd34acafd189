import { NextResponse, type NextRequest } from "next/server";
import { z } from "zod";
import { env } from "@/app/lib/env";
import { checkCredentials, parseUsers } from "@/app/lib/auth/passwords";
import { signInLimiter } from "@/app/lib/auth/ratelimit";
import { seeOther } from "@/app/lib/auth/redirect";
import { SESSION_COOKIE, SESSION_TTL_SECONDS, signSession } from "@/app/lib/auth/session";

export const dynamic = "force-dynamic";

const form = z.object({
  user: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(256),
  next: z.string().max(512).optional(),
});

/** Only same-site relative paths: never an open redirect. */
function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.includes("\\")) return "/";
  return next;
}

function redirect(_request: NextRequest, path: string): NextResponse {
  return seeOther(path);
}

export async function POST(request: NextRequest) {
  // cross-site form posts are refused (SameSite=Lax covers the cookie; this covers the sign-in itself)
  const origin = request.headers.get("origin");
  if (origin && origin !== new URL(request.url).origin && origin !== `http://${request.headers.get("host")}` &&
      origin !== `https://${request.headers.get("host")}`) {
    return NextResponse.json({ error: "cross-origin sign-in refused" }, { status: 403 });
  }
  const data = await request.formData().catch(() => null);
  const parsed = form.safeParse(data ? Object.fromEntries([...data.entries()].filter(([, v]) => typeof v === "string")) : {});
  if (!parsed.success) return redirect(request, "/sign-in?error=invalid");
  const { user, password } = parsed.data;
  const next = safeNext(parsed.data.next);
  const client = request.headers.get("x-forwarded-for")?.split(",")[0]?.trim() || "local";
  const limiter = signInLimiter();
  const wait = Math.max(limiter.retryAfterMs(`ip:${client}`), limiter.retryAfterMs(`user:${user}`));
  if (wait > 0) {
    const res = redirect(request, `/sign-in?error=rate&retry=${Math.ceil(wait / 1000)}`);
    res.headers.set("Retry-After", String(Math.ceil(wait / 1000)));
    return res;
  }
  const { users: usersJson, sessionSecret } = env();
  if (!sessionSecret || sessionSecret.length < 32) return redirect(request, "/sign-in?error=config");
  let ok = false;
  try {
    ok = await checkCredentials(parseUsers(usersJson), user, password);
  } catch {
    return redirect(request, "/sign-in?error=config");
  }
  if (!ok) {
    limiter.fail(`ip:${client}`);
    limiter.fail(`user:${user}`);
    return redirect(request, `/sign-in?error=credentials${next !== "/" ? `&next=${encodeURIComponent(next)}` : ""}`);
  }
  limiter.reset(`user:${user}`);
  const token = await signSession({ user, exp: Math.floor(Date.now() / 1000) + SESSION_TTL_SECONDS }, sessionSecret);
  const res = redirect(request, next);
  const https = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
  res.cookies.set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: https,
    path: "/",
    maxAge: SESSION_TTL_SECONDS,
  });
  return res;
}
