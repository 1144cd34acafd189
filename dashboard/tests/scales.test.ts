import { describe, expect, it } from "vitest";
import { divergingColor, innerSize, nearestIndex, paddedExtent, tickCount, xTime, yScale } from "../app/ui/chart/scales";
import { candlePlan } from "../app/lib/queries/market";

describe("chart scales", () => {
  it("pads extents and handles flat and empty series", () => {
    expect(paddedExtent([0, 10], 0.1)).toEqual([-1, 11]);
    expect(paddedExtent([5, 5], 0.1)).toEqual([4.5, 5.5]);
    expect(paddedExtent([], 0.1)).toEqual([0, 1]);
    expect(paddedExtent([2, 3, Number.NaN], 0, true)).toEqual([0, 3]);
  });
  it("maps the y domain to the inverted pixel range and nices it", () => {
    const y = yScale([0.1, 0.9], 200);
    expect(y.range()).toEqual([200, 0]);
    expect(y(y.domain()[0]!)).toBe(200);
    expect(y.domain()[0]!).toBeLessThanOrEqual(0.1);
    expect(y.domain()[1]!).toBeGreaterThanOrEqual(0.9);
  });
  it("maps UTC times linearly", () => {
    const t0 = Date.parse("2026-01-01T00:00:00Z");
    const x = xTime([t0, t0 + 3_600_000], 100);
    expect(x(new Date(t0 + 1_800_000))).toBeCloseTo(50, 9);
  });
  it("finds the nearest x and sizes ticks", () => {
    expect(nearestIndex([0, 10, 20, 30], 14)).toBe(1);
    expect(nearestIndex([0, 10, 20, 30], 16)).toBe(2);
    expect(nearestIndex([], 3)).toBe(-1);
    expect(tickCount(800, 80)).toBe(10);
    expect(innerSize(640, 280)).toEqual({ w: 640 - 64 - 16, h: 280 - 12 - 36 });
  });
  it("colours losses red and gains green", () => {
    expect(divergingColor(-1, 1)).toBe("rgb(220, 38, 38)");
    expect(divergingColor(1, 1)).toBe("rgb(22, 163, 74)");
    expect(divergingColor(0, 1)).toBe("rgb(255, 255, 255)");
  });
});

describe("candle plan (server-side downsampling of candles)", () => {
  it("never ships more buckets than points, from the coarsest rollup that fits", () => {
    const year = 365 * 86_400_000;
    for (const [range, points] of [[6 * 3_600_000, 400], [7 * 86_400_000, 400], [30 * 86_400_000, 400], [year, 400], [year, 2000]] as const) {
      const plan = candlePlan(range, points);
      expect(Math.ceil(range / plan.bucketMs) + 1).toBeLessThanOrEqual(points);
      const sourceMs = { "1m": 60_000, "1h": 3_600_000, "1d": 86_400_000 }[plan.source];
      expect(plan.bucketMs % sourceMs).toBe(0);
    }
    expect(candlePlan(year, 400).source).toBe("1h");
    expect(candlePlan(year, 200).source).toBe("1d");
    expect(candlePlan(7 * 86_400_000, 400).source).toBe("1m");
    expect(candlePlan(30 * 86_400_000, 400).source).toBe("1h");
  });
});
