"""The expectation suites, one per table, as code.

A suite is a tuple of :class:`Rule`: a stable name (``<table>.<rule>``, what ``dq_results`` and
``quarantine`` record), the Great Expectations class and its arguments, a severity (hard: offending
rows are quarantined, or the batch rejected for batch-level rules; soft: recorded and notified, rows
published), a dimension and the reason the rule exists. The rules are plain data (no GX import):
:func:`rules_for` lists them cheaply, :func:`build_suite` turns them into a GX ``ExpectationSuite``.

The load window is a suite parameter (``window_start``, ``window_end``), so a suite is the same object
for every run. :data:`SUITE_VERSION` is bumped by hand on a deliberate change; the suite's fingerprint
(a hash of its rules and thresholds) changes by itself whenever a rule or threshold does, and both are
recorded with every result.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cryptoderiv.quality.errors import SuiteConfigurationError
from cryptoderiv.quality.frames import INPUT_COLUMNS, NATURAL_KEYS, check_table, references_instruments
from cryptoderiv.quality.policy import DEFAULT_POLICY, TIMEFRAME_SECONDS, Dimension, QualityPolicy, Severity

SUITE_VERSION = "1.0"

WINDOW_START: Mapping[str, str] = MappingProxyType({"$PARAMETER": "window_start"})
WINDOW_END: Mapping[str, str] = MappingProxyType({"$PARAMETER": "window_end"})

HARD, SOFT = Severity.HARD, Severity.SOFT
STRUCTURE, DOMAIN, TIME, DERIVATIVES = Dimension.STRUCTURE, Dimension.DOMAIN, Dimension.TIME, Dimension.DERIVATIVES


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite."""

    name: str
    expectation: str
    kwargs: Mapping[str, Any]
    severity: Severity
    dimension: Dimension
    rationale: str
    tags: tuple[str, ...] = field(default=())

    @property
    def table(self) -> str:
        """The table the rule belongs to."""
        return self.name.split(".", 1)[0]


def _not_null(table: str, columns: Iterable[str]) -> list[Rule]:
    return [Rule(f"{table}.{c}_not_null", "ExpectColumnValuesToNotBeNull", {"column": c}, HARD, STRUCTURE,
                 f"{c} is required: a row without it cannot be stored or used (NaN counts as missing).")
            for c in columns]


def _positive(table: str, columns: Iterable[str], *, strict: bool = True) -> list[Rule]:
    word = "positive" if strict else "non_negative"
    text = "positive" if strict else "≥ 0"
    return [Rule(f"{table}.{c}_{word}", "ExpectColumnValuesToBeBetween",
                 {"column": c, "min_value": 0, "strict_min": strict}, HARD, DOMAIN,
                 f"{c} {text}: a price, size or time of the wrong sign is a broken value, never a market.")
            for c in columns]


def _structure(table: str, not_null: Iterable[str]) -> list[Rule]:
    contract = INPUT_COLUMNS[table]
    rules = [
        Rule(f"{table}.columns_present", "ExpectTableColumnsToMatchSet",
             {"column_set": sorted(contract), "exact_match": False}, HARD, STRUCTURE,
             "The batch carries every column of the input contract (cryptoderiv.quality.frames); "
             "without them no row can be judged, so the batch is rejected."),
        Rule(f"{table}.column_kinds", "ExpectColumnsToHaveKinds", {"kinds": dict(contract)}, HARD, STRUCTURE,
             "Columns have the kinds the schema stores (UTC timestamps, floats, integers, text); a naive "
             "timestamp or a number read as text rejects the batch."),
    ]
    if references_instruments(table):
        rules.append(Rule(f"{table}.instrument_known", "ExpectColumnValuesToNotBeNull", {"column": "instrument_id"},
                          HARD, STRUCTURE, "The instrument is in the catalog (instruments); sync the catalog "
                          "first, then re-run the window."))
    rules += _not_null(table, not_null)
    key = list(NATURAL_KEYS[table])
    rules.append(Rule(f"{table}.unique_key", "ExpectCompoundColumnsToBeUnique", {"column_list": key}, HARD, STRUCTURE,
                      f"One row per natural key ({', '.join(key)}); every copy of a duplicated key is "
                      "quarantined, since which copy is right cannot be told."))
    return rules


