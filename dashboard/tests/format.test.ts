import { describe, expect, it } from "vitest";
import { age, bp, compact, date, expiry, pct, price, usd, utc, vol } from "../app/ui/format";

describe("format", () => {
  it("shows decimals as percent and basis points", () => {
    expect(pct(0.1234)).toBe("12.34 %");
    expect(vol(0.552)).toBe("55.2 %");
    expect(bp(0.00123)).toBe("12.3 bp");
    expect(pct(null)).toBe("—");
    expect(pct(Number.NaN)).toBe("—");
  });
  it("formats money and prices by magnitude", () => {
    expect(usd(1_234_567)).toBe("$1.23M");
    expect(usd(-2500)).toBe("-$2,500");
    expect(usd(12.5)).toBe("$12.50");
    expect(price(65432.12)).toBe("65,432.1");
    expect(price(0.0123456)).toBe("0.012346");
    expect(compact(12345)).toBe("12.3k");
    expect(usd(0)).toBe("$0"); // an axis' zero tick, not "$0.0000"
    expect(compact(0)).toBe("0");
    expect(usd(0.5)).toBe("$0.5000");
  });
  it("writes times in UTC whatever the local zone", () => {
    expect(utc("2026-11-24T21:05:09Z")).toBe("2026-11-24 21:05 UTC");
    expect(utc("2026-11-24T21:05:09Z", true)).toBe("2026-11-24 21:05:09 UTC");
    expect(date("2026-12-25T08:00:00Z")).toBe("2026-12-25");
    expect(expiry("2026-12-25T08:00:00Z")).toBe("25DEC26");
    expect(utc("not a date")).toBe("—");
  });
  it("gives relative ages", () => {
    const now = Date.parse("2026-01-01T00:10:00Z");
    expect(age("2026-01-01T00:09:50Z", now)).toBe("10 s ago");
    expect(age("2026-01-01T00:00:00Z", now)).toBe("10 min ago");
  });
});
