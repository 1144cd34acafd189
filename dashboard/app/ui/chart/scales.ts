import { scaleLinear, scaleUtc, scaleBand, type ScaleLinear, type ScaleTime } from "d3";
import { bisector } from "d3";

/** Chart geometry helpers shared by every chart (pure; Vitest-tested). */

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export const DEFAULT_MARGINS: Margins = { top: 12, right: 16, bottom: 36, left: 64 };

export function innerSize(width: number, height: number, m: Margins = DEFAULT_MARGINS) {
  return { w: Math.max(0, width - m.left - m.right), h: Math.max(0, height - m.top - m.bottom) };
}

/** Finite [min, max] of values; padded by ``pad`` of the span (or of |value| for a flat series). */
export function paddedExtent(values: Iterable<number>, pad = 0.05, includeZero = false): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) {
    const d = Math.abs(lo) * pad || 1;
    return [lo - d, hi + d];
  }
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

export function yScale(values: Iterable<number>, height: number, includeZero = false): ScaleLinear<number, number> {
  return scaleLinear().domain(paddedExtent(values, 0.06, includeZero)).range([height, 0]).nice();
}

export function xLinear(values: Iterable<number>, width: number, pad = 0.02): ScaleLinear<number, number> {
  return scaleLinear().domain(paddedExtent(values, pad)).range([0, width]);
}

export function xTime(times: Iterable<number>, width: number): ScaleTime<number, number> {
  const [lo, hi] = paddedExtent(times, 0);
  return scaleUtc().domain([new Date(lo), new Date(hi)]).range([0, width]);
}

export function band(keys: string[], width: number, padding = 0.15) {
  return scaleBand<string>().domain(keys).range([0, width]).padding(padding);
}

/** Index of the x value nearest to ``x`` in a sorted array (-1 for an empty array). */
export function nearestIndex(sorted: ArrayLike<number>, x: number): number {
  const n = sorted.length;
  if (n === 0) return -1;
  const arr = Array.from(sorted);
  const i = bisector((d: number) => d).center(arr, x);
  return Math.min(Math.max(i, 0), n - 1);
}

/** Tick count that leaves about ``px`` pixels between ticks. */
export function tickCount(length: number, px = 80): number {
  return Math.max(2, Math.floor(length / px));
}

/** Diverging colour for a value in [-max, max]: red (loss) .. white .. green (gain). */
export function divergingColor(v: number, max: number): string {
  if (!Number.isFinite(v) || !(max > 0)) return "#e5e7eb";
  const x = Math.max(-1, Math.min(1, v / max));
  const mix = (a: number, b: number, t: number) => Math.round(a + (b - a) * t);
  const [r, g, b] = x < 0 ? [mix(255, 220, -x), mix(255, 38, -x), mix(255, 38, -x)] : [mix(255, 22, x), mix(255, 163, x), mix(255, 74, x)];
  return `rgb(${r}, ${g}, ${b})`;
}

/** Sequential colour (viridis-like, light to dark) for t in [0, 1]. */
export function sequentialColor(t: number): string {
  const stops = [
    [253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84],
  ];
  const x = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const c = stops[i]!.map((v, j) => Math.round(v + (stops[i + 1]![j]! - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}
