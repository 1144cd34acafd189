import "server-only";
import { query } from "../db";
import { lttb } from "../downsample";
import { RANGES, type RangeKey } from "../params";

export interface Candle {
  ts: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface CandleSeries {
  venue: string;
  symbol: string;
  /** width of one drawn candle, seconds */
  bucketSeconds: number;
  /** the stored resolution the buckets were built from */
  source: "1m" | "1h" | "1d";
  start: string;
  end: string;
  candles: Candle[];
}

const SOURCES = [
  { name: "1d", view: "dash_ohlcv_1d", ms: 86_400_000 },
  { name: "1h", view: "dash_ohlcv_1h", ms: 3_600_000 },
  { name: "1m", view: "dash_ohlcv_1m", ms: 60_000 },
] as const;

/**
 * Pick the coarsest stored resolution not wider than one drawn bucket, and the bucket width (a whole
 * multiple of it) that keeps the number of candles at most ``points`` (bucket edges included).
 */
export function candlePlan(rangeMs: number, points: number): { view: string; source: "1m" | "1h" | "1d"; bucketMs: number } {
  // buckets are aligned to a fixed origin, so a window can touch one more bucket than range / width
  const wanted = rangeMs / Math.max(1, points - 1);
  const src = SOURCES.find((s) => s.ms <= wanted) ?? SOURCES[SOURCES.length - 1]!;
  const bucketMs = Math.max(src.ms, Math.ceil(wanted / src.ms) * src.ms);
  return { view: src.view, source: src.name, bucketMs };
}

const instrumentIds = new Map<string, { id: number | null; at: number }>();

/** instrument_id of a venue/symbol (cached for a minute; the catalog changes daily at most). */
export async function instrumentId(venue: string, symbol: string): Promise<number | null> {
  const key = `${venue}\u0000${symbol}`;
  const hit = instrumentIds.get(key);
  if (hit && Date.now() - hit.at < 60_000) return hit.id;
  const rows = await query<{ instrument_id: number }>(
    "SELECT instrument_id FROM dash_instruments WHERE exchange = $1 AND symbol = $2", [venue, symbol]);
  const id = rows[0]?.instrument_id ?? null;
  instrumentIds.set(key, { id, at: Date.now() });
  return id;
}

/** The latest 1m candle time of an instrument, or null when it has none. */
export async function latestCandleTs(id: number): Promise<string | null> {
  const rows = await query<{ ts: string | null }>(
    "SELECT ts FROM dash_ohlcv_1m WHERE instrument_id = $1 ORDER BY ts DESC LIMIT 1", [id]);
  return rows[0]?.ts ?? null;
}

/** OHLCV candles of one venue/symbol over a range, aggregated in SQL to at most ``points`` buckets. */
export async function candles(venue: string, symbol: string, range: RangeKey, points: number, end?: string): Promise<CandleSeries> {
  const id = await instrumentId(venue, symbol);
  const last = end ?? (id === null ? null : await latestCandleTs(id));
  const rangeMs = RANGES[range];
  const endMs = last ? new Date(last).getTime() + 60_000 : Date.now();
  const start = new Date(endMs - rangeMs).toISOString();
  const endIso = new Date(endMs).toISOString();
  const plan = candlePlan(rangeMs, points);
  const rows = await query<Candle>(
    `SELECT date_bin(make_interval(secs => $2::double precision), ts, timestamptz '2000-01-01 00:00:00+00') AS ts,
            (array_agg(open ORDER BY ts))[1] AS open, max(high) AS high, min(low) AS low,
            (array_agg(close ORDER BY ts DESC))[1] AS close, sum(volume) AS volume
       FROM ${plan.view}
      WHERE instrument_id = $1 AND ts >= $3 AND ts < $4
      GROUP BY 1 ORDER BY 1`,
    [id ?? -1, plan.bucketMs / 1000, start, endIso],
  );
  return { venue, symbol, bucketSeconds: plan.bucketMs / 1000, source: plan.source, start, end: endIso, candles: rows };
}

export interface Market {
  venue: string;
  symbol: string;
  kind: string;
  base: string;
}

/** Spot, perpetual and dated-future instruments that have candles (for the venue/symbol filter). */
export async function candleMarkets(): Promise<Market[]> {
  return query<Market>(
    `SELECT exchange AS venue, symbol, kind, base FROM dash_instruments i
      WHERE kind IN ('spot', 'perpetual', 'future') AND active
        AND EXISTS (SELECT 1 FROM dash_ohlcv_1m d WHERE d.instrument_id = i.instrument_id)
      ORDER BY exchange, kind, symbol`,
  );
}

export interface Series {
  key: string;
  label: string;
  points: { ts: string; value: number }[];
}

function toSeries<R extends { exchange: string; symbol: string; ts: string }>(
  rows: R[], value: (r: R) => number, points: number,
): Series[] {
  const groups = new Map<string, R[]>();
  for (const r of rows) {
    const k = `${r.exchange}:${r.symbol}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  return [...groups.entries()].map(([key, rs]) => ({
    key,
    label: key,
    points: lttb(rs, points, (r) => Date.parse(r.ts), value).map((r) => ({ ts: r.ts, value: value(r) })),
  }));
}

async function windowEnd(view: string, base: string): Promise<number> {
  const rows = await query<{ ts: string | null }>(`SELECT max(ts) AS ts FROM ${view} WHERE base = $1`, [base]);
  return rows[0]?.ts ? Date.parse(rows[0].ts) + 1 : Date.now();
}

/** One value column per venue contract of ``base`` from a dashboard view, LTTB-downsampled per series.
 *  ``view`` and ``column`` are fixed names (never user input): only they are written into the SQL. */
async function perContractSeries(view: "dash_funding" | "dash_basis", column: "funding_apr" | "basis_pct", base: string,
  range: RangeKey, points: number, end?: string): Promise<Series[]> {
  const hi = end ? Date.parse(end) : await windowEnd(view, base);
  const rows = await query<{ exchange: string; symbol: string; ts: string; value: number }>(
    `SELECT exchange, symbol, ts, ${column} AS value FROM ${view}
      WHERE base = $1 AND ts >= $2 AND ts < $3 ORDER BY exchange, symbol, ts`,
    [base, new Date(hi - RANGES[range]).toISOString(), new Date(hi).toISOString()],
  );
  return toSeries(rows, (r) => r.value, points);
}

/** Funding APR (decimal per year) per venue perpetual of ``base``, LTTB-downsampled per series. */
export function fundingSeries(base: string, range: RangeKey, points: number, end?: string): Promise<Series[]> {
  return perContractSeries("dash_funding", "funding_apr", base, range, points, end);
}

/** Basis (mark / index - 1, decimal) per venue futures contract of ``base``. */
export function basisSeries(base: string, range: RangeKey, points: number, end?: string): Promise<Series[]> {
  return perContractSeries("dash_basis", "basis_pct", base, range, points, end);
}

export interface BasisRow {
  venue: string;
  symbol: string;
  kind: string;
  expiry: string | null;
  ts: string;
  mark_price: number;
  index_price: number;
  basis_pct: number;
  basis_apr: number | null;
}

/** The latest quote of every futures contract of ``base``: the basis term structure across venues. */
export async function latestBasis(base: string): Promise<BasisRow[]> {
  return query<BasisRow>(
    `SELECT DISTINCT ON (exchange, symbol) exchange AS venue, symbol, kind, expiry, ts, mark_price, index_price,
            basis_pct, basis_apr
       FROM dash_basis WHERE base = $1 AND ts > (SELECT max(ts) FROM dash_basis WHERE base = $1) - interval '1 day'
      ORDER BY exchange, symbol, ts DESC`,
    [base],
  );
}
