"""Rows for every section of the daily report, written into the real tables of the test database.

The figures are shaped like the pipeline's output (a BTC/ETH options book of about 650k USD) but are
fixed here so the tests can look for them in the e-mail and the PDF. ``write_frame`` stores every table
it can bulk-load; the risk tables keyed by a ``date`` column (``as_of``) go in with parameterised
INSERTs because the binary COPY encoder has no ``date`` type yet.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from cryptoderiv.samples import SAMPLE_INSTRUMENTS
from cryptoderiv.storage import write_frame

REPORT_DATE = date(2026, 11, 22)
PORTFOLIO = "sample"
HS_VAR_99_1D = 48213.37     # shows as "48,213"
HS_ES_99_1D = 61877.90      # shows as "61,878"
WORST_GRID_PNL = -231456.0  # spot -50%, vol -30: shows as "-231,456"
HISTORICAL_PNL = -187654.3  # the 2020-03-12 replay: shows as "-187,654"

REPORT_TABLES = ("forecasts", "forecast_evaluations", "positions", "position_greeks", "risk_metrics",
                 "var_backtests", "stress_results",
                 "expected_returns", "vol_surfaces", "vol_surface_metrics", "dq_results", "quarantine",
                 "heston_params", "model_runs")


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def clear_report_tables(conn: psycopg.Connection) -> None:
    """Empty every table the report reads (the ``db`` fixture only empties the market tables)."""
    existing = [t for t in REPORT_TABLES if conn.execute("SELECT to_regclass(%s)", (t,)).fetchone()[0]]
    conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, existing))))
    conn.commit()


def insert_rows(conn: psycopg.Connection, table: str, frame: pd.DataFrame) -> None:
    """Parameterised INSERT of a frame (for tables with ``date`` columns)."""
    columns = list(frame.columns)
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    # NaN and NaT are missing values: NULL (psycopg would send NaT as a garbage timestamp)
    rows = [tuple(None if v is pd.NaT or (isinstance(v, float) and np.isnan(v)) else v for v in row)
            for row in frame.itertuples(index=False, name=None)]
    with conn.cursor() as cursor:
        cursor.executemany(query, rows)


def positions() -> pd.DataFrame:
    return pd.DataFrame([
        dict(position_id="btc-spot", exchange="binance", symbol="BTC/USDT", kind="spot", base="BTC", is_inverse=False,
             option_type=None, strike=None, expiry=None, size=2.0, size_unit="coin", entry_price=91250.0,
             entry_price_unit="usd"),
        dict(position_id="btc-perp-short", exchange="bybit", symbol="BTC/USDT:USDT", kind="perpetual", base="BTC",
             is_inverse=False, option_type=None, strike=None, expiry=None, size=-1.5, size_unit="coin",
             entry_price=93010.0, entry_price_unit="usd"),
        dict(position_id="btc-call-100k", exchange="deribit", symbol="BTC/USD:BTC-261225-100000-C", kind="option",
             base="BTC", is_inverse=True, option_type="call", strike=100000.0,
             expiry=datetime(2026, 12, 25, 8, tzinfo=UTC),
             size=5.0, size_unit="contracts", entry_price=0.0315, entry_price_unit="coin"),
        dict(position_id="eth-put-3k", exchange="deribit", symbol="ETH/USD:ETH-261225-3000-P", kind="option",
             base="ETH", is_inverse=True, option_type="put", strike=3000.0,
             expiry=datetime(2026, 12, 25, 8, tzinfo=UTC),
             size=-40.0, size_unit="contracts", entry_price=0.041, entry_price_unit="coin"),
    ]).assign(portfolio=PORTFOLIO, contract_size=1.0)


def position_greeks(as_of: date) -> pd.DataFrame:
    rows = [
        ("btc-spot", "BTC", 92410.5, 184821.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        ("btc-perp-short", "BTC", 92410.5, 2399.3, -1.5, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        ("btc-call-100k", "BTC", 92410.5, 14180.2, 1.712, 0.21e-4, 4120.4, -402.3, 310.5, 85.2, 1.0),
        ("eth-put-3k", "ETH", 3105.2, -5230.8, 14.85, -0.34e-3, -5210.7, 515.9, -120.4, -44.8, 1.18),
    ]
    frame = pd.DataFrame(rows, columns=["position_id", "base", "spot_usd", "value_usd", "delta_coin", "gamma_coin",
                                        "vega_usd", "theta_usd", "vanna_usd", "volga_usd", "beta_to_btc"])
    frame["delta_usd"] = frame["delta_coin"] * frame["spot_usd"]
    frame["gamma_usd"] = 0.01 * frame["spot_usd"] ** 2 * frame["gamma_coin"]
    frame["vega_coin"] = frame["vega_usd"] / frame["spot_usd"]
    frame["theta_coin"] = frame["theta_usd"] / frame["spot_usd"]
    frame["btc_beta_delta_usd"] = frame["delta_usd"] * frame["beta_to_btc"]
    sums = frame.drop(columns=["position_id", "base", "spot_usd", "beta_to_btc"]).sum()
    total = {**sums.to_dict(), "position_id": "TOTAL", "base": None, "spot_usd": None, "beta_to_btc": None}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    return frame.assign(portfolio=PORTFOLIO, as_of=as_of)


def risk_metrics(as_of: date) -> pd.DataFrame:
    rows = []
    scale = {"hs": 1.0, "fhs": 1.12, "mc_heston": 0.94, "parametric": 0.81}
    for method, factor in scale.items():
        for horizon in (1, 10):
            for lvl in (0.95, 0.99):
                if (method, horizon, lvl) == ("hs", 1, 0.99):
                    var, es = HS_VAR_99_1D, HS_ES_99_1D
                else:
                    base = HS_VAR_99_1D * factor * np.sqrt(horizon) * (0.71 if lvl == 0.95 else 1.0)
                    var, es = round(base, 2), round(base * 1.27, 2)
                rows.append(dict(method=method, horizon_days=horizon, level=lvl, var_usd=var, es_usd=es,
                                 portfolio_value_usd=650412.0, n_scenarios=10000 if method == "mc_heston" else 730,
                                 window_start=as_of - timedelta(days=730), window_end=as_of,
                                 is_comparison=method == "parametric",
                                 details=json.dumps({"lambda": 0.94} if method == "fhs" else {})))
    return pd.DataFrame(rows).assign(portfolio=PORTFOLIO, as_of=as_of)


def var_backtests(as_of: date) -> pd.DataFrame:
    rows = [
        (PORTFOLIO, "hs", 0.99, 500, 7, 0.72, 0.396, 0.41, 1.13, 0.568, "green", 3.0),
        (PORTFOLIO, "fhs", 0.99, 500, 5, 0.0, 1.0, 0.10, 0.10, 0.951, "green", 3.0),
        (PORTFOLIO, "parametric", 0.99, 500, 14, 6.45, 0.011, 2.95, 9.40, 0.009, "red", 4.0),
        ("BTCUSDT", "hs", 0.99, 1500, 21, 2.11, 0.146, 0.62, 2.73, 0.255, "yellow", 3.4),
        ("ETHUSDT", "fhs", 0.95, 1500, 82, 0.42, 0.517, 1.02, 1.44, 0.487, "green", 3.0),
    ]
    frame = pd.DataFrame(rows, columns=["portfolio", "method", "level", "observations", "exceptions", "kupiec_lr",
                                        "kupiec_p", "christoffersen_ind", "christoffersen_cc", "christoffersen_cc_p",
                                        "basel_zone", "basel_multiplier"])
    return frame.assign(as_of=as_of, horizon_days=1, window_start=as_of - timedelta(days=730))


def stress_results(as_of: date) -> pd.DataFrame:
    spots = np.round(np.arange(-0.5, 0.51, 0.1), 2)
    vols = np.arange(-30.0, 51.0, 10.0)
    rows = []
    for s in spots:
        for v in vols:
            # A long-gamma, long-vega book: roughly delta * S * s + gamma and vega terms.
            pnl = 420000.0 * s + 260000.0 * s * s + 1150.0 * v
            if s == -0.5 and v == -30.0:
                pnl = WORST_GRID_PNL
            scenario = f"spot{100 * s:+.0f}%/vol{v:+.0f}"
            rows.append(dict(scenario_kind="grid", scenario=scenario, position_id="TOTAL", spot_shock=float(s),
                             vol_shock_pts=float(v), pnl_usd=round(pnl, 2)))
            rows.append(dict(scenario_kind="grid", scenario=scenario, position_id="btc-spot", spot_shock=float(s),
                             vol_shock_pts=float(v), pnl_usd=round(184821.0 * s, 2)))
    for scenario, spot, vol, pnl, worst in (("2020-03-12", -0.39, 45.0, HISTORICAL_PNL, -72080.1),
                                            ("2022-11-09", -0.14, 18.0, -61234.0, -25871.9)):
        rows.append(dict(scenario_kind="historical", scenario=scenario, position_id="TOTAL", spot_shock=spot,
                         vol_shock_pts=vol, pnl_usd=pnl))
        rows.append(dict(scenario_kind="historical", scenario=scenario, position_id="btc-spot", spot_shock=spot,
                         vol_shock_pts=vol, pnl_usd=worst))
    rows.append(dict(scenario_kind="time_decay", scenario="decay 7d", position_id="TOTAL", spot_shock=0.0,
                     vol_shock_pts=0.0, days_forward=7.0, pnl_usd=778.4))
    rows.append(dict(scenario_kind="funding", scenario="funding +50% APR", position_id="TOTAL", spot_shock=0.0,
                     vol_shock_pts=0.0, funding_shock_apr=0.5, pnl_usd=1911.6))
    frame = pd.DataFrame(rows).fillna({"days_forward": 0.0, "funding_shock_apr": 0.0})
    return frame.assign(portfolio=PORTFOLIO, as_of=as_of)


def expected_returns(as_of: date) -> pd.DataFrame:
    rows = [
        ("btc-spot", 0.0, 0.0, 0.0, 1215.3, 1215.3, 9120.5, 8650.2, 0.54, 0.50, None, 0.48, 0.11),
        ("btc-perp-short", 310.8, 0.0, 0.0, -911.5, -600.7, 6840.4, 6487.7, 0.47, 0.50, None, 0.48, 0.11),
        ("btc-call-100k", 0.0, -2816.1, 905.7, 1041.9, -868.5, 7120.3, 7390.8, 0.31, 0.28, 0.52, 0.48, 0.11),
        ("eth-put-3k", 0.0, 3611.3, 2210.4, 0.0, 5821.7, 11980.6, 12850.1, 0.71, 0.66, 0.68, 0.61, 0.05),
    ]
    frame = pd.DataFrame(rows, columns=["position_id", "carry_usd", "theta_usd", "vrp_usd", "drift_usd",
                                        "expected_pnl_usd", "std_p_usd", "std_q_usd", "prob_profit_p",
                                        "prob_profit_q", "implied_vol", "forecast_vol", "forecast_drift"])
    frame["convexity_usd"] = -frame["theta_usd"] * 0.93
    frame["residual_usd"] = frame["expected_pnl_usd"] - frame[
        ["carry_usd", "theta_usd", "convexity_usd", "vrp_usd", "drift_usd"]].sum(axis=1)
    total = frame.drop(columns=["position_id"]).sum()
    total_row = {**{c: total[c] for c in ("carry_usd", "theta_usd", "convexity_usd", "vrp_usd", "drift_usd",
                                          "residual_usd", "expected_pnl_usd")},
                 "position_id": "TOTAL", "std_p_usd": 18250.4, "std_q_usd": 18866.0, "prob_profit_p": 0.58,
                 "prob_profit_q": 0.49}
    frame = pd.concat([frame, pd.DataFrame([total_row])], ignore_index=True)
    return frame.assign(portfolio=PORTFOLIO, as_of=as_of, horizon_days=7, vol_source="forecasts:lstm")


def vol_surfaces(snapshot: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for base, index_price, expiries in (("BTC", 92410.5, ("2026-11-27", "2026-12-25", "2027-01-29", "2027-03-26")),
                                        ("ETH", 3105.2, ("2026-12-25", "2027-03-26"))):
        for i, expiry in enumerate(expiries):
            exp = _ts(f"{expiry} 08:00")
            t = (exp - snapshot).total_seconds() / (365.0 * 86400.0)
            atm = 0.52 + 0.02 * i if base == "BTC" else 0.66 + 0.03 * i
            sigma, rho, b = 0.25, -0.25, 0.12 * np.sqrt(t) * 2
            a = atm * atm * t - b * sigma  # w(0) = a + b*sigma (m = 0, rho term vanishes) = atm^2 t
            rows.append(dict(exchange="deribit", base=base, ts=snapshot, expiry=exp, time_to_expiry=t,
                             forward=index_price * (1 + 0.05 * t), index_price=index_price, svi_a=a, svi_b=b,
                             svi_rho=rho, svi_m=0.0, svi_sigma=sigma, rmse_total_variance=0.00021 + 0.0001 * i,
                             n_points=24 - 2 * i, min_g=0.08 if i else -0.012, k_min=-0.45, k_max=0.35,
                             atm_iv=atm, iv_25d_call=atm + 0.004, iv_25d_put=atm + 0.031, rr_25d=-0.027,
                             bf_25d=0.0135, fair_variance=(atm + 0.02) ** 2))
    metrics = pd.DataFrame([
        dict(exchange="deribit", base="BTC", ts=snapshot, n_expiries=4, atm_iv_7d=0.521, atm_iv_30d=0.536,
             atm_iv_60d=0.549, atm_iv_90d=0.561, rr_25d_30d=-0.027, bf_25d_30d=0.013, variance_index_30d=0.5512),
        dict(exchange="deribit", base="ETH", ts=snapshot, n_expiries=2, atm_iv_7d=None, atm_iv_30d=0.665,
             atm_iv_60d=0.679, atm_iv_90d=0.689, rr_25d_30d=-0.031, bf_25d_30d=0.017, variance_index_30d=0.6821),
    ])
    return pd.DataFrame(rows), metrics


def dq_rows(day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    checked = _ts(f"{day.isoformat()} 10:15")
    rows = []
    for run in ("options__snapshot_chains/run1", "options__snapshot_chains/run2"):
        for rule, severity, success, unexpected, quarantined in (
                ("option_quotes.bid_le_ask", "hard", run.endswith("1"), 0 if run.endswith("1") else 3,
                 0 if run.endswith("1") else 3),
                ("option_quotes.mark_iv_in_range", "hard", True, 0, 0),
                ("option_quotes.put_call_parity_marks", "soft", False, 5, 0)):
            rows.append(dict(run_id=run, table_name="option_quotes", rule=rule,
                             expectation_type="expect_column_pair_values_a_to_be_greater_than_b",
                             suite_name="option_quotes", suite_version="1", dimension="derivatives",
                             severity=severity, success=success, element_count=480, unexpected_count=unexpected,
                             rows_quarantined=quarantined, checked_at=checked))
    rows.append(dict(run_id="market__ingest_ohlcv/run1", table_name="ohlcv", rule="ohlcv.high_ge_low",
                     expectation_type="expect_column_pair_values_a_to_be_greater_than_b", suite_name="ohlcv",
                     suite_version="1", dimension="domain", severity="hard", success=True, element_count=1200,
                     unexpected_count=0, rows_quarantined=0, checked_at=checked))
    quarantine = pd.DataFrame([
        dict(run_id="options__snapshot_chains/run2", table_name="option_quotes", batch_row=row,
             rule="option_quotes.bid_le_ask", expectation_type="expect_column_pair_values_a_to_be_greater_than_b",
             reason="bid must not exceed ask", row_data=json.dumps({"bid": 0.05, "ask": 0.04}), quarantined_at=checked)
        for row in (17, 88, 301)])
    return pd.DataFrame(rows), quarantine


def heston_rows(day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    good = _ts(f"{day.isoformat()} 08:00")
    bad = _ts(f"{day.isoformat()} 16:00")
    runs, params = [], []
    for snapshot, status, message in ((good, "converged", "converged in 41 iterations"),
                                      (bad, "rejected", "rmse_iv 0.041 above 0.03")):
        run_id = f"heston_calibration:deribit:BTC:{snapshot.isoformat()}"
        runs.append(dict(run_id=run_id, kind="heston_calibration", exchange="deribit", underlying="BTC",
                         snapshot_ts=snapshot, status=status, message=message, n_quotes=212, n_expiries=6,
                         metrics=json.dumps({"rmse_iv": 0.0123}), config=json.dumps({}), input_fingerprint="ab" * 32,
                         started_at=snapshot + pd.Timedelta(minutes=3)))
        params.append(dict(exchange="deribit", underlying="BTC", snapshot_ts=snapshot, run_id=run_id, status=status,
                           is_current=status == "converged", v0=0.2704, kappa=2.35, theta=0.3249, sigma=0.91,
                           rho=-0.38, feller_ratio=2 * 2.35 * 0.3249 / 0.91**2,
                           feller_satisfied=2 * 2.35 * 0.3249 / 0.91**2 >= 1, rmse_iv=0.0123 if status == "converged"
                           else 0.041, premium_currency="BTC", within_spread=0.87, iterations=41, n_quotes=212))
    return pd.DataFrame(runs), pd.DataFrame(params)


FORECAST_DAYS = 10


def daily_return_size(day_index: Any) -> Any:
    """Size of every hourly log return on day ``day_index`` of the candle history (alternating sign)."""
    return 0.004 + 0.0005 * day_index


def forecast_rows(as_of: date) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Hourly BTC/USDT candles over the ``FORECAST_DAYS`` days to ``as_of`` (``as_of`` itself only half
    done), champion rv_1d forecasts at each day's open, and the champion's walk-forward evaluation.

    Every hourly return of day ``i`` is +/- ``daily_return_size(i)``, so the realised variance of that
    day is ``24 * size**2`` (decimal^2 per day).
    """
    first = _ts(as_of.isoformat()) - pd.Timedelta(days=FORECAST_DAYS)
    hours = pd.date_range(first - pd.Timedelta(hours=1), _ts(as_of.isoformat()) + pd.Timedelta(hours=12),
                          freq="1h")
    day_index = np.asarray((hours - first) // pd.Timedelta(days=1), dtype=np.int64)
    sizes = daily_return_size(day_index)
    signs = np.where(np.arange(len(hours)) % 2 == 0, 1.0, -1.0)
    log_close = np.log(90000.0) + np.cumsum(np.where(np.arange(len(hours)) == 0, 0.0, signs * sizes))
    close = np.exp(log_close)
    candles = pd.DataFrame({"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1h", "ts": hours,
                            "open": close, "high": close * 1.001, "low": close * 0.999, "close": close,
                            "volume": 10.0})
    forecasts = []
    for i in range(FORECAST_DAYS + 1):
        day_open = first + pd.Timedelta(days=i)
        variance = 24 * daily_return_size(i) ** 2 * 1.1  # the model over-forecasts by 10 %
        forecasts.append(dict(exchange="binance", symbol="BTC/USDT", target="rv_1d", horizon=1, period="1D",
                              as_of=day_open, value=variance, unit="decimal^2 per day",
                              vol_annualised=float(np.sqrt(variance * 365)), model_name="cryptoderiv-rv_1d",
                              model_version="7", model_kind="lstm", mlflow_run_id="run-lstm-7"))
    evaluation = pd.DataFrame([dict(trained_at=first, target="rv_1d", series="all", model_kind="lstm",
                                    model_name="cryptoderiv-rv_1d", fold=-1,
                                    window_start=first - pd.Timedelta(days=200),
                                    window_end=first, n=180, qlike=1.4213, mse=1e-7, mae=2e-4, r2_vs_no_change=0.184,
                                    dm_stat=-2.31, dm_p_value=0.021, mlflow_run_id="run-lstm-7")])
    return candles, pd.DataFrame(forecasts), evaluation


def fill_report_tables(conn: psycopg.Connection, as_of: date = REPORT_DATE) -> None:
    """Write rows for every section of the report of ``as_of`` and commit."""
    insert_rows(conn, "positions", positions())  # the writer would resolve exchange+symbol to instruments
    insert_rows(conn, "position_greeks", position_greeks(as_of))
    insert_rows(conn, "risk_metrics", risk_metrics(as_of))
    insert_rows(conn, "var_backtests", var_backtests(as_of))
    insert_rows(conn, "stress_results", stress_results(as_of))
    insert_rows(conn, "expected_returns", expected_returns(as_of))
    surfaces, metrics = vol_surfaces(_ts(f"{as_of.isoformat()} 12:00"))
    write_frame(conn, "vol_surfaces", surfaces)
    write_frame(conn, "vol_surface_metrics", metrics)
    dq, quarantine = dq_rows(as_of)
    write_frame(conn, "dq_results", dq)
    write_frame(conn, "quarantine", quarantine)
    runs, params = heston_rows(as_of)
    write_frame(conn, "model_runs", runs)
    write_frame(conn, "heston_params", params)
    candles, forecasts, evaluation = forecast_rows(as_of)
    write_frame(conn, "instruments", SAMPLE_INSTRUMENTS.iloc[:1])
    write_frame(conn, "ohlcv", candles)
    write_frame(conn, "forecasts", forecasts)
    write_frame(conn, "forecast_evaluations", evaluation)
    conn.commit()
