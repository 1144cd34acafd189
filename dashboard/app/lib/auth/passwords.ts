import "server-only";
import { scrypt, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Password hashes: ``scrypt$N$r$p$<salt base64>$<hash base64>`` (RFC 7914 scrypt). Users come from
 * DASHBOARD_USERS, a JSON object ``{"user": "<hash>"}``; plaintext passwords are never configured.
 * ``npm run hash-password`` prints a hash.
 */
export class BadUserConfig extends Error {}

function scryptAsync(password: string, salt: Buffer, keylen: number, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, N = 16384, r = 8, p = 1): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32, N, r, p);
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") throw new BadUserConfig("password hash is not scrypt$N$r$p$salt$hash");
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (![N, r, p].every((v) => Number.isInteger(v) && v > 0)) throw new BadUserConfig("bad scrypt parameters");
  const salt = Buffer.from(parts[4]!, "base64");
  const expected = Buffer.from(parts[5]!, "base64");
  const got = await scryptAsync(password, salt, expected.length, N, r, p);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export function parseUsers(json: string | undefined): Map<string, string> {
  if (!json) return new Map();
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new BadUserConfig("DASHBOARD_USERS is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadUserConfig("DASHBOARD_USERS must be a JSON object of user -> scrypt hash");
  }
  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(value)) {
    if (typeof hash !== "string" || !hash.startsWith("scrypt$")) {
      throw new BadUserConfig(`DASHBOARD_USERS: the entry of ${JSON.stringify(user)} is not a scrypt hash`);
    }
    users.set(user, hash);
  }
  return users;
}

// A hash of a random password: unknown users cost the same time as known ones.
let decoy: Promise<string> | undefined;

/** Check a user's password against the configured hashes (constant work for unknown users). */
export async function checkCredentials(users: Map<string, string>, user: string, password: string): Promise<boolean> {
  const stored = users.get(user);
  if (!stored) {
    decoy ??= hashPassword(randomBytes(16).toString("hex"));
    await verifyPassword(password, await decoy);
    return false;
  }
  return verifyPassword(password, stored);
}
