"""VaR and expected shortfall (``risk_metrics``) and the VaR backtests (``var_backtests``)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np
import psycopg

from cryptoderiv.reports import charts
from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Chart, Section, Table, Tone
from cryptoderiv.reports.sources import fetch_dicts, latest_as_of, staleness_note, table_exists

METHOD_LABELS = {
    "hs": "Historical simulation",
    "fhs": "Filtered historical simulation",
    "mc_heston": "Monte Carlo (Heston)",
    "parametric": "Parametric Gaussian (comparison)",
}
METHOD_SHORT = {"hs": "HS", "fhs": "FHS", "mc_heston": "MC Heston", "parametric": "Gaussian*"}
ZONE_TONES: dict[str | None, Tone] = {"green": "good", "yellow": "warn", "red": "bad", None: None}

VAR_QUERY = """
SELECT method, horizon_days, level, var_usd, es_usd, portfolio_value_usd, n_scenarios,
       window_start, window_end, is_comparison
FROM risk_metrics
WHERE portfolio = %s AND as_of = %s
ORDER BY horizon_days, level DESC, is_comparison, method
"""

BACKTEST_QUERY = """
SELECT DISTINCT ON (portfolio, method, horizon_days, level)
       portfolio, as_of, method, horizon_days, level, observations, exceptions, kupiec_lr, kupiec_p,
       christoffersen_ind, christoffersen_cc, christoffersen_cc_p, basel_zone, basel_multiplier, window_start
