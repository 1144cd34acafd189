import { describe, expect, it } from "vitest";
import { black76, black76Gamma, gammaProfile, hestonCall, hestonIv, impliedVol, ivRank, maxPain, normCdf, sviIv, sviTotalVariance } from "../app/lib/optionsMath";

describe("Black-76 and implied vol", () => {
  it("satisfies put-call parity and inverts its own prices", () => {
    const [F, K, t, v] = [60_000, 65_000, 0.25, 0.6];
    expect(black76(true, F, K, t, v) - black76(false, F, K, t, v)).toBeCloseTo(F - K, 6);
    for (const k of [40_000, 60_000, 90_000]) {
      expect(impliedVol(k >= F, black76(k >= F, F, k, t, v), F, k, t)).toBeCloseTo(v, 5);
    }
    expect(Number.isNaN(impliedVol(true, 0, F, K, t))).toBe(true);
  });
  it("has the normal CDF's symmetry and the gamma of a finite difference", () => {
    expect(normCdf(0)).toBeCloseTo(0.5, 7);
    expect(normCdf(1.3) + normCdf(-1.3)).toBeCloseTo(1, 7);
    const [F, K, t, v, h] = [60_000, 62_000, 0.1, 0.5, 5];
    const fd = (black76(true, F + h, K, t, v) - 2 * black76(true, F, K, t, v) + black76(true, F - h, K, t, v)) / (h * h);
    expect(black76Gamma(F, K, t, v)).toBeCloseTo(fd, 8);
  });
});

describe("SVI", () => {
  it("is flat at sqrt(a/t) when b = 0 and has minimum a + b sigma sqrt(1 - rho^2)", () => {
    expect(sviIv(0.3, 0.5, { a: 0.125, b: 0, rho: 0, m: 0, sigma: 0.1 })).toBeCloseTo(0.5, 12);
    const p = { a: 0.02, b: 0.1, rho: -0.4, m: 0.05, sigma: 0.2 };
    const kMin = p.m - (p.rho * p.sigma) / Math.sqrt(1 - p.rho ** 2);
    expect(sviTotalVariance(kMin, p)).toBeCloseTo(p.a + p.b * p.sigma * Math.sqrt(1 - p.rho ** 2), 12);
  });
});

describe("Heston", () => {
  it("tends to Black-76 at sqrt(v0) when the vol of variance vanishes and v0 = theta", () => {
    const p = { v0: 0.36, kappa: 2, theta: 0.36, sigma: 1e-4, rho: 0 };
    const [F, t] = [60_000, 0.5];
    for (const K of [45_000, 60_000, 80_000]) {
      expect(hestonCall(F, K, t, p)).toBeCloseTo(black76(true, F, K, t, 0.6), 0);
      expect(hestonIv(F, K, t, p)).toBeCloseTo(0.6, 4);
    }
  });
  it("skews: negative rho gives higher IV for low strikes", () => {
    const p = { v0: 0.4, kappa: 1.5, theta: 0.45, sigma: 0.9, rho: -0.6 };
    expect(hestonIv(60_000, 45_000, 0.25, p)).toBeGreaterThan(hestonIv(60_000, 75_000, 0.25, p));
  });
});

describe("positioning", () => {
  const chain = [
    { strike: 50_000, isCall: false, openInterest: 300, iv: 0.6, t: 0.1, forward: 60_000 },
    { strike: 55_000, isCall: false, openInterest: 100, iv: 0.55, t: 0.1, forward: 60_000 },
    { strike: 65_000, isCall: true, openInterest: 200, iv: 0.5, t: 0.1, forward: 60_000 },
    { strike: 70_000, isCall: true, openInterest: 50, iv: 0.52, t: 0.1, forward: 60_000 },
  ];
  it("max pain minimises the payout to holders over the listed strikes", () => {
    const res = maxPain(chain);
    const payout = (s: number) => chain.reduce((a, o) => a + o.openInterest * Math.max(o.isCall ? s - o.strike : o.strike - s, 0), 0);
    for (const o of chain) expect(payout(res.strike)).toBeLessThanOrEqual(payout(o.strike));
    expect(res.payout.find((p) => p.strike === res.strike)!.value).toBe(payout(res.strike));
  });
  it("gamma flip is a sign change of the GEX profile, long calls / short puts", () => {
    const g = gammaProfile(chain, 60_000);
    expect(Number.isFinite(g.flip)).toBe(true);
    const i = g.grid.findIndex((s) => s > g.flip);
    expect(Math.sign(g.gex[i - 1]!)).not.toBe(Math.sign(g.gex[i]!));
    // only calls: positive everywhere, no flip
    expect(Number.isNaN(gammaProfile(chain.filter((o) => o.isCall), 60_000).flip)).toBe(true);
  });
  it("IV rank locates the current value in its history", () => {
    expect(ivRank([0.4, 0.6, 0.8], 0.7)).toBeCloseTo(0.75, 12);
    expect(Number.isNaN(ivRank([0.5, 0.5], 0.5))).toBe(true);
  });
});
