"""Custom Great Expectations for the market tables: the rules GX does not have.

Row rules are :class:`~great_expectations.expectations.expectation.MulticolumnMapExpectation` subclasses:
GX evaluates them per row (so a failure names the rows: ``unexpected_index_list`` with the
``COMPLETE`` result format), and the gate quarantines those rows when the rule is hard. Even the
cross-row rules (parity pairs, strike convexity, calendar) are row rules: the condition looks at the
whole batch and answers per row, so the offending rows are known. Batch rules (column kinds, the
candle grid) are :class:`~great_expectations.expectations.expectation.BatchExpectation` subclasses
with an observed value.

The conditions themselves are in :mod:`cryptoderiv.quality.conditions`; each metric provider here is a
thin wrapper registered under a ``cryptoderiv.*`` metric name.

This module imports Great Expectations (4-5 s): import it lazily, never from a DAG file's top level.
Importing it registers the expectations with GX; :func:`register` makes that explicit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import BatchExpectation, MulticolumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider import (
    MulticolumnMapMetricProvider,
    multicolumn_condition_partial,
)
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.table_metric_provider import TableMetricProvider

from cryptoderiv.quality import conditions as cond

log = logging.getLogger(__name__)

_DOMAIN_KEYS = ("batch_id", "table", "column_list", "row_condition", "condition_parser", "ignore_row_if")
IgnoreRowIf = Literal["all_values_are_missing", "any_value_is_missing", "never"]


def _condition_metric(metric_name: str, condition: Callable[..., Any], value_keys: tuple[str, ...]) -> type:
    """Register a pandas multicolumn condition metric that calls ``condition(frame, **values)``."""

    def _pandas(cls: type, column_list: pd.DataFrame, **kwargs: Any) -> pd.Series:
        values = {key: kwargs.get(key) for key in value_keys}
        ok = condition(column_list, **values)
        return pd.Series(np.asarray(ok, dtype=bool), index=column_list.index)

    class_name = "".join(part.title() for part in metric_name.split(".")[-1].split("_")) + "Metric"
    return type(class_name, (MulticolumnMapMetricProvider,), {
        "condition_metric_name": metric_name,
        "condition_domain_keys": _DOMAIN_KEYS,
        "condition_value_keys": value_keys,
        "_pandas": multicolumn_condition_partial(engine=PandasExecutionEngine)(_pandas),
        "__module__": __name__,
    })


# ------------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------------

_condition_metric("cryptoderiv.bars_on_grid", lambda f: cond.bars_on_grid_ok(f), ())
_condition_metric("cryptoderiv.bars_within_window",
                  lambda f, window_start, window_end: cond.bars_within_window_ok(f, window_start, window_end),
                  ("window_start", "window_end"))
_condition_metric("cryptoderiv.funding_on_interval",
                  lambda f, tolerance_seconds: cond.funding_on_interval_ok(f, tolerance_seconds),
                  ("tolerance_seconds",))
_condition_metric("cryptoderiv.quotes_fresh",
                  lambda f, max_age_seconds, max_lead_seconds: cond.quotes_fresh_ok(f, max_age_seconds,
                                                                                   max_lead_seconds),
                  ("max_age_seconds", "max_lead_seconds"))
_condition_metric("cryptoderiv.expiry_after_snapshot", lambda f: cond.expiry_after_snapshot_ok(f), ())
_condition_metric("cryptoderiv.time_to_expiry_consistent",
                  lambda f, tolerance_hours: cond.time_to_expiry_consistent_ok(f, tolerance_hours),
                  ("tolerance_hours",))
_condition_metric("cryptoderiv.funding_within_cap",
                  lambda f, caps_per_8h, default_cap: cond.funding_within_cap_ok(f, caps_per_8h, default_cap),
                  ("caps_per_8h", "default_cap"))
_condition_metric("cryptoderiv.strike_on_grid", lambda f, grid, levels: cond.strike_on_grid_ok(f, grid, levels),
                  ("grid", "levels"))
_condition_metric("cryptoderiv.premium_units",
                  lambda f, tolerance: cond.premium_units_ok(f, tolerance), ("tolerance",))
_condition_metric("cryptoderiv.mark_consistent_with_iv",
                  lambda f, band: cond.mark_consistent_with_iv_ok(f, band), ("band",))
_condition_metric("cryptoderiv.mark_within_bounds", lambda f, band: cond.mark_within_bounds_ok(f, band), ("band",))
_condition_metric("cryptoderiv.forward_near_index",
                  lambda f, abs_band, apr_band: cond.forward_near_index_ok(f, abs_band, apr_band),
                  ("abs_band", "apr_band"))
_condition_metric("cryptoderiv.parity_marks", lambda f, band: cond.parity_marks_ok(f, band), ("band",))
_condition_metric("cryptoderiv.parity_quotes", lambda f, band: cond.parity_quotes_ok(f, band), ("band",))
_condition_metric("cryptoderiv.call_strike_arbitrage",
                  lambda f, tolerance: cond.call_strike_arbitrage_ok(f, tolerance), ("tolerance",))
_condition_metric("cryptoderiv.calendar_total_variance",
                  lambda f, rel_tolerance, abs_tolerance, max_standardised_moneyness: cond.calendar_ok(
                      f, rel_tolerance, abs_tolerance, max_standardised_moneyness),
                  ("rel_tolerance", "abs_tolerance", "max_standardised_moneyness"))
_condition_metric("cryptoderiv.basis_identity",
                  lambda f, tolerance: cond.basis_identity_ok(f, tolerance), ("tolerance",))
_condition_metric("cryptoderiv.basis_apr", lambda f, tolerance: cond.basis_apr_ok(f, tolerance), ("tolerance",))
_condition_metric("cryptoderiv.futures_mark_near_index",
                  lambda f, abs_band, apr_band: cond.futures_mark_near_index_ok(f, abs_band, apr_band),
                  ("abs_band", "apr_band"))
_condition_metric("cryptoderiv.basis_curve",
                  lambda f, band, min_days: cond.basis_curve_ok(f, band, min_days), ("band", "min_days"))
_condition_metric("cryptoderiv.trade_price_not_outlier",
                  lambda f, log_band: cond.trade_price_not_outlier_ok(f, log_band), ("log_band",))
_condition_metric("cryptoderiv.instrument_fields_match_kind", lambda f: cond.instrument_fields_match_kind_ok(f), ())
_condition_metric("cryptoderiv.option_symbol_matches_fields",
                  lambda f: cond.option_symbol_matches_fields_ok(f), ())


class ColumnKindMismatches(TableMetricProvider):
    """``{column: {expected, observed}}`` for columns whose kind differs from the expected one."""

    metric_name = "cryptoderiv.column_kind_mismatches"
    value_keys = ("kinds",)

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine: PandasExecutionEngine, metric_domain_kwargs: dict,  # noqa: N805 - GX
                metric_value_kwargs: dict, metrics: dict, runtime_configuration: dict) -> dict:
        frame, _, _ = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        return cond.column_kind_mismatches(frame, metric_value_kwargs["kinds"])


class BarGridGaps(TableMetricProvider):
    """Missing candles per series: ``{missing_bars, series, gaps: [...]}``."""

    metric_name = "cryptoderiv.bar_grid_gaps"
    value_keys = ("key_columns", "window_start", "window_end", "max_listed")

    @metric_value(engine=PandasExecutionEngine)
    def _pandas(cls, execution_engine: PandasExecutionEngine, metric_domain_kwargs: dict,  # noqa: N805 - GX
                metric_value_kwargs: dict, metrics: dict, runtime_configuration: dict) -> dict:
        frame, _, _ = execution_engine.get_compute_domain(
            domain_kwargs=metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE)
        return cond.bar_grid_gaps(frame, list(metric_value_kwargs["key_columns"]),
                                  metric_value_kwargs.get("window_start"), metric_value_kwargs.get("window_end"),
                                  int(metric_value_kwargs.get("max_listed") or 50))


# ------------------------------------------------------------------------------------------------
# batch expectations
# ------------------------------------------------------------------------------------------------

class ExpectColumnsToHaveKinds(BatchExpectation):
    """Each named column has the expected kind: ``float``, ``integer``, ``boolean``, ``text`` or
    ``utc_timestamp`` (timezone-aware, UTC; any resolution). GX's type expectations compare dtype
    names, which pandas 3 spells per resolution and per extension type; kinds are what the tables need."""

    kinds: dict[str, str]

    metric_dependencies: ClassVar[tuple[str, ...]] = ("cryptoderiv.column_kind_mismatches",)
    success_keys: ClassVar[tuple[str, ...]] = ("kinds",)
    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine: Any = None) -> dict[str, Any]:
        mismatches = metrics["cryptoderiv.column_kind_mismatches"]
        return {"success": not mismatches,
                "result": {"observed_value": mismatches or "every column has its expected kind",
                           "details": {"mismatches": mismatches}}}


class ExpectBarGridWithoutGaps(BatchExpectation):
    """Every candle series (``key_columns`` + timeframe) is complete on its grid: no bar missing between
    two bars nor, when a window is given, at its edges. The observed value lists the gaps."""

    key_columns: list[str]
    window_start: Any = None
    window_end: Any = None
    max_listed: int = 50

    metric_dependencies: ClassVar[tuple[str, ...]] = ("cryptoderiv.bar_grid_gaps", "table.row_count")
    success_keys: ClassVar[tuple[str, ...]] = ("key_columns", "window_start", "window_end", "max_listed")
    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id",)

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                  execution_engine: Any = None) -> dict[str, Any]:
        gaps = metrics["cryptoderiv.bar_grid_gaps"]
        rows = int(metrics.get("table.row_count") or 0)
        missing = int(gaps["missing_bars"])
        expected = rows + missing
        return {"success": missing == 0,
                "result": {"observed_value": gaps, "element_count": expected, "unexpected_count": missing,
                           "unexpected_percent": 100.0 * missing / expected if expected else 0.0}}


# ------------------------------------------------------------------------------------------------
# row expectations
# ------------------------------------------------------------------------------------------------

class _RowRule(MulticolumnMapExpectation):
    """Base of the row rules: conditions handle missing values themselves, so no row is skipped."""

    ignore_row_if: IgnoreRowIf = "never"


class ExpectBarsOnTimeframeGrid(_RowRule):
    """Candle open times sit on their timeframe's UTC grid (weeks start on Monday). Columns: ts, timeframe."""

    map_metric: ClassVar[str | None] = "cryptoderiv.bars_on_grid"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectBarsWithinWindow(_RowRule):
    """The whole candle [ts, ts + timeframe) lies in the load window [window_start, window_end)."""

    window_start: Any = None
    window_end: Any = None
    map_metric: ClassVar[str | None] = "cryptoderiv.bars_within_window"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "window_start", "window_end")


