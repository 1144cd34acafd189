"""Streaming sidecar: sustained ticks/s into PostgreSQL, and fan-out latency simulator-send -> client-receive.

1. Write path: ``--ticks`` synthetic ticks pushed through the sidecar's real write path (bounded queue ->
   batches -> :func:`cryptoderiv.storage.writer.write_frame` binary COPY / idempotent upsert) into a fresh
   database; sustained rate = rows committed / wall time from the first put to the last commit. Peer: a naive
   per-row ``INSERT`` (one statement per tick, commit per 1,000). Median of ``--reps``; ratio printed.
   Goal: >= 20,000 ticks/s.
2. Latency: the exchange simulator (own process) pushes Binance best bid/ask at ~``--rate`` ticks/s in
   total over ``--symbols`` symbols; the sidecar (own process, ``cryptoderiv stream run``) fans them out to
   ``--clients`` WebSocket clients (this process), each subscribed to one symbol's ticker channel. Latency =
   client receive time - the simulator's send stamp carried in the tick (ms resolution). Goal: p99 <= 50 ms.

Usage: python benchmarks/bench_streaming.py [--ticks N] [--reps N] [--rate R] [--clients N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from cryptoderiv.stack.supervisor import free_ports
from cryptoderiv.storage.database import fresh_database
from cryptoderiv.storage.writer import write_frame
from cryptoderiv.streaming.metrics import StreamMetrics
from cryptoderiv.streaming.spool import Spool
from cryptoderiv.streaming.subscriptions import WriterConfig
from cryptoderiv.streaming.writer import BatchWriter

RESULTS = Path(__file__).parent / "results"
BENCH_DB = "cryptoderiv_bench_stream"
N_INSTRUMENTS = 50
T0_MS = 1_790_000_000_000


def bench_database() -> str:
    return fresh_database(BENCH_DB)


def seed_instruments(url: str) -> list[str]:
    symbols = [f"X{i}/USDT" for i in range(N_INSTRUMENTS)]
    frame = pd.DataFrame({"exchange": "binance", "symbol": symbols, "kind": "spot",
                          "base": [s.split("/")[0] for s in symbols], "quote": "USDT", "is_inverse": False,
                          "contract_size": 1.0, "active": True})
    with psycopg.connect(url) as conn:
        write_frame(conn, "instruments", frame)
        conn.commit()
    return symbols


def tick_rows(symbols: list[str], n: int, offset_ms: int) -> list[tuple]:
    rng = np.random.default_rng(offset_ms)
    sym = np.arange(n) % len(symbols)
    mid = 100.0 + rng.standard_normal(n).cumsum() * 0.01
    # one tick per instrument per ms: unique (instrument, ts) keys, time moving forward
    ts = offset_ms + np.arange(n) // len(symbols)
    return [("binance", symbols[s], int(t), "book", float(m - 0.01), 1.0, float(m + 0.01), 2.0, None, None,
             None, None, None, None, None, None, None, None) for s, t, m in zip(sym, ts, mid, strict=True)]


async def sustained_rate(url: str, rows: list[tuple], spool_dir: Path) -> tuple[float, int]:
    metrics = StreamMetrics()
    writer = BatchWriter(url, Spool(spool_dir), WriterConfig(batch_rows=10_000, flush_interval_s=0.25,
                                                             queue_rows=50_000), metrics)
    writer.start()
    started = time.perf_counter()
    for row in rows:
        await writer.put("ticks", row, 0.0)
    await writer.close()
    return time.perf_counter() - started, metrics.rows_written["ticks"]


def naive_inserts(url: str, rows: list[tuple]) -> float:
    with psycopg.connect(url) as conn:
        ids = dict(conn.execute("SELECT symbol, instrument_id FROM instruments WHERE exchange = 'binance'").fetchall())
        started = time.perf_counter()
        for i, r in enumerate(rows):
            conn.execute("INSERT INTO ticks (instrument_id, ts, source, bid, bid_size, ask, ask_size)"
                         " VALUES (%s, to_timestamp(%s / 1000.0), %s, %s, %s, %s, %s)"
                         " ON CONFLICT (instrument_id, ts, source) DO NOTHING",
                         (ids[r[1]], r[2], r[3], r[4], r[5], r[6], r[7]))
            if i % 1000 == 999:
                conn.commit()
        conn.commit()
        return time.perf_counter() - started


def wait_http(url: str, timeout_s: float = 60.0) -> None:
    import urllib.request

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


async def latency_clients(port: int, channels: list[str], n_clients: int, seconds: float,
                          warmup_s: float) -> tuple[list[float], int]:
    lat: list[float] = []
    dropped = 0

    async def client(i: int, session: aiohttp.ClientSession, t_start: float) -> None:
        nonlocal dropped
        async with session.ws_connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send_json({"op": "subscribe", "channels": [channels[i % len(channels)]]})
            end = t_start + warmup_s + seconds
            async for msg in ws:
                now = time.time() * 1000.0
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                body = json.loads(msg.data)
                if body.get("type") == "data" and now / 1000.0 > t_start + warmup_s:
                    lat.append(now - body["data"]["ts_ms"])
                if now / 1000.0 > end:
                    break
            if ws.close_code == 1013:
                dropped += 1

    async with aiohttp.ClientSession() as session:
        t_start = time.time()
        await asyncio.gather(*(client(i, session, t_start) for i in range(n_clients)))
    return lat, dropped


def latency_run(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, float]:
    sim_port, side_port = free_ports(2)
    symbols = ["BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"][: args.symbols]
    # the simulator sleeps this long between pushes of one symbol, on top of building and sending it
    interval = len(symbols) / args.rate * args.interval_factor
    env = {**os.environ, "DATABASE_URL": url, "SIMULATOR_URL": f"http://127.0.0.1:{sim_port}",
           "EXCHANGE_SOURCE": "simulator"}
    sim = subprocess.Popen(
        [sys.executable, "-c",
         "import logging; from cryptoderiv.simulator import SimulatorServer;"
         f"SimulatorServer(seed=7, port={sim_port}, ws_interval_s={interval}).serve_forever()"],
        env=env, start_new_session=True, stderr=subprocess.DEVNULL)
    side = None
    try:
        wait_http(f"http://127.0.0.1:{sim_port}/_sim/health")
        from cryptoderiv.ingest.pipelines import sync_catalog

        sync_catalog(url, "binance", "bench", pd.Timestamp.now(tz="UTC"), source="simulator",
                     simulator_url=f"http://127.0.0.1:{sim_port}")
        config = workdir / "subs.yaml"
        config.write_text(json.dumps({"venues": {"binance": {"book": symbols}},
                                      "writer": {"spool_dir": str(workdir / "spool")},
                                      "server": {"client_buffer": 1024}, "alerts": {"use_db_rules": False}}))
        side = subprocess.Popen([sys.executable, "-m", "cryptoderiv.cli", "stream", "run", "--config", str(config),
                                 "--port", str(side_port), "--log-level", "WARNING"], env=env, start_new_session=True)
        wait_http(f"http://127.0.0.1:{side_port}/health")
        time.sleep(3)  # subscriptions established
        channels = [f"ticker:binance:{s}" for s in symbols]
        with urllib_get(f"http://127.0.0.1:{side_port}/health") as health:
            ticks_before, t_before = health["ticks_in"], time.time()
        lat, dropped = asyncio.run(latency_clients(side_port, channels, args.clients, args.seconds, 2.0))
        with urllib_get(f"http://127.0.0.1:{side_port}/health") as health:
            written = health["rows_written"].get("ticks", 0)
            rate_in = (health["ticks_in"] - ticks_before) / (time.time() - t_before)
    finally:
        for proc in (side, sim):
            if proc is not None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
    arr = np.array(lat)
    return {"p50_ms": float(np.percentile(arr, 50)), "p99_ms": float(np.percentile(arr, 99)),
            "max_ms": float(arr.max()), "messages": int(arr.size), "clients_dropped": dropped,
            "tick_rate_in": rate_in, "ticks_written": written}


class urllib_get:  # noqa: N801 - a tiny context manager returning parsed JSON
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> dict:
        import urllib.request

        with urllib.request.urlopen(self.url, timeout=5) as resp:
            return dict(json.loads(resp.read()))

    def __exit__(self, *exc: object) -> None:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=200_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--peer-ticks", type=int, default=5_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--symbols", type=int, default=4)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--interval-factor", type=float, default=0.65,
                        help="simulator push interval = symbols / rate x this (pushing itself takes time)")
    parser.add_argument("--skip-latency", action="store_true")
    args = parser.parse_args()

    url = bench_database()
    symbols = seed_instruments(url)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rates = []
        for rep in range(args.reps):
            rows = tick_rows(symbols, args.ticks, T0_MS + rep * 10_000_000)
            seconds, written = asyncio.run(sustained_rate(url, rows, Path(tmp) / f"spool{rep}"))
            assert written == args.ticks, (written, args.ticks)
            rates.append(args.ticks / seconds)
        ours = statistics.median(rates)
        peer_rows = tick_rows(symbols, args.peer_ticks, T0_MS + 99 * 10_000_000)
        peer = statistics.median(args.peer_ticks / naive_inserts(url, peer_rows) for _ in range(1))
        print(f"write path: {args.ticks:,} ticks x {args.reps} reps, sustained {ours:,.0f} ticks/s (median;"
              f" reps {', '.join(f'{r:,.0f}' for r in rates)}); goal >= 20,000")
        print(f"peer, naive per-row INSERT: {peer:,.0f} ticks/s; ratio ours/peer {ours / peer:.1f}x")
        results["write"] = {"ticks": args.ticks, "ticks_per_s": ours, "reps": rates, "peer_insert_per_s": peer,
                            "ratio": ours / peer}
        if not args.skip_latency:
            lat = latency_run(url, args, Path(tmp))
            print(f"latency: {args.clients} clients, ~{lat['tick_rate_in']:,.0f} ticks/s in over {args.symbols}"
                  f" symbols, {lat['messages']:,} messages: p50 {lat['p50_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms,"
                  f" max {lat['max_ms']:.1f} ms; clients dropped {lat['clients_dropped']}; goal p99 <= 50 ms")
            results["latency"] = lat
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "streaming.json").write_text(json.dumps(results, indent=2))
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB)))


if __name__ == "__main__":
    main()
