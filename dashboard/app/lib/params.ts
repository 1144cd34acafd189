import { z } from "zod";

/** Validation of every route's and page's inputs (search params). Errors name the offending field. */

export const VENUES = ["binance", "bybit", "deribit"] as const;
export const RANGES = { "6h": 6 * 3600e3, "1d": 86400e3, "1w": 7 * 86400e3, "1m": 30 * 86400e3, "3m": 91 * 86400e3, "1y": 365 * 86400e3 } as const;
export type RangeKey = keyof typeof RANGES;

export const MAX_POINTS_LIMIT = 2000;

const symbol = z.string().min(1).max(64).regex(/^[A-Za-z0-9/:_\-.]+$/, "unexpected characters in symbol");
const base = z.string().min(2).max(10).regex(/^[A-Z0-9]+$/, "base must be upper-case letters/digits");
const isoTs = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), "not an ISO-8601 time");
const points = z.coerce.number().int().min(10).max(MAX_POINTS_LIMIT);

export const candlesParams = z.object({
  venue: z.enum(VENUES).default("binance"),
  symbol: symbol.default("BTC/USDT"),
  range: z.enum(Object.keys(RANGES) as [RangeKey, ...RangeKey[]]).default("1w"),
  end: isoTs.optional(),
  points: points.default(400),
});

export const seriesParams = z.object({
  base: base.default("BTC"),
  range: z.enum(Object.keys(RANGES) as [RangeKey, ...RangeKey[]]).default("1m"),
  end: isoTs.optional(),
  points: points.default(500),
});

export const optionsParams = z.object({
  venue: z.enum(VENUES).default("deribit"),
  base: base.default("BTC"),
  expiry: isoTs.optional(),
});

export const dqParams = z.object({
  table: z.string().max(64).regex(/^[a-z0-9_]+$/).optional(),
});

export const alertsParams = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  severity: z.enum(["info", "warning", "critical"]).optional(),
});

export class InvalidInput extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join("; "));
  }
}

/** Parse URLSearchParams (or a Next.js searchParams object) with a schema; throws InvalidInput. */
export function parseParams<S extends z.ZodType>(
  schema: S,
  input: URLSearchParams | Record<string, string | string[] | undefined>,
): z.infer<S> {
  const raw: Record<string, string> = {};
  if (input instanceof URLSearchParams) {
    for (const [k, v] of input.entries()) raw[k] = v;
  } else {
    for (const [k, v] of Object.entries(input)) {
      if (typeof v === "string") raw[k] = v;
      else if (Array.isArray(v) && v.length > 0) raw[k] = v[0]!;
    }
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new InvalidInput(result.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`));
  }
  return result.data;
}

/** [start, end) of a range ending at ``end`` (default now), as Dates. */
export function window(range: RangeKey, end?: string): { start: Date; end: Date } {
  const hi = end ? new Date(end) : new Date();
  return { start: new Date(hi.getTime() - RANGES[range]), end: hi };
}
