"""Settings of a Heston calibration run: quote selection, objective, acceptance rules, snapshot grouping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from cryptoderiv.errors import ConfigurationError
from cryptoderiv.surface.chain import ChainError, LiquidityFilter

OBJECTIVES = ("price_vega", "iv", "price")
PRICE_SOURCES = ("mid", "mark")


def default_liquidity() -> LiquidityFilter:
    """The liquidity rules of the calibration (see :class:`CalibrationConfig`)."""
    return LiquidityFilter(min_t=2.0 / 365.0, max_relative_spread=0.5, min_open_interest=1.0,
                           moneyness=(0.6, 1.4), otm_only=True)


@dataclass(frozen=True, slots=True)
class CalibrationConfig:
    """How quotes are selected, fitted and judged.

    Parameters
    ----------
    liquidity : LiquidityFilter
        Per-quote liquidity rules (:class:`cryptoderiv.surface.chain.LiquidityFilter`): bid and ask both
        present with ``bid <= ask``; time to expiry >= ``min_t`` years (default 2 days: the last day's
        quotes are stale and its smile is not Heston-like); relative spread ``(ask - bid) / mid`` <= 0.5;
        open interest >= 1 contract; ``K / F`` in [0.6, 1.4]; out-of-the-money-forward options only.
    min_quotes_per_expiry : int, default 3
        An expiry with fewer liquid quotes is dropped (its smile cannot be judged).
    min_quotes : int, default 10
        A snapshot with fewer liquid quotes (after the per-expiry rule) is not calibrated: status ``failed``.
    price_source : {"mid", "mark"}, default "mid"
        Market price fitted: ``(bid + ask) / 2`` or the venue's mark.
    objective : {"price_vega", "iv", "price"}, default "price_vega"
        Error measure of :func:`cryptoderiv.pricing.heston_calibration.calibrate` (vega-scaled price
        errors: implied-volatility errors to first order).
    max_iterations : int, default 100
        Levenberg-Marquardt iteration limit; hitting it means status ``failed`` (not converged).
    max_rmse_iv : float, default 0.03
        Acceptance: a converged fit with an RMSE in implied volatility above this (vol decimal, 0.03 = 3
        vol points) is ``rejected`` and does not replace the current parameters.
    min_within_spread : float, default 0.2
        Acceptance: at least this share of model prices must lie inside the quoted ``[bid, ask]``.
    snapshot_gap_seconds : float, default 300
        Quotes of one venue and underlying belong to the same snapshot while consecutive quote times are
        at most this far apart (a chain fetch takes seconds to a minute; snapshots are minutes apart).
    max_snapshots : int, default 4
        Without an explicit window: at most this many of the newest uncalibrated snapshots per venue
        and underlying.
    lookback_hours : float, default 24
        Without an explicit window: look back at most this far from the newest quote.
    exchanges : tuple of str, default ("deribit", "bybit")
        Option venues calibrated.
    """

    liquidity: LiquidityFilter = field(default_factory=default_liquidity)
    min_quotes_per_expiry: int = 3
    min_quotes: int = 10
    price_source: str = "mid"
    objective: str = "price_vega"
    max_iterations: int = 100
    max_rmse_iv: float = 0.03
    min_within_spread: float = 0.2
    snapshot_gap_seconds: float = 300.0
    max_snapshots: int = 4
    lookback_hours: float = 24.0
    exchanges: tuple[str, ...] = ("deribit", "bybit")

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ConfigurationError(f"calibration objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.price_source not in PRICE_SOURCES:
            raise ConfigurationError(f"price_source must be one of {PRICE_SOURCES}, got {self.price_source!r}")
        checks = {
            "min_quotes_per_expiry": self.min_quotes_per_expiry >= 1,
            "min_quotes": self.min_quotes >= 5,
            "max_iterations": self.max_iterations >= 1,
            "max_rmse_iv": self.max_rmse_iv > 0,
            "min_within_spread": 0.0 <= self.min_within_spread <= 1.0,
            "snapshot_gap_seconds": self.snapshot_gap_seconds > 0,
            "max_snapshots": self.max_snapshots >= 1,
            "lookback_hours": self.lookback_hours > 0,
            "exchanges": len(self.exchanges) > 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigurationError(f"invalid calibration setting(s) {bad}: {self!r}")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able mapping (stored with every run, logged as MLflow params)."""
        out = asdict(self)
        out["liquidity"] = {**asdict(self.liquidity), "moneyness": list(self.liquidity.moneyness)}
        out["exchanges"] = list(self.exchanges)
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> CalibrationConfig:
        """Build from a mapping such as ``models/heston/config.yaml`` (unknown keys are an error)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(f"unknown calibration setting(s) {unknown}; known: {sorted(known)}")
        liquidity = data.pop("liquidity", None)
        kwargs: dict[str, Any] = dict(data)
        if liquidity is not None:
            base = asdict(default_liquidity())
            base.update(liquidity)
            base["moneyness"] = tuple(base["moneyness"])
            try:
                kwargs["liquidity"] = LiquidityFilter(**base)
            except (TypeError, ChainError) as exc:
                raise ConfigurationError(f"invalid liquidity rules {liquidity!r}: {exc}") from exc
        if "exchanges" in kwargs:
            kwargs["exchanges"] = tuple(kwargs["exchanges"])
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise ConfigurationError(f"invalid calibration settings {data!r}: {exc}") from exc
