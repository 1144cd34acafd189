"""The simulator's bad-data mode: answers that are well-formed but wrong, the way real feeds go wrong.

Faults (:mod:`~cryptoderiv.simulator.faults`) break the transport; bad data passes every parser and must be
caught by the quality gate. Each defect damages the JSON payload of one kind of REST answer, after the
venue handler built it and before it is sent, so the data travels through the real CCXT client and the
platform's normalisation like any other answer::

    SimulatorServer(seed=7, bad_data="crossed_book,negative_price,stale_quote")
    cryptoderiv simulator serve --bad-data all

=========================== ======================================= ======================================
defect                      answer damaged                          what happens
=========================== ======================================= ======================================
``negative_price``          Binance klines                          one bar's close has its sign flipped
``nan``                     Binance klines                          one bar's close is ``NaN``
``duplicate_timestamp``     Binance klines                          a second, different bar for one open time
``gap``                     Binance klines                          five consecutive bars are missing
``funding_spike``           Binance USD-M funding history           one rate is 5 % per interval
``crossed_futures_book``    Binance USD-M book ticker               one contract per coin: bid above ask
``crossed_book``            Deribit option summary and ticker       an option's bid above its ask
``stale_quote``             Deribit option ticker                   the quote was last updated 10 min ago
``iv_in_percent``           Deribit option summary and ticker       mark/bid/ask IV a hundred times too big
``coin_premium_usd``        Deribit option summary                  a coin premium labelled USD
``parity_break``            Deribit option summary and ticker       a near-the-money put priced from another
                                                                    moment (+2 % of the forward)
``option_past_expiry``      Deribit instruments                     an option listed with yesterday's expiry
=========================== ======================================= ======================================

Which rows are damaged is a function of the seed and the row (instrument, time) only, so the same
request always meets the same damage, a refetch cannot wash it out, and every answer that carries an
option tells the same story. Each damaged row is recorded in :attr:`BadData.injected` (also served at
``GET /_sim/bad-data``): the ground truth the quality tests check the quarantine against.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptoderiv.simulator.errors import SimulatorError
from cryptoderiv.simulator.paths import stable_hash

logger = logging.getLogger(__name__)

MS_PER_DAY = 86_400_000

#: Every defect, by the answer it damages ("venue:endpoint").
DEFECTS: dict[str, str] = {
    "negative_price": "binance:klines",
    "nan": "binance:klines",
    "duplicate_timestamp": "binance:klines",
    "gap": "binance:klines",
    "funding_spike": "binance:fundingRate",
    "crossed_futures_book": "binance:bookTicker",
    "crossed_book": "deribit:option",
    "stale_quote": "deribit:option",
    "iv_in_percent": "deribit:option",
    "coin_premium_usd": "deribit:option",
    "parity_break": "deribit:option",
    "option_past_expiry": "deribit:get_instruments",
}

GAP_BARS = 5
STALE_MS = 600_000
PARITY_SHIFT = 0.02  # of the forward
#: One option in this many (by a hash of its name) is damaged by each option defect.
OPTION_ONE_IN = 20
#: Parity breaks hit puts this close to the money (|ln K/F|), one in this many of them.
PARITY_MONEYNESS, PARITY_ONE_IN = 0.15, 4


@dataclass(frozen=True)
class Injected:
    """One damaged row: the defect, the venue's instrument id and the row's time (ms UTC; the candle's
    or funding's time, the option's expiry for ``option_past_expiry``, else the answer's time)."""

    defect: str
    venue: str
    instrument: str
    ts_ms: int

    def as_dict(self) -> dict[str, Any]:
        return {"defect": self.defect, "venue": self.venue, "instrument": self.instrument, "ts_ms": self.ts_ms}


@dataclass
class BadData:
    """The enabled defects and what they have damaged so far.

    Parameters
    ----------
    defects : tuple of str
        Names from :data:`DEFECTS`.
    seed : int
        Seed of the choice of damaged rows.
    """

    defects: tuple[str, ...] = ()
    seed: int = 0
    injected: list[Injected] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        unknown = [d for d in self.defects if d not in DEFECTS]
        if unknown:
            raise SimulatorError(f"unknown bad-data defect(s) {unknown}; known: {', '.join(DEFECTS)}")

    @classmethod
    def parse(cls, spec: str | None, seed: int = 0) -> BadData:
        """``"all"``, a comma-separated list of defects, or empty/None (clean data)."""
        if not spec or not spec.strip():
            return cls((), seed)
        names = tuple(DEFECTS) if spec.strip() == "all" else tuple(s.strip() for s in spec.split(",") if s.strip())
        return cls(names, seed)

    @property
    def enabled(self) -> bool:
        return bool(self.defects)

    def records(self) -> list[dict[str, Any]]:
        """Every damaged row so far (each once)."""
        with self._lock:
            return [r.as_dict() for r in dict.fromkeys(self.injected)]

    def _record(self, defect: str, venue: str, instrument: str, ts_ms: int) -> None:
        with self._lock:
            self.injected.append(Injected(defect, venue, instrument, int(ts_ms)))

    def _active(self, endpoint: str) -> list[str]:
        return [d for d in self.defects if DEFECTS[d] == endpoint]

    def _pick(self, defect: str, *key: object) -> int:
        return stable_hash("bad-data", self.seed, defect, *key)

    # --- the hook ---------------------------------------------------------------------------------------

    def damage(self, venue: str, path: str, params: dict[str, str], payload: Any, now_ms: int) -> Any:
        """``payload`` with the enabled defects of this answer applied (unchanged when none applies)."""
        if not self.defects:
            return payload
        endpoint = path.rsplit("/", 1)[-1]
        if venue == "binance":
            handler = _BINANCE.get(endpoint)
            if handler is not None and isinstance(payload, list):
                return handler(self, params, payload, now_ms)
            return payload
        if venue == "deribit" and isinstance(payload, dict) and isinstance(payload.get("result"), list | dict):
            handler = _DERIBIT.get(endpoint)
            if handler is not None:
                payload = {**payload, "result": handler(self, params, payload["result"], now_ms)}
        return payload

    # --- Binance ------------------------------------------------------------------------------------------

    def _klines(self, params: dict[str, str], bars: list[Any], now_ms: int) -> list[Any]:
        defects = self._active("binance:klines")
        symbol = params.get("symbol", "")
        if not defects or len(bars) < 2 * GAP_BARS + 4:
            return bars
        bars = [list(b) for b in bars]
        first = int(bars[0][0])
        used: set[int] = set()

        def choose(defect: str, span: int = 1) -> int:
            # an interior bar (not the first or last: those meet the neighbouring pages) not already damaged
            n = len(bars) - span - 1
            i = 1 + self._pick(defect, symbol, first) % n
            while any(j in used for j in range(i, i + span)):
                i = 1 + (i % n)
            used.update(range(i, i + span))
            return i

        extra: list[Any] = []
        dropped: set[int] = set()
        for defect in defects:
            if defect == "gap":
                i = choose(defect, GAP_BARS)
                dropped.update(range(i, i + GAP_BARS))
                for j in range(i, i + GAP_BARS):
                    self._record(defect, "binance", symbol, int(bars[j][0]))
                continue
            i = choose(defect)
            bar = bars[i]
            self._record(defect, "binance", symbol, int(bar[0]))
            if defect == "negative_price":
                bar[4] = _fmt(-abs(float(bar[4])))
            elif defect == "nan":
                bar[4] = "NaN"
            elif defect == "duplicate_timestamp":
                twin = list(bar)
                twin[4] = _fmt(float(bar[4]) * 1.0005)
                twin[2] = _fmt(max(float(bar[2]), float(twin[4])))
                extra.append(twin)
        return [b for j, b in enumerate(bars) if j not in dropped] + extra

    def _funding(self, params: dict[str, str], rows: list[Any], now_ms: int) -> list[Any]:
        if "funding_spike" not in self.defects or len(rows) < 3:
            return rows
        symbol = params.get("symbol", "")
        rows = [dict(r) for r in rows]
        i = 1 + self._pick("funding_spike", symbol, rows[0].get("fundingTime")) % (len(rows) - 2)
        rows[i]["fundingRate"] = "0.05000000"
        self._record("funding_spike", "binance", str(rows[i].get("symbol", symbol)), int(rows[i]["fundingTime"]))
        return rows

    def _book_ticker(self, params: dict[str, str], rows: list[Any], now_ms: int) -> list[Any]:
        if "crossed_futures_book" not in self.defects or not rows:
            return rows
        rows = [dict(r) for r in rows]
        by_base: dict[str, list[int]] = {}
        for i, r in enumerate(rows):  # one contract per base coin, so every underlying's batch has one
            by_base.setdefault(str(r["symbol"]).split("USD", 1)[0], []).append(i)
        for base, positions in by_base.items():
            i = positions[self._pick("crossed_futures_book", base, now_ms // 60_000) % len(positions)]
            rows[i]["bidPrice"] = _fmt(float(rows[i]["askPrice"]) * 1.001)
            self._record("crossed_futures_book", "binance", str(rows[i]["symbol"]), now_ms)
        return rows

    # --- Deribit -------------------------------------------------------------------------------------------

    def _option_defects(self, name: str, strike: float | None, forward: float | None, is_put: bool) -> list[str]:
        """The option defects that hit the option called ``name`` (the same in every answer)."""
        hits = []
        for defect in self._active("deribit:option"):
            if defect == "parity_break":
                if not (is_put and strike and forward and abs(math.log(strike / forward)) < PARITY_MONEYNESS):
                    continue
                if self._pick(defect, name) % PARITY_ONE_IN == 0:
                    hits.append(defect)
            elif self._pick(defect, name) % OPTION_ONE_IN == 0:
                hits.append(defect)
        return hits

    def _damage_option(self, row: dict[str, Any], now_ms: int, ticker: bool) -> dict[str, Any]:
        name = str(row.get("instrument_name", ""))
        parts = name.split("-")
        if len(parts) != 4:
            return row
        strike, is_put = float(parts[2]), parts[3] == "P"
        forward = row.get("underlying_price")
        defects = self._option_defects(name, strike, float(forward) if forward else None, is_put)
        if not defects:
            return row
        row = dict(row)
        bid_key, ask_key = ("best_bid_price", "best_ask_price") if ticker else ("bid_price", "ask_price")
        for defect in defects:
            if defect == "crossed_book":
                if not row.get(bid_key) or not row.get(ask_key):
                    continue
                row[bid_key] = round(float(row[ask_key]) * 1.05, 8)
            elif defect == "stale_quote":
                if not ticker:
                    continue
                row["timestamp"] = int(row["timestamp"]) - STALE_MS
            elif defect == "iv_in_percent":
                for key in ("mark_iv", "bid_iv", "ask_iv"):
                    if row.get(key):
                        row[key] = round(float(row[key]) * 100.0, 2)
            elif defect == "coin_premium_usd":
                if ticker:
                    continue
                row["quote_currency"] = "USD"
            elif defect == "parity_break":
                for key in ("mark_price", bid_key, ask_key):
                    if row.get(key):
                        row[key] = round(float(row[key]) + PARITY_SHIFT, 8)
            self._record(defect, "deribit", name, now_ms)
        return row

    def _deribit_summary(self, params: dict[str, str], rows: Any, now_ms: int) -> Any:
        if not isinstance(rows, list):
            return rows
        return [self._damage_option(r, now_ms, ticker=False) if _is_option(r) else r for r in rows]

    def _deribit_ticker(self, params: dict[str, str], row: Any, now_ms: int) -> Any:
        if not isinstance(row, dict) or not _is_option(row):
            return row
        return self._damage_option(row, now_ms, ticker=True)

    def _deribit_instruments(self, params: dict[str, str], rows: Any, now_ms: int) -> Any:
        """One option of each currency's nearest expiry listed as if it had expired yesterday."""
        if "option_past_expiry" not in self.defects or not isinstance(rows, list):
            return rows
        rows = list(rows)
        by_base: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            if r.get("kind") == "option":
                by_base.setdefault(str(r["instrument_name"]).split("-")[0], []).append(i)
        expired = (now_ms // MS_PER_DAY - 1) * MS_PER_DAY + 8 * 3_600_000  # 08:00 UTC yesterday
        for base, positions in by_base.items():
            nearest = min(int(rows[i]["expiration_timestamp"]) for i in positions)
            candidates = sorted((i for i in positions if int(rows[i]["expiration_timestamp"]) == nearest),
                                key=lambda i: str(rows[i]["instrument_name"]))
            i = candidates[self._pick("option_past_expiry", base, now_ms // MS_PER_DAY) % len(candidates)]
            rows[i] = {**rows[i], "expiration_timestamp": expired}
            self._record("option_past_expiry", "deribit", str(rows[i]["instrument_name"]), expired)
        return rows


def _is_option(row: dict[str, Any]) -> bool:
    name = str(row.get("instrument_name", ""))
    return name.count("-") == 3 and name.rsplit("-", 1)[-1] in ("C", "P")


def _fmt(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") if math.isfinite(value) else str(value)


_Handler = Callable[[BadData, dict[str, str], Any, int], Any]

_BINANCE: dict[str, _Handler] = {
    "klines": BadData._klines,
    "fundingRate": BadData._funding,
    "bookTicker": BadData._book_ticker,
}
_DERIBIT: dict[str, _Handler] = {
    "get_book_summary_by_currency": BadData._deribit_summary,
    "get_book_summary_by_instrument": BadData._deribit_summary,
    "ticker": BadData._deribit_ticker,
    "get_instruments": BadData._deribit_instruments,
}
