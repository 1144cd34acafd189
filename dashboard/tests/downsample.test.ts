import { describe, expect, it } from "vitest";
import { lttb, lttbIndices } from "../app/lib/downsample";

describe("LTTB", () => {
  const n = 10_000;
  const xs = Array.from({ length: n }, (_, i) => i);
  const ys = xs.map((x) => Math.sin(x / 300) + (x === 4321 ? 25 : 0));

  it("keeps exactly threshold points, first and last included, in order", () => {
    const idx = lttbIndices(xs, ys, 500);
    expect(idx).toHaveLength(500);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(n - 1);
    for (let i = 1; i < idx.length; i++) expect(idx[i]!).toBeGreaterThan(idx[i - 1]!);
  });
  it("keeps a spike (the largest triangle of its bucket)", () => {
    expect(lttbIndices(xs, ys, 200)).toContain(4321);
  });
  it("keeps one point per bucket: every kept interior index lies in its own bucket", () => {
    const threshold = 102;
    const idx = lttbIndices(xs, ys, threshold);
    const every = (n - 2) / (threshold - 2);
    idx.slice(1, -1).forEach((j, b) => {
      expect(j).toBeGreaterThanOrEqual(Math.floor(b * every) + 1);
      expect(j).toBeLessThan(Math.floor((b + 1) * every) + 1);
    });
  });
  it("returns everything when the series is short, and validates inputs", () => {
    expect(lttbIndices([1, 2, 3], [1, 2, 3], 10)).toEqual([0, 1, 2]);
    expect(() => lttbIndices([1, 2], [1], 1)).toThrow(RangeError);
    expect(() => lttbIndices([1, 2], [1, 2], -1)).toThrow(RangeError);
  });
  it("drops non-finite values in the object form", () => {
    const rows = [{ t: 1, v: 1 }, { t: 2, v: Number.NaN }, { t: 3, v: 3 }];
    expect(lttb(rows, 10, (r) => r.t, (r) => r.v).map((r) => r.t)).toEqual([1, 3]);
  });
});
