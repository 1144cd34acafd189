import "server-only";
import { query, relationExists } from "../db";
import { lttb } from "../downsample";
import { gammaProfile, hestonIv, ivRank, maxPain, sviIv, type HestonParams } from "../optionsMath";

const SNAPSHOT_SLACK = "interval '15 minutes'"; // quotes of one chain snapshot arrive over a few seconds

export interface SmilePoint {
  strike: number;
  k: number;
  optionType: "call" | "put";
  bidIv: number | null;
  askIv: number | null;
  markIv: number | null;
  openInterest: number | null;
}

export interface SmileSlice {
  expiry: string;
  t: number;
  forward: number;
  points: SmilePoint[];
  svi: { strike: number; iv: number }[];
  heston: { strike: number; iv: number }[];
  atmIv: number | null;
  rr25: number | null;
  bf25: number | null;
}

export interface ChainRow {
  symbol: string;
  expiry: string;
  strike: number;
  option_type: "call" | "put";
  ts: string;
  bid_iv: number | null;
  ask_iv: number | null;
  mark_iv: number | null;
  our_iv_bid: number | null;
  our_iv_ask: number | null;
  our_iv_mark: number | null;
  underlying_price: number;
  index_price: number;
  time_to_expiry: number;
  open_interest: number | null;
  forward: number | null;
  log_moneyness: number | null;
}

/** The latest chain snapshot of venue/base: one row per option (its last quote of that snapshot). */
export async function latestChain(venue: string, base: string): Promise<{ ts: string | null; rows: ChainRow[] }> {
  const rows = await query<ChainRow>(
    `SELECT DISTINCT ON (symbol) symbol, expiry, strike, option_type, ts, bid_iv, ask_iv, mark_iv, our_iv_bid,
            our_iv_ask, our_iv_mark, underlying_price, index_price, time_to_expiry, open_interest, forward,
            log_moneyness
       FROM dash_option_chain
      WHERE exchange = $1 AND base = $2
        AND ts > (SELECT max(ts) FROM dash_option_chain WHERE exchange = $1 AND base = $2) - ${SNAPSHOT_SLACK}
      ORDER BY symbol, ts DESC`,
    [venue, base],
  );
  const ts = rows.reduce<string | null>((m, r) => (m === null || r.ts > m ? r.ts : m), null);
  return { ts, rows };
}

export interface SurfaceRow {
  ts: string;
  expiry: string;
  time_to_expiry: number;
  forward: number;
  index_price: number;
  svi_a: number;
  svi_b: number;
  svi_rho: number;
  svi_m: number;
  svi_sigma: number;
  k_min: number | null;
  k_max: number | null;
  atm_iv: number | null;
  rr_25d: number | null;
  bf_25d: number | null;
}

/** SVI slices of the snapshot nearest before ``at`` (default the latest). */
export async function surfaceAt(venue: string, base: string, at?: string): Promise<SurfaceRow[]> {
  return query<SurfaceRow>(
    `SELECT ts, expiry, time_to_expiry, forward, index_price, svi_a, svi_b, svi_rho, svi_m, svi_sigma, k_min, k_max,
            atm_iv, rr_25d, bf_25d
       FROM dash_vol_surfaces
      WHERE exchange = $1 AND base = $2
        AND ts = (SELECT max(ts) FROM dash_vol_surfaces WHERE exchange = $1 AND base = $2 AND ts <= coalesce($3::timestamptz, 'infinity'))
      ORDER BY expiry`,
    [venue, base, at ?? null],
  );
}

async function hestonParams(venue: string, base: string): Promise<(HestonParams & { snapshot_ts: string }) | null> {
  if (!(await relationExists("dash_heston_params"))) return null;
  const rows = await query<HestonParams & { snapshot_ts: string }>(
    `SELECT snapshot_ts, v0, kappa, theta, sigma, rho FROM dash_heston_params
      WHERE exchange = $1 AND underlying = $2 AND is_current LIMIT 1`,
    [venue, base],
  );
  return rows[0] ?? null;
}

const SMILE_CURVE_POINTS = 81;

