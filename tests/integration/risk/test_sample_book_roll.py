"""``make demo``'s risk stage once the sample book's contracts have expired: a copy of the sample book whose
futures and options expired last Friday, the real catalog sync against the exchange simulator at today's start,
the book rolled onto listed contracts, its market data loaded, imported, and its risk computed, on the real test
database.

The copy (rather than a simulator clock after the sample's own 2026-12-25 expiry) keeps every input in the past:
the exchange layer fetches no candles after the wall-clock present, so a clock in the future leaves too little
daily history for the risk stage.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from cryptoderiv.portfolio.loader import load_portfolio_file
from cryptoderiv.risk.jobs import RESULT_TABLES, RiskRun, run_risk_demo
from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.simulator.market import Market

pytestmark = pytest.mark.slow

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "portfolio.yaml"
NOW = pd.Timestamp.now(tz="UTC").normalize()  # the simulator's pinned present: today 00:00 UTC
NOW_MS = int(NOW.value // 1_000_000)
AS_OF = (NOW - pd.Timedelta(days=1)).date()  # complete at NOW
EXPIRED = NOW - pd.Timedelta(days=(NOW.weekday() - 4) % 7 or 7) + pd.Timedelta(hours=8)  # last Friday, 08:00
HORIZON = NOW + pd.Timedelta(days=7)  # roll_expired's default min_days
# what run_risk_demo fills; emptied before (the session's database is shared: catalogs, calibrations and
# forecasts of other modules would change what the stage picks) and after
MARKET_TABLES = ("instruments", "ohlcv", "trades", "funding_rates", "open_interest", "futures_quotes",
                 "option_quotes", "option_greeks", "vol_surfaces", "vol_surface_metrics", "ingest_runs")
OTHER_TABLES = ("forecasts", "forecast_evaluations", "model_runs", "heston_params", "positions", "var_backtests",
                *RESULT_TABLES)


@pytest.fixture(scope="module")
def expired_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample book with every dated contract moved to an expiry that has passed (last Friday)."""
    text, n = re.subn(r"(:[A-Z]+-)\d{6}", lambda m: m.group(1) + EXPIRED.strftime("%y%m%d"), SAMPLE.read_text())
    assert n == 5, "the sample book's dated symbols changed: update this test"
    path = tmp_path_factory.mktemp("roll") / "portfolio.yaml"
    path.write_text(text)
    return path


def _empty(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in MARKET_TABLES + OTHER_TABLES)))


@pytest.fixture(scope="module")
def demo_run(database_url: str, expired_book: Path) -> Iterator[tuple[str, RiskRun, Path]]:
    _empty(database_url)
    try:
        with SimulatorServer(seed=7, clock=lambda: NOW_MS) as sim:
            run = run_risk_demo(database_url, AS_OF, expired_book, history_days=65, now=NOW, mc_paths=2000,
                                source="simulator", simulator_url=sim.url)
        yield database_url, run, expired_book
    finally:
        _empty(database_url)


def test_the_expired_sample_book_is_rolled_onto_contracts_the_exchange_lists(
        demo_run: tuple[str, RiskRun, Path]) -> None:
    url, run, path = demo_run
    book = {p.position_id: p for p in load_portfolio_file(path).positions}
    dated = {pid for pid, p in book.items() if p.kind in ("future", "option")}
    assert {n.split(":", 1)[0] for n in run.rolls} == dated and len(run.rolls) == 5
    assert all(f"(expired {EXPIRED.date()};" in n and "(not re-marked)" in n for n in run.rolls)
    assert run.notes[:5] == tuple(f"sample book rolled: {n}" for n in run.rolls)
    with psycopg.connect(url, options="-c timezone=UTC") as conn:
        rows = conn.execute("SELECT position_id, exchange, symbol, instrument_id, option_type, strike, expiry, size,"
                            " entry_price FROM positions WHERE portfolio = 'sample'").fetchall()
    stored = {r[0]: r for r in rows}
    assert set(stored) == set(book)
    assert all(r[3] is not None for r in rows), [r[0] for r in rows if r[3] is None]
    market = Market(seed=7)
    for pid, p in book.items():
        _, exchange, symbol, _, option_type, strike, expiry, size, entry = stored[pid]
        assert (size, entry) == (p.size, p.entry_price), pid
        if pid not in dated:
            assert symbol == p.symbol
            continue
        assert f"{pid}: {p.symbol} -> {symbol} (" in "\n".join(run.rolls)
        listed = [i for i in market.instruments(exchange, NOW_MS) if i.kind == p.kind and i.base == p.base
                  and i.inverse == p.is_inverse and i.option_type == p.option_type]
        first = min(e for e in (i.expiry_ms for i in listed) if e is not None and e > HORIZON.value // 1_000_000)
        new = market.instrument_by_symbol(exchange, symbol, NOW_MS)  # the simulator lists the rolled contract
        assert new.expiry_ms == first and pd.Timestamp(expiry) == pd.Timestamp(first, unit="ms", tz="UTC"), pid
        if p.kind == "option":
            assert option_type == p.option_type and new.strike == strike
            strikes = [i.strike for i in listed if i.expiry_ms == first and i.strike is not None]
            assert p.strike is not None and abs(strike - p.strike) == min(abs(k - p.strike) for k in strikes), pid


def test_the_rolled_book_gets_its_risk_computed_for_the_day(demo_run: tuple[str, RiskRun, Path]) -> None:
    url, run, _ = demo_run
    assert run.portfolio == "sample" and run.as_of == AS_OF
    assert run.rows["position_greeks"] == 11 and run.rows["expected_returns"] == 11
    methods = {f.method for f in run.figures}
    assert {"hs", "fhs", "parametric"} <= methods
    assert all(f.var_usd > 0 and f.es_usd >= f.var_usd - 1e-9 for f in run.figures)
    with psycopg.connect(url) as conn:
        quoted = conn.execute(
            "SELECT count(DISTINCT p.position_id) FROM positions p JOIN option_quotes q USING (instrument_id)"
            " WHERE p.portfolio = 'sample' AND p.kind = 'option'").fetchone()
        stored = conn.execute("SELECT count(*) FROM risk_metrics WHERE portfolio = 'sample' AND as_of = %s",
                              (AS_OF,)).fetchone()
    assert quoted is not None and quoted[0] == 3  # the chains fetched were those of the rolled options
    assert stored is not None and stored[0] == len(run.figures)


def test_rolling_again_against_the_same_catalog_changes_nothing(demo_run: tuple[str, RiskRun, Path]) -> None:
    url, run, path = demo_run
    query = ("SELECT position_id, symbol, instrument_id, option_type, strike, expiry, size, size_unit, entry_price"
             " FROM positions WHERE portfolio = 'sample' ORDER BY position_id")
    with psycopg.connect(url) as conn:
        before = conn.execute(query).fetchall()
    again = run_risk_demo(url, AS_OF, path, seed_market=False, now=NOW, mc_paths=2000)
    with psycopg.connect(url) as conn:
        after = conn.execute(query).fetchall()
    assert again.rolls == run.rolls and after == before
