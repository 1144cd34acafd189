"""Portfolio greeks per position and in total (``position_greeks``)."""

from __future__ import annotations

from datetime import date

import psycopg

from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Section, Table
from cryptoderiv.reports.sources import fetch_dicts, latest_as_of, staleness_note, table_exists

QUERY = """
SELECT g.position_id, p.exchange, p.symbol, p.kind, g.value_usd, g.delta_coin, g.delta_usd, g.gamma_usd,
       g.vega_usd, g.theta_usd, g.vanna_usd, g.volga_usd, g.btc_beta_delta_usd
FROM position_greeks g
LEFT JOIN positions p ON p.portfolio = g.portfolio AND p.position_id = g.position_id
WHERE g.portfolio = %s AND g.as_of = %s
ORDER BY g.position_id = 'TOTAL', g.position_id
"""


def greeks_section(conn: psycopg.Connection, report_date: date, portfolio: str) -> Section:
    """Greeks in USD (and delta in coin) per position, the total last."""
    title = "Portfolio greeks"
    if not table_exists(conn, "position_greeks"):
        return Section("greeks", title, ("No greeks yet: the risk tables are not deployed.",))
    as_of = latest_as_of(conn, "position_greeks", portfolio, report_date)
    if as_of is None:
        return Section("greeks", title, (f"No greeks yet for portfolio {portfolio} "
                                         f"on or before {report_date.isoformat()}.",))
    rows = fetch_dicts(conn, QUERY, (portfolio, as_of))
    table_rows = []
    for r in rows:
        total = r["position_id"] == "TOTAL"
        instrument = "" if total else " ".join(str(v) for v in (r["exchange"], r["symbol"]) if v)
        table_rows.append((r["position_id"], instrument, fmt.usd(r["value_usd"]),
                           fmt.MISSING if total else fmt.number(r["delta_coin"], 3),
                           fmt.usd(r["delta_usd"]), fmt.usd(r["gamma_usd"]), fmt.usd(r["vega_usd"]),
                           fmt.usd(r["theta_usd"]), fmt.usd(r["vanna_usd"]), fmt.usd(r["volga_usd"]),
                           fmt.usd(r["btc_beta_delta_usd"])))
    table = Table(("Position", "Instrument", "Value (USD)", "Delta (coin)", "Delta (USD)", "Gamma (USD/1%)",
                   "Vega (USD/pt)", "Theta (USD/day)", "Vanna (USD/pt)", "Volga (USD/pt)", "BTC-beta delta (USD)"),
                  tuple(table_rows), (False, False) + (True,) * 9)
    notes = (staleness_note("Greeks", as_of, report_date),
             "Gamma: USD change of delta for a 1% spot move; vega, vanna, volga per vol point (0.01); theta "
             "per calendar day. The total's delta in coin is left out (positions may be on different coins); "
             "its BTC-beta delta is the BTC-equivalent USD delta.")
    return Section("greeks", title, notes, (table,))
