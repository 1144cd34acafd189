"""Market rules evaluated on the live tick stream (pure logic; the sidecar does the I/O).

:meth:`LiveAlertEngine.on_tick` returns the alerts a tick triggers. Time is the venue event time of the
ticks (so a replayed stream gives the same alerts), and a first, in-memory cool-down keeps a condition that
holds for many ticks from reaching the database more than once per ``cooldown_s``; the database check in
:func:`~cryptoderiv.alerts.store.record_alert` is the authoritative one.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptoderiv.alerts.rules import MARKET_KINDS, AlertRule
from cryptoderiv.alerts.store import Alert

if TYPE_CHECKING:  # the sidecar imports the alerts; ticks are only read here
    from cryptoderiv.streaming.events import Tick

ATM_DELTA = 0.5
WING_DELTA = 0.25
DELTA_TOLERANCE = 0.10


@dataclass
class _OptionMark:
    delta: float
    mark_iv: float
    call: bool


@dataclass
class _ExpiryState:
    marks: dict[str, _OptionMark] = field(default_factory=dict)
    atm_series: deque[tuple[int, float]] = field(default_factory=deque)
    skew_sign: int = 0


def _when(ts_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts_ms / 1000.0, tz=dt.UTC)


def _nearest(marks: Iterable[_OptionMark], call: bool, delta: float) -> _OptionMark | None:
    best = min((m for m in marks if m.call == call), key=lambda m: abs(m.delta - delta), default=None)
    return best if best is not None and abs(best.delta - delta) <= DELTA_TOLERANCE else None


def atm_iv(marks: Iterable[_OptionMark]) -> float | None:
    """Mark IV of the call whose delta is nearest 0.5 (decimal)."""
    m = _nearest(marks, True, ATM_DELTA)
    return m.mark_iv if m is not None else None


def risk_reversal_25d(marks: Iterable[_OptionMark]) -> float | None:
    """``IV(call, delta 0.25) - IV(put, delta -0.25)`` from the nearest listed deltas (decimal), or None."""
    marks = list(marks)
    c, p = _nearest(marks, True, WING_DELTA), _nearest(marks, False, -WING_DELTA)
    return c.mark_iv - p.mark_iv if c is not None and p is not None else None


class LiveAlertEngine:
    """Evaluates the market rules (see :mod:`cryptoderiv.alerts.rules`) tick by tick.

    Parameters
    ----------
    rules : iterable of AlertRule
        Non-market kinds are ignored here.
    """

    def __init__(self, rules: Iterable[AlertRule]) -> None:
        self.rules = [r for r in rules if r.kind in MARKET_KINDS and r.enabled]
        self._prices: dict[tuple[str, str], deque[tuple[int, float]]] = {}
        self._expiries: dict[tuple[str, str, str], _ExpiryState] = {}
        self._last_fired: dict[str, int] = {}

    def _matches(self, rule: AlertRule, tick: Tick) -> bool:
        venue = rule.param("venue")
        if venue is not None and venue != tick.exchange:
            return False
        if rule.kind in ("iv_spike", "skew_flip"):
            if tick.source != "option" or tick.base != rule.param("base"):
                return False
            expiry = rule.param("expiry")
            return expiry is None or str(expiry) == tick.expiry
        return rule.param("symbol") == tick.symbol

    def on_tick(self, tick: Tick) -> list[tuple[AlertRule, Alert]]:
        """The alerts this tick fires (after the in-memory cool-down)."""
        if tick.source == "option":
            self._update_option(tick)
        else:
            mid = tick.mid
            if mid is not None and mid > 0:
                self._prices.setdefault((tick.exchange, tick.symbol), deque()).append((tick.ts, mid))
        out = []
        for rule in self.rules:
            if not self._matches(rule, tick):
                continue
            alert = getattr(self, f"_{rule.kind}")(rule, tick)
            if alert is None:
                continue
            last = self._last_fired.get(alert.dedup_key)
            if last is not None and tick.ts - last < rule.cooldown_s * 1000:
                continue
            self._last_fired[alert.dedup_key] = tick.ts
            out.append((rule, alert))
        return out

    def _update_option(self, tick: Tick) -> None:
        if tick.mark_iv is None or tick.delta is None or tick.expiry is None or tick.base is None:
            return
        state = self._expiries.setdefault((tick.exchange, tick.base, tick.expiry), _ExpiryState())
        state.marks[tick.symbol] = _OptionMark(tick.delta, tick.mark_iv, tick.symbol.endswith("-C"))
        atm = atm_iv(state.marks.values())
        if atm is not None:
            state.atm_series.append((tick.ts, atm))

    def _alert(self, rule: AlertRule, tick: Tick, subject: str, message: str, value: float,
               threshold: float | None, **payload: object) -> Alert:
        return Alert(rule.name, rule.kind, rule.severity, subject, _when(tick.ts), message, value, threshold,
                     {"ts": tick.ts, **payload})

    def _price_move(self, rule: AlertRule, tick: Tick) -> Alert | None:
        series = self._prices.get((tick.exchange, tick.symbol))
        if not series:
            return None
        window_ms = float(rule.param("window_s")) * 1000
        while len(series) > 1 and series[1][0] <= tick.ts - window_ms:
            series.popleft()
        ref_ts, ref = series[0]
        _, now = series[-1]
        move = now / ref - 1.0
        threshold = float(rule.param("threshold"))
        if abs(move) < threshold:
            return None
        return self._alert(rule, tick, f"{tick.exchange}:{tick.symbol}",
                           f"{tick.symbol} on {tick.exchange} moved {move:+.2%} in {(tick.ts - ref_ts) / 1000:.0f} s"
                           f" ({ref:.6g} -> {now:.6g})", move, threshold, reference=ref, price=now)

    def _expiry_state(self, tick: Tick) -> _ExpiryState | None:
        if tick.expiry is None or tick.base is None:
            return None
        return self._expiries.get((tick.exchange, tick.base, tick.expiry))

    def _iv_spike(self, rule: AlertRule, tick: Tick) -> Alert | None:
        state = self._expiry_state(tick)
        if state is None or not state.atm_series:
            return None
        window_ms = float(rule.param("window_s")) * 1000
        series = state.atm_series
        while series and series[0][0] < tick.ts - window_ms:
            series.popleft()
        if not series:
            return None
        low = min(v for _, v in series)
        now = series[-1][1]
        rise = now - low
        threshold = float(rule.param("threshold"))
        if rise < threshold:
            return None
        return self._alert(rule, tick, f"{tick.exchange}:{tick.base}:{tick.expiry}",
                           f"{tick.base} {tick.expiry} ATM IV up {rise * 100:.1f} vol points to {now:.1%}",
                           rise, threshold, atm_iv=now, low=low)

    def _skew_flip(self, rule: AlertRule, tick: Tick) -> Alert | None:
        state = self._expiry_state(tick)
        if state is None:
            return None
        rr = risk_reversal_25d(state.marks.values())
        if rr is None:
            return None
        min_abs = float(rule.param("min_abs", 0.0))
        sign = 1 if rr > min_abs else (-1 if rr < -min_abs else 0)
        previous = state.skew_sign
        if sign != 0:
            state.skew_sign = sign
        if sign == 0 or previous == 0 or sign == previous:
            return None
        direction = "calls over puts" if sign > 0 else "puts over calls"
        return self._alert(rule, tick, f"{tick.exchange}:{tick.base}:{tick.expiry}",
                           f"{tick.base} {tick.expiry} 25-delta skew flipped to {direction} (RR25 {rr * 100:+.2f} vol"
                           " points)", rr, min_abs, previous_sign=previous)

    def _funding_above(self, rule: AlertRule, tick: Tick) -> Alert | None:
        threshold = float(rule.param("threshold"))
        if tick.funding_rate is None or tick.funding_rate <= threshold:
            return None
        return self._alert(rule, tick, f"{tick.exchange}:{tick.symbol}",
                           f"{tick.symbol} on {tick.exchange}: funding {tick.funding_rate:.4%} above {threshold:.4%}",
                           tick.funding_rate, threshold)

    def _basis_inversion(self, rule: AlertRule, tick: Tick) -> Alert | None:
        mid = tick.mid
        if mid is None or tick.index_price is None:
            return None
        basis = mid / tick.index_price - 1.0
        threshold = float(rule.param("threshold", 0.0))
        if basis >= -threshold:
            return None
        return self._alert(rule, tick, f"{tick.exchange}:{tick.symbol}",
                           f"{tick.symbol} on {tick.exchange} trades {basis:+.3%} below its index (basis inverted)",
                           basis, -threshold, index=tick.index_price, price=mid)
