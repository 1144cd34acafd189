/**
 * Largest-Triangle-Three-Buckets downsampling (S. Steinarsson, "Downsampling Time Series for Visual
 * Representation", MSc thesis, University of Iceland, 2013): keeps the first and last points and, in each
 * of threshold - 2 equal buckets, the point forming the largest triangle with the previously kept point and
 * the average of the next bucket. Input must be sorted by x. Pure; used by the server before shipping.
 */
export interface XY {
  x: number;
  y: number;
}

export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  const n = xs.length;
  if (ys.length !== n) throw new RangeError(`lttb: ${n} x values but ${ys.length} y values`);
  if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError(`lttb: bad threshold ${threshold}`);
  if (threshold >= n || threshold === 0) return Array.from({ length: n }, (_, i) => i);
  if (threshold < 3) return threshold === 1 ? [0] : [0, n - 1];
  const out: number[] = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // average of the next bucket
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[j]!;
      avgY += ys[j]!;
    }
    const len = nextEnd - nextStart;
    avgX /= len;
    avgY /= len;
    // this bucket
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    const ax = xs[a]!;
    const ay = ys[a]!;
    let best = -1;
    let bestIdx = start;
    for (let j = start; j < end; j++) {
      const area = Math.abs((ax - avgX) * (ys[j]! - ay) - (ax - xs[j]!) * (avgY - ay));
      if (area > best) {
        best = area;
        bestIdx = j;
      }
    }
    out.push(bestIdx);
    a = bestIdx;
  }
  out.push(n - 1);
  return out;
}

/** LTTB on objects: ``x``/``y`` accessors pick the coordinates; non-finite y rows are dropped first. */
export function lttb<T>(rows: readonly T[], threshold: number, x: (r: T) => number, y: (r: T) => number): T[] {
  const kept = rows.filter((r) => Number.isFinite(y(r)) && Number.isFinite(x(r)));
  const idx = lttbIndices(kept.map(x), kept.map(y), threshold);
  return idx.map((i) => kept[i]!);
}
