"""How numbers appear in the report: one function per kind of figure, used by every section.

The renderers never format numbers themselves, so the HTML, the text part and the PDF agree digit for
digit. Missing values (``None``, NaN) show as an en-dash-free ``"-"`` so the text part stays ASCII.
"""

from __future__ import annotations

import math
from datetime import date, datetime

MISSING = "-"


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def usd(value: float | None, decimals: int = 0) -> str:
    """A USD amount with thousands separators, no currency sign (units are in the column header).

    >>> usd(48213.37)
    '48,213'
    >>> usd(-1234.5, 1)
    '-1,234.5'
    """
    number = _finite(value)
    if number is None:
        return MISSING
    text = f"{number:,.{decimals}f}"
    return "0" if text in ("-0", "-0.0") and decimals == 0 else text


def signed_usd(value: float | None, decimals: int = 0) -> str:
    """Like :func:`usd` with an explicit ``+`` on gains (P&L columns)."""
    text = usd(value, decimals)
    number = _finite(value)
    return f"+{text}" if number is not None and number > 0 and text != "0" else text


def number(value: float | None, decimals: int = 2) -> str:
    """A plain number (coins, likelihood ratios, multipliers)."""
    number_ = _finite(value)
    return MISSING if number_ is None else f"{number_:,.{decimals}f}"


def percent(value: float | None, decimals: int = 1) -> str:
    """A decimal fraction as a percentage: ``0.0123 -> '1.2%'``."""
    number_ = _finite(value)
    return MISSING if number_ is None else f"{100.0 * number_:.{decimals}f}%"


def vol(value: float | None, decimals: int = 1) -> str:
    """A decimal implied or realised volatility in vol points: ``0.553 -> '55.3'``."""
    number_ = _finite(value)
    return MISSING if number_ is None else f"{100.0 * number_:.{decimals}f}"


def probability(value: float | None) -> str:
    """A p-value or probability with three decimals."""
    number_ = _finite(value)
    return MISSING if number_ is None else f"{number_:.3f}"


def level(value: float) -> str:
    """A VaR confidence level: ``0.99 -> '99%'``, ``0.975 -> '97.5%'``."""
    return f"{100.0 * value:g}%"


def day(value: date | datetime | None) -> str:
    """An ISO date (UTC)."""
    if value is None:
        return MISSING
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def timestamp(value: datetime | None) -> str:
    """A UTC timestamp to the minute: ``2026-11-22 14:05 UTC``."""
    return MISSING if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def pnl_tone(value: float | None) -> str | None:
    """Cell highlight of a P&L figure: losses ``bad``, gains ``good``."""
    number_ = _finite(value)
    if number_ is None or number_ == 0:
        return None
    return "good" if number_ > 0 else "bad"
