"""Model status: the last Heston calibration per venue and underlying (``model_runs``, ``heston_params``)
and the forecasting champion (see :mod:`cryptoderiv.reports.sections.forecasts`)."""

from __future__ import annotations

import math
from datetime import date

import psycopg

from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Section, Table, Tone
from cryptoderiv.reports.sections.forecasts import champion_table
from cryptoderiv.reports.sources import day_window, fetch_dicts, table_exists

# Per venue and underlying: the last calibration run before the end of the report date, and the last
# converged parameters (what pricing and the Heston Monte Carlo VaR use) at that time.
HESTON_QUERY = """
WITH last_run AS (
    SELECT DISTINCT ON (exchange, underlying) exchange, underlying, snapshot_ts, status, message
    FROM model_runs
    WHERE kind = 'heston_calibration' AND snapshot_ts < %s
    ORDER BY exchange, underlying, snapshot_ts DESC
), good AS (
    SELECT DISTINCT ON (exchange, underlying) exchange, underlying, snapshot_ts, v0, kappa, theta, sigma, rho,
           feller_satisfied, rmse_iv, within_spread
    FROM heston_params
    WHERE status = 'converged' AND snapshot_ts < %s
    ORDER BY exchange, underlying, snapshot_ts DESC
)
SELECT r.exchange, r.underlying, r.snapshot_ts AS run_ts, r.status, r.message,
       g.snapshot_ts AS params_ts, g.v0, g.kappa, g.theta, g.sigma, g.rho, g.feller_satisfied, g.rmse_iv,
       g.within_spread
FROM last_run r LEFT JOIN good g USING (exchange, underlying)
ORDER BY r.underlying, r.exchange
"""

STATUS_TONES: dict[str, Tone] = {"converged": "good", "rejected": "warn", "failed": "bad"}


def models_section(conn: psycopg.Connection, report_date: date) -> Section:
    """The forecasting champion and the last Heston calibration (status, parameters in use, fit error)."""
    title = "Model status"
    notes: list[str] = []
    tables: list[Table] = []
    champion = champion_table(conn, report_date)
    if isinstance(champion, Table):
        tables.append(champion)
    else:
        notes.append(champion)
    heston = _heston(conn, report_date)
    if isinstance(heston, Table):
        tables.append(heston)
        notes.append("Heston: the last calibration run and the last converged parameters (the set in use). "
                     "sqrt(v0) and sqrt(theta) as vols in vol points; RMSE in vol points on liquid quotes.")
    else:
        notes.append(heston)
    return Section("models", title, tuple(notes), tuple(tables))


def _heston(conn: psycopg.Connection, report_date: date) -> Table | str:
    if not (table_exists(conn, "model_runs") and table_exists(conn, "heston_params")):
        return "No Heston calibration yet: the model tables are not deployed."
    _, end = day_window(report_date)
    rows = fetch_dicts(conn, HESTON_QUERY, (end, end))
    if not rows:
        return f"No Heston calibration yet on or before {report_date.isoformat()}."
    cells, tones = [], []
    for r in rows:
        has_params = r["params_ts"] is not None
        cells.append((f"{r['underlying']} ({r['exchange']})", fmt.timestamp(r["run_ts"]), r["status"],
                      fmt.timestamp(r["params_ts"]) if has_params else "none yet",
                      fmt.vol(math.sqrt(r["v0"])) if has_params else fmt.MISSING,
                      fmt.number(r["kappa"]), fmt.vol(math.sqrt(r["theta"])) if has_params else fmt.MISSING,
                      fmt.number(r["sigma"]), fmt.number(r["rho"]),
                      ("yes" if r["feller_satisfied"] else "no") if has_params else fmt.MISSING,
                      fmt.vol(r["rmse_iv"], 2), fmt.percent(r["within_spread"], 0)))
        tones.append((None, None, STATUS_TONES.get(r["status"]), None) + (None,) * 8)
    return Table(("Underlying", "Last run (snapshot)", "Status", "Parameters from", "sqrt(v0)", "kappa",
                  "sqrt(theta)", "sigma", "rho", "Feller", "RMSE IV", "In spread"),
                 tuple(cells), (False, False, False, False) + (True,) * 5 + (False, True, True), tuple(tones),
                 caption="Heston calibration")
