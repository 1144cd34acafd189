"""Roll a book's expiring dated futures and options onto listed contracts.

A sample or stored book names dated contracts by symbol (``BTC/USD:BTC-261225-100000-C``); once those expire
the venues stop listing them and nothing downstream can price the book.  :func:`roll_expired` replaces every
future or option that expires within ``min_days`` of ``as_of`` (or that its venue no longer lists) by the
contract of the same venue, contract family (base, quote, settlement) and kind on the first listed expiry
after that horizon; options keep their type and take the listed strike nearest the original one.  Sizes and
entry prices are kept as given (the entry price is the book's, not a market price of the new contract).

The function is pure: the listed contracts come as a frame (:data:`LISTED_COLUMNS`), read from the
``instruments`` catalog by :func:`load_listed`.  Timestamps are UTC.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cryptoderiv.errors import ContractViolation
from cryptoderiv.portfolio.positions import Portfolio, Position, PositionError

__all__ = ["DATED_KINDS", "LISTED_COLUMNS", "RolledPortfolio", "load_listed", "roll_expired"]

log = logging.getLogger(__name__)

DATED_KINDS = ("future", "option")
#: Columns of the ``listed`` frame (one row per listed contract, as the ``instruments`` catalog spells it).
LISTED_COLUMNS = ("exchange", "symbol", "kind", "base", "expiry", "strike", "option_type")


@dataclass(frozen=True, slots=True)
class RolledPortfolio:
    """The result of :func:`roll_expired`.

    Attributes
    ----------
    portfolio : Portfolio
        The book with expiring/unlisted dated positions replaced (same name, same position order).
    notes : tuple of str
        One line per rolled position, e.g. ``btc-call-100k: BTC/USD:BTC-261225-100000-C ->
        BTC/USD:BTC-270122-100000-C (expired 2026-12-25; ...)``; empty when nothing was rolled.
    """

    portfolio: Portfolio
    notes: tuple[str, ...]

    @property
    def rolled(self) -> bool:
        """True when at least one position was replaced."""
        return bool(self.notes)


def _utc(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise PositionError(f"roll: {name} is not a timestamp: {value!r}") from exc
    if ts is pd.NaT:
        raise PositionError(f"roll: {name} is NaT")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _family(symbol: str) -> str:
    """The market part of a unified symbol (``BASE/QUOTE:SETTLE``), shared by a venue's dated contracts."""
    return symbol.partition("-")[0]


def _where(p: Position) -> str:
    where = p.source or "positions"
    return f"{where}, line {p.source_line}" if p.source_line is not None else where


def _check_listed(listed: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in LISTED_COLUMNS if c not in listed.columns]
    if missing:
        raise ContractViolation(f"roll: listed contracts lack column(s) {missing}; expected {list(LISTED_COLUMNS)}")
    frame = listed.loc[listed["kind"].isin(DATED_KINDS), list(LISTED_COLUMNS)].copy()
    expiry = pd.to_datetime(frame["expiry"], utc=True)
    if expiry.isna().any():
        bad = frame.loc[expiry.isna(), "symbol"].iloc[0]
        raise ContractViolation(f"roll: listed contract {bad!r} has no expiry")
    frame["expiry"] = expiry
    frame["strike"] = pd.to_numeric(frame["strike"], errors="coerce").astype("float64")
    frame["family"] = frame["symbol"].astype(str).str.partition("-")[0]
    return frame.sort_values(["exchange", "kind", "expiry", "strike", "symbol"], ignore_index=True)


def _reason(p: Position, as_of: pd.Timestamp, cutoff: pd.Timestamp, listed: bool, min_days: float) -> str | None:
    assert p.expiry is not None  # dated kinds always carry an expiry (Position validates it)
    if p.expiry <= as_of:
        return f"expired {p.expiry:%Y-%m-%d}"
    if p.expiry <= cutoff:
        return f"expires {p.expiry:%Y-%m-%d}, within {min_days:g} days of {as_of:%Y-%m-%d}"
    if not listed:
        return f"not listed on {p.exchange}"
    return None


def _target(p: Position, frame: pd.DataFrame, cutoff: pd.Timestamp, reason: str) -> pd.Series:
    mask = ((frame["exchange"] == p.exchange) & (frame["kind"] == p.kind) & (frame["family"] == _family(p.symbol))
            & (frame["expiry"] > cutoff))
    if p.kind == "option":
        mask &= frame["option_type"] == p.option_type
    candidates = frame.loc[mask]
    if candidates.empty:
        what = f"{p.option_type} options" if p.kind == "option" else "futures"
        raise PositionError(
            f"{_where(p)}: position {p.position_id!r}: symbol: cannot roll {p.symbol} ({reason}): {p.exchange} lists "
            f"no {_family(p.symbol)} {what} expiring after {cutoff:%Y-%m-%d %H:%M} UTC")
    first = candidates.loc[candidates["expiry"] == candidates["expiry"].min()]
    if p.kind != "option":
        return first.iloc[0]
    assert p.strike is not None  # options always carry a strike (Position validates it)
    # rows are sorted by strike: on a tie the lower strike wins
    return first.iloc[int(np.argmin(np.abs(first["strike"].to_numpy(dtype=np.float64) - p.strike)))]


