"""Rolling expiring futures and options of a book onto listed contracts (pure function, plain catalog rows)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cryptoderiv.errors import ContractViolation
from cryptoderiv.portfolio import roll_expired
from cryptoderiv.portfolio.loader import load_portfolio_file
from cryptoderiv.portfolio.positions import Portfolio, Position, PositionError

SAMPLE = Path(__file__).resolve().parents[3] / "examples" / "portfolio.yaml"
AFTER = pd.Timestamp("2027-01-10T00:00Z")  # the sample's 2026-12-25 contracts have expired


def _expiry(yymmdd: str) -> pd.Timestamp:
    return pd.Timestamp(f"20{yymmdd[:2]}-{yymmdd[2:4]}-{yymmdd[4:]}T08:00Z")


def future(exchange: str, symbol: str) -> dict[str, object]:
    market, _, yymmdd = symbol.partition("-")
    return {"exchange": exchange, "symbol": symbol, "kind": "future", "base": market.split("/")[0],
            "expiry": _expiry(yymmdd), "strike": None, "option_type": None}


def option(exchange: str, symbol: str) -> dict[str, object]:
    market, yymmdd, strike, cp = symbol.split("-")
    return {"exchange": exchange, "symbol": symbol, "kind": "option", "base": market.split("/")[0],
            "expiry": _expiry(yymmdd), "strike": float(strike), "option_type": {"C": "call", "P": "put"}[cp]}


def listing_2027() -> pd.DataFrame:
    """What the venues list on 2027-01-10 (a few strikes per expiry), as catalog rows."""
    rows = [
        future("deribit", "BTC/USD:BTC-270115"), future("deribit", "BTC/USD:BTC-270122"),
        future("deribit", "BTC/USD:BTC-270326"), future("deribit", "ETH/USD:ETH-270122"),
        # a coin-margined Binance future listed before the USDT one: not the same contract family
        future("binance", "BTC/USD:BTC-270115"), future("binance", "BTC/USD:BTC-270122"),
        future("binance", "BTC/USDT:USDT-270129"), future("binance", "BTC/USDT:USDT-270326"),
        option("deribit", "BTC/USD:BTC-270115-100000-C"), option("deribit", "BTC/USD:BTC-270115-80000-P"),
        option("deribit", "BTC/USD:BTC-270122-95000-C"), option("deribit", "BTC/USD:BTC-270122-100000-C"),
        option("deribit", "BTC/USD:BTC-270122-105000-C"), option("deribit", "BTC/USD:BTC-270122-75000-P"),
        option("deribit", "BTC/USD:BTC-270122-82000-P"), option("deribit", "BTC/USD:BTC-270326-80000-P"),
        option("bybit", "BTC/USDT:USDT-270115-90000-P"), option("bybit", "BTC/USDT:USDT-270122-90000-C"),
        option("bybit", "BTC/USDT:USDT-270122-95000-P"), option("bybit", "BTC/USDT:USDT-270122-85000-P"),
        # spot and perpetual rows are ignored by the roll
        {"exchange": "deribit", "symbol": "BTC/USD:BTC", "kind": "perpetual", "base": "BTC", "expiry": None,
         "strike": None, "option_type": None},
    ]
    return pd.DataFrame(rows)


def listing_2026() -> pd.DataFrame:
    """The sample's own contracts, listed."""
    sample = load_portfolio_file(SAMPLE)
    rows = [option(p.exchange, p.symbol) if p.kind == "option" else future(p.exchange, p.symbol)
            for p in sample.positions if p.kind in ("future", "option")]
    rows.append(future("deribit", "BTC/USD:BTC-270326"))
    return pd.DataFrame(rows)


def test_expired_futures_and_options_roll_to_the_first_listed_expiry_after_the_horizon() -> None:
    book = load_portfolio_file(SAMPLE)
    rolled = roll_expired(book, AFTER, listing_2027())
    by_id = {p.position_id: p for p in rolled.portfolio.positions}
    symbols = {pid: p.symbol for pid, p in by_id.items() if p.kind in ("future", "option")}
    # 2027-01-15 is within 7 days of 2027-01-10: the first expiry after the horizon is 2027-01-22 (Deribit,
    # Bybit) and 2027-01-29 for Binance's USDT future (its coin-margined 01-22 future is another family)
    assert symbols == {
        "btc-fut-deribit": "BTC/USD:BTC-270122",
        "btc-fut-binance": "BTC/USDT:USDT-270129",
        "btc-call-100k": "BTC/USD:BTC-270122-100000-C",
        "btc-put-80k": "BTC/USD:BTC-270122-82000-P",  # 82000 is nearer 80000 than 75000
        "btc-put-90k-bybit": "BTC/USDT:USDT-270122-85000-P",  # 85000/95000 tie: the lower strike; still a put
    }
    put = by_id["btc-put-80k"]
    assert (put.kind, put.option_type, put.strike, put.expiry) == ("option", "put", 82000.0,
                                                                    pd.Timestamp("2027-01-22T08:00Z"))
    fut = by_id["btc-fut-binance"]
    assert fut.expiry == pd.Timestamp("2027-01-29T08:00Z") and fut.strike is None
    original = {p.position_id: p for p in book.positions}
    for pid, p in by_id.items():
        o = original[pid]
        assert (p.size, p.size_unit, p.entry_price, p.entry_price_unit, p.is_inverse, p.exchange, p.base) == \
            (o.size, o.size_unit, o.entry_price, o.entry_price_unit, o.is_inverse, o.exchange, o.base), pid
        assert (p.source, p.source_line) == (o.source, o.source_line)
    assert [p.position_id for p in rolled.portfolio.positions] == [p.position_id for p in book.positions]
    assert rolled.portfolio.name == "sample" and rolled.rolled and len(rolled.notes) == 5


