"""Generate ``black_reference.csv``: Black-76 and Black-Scholes-Merton prices and greeks at 60 digits (mpmath).

Usage::

    .venv/bin/python tests/reference/generate_black_reference.py          # rewrite the CSV next to this file
    .venv/bin/python tests/reference/generate_black_reference.py --check  # regenerate and compare, exit 1 if different

Deterministic: a fixed grid plus random cases from ``numpy.random.default_rng(20240611)``.  Inputs are float64
numbers written with ``repr`` (exact round trip); the reference values are the mpmath results for exactly
those inputs, rounded once to the nearest float64 and written with ``repr``.  The normal distribution
function is ``mpmath.ncdf`` at 60 significant digits, enough for the worst cancellation in the table
(deep out-of-the-money prices lose at most ~10 digits).

Columns: ``case``, ``model`` (``black76`` or ``bsm``), ``kind`` (``call``/``put``), ``underlying`` (forward for
Black-76, spot for BSM), ``strike``, ``t``, ``vol``, ``rate``, ``div_yield`` (BSM only, else empty),
``discount_factor`` (Black-76 only, else empty), ``price``, ``delta``, ``gamma``, ``vega``, ``theta``, ``rho``,
``vanna``, ``volga`` and ``kappa`` = price / (vol * vega), the condition number of the implied volatility.
Greek conventions are those of :mod:`cryptoderiv.pricing.black76` and :mod:`cryptoderiv.pricing.black_scholes`.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from pathlib import Path

import mpmath as mp
import numpy as np

DPS = 60
SEED = 20240611
OUT = Path(__file__).with_name("black_reference.csv")
COLUMNS = [
    "case", "model", "kind", "underlying", "strike", "t", "vol", "rate", "div_yield", "discount_factor",
    "price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga", "kappa",
]  # fmt: skip

HOUR = 1.0 / (365.0 * 24.0)
DAY = 1.0 / 365.0


def _black76(theta: int, f: float, k: float, t: float, v: float, d: float) -> dict[str, mp.mpf]:
    F, K, T, V, D = (mp.mpf(a) for a in (f, k, t, v, d))
    sq = mp.sqrt(T)
    s = V * sq
    d1 = mp.log(F / K) / s + s / 2
    d2 = d1 - s
    pdf1 = mp.npdf(d1)
    price = D * theta * (F * mp.ncdf(theta * d1) - K * mp.ncdf(theta * d2))
    vega = D * F * pdf1 * sq
    r = -mp.log(D) / T
    return {
        "price": price,
        "delta": theta * D * mp.ncdf(theta * d1),
        "gamma": D * pdf1 / (F * s),
        "vega": vega,
        "theta": -D * F * pdf1 * V / (2 * sq) + r * price,
        "rho": -T * price,
        "vanna": -D * pdf1 * d2 / V,
        "volga": vega * d1 * d2 / V,
        "kappa": price / (V * vega),
    }


def _bsm(theta: int, sp: float, k: float, t: float, r: float, v: float, q: float) -> dict[str, mp.mpf]:
    S, K, T, R, V, Q = (mp.mpf(a) for a in (sp, k, t, r, v, q))
    sq = mp.sqrt(T)
    s = V * sq
    d1 = (mp.log(S / K) + (R - Q) * T) / s + s / 2
    d2 = d1 - s
    dq = mp.exp(-Q * T)
    dr = mp.exp(-R * T)
    pdf1 = mp.npdf(d1)
    n1 = mp.ncdf(theta * d1)
    n2 = mp.ncdf(theta * d2)
    price = theta * (S * dq * n1 - K * dr * n2)
    vega = S * dq * pdf1 * sq
    return {
        "price": price,
        "delta": theta * dq * n1,
        "gamma": dq * pdf1 / (S * s),
        "vega": vega,
        "theta": -S * dq * pdf1 * V / (2 * sq) - theta * R * K * dr * n2 + theta * Q * S * dq * n1,
        "rho": theta * K * T * dr * n2,
        "vanna": -dq * pdf1 * d2 / V,
        "volga": vega * d1 * d2 / V,
        "kappa": price / (V * vega),
    }


def _cases() -> list[tuple]:
    """(model, theta, underlying, strike, t, vol, rate, div_yield, discount_factor) with float64 inputs."""
    rng = np.random.default_rng(SEED)
    cases: list[tuple] = []
    # Black-76 grid: log-moneyness x = ln(F/K) from deep ITM to deep OTM, 1 hour .. 30 years, vol 1% .. 500%
    xs = [-5.0, -2.0, -1.0, -0.5, -0.1, -0.01, -1e-4, 0.0, 1e-4, 0.01, 0.1, 0.5, 1.0, 2.0, 5.0]
    ts = [HOUR, DAY, 7 * DAY, 0.25, 1.0, 5.0, 30.0]
    vols = [0.01, 0.05, 0.2, 0.8, 1.5, 5.0]
    for x in xs:
        for t in ts:
            for v in vols:
                theta = int(rng.choice([1, -1]))
                f = float(rng.choice([1.0, 100.0, 2500.0, 90000.0]))
                d = float(rng.choice([1.0, 0.97, math.exp(-0.05 * t)]))
                cases.append(("black76", theta, f, f * math.exp(-x), t, v, math.nan, math.nan, d))
    # Black-76 random: x uniform in [-3, 3], log-uniform t and vol
    for _ in range(500):
        f = float(np.exp(rng.uniform(0.0, 12.0)))
        x = float(rng.uniform(-3.0, 3.0))
        t = float(np.exp(rng.uniform(np.log(HOUR), np.log(10.0))))
        v = float(np.exp(rng.uniform(np.log(0.01), np.log(4.0))))
        d = float(np.exp(-rng.uniform(0.0, 0.1) * t))
        cases.append(("black76", int(rng.choice([1, -1])), f, f * math.exp(-x), t, v, math.nan, math.nan, d))
    # Black-Scholes-Merton grid and random cases, rates and yields of either sign
    for m in [0.3, 0.7, 0.95, 1.0, 1.05, 1.5, 3.0]:
        for t in [DAY, 0.1, 1.0, 5.0]:
            for v in [0.05, 0.3, 1.0, 3.0]:
                r = float(rng.choice([-0.01, 0.0, 0.05, 0.12]))
                q = float(rng.choice([0.0, 0.02, 0.08]))
                cases.append(("bsm", int(rng.choice([1, -1])), 100.0, 100.0 * m, t, v, r, q, math.nan))
    for _ in range(500):
        sp = float(np.exp(rng.uniform(0.0, 12.0)))
        k = sp * float(np.exp(rng.uniform(-2.0, 2.0)))
        t = float(np.exp(rng.uniform(np.log(DAY), np.log(10.0))))
        v = float(np.exp(rng.uniform(np.log(0.02), np.log(3.0))))
        r = float(rng.uniform(-0.02, 0.15))
        q = float(rng.uniform(-0.05, 0.1))
        cases.append(("bsm", int(rng.choice([1, -1])), sp, k, t, v, r, q, math.nan))
    return cases


def _fmt(value: float) -> str:
    return "" if isinstance(value, float) and math.isnan(value) else repr(float(value))


def generate() -> str:
    """The CSV text."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    with mp.workdps(DPS):
        for i, (model, theta, u, k, t, v, r, q, d) in enumerate(_cases()):
            ref = _black76(theta, u, k, t, v, d) if model == "black76" else _bsm(theta, u, k, t, r, v, q)
            row = [str(i), model, "call" if theta > 0 else "put", _fmt(u), _fmt(k), _fmt(t), _fmt(v)]
            row += [_fmt(r), _fmt(q), _fmt(d)]
            row += [_fmt(float(ref[name])) for name in COLUMNS[10:]]
            writer.writerow(row)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print(f"{OUT.name}: {'up to date' if same else 'DIFFERS from a fresh generation'}")
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT} ({text.count(chr(10)) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