class ExpectFundingTimesOnInterval(_RowRule):
    """Funding times sit on the interval grid (00:00 UTC + k * interval_hours). Columns: ts, interval_hours."""

    tolerance_seconds: float = 1.0
    map_metric: ClassVar[str | None] = "cryptoderiv.funding_on_interval"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "tolerance_seconds")


class ExpectQuotesFresh(_RowRule):
    """The venue's quote time is at most max_age_seconds before the snapshot. Columns: ts, quote_ts."""

    max_age_seconds: float = 60.0
    max_lead_seconds: float = 5.0
    map_metric: ClassVar[str | None] = "cryptoderiv.quotes_fresh"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "max_age_seconds", "max_lead_seconds")


class ExpectExpiryAfterSnapshot(_RowRule):
    """The contract had not expired at the snapshot time. Columns: ts, expiry."""

    map_metric: ClassVar[str | None] = "cryptoderiv.expiry_after_snapshot"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectTimeToExpiryConsistent(_RowRule):
    """time_to_expiry (ACT/365 years) equals expiry - ts. Columns: ts, expiry, time_to_expiry."""

    tolerance_hours: float = 1.0
    map_metric: ClassVar[str | None] = "cryptoderiv.time_to_expiry_consistent"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "tolerance_hours")


class ExpectFundingRatesWithinVenueCap(_RowRule):
    """|rate| <= cap(exchange) * interval_hours / 8. Columns: exchange, rate, interval_hours."""

    caps_per_8h: dict[str, float]
    default_cap: float
    map_metric: ClassVar[str | None] = "cryptoderiv.funding_within_cap"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "caps_per_8h", "default_cap")