def _in_window(table: str) -> Rule:
    return Rule(f"{table}.ts_in_window", "ExpectColumnValuesToBeBetween",
                {"column": "ts", "min_value": dict(WINDOW_START), "max_value": dict(WINDOW_END), "strict_max": True},
                HARD, TIME, "ts lies in the window being loaded [start, end): rows of another window would be "
                "published by the wrong run (and escape that run's checks).")


def _pair(table: str, name: str, a: str, b: str, rationale: str) -> Rule:
    return Rule(f"{table}.{name}", "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": a, "column_B": b, "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                HARD, DOMAIN, rationale)


def _ohlcv(p: QualityPolicy) -> list[Rule]:
    t = "ohlcv"
    prices = ["open", "high", "low", "close"]
    return [
        *_structure(t, ["exchange", "symbol", "timeframe", "ts", *prices, "volume"]),
        Rule(f"{t}.timeframe_known", "ExpectColumnValuesToBeInSet",
             {"column": "timeframe", "value_set": list(TIMEFRAME_SECONDS)}, HARD, DOMAIN,
             "timeframe is one the table accepts."),
        *_positive(t, prices),
        *_positive(t, ["volume"], strict=False),
        _pair(t, "high_ge_open", "high", "open", "high ≥ open: the high is the bar's maximum."),
        _pair(t, "high_ge_close", "high", "close", "high ≥ close: the high is the bar's maximum."),
        _pair(t, "open_ge_low", "open", "low", "low ≤ open: the low is the bar's minimum."),
        _pair(t, "close_ge_low", "close", "low", "low ≤ close: the low is the bar's minimum."),
        Rule(f"{t}.bars_within_window", "ExpectBarsWithinWindow",
             {"column_list": ["ts", "timeframe"], "window_start": dict(WINDOW_START),
              "window_end": dict(WINDOW_END)}, HARD, TIME,
             "The whole bar [ts, ts + timeframe) lies in the window: a bar ending after the window is still "
             "forming (the partial last bar of a download) and would be published half-made."),
        Rule(f"{t}.bars_on_grid", "ExpectBarsOnTimeframeGrid", {"column_list": ["ts", "timeframe"]}, HARD, TIME,
             "ts is a candle open time on the UTC grid of its timeframe (weeks start Monday): an off-grid "
             "time is a time-zone or unit error (the 3-hour-shift trap)."),
        Rule(f"{t}.bar_grid_complete", "ExpectBarGridWithoutGaps",
             {"key_columns": ["exchange", "symbol"], "window_start": dict(WINDOW_START),
              "window_end": dict(WINDOW_END)}, SOFT, TIME,
             "Every series is complete over the window; gaps are recorded with their position. Soft: venues "
             "do go down (Binance 2018-02-08: 32 h), and the bars that exist are good."),
    ]


def _trades(p: QualityPolicy) -> list[Rule]:
    t = "trades"
    return [
        *_structure(t, ["exchange", "symbol", "trade_id", "ts", "price", "amount"]),
        *_positive(t, ["price", "amount"]),
        Rule(f"{t}.side_known", "ExpectColumnValuesToBeInSet", {"column": "side", "value_set": ["buy", "sell"]},
             HARD, DOMAIN, "side is the taker side, buy or sell (or unknown)."),
        _in_window(t),
        Rule(f"{t}.price_not_outlier", "ExpectTradePricesNotOutliers",
             {"column_list": ["exchange", "symbol", "price"], "log_band": p.trade_price_outlier_log_band},
             SOFT, DOMAIN, "A trade more than ~20 % from the instrument's median in the batch is a fat finger "
             "or a wrong instrument; soft, because flash crashes happen."),
    ]


def _funding(p: QualityPolicy) -> list[Rule]:
    t = "funding_rates"
    soft_caps = {venue: p.funding_soft_cap_per_8h for venue in p.funding_hard_cap_per_8h}
    return [
        *_structure(t, ["exchange", "symbol", "ts", "rate", "interval_hours"]),
        Rule(f"{t}.interval_known", "ExpectColumnValuesToBeInSet",
             {"column": "interval_hours", "value_set": list(p.funding_intervals_hours)}, HARD, DOMAIN,
             "The funding interval is one the venues use."),
        Rule(f"{t}.rate_within_venue_cap", "ExpectFundingRatesWithinVenueCap",
             {"column_list": ["exchange", "rate", "interval_hours"], "caps_per_8h": dict(p.funding_hard_cap_per_8h),
              "default_cap": p.funding_hard_cap_default}, HARD, DOMAIN,
             "|rate| per interval is under the venue cap (scaled by interval/8h); above it the value is a unit "
             "error (a percent read as a decimal) or a corrupt spike."),
        Rule(f"{t}.rate_within_usual_regime", "ExpectFundingRatesWithinVenueCap",
             {"column_list": ["exchange", "rate", "interval_hours"], "caps_per_8h": soft_caps,
              "default_cap": p.funding_soft_cap_per_8h}, SOFT, DOMAIN,
             "|rate| under 0.3 % per 8 h; above it the market is at or near the venue clamp: real, extreme, "
             "worth a notification."),
        _in_window(t),
        Rule(f"{t}.ts_on_interval", "ExpectFundingTimesOnInterval",
             {"column_list": ["ts", "interval_hours"], "tolerance_seconds": p.funding_time_tolerance_seconds},
             HARD, TIME, "Funding times are on the venue's interval grid (00:00 UTC + k x interval), within 1 s "
             "(Binance stamps with millisecond jitter); UTC+3 timestamps fall off the grid."),
    ]


def _open_interest(p: QualityPolicy) -> list[Rule]:
    t = "open_interest"
    return [
        *_structure(t, ["exchange", "symbol", "ts"]),
        *_positive(t, ["oi_contracts", "oi_base", "oi_usd"], strict=False),
        _in_window(t),
    ]


def _futures(p: QualityPolicy) -> list[Rule]:
    t = "futures_quotes"
    return [
        *_structure(t, ["exchange", "symbol", "base", "ts", "quote_ts", "mark_price", "index_price", "basis"]),
        *_positive(t, ["mark_price", "index_price", "bid", "ask"]),
        _pair(t, "bid_le_ask", "ask", "bid", "bid ≤ ask: a crossed book is a broken quote."),
        Rule(f"{t}.basis_identity", "ExpectBasisEqualsMarkMinusIndex",
             {"column_list": ["mark_price", "index_price", "basis"], "tolerance": p.basis_identity_tolerance},
             HARD, DERIVATIVES, "basis = mark - index in quote currency, as the schema defines it."),
        Rule(f"{t}.basis_apr_consistent", "ExpectBasisAprConsistent",
             {"column_list": ["ts", "expiry", "basis", "index_price", "basis_apr"], "tolerance": p.basis_apr_tolerance},
             HARD, DERIVATIVES, "basis_apr = basis / index x 365 / days to expiry for dated futures, empty for "
                                "perpetuals."),
        Rule(f"{t}.mark_index_hard_band", "ExpectFuturesMarkNearIndex",
             {"column_list": ["ts", "expiry", "mark_price", "index_price"], "abs_band": p.futures_mark_index_hard_abs,
              "apr_band": p.futures_mark_index_hard_apr}, HARD, DERIVATIVES,
             "Mark within 5 % (+200 %/yr of carry) of the index: further is a unit or instrument mix-up."),
        Rule(f"{t}.mark_index_band", "ExpectFuturesMarkNearIndex",
             {"column_list": ["ts", "expiry", "mark_price", "index_price"], "abs_band": p.futures_mark_index_soft_abs,
              "apr_band": p.futures_mark_index_soft_apr}, SOFT, DERIVATIVES,
             "Mark within 1 % (+50 %/yr of carry) of the index: beyond is a dislocation worth a look."),
        Rule(f"{t}.basis_on_curve", "ExpectBasisConsistentWithCurve",
             {"column_list": ["exchange", "base", "ts", "expiry", "basis", "index_price"],
              "band": p.basis_curve_band, "min_days": p.basis_curve_min_days}, SOFT, DERIVATIVES,
             "A dated future's annualised basis is within 20 pp of its snapshot's curve median."),
        _in_window(t),
        Rule(f"{t}.quote_fresh", "ExpectQuotesFresh",
             {"column_list": ["ts", "quote_ts"], "max_age_seconds": p.quote_max_age_seconds,
              "max_lead_seconds": p.quote_max_lead_seconds}, HARD, TIME,
             "The quote is at most 60 s older than the snapshot: a stale quote misstates the market at ts."),
        Rule(f"{t}.expiry_after_snapshot", "ExpectExpiryAfterSnapshot", {"column_list": ["ts", "expiry"]}, HARD, TIME,
             "A dated future is quoted before it expires."),
    ]


def _options(p: QualityPolicy) -> list[Rule]:
    t = "option_quotes"
    pricing = ["exchange", "base", "ts", "expiry", "strike", "option_type", "premium_currency", "underlying_price"]
    return [
        *_structure(t, ["exchange", "symbol", "base", "expiry", "strike", "option_type", "ts", "quote_ts",
                        "premium_currency", "mark", "mark_usd", "underlying_price", "index_price", "time_to_expiry"]),
        Rule(f"{t}.option_type_known", "ExpectColumnValuesToBeInSet",
             {"column": "option_type", "value_set": ["call", "put"]}, HARD, DOMAIN, "option_type is call or put."),
        # the USD columns' signs follow from premium_units (a converted price keeps its sign)
        *_positive(t, ["ask", "strike", "underlying_price", "index_price", "time_to_expiry"]),
        *_positive(t, ["bid", "mark", "open_interest", "volume"], strict=False),
        _pair(t, "bid_le_ask", "ask", "bid", "bid ≤ ask: a crossed book is a broken quote."),
        *[Rule(f"{t}.{c}_range", "ExpectColumnValuesToBeBetween",
               {"column": c, "min_value": 0, "max_value": p.iv_max, "strict_min": True, "strict_max": True},
               HARD, DOMAIN, f"{c} is an annual decimal in (0, {p.iv_max:g}): 55 is a percent, not 5500 % vol.")
          for c in ("mark_iv", "bid_iv", "ask_iv")],
        Rule(f"{t}.strike_on_grid", "ExpectStrikesOnVenueGrid",
             {"column_list": ["exchange", "base", "strike", "underlying_price"], "grid": dict(p.strike_grid),
              "levels": dict(p.strike_grid_level)}, HARD, DOMAIN,
             "The strike is on the venue's grid (Deribit BTC: 500 around 100,000, a tenth of it a decade lower; "
             "ETH: 5 around 3,000); off-grid strikes are parse errors."),
        Rule(f"{t}.premium_units", "ExpectOptionPremiumUnitsConsistent",
             {"column_list": ["symbol", "premium_currency", "mark", "mark_usd", "bid", "bid_usd", "ask", "ask_usd",
                              "index_price", "underlying_price"], "tolerance": p.usd_conversion_tolerance},
             HARD, DERIVATIVES,
             "Premiums are in the contract's settlement currency (coin for inverse options) and the USD columns "
             "convert them at ~ the index or forward: catches coin premiums labelled USD and USD columns holding "
             "coins."),
        Rule(f"{t}.mark_consistent_with_iv", "ExpectOptionMarkConsistentWithIv",
             {"column_list": ["option_type", "strike", "underlying_price", "time_to_expiry", "mark_iv", "mark",
                              "premium_currency"], "band": p.mark_iv_band}, HARD, DERIVATIVES,
             "mark = Black-76(F, K, T, mark_iv) with r = 0 within 1 % of max(F, K) (real Deribit: 99.99 % within "
             "0.07 %, worst 0.26 %); IV in percent and premiums in the wrong unit miss by tens of percent."),
        Rule(f"{t}.mark_within_bounds", "ExpectOptionMarkWithinBounds",
             {"column_list": ["option_type", "strike", "underlying_price", "mark", "premium_currency"],
              "band": p.intrinsic_band}, HARD, DERIVATIVES,
             "intrinsic ≤ mark ≤ F (calls) or K (puts), in forward units, within 1 % of max(F, K) (real "
             "Deribit: worst 0.23 % below intrinsic)."),
        Rule(f"{t}.put_call_parity_marks", "ExpectOptionMarksToSatisfyPutCallParity",
             {"column_list": [*pricing, "mark"], "band": p.parity_mark_band}, HARD, DERIVATIVES,
             "C - P = F - K for the marks of each call/put pair within 1 % of max(F, K) (real Deribit: 99.99 % "
             "within 0.13 %, worst 0.24 %); both legs of a broken pair are quarantined."),
        Rule(f"{t}.parity_quote_bounds", "ExpectOptionQuotesWithinParityBounds",
             {"column_list": [*pricing, "bid", "ask"], "band": p.parity_quote_band}, SOFT, DERIVATIVES,
             "Two-sided quotes respect C_bid - P_ask ≤ F - K ≤ C_ask - P_bid within 0.15 % of max(F, K); "
             "one-sided pairs are not judged. Soft: legs are captured at different moments."),
        Rule(f"{t}.call_strike_arbitrage", "ExpectCallPricesDecreasingConvexInStrike",
             {"column_list": ["exchange", "base", "ts", "expiry", "strike", "option_type", "mark", "premium_currency",
                              "underlying_price"], "tolerance": p.strike_arbitrage_tolerance}, SOFT, DERIVATIVES,
             "Call marks fall and are convex in strike per expiry (vertical spreads and butterflies ≥ 0) "
             "beyond one tick; soft: the venue's marks can carry small static arbitrage."),
        Rule(f"{t}.calendar_total_variance", "ExpectTotalVarianceNonDecreasingInExpiry",
             {"column_list": ["exchange", "base", "premium_currency", "ts", "expiry", "strike", "underlying_price",
                              "mark_iv", "time_to_expiry"], "rel_tolerance": p.calendar_rel_tolerance,
              "abs_tolerance": p.calendar_abs_tolerance,
              "max_standardised_moneyness": p.calendar_max_standardised_moneyness}, SOFT, DERIVATIVES,
             "Total variance iv^2 T does not fall with expiry at equal log-moneyness, inside the smile's body; "
             "soft: short-dated wings carry extrapolated marks."),
        Rule(f"{t}.forward_index_hard_band", "ExpectForwardNearIndex",
             {"column_list": ["underlying_price", "index_price", "time_to_expiry"],
              "abs_band": p.forward_index_hard_abs, "apr_band": p.forward_index_hard_apr}, HARD, DERIVATIVES,
             "The per-expiry forward is within 5 % (+200 %/yr of carry) of the index: further is a wrong "
             "underlying or unit."),
        Rule(f"{t}.forward_index_band", "ExpectForwardNearIndex",
             {"column_list": ["underlying_price", "index_price", "time_to_expiry"],
              "abs_band": p.forward_index_soft_abs, "apr_band": p.forward_index_soft_apr}, SOFT, DERIVATIVES,
             "The forward is within 1 % (+50 %/yr of carry) of the index: beyond is an unusual basis."),
        _in_window(t),
        Rule(f"{t}.quote_fresh", "ExpectQuotesFresh",
             {"column_list": ["ts", "quote_ts"], "max_age_seconds": p.quote_max_age_seconds,
              "max_lead_seconds": p.quote_max_lead_seconds}, HARD, TIME,
             "The venue's quote is at most 60 s older than the snapshot: a stale quote misprices the chain."),
        Rule(f"{t}.expiry_after_snapshot", "ExpectExpiryAfterSnapshot", {"column_list": ["ts", "expiry"]}, HARD, TIME,
             "The option had not expired at the snapshot time."),
        Rule(f"{t}.time_to_expiry_consistent", "ExpectTimeToExpiryConsistent",
             {"column_list": ["ts", "expiry", "time_to_expiry"], "tolerance_hours": p.time_to_expiry_tolerance_hours},
             HARD, TIME, "time_to_expiry is (expiry - ts) in ACT/365 years, within an hour."),
    ]


def _instruments(p: QualityPolicy) -> list[Rule]:
    t = "instruments"
    return [
        *_structure(t, ["exchange", "symbol", "kind", "base", "quote", "is_inverse", "contract_size"]),
        Rule(f"{t}.exchange_known", "ExpectColumnValuesToBeInSet",
             {"column": "exchange", "value_set": ["binance", "bybit", "deribit"]}, HARD, DOMAIN, "A venue we trade."),
        Rule(f"{t}.kind_known", "ExpectColumnValuesToBeInSet",
             {"column": "kind", "value_set": ["spot", "perpetual", "future", "option"]}, HARD, DOMAIN, "A known kind."),
        Rule(f"{t}.option_type_known", "ExpectColumnValuesToBeInSet",
             {"column": "option_type", "value_set": ["call", "put"]}, HARD, DOMAIN, "Options are calls or puts."),
        *_positive(t, ["contract_size", "strike", "funding_interval_hours"]),
        Rule(f"{t}.fields_match_kind", "ExpectInstrumentFieldsMatchKind",
             {"column_list": ["kind", "expiry", "strike", "option_type", "funding_interval_hours"]}, HARD, DOMAIN,
             "Options carry strike, type and expiry; futures an expiry; perpetuals a funding interval."),
        Rule(f"{t}.option_symbol_matches_fields", "ExpectOptionSymbolsMatchFields",
             {"column_list": ["kind", "symbol", "base", "settle", "expiry", "strike", "option_type"]}, HARD, DOMAIN,
             "An option's symbol encodes the same base, settle, expiry, strike and type as its fields."),
        Rule(f"{t}.strike_on_grid", "ExpectStrikesOnVenueGrid",
             {"column_list": ["exchange", "base", "strike"], "grid": dict(p.strike_grid)}, HARD, DOMAIN,
             "Strikes are on the venue's grid."),
    ]


_BUILDERS = {
    "instruments": _instruments, "ohlcv": _ohlcv, "trades": _trades, "funding_rates": _funding,
    "open_interest": _open_interest, "futures_quotes": _futures, "option_quotes": _options,
}


def rules_for(table: str, policy: QualityPolicy = DEFAULT_POLICY) -> tuple[Rule, ...]:
    """The rules of ``table``'s suite under ``policy``."""
    check_table(table)
    rules = tuple(_BUILDERS[table](policy))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise SuiteConfigurationError(f"{table}: rule names repeat: {sorted(n for n in names if names.count(n) > 1)}")
    return rules


def suite_name(table: str) -> str:
    """The GX suite name of ``table``."""
    return f"cryptoderiv.{table}"


def fingerprint(rules: Iterable[Rule]) -> str:
    """A short hash of the rules and their thresholds (changes whenever a rule does)."""
    payload = json.dumps([[r.name, r.expectation, r.kwargs, r.severity.value] for r in rules],
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:10]


def suite_version(table: str, policy: QualityPolicy = DEFAULT_POLICY) -> str:
    """``SUITE_VERSION+fingerprint`` of ``table``'s suite."""
    return f"{SUITE_VERSION}+{fingerprint(rules_for(table, policy))}"


def build_suite(table: str, policy: QualityPolicy = DEFAULT_POLICY, context: Any = None) -> Any:
    """The GX ``ExpectationSuite`` of ``table`` (imports Great Expectations). GX builds suites inside a
    data context: ``context`` (default: a new ephemeral one, see
    :func:`cryptoderiv.quality.validation.gx_context`)."""
    import great_expectations as gx
    from great_expectations.expectations.metadata_types import FailureSeverity

    from cryptoderiv.quality.expectations import CUSTOM_EXPECTATIONS
    from cryptoderiv.quality.validation import gx_context

    if context is None:
        context = gx_context()

    rules = rules_for(table, policy)
    suite = gx.ExpectationSuite(name=suite_name(table), meta={
        "table": table, "suite_version": SUITE_VERSION, "fingerprint": fingerprint(rules)})
    for rule in rules:
        cls = CUSTOM_EXPECTATIONS.get(rule.expectation) or getattr(gx.expectations, rule.expectation, None)
        if cls is None:
            raise SuiteConfigurationError(f"{rule.name}: unknown expectation class {rule.expectation}")
        severity = FailureSeverity.CRITICAL if rule.severity is Severity.HARD else FailureSeverity.WARNING
        suite.add_expectation(cls(
            **rule.kwargs, severity=severity, description=f"[{rule.severity.value}] {rule.name}: {rule.rationale}",
            meta={"rule": rule.name, "severity": rule.severity.value, "dimension": rule.dimension.value}))
    return suite
