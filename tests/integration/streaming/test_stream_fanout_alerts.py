"""The sidecar's WebSocket endpoint and alerts against the real simulator, database, SMTP catcher and a real
webhook receiver: a slow client is closed with 1013 while another keeps receiving; live and pipeline alerts are
stored once per cool-down, e-mailed, posted and pushed on the ``alerts`` channel."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import aiohttp
import pytest

from cryptoderiv.alerts import AlertDispatcher, AlertRule, evaluate_dq_alerts, raise_pipeline_alert
from cryptoderiv.alerts.store import Alert
from cryptoderiv.config import Settings
from cryptoderiv.simulator import SimulatorServer
from cryptoderiv.streaming import Sidecar, parse_config
from tests.integration.streaming.support import StalledWebSocketClient, WebhookReceiver, sync_venues

SYMBOLS = ["BTC/USDT", "ETH/USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"]


@pytest.fixture()
def webhook():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.close()


async def _wait_for(predicate, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.mark.slow
@pytest.mark.db
def test_slow_client_dropped_with_1013_others_served_and_live_alert_pushed(db, database_url, tmp_path: Path,
                                                                          smtp_server, webhook):
    config = parse_config({
        "venues": {"binance": {"book": SYMBOLS}, "bybit": {"tickers": ["BTC/USDT:USDT"]}},
        "server": {"client_buffer": 16},
        "alerts": {"use_db_rules": False},
    })
    # a rule that holds on every tick (funding above -100 %): fires once, then the cool-down holds it
    rule = AlertRule("always-funding", "funding_above", {"venue": "bybit", "symbol": "BTC/USDT:USDT",
                                                          "threshold": -1.0},
                     cooldown_s=3600, channels=("dashboard", "email", "webhook"), recipients=("desk@example.com",),
                     webhook_url=webhook.url)
    settings = Settings(smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    before_mail = len(smtp_server.messages)
    with SimulatorServer(seed=3, ws_interval_s=0.005) as sim:   # best bid/ask at ~200 updates/s per symbol
        sync_venues(database_url, sim.url, venues=("binance", "bybit"))
        sidecar = Sidecar(config, database_url=database_url, source="simulator", simulator_url=sim.url, port=0,
                          spool_dir=tmp_path / "spool", rules=[rule])
        sidecar.dispatcher.settings = settings

        async def scenario() -> tuple[list, int | None, list, dict, str]:
            await sidecar.start()
            url = f"ws://127.0.0.1:{sidecar.port}/ws"
            channels = [f"ticker:binance:{s}" for s in SYMBOLS] + ["alerts"]
            fast_got: list = []
            alerts_got: list = []
            try:
                async with aiohttp.ClientSession() as session:
                    # health and metrics
                    async with session.get(f"http://127.0.0.1:{sidecar.port}/health") as r:
                        health = await r.json()
                    # a fast client, reading everything
                    fast = await session.ws_connect(url)
                    await fast.send_json({"op": "subscribe", "channels": [*channels, "bogus:channel"]})
                    # a slow client: tiny receive buffer, reads nothing after subscribing
                    slow = await asyncio.to_thread(StalledWebSocketClient, sidecar.port, channels)

                    async def read_fast() -> None:
                        async for msg in fast:
                            body = json.loads(msg.data)
                            fast_got.append(body)
                            if body.get("channel") == "alerts":
                                alerts_got.append(body["data"])

                    reader = asyncio.ensure_future(read_fast())
                    await _wait_for(lambda: sidecar.metrics.clients_dropped >= 1, 60)
                    n_at_drop = len(fast_got)
                    await asyncio.sleep(1.0)
                    assert len(fast_got) > n_at_drop + 20          # the fast client kept receiving
                    await _wait_for(lambda: bool(alerts_got) and bool(webhook.bodies), 20)
                    code, _ = await asyncio.to_thread(slow.close_code)
                    async with session.get(f"http://127.0.0.1:{sidecar.port}/metrics") as r:
                        metrics_text = await r.text()
                    reader.cancel()
                    await fast.close()
            finally:
                await sidecar.stop()
            return fast_got, code, alerts_got, health, metrics_text

        fast_got, code, alerts_got, health, metrics_text = asyncio.run(asyncio.wait_for(scenario(), 120))

    assert code == 1013
    assert health["status"] == "ok" and health["subscriptions"]["binance"]["book"] == 4
    assert "cryptoderiv_stream_clients_dropped_total 1" in metrics_text
    assert 'cryptoderiv_stream_ticks_in_total{venue="binance"}' in metrics_text
    assert any(m["type"] == "subscribed" for m in fast_got)
    assert any(m["type"] == "error" and "bogus" in m["message"] for m in fast_got)
    data = [m for m in fast_got if m["type"] == "data" and m["channel"].startswith("ticker:")]
    assert {m["channel"] for m in data} == {f"ticker:binance:{s}" for s in SYMBOLS}
    first = data[-1]["data"]
    assert {"venue", "symbol", "ts", "bid", "ask", "last", "sent_ts"} <= set(first)
    # the live alert: once (cool-down), stored, e-mailed, posted, pushed
    stored = db.execute(
        "SELECT alert_id, kind, subject, value FROM alerts WHERE rule_name = 'always-funding'").fetchall()
    assert len(stored) == 1
    assert stored[0][1] == "funding_above" and stored[0][2] == "bybit:BTC/USDT:USDT"
    assert [a["alert_id"] for a in alerts_got] == [stored[0][0]]
    assert len(webhook.bodies) == 1 and webhook.bodies[0]["alert_id"] == stored[0][0]
    assert webhook.bodies[0]["value"] == pytest.approx(stored[0][3])
    mails = [m for m in smtp_server.messages[before_mail:] if "always-funding" in m["Subject"]]
    assert len(mails) == 1 and mails[0]["To"] == "desk@example.com"


@pytest.mark.db
def test_pipeline_alerts_cooldown_email_and_webhook(db, database_url, smtp_server, webhook):
    settings = Settings(smtp_host="127.0.0.1", smtp_port=smtp_server.port, report_recipients="ops@example.com")
    db.execute("DELETE FROM alerts")
    db.execute("DELETE FROM alert_rules")
    db.execute("DELETE FROM dq_results WHERE run_id = 'run-dq-1'")
    db.execute(
        "INSERT INTO alert_rules (name, kind, severity, params, cooldown_s, channels, webhook_url) VALUES"
        " ('dq-hard', 'dq_failure', 'warning', '{\"severity\": \"hard\"}', 600,"
        " ARRAY['dashboard','email','webhook'], %s)",
        (webhook.url,))
    checked = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    for rule, severity, success in (("option_quotes.bid_le_ask", "hard", False),
                                    ("option_quotes.iv_range", "soft", False),
                                    ("option_quotes.not_null", "hard", True)):
        db.execute(
            "INSERT INTO dq_results (run_id, table_name, rule, expectation_type, suite_name, suite_version, dimension,"
            " severity, success, element_count, unexpected_count, rows_quarantined, checked_at)"
            " VALUES ('run-dq-1', 'option_quotes', %s, 'expect_x', 'suite', '1', 'domain', %s, %s, 100, 3, 3, %s)",
            (rule, severity, success, checked))
    db.commit()
    before_mail = len(smtp_server.messages)
    ids = evaluate_dq_alerts(db, "run-dq-1", settings=settings)
    assert len(ids) == 1                                    # only the failed hard expectation matches the rule
    again = evaluate_dq_alerts(db, "run-dq-1", fired_at=checked + dt.timedelta(minutes=5), settings=settings)
    assert again == []                                      # within the 600 s cool-down
    later = evaluate_dq_alerts(db, "run-dq-1", fired_at=checked + dt.timedelta(minutes=11), settings=settings)
    assert len(later) == 1                                  # the cool-down has passed
    rows = db.execute("SELECT subject, severity, channels FROM alerts ORDER BY alert_id").fetchall()
    assert rows[0] == ("option_quotes:option_quotes.bid_le_ask", "critical", ["dashboard", "email", "webhook"])
    assert len(webhook.bodies) == 2 and webhook.bodies[0]["kind"] == "dq_failure"
    mails = smtp_server.messages[before_mail:]
    assert len(mails) == 2 and "bid_le_ask" in mails[0]["Subject"] and mails[0]["To"] == "ops@example.com"

    # pipeline failure with the built-in default rule (no pipeline_failure rule in the table): dashboard only,
    # since Airflow's failure notifier already e-mails the failed task
    ids = raise_pipeline_alert("options__compute_greeks.compute", "Spark job failed", settings=settings,
                               database_url=database_url, fired_at=checked)
    dup = raise_pipeline_alert("options__compute_greeks.compute", "Spark job failed", settings=settings,
                               database_url=database_url, fired_at=checked + dt.timedelta(seconds=30))
    assert len(ids) == 1 and dup == []
    assert db.execute("SELECT channels FROM alerts WHERE alert_id = %s", (ids[0],)).fetchone() == (["dashboard"],)
    assert not any("options__compute_greeks.compute" in m["Subject"] for m in smtp_server.messages[before_mail:])


@pytest.mark.db
def test_dispatcher_suppresses_concurrent_duplicates(db, database_url):
    """Two firings of one condition at the same instant: one row (advisory lock + unique key)."""
    rule = AlertRule("dup", "price_move", {"venue": "binance", "symbol": "BTC/USDT", "window_s": 60,
                                           "threshold": 0.01}, cooldown_s=60)
    alert = Alert("dup", "price_move", "warning", "binance:BTC/USDT", dt.datetime(2026, 11, 20, tzinfo=dt.UTC),
                  "moved", 0.02, 0.01)
    dispatcher = AlertDispatcher(database_url)

    async def both():
        return await asyncio.gather(dispatcher.dispatch(rule, alert), dispatcher.dispatch(rule, alert))

    results = asyncio.run(both())
    assert sorted(r is None for r in results) == [False, True]
    assert db.execute("SELECT count(*) FROM alerts WHERE rule_name = 'dup'").fetchone() == (1,)
