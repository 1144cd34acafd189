"""Severities, dimensions and the tuned thresholds of the data-quality rules.

Every number a rule compares against lives here, with the reason it has the value it has; the
methodology (``docs/data-quality.md``) explains each one. Thresholds that were tuned on the real
Deribit and Binance data in ``../shared/data`` say so and give what was observed there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Severity(StrEnum):
    """What a failed expectation does to the batch."""

    HARD = "hard"  #: offending rows are quarantined (batch-level: the batch is rejected)
    SOFT = "soft"  #: the failure is recorded and notified; rows are still published


class Dimension(StrEnum):
    """The family a rule belongs to (how the methodology groups them)."""

    STRUCTURE = "structure"
    DOMAIN = "domain"
    TIME = "time"
    DERIVATIVES = "derivatives"


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(mapping))


#: Seconds per candle for the timeframes the ``ohlcv`` table accepts.
TIMEFRAME_SECONDS: Mapping[str, int] = MappingProxyType({
    "1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400, "1w": 604_800,
})

#: Settlement currencies whose premiums are dollars (linear options); anything else is a coin.
USD_LIKE_CURRENCIES = frozenset({"USD", "USDT", "USDC"})


@dataclass(frozen=True)
class QualityPolicy:
    """The thresholds of every rule. Frozen; build a new one to change a value (tests do).

    All relative bands are fractions (0.0025 = 0.25 %). Option prices are compared in "forward
    units": USD at the option's own forward, i.e. a coin premium times ``underlying_price``.
    """

    # --- funding -----------------------------------------------------------------------------
    #: Hard cap on |funding rate| per 8 h, by venue (scaled linearly by interval_hours / 8).
    #: Twice the highest clamp hit in the 2020-2023 Binance/Bybit BTC/ETH history (0.375 %): a rate
    #: above it is a unit error (percent read as a decimal) or a corrupt value, not a market.
    funding_hard_cap_per_8h: Mapping[str, float] = field(default_factory=lambda: _frozen(
        {"binance": 0.0075, "bybit": 0.0075, "deribit": 0.0075}))
    funding_hard_cap_default: float = 0.0075
    #: Soft threshold per 8 h: at or near the venues' clamp; real but extreme, worth a notification.
    funding_soft_cap_per_8h: float = 0.003
    #: Funding intervals the venues use (Binance has 4 h and 8 h symbols, dYdX-style venues 1 h).
    funding_intervals_hours: tuple[int, ...] = (1, 2, 4, 8)
    #: Binance stamps funding times with millisecond jitter (observed: +-1 ms).
    funding_time_tolerance_seconds: float = 1.0

    # --- strikes -------------------------------------------------------------------------------
    #: Strike grid step by (exchange, base). Observed on 236 Deribit snapshots: every BTC strike is a
    #: multiple of 500, every ETH strike a multiple of 5 (ETH dailies use 10/20/25 steps, wings 100+).
    strike_grid: Mapping[str, float] = field(default_factory=lambda: _frozen(
        {"deribit:BTC": 500.0, "deribit:ETH": 5.0, "bybit:BTC": 500.0, "bybit:ETH": 5.0,
         "binance:BTC": 500.0, "binance:ETH": 5.0}))
    #: The forward level at which those steps were observed; a decade lower the ladder is ten times finer
    #: (Deribit listed BTC strikes every 50-250 when BTC traded near 10,000).
    strike_grid_level: Mapping[str, float] = field(default_factory=lambda: _frozen(
        {"deribit:BTC": 80_000.0, "deribit:ETH": 2_000.0, "bybit:BTC": 80_000.0, "bybit:ETH": 2_000.0,
         "binance:BTC": 80_000.0, "binance:ETH": 2_000.0}))

    # --- quotes and time -----------------------------------------------------------------------
    #: A quote older than this at the snapshot time is stale (ts - quote_ts), seconds.
    quote_max_age_seconds: float = 60.0
    #: A quote stamped later than the snapshot by more than this is a clock or join error, seconds.
    quote_max_lead_seconds: float = 5.0
    #: |time_to_expiry - (expiry - ts) / 365 d| allowed, in hours.
    time_to_expiry_tolerance_hours: float = 1.0
    #: Implied volatility must lie in (0, iv_max) as an annual decimal; 5 = 500 %.
    iv_max: float = 5.0

    # --- option prices -------------------------------------------------------------------------
    #: Put-call parity of marks, |C - P - (F - K)| / max(F, K). On the 236 real Deribit snapshots:
    #: 99.99 % of pairs within 0.13 %, worst 0.24 % (2026-02-03, ETH 2-day options in a fast market:
    #: the row's forward and the mark were captured at different moments). 1 % keeps a 4x margin; a
    #: stale leg after a ~2 % spot move (delta 0.5) breaks it.
    parity_mark_band: float = 0.01
    #: Parity bounds from two-sided quotes (C_bid - P_ask <= F - K <= C_ask - P_bid), violation over
    #: max(F, K). Real: 17 pairs in 236 snapshots break them by up to 0.118 % (legs captured at
    #: different moments in fast markets, ~2 ticks of 0.0005 coin); none beyond 0.15 %.
    parity_quote_band: float = 0.0015
    #: Mark within [intrinsic, upper bound] up to this fraction of max(F, K). Real: 99.99 % within
    #: 0.05 %, worst 0.23 % below intrinsic (same 2026-02-03 row as parity).
    intrinsic_band: float = 0.01
    #: |mark - Black76(F, K, T, mark_iv)| allowed, as a fraction of max(F, K). Real: 99.99 % within
    #: 0.07 %, worst 0.26 % (same row). An IV in percent or a premium in the wrong unit misses by
    #: tens of percent, so 1 % separates them with room on both sides.
    mark_iv_band: float = 0.01
    #: Call prices decreasing and convex in strike: violations up to this fraction of F are tick
    #: noise (one 0.0005-coin tick is 0.05 % of F). Real: 50 call marks on 14 of 236 days break it by
    #: more (27 on 2026-01-13), real static arbitrage in the venue's marks: soft.
    strike_arbitrage_tolerance: float = 0.0005
    #: Calendar: total variance w = iv^2 T may fall from one expiry to the next by at most
    #: calendar_rel_tolerance * w + calendar_abs_tolerance ...
    calendar_rel_tolerance: float = 0.02
    calendar_abs_tolerance: float = 1e-4
    #: ... and only where the strike is inside the traded body of the smile: |k| / sqrt(w) below this.
    #: Real: without the cut 32 rows on 14 days fail, all deep wings (|k| / sqrt(w) > 2) of daily and
    #: weekly expiries whose mark IVs are extrapolated; with it none (see docs/data-quality.md).
    calendar_max_standardised_moneyness: float = 2.0
    #: Coin premium converted to USD must use a rate within this band of [min(S, F), max(S, F)].
    usd_conversion_tolerance: float = 0.02
    #: Forward (underlying_price) against index: |ln(F / S)| <= abs + apr * T (hard, then soft).
    forward_index_hard_abs: float = 0.05
    forward_index_hard_apr: float = 2.0
    forward_index_soft_abs: float = 0.01
    forward_index_soft_apr: float = 0.5

    # --- futures -------------------------------------------------------------------------------
    #: Mark against index: perpetual |mark / index - 1| <= abs; dated |ln(mark/index)| <= abs + apr*T.
    futures_mark_index_hard_abs: float = 0.05
    futures_mark_index_hard_apr: float = 2.0
    futures_mark_index_soft_abs: float = 0.01
    futures_mark_index_soft_apr: float = 0.5
    #: Identities: basis = mark - index, basis_apr = basis / index * 365 / days (relative tolerance).
    basis_identity_tolerance: float = 1e-6
    basis_apr_tolerance: float = 1e-3
    #: A dated future's annualised basis may differ from its snapshot's median by this much (soft);
    #: futures closer than basis_curve_min_days to expiry are left out (tiny T amplifies noise).
    basis_curve_band: float = 0.20
    basis_curve_min_days: float = 7.0

    # --- trades --------------------------------------------------------------------------------
    #: |ln(price / median price of the instrument in the batch)| above this is a fat-finger (soft).
    trade_price_outlier_log_band: float = 0.2

    def funding_hard_cap(self, exchange: str) -> float:
        """Hard cap per 8 h for ``exchange``."""
        return self.funding_hard_cap_per_8h.get(exchange, self.funding_hard_cap_default)

    def strike_step(self, exchange: str, base: str) -> float | None:
        """The strike grid step of ``exchange``'s options on ``base``, or None when unknown."""
        return self.strike_grid.get(f"{exchange}:{base}")


DEFAULT_POLICY = QualityPolicy()
