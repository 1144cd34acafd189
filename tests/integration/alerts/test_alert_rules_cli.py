"""``cryptoderiv alerts load/list`` against the test database, run as the real command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cryptoderiv.config import PROJECT_ROOT

pytestmark = [pytest.mark.db]


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cryptoderiv.cli", "alerts", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "DATABASE_URL": database_url})


def test_rules_file_loads_into_alert_rules_and_a_bad_file_writes_nothing(db, database_url: str,
                                                                         tmp_path: Path) -> None:
    db.execute("TRUNCATE alert_rules")
    db.commit()
    shipped = PROJECT_ROOT / "streaming" / "alert_rules.yaml"
    done = _cli(database_url, "load", str(shipped))
    assert done.returncode == 0, done.stderr
    names = [r[0] for r in db.execute("SELECT name FROM alert_rules ORDER BY name").fetchall()]
    assert len(names) >= 5 and "btc-perp-move-5m" in names and names[0] in done.stdout

    pipeline_rule = tmp_path / "pipeline.yaml"
    pipeline_rule.write_text("rules:\n  - name: dq-mail\n    kind: dq_failure\n    params: {table: ohlcv}\n"
                             "    channels: [dashboard, email]\n    recipients: [ops@example.com]\n")
    assert _cli(database_url, "load", str(pipeline_rule)).returncode == 0
    row = db.execute("SELECT kind, channels, recipients, params->>'table' FROM alert_rules WHERE name = 'dq-mail'"
                     ).fetchone()
    assert row == ("dq_failure", ["dashboard", "email"], "ops@example.com", "ohlcv")

    listed = _cli(database_url, "list", "--recent", "3")
    assert listed.returncode == 0 and "dq-mail" in listed.stdout and "btc-perp-move-5m" in listed.stdout

    bad = tmp_path / "bad.yaml"   # the second rule is invalid: nothing of the file is written
    bad.write_text("rules:\n  - name: fine\n    kind: funding_above\n    params: {venue: bybit, symbol: BTC/USDT:USDT,"
                   " threshold: 0.001}\n  - name: broken\n    kind: no_such_kind\n")
    before = db.execute("SELECT count(*) FROM alert_rules").fetchone()
    failed = _cli(database_url, "load", str(bad))
    assert failed.returncode == 1 and "broken" in failed.stderr and "Traceback" not in failed.stderr
    assert db.execute("SELECT count(*) FROM alert_rules").fetchone() == before
