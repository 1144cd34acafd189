/**
 * Option maths the dashboard needs to draw curves (pure functions; Vitest-tested):
 * SVI smiles, Black-76 (undiscounted, as Deribit marks), implied vol by bisection, Heston prices,
 * dealer gamma exposure and max pain (same definitions as cryptoderiv.analytics.positioning).
 * Units: IV decimal, t ACT/365 years, prices USD per coin.
 */

/** Raw SVI total variance w(k) = a + b (rho (k - m) + sqrt((k - m)^2 + sigma^2)), k = ln(K/F)
 * (Gatheral 2004). */
export function sviTotalVariance(k: number, p: { a: number; b: number; rho: number; m: number; sigma: number }): number {
  const d = k - p.m;
  return p.a + p.b * (p.rho * d + Math.sqrt(d * d + p.sigma * p.sigma));
}

/** SVI implied vol at log-moneyness k for maturity t (NaN where the total variance is negative). */
export function sviIv(k: number, t: number, p: { a: number; b: number; rho: number; m: number; sigma: number }): number {
  const w = sviTotalVariance(k, p);
  return w >= 0 && t > 0 ? Math.sqrt(w / t) : Number.NaN;
}

/** Standard normal CDF through erfc (fractional error < 1.2e-7, far below what a chart shows). */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

// erfc: the Chebyshev fit of Press et al., Numerical Recipes (2nd ed.), section 6.2 (fractional error < 1.2e-7).
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 +
        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Undiscounted Black-76 price of a call or put on forward F. */
export function black76(isCall: boolean, F: number, K: number, t: number, vol: number): number {
  if (!(t > 0) || !(vol > 0)) return Math.max(isCall ? F - K : K - F, 0);
  const s = vol * Math.sqrt(t);
  const d1 = (Math.log(F / K) + 0.5 * s * s) / s;
  const d2 = d1 - s;
  return isCall ? F * normCdf(d1) - K * normCdf(d2) : K * normCdf(-d2) - F * normCdf(-d1);
}

/** Black-76 gamma d2V/dF2 (undiscounted), per USD. */
export function black76Gamma(F: number, K: number, t: number, vol: number): number {
  if (!(t > 0) || !(vol > 0) || !(F > 0) || !(K > 0)) return 0;
  const s = vol * Math.sqrt(t);
  const d1 = (Math.log(F / K) + 0.5 * s * s) / s;
  return normPdf(d1) / (F * s);
}

/** Implied vol of an undiscounted Black-76 price by bisection on [1e-4, 10]; NaN outside the bounds. */
export function impliedVol(isCall: boolean, price: number, F: number, K: number, t: number): number {
  const intrinsic = Math.max(isCall ? F - K : K - F, 0);
  const upper = isCall ? F : K;
  if (!(price > intrinsic) || !(price < upper) || !(t > 0)) return Number.NaN;
  let lo = 1e-4;
  let hi = 10;
  for (let i = 0; i < 100; i++) {
    const mid = 0.5 * (lo + hi);
    if (black76(isCall, F, K, t, mid) > price) hi = mid;
    else lo = mid;
    if (hi - lo < 1e-9) break;
  }
  return 0.5 * (lo + hi);
}

export interface HestonParams {
  v0: number;
  kappa: number;
  theta: number;
  sigma: number;
  rho: number;
}

// 64-point Gauss-Legendre nodes on [-1, 1], computed once (Newton on Legendre polynomials).
const GL = (() => {
  const n = 64;
  const x: number[] = [];
  const w: number[] = [];
  for (let i = 1; i <= n; i++) {
    let z = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = z;
      for (let k = 2; k <= n; k++) {
        const p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = (n * (z * p1 - p0)) / (z * z - 1);
      const dz = p1 / dp;
      z -= dz;
      if (Math.abs(dz) < 1e-15) break;
    }
    x.push(z);
    w.push(2 / ((1 - z * z) * dp * dp));
  }
  return { x, w };
})();

type C = [number, number];
const cadd = (a: C, b: C): C => [a[0] + b[0], a[1] + b[1]];
const csub = (a: C, b: C): C => [a[0] - b[0], a[1] - b[1]];
const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
const cdiv = (a: C, b: C): C => {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};
const cexp = (a: C): C => {
  const e = Math.exp(a[0]);
  return [e * Math.cos(a[1]), e * Math.sin(a[1])];
};
const clog = (a: C): C => [Math.log(Math.hypot(a[0], a[1])), Math.atan2(a[1], a[0])];
const csqrt = (a: C): C => {
  const r = Math.hypot(a[0], a[1]);
  const re = Math.sqrt((r + a[0]) / 2);
  const im = Math.sign(a[1] || 1) * Math.sqrt(Math.max(r - a[0], 0) / 2);
  return [re, im];
};

/** Heston characteristic function of ln(F_T / F_0) at complex u, "little trap" form
 * (Albrecher, Mayer, Schoutens, Tistaert, Wilmott Magazine 2007). */