FROM var_backtests
WHERE as_of <= %s
ORDER BY portfolio, method, horizon_days, level, as_of DESC
"""


def _method_order(method: str) -> int:
    return list(METHOD_LABELS).index(method) if method in METHOD_LABELS else len(METHOD_LABELS)


def var_section(conn: psycopg.Connection, report_date: date, portfolio: str) -> Section:
    """VaR and ES per method, horizon and level for the latest date on or before ``report_date``.

    The parametric Gaussian figure is shown, labelled, as a comparison only. The chart compares VaR and
    ES by method at the shortest horizon.
    """
    title = "Value at risk and expected shortfall"
    if not table_exists(conn, "risk_metrics"):
        return Section("var", title, ("No VaR figures yet: the risk tables are not deployed.",))
    as_of = latest_as_of(conn, "risk_metrics", portfolio, report_date)
    if as_of is None:
        return Section("var", title, (f"No VaR figures yet for portfolio {portfolio} "
                                      f"on or before {report_date.isoformat()}.",))
    rows = fetch_dicts(conn, VAR_QUERY, (portfolio, as_of))
    rows.sort(key=lambda r: (r["horizon_days"], -r["level"], _method_order(r["method"])))
    value = next((r["portfolio_value_usd"] for r in rows if r["portfolio_value_usd"] is not None), None)
    notes = [staleness_note("Figures", as_of, report_date),
             "Losses are positive, in USD. VaR: the loss quantile; ES: the mean loss beyond it. "
             "HS revalues every position in full on historical spot and surface moves; FHS rescales those "
             "moves to today's volatility; MC simulates the calibrated Heston model."]
    if value is not None:
        notes.append(f"Portfolio value: {fmt.usd(value)} USD.")
    if any(r["is_comparison"] for r in rows):
        notes.append("* The parametric Gaussian figure is a comparison, not a risk figure of record.")
    table_rows = []
    for r in rows:
        share = r["var_usd"] / abs(value) if value else None
        window = (f"{fmt.day(r['window_start'])} to {fmt.day(r['window_end'])}"
                  if r["window_start"] is not None else fmt.MISSING)
        table_rows.append((METHOD_LABELS.get(r["method"], r["method"]), f"{r['horizon_days']}d", fmt.level(r["level"]),
                           fmt.usd(r["var_usd"]), fmt.usd(r["es_usd"]), fmt.percent(share), f"{r['n_scenarios']:,}",
                           window))
    table = Table(("Method", "Horizon", "Level", "VaR (USD)", "ES (USD)", "VaR / value", "Scenarios", "Window"),
                  tuple(table_rows), (False, False, False, True, True, True, True, False))
    return Section("var", title, tuple(notes), (table,), _var_chart(rows))


def _var_chart(rows: list[dict[str, Any]]) -> tuple[Chart, ...]:
    horizon = min(r["horizon_days"] for r in rows)
    at_horizon = [r for r in rows if r["horizon_days"] == horizon]
    methods = sorted({r["method"] for r in at_horizon}, key=_method_order)
    levels = sorted({r["level"] for r in at_horizon})
    series: dict[str, list[float]] = {}
    for lvl in levels:
        for measure in ("var_usd", "es_usd"):
            label = f"{'VaR' if measure == 'var_usd' else 'ES'} {fmt.level(lvl)}"
            series[label] = [next((float(r[measure]) for r in at_horizon
                                   if r["method"] == m and math.isclose(r["level"], lvl)), float("nan"))
                             for m in methods]
    png = charts.var_es_bars([METHOD_SHORT.get(m, m) for m in methods], series,
                             f"{horizon}-day VaR and ES by method (USD)")
    return (Chart("var-es", f"{horizon}-day VaR and ES by method", png),)


def backtest_section(conn: psycopg.Connection, report_date: date, portfolio: str) -> Section:
    """The latest VaR backtest per series (the portfolio first, then single-asset series), method,
    horizon and level: exceptions against the expected count, Kupiec and Christoffersen tests, Basel zone.
    """
    title = "VaR backtests"
    if not table_exists(conn, "var_backtests"):
        return Section("var_backtest", title, ("No VaR backtests yet: the risk tables are not deployed.",))
    rows = fetch_dicts(conn, BACKTEST_QUERY, (report_date,))
    if not rows:
        return Section("var_backtest", title, (f"No VaR backtests yet on or before {report_date.isoformat()}.",))
    rows.sort(key=lambda r: (r["portfolio"] != portfolio, r["portfolio"], _method_order(r["method"]),
                             r["horizon_days"], -r["level"]))
    table_rows, tones = [], []
    for r in rows:
        expected = r["observations"] * (1.0 - r["level"])
        table_rows.append((r["portfolio"], METHOD_SHORT.get(r["method"], r["method"]), f"{r['horizon_days']}d",
                           fmt.level(r["level"]), f"{r['observations']:,}", f"{r['exceptions']:,}",
                           fmt.number(expected, 1), fmt.probability(r["kupiec_p"]),
                           fmt.number(r["christoffersen_ind"]), fmt.probability(r["christoffersen_cc_p"]),
                           r["basel_zone"] or fmt.MISSING, fmt.day(r["as_of"])))
        kupiec_tone: Tone = "bad" if r["kupiec_p"] is not None and r["kupiec_p"] < 0.05 else None
        cc_tone: Tone = "bad" if r["christoffersen_cc_p"] is not None and r["christoffersen_cc_p"] < 0.05 else None
        tones.append((None,) * 7 + (kupiec_tone, None, cc_tone, ZONE_TONES.get(r["basel_zone"]), None))
    table = Table(("Series", "Method", "Horizon", "Level", "Days", "Exceptions", "Expected", "Kupiec p",
                   "Chr. LR ind", "Chr. CC p", "Basel zone", "As of"),
                  tuple(table_rows), (False, False, False, False, True, True, True, True, True, True, False, False),
                  tuple(tones))
    n_red = int(np.sum([r["basel_zone"] == "red" for r in rows]))
    notes = ["Kupiec: proportion of failures (chi-squared, 1 dof); Christoffersen: independence LR (1 dof) "
             "and conditional coverage (2 dof); p < 0.05 rejects the model (highlighted). Basel zone on the "
             "last 250 days."]
    if n_red:
        notes.append(f"{n_red} backtest{'s are' if n_red > 1 else ' is'} in the Basel red zone.")
    return Section("var_backtest", title, tuple(notes), (table,))


def headline(conn: psycopg.Connection, report_date: date, portfolio: str) -> tuple[tuple[str, str], ...]:
    """The figures for the subject line: 1-day 99% HS VaR and ES (else the first 1-day 99% figure)."""
    if not table_exists(conn, "risk_metrics"):
        return ()
    as_of = latest_as_of(conn, "risk_metrics", portfolio, report_date)
    if as_of is None:
        return ()
    rows = fetch_dicts(conn, VAR_QUERY, (portfolio, as_of))
    candidates = [r for r in rows if r["horizon_days"] == 1 and math.isclose(r["level"], 0.99)
                  and not r["is_comparison"]]
    if not candidates:
        return ()
    best = min(candidates, key=lambda r: _method_order(r["method"]))
    method = METHOD_SHORT.get(best["method"], best["method"])
    return ((f"1d 99% VaR ({method})", f"{fmt.usd(best['var_usd'])} USD"),
            (f"1d 99% ES ({method})", f"{fmt.usd(best['es_usd'])} USD"))