class ExpectStrikesOnVenueGrid(_RowRule):
    """Strikes are multiples of the venue's step for the underlying, scaled to the price level when the
    forward is given. Columns: exchange, base, strike[, underlying_price]."""

    grid: dict[str, float]
    levels: dict[str, float] = {}  # noqa: RUF012 - a pydantic field (GX expectations are pydantic models)
    map_metric: ClassVar[str | None] = "cryptoderiv.strike_on_grid"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "grid", "levels")


class ExpectOptionPremiumUnitsConsistent(_RowRule):
    """Premiums are in the contract's settlement currency and the USD columns convert them at a
    plausible rate (coin: near the index or forward; USD-like: 1)."""

    tolerance: float = 0.02
    map_metric: ClassVar[str | None] = "cryptoderiv.premium_units"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "tolerance")


class ExpectOptionMarkConsistentWithIv(_RowRule):
    """The mark equals Black-76 (zero rate) at the mark IV, within band * max(F, K)."""

    band: float = 0.01
    map_metric: ClassVar[str | None] = "cryptoderiv.mark_consistent_with_iv"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "band")


class ExpectOptionMarkWithinBounds(_RowRule):
    """Intrinsic value <= mark <= upper bound (F for calls, K for puts), within band * max(F, K)."""

    band: float = 0.01
    map_metric: ClassVar[str | None] = "cryptoderiv.mark_within_bounds"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "band")


class ExpectForwardNearIndex(_RowRule):
    """|ln(F / S)| <= abs_band + apr_band * T for the per-expiry forward F and the index S."""

    abs_band: float
    apr_band: float
    map_metric: ClassVar[str | None] = "cryptoderiv.forward_near_index"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "abs_band", "apr_band")


