"""``cryptoderiv portfolio import --check`` validates a file without touching the database."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cryptoderiv.cli import app

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "portfolio.yaml"


def test_check_accepts_the_sample_and_names_the_bad_line(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["portfolio", "import", str(SAMPLE), "--check"])
    assert ok.exit_code == 0 and "portfolio sample, 10 positions, valid" in ok.output
    bad = tmp_path / "bad.csv"
    bad.write_text("id,exchange,symbol,size,entry_price\na,binance,BTC/USDT,1,90000\nb,binance,BTC/USDT,1,-5\n")
    result = runner.invoke(app, ["portfolio", "import", str(bad), "--check"])
    assert result.exit_code != 0
    assert "line 3" in str(result.exception) and "entry_price" in str(result.exception)
