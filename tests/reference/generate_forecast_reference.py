"""Reference values for the forecasting tests, from independent implementations.

- GARCH(1,1) maximum-likelihood fits by the ``arch`` package (K. Sheppard) on seeded simulated GARCH
  returns: parameters, log-likelihood and 1..7-step variance forecasts.
- Diebold-Mariano statistics for h > 1 from statsmodels: OLS of the loss differential on a constant
  with a HAC covariance using the uniform (truncated) kernel up to lag h - 1, no small-sample
  correction; the HLN factor is applied here from its published formula.

Run: ``.venv/bin/python tests/reference/generate_forecast_reference.py`` (needs arch and statsmodels,
dev dependencies). Writes ``tests/reference/forecast_reference.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import statsmodels.api as sm
from arch import arch_model
from scipy import stats

OUT = Path(__file__).with_name("forecast_reference.json")


def simulate_garch(n: int, omega: float, alpha: float, beta: float, seed: int) -> np.ndarray:
    """Daily log returns (decimal) from a GARCH(1,1) with Student-t(6) shocks scaled to unit variance."""
    rng = np.random.default_rng(seed)
    z = rng.standard_t(6, n) / np.sqrt(6 / 4)
    r = np.empty(n)
    s = omega / (1 - alpha - beta)
    for t in range(n):
        r[t] = np.sqrt(s) * z[t]
        s = omega + alpha * r[t] ** 2 + beta * s
    return r


def garch_case(seed: int, n: int, omega: float, alpha: float, beta: float) -> dict:
    r = simulate_garch(n, omega, alpha, beta, seed)
    res = arch_model(r * 100, mean="Zero", vol="GARCH", p=1, q=1, dist="normal").fit(
        disp="off", options={"ftol": 1e-12, "maxiter": 1000})
    fc = res.forecast(horizon=7, reindex=False).variance.to_numpy()[-1]
    return {"returns": r.tolist(), "scale": 100.0, "omega": float(res.params["omega"]),
            "alpha": float(res.params["alpha[1]"]), "beta": float(res.params["beta[1]"]),
            "loglik": float(res.loglikelihood), "forecast_var_pct2": fc.tolist()}


def dm_case(seed: int, n: int, h: int) -> dict:
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(n + h)
    e1 = np.convolve(common, np.ones(h) / h, mode="valid")[:n] + 0.3 * rng.standard_normal(n)
    e2 = 1.1 * np.convolve(common, np.ones(h) / h, mode="valid")[:n] + 0.3 * rng.standard_normal(n)
    d = e1**2 - e2**2
    fit = sm.OLS(d, np.ones(n)).fit(cov_type="HAC", cov_kwds={"maxlags": h - 1, "kernel": "uniform",
                                                              "use_correction": False})
    dm = float(fit.tvalues[0])
    hln = dm * np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    return {"e1": e1.tolist(), "e2": e2.tolist(), "h": h, "dm_plain": dm,
            "p_plain": float(2 * stats.norm.sf(abs(dm))), "dm_hln": float(hln),
            "p_hln": float(2 * stats.t(n - 1).sf(abs(hln)))}


def main() -> None:
    reference = {
        "generator": "tests/reference/generate_forecast_reference.py",
        "garch": [garch_case(11, 2000, 2e-5, 0.08, 0.90), garch_case(12, 1500, 5e-5, 0.15, 0.80)],
        "dm": [dm_case(21, 400, 5), dm_case(22, 250, 3)],
    }
    OUT.write_text(json.dumps(reference, indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
