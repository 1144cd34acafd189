"""The daily risk stage: for one portfolio and date compute greeks, VaR/ES, stress, expected returns and
payoff curves, and replace that (portfolio, date)'s rows in the risk tables in one transaction.

Inputs, as of the end of the UTC day: positions (``positions`` table), the market snapshot and the daily
return history from the database (:mod:`cryptoderiv.risk.market_data`); implied-vol changes for historical
simulation from ``vol_surface_metrics`` (30-day ATM IV) or, where the real data folder exists, Deribit's BTC
DVOL; Heston parameters from ``heston_params`` (else a calibration to the day's Deribit chain); vol/drift
forecasts from ``forecasts`` (else an EWMA realised-vol estimate and zero drift, labelled
``realised_ewma``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg.types.json import Jsonb

from cryptoderiv.config import get_settings
from cryptoderiv.errors import CryptoderivError
from cryptoderiv.portfolio.greeks import portfolio_greeks
from cryptoderiv.portfolio.loader import load_portfolio_file, read_portfolio, save_portfolio
from cryptoderiv.portfolio.positions import Portfolio
from cryptoderiv.portfolio.roll import RolledPortfolio, load_listed, roll_expired
from cryptoderiv.portfolio.valuation import Book, build_book
from cryptoderiv.pricing.heston import HestonParams
from cryptoderiv.risk import market_data as md
from cryptoderiv.risk.expected_return import BaseForecast, expected_returns, payoff_curves
from cryptoderiv.risk.stress import (
    funding_shocks,
    historical_stress,
    load_historical_scenarios,
    spot_vol_grid,
    time_decay,
)
from cryptoderiv.risk.var import (
    InsufficientHistory,
    RiskFigure,
    ewma_volatility,
    fhs_scenarios,
    hs_scenarios,
    mc_heston_scenarios,
    parametric_var,
    scenario_var,
)
from cryptoderiv.storage.database import connect

__all__ = ["RiskRun", "compute_risk", "compute_risk_all", "import_portfolio", "roll_demo_book", "run_risk_demo",
           "seed_demo_market"]

log = logging.getLogger(__name__)
HORIZONS = (1, 10)
LEVELS = (0.95, 0.99)
ER_HORIZON_DAYS = 7
RESULT_TABLES = ("position_greeks", "risk_metrics", "stress_results", "expected_returns", "payoff_curves")


@dataclass(frozen=True)
class RiskRun:
    """What one run wrote: rows per table, the figures, notes on fallbacks used, and (the demo) the positions
    rolled off expiring contracts."""

    portfolio: str
    as_of: date
    rows: dict[str, int]
    figures: tuple[RiskFigure, ...]
    notes: tuple[str, ...]
    rolls: tuple[str, ...] = ()


def import_portfolio(url: str, path: str | Path, name: str | None = None) -> int:
    """Validate a YAML/CSV portfolio file and replace its rows in ``positions``; returns the position count."""
    portfolio = load_portfolio_file(path, name)
    with connect(url) as conn:
        n = save_portfolio(conn, portfolio)
        conn.commit()
    return n


def _vol_changes(conn: psycopg.Connection, bases: Sequence[str], as_of: date, index: pd.Index,
                 notes: list[str], real_returns: bool) -> pd.DataFrame | None:
    rows = conn.execute(
        "SELECT base, date_trunc('day', ts AT TIME ZONE 'UTC') AS d,"
        " (array_agg(atm_iv_30d ORDER BY ts DESC))[1] FROM vol_surface_metrics"
        " WHERE exchange = 'deribit' AND ts <= %s AND atm_iv_30d IS NOT NULL GROUP BY 1, 2 ORDER BY 2",
        (md.day_end(as_of),)).fetchall()
    db = pd.DataFrame(rows, columns=["base", "d", "iv"])
    if len(db) >= 40:
        wide = db.pivot(index="d", columns="base", values="iv").sort_index()
        wide = wide.reindex(pd.date_range(wide.index[0], wide.index[-1], freq="D"))
        notes.append("hs vol shocks: daily changes of the 30-day ATM IV (vol_surface_metrics)")
        return wide.diff().reindex(columns=list(bases))
    dvol = (get_settings().shared_market_dir / "perp_funding_basis_dvol" / "dvol_btc_daily_isayggyo_nolicense"
            / "dvol_btc.csv")
    # Real DVOL changes pair only with the real return history (never with another source's dates).
    if real_returns and dvol.is_file():
        changes = md.read_dvol_changes(dvol, bases)
        overlap = changes.reindex(index).notna().any(axis=1).sum()
        if overlap:
            notes.append(f"hs vol shocks: Deribit BTC DVOL daily changes on {overlap} window days (ETH: BTC's)")
            return changes
    notes.append("hs vol shocks: none available (smile moves sticky-moneyness only)")
    return None


def _heston(conn: psycopg.Connection, bases: Sequence[str], as_of: date, notes: list[str],
            given: Mapping[str, HestonParams] | None) -> dict[str, HestonParams]:
    params = dict(given or {})
    stored = md.load_heston_params(conn, [b for b in bases if b not in params], as_of)
    params.update(stored)
    if stored:
        notes.append(f"mc_heston: parameters from heston_params for {sorted(stored)}")
    from cryptoderiv.pricing.heston_calibration import calibrate

    for b in bases:
        if b in params:
            continue

        rows = conn.execute(
            "WITH last AS (SELECT max(q.ts) AS ts FROM option_quotes q JOIN instruments i USING (instrument_id)"
            "  WHERE i.exchange = 'deribit' AND i.base = %s AND q.ts <= %s)"
            " SELECT i.option_type, i.strike, q.time_to_expiry, q.underlying_price, q.mark_iv"
            " FROM option_quotes q JOIN instruments i USING (instrument_id), last"
            " WHERE i.exchange = 'deribit' AND i.base = %s AND q.ts = last.ts AND q.mark_iv > 0"
            " AND q.time_to_expiry > 7.0 / 365 AND ((i.option_type = 'call') = (i.strike >= q.underlying_price))",
            (b, md.day_end(as_of), b)).fetchall()
        if len(rows) < 10:
            continue
        q = pd.DataFrame(rows, columns=["kind", "strike", "t", "forward", "iv"])
        q = q.iloc[:: max(1, len(q) // 150)]
        fit = calibrate(q["kind"].to_numpy(), q["strike"].to_numpy(), q["t"].to_numpy(), q["forward"].to_numpy(),
                        iv=q["iv"].to_numpy(), objective="iv", max_iterations=60)
        params[b] = fit.params
        notes.append(f"mc_heston: {b} calibrated to the day's Deribit chain ({len(q)} OTM quotes, "
                     f"rmse {100 * fit.rmse_iv:.2f} vol pts)")
    return params


def _proxy_heston(params: dict[str, HestonParams], bases: Sequence[str], returns: pd.DataFrame,
                  notes: list[str]) -> dict[str, HestonParams]:
    """Bases without an option surface: a calibrated base's parameters with v0 and theta scaled by the
    ratio of the two bases' EWMA variances (labelled in the notes)."""
    if not params:
        return params
    ref = "BTC" if "BTC" in params else sorted(params)[0]
    ewma = ewma_volatility(returns.dropna()).iloc[-1] ** 2
    out = dict(params)
    for b in bases:
        if b not in out and b in ewma and ref in ewma:
            p = params[ref]
            ratio = float(ewma[b] / ewma[ref])
            out[b] = HestonParams(p.v0 * ratio, p.kappa, p.theta * ratio, p.sigma * np.sqrt(ratio), p.rho)
            notes.append(f"mc_heston: {b} has no option surface; {ref}'s parameters with variances scaled by the "
                         f"EWMA variance ratio {ratio:.2f}")
    return out


