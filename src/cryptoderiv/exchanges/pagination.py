"""Explicit time windows, de-duplication at page seams and gap detection for history fetches.

A history fetch of ``[start, end)`` on a grid of step ``step`` (candle length, funding interval) is cut into
pages of at most ``page_size`` grid points; each page is requested with an explicit ``since``/``limit`` and
``until``. Rows are merged by their grid timestamp (a row seen twice at a seam is kept once and counted), and
grid points with no row are reported as :class:`Gap` runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd


@dataclass(frozen=True)
class Gap:
    """A run of missing grid points ``[start, end)``.

    Attributes
    ----------
    symbol : str
        Instrument.
    start, end : pandas.Timestamp
        First missing point and the first point after the run (UTC).
    missing : int
        Number of missing grid points.
    """

    symbol: str
    start: pd.Timestamp
    end: pd.Timestamp
    missing: int


def to_ms(value: int | float | str | datetime | pd.Timestamp) -> int:
    """Milliseconds since the epoch of a time given as ms, ISO text, datetime or Timestamp (naive = UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value // 1_000_000)


def align_up(ms: int, step: int) -> int:
    """Smallest multiple of ``step`` not before ``ms``."""
    return -(-ms // step) * step


def windows(start_ms: int, end_ms: int, step_ms: int, page_size: int) -> list[tuple[int, int]]:
    """Pages ``[(w0, w1), ...]`` covering the grid points of ``[start_ms, end_ms)``, ``page_size`` points each."""
    first = align_up(start_ms, step_ms)
    span = step_ms * page_size
    return [(w, min(w + span, end_ms)) for w in range(first, end_ms, span)]


def grid(start_ms: int, end_ms: int, step_ms: int) -> range:
    """Grid points (ms) of ``[start_ms, end_ms)``."""
    return range(align_up(start_ms, step_ms), end_ms, step_ms)


def find_gaps(symbol: str, present_ms: Iterable[int], start_ms: int, end_ms: int, step_ms: int) -> list[Gap]:
    """Runs of grid points of ``[start_ms, end_ms)`` absent from ``present_ms``."""
    present = set(present_ms)
    gaps: list[Gap] = []
    run_start: int | None = None
    run = 0
    points = list(grid(start_ms, end_ms, step_ms))
    for t in points:
        if t in present:
            if run_start is not None:
                gaps.append(
                    Gap(symbol, pd.Timestamp(run_start, unit="ms", tz="UTC"), pd.Timestamp(t, unit="ms", tz="UTC"), run)
                )
                run_start, run = None, 0
        else:
            run_start = t if run_start is None else run_start
            run += 1
    if run_start is not None:
        gaps.append(
            Gap(
                symbol,
                pd.Timestamp(run_start, unit="ms", tz="UTC"),
                pd.Timestamp(points[-1] + step_ms, unit="ms", tz="UTC"),
                run,
            )
        )
    return gaps


def snap(ms: int, step_ms: int, tolerance_ms: int = 60_000) -> int | None:
    """The grid point within ``tolerance_ms`` of ``ms`` (venues stamp funding a few ms late), or None."""
    nearest = round(ms / step_ms) * step_ms
    return int(nearest) if abs(ms - nearest) <= tolerance_ms else None
