/** Every number and time the dashboard shows goes through here (one place for units and precision). */

const nf = (digits: number) => new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function isNum(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

const DASH = "—";

/** Decimal -> percent: 0.1234 -> "12.34 %". */
export function pct(v: number | null | undefined, digits = 2): string {
  return isNum(v) ? `${nf(digits).format(v * 100)} %` : DASH;
}

/** Implied vol, decimal -> vol points: 0.552 -> "55.2 %". */
export function vol(v: number | null | undefined, digits = 1): string {
  return pct(v, digits);
}

/** Basis points: 0.00123 -> "12.3 bp". */
export function bp(v: number | null | undefined, digits = 1): string {
  return isNum(v) ? `${nf(digits).format(v * 1e4)} bp` : DASH;
}

/** USD with thousands separators; compact above a million: 1234567 -> "$1.23M". */
export function usd(v: number | null | undefined, digits?: number): string {
  if (!isNum(v)) return DASH;
  const a = Math.abs(v);
  const sign = v < 0 ? "-" : "";
  if (a >= 1e9) return `${sign}$${nf(2).format(a / 1e9)}B`;
  if (a >= 1e6) return `${sign}$${nf(2).format(a / 1e6)}M`;
  return `${sign}$${nf(digits ?? (a >= 1000 || a === 0 ? 0 : a >= 1 ? 2 : 4)).format(a)}`;
}

/** A price in quote currency: precision follows magnitude (65 432.1, 3 456.78, 0.012345). */
export function price(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  const a = Math.abs(v);
  return nf(a >= 10000 ? 1 : a >= 100 ? 2 : a >= 1 ? 4 : 6).format(v);
}

/** Plain number with compact suffixes: 12345 -> "12.3k". */
export function compact(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  const a = Math.abs(v);
  if (a >= 1e9) return `${nf(2).format(v / 1e9)}B`;
  if (a >= 1e6) return `${nf(2).format(v / 1e6)}M`;
  if (a >= 1e4) return `${nf(1).format(v / 1e3)}k`;
  return nf(a >= 100 || a === 0 ? 0 : a >= 1 ? 2 : 4).format(v);
}

export function num(v: number | null | undefined, digits = 2): string {
  return isNum(v) ? nf(digits).format(v) : DASH;
}

/** UTC date-time "2026-11-24 21:05 UTC". */
export function utc(ts: string | number | Date | null | undefined, seconds = false): string {
  if (ts === null || ts === undefined) return DASH;
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return DASH;
  const iso = d.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)} UTC`;
}

/** UTC date "2026-12-25". */
export function date(ts: string | number | Date | null | undefined): string {
  if (ts === null || ts === undefined) return DASH;
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? DASH : d.toISOString().slice(0, 10);
}

/** Short expiry label "25DEC26" (Deribit style). */
export function expiry(ts: string | null | undefined): string {
  if (!ts) return DASH;
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return DASH;
  const months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
  return `${d.getUTCDate()}${months[d.getUTCMonth()]}${String(d.getUTCFullYear()).slice(2)}`;
}

/** Relative age "12 s ago", "3 min ago", "2 h ago". */
export function age(ts: string | number | Date, now: number = Date.now()): string {
  const s = Math.max(0, Math.round((now - new Date(ts).getTime()) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
