"""Heston pricing and calibration speed, side by side with QuantLib (same grid, same quotes, same start).

Run: ``.venv/bin/python benchmarks/bench_heston.py`` (``make bench`` runs every ``benchmarks/bench_*.py``).
Prints aligned tables with the ratios and writes one JSON line to ``benchmarks/results/heston.json``.

1. Pricing a grid of 100 strikes x 10 expiries (1 day .. 1 year) with crypto-like parameters, two grids:
   strikes within +-4 standard deviations of each expiry, and one fixed strike range (50..200) for all
   expiries (what a raw exchange chain looks like). Engines: ``heston.price`` (from scratch, no cache),
   ``SurfacePricer`` (same chain re-priced with new parameters, as inside a calibration) and QuantLib's
   ``AnalyticHestonEngine`` with its default Gauss-Laguerre (144 nodes), Gauss-Laguerre 192 with the optimal
   control variate, and adaptive Gauss-Lobatto at relative tolerance 1e-12. Accuracy is the largest absolute
   difference (spot 100) from the Gauss-Lobatto 1e-12 prices; the ratio is QuantLib time / our time.
2. Calibration to a 200-option surface (10 expiries x 20 strikes, implied vols from known parameters), from the
   same start. Ours: Levenberg-Marquardt with the analytic gradient (``price_vega`` and ``iv`` objectives).
   QuantLib: ``HestonModel`` + ``HestonModelHelper`` (implied-vol error and price error) + ``LevenbergMarquardt``
   with the default ``AnalyticHestonEngine``. Times are medians of 5 runs; QuantLib's function evaluations are
   counted with an observer on the model (each is one full surface, finite-difference Jacobian included).
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import QuantLib as ql  # noqa: N813

from cryptoderiv.pricing import heston, implied_vol
from cryptoderiv.pricing.heston import HestonParams
from cryptoderiv.pricing.heston_calibration import calibrate

RESULTS = Path(__file__).resolve().parent / "results" / "heston.json"
PARAMS = HestonParams(v0=0.36, kappa=3.0, theta=0.45, sigma=1.8, rho=-0.4)
START = HestonParams(v0=0.2, kappa=1.0, theta=0.2, sigma=1.0, rho=-0.1)
EXPIRY_DAYS = np.array([1, 3, 7, 14, 30, 60, 91, 182, 273, 365])
PRICING_REPS = 7
CALIBRATION_REPS = 5


def _median_time(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    fn()  # warm-up
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _ql_setup(params: HestonParams) -> tuple[ql.Date, ql.SimpleQuote, ql.YieldTermStructureHandle, ql.HestonModel]:
    today = ql.Date(2, 1, 2024)
    ql.Settings.instance().evaluationDate = today
    curve = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, ql.Actual365Fixed(), ql.Continuous))
    spot = ql.SimpleQuote(100.0)
    process = ql.HestonProcess(
        curve, curve, ql.QuoteHandle(spot), params.v0, params.kappa, params.theta, params.sigma, params.rho
    )
    return today, spot, curve, ql.HestonModel(process)


def _grid(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    strikes, days = [], []
    for d in EXPIRY_DAYS:
        if kind == "sd":
            sd = math.sqrt(PARAMS.expected_variance(d / 365.0) * d / 365.0)
            strikes.append(100.0 * np.exp(np.linspace(-4.0, 4.0, 100) * sd))
        else:
            strikes.append(np.geomspace(50.0, 200.0, 100))
        days.append(np.full(100, d))
    k = np.concatenate(strikes)
    dd = np.concatenate(days)
    return k, dd, dd / 365.0


def bench_pricing(grid: str) -> dict[str, Any]:
    k, days, t = _grid(grid)
    kind = np.where(k < 100.0, "put", "call")
    p = PARAMS
    t_ours, ours = _median_time(
        lambda: heston.price(kind, 100.0, k, t, 0.0, 0.0, p.v0, p.kappa, p.theta, p.sigma, p.rho), PRICING_REPS
    )
    pricer = heston.SurfacePricer(kind, 100.0, k, t)
    bumped = [HestonParams(p.v0 * (1 + 1e-3 * i), p.kappa, p.theta, p.sigma, p.rho) for i in range(PRICING_REPS + 1)]
    it = iter(bumped)
    t_cached, _ = _median_time(lambda: pricer.price(next(it)), PRICING_REPS)

    today, spot, _, model = _ql_setup(p)
    engines = {
        "QL AnalyticHeston Laguerre-144": ql.AnalyticHestonEngine(model, 144),
        "QL AnalyticHeston OptimalCV Laguerre-192": ql.AnalyticHestonEngine(
            model, ql.AnalyticHestonEngine.OptimalCV, ql.FourierIntegration.gaussLaguerre(192)
        ),
        "QL AnalyticHeston Lobatto 1e-12": ql.AnalyticHestonEngine(model, 1e-12, 10_000_000),
    }
    rows: dict[str, dict[str, float]] = {}
    ql_prices: dict[str, np.ndarray] = {}
    for name, engine in engines.items():
        options = []
        for kk, d, kd in zip(k, days, kind, strict=True):
            opt = ql.VanillaOption(
                ql.PlainVanillaPayoff(ql.Option.Call if kd == "call" else ql.Option.Put, float(kk)),
                ql.EuropeanExercise(today + int(d)),
            )
            opt.setPricingEngine(engine)
            options.append(opt)
        flip = [0]

        def run(options: list[Any] = options, flip: list[int] = flip) -> np.ndarray:
            flip[0] ^= 1
            spot.setValue(100.0 + 1e-13 * flip[0])  # invalidate QuantLib's cached results
            return np.array([o.NPV() for o in options])

        reps = 3 if "Lobatto" in name else PRICING_REPS
        elapsed, prices = _median_time(run, reps)
        ql_prices[name] = prices
        rows[name] = {"ms": elapsed * 1e3}
    spot.setValue(100.0)
    reference = ql_prices["QL AnalyticHeston Lobatto 1e-12"]
    rows = {
        "cryptoderiv heston.price": {"ms": t_ours * 1e3, "max_abs_err": float(np.max(np.abs(ours - reference)))},
        "cryptoderiv SurfacePricer (cached plan)": {"ms": t_cached * 1e3, "max_abs_err": math.nan},
        **{n: {**r, "max_abs_err": float(np.max(np.abs(ql_prices[n] - reference)))} for n, r in rows.items()},
    }
    for r in rows.values():
        r["ratio_vs_ours"] = r["ms"] / (t_ours * 1e3)
    return {"grid": grid, "n_options": int(k.size), "rows": rows}


def _surface() -> tuple[np.ndarray, ...]:
    days = np.array([2, 7, 14, 30, 60, 91, 120, 182, 273, 365])
    strikes, dd = [], []
    for d in days:
        sd = math.sqrt(max(PARAMS.v0, PARAMS.theta) * d / 365.0)
        strikes.append(100.0 * np.exp(np.linspace(-2.0, 2.0, 20) * sd))
        dd.append(np.full(20, d))
    k = np.concatenate(strikes)
    days_all = np.concatenate(dd)
    t = days_all / 365.0
    kind = np.where(k < 100.0, "put", "call")
    prices = heston.price_forward(kind, 100.0, k, t, PARAMS)
    vols = np.asarray(implied_vol.implied_vol(kind, prices, 100.0, k, t), dtype=float)
    return kind, k, days_all, t, vols


def _rel_err(values: np.ndarray) -> float:
    return float(np.max(np.abs(values / PARAMS.to_array() - 1.0)))


def bench_calibration() -> dict[str, Any]:
    kind, k, days, t, vols = _surface()
    rows: dict[str, dict[str, Any]] = {}
    for objective in ("price_vega", "iv"):
        elapsed, res = _median_time(
            lambda objective=objective: calibrate(kind, k, t, 100.0, iv=vols, objective=objective, initial=START),
            CALIBRATION_REPS,
        )
        rows[f"cryptoderiv LM analytic gradient ({objective})"] = {
            "s": elapsed,
            "iterations": res.iterations,
            "evaluations": res.n_evaluations,
            "max_rel_param_err": _rel_err(res.params.to_array()),
            "rmse_iv": res.rmse_iv,
        }
    for label, error_type in (
        ("implied-vol error", ql.BlackCalibrationHelper.ImpliedVolError),
        ("price error", ql.BlackCalibrationHelper.PriceError),
    ):
        counts: list[int] = []

        def run(error_type: Any = error_type, counts: list[int] = counts) -> np.ndarray:
            _, _, curve, model = _ql_setup(START)
            engine = ql.AnalyticHestonEngine(model, 144)
            helpers = []
            for kk, d, vol in zip(k, days, vols, strict=True):
                helper = ql.HestonModelHelper(
                    ql.Period(int(d), ql.Days), ql.NullCalendar(), 100.0, float(kk),
                    ql.QuoteHandle(ql.SimpleQuote(float(vol))), curve, curve, error_type,
                )  # fmt: skip
                helper.setPricingEngine(engine)
                helpers.append(helper)
            n = [0]
            observer = ql.Observer(lambda: n.__setitem__(0, n[0] + 1))
            observer.registerWith(model)
            model.calibrate(
                helpers, ql.LevenbergMarquardt(1e-8, 1e-8, 1e-8), ql.EndCriteria(1000, 100, 1e-8, 1e-8, 1e-8)
            )
            counts.append(n[0])
            theta, kappa, sigma, rho, v0 = model.params()
            return np.array([v0, kappa, theta, sigma, rho])

        elapsed, got = _median_time(run, CALIBRATION_REPS)
        rows[f"QuantLib LM HestonModelHelper ({label})"] = {
            "s": elapsed,
            "iterations": None,
            "evaluations": counts[-1],
            "max_rel_param_err": _rel_err(got),
            "rmse_iv": None,
        }
    ours = rows["cryptoderiv LM analytic gradient (price_vega)"]["s"]
    for r in rows.values():
        r["ratio_vs_ours"] = r["s"] / ours
    return {"n_options": int(k.size), "true": PARAMS.to_array().tolist(), "start": START.to_array().tolist(),
            "rows": rows}  # fmt: skip


def _print_pricing(res: dict[str, Any]) -> None:
    title = "+-4 sd per expiry" if res["grid"] == "sd" else "fixed strikes 50..200 for every expiry"
    print(f"\nHeston pricing: {res['n_options']} options (100 strikes x 10 expiries, 1d..1y; {title})")
    print(f"  {'engine':44s} {'median ms':>10s} {'max|err|':>10s} {'time / ours':>12s}")
    for name, r in res["rows"].items():
        err = "" if math.isnan(r["max_abs_err"]) else f"{r['max_abs_err']:.1e}"
        print(f"  {name:44s} {r['ms']:10.2f} {err:>10s} {r['ratio_vs_ours']:12.2f}")
    print("  (max|err|: vs QuantLib Gauss-Lobatto 1e-12, spot 100)")


def _print_calibration(res: dict[str, Any]) -> None:
    print(f"\nHeston calibration: {res['n_options']} options (10 expiries x 20 strikes), true {res['true']},")
    print(f"  start {res['start']}; median of {CALIBRATION_REPS} runs")
    print(f"  {'method':48s} {'median s':>9s} {'iter':>5s} {'evals':>6s} {'max rel err':>12s} {'time/ours':>10s}")
    for name, r in res["rows"].items():
        iters = "n/a" if r["iterations"] is None else str(r["iterations"])
        print(f"  {name:48s} {r['s']:9.4f} {iters:>5s} {r['evaluations']:6d} {r['max_rel_param_err']:12.1e} "
              f"{r['ratio_vs_ours']:10.1f}")  # fmt: skip


def main() -> int:
    pricing = [bench_pricing("sd"), bench_pricing("fixed")]
    for res in pricing:
        _print_pricing(res)
    calibration = bench_calibration()
    _print_calibration(calibration)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "heston",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "quantlib": ql.__version__,
        "params": PARAMS.to_array().tolist(),
        "pricing": pricing,
        "calibration": calibration,
    }
    RESULTS.write_text(json.dumps(record) + "\n")
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
