"""The sidecar against the real simulator with WebSocket drops and a database outage (a TCP proxy in front of
the test PostgreSQL, cut mid-run): the stored trades equal the simulator's ground truth for the period."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.simulator.market import Market, MarketParams
from cryptoderiv.streaming import Sidecar, parse_config
from tests.integration.streaming.support import TcpProxy, sync_venues

TRADE_SYMBOLS = {
    "binance": ["BTC/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"],
    "bybit": ["BTC/USDT:USDT"],
    "deribit": ["BTC/USD:BTC"],
}
OUTAGE_S = 30.0  # the database is down this long mid-run (the issue: "stopped for 30 seconds")
TRADE_RATE_SCALE = 6.0   # busier than the default market, so the period holds hundreds of trades


def _truth_ids(market: Market, venue: str, symbol: str, lo_ms: int, hi_ms: int) -> dict[str, int]:
    inst = market.instrument_by_symbol(venue, symbol, hi_ms)
    truth = market.trades(inst, lo_ms, hi_ms)
    ids = truth.id.tolist()
    keys = [Market.execution_uuid(inst, i) for i in ids] if venue == "bybit" else [str(i) for i in ids]
    return dict(zip(keys, truth.ts.tolist(), strict=True))


@pytest.mark.slow
@pytest.mark.db
def test_trades_complete_across_ws_drops_and_database_outage(db, database_url, tmp_path: Path):
    config = parse_config({
        "venues": {
            "binance": {"tickers": ["BTC/USDT:USDT"], "trades": TRADE_SYMBOLS["binance"]},
            "bybit": {"tickers": ["BTC/USDT:USDT"], "trades": TRADE_SYMBOLS["bybit"]},
            "deribit": {"tickers": ["BTC/USD:BTC"], "trades": TRADE_SYMBOLS["deribit"]},
        },
        "writer": {"batch_rows": 200, "flush_interval_s": 0.3, "retry_interval_s": 0.5},
        "reconnect": {"base_delay_s": 0.05, "max_delay_s": 0.5},
        "alerts": {"use_db_rules": False},
    })
    parts = urlsplit(database_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
    base = MarketParams()
    busy = MarketParams(trades_per_minute={k: v * TRADE_RATE_SCALE for k, v in base.trades_per_minute.items()})
    with SimulatorServer(Market(11, busy), faults="ws_drop_every=40", ws_interval_s=0.1) as sim:
        sync_venues(database_url, sim.url)
        sidecar = Sidecar(config, database_url=proxy.url_for(database_url), source="simulator",
                          simulator_url=sim.url, port=0, spool_dir=tmp_path / "spool")

        async def scenario() -> None:
            await sidecar.start()
            try:
                await asyncio.sleep(4)
                proxy.cut()                      # the database goes away mid-run ...
                await asyncio.sleep(OUTAGE_S)
                assert not sidecar.metrics.database_up
                assert len(sidecar.writer.spool) > 0
                proxy.restore()                  # ... and comes back
                await asyncio.sleep(5)
            finally:
                await sidecar.stop()

        try:
            asyncio.run(asyncio.wait_for(scenario(), 120))
        finally:
            proxy.close()
        drops = sim.faults.injected["ws_drop"]

    m = sidecar.metrics
    assert drops >= 3 and sum(m.reconnects.values()) >= 3
    assert sum(m.trades_backfilled.values()) > 0          # gaps were repaired over REST
    assert m.write_errors >= 1 and sum(m.rows_spooled.values()) > 0
    assert len(sidecar.writer.spool) == 0                 # the spool was replayed
    assert m.database_up

    watermarks = sidecar.trade_watermarks()
    start_ms = sidecar.start_ms
    checked = 0
    for venue, symbols in TRADE_SYMBOLS.items():
        for symbol in symbols:
            end_ms = watermarks[(venue, symbol)]
            assert end_ms > start_ms + 8_000, (venue, symbol, end_ms - start_ms)
            truth = _truth_ids(sim.market, venue, symbol, start_ms, end_ms)
            rows = db.execute(
                "SELECT t.trade_id, (extract(epoch FROM t.ts) * 1000)::bigint FROM trades t"
                " JOIN instruments i USING (instrument_id)"
                " WHERE i.exchange = %s AND i.symbol = %s AND t.ts BETWEEN to_timestamp(%s / 1000.0)"
                " AND to_timestamp(%s / 1000.0)", (venue, symbol, start_ms, end_ms)).fetchall()
            stored = [r[0] for r in rows]
            assert len(stored) == len(set(stored)), f"{venue} {symbol}: duplicated trades"
            missing = set(truth) - set(stored)
            extra = set(stored) - set(truth)
            assert not missing and not extra, (venue, symbol, sorted((truth[k], k) for k in missing), sorted(extra))
            assert {r[0]: r[1] for r in rows} == truth
            checked += len(truth)
    assert checked > 150
    # and nothing was stored twice anywhere in the run
    dup = db.execute("SELECT count(*) - count(DISTINCT (instrument_id, trade_id)) FROM trades").fetchone()
    assert dup is not None and dup[0] == 0
    print(f"\n{checked} trades checked against ground truth; ws drops {drops}, reconnects "
          f"{sum(m.reconnects.values())}, backfilled {sum(m.trades_backfilled.values())}, rows spooled "
          f"{sum(m.rows_spooled.values())}, database outage {OUTAGE_S:.0f} s, at {time.strftime('%H:%M:%S')}")


@pytest.mark.db
def test_spool_replay_is_idempotent(db, database_url, tmp_path: Path):
    """A batch replayed after it was already committed (crash between commit and delete) changes nothing."""
    from cryptoderiv.streaming.metrics import StreamMetrics
    from cryptoderiv.streaming.spool import Spool
    from cryptoderiv.streaming.subscriptions import WriterConfig
    from cryptoderiv.streaming.writer import BatchWriter, rows_frame

    with SimulatorServer(seed=5) as sim:
        sync_venues(database_url, sim.url, venues=("binance",))
    rows = [("binance", "BTC/USDT", str(100 + i), 1_790_000_000_000 + i * 10, 90_000.0 + i, 0.01, "buy")
            for i in range(50)]
    frame = rows_frame("trades", rows)
    spool = Spool(tmp_path / "spool")
    metrics = StreamMetrics()
    writer = BatchWriter(database_url, spool, WriterConfig(), metrics)
    writer.write_batch({"trades": frame})
    spool.put("trades", frame)        # the same batch again, as if its file survived a crash
    spool.put("trades", frame.iloc[10:20])
    writer.write_batch({})            # replays the spool
    writer._close_connection()
    assert len(spool) == 0
    count = db.execute("SELECT count(*), count(DISTINCT trade_id) FROM trades").fetchone()
    assert count == (50, 50)
    assert metrics.rows_written["trades"] == 50 + 50 + 10   # rows handed to the upsert; stored once
