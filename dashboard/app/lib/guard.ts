import "server-only";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { SESSION_COOKIE, verifySession } from "./auth/session";
import { env } from "./env";
import { InvalidInput, parseParams } from "./params";
import type { z } from "zod";

/** The signed-in user of a page (the proxy already refused anonymous requests; this is the second lock). */
export async function requireUser(): Promise<string> {
  const jar = await cookies();
  const session = await verifySession(jar.get(SESSION_COOKIE)?.value, env().sessionSecret);
  if (!session) redirect("/sign-in");
  return session.user;
}

export type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** Validate a page's search params; invalid input falls back to the defaults and reports why. */
export async function pageParams<S extends z.ZodType>(schema: S, sp: SearchParams): Promise<{ params: z.infer<S>; error: string | null }> {
  const raw = await sp;
  try {
    return { params: parseParams(schema, raw), error: null };
  } catch (err) {
    if (err instanceof InvalidInput) return { params: parseParams(schema, {}), error: err.message };
    throw err;
  }
}