def _forecasts(conn: psycopg.Connection, returns: pd.DataFrame, bases: Sequence[str], as_of: date,
               notes: list[str]) -> dict[str, BaseForecast]:
    stored = md.load_forecasts(conn, bases, as_of)
    ewma = ewma_volatility(returns.dropna()).iloc[-1] * np.sqrt(365.0)
    out = {}
    for b in bases:
        f = stored.get(b, {})
        if "vol" in f:
            out[b] = BaseForecast(float(f["vol"]), 0.0, f"forecasts:{f['model']}")
        else:
            out[b] = BaseForecast(float(ewma[b]), 0.0, "realised_ewma")
    if any(v.source == "realised_ewma" for v in out.values()):
        notes.append("expected returns: forecast vol = EWMA(0.94) realised vol, drift 0 (no forecasts row)")
    return out


def compute_portfolio_risk(conn: psycopg.Connection, portfolio_name: str, as_of: date,
                           heston: Mapping[str, HestonParams] | None = None,
                           mc_paths: int = 20_000) -> tuple[dict[str, pd.DataFrame], list[RiskFigure], list[str]]:
    """Compute every risk table's rows for one portfolio and date (nothing written)."""
    notes: list[str] = []
    portfolio = read_portfolio(conn, portfolio_name)
    snap = md.load_snapshot(conn, portfolio, as_of)
    book: Book = build_book(portfolio, snap.spot, snap.quotes, snap.ts)
    bases = list(book.bases)
    returns = md.load_daily_log_returns(conn, bases, as_of)
    source = "database (Binance spot daily closes)"
    market = get_settings().shared_market_dir
    if len(returns.dropna()) < 250 and (market / "binance_ohlcv_btc_eth").is_dir():
        returns = md.read_binance_daily_returns(market / "binance_ohlcv_btc_eth", bases)
        source = "real Binance daily candles (../shared/data), window labelled"
    returns = returns[bases].dropna()
    if len(returns) < 60:
        raise InsufficientHistory(f"{portfolio_name} {as_of}: {len(returns)} daily returns for {bases}; need >= 60"
                                  " (ingest 1d candles first)")
    notes.append(f"returns: {source}, {len(returns)} days to {returns.index[-1].date()} (hs/fhs use the last 500)")
    betas = {b: (float(np.cov(returns[b], returns["BTC"])[0, 1] / returns["BTC"].var())
                 if "BTC" in returns else 1.0) for b in bases}
    greeks = portfolio_greeks(book, betas)
    vol_changes = _vol_changes(conn, bases, as_of, returns.index, notes, source.startswith("real"))
    corr = np.atleast_2d(np.corrcoef(returns.to_numpy().T)) if len(bases) > 1 else np.eye(1)
    figures: list[RiskFigure] = []
    params = _proxy_heston(_heston(conn, bases, as_of, notes, heston), bases, returns, notes)
    for h in HORIZONS:
        figures += scenario_var(book, hs_scenarios(returns, h, vol_changes), "hs", h, LEVELS)
        figures += scenario_var(book, fhs_scenarios(returns, h, vol_changes), "fhs", h, LEVELS)
        if all(b in params for b in bases):
            figures += scenario_var(book, mc_heston_scenarios(params, h, bases, corr, n_paths=mc_paths), "mc_heston",
                                    h, LEVELS)
        delta = {str(k): float(v) for k, v in greeks.iloc[: len(book)].groupby("base")["delta_usd"].sum().items()}
        figures += parametric_var(delta, returns, h, LEVELS)
    if not all(b in params for b in bases):
        notes.append(f"mc_heston skipped: no Heston parameters for {sorted(set(bases) - set(params))}")
    value = float(greeks.loc[greeks["position_id"] == "TOTAL", "value_usd"].iloc[0])
    risk = pd.DataFrame([{
        "method": f.method, "horizon_days": f.horizon_days, "level": f.level, "var_usd": f.var_usd,
        "es_usd": f.es_usd, "portfolio_value_usd": value, "n_scenarios": f.n_scenarios,
        "window_start": f.window_start.date() if f.window_start is not None else None,
        "window_end": f.window_end.date() if f.window_end is not None else None,
        "is_comparison": f.method == "parametric", "computed_at": snap.ts,
        "details": Jsonb(json.loads(json.dumps(f.details, default=str)))} for f in figures])
    stress = pd.concat([spot_vol_grid(book), time_decay(book), funding_shocks(book),
                        historical_stress(book, load_historical_scenarios(market))], ignore_index=True)
    forecasts = _forecasts(conn, returns, bases, as_of, notes)
    er = expected_returns(book, forecasts, ER_HORIZON_DAYS, corr)
    payoff = payoff_curves(book, ER_HORIZON_DAYS)
    tables = {"position_greeks": greeks, "risk_metrics": risk, "stress_results": stress,
              "expected_returns": er, "payoff_curves": payoff}
    log.info("risk %s %s: value %.0f USD, %d figures; %s", portfolio_name, as_of, value, len(figures),
             "; ".join(notes))
    return tables, figures, notes


