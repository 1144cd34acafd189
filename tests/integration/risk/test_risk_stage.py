"""The risk stage end to end on the real test database: market data ingested from the exchange simulator
(pinned clock), a portfolio over every instrument kind, compute_risk twice (idempotent), and the
``risk__compute`` DAG run with ``dag.test()``."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import psycopg
import pytest
from psycopg import sql

from cryptoderiv.portfolio.loader import load_portfolio_file
from cryptoderiv.risk.jobs import RESULT_TABLES, compute_risk, import_portfolio, seed_demo_market
from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.simulator.market import Market

pytestmark = pytest.mark.slow

DAY_MS = 86_400_000
NOW_MS = (int(time.time() * 1000) // DAY_MS) * DAY_MS  # today 00:00 UTC: the simulator's pinned present
AS_OF = pd.Timestamp(NOW_MS - DAY_MS, unit="ms", tz="UTC").date()  # yesterday, complete at NOW
DAGS_DIR = Path(__file__).resolve().parents[3] / "dags"


def book_yaml(path: Path) -> Path:
    """A portfolio over every kind, on the first quarterly expiry at least 20 days after NOW."""
    m = Market(seed=7)
    futures = [i for i in m.instruments("binance", NOW_MS) if i.kind == "future" and i.base == "BTC"
               and i.expiry_ms is not None and i.expiry_ms - NOW_MS > 20 * DAY_MS]
    expiry = min(f.expiry_ms for f in futures if f.expiry_ms is not None)
    fwd = m.forward("BTC", expiry, NOW_MS)

    def option(venue: str, kind: str, target: float) -> str:
        cands = [i for i in m.instruments(venue, NOW_MS) if i.kind == "option" and i.base == "BTC"
                 and i.expiry_ms == expiry and i.option_type == kind and i.strike is not None]
        return min(cands, key=lambda i: abs((i.strike or 0) - target)).symbol

    fut = {v: next(i.symbol for i in m.instruments(v, NOW_MS) if i.kind == "future" and i.base == "BTC"
                   and i.expiry_ms == expiry) for v in ("binance", "deribit")}
    path.write_text(f"""portfolio: itest
positions:
  - {{id: btc-spot, exchange: binance, symbol: BTC/USDT, size: 1.5, entry_price: 88000}}
  - {{id: eth-spot, exchange: binance, symbol: ETH/USDT, size: 20, entry_price: 3300}}
  - {{id: perp-lin, exchange: binance, symbol: BTC/USDT:USDT, size: -1, entry_price: 92000}}
  - {{id: perp-inv, exchange: deribit, symbol: BTC/USD:BTC, size: -50000, entry_price: 91000}}
  - {{id: eth-perp-inv, exchange: deribit, symbol: ETH/USD:ETH, size: 20000, entry_price: 3350}}
  - {{id: fut-inv, exchange: deribit, symbol: "{fut['deribit']}", size: 30000, entry_price: 90500}}
  - {{id: fut-lin, exchange: binance, symbol: "{fut['binance']}", size: -0.5, entry_price: 92500}}
  - {{id: call-inv, exchange: deribit, symbol: "{option('deribit', 'call', 1.1 * fwd)}", size: -2, entry_price: 0.01}}
  - {{id: put-inv, exchange: deribit, symbol: "{option('deribit', 'put', 0.9 * fwd)}", size: 3, entry_price: 0.01}}
  - {{id: put-lin, exchange: bybit, symbol: "{option('bybit', 'put', fwd)}", size: 1, entry_price: 3000}}
