"""Dashboard speed: API-route latency on a year of 1-minute candles, and each page's LCP.

Loads one year of 1m candles (525 600 bars) for binance BTC/USDT into a scratch database, serves the
production build (``next build`` + ``next start``) against it through the read-only login, signs in and
hits each API route N times (p50/p95 printed; goal p95 <= 150 ms), then opens every page in headless
Debian Chromium (playwright-core) and prints its largest contentful paint (goal <= 2 s).

Run: ``.venv/bin/python benchmarks/bench_dashboard.py [--n 40]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import statistics
import subprocess
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.config import PROJECT_ROOT, get_settings
from cryptoderiv.stack.supervisor import free_port
from cryptoderiv.storage.database import fresh_database
from cryptoderiv.storage.migrations import dashboard_url
from cryptoderiv.storage.rollups import refresh_rollups
from cryptoderiv.storage.writer import write_frame

DASH = PROJECT_ROOT / "dashboard"
DB_NAME = "cryptoderiv_bench_dashboard"


def scratch_database() -> str:
    return fresh_database(DB_NAME)


def load_year(url: str) -> int:
    end = pd.Timestamp.now(tz="UTC").floor("D")
    ts = pd.date_range(end - pd.Timedelta(days=365), end, freq="1min", inclusive="left")
    rng = np.random.default_rng(1)
    close = 60_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, len(ts))))
    open_ = np.concatenate([[close[0]], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0005, len(ts))) * close
    frame = pd.DataFrame({"exchange": "binance", "symbol": "BTC/USDT", "timeframe": "1m", "ts": ts,
                          "open": open_, "high": np.maximum(open_, close) + spread,
                          "low": np.minimum(open_, close) - spread, "close": close,
                          "volume": rng.gamma(2.0, 3.0, len(ts))})
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO instruments (exchange, symbol, kind, base, quote) VALUES"
                     " ('binance', 'BTC/USDT', 'spot', 'BTC', 'USDT')")
        write_frame(conn, "ohlcv", frame)
        conn.commit()
    refresh_rollups(url)
    return len(frame)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40, help="requests per route")
    args = parser.parse_args()
    t0 = time.perf_counter()
    url = scratch_database()
    rows = load_year(url)
    print(f"loaded {rows} 1m candles in {time.perf_counter() - t0:.1f} s")
    subprocess.run([str(PROJECT_ROOT / "scripts" / "dashboard.sh"), "build"], check=True)
    password = secrets.token_urlsafe(12)
    salt = os.urandom(16)
    import base64

    key = hashlib.scrypt(password.encode(), salt=salt, n=16384, r=8, p=1, dklen=32)
    hashed = f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    users = json.dumps({"bench": hashed})
    port = free_port()
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1", "DASHBOARD_DATABASE_URL": dashboard_url(url),
           "DASHBOARD_USERS": users, "DASHBOARD_SESSION_SECRET": secrets.token_hex(32),
           "AIRFLOW_URL": "http://127.0.0.1:9"}
    log = Path(get_settings().local_dir) / "bench-dashboard-next.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["npx", "next", "start", "-H", "127.0.0.1", "-p", str(port)], cwd=DASH, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{base}/api/auth/sign-in", data=urllib.parse.urlencode(
            {"user": "bench", "password": password}).encode())
        routes = [f"/api/candles?venue=binance&symbol=BTC/USDT&range={r}&points=400"
                  for r in ("6h", "1d", "1w", "1m", "3m", "1y")]
        routes += ["/api/candles?venue=binance&symbol=BTC/USDT&range=1y&points=2000", "/api/funding?base=BTC&range=1y",
                   "/api/options/smile?venue=deribit&base=BTC", "/api/quality", "/api/health"]
        print(f"{'route':70s} {'p50 ms':>8s} {'p95 ms':>8s}  points")
        worst = 0.0
        for route in routes:
            times = []
            body = b""
            for i in range(args.n + 3):
                start = time.perf_counter()
                with opener.open(base + route) as answer:
                    body = answer.read()
                if i >= 3:  # warm-up excluded
                    times.append((time.perf_counter() - start) * 1000)
            p95 = float(np.percentile(times, 95))
            worst = max(worst, p95)
            data = json.loads(body)
            n = len(data.get("candles", [])) if isinstance(data, dict) else 0
            print(f"{route:70s} {statistics.median(times):8.1f} {p95:8.1f}  {n or ''}")
        print(f"worst route p95 {worst:.1f} ms (goal <= 150 ms): {'OK' if worst <= 150 else 'MISSED'}")
        done = subprocess.run(["node", "e2e/run.mjs", "--base", base, "--user", "bench", "--password", password,
                               "--out", str(get_settings().local_dir / "bench-dashboard-shots")],
                              cwd=DASH, capture_output=True, text=True, check=True)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{'page':10s} {'LCP ms':>8s}")
        for name, page in result["pages"].items():
            print(f"{name:10s} {page['lcpMs']:8d}")
        print(f"worst LCP {max(p['lcpMs'] for p in result['pages'].values())} ms (goal <= 2000 ms)")
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