def _replace(conn: psycopg.Connection, table: str, portfolio: str, as_of: date, frame: pd.DataFrame) -> int:
    conn.execute(f"DELETE FROM {table} WHERE portfolio = %s AND as_of = %s", (portfolio, as_of))
    if frame.empty:
        return 0
    frame = frame.assign(portfolio=portfolio, as_of=as_of)
    cols = list(frame.columns)
    values = [tuple(None if (isinstance(v, float) and not np.isfinite(v)) else
                    (v.item() if isinstance(v, np.generic) else v) for v in row)
              for row in frame.itertuples(index=False, name=None)]
    with conn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                        values)
    return len(values)


def compute_risk(url: str, portfolio: str, as_of: Any, heston: Mapping[str, HestonParams] | None = None,
                 mc_paths: int = 20_000) -> RiskRun:
    """Compute and store the risk tables of ``portfolio`` for the UTC day ``as_of`` (idempotent per date).

    Parameters
    ----------
    url : str
        Platform database URL.
    portfolio : str
        Portfolio name in ``positions``.
    as_of : date-like
        UTC day; market data up to its end are used.
    heston : mapping of str to HestonParams, optional
        Heston parameters per base (override ``heston_params``).
    mc_paths : int, default 20000
        Monte Carlo paths for ``mc_heston``.

    Raises
    ------
    CryptoderivError
        Missing positions, market data or history (the message says which).
    """
    day = pd.Timestamp(as_of).date()
    with connect(url) as conn:
        tables, figures, notes = compute_portfolio_risk(conn, portfolio, day, heston, mc_paths)
        with conn.transaction():
            rows = {t: _replace(conn, t, portfolio, day, tables[t]) for t in RESULT_TABLES}
        conn.commit()
    return RiskRun(portfolio, day, rows, tuple(figures), tuple(notes))


