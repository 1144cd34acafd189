"""Portfolio files: the sample parses, terms come from the symbol, and every error names its line."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cryptoderiv.portfolio.loader import load_portfolio_file, parse_symbol
from cryptoderiv.portfolio.positions import PositionError
from cryptoderiv.simulator.market import Market

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "portfolio.yaml"


def test_sample_portfolio_covers_every_kind_and_matches_the_simulators_listing() -> None:
    pf = load_portfolio_file(SAMPLE)
    assert pf.name == "sample" and len(pf) == 10
    kinds = {(p.kind, p.is_inverse) for p in pf.positions}
    assert {("spot", False), ("perpetual", False), ("perpetual", True), ("future", True), ("future", False),
            ("option", True), ("option", False)} <= kinds
    market = Market(seed=7)
    t_ms = int(pd.Timestamp("2026-11-24T12:00Z").value // 1_000_000)
    for p in pf.positions:
        inst = market.instrument_by_symbol(p.exchange, p.symbol, t_ms)
        assert inst.kind == p.kind and inst.inverse == p.is_inverse, p.position_id
        if p.kind == "option":
            assert (inst.strike, inst.option_type) == (p.strike, p.option_type)
            assert pd.Timestamp(inst.expiry_ms, unit="ms", tz="UTC") == p.expiry


def test_symbol_terms() -> None:
    t = parse_symbol("BTC/USD:BTC-261225-100000-C")
    assert (t["kind"], t["base"], t["is_inverse"], t["strike"], t["option_type"]) == ("option", "BTC", True,
                                                                                     100000.0, "call")
    assert t["expiry"] == pd.Timestamp("2026-12-25T08:00Z")
    assert parse_symbol("ETH/USDT:USDT")["kind"] == "perpetual"
    assert parse_symbol("BTC/USDT:USDT-261225")["is_inverse"] is False
    with pytest.raises(ValueError, match="unified"):
        parse_symbol("BTC-PERPETUAL")


@pytest.mark.parametrize(("line", "text", "message"), [
    (4, "  - {id: b, exchange: kraken, symbol: BTC/USDT, size: 1, entry_price: 1}", "exchange"),
    (4, "  - {id: b, exchange: binance, symbol: BTC/USDT, size: 0, entry_price: 1}", "size"),
    (4, "  - {id: b, exchange: binance, symbol: BTC/USDT, size: 1, entry_price: 1, colour: red}", "unknown"),
    (4, "  - {id: a, exchange: binance, symbol: BTC/USDT, size: 1, entry_price: 1}", "already used on line 3"),
    (4, "  - {id: b, exchange: deribit, symbol: BTC/USD:BTC-261225-9-C, size: 1, entry_price: 1, strike: 10}",
     "contradicts"),
    (4, "  - {id: b, exchange: binance, symbol: BTC/USDT, size: 1, entry_price: 1, size_unit: usd}", "size_unit"),
    (4, "  - {id: TOTAL, exchange: binance, symbol: BTC/USDT, size: 1, entry_price: 1}", "reserved"),
])
def test_yaml_errors_name_the_line(tmp_path: Path, line: int, text: str, message: str) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("portfolio: t\npositions:\n  - {id: a, exchange: binance, symbol: BTC/USDT, size: 1, entry_price: 1}\n"
                 + text + "\n")
    with pytest.raises(PositionError, match=message) as err:
        load_portfolio_file(f)
    assert f"line {line}" in str(err.value)


def test_csv_round_trip_and_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "book.csv"
    f.write_text("id,exchange,symbol,size,entry_price\n"
                 "s,binance,BTC/USDT,1.5,88000\n"
                 "c,deribit,BTC/USD:BTC-261225-100000-C,-2,0.012\n"
                 "x,deribit,BTC/USD:BTC,abc,90000\n")
    with pytest.raises(PositionError, match=r"line 4: position 'x': size"):
        load_portfolio_file(f)
    f.write_text("\n".join(f.read_text().splitlines()[:3]) + "\n")
    pf = load_portfolio_file(f)
    assert pf.name == "book"
    call = pf.positions[1]
    assert (call.entry_price_unit, call.size_unit, call.quantity) == ("coin", "coin", -2.0)
    assert call.entry_price_usd(90000.0) == pytest.approx(1080.0)