function hestonCf(u: C, t: number, p: HestonParams): C {
  const i: C = [0, 1];
  const iu = cmul(i, u);
  const rsiu: C = [p.rho * p.sigma * iu[0], p.rho * p.sigma * iu[1]];
  const b = csub([p.kappa, 0], rsiu);
  const d = csqrt(cadd(cmul(b, b), [p.sigma * p.sigma * (cmul(u, u)[0] + iu[0]), p.sigma * p.sigma * (cmul(u, u)[1] + iu[1])]));
  const g = cdiv(csub(b, d), cadd(b, d));
  const edt = cexp([-d[0] * t, -d[1] * t]);
  const one: C = [1, 0];
  const bmd = csub(b, d);
  const logTerm = clog(cdiv(csub(one, cmul(g, edt)), csub(one, g)));
  const s2 = p.sigma * p.sigma;
  const C_: C = [
    (p.kappa * p.theta / s2) * (bmd[0] * t - 2 * logTerm[0]),
    (p.kappa * p.theta / s2) * (bmd[1] * t - 2 * logTerm[1]),
  ];
  const D = cmul([bmd[0] / s2, bmd[1] / s2], cdiv(csub(one, edt), csub(one, cmul(g, edt))));
  return cexp(cadd(C_, cmul(D, [p.v0, 0])));
}

/** Undiscounted Heston call price on forward F (Lewis 2001 single integral). The integrand decays like
 * exp(-u^2 w / 2) with w the total variance, so it is integrated up to U = 12 / sqrt(w_min) (w_min from the
 * smaller of v0 and theta) with 8 panels of 64-point Gauss-Legendre. */
export function hestonCall(F: number, K: number, t: number, p: HestonParams): number {
  const x = Math.log(F / K);
  const wMin = Math.max(Math.min(p.v0, p.theta) * t, 1e-8);
  const upper = Math.min(2000, Math.max(30, 12 / Math.sqrt(wMin)));
  const panels = 8;
  const width = upper / panels;
  let integral = 0;
  for (let k = 0; k < panels; k++) {
    const a = k * width;
    for (let j = 0; j < GL.x.length; j++) {
      const u = a + 0.5 * width * (GL.x[j]! + 1);
      const phi = hestonCf([u, -0.5], t, p);
      const e: C = [Math.cos(u * x), Math.sin(u * x)];
      integral += GL.w[j]! * 0.5 * width * (cmul(e, phi)[0] / (u * u + 0.25));
    }
  }
  return F - (Math.sqrt(F * K) / Math.PI) * integral;
}

/** Heston smile as Black-76 IVs (OTM options priced: puts below the forward, calls above). */
export function hestonIv(F: number, K: number, t: number, p: HestonParams): number {
  const call = hestonCall(F, K, t, p);
  if (K >= F) return impliedVol(true, call, F, K, t);
  return impliedVol(false, call - (F - K), F, K, t);
}

export interface ChainOption {
  strike: number;
  isCall: boolean;
  openInterest: number;
  iv: number;
  t: number;
  forward: number;
}

/**
 * Dealer gamma exposure across spot levels: GEX(S) = sum sign_i OI_i Gamma_i(F_i S/S0) (F_i S/S0)^2 / 100,
 * dealers long calls (+1) and short puts (-1) (SqueezeMetrics 2017), sticky-strike vols. USD of delta
 * change per 1 % spot move. The flip is the zero crossing nearest the spot (NaN without one).
 */
export function gammaProfile(chain: ChainOption[], spot: number, n = 121): { grid: number[]; gex: number[]; atSpot: number; flip: number } {
  const grid = Array.from({ length: n }, (_, i) => spot * (0.7 + (0.6 * i) / (n - 1)));
  const use = chain.filter((o) => o.iv > 0 && o.openInterest > 0 && o.t > 0 && o.forward > 0);
  const gexAt = (s: number) => {
    let total = 0;
    for (const o of use) {
      const F = (o.forward * s) / spot;
      total += (o.isCall ? 1 : -1) * o.openInterest * black76Gamma(F, o.strike, o.t, o.iv) * F * F * 0.01;
    }
    return total;
  };
  const gex = grid.map(gexAt);
  let flip = Number.NaN;
  let best = Infinity;
  for (let i = 0; i + 1 < n; i++) {
    const a = gex[i]!;
    const b = gex[i + 1]!;
    if (a === 0 || a * b < 0) {
      const root = a === 0 ? grid[i]! : grid[i]! - (a * (grid[i + 1]! - grid[i]!)) / (b - a);
      if (Math.abs(root - spot) < best) {
        best = Math.abs(root - spot);
        flip = root;
      }
    }
  }
  return { grid, gex, atSpot: gexAt(spot), flip };
}

/** Max pain: the listed strike minimising the intrinsic value paid to holders (lowest on ties). */
export function maxPain(options: { strike: number; isCall: boolean; openInterest: number }[]): { strike: number; payout: { strike: number; value: number }[] } {
  const strikes = [...new Set(options.map((o) => o.strike))].sort((a, b) => a - b);
  const payout = strikes.map((s) => ({
    strike: s,
    value: options.reduce((acc, o) => acc + o.openInterest * Math.max(o.isCall ? s - o.strike : o.strike - s, 0), 0),
  }));
  let bestIdx = 0;
  payout.forEach((p, i) => {
    if (p.value < payout[bestIdx]!.value) bestIdx = i;
  });
  return { strike: payout[bestIdx]?.strike ?? Number.NaN, payout };
}

/** IV rank: where the current value sits in the [min, max] of its history, 0..1 (NaN without a range). */
export function ivRank(history: number[], current: number): number {
  const vals = history.filter(Number.isFinite);
  if (!vals.length || !Number.isFinite(current)) return Number.NaN;
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  return hi > lo ? (current - lo) / (hi - lo) : Number.NaN;
}