def compute_risk_all(url: str, as_of: Any) -> list[RiskRun]:
    """:func:`compute_risk` for every portfolio in ``positions`` (the DAG's task)."""
    with connect(url) as conn:
        names = [r[0] for r in conn.execute("SELECT DISTINCT portfolio FROM positions ORDER BY 1").fetchall()]
    runs = []
    for name in names:
        runs.append(compute_risk(url, name, as_of))
    if not names:
        log.warning("no portfolios in positions: nothing to compute for %s", as_of)
    return runs


DEMO_PORTFOLIO = Path(__file__).resolve().parents[3] / "examples" / "portfolio.yaml"
#: The catalog the demo syncs first, per venue: every kind the sample book (and a roll of it) can need.
DEMO_CATALOG: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("binance", ("spot", "perpetual", "future")), ("bybit", ("spot", "perpetual", "option")),
    ("deribit", ("spot", "perpetual", "future", "option")))


def _exchange_now(as_of: Any, now: Any = None) -> pd.Timestamp:
    """End of the UTC day ``as_of``, but not later than the exchange's present ``now`` (default: the wall
    clock) floored to the hour."""
    present = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    present = present.tz_localize("UTC") if present.tzinfo is None else present.tz_convert("UTC")
    return min(md.day_end(pd.Timestamp(as_of).date()), present.floor("h"))


def roll_demo_book(url: str, portfolio: Portfolio, as_of: Any, min_days: float = 7.0) -> RolledPortfolio:
    """:func:`~cryptoderiv.portfolio.roll.roll_expired` of ``portfolio`` against the active contracts in the
    ``instruments`` catalog at ``as_of`` (UTC); each roll note is logged at INFO by ``roll_expired``."""
    with connect(url) as conn:
        listed = load_listed(conn, portfolio)
    return roll_expired(portfolio, as_of, listed, min_days)