""")
    return path


@pytest.fixture(scope="module")
def seeded(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = book_yaml(tmp_path_factory.mktemp("risk") / "book.yaml")
    # the session's database is shared: forecasts and calibrations written by earlier test modules would
    # change which inputs the risk stage picks (its fallbacks are asserted below)
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE forecasts, forecast_evaluations, model_runs, positions CASCADE")  # the DAG: all books
        for table in RESULT_TABLES:
            conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.Identifier(table)))
    with SimulatorServer(seed=7, clock=lambda: NOW_MS) as sim:
        seed_demo_market(database_url, AS_OF, 90, load_portfolio_file(path), source="simulator",
                         simulator_url=sim.url)
    assert import_portfolio(database_url, path) == 10
    yield database_url


def checksum(conn: psycopg.Connection) -> str:
    digest = hashlib.sha256()
    for table in RESULT_TABLES:
        rows = conn.execute(f"SELECT * FROM {table} WHERE portfolio = 'itest' ORDER BY 1, 2, 3, 4, 5").fetchall()
        digest.update(repr([r for r in rows]).encode())
    return digest.hexdigest()


def test_compute_risk_fills_every_table_and_rerunning_a_date_changes_nothing(seeded: str) -> None:
    run = compute_risk(seeded, "itest", AS_OF, mc_paths=4000)
    assert run.rows["position_greeks"] == 11 and run.rows["expected_returns"] == 11
    with psycopg.connect(seeded) as conn:
        conn.execute("SET timezone = 'UTC'")
        metrics = pd.DataFrame(conn.execute(
            "SELECT method, horizon_days, level, var_usd, es_usd, is_comparison FROM risk_metrics"
            " WHERE portfolio = 'itest' AND as_of = %s", (AS_OF,)).fetchall(),
            columns=["method", "h", "level", "var", "es", "cmp"])
        assert set(metrics["method"]) == {"hs", "fhs", "mc_heston", "parametric"}
        assert len(metrics) == 16
        assert (metrics["es"] >= metrics["var"] - 1e-9).all() and (metrics["var"] > 0).all()
        wide = metrics.pivot_table(index=["method", "h"], columns="level", values="var")
        assert (wide[0.99] > wide[0.95]).all()
        for method in ("hs", "fhs", "mc_heston"):
            assert metrics.query(f"method == '{method}' and h == 10")["var"].min() > \
                metrics.query(f"method == '{method}' and h == 1")["var"].max() * 0.9
        assert metrics.loc[metrics["method"] == "parametric", "cmp"].all()
        kinds = dict(conn.execute("SELECT scenario_kind, count(*) FROM stress_results WHERE portfolio = 'itest'"
                                  " AND position_id = 'TOTAL' GROUP BY 1").fetchall())
        assert kinds == {"grid": 99, "time_decay": 3, "funding": 5, "historical": 4}
        total = conn.execute("SELECT sum(pnl_usd) FROM stress_results WHERE portfolio = 'itest'"
                             " AND scenario = 'spot-30%/vol+20' AND position_id <> 'TOTAL'").fetchone()[0]
        stored = conn.execute("SELECT pnl_usd FROM stress_results WHERE portfolio = 'itest'"
                              " AND scenario = 'spot-30%/vol+20' AND position_id = 'TOTAL'").fetchone()[0]
        assert total == pytest.approx(stored)
        er = conn.execute("SELECT vol_source, prob_profit_p FROM expected_returns WHERE portfolio = 'itest'"
                          " AND position_id = 'TOTAL'").fetchone()
        assert er[0] == "realised_ewma" and 0 < er[1] < 1
        assert conn.execute("SELECT count(*) FROM payoff_curves WHERE portfolio = 'itest'"
                            " AND position_id = 'TOTAL:BTC'").fetchone()[0] == 82
        before = checksum(conn)
    compute_risk(seeded, "itest", AS_OF, mc_paths=4000)
    with psycopg.connect(seeded) as conn:
        assert checksum(conn) == before


def test_risk_dag_runs_with_dag_test(seeded: str, airflow_env: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS_DIR)).get_dag("risk__compute")
    # a manual run covers the interval ending at its logical date: [AS_OF 00:30, AS_OF + 1 day 00:30)
    run = dag.test(logical_date=pd.Timestamp(AS_OF).tz_localize("UTC") + pd.Timedelta(days=1, minutes=30))
    assert run.state == "success", [(ti.task_id, ti.state) for ti in run.get_task_instances()]
    with psycopg.connect(seeded) as conn:
        n = conn.execute("SELECT count(*) FROM risk_metrics WHERE portfolio = 'itest' AND as_of = %s",
                         (AS_OF,)).fetchone()[0]
        assert n == 16
