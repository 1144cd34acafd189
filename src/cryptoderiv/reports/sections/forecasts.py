"""Volatility forecasts against realised volatility (``forecasts``, the candles in ``ohlcv``) and the
forecasting champion per target (``forecasts``, ``forecast_evaluations``).

Realised variance is computed exactly as the forecasters define their target
(:func:`cryptoderiv.forecast.data.load_series`: sum of squared bar log returns per UTC day), and a forecast
made at ``as_of`` for ``horizon`` days is compared with the mean daily realised variance over
``[as_of, as_of + horizon days)``. Vols are ``sqrt(variance x 365)``, annualised on 365 days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.reports import charts
from cryptoderiv.reports import formatting as fmt
from cryptoderiv.reports.content import Chart, Section, Table
from cryptoderiv.reports.sources import day_window, fetch_dicts, table_exists

LOOKBACK_DAYS = 30
CHART_TARGET = "rv_1d"

FORECAST_QUERY = """
SELECT exchange, symbol, target, horizon, period, as_of, value, vol_annualised, model_name, model_version, model_kind
FROM forecasts
WHERE as_of >= %s AND as_of < %s AND vol_annualised IS NOT NULL AND period = '1D'
ORDER BY exchange, symbol, target, as_of
"""

CHAMPION_QUERY = """
WITH latest AS (
    SELECT DISTINCT ON (target) target, model_name, model_version, model_kind, as_of
    FROM forecasts
    WHERE as_of < %s
    ORDER BY target, as_of DESC, exchange, symbol
), evaluation AS (
    SELECT DISTINCT ON (e.target) e.target, e.trained_at, e.qlike, e.r2_vs_no_change, e.dm_p_value, e.n
    FROM forecast_evaluations e JOIN latest l ON l.target = e.target AND l.model_kind = e.model_kind
    WHERE e.fold = -1 AND e.trained_at < %s
    ORDER BY e.target, e.trained_at DESC, e.series = 'all' DESC, e.series
)
SELECT l.target, l.model_name, l.model_version, l.model_kind, l.as_of, e.trained_at, e.qlike, e.r2_vs_no_change,
       e.dm_p_value, e.n
