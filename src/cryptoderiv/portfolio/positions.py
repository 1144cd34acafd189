"""The position model: frozen, validated dataclasses for spot, perpetual, dated-future and option positions.

Units: ``size`` is signed (+ long, - short) in ``size_unit``: ``coin`` (base coin), ``contracts``
(``contract_size`` coins, or USD for inverse futures) or ``usd`` (USD notional; inverse futures and perpetuals
only).  ``entry_price`` is USD per coin for spot and futures and linear options, coin per option for inverse
(Deribit) options (``entry_price_unit == "coin"``).  Strikes in USD, expiries UTC.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from cryptoderiv.errors import CryptoderivError

__all__ = ["KINDS", "Portfolio", "Position", "PositionError"]

KINDS = ("spot", "perpetual", "future", "option")
EXCHANGES = ("binance", "bybit", "deribit")
SIZE_UNITS = ("coin", "contracts", "usd")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,63}$")


class PositionError(CryptoderivError, ValueError):
    """A position is invalid; the message names the source line (when known) and the field."""


@dataclass(frozen=True, slots=True)
class Position:
    """One position of a portfolio (validated on construction).

    Parameters
    ----------
    position_id : str
        Label unique within the portfolio (letters, digits, ``_.:/+-``; may not start with ``TOTAL``).
    exchange : str
        ``binance``, ``bybit`` or ``deribit``.
    symbol : str
        CCXT unified symbol as the venue lists it, e.g. ``BTC/USD:BTC-261225-100000-C``.
    kind : str
        ``spot``, ``perpetual``, ``future`` or ``option``.
    base : str
        Underlying coin (``BTC``, ``ETH``).
    is_inverse : bool
        Coin-settled (Deribit futures, perpetuals and options).
    size : float
        Signed size in ``size_unit``; non-zero.
    size_unit : str
        ``coin``, ``contracts`` or ``usd`` (``usd`` only for inverse futures/perpetuals).
    entry_price : float
        USD per coin, or coin per option when ``entry_price_unit == "coin"``.
    entry_price_unit : str
        ``usd`` or ``coin`` (``coin`` only for inverse options).
    contract_size : float, default 1
        Coins per contract (linear, options) or USD per contract (inverse futures).
    option_type : str, optional
        ``call`` or ``put`` (options only).
    strike : float, optional
        Strike in USD (options only).
    expiry : pandas.Timestamp, optional
        UTC expiry (futures and options).
    entry_ts : pandas.Timestamp, optional
        UTC entry time.
    source, source_line : str, int, optional
        Where the position was read from (for error messages).

    Raises
    ------
    PositionError
        A field is missing, of the wrong type or inconsistent with the others.
    """

    position_id: str
    exchange: str
    symbol: str
    kind: str
    base: str
    is_inverse: bool
    size: float
    size_unit: str
    entry_price: float
    entry_price_unit: str = "usd"
    contract_size: float = 1.0
    option_type: str | None = None
    strike: float | None = None
    expiry: pd.Timestamp | None = None
    entry_ts: pd.Timestamp | None = None
    source: str | None = field(default=None, compare=False)
    source_line: int | None = field(default=None, compare=False)

    def _fail(self, name: str, message: str) -> PositionError:
        where = f"{self.source or 'positions'}"
        if self.source_line is not None:
            where += f", line {self.source_line}"
        return PositionError(f"{where}: position {self.position_id!r}: {name}: {message}")

    def __post_init__(self) -> None:
        if not isinstance(self.position_id, str) or not _LABEL.match(self.position_id):
            raise self._fail("position_id", "must be 1-64 characters of letters, digits and _.:/+-")
        if self.position_id.upper().startswith("TOTAL"):
            raise self._fail("position_id", "labels starting with TOTAL are reserved for totals")
        if self.exchange not in EXCHANGES:
            raise self._fail("exchange", f"must be one of {EXCHANGES}, got {self.exchange!r}")
        if not isinstance(self.symbol, str) or not self.symbol:
            raise self._fail("symbol", "is required")
        if self.kind not in KINDS:
            raise self._fail("kind", f"must be one of {KINDS}, got {self.kind!r}")
        if not isinstance(self.base, str) or not re.match(r"^[A-Z0-9]{2,10}$", self.base):
            raise self._fail("base", f"must be an upper-case coin code, got {self.base!r}")
        if not isinstance(self.is_inverse, bool):
            raise self._fail("is_inverse", f"must be true or false, got {self.is_inverse!r}")
        for name in ("size", "entry_price", "contract_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self._fail(name, f"must be a number, got {value!r}")
            if not math.isfinite(float(value)):
                raise self._fail(name, f"must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        if self.size == 0.0:
            raise self._fail("size", "must be non-zero (+ long, - short)")
        if self.entry_price < 0.0:
            raise self._fail("entry_price", f"must be >= 0, got {self.entry_price}")
        if self.contract_size <= 0.0:
            raise self._fail("contract_size", f"must be > 0, got {self.contract_size}")
        if self.size_unit not in SIZE_UNITS:
            raise self._fail("size_unit", f"must be one of {SIZE_UNITS}, got {self.size_unit!r}")
        if self.size_unit == "usd" and not (self.is_inverse and self.kind in ("perpetual", "future")):
            raise self._fail("size_unit", "usd sizes are only for inverse futures and perpetuals")
        if self.entry_price_unit not in ("usd", "coin"):
            raise self._fail("entry_price_unit", f"must be usd or coin, got {self.entry_price_unit!r}")
        if self.entry_price_unit == "coin" and not (self.kind == "option" and self.is_inverse):
            raise self._fail("entry_price_unit", "coin entry prices are only for inverse options")
        if self.kind != "option" and self.entry_price <= 0.0:
            raise self._fail("entry_price", f"must be > 0 for {self.kind}, got {self.entry_price}")
        if self.kind == "spot" and self.is_inverse:
            raise self._fail("is_inverse", "spot positions cannot be inverse")
        self._check_terms()

    def _check_terms(self) -> None:
        for name in ("expiry", "entry_ts"):
            value = getattr(self, name)
            if value is None:
                continue
            try:
                ts = pd.Timestamp(value)
            except (ValueError, TypeError) as exc:
                raise self._fail(name, f"not a timestamp: {value!r}") from exc
            if ts is pd.NaT:
                raise self._fail(name, "is NaT")
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            object.__setattr__(self, name, ts)
        if self.kind == "option":
            if self.option_type not in ("call", "put"):
                raise self._fail("option_type", f"must be call or put for options, got {self.option_type!r}")
            if self.strike is None or isinstance(self.strike, bool) or not isinstance(self.strike, int | float) \
                    or not math.isfinite(float(self.strike)) or float(self.strike) <= 0:
                raise self._fail("strike", f"must be a positive number for options, got {self.strike!r}")
            object.__setattr__(self, "strike", float(self.strike))
        else:
            if self.option_type is not None or self.strike is not None:
                raise self._fail("option_type", f"option_type/strike are only for options, not {self.kind}")
        if self.kind in ("future", "option") and self.expiry is None:
            raise self._fail("expiry", f"is required for {self.kind} positions")
        if self.kind in ("spot", "perpetual") and self.expiry is not None:
            raise self._fail("expiry", f"{self.kind} positions do not expire")

    @property
    def is_option(self) -> bool:
        """True for options."""
        return self.kind == "option"

    @property
    def notional_unit(self) -> str:
        """``usd`` when the size is a USD notional (inverse futures), else ``coin``."""
        if self.size_unit == "usd" or (self.size_unit == "contracts" and self.is_inverse
                                       and self.kind in ("perpetual", "future")):
            return "usd"
        return "coin"

    @property
    def quantity(self) -> float:
        """Signed size in coins (options: number of options on one coin), or USD notional for inverse futures."""
        if self.size_unit == "contracts":
            return self.size * self.contract_size
        return self.size

    def entry_price_usd(self, forward: float) -> float:
        """Entry price in USD per coin / per option; coin premiums converted at ``forward`` (USD per coin)."""
        return self.entry_price * forward if self.entry_price_unit == "coin" else self.entry_price


@dataclass(frozen=True, slots=True)
class Portfolio:
    """A named set of positions with unique labels.

    Raises
    ------
    PositionError
        Two positions share a label (the message names both lines).
    """

    name: str
    positions: tuple[Position, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _LABEL.match(self.name):
            raise PositionError(f"portfolio name must be 1-64 characters of letters, digits and _.:/+-, got "
                                f"{self.name!r}")
        seen: dict[str, Position] = {}
        for p in self.positions:
            if p.position_id in seen:
                first = seen[p.position_id]
                raise PositionError(f"{p.source or 'positions'}, line {p.source_line}: position_id "
                                    f"{p.position_id!r} already used on line {first.source_line}")
            seen[p.position_id] = p
        if not self.positions:
            raise PositionError(f"portfolio {self.name!r} has no positions")

    @property
    def bases(self) -> tuple[str, ...]:
        """Underlying coins, sorted."""
        return tuple(sorted({p.base for p in self.positions}))

    def __len__(self) -> int:
        return len(self.positions)
