"""Stress tests (``stress_results``): the spot x vol grid as a heatmap, the other scenarios as a table."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.reports import charts
from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Chart, Section, Table
from cryptoderiv.reports.sources import fetch_dicts, latest_as_of, staleness_note, table_exists

KIND_LABELS = {"time_decay": "time decay", "funding": "funding shock", "historical": "historical replay"}

# TOTAL rows when the stage wrote them, else the sum over positions.
GRID_QUERY = """
SELECT spot_shock, vol_shock_pts,
       COALESCE(max(pnl_usd) FILTER (WHERE position_id = 'TOTAL'),
                sum(pnl_usd) FILTER (WHERE position_id <> 'TOTAL')) AS pnl_usd
FROM stress_results
WHERE portfolio = %s AND as_of = %s AND scenario_kind = 'grid'
GROUP BY spot_shock, vol_shock_pts
ORDER BY spot_shock, vol_shock_pts
"""

SCENARIO_QUERY = """
SELECT scenario_kind, scenario, min(spot_shock) AS spot_shock, min(vol_shock_pts) AS vol_shock_pts,
       min(days_forward) AS days_forward, min(funding_shock_apr) AS funding_shock_apr,
       COALESCE(max(pnl_usd) FILTER (WHERE position_id = 'TOTAL'),
                sum(pnl_usd) FILTER (WHERE position_id <> 'TOTAL')) AS pnl_usd,
       (array_agg(position_id ORDER BY pnl_usd) FILTER (WHERE position_id <> 'TOTAL'))[1] AS worst_position,
       min(pnl_usd) FILTER (WHERE position_id <> 'TOTAL') AS worst_position_pnl_usd
FROM stress_results
WHERE portfolio = %s AND as_of = %s AND scenario_kind <> 'grid'
GROUP BY scenario_kind, scenario
ORDER BY scenario_kind, scenario
"""


def stress_section(conn: psycopg.Connection, report_date: date, portfolio: str) -> Section:
    """Portfolio P&L under the stress grid (heatmap) and under time-decay, funding and historical scenarios."""
    title = "Stress tests"
    if not table_exists(conn, "stress_results"):
        return Section("stress", title, ("No stress results yet: the risk tables are not deployed.",))
    as_of = latest_as_of(conn, "stress_results", portfolio, report_date)
    if as_of is None:
        return Section("stress", title, (f"No stress results yet for portfolio {portfolio} "
                                         f"on or before {report_date.isoformat()}.",))
    notes = [staleness_note("Stress P&L", as_of, report_date),
             "Full revaluation of every position; P&L in USD against today's marks."]
    chart_list: list[Chart] = []
    grid = fetch_dicts(conn, GRID_QUERY, (portfolio, as_of))
    if grid:
        frame = pd.DataFrame(grid).pivot(index="spot_shock", columns="vol_shock_pts", values="pnl_usd")
        frame = frame.sort_index().sort_index(axis=1)
        pnl = frame.to_numpy(dtype=np.float64)
        worst = min(grid, key=lambda r: r["pnl_usd"])
        best = max(grid, key=lambda r: r["pnl_usd"])
        notes.append(f"Grid: {len(frame.index)} spot x {len(frame.columns)} vol scenarios. Worst cell "
                     f"{_cell(worst)}: {fmt.signed_usd(worst['pnl_usd'])} USD; best {_cell(best)}: "
                     f"{fmt.signed_usd(best['pnl_usd'])} USD.")
        png = charts.stress_heatmap(frame.index.to_numpy(dtype=np.float64), frame.columns.to_numpy(dtype=np.float64),
                                    pnl, "Portfolio P&L, spot x implied-vol shock (USD)")
        chart_list.append(Chart("stress-grid", "Stress grid: portfolio P&L by spot and vol shock", png))
    else:
        notes.append("No spot x vol grid for this date.")
    scenarios = fetch_dicts(conn, SCENARIO_QUERY, (portfolio, as_of))
    tables: tuple[Table, ...] = ()
    if scenarios:
        rows = tuple((KIND_LABELS.get(s["scenario_kind"], s["scenario_kind"]), s["scenario"],
                      fmt.percent(s["spot_shock"], 0), f"{s['vol_shock_pts']:+g}", f"{s['days_forward']:g}",
                      fmt.percent(s["funding_shock_apr"], 0), fmt.signed_usd(s["pnl_usd"]),
                      s["worst_position"] or fmt.MISSING, fmt.signed_usd(s["worst_position_pnl_usd"]))
                     for s in scenarios)
        tones = tuple((None,) * 6 + (fmt.pnl_tone(s["pnl_usd"]), None, fmt.pnl_tone(s["worst_position_pnl_usd"]))
                      for s in scenarios)
        tables = (Table(("Kind", "Scenario", "Spot", "Vol (pts)", "Days fwd", "Funding APR", "P&L (USD)",
                         "Worst position", "Its P&L (USD)"),
                        rows, (False, False, True, True, True, True, True, False, True), tones,
                        caption="Scenarios beyond the grid (total portfolio)"),)
    elif not grid:
        return Section("stress", title, (f"No stress scenarios stored for portfolio {portfolio} on "
                                         f"{as_of.isoformat()}.",))
    return Section("stress", title, tuple(notes), tables, tuple(chart_list))


def _cell(row: dict[str, Any]) -> str:
    return f"(spot {100 * row['spot_shock']:+.0f}%, vol {row['vol_shock_pts']:+g} pts)"
