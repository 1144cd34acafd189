"""The latest fitted volatility surface per underlying (``vol_surfaces``, ``vol_surface_metrics``):
the SVI smile per expiry and the ATM term structure."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import numpy as np
import psycopg

from cryptoderiv.reports import charts
from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Chart, Section, Table, Tone
from cryptoderiv.reports.sources import day_window, fetch_dicts, table_exists
from cryptoderiv.surface.svi import SVIError, SVIParams

log = logging.getLogger(__name__)

DEFAULT_K_RANGE = (-0.4, 0.4)  # log-moneyness range drawn when the fit stored none
SMILE_POINTS = 81

# Per underlying, the latest snapshot before the end of the report date; Deribit first (the deepest book).
SNAPSHOT_QUERY = """
SELECT DISTINCT ON (base) base, exchange, ts
FROM vol_surfaces
WHERE ts < %s
ORDER BY base, exchange = 'deribit' DESC, ts DESC
"""

SLICE_QUERY = """
SELECT expiry, time_to_expiry, forward, index_price, svi_a, svi_b, svi_rho, svi_m, svi_sigma,
       rmse_total_variance, n_points, min_g, k_min, k_max, atm_iv, rr_25d, bf_25d
FROM vol_surfaces
WHERE exchange = %s AND base = %s AND ts = %s
ORDER BY expiry
"""

METRICS_QUERY = """
SELECT atm_iv_7d, atm_iv_30d, atm_iv_60d, atm_iv_90d, rr_25d_30d, bf_25d_30d, variance_index_30d
FROM vol_surface_metrics
WHERE exchange = %s AND base = %s AND ts = %s
"""


def surface_section(conn: psycopg.Connection, report_date: date) -> Section:
    """For each underlying: the smile of every fitted expiry (implied vol from the stored raw-SVI
    parameters) and the ATM term structure, with a table of ATM IV, 25-delta risk reversal and butterfly,
    and fit quality per expiry."""
    title = "Volatility surface"
    if not table_exists(conn, "vol_surfaces"):
        return Section("surface", title, ("No fitted surfaces yet: the surface tables are not deployed.",))
    _, end = day_window(report_date)
    snapshots = fetch_dicts(conn, SNAPSHOT_QUERY, (end,))
    if not snapshots:
        return Section("surface", title, (f"No fitted surface yet on or before {report_date.isoformat()}.",))
    notes: list[str] = ["Raw SVI fits of our mark IVs (Gatheral 2004); IV in vol points; RR and BF at 25 delta; "
                        "min g < 0 flags butterfly arbitrage (Gatheral and Jacquier 2014)."]
    tables: list[Table] = []
    chart_list: list[Chart] = []
    for snap in snapshots:
        base, exchange, ts = snap["base"], snap["exchange"], snap["ts"]
        slices = fetch_dicts(conn, SLICE_QUERY, (exchange, base, ts))
        metrics = fetch_dicts(conn, METRICS_QUERY, (exchange, base, ts)) if table_exists(
            conn, "vol_surface_metrics") else []
        notes.append(f"{base}: {exchange} snapshot {fmt.timestamp(ts)}, {len(slices)} expiries"
                     + (f"; 30-day variance index {fmt.vol(metrics[0]['variance_index_30d'])}" if metrics else "")
                     + ".")
        tables.append(_slice_table(base, exchange, slices))
        chart_list.append(_chart(base, exchange, ts, slices, metrics[0] if metrics else None))
    return Section("surface", title, tuple(notes), tuple(tables), tuple(chart_list))


def _slice_table(base: str, exchange: str, slices: list[dict[str, Any]]) -> Table:
    rows, tones = [], []
    for s in slices:
        rows.append((fmt.day(s["expiry"]), fmt.number(365.0 * s["time_to_expiry"], 1), fmt.usd(s["forward"]),
                     fmt.vol(s["atm_iv"]), fmt.vol(s["rr_25d"]), fmt.vol(s["bf_25d"]),
                     fmt.number(s["rmse_total_variance"], 5), str(s["n_points"]), fmt.number(s["min_g"], 3)))
        arbitrage: Tone = "bad" if s["min_g"] is not None and s["min_g"] < 0 else None
        tones.append((None,) * 8 + (arbitrage,))
    return Table(("Expiry", "Days", "Forward (USD)", "ATM IV", "25d RR", "25d BF", "RMSE (w)", "Quotes", "min g"),
                 tuple(rows), (False,) + (True,) * 8, tuple(tones), caption=f"{base} ({exchange})")


def _chart(base: str, exchange: str, ts: Any, slices: list[dict[str, Any]], metrics: dict[str, Any] | None) -> Chart:
    smiles = []
    for s in slices:
        try:
            params = SVIParams(s["svi_a"], s["svi_b"], s["svi_rho"], s["svi_m"], s["svi_sigma"])
        except SVIError as exc:
            log.warning("%s %s expiry %s: SVI parameters not drawable (%s)", exchange, base, s["expiry"], exc)
            continue
        lo = s["k_min"] if s["k_min"] is not None else DEFAULT_K_RANGE[0]
        hi = s["k_max"] if s["k_max"] is not None else DEFAULT_K_RANGE[1]
        k = np.linspace(lo, hi, SMILE_POINTS)
        smiles.append((fmt.day(s["expiry"]), k, params.implied_vol(k, s["time_to_expiry"])))
    days = np.array([365.0 * s["time_to_expiry"] for s in slices], dtype=np.float64)
    atm = np.array([np.nan if s["atm_iv"] is None else s["atm_iv"] for s in slices], dtype=np.float64)
    constant = []
    if metrics:
        constant = [(d, float(metrics[f"atm_iv_{d}d"])) for d in (7, 30, 60, 90)
                    if metrics.get(f"atm_iv_{d}d") is not None]
    png = charts.smiles_and_term_structure(smiles, days, atm, constant,
                                           f"{base} surface, {exchange}, {fmt.timestamp(ts)}")
    return Chart(f"surface-{base.lower()}", f"{base} smiles per expiry and ATM term structure", png)