FROM latest l LEFT JOIN evaluation e USING (target)
ORDER BY l.target
"""


def forecasts_section(conn: psycopg.Connection, report_date: date) -> Section:
    """Per series and target over the last 30 days: the latest forecast, the forecasts whose horizon has
    elapsed against what was realised (mean absolute error in vol points, QLIKE), and a chart of the
    one-day target."""
    from cryptoderiv.forecast.evaluation import qlike  # scipy.stats: only when there is something to score

    title = "Forecasts vs realised"
    if not table_exists(conn, "forecasts"):
        return Section("forecasts", title, ("No forecasts yet: the forecast tables are not deployed.",))
    _, end = day_window(report_date)
    start = end - timedelta(days=LOOKBACK_DAYS)
    rows = fetch_dicts(conn, FORECAST_QUERY, (start, end))
    if not rows:
        return Section("forecasts", title, (f"No volatility forecasts yet in the {LOOKBACK_DAYS} days to "
                                            f"{report_date.isoformat()}.",))
    frame = pd.DataFrame(rows)
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True)
    table_rows: list[tuple[str, ...]] = []
    chart_series = []
    for (exchange, symbol), group in frame.groupby(["exchange", "symbol"], sort=True):
        realised_days = _daily_realised_variance(conn, str(exchange), str(symbol), start, end)
        for target, per_target in group.groupby("target", sort=True):
            per_target = per_target.sort_values("as_of")
            realised = _realised_over_horizon(realised_days, per_target)
            done = np.isfinite(realised)
            forecast_var = per_target["value"].to_numpy(dtype=np.float64)
            forecast_vol = per_target["vol_annualised"].to_numpy(dtype=np.float64)
            realised_vol = np.sqrt(realised * 365.0)
            last = per_target.iloc[-1]
            last_done = int(np.flatnonzero(done)[-1]) if done.any() else None
            mae = float(np.mean(np.abs(forecast_vol[done] - realised_vol[done]))) if done.any() else None
            loss = qlike(realised[done], forecast_var[done]) if done.any() and np.all(realised[done] > 0) else None
            table_rows.append((
                f"{exchange} {symbol}", str(target), f"{last['model_kind']} v{last['model_version']}",
                fmt.timestamp(last["as_of"].to_pydatetime()), fmt.vol(last["vol_annualised"]),
                fmt.day(per_target["as_of"].iloc[last_done].to_pydatetime()) if last_done is not None else fmt.MISSING,
                fmt.vol(forecast_vol[last_done]) if last_done is not None else fmt.MISSING,
                fmt.vol(realised_vol[last_done]) if last_done is not None else fmt.MISSING,
                f"{int(done.sum())}/{len(per_target)}", fmt.vol(mae), fmt.number(loss, 3)))
            if target == CHART_TARGET:
                chart_series.append((f"{exchange!s} {symbol!s}, {target!s} ({last['model_kind']})",
                                     per_target["as_of"].dt.tz_localize(None).to_numpy(dtype="datetime64[ns]"),
                                     forecast_vol, realised_vol))
    table = Table(("Series", "Target", "Model", "Latest forecast", "Vol", "Last elapsed", "Forecast", "Realised",
                   "Elapsed", "MAE (pts)", "QLIKE"), tuple(table_rows),
                  (False, False, False, False, True, False, True, True, True, True, True),
                  caption=f"Last {LOOKBACK_DAYS} days")
    notes = ("Annualised vols in vol points (365 days). Realised: daily realised variance from the stored "
             "candles, averaged over each forecast's horizon; forecasts whose horizon has not elapsed have "
             "none yet. MAE and QLIKE (Patton 2011) over the elapsed forecasts.",)
    chart_list: tuple[Chart, ...] = ()
    if chart_series:
        png = charts.forecast_vs_realised(chart_series, "One-day volatility: champion forecast vs realised")
        chart_list = (Chart("forecast-vs-realised", "One-day volatility forecast against realised", png),)
    return Section("forecasts", title, notes, (table,), chart_list)


def _daily_realised_variance(conn: psycopg.Connection, exchange: str, symbol: str, start: datetime,
                             end: datetime) -> pd.Series:
    from cryptoderiv.forecast.data import SeriesSource, load_series

    horizon_pad = timedelta(days=1)  # the period before the window supplies the first overnight return
    frame = load_series(conn, SeriesSource(exchange, symbol), end=pd.Timestamp(end),
                        start=pd.Timestamp(start - horizon_pad))
    return frame["value"].astype(np.float64) if not frame.empty else pd.Series(dtype=np.float64)


def _realised_over_horizon(days: pd.Series, forecasts: pd.DataFrame) -> np.ndarray:
    """Mean daily realised variance over ``[as_of, as_of + horizon days)`` per forecast (NaN: not all
    of those days are complete yet)."""
    out = np.full(len(forecasts), np.nan)
    for i, (as_of, horizon) in enumerate(zip(forecasts["as_of"], forecasts["horizon"], strict=True)):
        wanted = pd.date_range(as_of.floor("1D"), periods=int(horizon), freq="1D")
        if len(days) and wanted.isin(days.index).all():
            out[i] = float(days.loc[wanted].mean())
    return out


def champion_table(conn: psycopg.Connection, report_date: date) -> Table | str:
    """The champion forecasting model per target (the model that made the latest forecasts) with its
    walk-forward evaluation, or the line saying there is none yet."""
    if not table_exists(conn, "forecasts") or not table_exists(conn, "forecast_evaluations"):
        return "No forecasting champion yet: the forecast tables are not deployed."
    _, end = day_window(report_date)
    rows: list[dict[str, Any]] = fetch_dicts(conn, CHAMPION_QUERY, (end, end))
    if not rows:
        return f"No forecasting champion yet on or before {report_date.isoformat()}."
    return Table(("Target", "Registered model", "Version", "Kind", "Last forecast", "Trained", "QLIKE",
                  "R2 vs no-change", "DM p vs HAR", "Days"),
                 tuple((r["target"], r["model_name"], str(r["model_version"]), r["model_kind"],
                        fmt.timestamp(r["as_of"]), fmt.timestamp(r["trained_at"]), fmt.number(r["qlike"], 3),
                        fmt.number(r["r2_vs_no_change"], 3), fmt.probability(r["dm_p_value"]),
                        f"{r['n']:,}" if r["n"] is not None else fmt.MISSING) for r in rows),
                 (False, False, False, False, False, False, True, True, True, True),
                 caption="Forecasting champions (walk-forward evaluation over the whole window)")