/** Smiles per expiry: venue bid/ask/mark IVs, the fitted SVI curve and the current Heston fit. */
export async function smiles(venue: string, base: string): Promise<{ ts: string | null; slices: SmileSlice[]; hestonSnapshot: string | null }> {
  const [{ ts, rows }, surface, heston] = await Promise.all([latestChain(venue, base), surfaceAt(venue, base), hestonParams(venue, base)]);
  const byExpiry = new Map<string, ChainRow[]>();
  for (const r of rows) (byExpiry.get(r.expiry) ?? byExpiry.set(r.expiry, []).get(r.expiry)!).push(r);
  const slices: SmileSlice[] = [];
  for (const [expiry, rs] of [...byExpiry.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const fit = surface.find((s) => s.expiry === expiry);
    const forward = fit?.forward ?? rs[0]!.forward ?? rs[0]!.underlying_price;
    const t = fit?.time_to_expiry ?? rs[0]!.time_to_expiry;
    const points = rs
      .map((r) => ({
        strike: r.strike,
        k: r.log_moneyness ?? Math.log(r.strike / forward),
        optionType: r.option_type,
        bidIv: r.bid_iv ?? r.our_iv_bid,
        askIv: r.ask_iv ?? r.our_iv_ask,
        markIv: r.mark_iv ?? r.our_iv_mark,
        openInterest: r.open_interest,
      }))
      .sort((a, b) => a.strike - b.strike || a.optionType.localeCompare(b.optionType));
    const strikes = points.map((p) => p.strike);
    const lo = Math.min(...strikes);
    const hi = Math.max(...strikes);
    const grid = Array.from({ length: SMILE_CURVE_POINTS }, (_, i) => lo + ((hi - lo) * i) / (SMILE_CURVE_POINTS - 1));
    const svi = fit
      ? grid.map((K) => ({
          strike: K,
          iv: sviIv(Math.log(K / forward), t, { a: fit.svi_a, b: fit.svi_b, rho: fit.svi_rho, m: fit.svi_m, sigma: fit.svi_sigma }),
        }))
          // the fit is only drawn where it was fitted (its quotes' log-moneyness range)
          .filter((p) => Number.isFinite(p.iv) && (fit.k_min === null || Math.log(p.strike / forward) >= fit.k_min - 1e-9)
            && (fit.k_max === null || Math.log(p.strike / forward) <= fit.k_max + 1e-9))
      : [];
    const hestonCurve = heston
      ? grid.map((K) => ({ strike: K, iv: hestonIv(forward, K, t, heston) })).filter((p) => Number.isFinite(p.iv))
      : [];
    slices.push({ expiry, t, forward, points, svi, heston: hestonCurve, atmIv: fit?.atm_iv ?? null, rr25: fit?.rr_25d ?? null, bf25: fit?.bf_25d ?? null });
  }
  return { ts, slices, hestonSnapshot: heston?.snapshot_ts ?? null };
}

export interface HeatCell {
  expiry: string;
  t: number;
  k: number;
  iv: number;
}

/** IV surface on a (expiry x log-moneyness) grid from the latest SVI slices. */
export async function surfaceGrid(venue: string, base: string, nK = 21): Promise<{ ts: string | null; cells: HeatCell[]; ks: number[] }> {
  const slices = await surfaceAt(venue, base);
  const ks = Array.from({ length: nK }, (_, i) => -0.5 + i / (nK - 1));
  const cells: HeatCell[] = [];
  for (const s of slices) {
    for (const k of ks) {
      const iv = sviIv(k, s.time_to_expiry, { a: s.svi_a, b: s.svi_b, rho: s.svi_rho, m: s.svi_m, sigma: s.svi_sigma });
      if (Number.isFinite(iv)) cells.push({ expiry: s.expiry, t: s.time_to_expiry, k, iv });
    }
  }
  return { ts: slices[0]?.ts ?? null, cells, ks };
}

export const TIME_LAPSE = [
  { key: "now", label: "now", offsetMs: 0 },
  { key: "1d", label: "1 day ago", offsetMs: 86_400_000 },
  { key: "1w", label: "1 week ago", offsetMs: 7 * 86_400_000 },
  { key: "1m", label: "1 month ago", offsetMs: 30 * 86_400_000 },
] as const;

export interface TermCurve {
  key: string;
  label: string;
  ts: string | null;
  points: { days: number; atmIv: number; expiry: string }[];
}

/** ATM term structure now and at the snapshots nearest before 1 day, 1 week and 1 month earlier. */
export async function termStructure(venue: string, base: string): Promise<TermCurve[]> {
  const latest = await query<{ ts: string | null }>(
    "SELECT max(ts) AS ts FROM dash_vol_surfaces WHERE exchange = $1 AND base = $2", [venue, base]);
  const now = latest[0]?.ts;
  if (!now) return [];
  const curves = await Promise.all(
    TIME_LAPSE.map(async (lap) => {
      const at = new Date(Date.parse(now) - lap.offsetMs).toISOString();
      const rows = await surfaceAt(venue, base, at);
      // a snapshot older than the lapse by more than half of it is not "1 week ago": leave that curve empty
      const fresh = rows.filter((r) => lap.offsetMs === 0 || Date.parse(at) - Date.parse(r.ts) <= lap.offsetMs / 2 + 3_600_000);
      return {
        key: lap.key,
        label: lap.label,
        ts: fresh[0]?.ts ?? null,
        points: fresh.filter((r) => r.atm_iv !== null).map((r) => ({ days: r.time_to_expiry * 365, atmIv: r.atm_iv!, expiry: r.expiry })),
      };
    }),
  );
  return curves;
}

export interface MetricPoint {
  ts: string;
  rr25: number | null;
  bf25: number | null;
  varIndex: number | null;
  atm30: number | null;
}

/** 25-delta RR/BF (30-day), variance index and 30-day ATM IV history, downsampled; plus IV rank. */
export async function skewHistory(venue: string, base: string, points: number, days = 365): Promise<{ history: MetricPoint[]; ivRank: number; current: MetricPoint | null }> {
  const rows = await query<MetricPoint>(
    `SELECT ts, rr_25d_30d AS "rr25", bf_25d_30d AS "bf25", variance_index_30d AS "varIndex", atm_iv_30d AS "atm30"
       FROM dash_vol_surface_metrics
      WHERE exchange = $1 AND base = $2
        AND ts > (SELECT max(ts) FROM dash_vol_surface_metrics WHERE exchange = $1 AND base = $2) - make_interval(days => $3)
      ORDER BY ts`,
    [venue, base, days],
  );
  const current = rows[rows.length - 1] ?? null;
  const rank = current ? ivRank(rows.map((r) => r.varIndex ?? Number.NaN), current.varIndex ?? Number.NaN) : Number.NaN;
  const history = rows.length > points ? lttb(rows, points, (r) => Date.parse(r.ts), (r) => r.varIndex ?? r.atm30 ?? 0) : rows;
  return { history, ivRank: rank, current };
}

export interface StrikeOi {
  strike: number;
  callOi: number;
  putOi: number;
}

/** Open interest by strike, gamma exposure profile with the flip, and max pain, for one expiry or all. */
export async function positioning(venue: string, base: string, expiry?: string) {
  const { ts, rows } = await latestChain(venue, base);
  const sel = rows.filter((r) => (expiry ? r.expiry === expiry : true) && (r.open_interest ?? 0) >= 0);
  const oi = new Map<number, StrikeOi>();
  for (const r of sel) {
    const e = oi.get(r.strike) ?? { strike: r.strike, callOi: 0, putOi: 0 };
    if (r.option_type === "call") e.callOi += r.open_interest ?? 0;
    else e.putOi += r.open_interest ?? 0;
    oi.set(r.strike, e);
  }
  const spot = sel[0]?.index_price ?? Number.NaN;
  const chain = sel.map((r) => ({
    strike: r.strike,
    isCall: r.option_type === "call",
    openInterest: r.open_interest ?? 0,
    iv: r.mark_iv ?? r.our_iv_mark ?? Number.NaN,
    t: r.time_to_expiry,
    forward: r.forward ?? r.underlying_price,
  }));
  const gex = sel.length ? gammaProfile(chain, spot) : null;
  const pain = expiry && sel.length ? maxPain(chain) : null;
  const expiries = [...new Set(rows.map((r) => r.expiry))].sort();
  return {
    ts,
    spot,
    expiries,
    oiByStrike: [...oi.values()].sort((a, b) => a.strike - b.strike),
    gex: gex ? { grid: gex.grid, gex: gex.gex, atSpot: gex.atSpot, flip: gex.flip } : null,
    maxPain: pain?.strike ?? null,
    payout: pain?.payout ?? [],
  };
}

export async function optionBases(venue: string): Promise<string[]> {
  const rows = await query<{ base: string }>(
    "SELECT DISTINCT base FROM dash_instruments WHERE exchange = $1 AND kind = 'option' ORDER BY base", [venue]);
  return rows.map((r) => r.base);
}