def test_spot_and_perpetuals_are_never_touched() -> None:
    book = load_portfolio_file(SAMPLE)
    rolled = roll_expired(book, AFTER, listing_2027())
    for before, after in zip(book.positions, rolled.portfolio.positions, strict=True):
        if before.kind in ("spot", "perpetual"):
            assert after is before


def test_notes_say_what_moved_why_and_that_sizes_and_entry_prices_are_the_files() -> None:
    rolled = roll_expired(load_portfolio_file(SAMPLE), AFTER, listing_2027())
    notes = {n.split(":", 1)[0]: n for n in rolled.notes}
    assert notes["btc-call-100k"] == (
        f"btc-call-100k: BTC/USD:BTC-261225-100000-C -> BTC/USD:BTC-270122-100000-C (expired 2026-12-25; "
        f"size -2 coin and entry price 0.012 coin kept from {SAMPLE} (not re-marked))")
    assert notes["btc-put-80k"].startswith("btc-put-80k: BTC/USD:BTC-261225-80000-P -> BTC/USD:BTC-270122-82000-P"
                                           " (expired 2026-12-25; strike 80000 not listed on 2027-01-22, "
                                           "nearest 82000; size 3 coin")
    assert "size 30000 usd and entry price 90500 usd kept" in notes["btc-fut-deribit"]


def test_a_live_book_is_unchanged_and_a_rolled_book_rolls_no_further() -> None:
    book = load_portfolio_file(SAMPLE)
    live = roll_expired(book, "2026-11-25", listing_2026())
    assert live.portfolio == book and live.notes == () and not live.rolled
    rolled = roll_expired(book, AFTER, listing_2027())
    again = roll_expired(rolled.portfolio, AFTER, listing_2027())
    assert again.portfolio == rolled.portfolio and again.notes == ()


def test_contracts_expiring_within_min_days_roll_before_they_expire() -> None:
    book = load_portfolio_file(SAMPLE)
    as_of = pd.Timestamp("2026-12-20T00:00Z")
    listing = listing_2026()
    assert roll_expired(book, as_of, listing, min_days=3).notes == ()  # 2026-12-25 is 5 days away
    with pytest.raises(PositionError, match=r"btc-fut-binance.*expires 2026-12-25, within 7 days of 2026-12-20"):
        roll_expired(book, as_of, listing)  # only a Deribit future is listed after the horizon
    futures_only = Portfolio("f", tuple(p for p in book.positions if p.position_id == "btc-fut-deribit"))
    rolled = roll_expired(futures_only, as_of, listing)
    assert rolled.portfolio.positions[0].symbol == "BTC/USD:BTC-270326"
    assert "(expires 2026-12-25, within 7 days of 2026-12-20;" in rolled.notes[0]


def test_a_live_contract_its_venue_no_longer_lists_moves_to_a_listed_one() -> None:
    book = load_portfolio_file(SAMPLE)
    listing = listing_2026()
    # Bybit dropped the 90000 put; it lists 88000 and 91000 puts on the same expiry
    listing = listing[listing["symbol"] != "BTC/USDT:USDT-261225-90000-P"]
    listing = pd.concat([listing, pd.DataFrame([option("bybit", "BTC/USDT:USDT-261225-88000-P"),
                                                option("bybit", "BTC/USDT:USDT-261225-91000-P")])])
    rolled = roll_expired(book, "2026-11-25", listing)
    assert rolled.notes == (
        f"btc-put-90k-bybit: BTC/USDT:USDT-261225-90000-P -> BTC/USDT:USDT-261225-91000-P (not listed on bybit; "
        f"strike 90000 not listed on 2026-12-25, nearest 91000; size 1 coin and entry price 3200 usd kept from "
        f"{SAMPLE} (not re-marked))",)


def test_a_venue_that_lists_nothing_to_roll_into_names_the_position() -> None:
    book = load_portfolio_file(SAMPLE)
    listing = listing_2027()
    no_bybit = listing[listing["exchange"] != "bybit"]
    with pytest.raises(PositionError, match=r"portfolio\.yaml, line \d+: position 'btc-put-90k-bybit': symbol: "
                                            r"cannot roll BTC/USDT:USDT-261225-90000-P \(expired 2026-12-25\): "
                                            r"bybit lists no BTC/USDT:USDT put options expiring after 2027-01-17"):
        roll_expired(book, AFTER, no_bybit)
    eth_call = Position(position_id="eth-call", exchange="deribit", symbol="ETH/USD:ETH-261225-4000-C",
                        kind="option", base="ETH", is_inverse=True, size=1, size_unit="coin", entry_price=0.01,
                        entry_price_unit="coin", option_type="call", strike=4000.0,
                        expiry=pd.Timestamp("2026-12-25T08:00Z"))
    eth = Portfolio("eth", (book.positions[0], eth_call))  # only an ETH future is listed on Deribit
    with pytest.raises(PositionError, match=r"'eth-call'.*deribit lists no ETH/USD:ETH call options"):
        roll_expired(eth, AFTER, listing)


def test_a_listing_without_the_catalog_columns_is_refused() -> None:
    with pytest.raises(ContractViolation, match=r"lack column\(s\) \['strike'\]"):
        roll_expired(load_portfolio_file(SAMPLE), AFTER, listing_2027().drop(columns=["strike"]))
    with pytest.raises(PositionError, match="min_days"):
        roll_expired(load_portfolio_file(SAMPLE), AFTER, listing_2027(), min_days=-1)
