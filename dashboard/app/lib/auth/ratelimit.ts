/**
 * Sign-in rate limit: a sliding window of failed attempts per key (client address, and user name), in
 * process memory (one dashboard process). After ``limit`` failures within ``windowMs`` the key is
 * refused until the oldest failure leaves the window.
 */
export class RateLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(readonly limit: number, readonly windowMs: number) {}

  private recent(key: string, now: number): number[] {
    const kept = (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (kept.length) this.failures.set(key, kept);
    else this.failures.delete(key);
    return kept;
  }

  /** Milliseconds until the key may try again (0: allowed now). */
  retryAfterMs(key: string, now = Date.now()): number {
    const kept = this.recent(key, now);
    if (kept.length < this.limit) return 0;
    return this.windowMs - (now - kept[kept.length - this.limit]!);
  }

  fail(key: string, now = Date.now()): void {
    const kept = this.recent(key, now);
    kept.push(now);
    this.failures.set(key, kept);
    if (this.failures.size > 10_000) {
      // bound memory under a spray of keys: drop the oldest entries
      for (const k of this.failures.keys()) {
        this.failures.delete(k);
        if (this.failures.size <= 5_000) break;
      }
    }
  }

  reset(key: string): void {
    this.failures.delete(key);
  }
}

const globalForLimiter = globalThis as unknown as { __cdSignInLimiter?: RateLimiter };
export function signInLimiter(): RateLimiter {
  globalForLimiter.__cdSignInLimiter ??= new RateLimiter(5, 60_000);
  return globalForLimiter.__cdSignInLimiter;
}
