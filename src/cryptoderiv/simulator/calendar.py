"""Time grid and expiry calendar of the simulated market.

All times are integer milliseconds since the Unix epoch, UTC. Dated futures and options expire on Fridays at
08:00 UTC, as on Deribit, Bybit and Binance:

* a *weekly* expiry is any Friday,
* a *monthly* expiry is the last Friday of a month,
* a *quarterly* expiry is the last Friday of March, June, September or December.

An expiry is listed from ``expiry - horizon`` until it expires, where the horizon is the longest of the
horizons of the kinds it belongs to (see :data:`OPTION_HORIZON_DAYS`). This makes the listed set a pure
function of time.
"""

from __future__ import annotations

import calendar as _stdcal
import functools
from datetime import UTC, datetime, timedelta

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
SECONDS_PER_YEAR = 365.0 * 86_400.0
MS_PER_YEAR = SECONDS_PER_YEAR * 1_000.0

#: First instant the simulated market exists (2025-01-01T00:00:00Z). Earlier requests get no data.
EPOCH_MS = 1_735_689_600_000

EXPIRY_HOUR_UTC = 8
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")

#: Listing horizon in days by expiry kind, for options (Deribit and Bybit) and Deribit futures.
OPTION_HORIZON_DAYS = {"weekly": 28, "monthly": 92, "quarterly": 366}
DERIBIT_FUTURE_HORIZON_DAYS = {"weekly": 14, "monthly": 62, "quarterly": 366}


def to_datetime(ms: int) -> datetime:
    """UTC datetime of a millisecond timestamp."""
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC)


def to_ms(dt: datetime) -> int:
    """Millisecond timestamp of an aware datetime."""
    return round(dt.timestamp() * 1000.0)


def floor_ms(ms: int, step_ms: int) -> int:
    """Largest multiple of ``step_ms`` not after ``ms``."""
    return (ms // step_ms) * step_ms


def day_index(ms: int) -> int:
    """Index of the UTC day containing ``ms``, counted from :data:`EPOCH_MS` (may be negative)."""
    return (ms - EPOCH_MS) // MS_PER_DAY


def _friday_0800(day: datetime) -> datetime:
    return day.replace(hour=EXPIRY_HOUR_UTC, minute=0, second=0, microsecond=0)


@functools.lru_cache(maxsize=4096)
def last_friday(year: int, month: int) -> datetime:
    """Last Friday of a month at 08:00 UTC."""
    last_day = _stdcal.monthrange(year, month)[1]
    day = datetime(year, month, last_day, tzinfo=UTC)
    day -= timedelta(days=(day.weekday() - 4) % 7)
    return _friday_0800(day)


@functools.lru_cache(maxsize=4096)
def expiry_kinds(expiry_ms: int) -> tuple[str, ...]:
    """Kinds (``weekly``, ``monthly``, ``quarterly``) a Friday-08:00 expiry belongs to."""
    dt = to_datetime(expiry_ms)
    kinds = ["weekly"]
    if last_friday(dt.year, dt.month) == dt:
        kinds.append("monthly")
        if dt.month in (3, 6, 9, 12):
            kinds.append("quarterly")
    return tuple(kinds)


def fridays_after(start_ms: int, horizon_ms: int) -> list[int]:
    """Friday 08:00 UTC expiries in ``(start_ms, start_ms + horizon_ms]``."""
    start = to_datetime(start_ms)
    day = _friday_0800(start - timedelta(days=(start.weekday() - 4) % 7))
    out: list[int] = []
    end_ms = start_ms + horizon_ms
    while True:
        ms = to_ms(day)
        if ms > end_ms:
            return out
        if ms > start_ms:
            out.append(ms)
        day += timedelta(days=7)


def listed_expiries(t_ms: int, horizons_days: dict[str, int]) -> list[int]:
    """Expiries listed at ``t_ms`` under a horizon table such as :data:`OPTION_HORIZON_DAYS`."""
    longest = max(horizons_days.values())
    out = []
    for expiry in fridays_after(t_ms, longest * MS_PER_DAY):
        horizon = max(horizons_days.get(kind, 0) for kind in expiry_kinds(expiry))
        if expiry - t_ms <= horizon * MS_PER_DAY:
            out.append(expiry)
    return out


def listing_time(expiry_ms: int, horizons_days: dict[str, int]) -> int:
    """First instant an expiry is listed under a horizon table."""
    horizon = max(horizons_days.get(kind, 0) for kind in expiry_kinds(expiry_ms))
    return expiry_ms - horizon * MS_PER_DAY


def quarter_ends_after(t_ms: int, count: int) -> list[int]:
    """The next ``count`` quarterly expiries strictly after ``t_ms``."""
    dt = to_datetime(t_ms)
    year, month = dt.year, dt.month
    out: list[int] = []
    while len(out) < count:
        if month in (3, 6, 9, 12):
            ms = to_ms(last_friday(year, month))
            if ms > t_ms:
                out.append(ms)
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def quarter_end_before(expiry_ms: int) -> int:
    """The quarterly expiry immediately before a given quarterly expiry."""
    dt = to_datetime(expiry_ms)
    year, month = dt.year, dt.month - 3
    if month <= 0:
        year, month = year - 1, month + 12
    return to_ms(last_friday(year, month))


def month_end_after(t_ms: int) -> int:
    """The first monthly expiry strictly after ``t_ms``."""
    dt = to_datetime(t_ms)
    year, month = dt.year, dt.month
    while True:
        ms = to_ms(last_friday(year, month))
        if ms > t_ms:
            return ms
        month += 1
        if month == 13:
            year, month = year + 1, 1


def deribit_date_code(expiry_ms: int) -> str:
    """Deribit/Bybit expiry code, e.g. ``3JAN26`` (day without leading zero)."""
    dt = to_datetime(expiry_ms)
    return f"{dt.day}{_MONTHS[dt.month - 1]}{dt.year % 100:02d}"


def yymmdd(expiry_ms: int) -> str:
    """Binance/CCXT expiry code, e.g. ``260103``."""
    return to_datetime(expiry_ms).strftime("%y%m%d")


def parse_deribit_date_code(code: str) -> int:
    """Inverse of :func:`deribit_date_code` (expiry at 08:00 UTC)."""
    day = int(code[:-5])
    month = _MONTHS.index(code[-5:-2]) + 1
    year = 2000 + int(code[-2:])
    return to_ms(datetime(year, month, day, EXPIRY_HOUR_UTC, tzinfo=UTC))