class ExpectOptionMarksToSatisfyPutCallParity(_RowRule):
    """|C - P - (F - K)| <= band * max(F, K) for every call/put pair of marks (forward units)."""

    band: float = 0.01
    map_metric: ClassVar[str | None] = "cryptoderiv.parity_marks"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "band")


class ExpectOptionQuotesWithinParityBounds(_RowRule):
    """C_bid - P_ask <= F - K <= C_ask - P_bid (up to band * max(F, K)) for two-sided pairs."""

    band: float = 0.0015
    map_metric: ClassVar[str | None] = "cryptoderiv.parity_quotes"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "band")


class ExpectCallPricesDecreasingConvexInStrike(_RowRule):
    """Call marks of one expiry fall and are convex in strike, up to tolerance * F."""

    tolerance: float = 0.0005
    map_metric: ClassVar[str | None] = "cryptoderiv.call_strike_arbitrage"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "tolerance")


class ExpectTotalVarianceNonDecreasingInExpiry(_RowRule):
    """Total implied variance does not fall from one expiry to the next at equal log-moneyness."""

    rel_tolerance: float = 0.02
    abs_tolerance: float = 1e-4
    max_standardised_moneyness: float = 2.0
    map_metric: ClassVar[str | None] = "cryptoderiv.calendar_total_variance"
    success_keys: ClassVar[tuple[str, ...]] = (
        "mostly", "rel_tolerance", "abs_tolerance", "max_standardised_moneyness")


class ExpectBasisEqualsMarkMinusIndex(_RowRule):
    """basis = mark_price - index_price within tolerance * index."""

    tolerance: float = 1e-6
    map_metric: ClassVar[str | None] = "cryptoderiv.basis_identity"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "tolerance")


class ExpectBasisAprConsistent(_RowRule):
    """basis_apr = basis / index * 365 / days to expiry; empty for perpetuals."""

    tolerance: float = 1e-3
    map_metric: ClassVar[str | None] = "cryptoderiv.basis_apr"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "tolerance")


class ExpectFuturesMarkNearIndex(_RowRule):
    """|ln(mark / index)| <= abs_band + apr_band * T (T = 0 for perpetuals)."""

    abs_band: float
    apr_band: float
    map_metric: ClassVar[str | None] = "cryptoderiv.futures_mark_near_index"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "abs_band", "apr_band")


class ExpectBasisConsistentWithCurve(_RowRule):
    """A dated future's annualised basis is within band of its snapshot's curve median."""

    band: float = 0.2
    min_days: float = 7.0
    map_metric: ClassVar[str | None] = "cryptoderiv.basis_curve"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "band", "min_days")


class ExpectTradePricesNotOutliers(_RowRule):
    """|ln(price / median price of the instrument in the batch)| <= log_band."""

    log_band: float = 0.2
    map_metric: ClassVar[str | None] = "cryptoderiv.trade_price_not_outlier"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly", "log_band")


class ExpectInstrumentFieldsMatchKind(_RowRule):
    """Options carry strike/type/expiry, futures an expiry, perpetuals a funding interval."""

    map_metric: ClassVar[str | None] = "cryptoderiv.instrument_fields_match_kind"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


class ExpectOptionSymbolsMatchFields(_RowRule):
    """An option's CCXT symbol encodes the catalog's base, settle, expiry, strike and type."""

    map_metric: ClassVar[str | None] = "cryptoderiv.option_symbol_matches_fields"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)


CUSTOM_EXPECTATIONS: dict[str, type] = {
    cls.__name__: cls for cls in (
        ExpectColumnsToHaveKinds, ExpectBarGridWithoutGaps, ExpectBarsOnTimeframeGrid, ExpectBarsWithinWindow,
        ExpectFundingTimesOnInterval, ExpectQuotesFresh, ExpectExpiryAfterSnapshot, ExpectTimeToExpiryConsistent,
        ExpectFundingRatesWithinVenueCap, ExpectStrikesOnVenueGrid, ExpectOptionPremiumUnitsConsistent,
        ExpectOptionMarkConsistentWithIv, ExpectOptionMarkWithinBounds, ExpectForwardNearIndex,
        ExpectOptionMarksToSatisfyPutCallParity, ExpectOptionQuotesWithinParityBounds,
        ExpectCallPricesDecreasingConvexInStrike, ExpectTotalVarianceNonDecreasingInExpiry,
        ExpectBasisEqualsMarkMinusIndex, ExpectBasisAprConsistent, ExpectFuturesMarkNearIndex,
        ExpectBasisConsistentWithCurve, ExpectTradePricesNotOutliers, ExpectInstrumentFieldsMatchKind,
        ExpectOptionSymbolsMatchFields,
    )
}


def register() -> dict[str, type]:
    """The custom expectation classes by name (importing this module registered them with GX)."""
    return CUSTOM_EXPECTATIONS
