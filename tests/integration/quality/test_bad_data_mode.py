"""Acceptance of the quality gates: the simulator's bad-data mode against the real ingestion pipelines.

Two simulators with the same seed and clock: one clean, one damaging every answer it can. Ingesting from the
damaged one must quarantine each damaged row under the rule named for its defect, publish none of them, and
publish every other row exactly as the clean simulator serves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import psycopg
import pytest

from cryptoderiv.exchanges import fetch as exchange_fetch
from cryptoderiv.ingest import pipelines
from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.simulator.bad_data import DEFECTS

DAY_MS = 86_400_000
# A fixed day in the past: the simulated market, and so which rows the bad-data mode damages, are then
# the same whenever the suite runs (the damage is a function of the seed and the row only).
DAY_START = int(pd.Timestamp("2026-11-20", tz="UTC").value // 1_000_000)
NOW_MS = DAY_START + 2 * DAY_MS + 9 * 3_600_000
T0 = pd.Timestamp(DAY_START, unit="ms", tz="UTC")
SEED = 5

#: The rule that must quarantine each hard defect's rows.
RULE = {
    "negative_price": "ohlcv.close_positive",
    "nan": "ohlcv.close_not_null",
    "duplicate_timestamp": "ohlcv.unique_key",
    "funding_spike": "funding_rates.rate_within_venue_cap",
    "crossed_futures_book": "futures_quotes.bid_le_ask",
    "crossed_book": "option_quotes.bid_le_ask",
    "stale_quote": "option_quotes.quote_fresh",
    "iv_in_percent": "option_quotes.mark_iv_range",
    "coin_premium_usd": "option_quotes.premium_units",
    "parity_break": "option_quotes.put_call_parity_marks",
    "option_past_expiry": "option_quotes.expiry_after_snapshot",
}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SimulatorServer, SimulatorServer]]:
    with (SimulatorServer(seed=SEED, clock=lambda: NOW_MS) as clean,
          SimulatorServer(seed=SEED, clock=lambda: NOW_MS, bad_data="all") as bad):
        yield clean, bad


def via(server: SimulatorServer) -> dict[str, str]:
    return {"source": "simulator", "simulator_url": server.url}


def quarantined(conn: psycopg.Connection, table: str, run: str) -> pd.DataFrame:
    rows = conn.execute("SELECT rule, row_data FROM quarantine WHERE table_name = %s AND run_id LIKE %s",
                        (table, f"{run}.%")).fetchall()
    return pd.DataFrame([{"rule": r, **d} for r, d in rows])


def injected(server: SimulatorServer, defect: str) -> list[dict[str, Any]]:
    return [r for r in server.ctx.bad_data.records() if r["defect"] == defect]


def test_the_bad_data_mode_damages_at_least_ten_kinds_of_row() -> None:
    assert len(DEFECTS) >= 10
    assert set(RULE) | {"gap"} == set(DEFECTS)


def test_damaged_candles_are_quarantined_and_every_clean_candle_is_published(
        database_url: str, db: psycopg.Connection, servers: tuple[SimulatorServer, SimulatorServer]) -> None:
    clean, bad = servers
    pipelines.sync_catalog(database_url, "binance", "bad-1", T0, kinds=["spot"], **via(bad))
    start, end = T0, T0 + pd.Timedelta(hours=3)
    summary = pipelines.ingest_ohlcv(database_url, "binance", "BTC/USDT", "1m", start, end, "bad-1", **via(bad))
    truth = exchange_fetch.fetch_ohlcv("binance", "BTC/USDT", "1m", start, end, **via(clean)).frame

    damaged = {d: {pd.Timestamp(r["ts_ms"], unit="ms", tz="UTC") for r in injected(bad, d)}
               for d in ("negative_price", "nan", "duplicate_timestamp", "gap")}
    assert all(damaged.values()), damaged
    assert len(damaged["gap"]) == 5
    stored = pd.DataFrame(db.execute(
        "SELECT ts, open, high, low, close, volume FROM ohlcv ORDER BY ts").fetchall(),
        columns=["ts", "open", "high", "low", "close", "volume"])
    bad_ts = set().union(*damaged.values())
    expected = truth.loc[~truth["ts"].isin(bad_ts)].reset_index(drop=True)
    assert len(stored) == len(expected) == 180 - len(bad_ts)
    for column in ("open", "high", "low", "close", "volume"):
        assert stored[column].tolist() == expected[column].tolist(), column

    held = quarantined(db, "ohlcv", "bad-1")
    for defect in ("negative_price", "nan", "duplicate_timestamp"):
        caught = held.loc[held["rule"] == RULE[defect], "ts"].map(pd.Timestamp)
        assert set(caught) == damaged[defect], defect
    assert (held["rule"] == "ohlcv.unique_key").sum() == 2  # both copies: which is right cannot be told
    assert summary.rows_quarantined == 4
    gap = db.execute("SELECT success, severity FROM dq_results WHERE rule = 'ohlcv.bar_grid_complete'"
                     " AND run_id LIKE 'bad-1%'").fetchone()
    assert gap == (False, "soft")  # recorded (and notified), not blocking


def test_a_funding_spike_and_a_crossed_futures_book_are_quarantined(
        database_url: str, db: psycopg.Connection, servers: tuple[SimulatorServer, SimulatorServer]) -> None:
    clean, bad = servers
    pipelines.sync_catalog(database_url, "binance", "bad-2", T0, kinds=["perpetual", "future"], **via(bad))
    start, end = T0, T0 + pd.Timedelta(days=2)
    pipelines.ingest_funding(database_url, "binance", "BTC/USDT:USDT", start, end, "bad-2", **via(bad))
    spike = injected(bad, "funding_spike")
    assert spike
    held = quarantined(db, "funding_rates", "bad-2")
    assert set(held["rule"]) == {RULE["funding_spike"]}
    assert {pd.Timestamp(t).value // 1_000_000 for t in held["ts"]} == {r["ts_ms"] for r in spike}
    truth = exchange_fetch.fetch_funding_history("binance", "BTC/USDT:USDT", start, end, **via(clean)).frame
    published = {r[0] for r in db.execute("SELECT ts FROM funding_rates").fetchall()}
    assert published == set(truth["ts"]) - {pd.Timestamp(r["ts_ms"], unit="ms", tz="UTC") for r in spike}

    summary = pipelines.ingest_futures_quotes(database_url, "binance", "BTC", start, end, "bad-2", **via(bad))
    crossed = {r["instrument"] for r in injected(bad, "crossed_futures_book")}
    held = quarantined(db, "futures_quotes", "bad-2")
    assert crossed and set(held["rule"]) == {RULE["crossed_futures_book"]}
    assert summary.rows_quarantined == len(held) == 1
    stored = db.execute("SELECT count(*) FROM futures_quotes").fetchone()[0]
    assert stored == summary.rows_fetched - 1


def test_every_damaged_option_quote_is_quarantined_by_its_rule_and_the_rest_published(
        database_url: str, db: psycopg.Connection, servers: tuple[SimulatorServer, SimulatorServer]) -> None:
    clean, bad = servers
    start, end = T0, T0 + pd.Timedelta(days=2)
    summary = pipelines.ingest_option_chain(database_url, "deribit", "BTC", start, end, "bad-3", expiries=2,
                                            **via(bad))
    held = quarantined(db, "option_quotes", "bad-3")
    by_rule = held.groupby("rule")["symbol"].agg(set).to_dict()
    catalog = dict(db.execute("SELECT symbol, instrument_id FROM instruments WHERE exchange = 'deribit'").fetchall())
    assert summary.rows_quarantined == held["symbol"].nunique()

    expired = injected(bad, "option_past_expiry")
    assert expired and by_rule.get(RULE["option_past_expiry"])
    victims: set[str] = set(by_rule[RULE["option_past_expiry"]])
    published = dict(db.execute(
        "SELECT i.symbol, q.mark FROM option_quotes q JOIN instruments i USING (instrument_id)").fetchall())
    fetched = {_deribit_id(s) for s in set(published) | set(held["symbol"])}
    for defect in ("crossed_book", "stale_quote", "iv_in_percent", "coin_premium_usd", "parity_break"):
        names = {r["instrument"] for r in injected(bad, defect)} & fetched  # the summary covers every expiry
        assert names, f"the chain had no option damaged by {defect}"
        caught = {s for s in by_rule.get(RULE[defect], set())}
        ids = {_deribit_id(s) for s in caught}
        assert names <= ids, (defect, names - ids)
        victims |= {s for s in caught if _deribit_id(s) in names}

    # no damaged quote is published; every other quote of the chain is, with the clean simulator's values
    assert not victims & set(published)
    truth = exchange_fetch.fetch_option_chain("deribit", "BTC", expiries=2, **via(clean)).frame.set_index("symbol")
    fetched_expiries = {s.split("-")[1] for s in set(published) | set(held["symbol"])}
    truth = truth.loc[[s.split("-")[1] in fetched_expiries for s in truth.index]]  # the expired one took a slot
    partners = set(by_rule.get(RULE["parity_break"], set()))  # parity quarantines both legs of a broken pair
    relisted = {r["instrument"] for r in expired}  # served under yesterday's expiry, hence another symbol
    expected = {s for s in truth.index if s not in victims | partners and _deribit_id(s) not in relisted}
    clean_published = {s for s in published if s in truth.index}
    missing = expected - clean_published
    assert clean_published == expected, held.loc[held["symbol"].isin(missing), ["rule", "symbol"]].to_string()
    assert all(abs(published[s] - truth.at[s, "mark"]) < 1e-12 for s in clean_published)
    assert set(published) <= set(catalog)


def _deribit_id(symbol: str) -> str:
    """ccxt's option symbol (``BTC/USD:BTC-261225-100000-C``) as Deribit's name (``BTC-25DEC26-100000-C``)."""
    base_part, rest = symbol.split(":", 1)
    _, date, strike, kind = rest.split("-")
    stamp = pd.Timestamp(f"20{date[:2]}-{date[2:4]}-{date[4:]}")
    return f"{base_part.split('/')[0]}-{stamp.day}{stamp.strftime('%b').upper()}{stamp.strftime('%y')}-{strike}-{kind}"