def roll_expired(portfolio: Portfolio, as_of: Any, listed: pd.DataFrame, min_days: float = 7.0) -> RolledPortfolio:
    """Roll the book's dated positions that expire within ``min_days`` of ``as_of`` or are no longer listed.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    as_of : timestamp-like
        The present (UTC; a naive value is taken as UTC).
    listed : pandas.DataFrame
        The contracts listed at ``as_of``, with :data:`LISTED_COLUMNS` (``expiry`` UTC, ``strike`` USD, NaN for
        futures); rows of other kinds are ignored.  See :func:`load_listed`.
    min_days : float, default 7
        Horizon in days: a future/option expiring at or before ``as_of + min_days`` is rolled to the first listed
        expiry after ``as_of + min_days`` (so a rolled book is left unchanged by a second roll).

    Returns
    -------
    RolledPortfolio
        The new book (positions replaced with :func:`dataclasses.replace`: symbol, expiry and strike from the
        catalog row; option type, size, size unit, entry price, contract size and source kept) and one note per
        roll.  Spot and perpetual positions, and dated ones that are listed and live past the horizon, are the
        same objects as before.

    Raises
    ------
    PositionError
        A position must roll but its venue lists no contract of its family and kind (and option type) after
        the horizon; the message names the position, its source line and the reason.
    ContractViolation
        ``listed`` lacks a column or a dated contract without expiry.
    """
    if not np.isfinite(min_days) or min_days < 0:
        raise PositionError(f"roll: min_days must be a finite number >= 0, got {min_days!r}")
    now = _utc(as_of, "as_of")
    cutoff = now + pd.Timedelta(days=min_days)
    frame = _check_listed(listed)
    on_venue = set(zip(frame["exchange"], frame["symbol"], strict=True))
    positions: list[Position] = []
    notes: list[str] = []
    for p in portfolio.positions:
        if p.kind not in DATED_KINDS:
            positions.append(p)
            continue
        reason = _reason(p, now, cutoff, (p.exchange, p.symbol) in on_venue, min_days)
        if reason is None:
            positions.append(p)
            continue
        row = _target(p, frame, cutoff, reason)
        new = dataclasses.replace(p, symbol=str(row["symbol"]), expiry=row["expiry"],
                                  strike=float(row["strike"]) if p.kind == "option" else None)
        details = [reason]
        if p.kind == "option" and new.strike != p.strike:
            details.append(f"strike {p.strike:g} not listed on {new.expiry:%Y-%m-%d}, nearest {new.strike:g}")
        details.append(f"size {p.size:g} {p.size_unit} and entry price {p.entry_price:g} {p.entry_price_unit} kept "
                       f"from {p.source or 'the book'} (not re-marked)")
        notes.append(f"{p.position_id}: {p.symbol} -> {new.symbol} ({'; '.join(details)})")
        positions.append(new)
    for note in notes:
        log.info("roll %s: %s", portfolio.name, note)
    return RolledPortfolio(Portfolio(portfolio.name, tuple(positions)), tuple(notes))


def load_listed(conn: psycopg.Connection, portfolio: Portfolio, kinds: Sequence[str] = DATED_KINDS) -> pd.DataFrame:
    """The active contracts in ``instruments`` of the venues and bases of the book's dated positions.

    Parameters
    ----------
    conn : psycopg.Connection
        Platform database.
    portfolio : Portfolio
        The book; its futures' and options' (exchange, base) pairs select the rows.
    kinds : sequence of str, default ("future", "option")
        Instrument kinds to read.

    Returns
    -------
    pandas.DataFrame
        :data:`LISTED_COLUMNS`, one row per active contract (``expiry`` UTC), ordered by exchange and symbol;
        empty when the book holds no dated positions.
    """
    pairs = sorted({(p.exchange, p.base) for p in portfolio.positions if p.kind in DATED_KINDS})
    if not pairs:
        return pd.DataFrame(columns=list(LISTED_COLUMNS))
    rows = conn.execute(
        "SELECT i.exchange, i.symbol, i.kind, i.base, i.expiry, i.strike, i.option_type"
        " FROM instruments i JOIN unnest(%s::text[], %s::text[]) AS want(exchange, base)"
        "   ON i.exchange = want.exchange AND i.base = want.base"
        " WHERE i.active AND i.kind = ANY(%s) ORDER BY i.exchange, i.symbol",
        ([e for e, _ in pairs], [b for _, b in pairs], list(kinds))).fetchall()
    frame = pd.DataFrame(rows, columns=list(LISTED_COLUMNS))
    frame["expiry"] = pd.to_datetime(frame["expiry"], utc=True)
    log.info("listed contracts for %s: %d rows on %s", portfolio.name, len(frame), pairs)
    return frame
