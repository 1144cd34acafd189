"""Instrument catalog sync: the venue's current listings into ``instruments``.

For one exchange and an as-of time ``as_of`` (the run's data-interval end, never ``now()``):

- every listed instrument is upserted (new listings appear; specification changes are applied) and
  marked active, with ``listed_at`` the earliest as-of time it was seen;
- an instrument of that exchange that is no longer listed, or whose expiry has passed, is marked
  inactive with ``delisted_at`` (rows are never deleted: market tables reference them).

Running the sync again for the same listings and as-of time leaves the table unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import psycopg

from cryptoderiv.errors import ContractViolation
from cryptoderiv.storage import write_frame

CATALOG_COLUMNS = ("exchange", "symbol", "kind", "base", "quote", "settle", "is_inverse", "contract_size",
                   "expiry", "strike", "option_type", "funding_interval_hours")


@dataclass(frozen=True)
class CatalogChange:
    exchange: str
    listed: int          # instruments in the venue's listing
    new: int             # not in the catalog before
    delisted: int        # marked inactive by this sync


def sync_instruments(conn: psycopg.Connection, exchange: str, listing: pd.DataFrame,
                     as_of: pd.Timestamp, kinds: Sequence[str] | None = None) -> CatalogChange:
    """Bring ``instruments`` in line with ``listing`` (one exchange), all or nothing.

    ``kinds`` scopes the sync: a listing of options only (``kinds=["option"]``) delists no perpetual.
    """
    if listing.empty:
        raise ContractViolation(f"{exchange}: empty instrument listing; refusing to delist the whole venue")
    other = set(listing["exchange"].unique()) - {exchange}
    if other:
        raise ContractViolation(f"{exchange}: listing contains rows of other exchanges: {sorted(other)}")
    scope = sorted(kinds) if kinds else ["spot", "perpetual", "future", "option"]
    outside = set(listing["kind"].unique()) - set(scope)
    if outside:
        raise ContractViolation(f"{exchange}: listing has kinds {sorted(outside)} outside the sync's scope {scope}")
    as_of = pd.Timestamp(as_of).tz_convert("UTC")
    frame = listing.loc[:, [c for c in CATALOG_COLUMNS if c in listing.columns]].copy()
    expired = frame["expiry"].notna() & (frame["expiry"] <= as_of) if "expiry" in frame else False
    frame["active"] = ~pd.Series(expired, index=frame.index).astype(bool)
    with conn.transaction():
        known = {row[0] for row in conn.execute("SELECT symbol FROM instruments WHERE exchange = %s", (exchange,))}
        write_frame(conn, "instruments", frame)
        conn.execute(
            "UPDATE instruments SET listed_at = %s WHERE exchange = %s AND symbol = ANY(%s)"
            " AND (listed_at IS NULL OR listed_at > %s)",
            (as_of, exchange, frame["symbol"].tolist(), as_of))
        conn.execute(
            "UPDATE instruments SET delisted_at = NULL WHERE exchange = %s AND symbol = ANY(%s) AND active",
            (exchange, frame["symbol"].tolist()))
        delisted = conn.execute(
            "UPDATE instruments SET active = false, delisted_at = COALESCE(delisted_at, %s)"
            " WHERE exchange = %s AND kind = ANY(%s)"
            " AND (NOT (symbol = ANY(%s)) OR (expiry IS NOT NULL AND expiry <= %s))"
            " AND (active OR delisted_at IS NULL)",
            (as_of, exchange, scope, frame["symbol"].tolist(), as_of)).rowcount
    return CatalogChange(exchange, len(frame), len(set(frame["symbol"]) - known), delisted)


def active_symbols(conn: psycopg.Connection, exchange: str, kinds: Sequence[str], base: str | None = None) -> list[str]:
    """Symbols of the exchange's active instruments of some kinds (optionally one base coin), sorted."""
    rows = conn.execute(
        "SELECT symbol FROM instruments WHERE exchange = %s AND kind = ANY(%s) AND active"
        " AND (%s::text IS NULL OR base = %s) ORDER BY symbol",
        (exchange, list(kinds), base, base))
    return [row[0] for row in rows]
