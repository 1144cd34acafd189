"""Reading query parameters the way the venues do (strings in, typed values out)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd


class BadParamError(ValueError):
    """A query parameter is missing or malformed."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def required(params: dict[str, str], name: str) -> str:
    """A required parameter."""
    value = params.get(name)
    if value is None or value == "":
        raise BadParamError(name, "missing")
    return value


def int_param(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    """An optional integer parameter (``default`` when absent)."""
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(float(value))
    except ValueError as exc:
        raise BadParamError(name, f"not an integer: {value!r}") from exc


def clamp_limit(value: int | None, default: int, maximum: int) -> int:
    """A page size: ``default`` when absent, at most ``maximum``, at least 1."""
    if value is None:
        return default
    return max(1, min(int(value), maximum))


def records(frame: pd.DataFrame) -> Iterator[Any]:
    """Rows of a frame as attribute records (``row.column``)."""
    yield from frame.itertuples(index=False)
