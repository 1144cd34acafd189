"""Static-arbitrage flags on hand-built quotes (answers follow from the definitions) and on fits."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoderiv.surface.arbitrage import (
    call_equivalent_quotes,
    quote_calendar_violations,
    quote_strike_violations,
    surface_butterfly_violations,
    surface_calendar_violations,
)
from cryptoderiv.surface.chain import OptionChain
from cryptoderiv.surface.svi import SVIFit, SVIParams
from cryptoderiv.surface.vol_surface import SmileSlice, VolSurface


def _calls(t: float, strikes: list[float], prices: list[float], fwd: float = 100.0, iv: float = 0.5,
           spread: float = 0.0) -> dict[str, np.ndarray]:
    n = len(strikes)
    p = np.array(prices)
    return dict(t=np.full(n, t), strike=np.array(strikes), forward=np.full(n, fwd), is_call=np.ones(n, bool),
                bid=p - spread, ask=p + spread, mark=p, mark_iv=np.full(n, iv), open_interest=np.ones(n),
                volume=np.zeros(n))


def _chain(*parts: dict[str, np.ndarray]) -> OptionChain:
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    return OptionChain(**cols, spot=100.0)


def test_convex_decreasing_calls_have_no_flags() -> None:
    chain = _chain(_calls(0.1, [100, 110, 120, 130], [10.0, 5.0, 2.0, 0.5]))
    assert quote_strike_violations(chain).empty
    assert quote_strike_violations(chain, "mid").empty


def test_non_convex_middle_strike_is_a_butterfly_violation_of_known_size() -> None:
    # C(110) = 7 > (10 + 2) / 2 = 6: the 100/110/120 butterfly is worth -1
    chain = _chain(_calls(0.1, [100, 110, 120], [10.0, 7.0, 2.0]))
    v = quote_strike_violations(chain)
    assert v["check"].tolist() == ["butterfly"]
    assert v["strike"].iloc[0] == 110 and v["size"].iloc[0] == pytest.approx(1.0)


def test_unequal_spacing_uses_strike_weights() -> None:
    # K = 100, 110, 130: weights 2/3 and 1/3 -> fly = 2/3 * 10 - C2 + 1/3 * 1 = 7 - C2
    ok = _chain(_calls(0.1, [100, 110, 130], [10.0, 6.9, 1.0]))
    bad = _chain(_calls(0.1, [100, 110, 130], [10.0, 7.2, 1.0]))
    assert quote_strike_violations(ok).empty
    assert quote_strike_violations(bad)["size"].iloc[0] == pytest.approx(0.2)


def test_vertical_spread_violations() -> None:
    rising = _chain(_calls(0.1, [100, 110], [5.0, 6.0]))            # C decreasing in K violated by 1
    v = quote_strike_violations(rising)
    assert v["check"].tolist() == ["vertical_monotone"] and v["size"].iloc[0] == pytest.approx(1.0)
    steep = _chain(_calls(0.1, [100, 110], [25.0, 12.0]))            # C1 - C2 = 13 > K2 - K1 = 10
    v = quote_strike_violations(steep)
    assert v["check"].tolist() == ["vertical_slope"] and v["size"].iloc[0] == pytest.approx(3.0)


def test_tradable_mode_needs_the_bid_ask_to_be_crossed() -> None:
    # mids violate convexity by 1, but buying the wings at the ask and selling the body at the bid costs
    # 0.5 * 10.5 + 0.5 * 2.5 - 6.5 = 0: no executable arbitrage; with spread 0.4 it is executable
    wide = _chain(_calls(0.1, [100, 110, 120], [10.0, 7.0, 2.0], spread=0.5))
    assert len(quote_strike_violations(wide, "mid")) == 1
    assert quote_strike_violations(wide, "tradable").empty
    tight = _chain(_calls(0.1, [100, 110, 120], [10.0, 7.0, 2.0], spread=0.4))
    assert quote_strike_violations(tight, "tradable")["size"].iloc[0] == pytest.approx(1.0 - 0.8)


def test_puts_enter_through_parity() -> None:
    parts = _calls(0.1, [90, 110], [0.0, 0.0])
    parts["is_call"] = np.array([False, True])
    parts["mark"] = np.array([2.0, 3.0])
    chain = _chain(parts)
    q = call_equivalent_quotes(chain)
    assert q["mark"].tolist() == pytest.approx([2.0 + 100 - 90, 3.0])


def test_calendar_violation_in_total_variance() -> None:
    # same moneyness grid; the later expiry has lower total variance at k = 0.0953 (K = 110)
    near = _calls(0.1, [100, 110, 120], [5.0, 2.0, 1.0], iv=0.5)
    far = _calls(0.2, [100, 110, 120], [7.0, 4.0, 2.0], iv=0.5)
    far["mark_iv"] = np.array([0.5, 0.3, 0.5])  # w = 0.018 < 0.025 at K = 110
    v = quote_calendar_violations(_chain(near, far))
    assert v["strike"].tolist() == [110.0]
    assert v["size"].iloc[0] == pytest.approx(0.25 * 0.1 - 0.09 * 0.2)
    assert quote_calendar_violations(_chain(near, _calls(0.2, [100, 110, 120], [7.0, 4.0, 2.0]))).empty


def _slice(t: float, p: SVIParams, k_range: tuple[float, float] = (-0.5, 0.5)) -> SmileSlice:
    fit = SVIFit(params=p, rmse_total_variance=0.0, n_points=10, min_g=0.0, k_min=k_range[0], k_max=k_range[1])
    return SmileSlice(t=t, forward=100.0, params=p, fit=fit)


def test_fit_level_flags() -> None:
    vogt = SVIParams(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153)  # G&J 2014 Example 3.1
    good = SVIParams(a=0.01, b=0.1, rho=-0.3, m=0.05, sigma=0.1)
    s = VolSurface([_slice(1.0, vogt, (-1.0, 1.0)), _slice(0.5, good)], spot=100.0)
    b = surface_butterfly_violations(s)
    assert set(b["t"]) == {1.0} and (b["size"] > 0).all()
    low = SVIParams(a=0.005, b=0.1, rho=-0.3, m=0.05, sigma=0.1)     # below `good` everywhere
    crossing = VolSurface([_slice(0.5, good), _slice(0.6, low)], spot=100.0)
    c = surface_calendar_violations(crossing)
    assert len(c) == 201 and c["size"].to_numpy() == pytest.approx(0.005)
    assert surface_calendar_violations(VolSurface([_slice(0.5, low), _slice(0.6, good)], spot=100.0)).empty
