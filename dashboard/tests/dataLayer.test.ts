import { afterAll, describe, expect, it } from "vitest";
import { InvalidInput, candlesParams, parseParams, seriesParams } from "../app/lib/params";

describe("input validation", () => {
  it("applies defaults and coerces", () => {
    const p = parseParams(candlesParams, new URLSearchParams("venue=deribit&points=50"));
    expect(p).toMatchObject({ venue: "deribit", symbol: "BTC/USDT", range: "1w", points: 50 });
  });
  it("names the offending field", () => {
    expect(() => parseParams(candlesParams, new URLSearchParams("venue=ftx"))).toThrow(/venue/);
    expect(() => parseParams(candlesParams, new URLSearchParams("points=100000"))).toThrow(/points/);
    expect(() => parseParams(candlesParams, new URLSearchParams("symbol=BTC';DROP TABLE x"))).toThrow(InvalidInput);
    expect(() => parseParams(seriesParams, new URLSearchParams("end=yesterday"))).toThrow(/end/);
  });
});

// Against a filled database (tests/integration/dashboard runs these with DASHBOARD_DATABASE_URL set).
const db = process.env.DASHBOARD_DATABASE_URL ? describe : describe.skip;

db("data layer on the read-only login", async () => {
  const { candles, fundingSeries, candleMarkets } = await import("../app/lib/queries/market");
  const { smiles, surfaceGrid } = await import("../app/lib/queries/options");
  const { query, relationExists, pool } = await import("../app/lib/db");
  afterAll(async () => pool().end());

  it("aggregates candles to at most the requested points, OHLC consistent with the raw bars", async () => {
    const [m] = await candleMarkets();
    expect(m).toBeDefined();
    const s = await candles(m!.venue, m!.symbol, "1d", 50);
    expect(s.candles.length).toBeGreaterThan(0);
    expect(s.candles.length).toBeLessThanOrEqual(50);
    const raw = await query<{ high: number; low: number; volume: number }>(
      "SELECT max(high) AS high, min(low) AS low, sum(volume) AS volume FROM dash_ohlcv_1m WHERE exchange = $1 AND symbol = $2 AND ts >= $3 AND ts < $4",
      [m!.venue, m!.symbol, s.start, s.end]);
    expect(Math.max(...s.candles.map((c) => c.high))).toBe(raw[0]!.high);
    expect(Math.min(...s.candles.map((c) => c.low))).toBe(raw[0]!.low);
    expect(s.candles.reduce((a, c) => a + c.volume, 0)).toBeCloseTo(raw[0]!.volume, 6);
  });
  it("downsamples line series with LTTB", async () => {
    const series = await fundingSeries("BTC", "1m", 20);
    expect(series.length).toBeGreaterThan(0);
    for (const s of series) expect(s.points.length).toBeLessThanOrEqual(20);
  });
  it("builds smiles and the surface grid from the dashboard views", async () => {
    const sm = await smiles("deribit", "BTC");
    expect(sm.slices.length).toBeGreaterThan(0);
    expect(sm.slices[0]!.svi.length).toBeGreaterThan(0);
    const grid = await surfaceGrid("deribit", "BTC");
    expect(grid.cells.length).toBeGreaterThan(0);
  });
  it("is read-only and sees only what is granted", async () => {
    await expect(query("CREATE TABLE dash_should_not_exist (x int)")).rejects.toThrow();
    await expect(query("SELECT * FROM quarantine LIMIT 1")).rejects.toThrow(/permission denied/);
    expect(await relationExists("dash_candles_that_do_not_exist")).toBe(false);
  });
});