def seed_demo_market(url: str, as_of: Any, history_days: int = 400, portfolio: Portfolio | None = None,
                     *, now: Any = None, **client: Any) -> RolledPortfolio | None:
    """Load what the sample portfolio needs from the exchange (simulator) into the database.

    First the instrument catalog (:data:`DEMO_CATALOG`), then the book is rolled against it
    (:func:`roll_demo_book`: futures and options expiring within 7 days or no longer listed move to the next
    listed expiry), then ``history_days`` of Binance 1d candles, funding, futures quotes and the option chains
    up to the rolled book's furthest expiry, as of the end of the UTC day ``as_of`` (capped at ``now``, the
    exchange's present: default the wall clock).  Returns the rolled book (None without ``portfolio``).
    """
    from cryptoderiv.ingest import pipelines

    end = _exchange_now(as_of, now)
    run = f"risk_demo:{end.date()}"
    for venue, kinds in DEMO_CATALOG:
        pipelines.sync_catalog(url, venue, run, end, kinds=list(kinds), **client)
    rolled = roll_demo_book(url, portfolio, end) if portfolio is not None else None
    book = rolled.portfolio.positions if rolled is not None else ()
    start = (end - pd.Timedelta(days=history_days)).normalize()
    chunk = start
    while chunk < end.normalize():  # the simulator builds daily bars from minute paths: ask in small pages
        stop = min(chunk + pd.Timedelta(days=30), end.normalize())
        # one run id per page: each page is its own batch in ingest_runs, dq_results and the alerts
        pipelines.ingest_ohlcv(url, "binance", ["BTC/USDT", "ETH/USDT"], "1d", chunk, stop, f"{run}:{chunk.date()}",
                               **client)
        chunk = stop
    pipelines.ingest_ohlcv(url, "binance", ["BTC/USDT", "ETH/USDT"], "1m", end - pd.Timedelta(hours=1), end, run,
                           **client)
    for venue, perps in (("binance", ["BTC/USDT:USDT", "ETH/USDT:USDT"]), ("bybit", ["BTC/USDT:USDT"]),
                         ("deribit", ["BTC/USD:BTC", "ETH/USD:ETH"])):
        pipelines.ingest_funding(url, venue, perps, end - pd.Timedelta(days=1), end, run, **client)
    for venue, base in (("binance", "BTC"), ("binance", "ETH"), ("bybit", "BTC"), ("deribit", "BTC"),
                        ("deribit", "ETH")):
        pipelines.ingest_futures_quotes(url, venue, base, end - pd.Timedelta(hours=1), end, run, **client)
    # the Deribit BTC chain feeds the Heston calibration; the others only as far as the book holds options
    chains = sorted({("deribit", "BTC"), ("bybit", "BTC")} | {(p.exchange, p.base) for p in book
                                                              if p.kind == "option"})
    for venue, base in chains:
        needed = [p.expiry for p in book if p.kind == "option" and p.exchange == venue and p.base == base]
        with connect(url) as conn:
            listed = [r[0] for r in conn.execute(
                "SELECT DISTINCT expiry FROM instruments WHERE exchange = %s AND base = %s AND kind = 'option'"
                " AND active AND expiry > %s ORDER BY 1", (venue, base, end)).fetchall()]
        # only the expiries up to the furthest one the book holds: a smaller chain is fetched fresher
        count = max([i + 1 for i, e in enumerate(listed) if any(pd.Timestamp(e) == n for n in needed)], default=2)
        wanted = [p.symbol for p in book if p.kind == "option" and p.exchange == venue and p.base == base]
        for attempt in range(3):
            # Deribit's chain is one ticker per option: on a busy machine some quotes arrive stale and the
            # quality gate quarantines them; fetch again until the book's options are published.
            pipelines.ingest_option_chain(url, venue, base, end - pd.Timedelta(hours=1), end, f"{run}:{attempt}",
                                          expiries=count, **client)
            with connect(url) as conn:
                have = {r[0] for r in conn.execute(
                    "SELECT DISTINCT i.symbol FROM option_quotes q JOIN instruments i USING (instrument_id)"
                    " WHERE i.exchange = %s AND i.symbol = ANY(%s)", (venue, wanted)).fetchall()}
            if have >= set(wanted):
                break
            log.warning("%s chain: no quote yet for %s; fetching again", venue, sorted(set(wanted) - have))
    return rolled


