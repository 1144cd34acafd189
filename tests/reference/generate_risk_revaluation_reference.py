"""Reference P&L for the full-revaluation engine (cryptoderiv.portfolio.valuation.revalue), computed
independently with QuantLib's BlackCalculator (Black-76 on the forward, undiscounted) and plain Python
contract formulas:

* spot: q (S1 - S0); linear perpetual: q (F1 - F0) - q F1 apr dt with F = S * (F0/S0);
* dated forwards: F = S exp(b tau), b = ln(F0/S0)/tau0, tau = tau0 - dt;
* inverse future/perpetual (USD notional N): coin P&L N (1/F0 - 1/F1) valued at S1;
* linear option: q (Black(F1, K, tau1, iv + shift) - Black(F0, K, tau0, iv));
* inverse option: q (Black(F1, ...)/F1 * S1 - Black(F0, ...)/F0 * S0).

    .venv/bin/python tests/reference/generate_risk_revaluation_reference.py

Writes tests/reference/risk_revaluation_reference.json (book, spot, scenarios, P&L per scenario and position).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import QuantLib as ql  # noqa: N813

OUT = Path(__file__).with_name("risk_revaluation_reference.json")
SPOT = {"BTC": 90000.0, "ETH": 3400.0}
# id, base, kind, inverse, q (coins or USD notional), mark/forward F0, tau0 (years), strike, type, iv, funding apr
BOOK = [
    ["spot", "BTC", "spot", False, 1.5, None, 0.0, None, None, None, 0.0],
    ["perp-lin", "BTC", "perpetual", False, -1.0, 90090.0, 0.0, None, None, None, 0.10],
    ["perp-inv", "BTC", "perpetual", True, -50000.0, 90050.0, 0.0, None, None, None, 0.0],
    ["fut-inv", "BTC", "future", True, 30000.0, 91000.0, 0.1, None, None, None, 0.0],
    ["fut-lin", "BTC", "future", False, -0.5, 91100.0, 0.1, None, None, None, 0.0],
    ["call-inv", "BTC", "option", True, -2.0, 91000.0, 0.1, 100000.0, "call", 0.55, 0.0],
    ["put-lin", "BTC", "option", False, 3.0, 91000.0, 0.1, 80000.0, "put", 0.62, 0.0],
    ["eth-put-inv", "ETH", "option", True, 10.0, 3420.0, 0.25, 3000.0, "put", 0.70, 0.0],
]
# btc multiplier, eth multiplier, btc vol shift, eth vol shift (decimal), days forward
SCENARIOS = [
    [1.0, 1.0, 0.0, 0.0, 0.0], [1.1, 1.0, 0.0, 0.0, 0.0], [0.8, 0.9, 0.0, 0.0, 0.0], [1.0, 1.0, 0.1, -0.1, 0.0],
    [0.6, 0.5, 0.3, 0.4, 0.0], [1.4, 1.3, -0.2, -0.3, 0.0], [1.0, 1.0, 0.0, 0.0, 7.0], [0.95, 1.02, 0.05, 0.0, 1.0],
    [1.2, 0.8, -0.1, 0.2, 10.0], [0.7, 0.75, 0.25, 0.3, 30.0], [1.0, 1.0, 0.0, 0.0, 36.5],
    [1.05, 0.97, 0.02, 0.01, 36.5],
]


def black(kind: str, f: float, k: float, tau: float, vol: float) -> float:
    if tau <= 0:
        return max(f - k, 0.0) if kind == "call" else max(k - f, 0.0)
    payoff = ql.PlainVanillaPayoff(ql.Option.Call if kind == "call" else ql.Option.Put, k)
    return ql.BlackCalculator(payoff, f, vol * math.sqrt(tau), 1.0).value()


def pnl(pos: list, scen: list) -> float:
    _, base, kind, inverse, q, f0, tau0, k, typ, iv, apr = pos
    j = 0 if base == "BTC" else 1
    s0 = SPOT[base]
    s1 = s0 * scen[j]
    shift, dt = scen[2 + j], scen[4] / 365.0
    if kind == "spot":
        return q * (s1 - s0)
    if kind == "perpetual":
        f1 = s1 * f0 / s0
        if inverse:
            return s1 * q * (1 / f0 - 1 / f1)
        return q * (f1 - f0) - q * f1 * apr * dt
    b = math.log(f0 / s0) / tau0
    tau1 = max(tau0 - dt, 0.0)
    f1 = s1 * math.exp(b * tau1)
    if kind == "future":
        return s1 * q * (1 / f0 - 1 / f1) if inverse else q * (f1 - f0)
    v0 = black(typ, f0, k, tau0, iv)
    v1 = black(typ, f1, k, tau1, max(iv + shift, 0.01))
    if inverse:
        return q * (v1 / f1 * s1 - v0 / f0 * s0)
    return q * (v1 - v0)


def main() -> None:
    table = [[pnl(p, s) for p in BOOK] for s in SCENARIOS]
    OUT.write_text(json.dumps({"spot": SPOT, "book": BOOK, "scenarios": SCENARIOS, "pnl": table}, indent=1) + "\n")
    print(f"wrote {len(SCENARIOS)} x {len(BOOK)} P&L values to {OUT} (QuantLib {ql.__version__})")


if __name__ == "__main__":
    main()
