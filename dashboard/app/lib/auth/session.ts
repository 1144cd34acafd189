/**
 * Signed session tokens: ``base64url(JSON payload) + "." + base64url(HMAC-SHA256(payload))``.
 * Web Crypto only, so the same code verifies in the proxy and in route handlers. No server-side store:
 * the expiry is inside the signed payload; signing out clears the cookie.
 */
export const SESSION_COOKIE = "cd_session";
export const SESSION_TTL_SECONDS = 12 * 3600;

export interface Session {
  user: string;
  /** expiry, seconds since the epoch */
  exp: number;
}

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(text: string): Uint8Array {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function key(secret: string): Promise<CryptoKey> {
  if (secret.length < 32) throw new Error("DASHBOARD_SESSION_SECRET must be at least 32 characters");
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

export async function signSession(session: Session, secret: string): Promise<string> {
  const body = b64url(enc.encode(JSON.stringify(session)));
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await key(secret), enc.encode(body)));
  return `${body}.${b64url(sig)}`;
}

/** The session of a token when its signature is valid and it has not expired; otherwise null. */
export async function verifySession(token: string | undefined, secret: string | undefined, nowSeconds?: number): Promise<Session | null> {
  if (!token || !secret) return null;
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf(".")) return null;
  const body = token.slice(0, dot);
  let sig: Uint8Array;
  try {
    sig = fromB64url(token.slice(dot + 1));
  } catch {
    return null;
  }
  const ok = await crypto.subtle.verify("HMAC", await key(secret), sig as BufferSource, enc.encode(body));
  if (!ok) return null;
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(fromB64url(body)));
  } catch {
    return null;
  }
  if (typeof payload !== "object" || payload === null) return null;
  const { user, exp } = payload as Record<string, unknown>;
  const now = nowSeconds ?? Math.floor(Date.now() / 1000);
  if (typeof user !== "string" || typeof exp !== "number" || exp <= now) return null;
  return { user, exp };
}