def run_risk_demo(url: str, as_of: Any = None, portfolio_file: str | Path = DEMO_PORTFOLIO,
                  seed_market: bool = True, history_days: int = 400, *, now: Any = None,
                  mc_paths: int = 20_000, **client: Any) -> RiskRun:
    """``make demo``'s risk stage: roll the sample portfolio onto listed contracts, import it and compute its
    risk for ``as_of``.

    Parameters
    ----------
    url : str
        The (demo) database URL.
    as_of : date-like, optional
        UTC day (default: today, UTC).
    portfolio_file : path, default examples/portfolio.yaml
        Sample portfolio.
    seed_market : bool, default True
        First sync the catalog and load the daily history and the day's quotes the book needs from the exchange
        simulator (``client`` = ``source``/``simulator_url`` as for the ingestion pipelines; default from
        settings); without it the book is rolled against the catalog already in the database.
    history_days : int, default 400
        Days of daily candles to load (the simulator builds them from minute paths: ~40 ms per day and symbol).
    now : timestamp-like, optional
        The exchange's present (UTC; default the wall clock): windows end no later than its hour.
    mc_paths : int, default 20000
        Monte Carlo paths for ``mc_heston``.

    Returns
    -------
    RiskRun
        The run; ``rolls`` lists the positions moved off expiring contracts (the file's symbol, the new one,
        why), and the same lines lead ``notes``.  Nothing is rolled while the file's contracts are live.
    """
    day = pd.Timestamp(as_of).date() if as_of is not None else pd.Timestamp.now(tz="UTC").date()
    portfolio = load_portfolio_file(portfolio_file)
    seeded = seed_demo_market(url, day, history_days, portfolio, now=now, **client) if seed_market else None
    rolled = seeded or roll_demo_book(url, portfolio, _exchange_now(day, now))
    with connect(url) as conn:
        save_portfolio(conn, rolled.portfolio)
        conn.commit()
    try:
        run = compute_risk(url, portfolio.name, day, mc_paths=mc_paths)
    except CryptoderivError:
        log.exception("risk demo failed for %s on %s", portfolio.name, day)
        raise
    backtest_spot_models(url, day)
    return dataclasses.replace(run, rolls=rolled.notes,
                               notes=tuple(f"sample book rolled: {n}" for n in rolled.notes) + run.notes)


def backtest_spot_models(url: str, as_of: Any, window: int = 500) -> int:
    """Backtest the VaR models on the stored BTC and ETH daily history up to ``as_of`` and replace the
    ``var_backtests`` rows of the series ``BTCUSDT``/``ETHUSDT`` for that date; returns the rows written.

    The estimation window is ``window`` days, shrunk (to at least 100) so that 250 days are backtested;
    series with fewer than 350 days are skipped (logged)."""
    from cryptoderiv.risk.model_backtest import backtest_models

    day = pd.Timestamp(as_of).date()
    written = 0
    with connect(url) as conn:
        returns = md.load_daily_log_returns(conn, ["BTC", "ETH"], day, lookback_days=4000)
        with conn.transaction():
            for base in returns.columns:
                series = returns[base].dropna()
                # Short histories: shrink the estimation window so that at least 250 days are backtested.
                win = min(window, len(series) - 250)
                if win < 100:
                    log.info("var backtest %s: %d days of history, need 350; skipped", base, len(series))
                    continue
                table = backtest_models(series, window=win).drop(columns=["as_of"]).assign(
                    computed_at=md.day_end(day))
                written += _replace(conn, "var_backtests", f"{base}USDT", day, table)
        conn.commit()
    return written
