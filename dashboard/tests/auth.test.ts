import { describe, expect, it } from "vitest";
import { signSession, verifySession } from "../app/lib/auth/session";
import { RateLimiter } from "../app/lib/auth/ratelimit";
import { BadUserConfig, checkCredentials, hashPassword, parseUsers, verifyPassword } from "../app/lib/auth/passwords";

const SECRET = "s".repeat(40);

describe("session tokens", () => {
  it("round-trip and expire", async () => {
    const token = await signSession({ user: "ana", exp: 2_000 }, SECRET);
    expect(await verifySession(token, SECRET, 1_000)).toEqual({ user: "ana", exp: 2_000 });
    expect(await verifySession(token, SECRET, 2_000)).toBeNull();
  });
  it("reject tampering and other keys", async () => {
    const token = await signSession({ user: "ana", exp: 2_000 }, SECRET);
    const [body, sig] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ user: "root", exp: 2_000 })).toString("base64url");
    expect(await verifySession(`${forged}.${sig}`, SECRET, 1_000)).toBeNull();
    expect(await verifySession(token, "t".repeat(40), 1_000)).toBeNull();
    expect(await verifySession(`${body}`, SECRET, 1_000)).toBeNull();
    expect(await verifySession(undefined, SECRET)).toBeNull();
    await expect(signSession({ user: "a", exp: 1 }, "short")).rejects.toThrow(/32/);
  });
});

describe("passwords", () => {
  it("verify scrypt hashes and refuse wrong passwords and unknown users", async () => {
    const hash = await hashPassword("hunter2", 1024);
    expect(await verifyPassword("hunter2", hash)).toBe(true);
    expect(await verifyPassword("hunter3", hash)).toBe(false);
    const users = parseUsers(JSON.stringify({ ana: hash }));
    expect(await checkCredentials(users, "ana", "hunter2")).toBe(true);
    expect(await checkCredentials(users, "bob", "hunter2")).toBe(false);
  });
  it("refuse plaintext configuration", () => {
    expect(() => parseUsers('{"ana": "hunter2"}')).toThrow(BadUserConfig);
    expect(() => parseUsers("[1]")).toThrow(BadUserConfig);
    expect(parseUsers(undefined).size).toBe(0);
  });
});

describe("sign-in rate limit", () => {
  it("blocks after the limit within the window and frees as failures age out", () => {
    const rl = new RateLimiter(3, 60_000);
    for (let i = 0; i < 3; i++) rl.fail("ip:1", 1_000 + i);
    expect(rl.retryAfterMs("ip:1", 2_000)).toBe(60_000 - 1_000);
    expect(rl.retryAfterMs("ip:2", 2_000)).toBe(0);
    expect(rl.retryAfterMs("ip:1", 61_001)).toBe(0);
    rl.fail("ip:3", 0);
    rl.reset("ip:3");
    expect(rl.retryAfterMs("ip:3", 1)).toBe(0);
  });
});
