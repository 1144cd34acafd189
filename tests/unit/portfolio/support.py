"""Books for the portfolio and risk unit tests, built from the QuantLib reference's position list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from cryptoderiv.portfolio.positions import Portfolio, Position
from cryptoderiv.portfolio.valuation import Book, PositionQuote, build_book

REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "risk_revaluation_reference.json"
AS_OF = pd.Timestamp("2026-11-24T08:00Z")


def reference() -> dict[str, Any]:
    return json.loads(REFERENCE.read_text())


def reference_book(svi: tuple[float, float, float, float, float] | None = None) -> Book:
    ref = reference()
    positions, quotes = [], {}
    for pid, base, kind, inverse, q, f0, tau0, k, typ, iv, apr in ref["book"]:
        expiry = AS_OF + pd.Timedelta(days=365 * tau0) if kind in ("future", "option") else None
        quote = "BTC" if inverse else "USDT"
        symbol = f"{base}/{quote}" if kind == "spot" else f"{base}/{quote}:{base if inverse else 'USDT'}"
        positions.append(Position(
            position_id=pid, exchange="deribit" if inverse else "binance", symbol=symbol, kind=kind, base=base,
            is_inverse=inverse, size=q, size_unit="usd" if inverse and kind != "option" else "coin",
            entry_price=0.01 if kind == "option" and inverse else 100.0,
            entry_price_unit="coin" if kind == "option" and inverse else "usd",
            option_type=typ, strike=k, expiry=expiry))
        if kind != "spot":
            quotes[pid] = PositionQuote(price=f0, t=tau0, iv=iv, funding_apr=apr,
                                        svi=svi if kind == "option" else None, svi_t=tau0 if svi else None)
    return build_book(Portfolio("ref", tuple(positions)), ref["spot"], quotes, AS_OF)
