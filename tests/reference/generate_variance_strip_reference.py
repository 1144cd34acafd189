"""Generate ``tests/reference/variance_strip_reference.json``: exact model-free variances of SVI smiles.

Run from the project root (a few seconds)::

    .venv/bin/python tests/reference/generate_variance_strip_reference.py

For a smile ``w(k)`` (total implied variance on ``k = ln(K/F)``) the model-free (VIX / DVOL) variance of
one expiry is the continuous strip (Demeterfi, Derman, Kamal & Zou 1999; Cboe VIX white paper)

    sigma_MF^2 = (2 / T) * int_0^inf Q(K) / K^2 dK = (2 / T) * int_{-inf}^{inf} q(k) e^{-k} dk,

with ``Q`` the undiscounted out-of-the-money Black-76 price and ``q = Q / F`` (puts for ``k < 0``, calls for
``k >= 0``). It is evaluated here with mpmath at 30 significant digits (``mpmath.quad`` split at 0 and
+-1, +-3 standard deviations), independently of the library. The library's discrete Cboe strip on a dense
strike grid must agree with it up to its discretisation and truncation error.

Cases: a flat smile (where the answer is sigma^2 exactly, a check of this script) and three SVI smiles
with crypto-like parameters (Deribit BTC, 30 and 60 days).
"""

from __future__ import annotations

import json
from pathlib import Path

import mpmath as mp

mp.mp.dps = 30
OUT = Path(__file__).resolve().parent / "variance_strip_reference.json"

CASES = [
    {"name": "flat_50pct_30d", "t": 30 / 365, "svi": {"a": 0.25 * 30 / 365, "b": 0.0, "rho": 0.0, "m": 0.0,
                                                      "sigma": 0.1}},
    {"name": "btc_like_30d", "t": 30 / 365, "svi": {"a": 0.012, "b": 0.06, "rho": 0.15, "m": 0.05, "sigma": 0.12}},
    {"name": "btc_put_skew_30d", "t": 30 / 365, "svi": {"a": 0.010, "b": 0.07, "rho": -0.35, "m": -0.02,
                                                        "sigma": 0.10}},
    {"name": "eth_like_60d", "t": 60 / 365, "svi": {"a": 0.025, "b": 0.10, "rho": 0.05, "m": 0.03, "sigma": 0.2}},
]


def svi_w(k: mp.mpf, p: dict[str, float]) -> mp.mpf:
    x = k - p["m"]
    return p["a"] + p["b"] * (p["rho"] * x + mp.sqrt(x * x + p["sigma"] ** 2))


def otm_normalised(k: mp.mpf, p: dict[str, float]) -> mp.mpf:
    """Q / F for strike K = F e^k (undiscounted Black-76 with total variance w(k))."""
    w = svi_w(k, p)
    sw = mp.sqrt(w)
    d1 = -k / sw + sw / 2
    d2 = d1 - sw
    if k >= 0:
        return mp.ncdf(d1) - mp.exp(k) * mp.ncdf(d2)
    return mp.exp(k) * mp.ncdf(-d2) - mp.ncdf(-d1)


def model_free_variance(case: dict) -> mp.mpf:
    p = case["svi"]
    t = mp.mpf(case["t"])
    sd = mp.sqrt(svi_w(mp.mpf(0), p))
    pts = [-mp.inf, -12 * sd, -3 * sd, -sd, 0, sd, 3 * sd, 12 * sd, mp.inf]
    integral = mp.quad(lambda k: otm_normalised(k, p) * mp.exp(-k), pts)
    return 2 * integral / t


def main() -> None:
    out = []
    for case in CASES:
        var = model_free_variance(case)
        out.append({**case, "model_free_variance": float(var), "model_free_vol": float(mp.sqrt(var))})
        print(case["name"], mp.nstr(mp.sqrt(var), 15))
    OUT.write_text(json.dumps({"generator": "tests/reference/generate_variance_strip_reference.py",
                               "cases": out}, indent=2) + "\n")


if __name__ == "__main__":
    main()
