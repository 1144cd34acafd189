"""Expected return per position (``expected_returns``): the decomposition and the P/Q statistics."""

from __future__ import annotations

from datetime import date

import psycopg

from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Section, Table
from cryptoderiv.reports.sources import fetch_dicts, latest_as_of, staleness_note, table_exists

QUERY = """
SELECT e.position_id, e.horizon_days, e.carry_usd, e.theta_usd, e.convexity_usd, e.vrp_usd, e.drift_usd,
       e.residual_usd, e.expected_pnl_usd, e.std_p_usd, e.std_q_usd, e.prob_profit_p, e.prob_profit_q, e.implied_vol,
       e.forecast_vol, e.vol_source
FROM expected_returns e
WHERE e.portfolio = %s AND e.as_of = %s
ORDER BY e.horizon_days, e.position_id = 'TOTAL', e.position_id
"""


def expected_returns_section(conn: psycopg.Connection, report_date: date, portfolio: str) -> Section:
    """Per position and horizon: carry, theta, volatility risk premium and drift, the expected P&L under
    the physical (forecast) measure, the P&L spread under P and Q, and the probability of profit."""
    title = "Expected return per position"
    if not table_exists(conn, "expected_returns"):
        return Section("expected_returns", title, ("No expected returns yet: the risk tables are not deployed.",))
    as_of = latest_as_of(conn, "expected_returns", portfolio, report_date)
    if as_of is None:
        return Section("expected_returns", title, (f"No expected returns yet for portfolio {portfolio} "
                                                   f"on or before {report_date.isoformat()}.",))
    rows = fetch_dicts(conn, QUERY, (portfolio, as_of))
    table_rows = tuple((r["position_id"], f"{r['horizon_days']}d", fmt.signed_usd(r["carry_usd"]),
                        fmt.signed_usd(r["theta_usd"]), fmt.signed_usd(r["convexity_usd"]),
                        fmt.signed_usd(r["vrp_usd"]), fmt.signed_usd(r["drift_usd"]),
                        fmt.signed_usd(r["residual_usd"]), fmt.signed_usd(r["expected_pnl_usd"]),
                        fmt.usd(r["std_p_usd"]), fmt.usd(r["std_q_usd"]),
                        fmt.percent(r["prob_profit_p"], 0), fmt.percent(r["prob_profit_q"], 0),
                        fmt.vol(r["implied_vol"]), fmt.vol(r["forecast_vol"]))
                       for r in rows)
    tones = tuple((None,) * 8 + (fmt.pnl_tone(r["expected_pnl_usd"]),) + (None,) * 6 for r in rows)
    table = Table(("Position", "Horizon", "Carry", "Theta", "Convexity", "VRP", "Drift", "Residual", "E[P&L] (P)",
                   "Std P", "Std Q", "P(profit) P", "P(profit) Q", "IV", "Fcst vol"),
                  table_rows, (False, False) + (True,) * 13, tones)
    sources = sorted({r["vol_source"] for r in rows if r["vol_source"]})
    notes = [staleness_note("Expected returns", as_of, report_date),
             "USD over the horizon. Carry: funding or basis roll-down; theta: option time decay; convexity: "
             "0.5 x dollar gamma x implied variance x horizon (offsets theta); VRP: 0.5 x dollar gamma x "
             "(forecast - implied variance) x horizon; drift: delta x forecast drift; residual: the simulated "
             "mean E[P&L] minus those terms. "
             "P: the forecast (physical) measure, Q: risk-neutral at implied vol. IV and forecast vol in "
             "vol points (annualised, 365 days)."]
    if sources:
        notes.append(f"Forecast vol source: {', '.join(sources)}.")
    return Section("expected_returns", title, tuple(notes), (table,))
