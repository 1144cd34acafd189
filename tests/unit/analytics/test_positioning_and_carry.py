"""Positioning (PCR, OI by strike, max pain, dealer GEX and flip) and carry (funding, basis) known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cryptoderiv.analytics.carry import (
    constant_maturity_basis,
    funding_apr,
    funding_apy,
    funding_periods_per_year,
    futures_basis,
    realized_funding_apr,
)
from cryptoderiv.analytics.positioning import (
    dealer_gamma_exposure,
    holder_payout,
    max_pain,
    open_interest_by_strike,
    put_call_ratio,
)
from cryptoderiv.surface.chain import OptionChain


def _chain(strikes: list[float], calls: list[bool], oi: list[float], vol: list[float] | None = None,
           t: float = 0.1, spot: float = 100.0, iv: float = 0.5) -> OptionChain:
    n = len(strikes)
    return OptionChain(t=np.full(n, t), strike=np.array(strikes), forward=np.full(n, spot),
                       is_call=np.array(calls), bid=np.ones(n), ask=np.ones(n), mark=np.ones(n),
                       mark_iv=np.full(n, iv), open_interest=np.array(oi),
                       volume=np.array(vol if vol is not None else [1.0] * n), spot=spot)


def test_max_pain_on_a_hand_built_chain() -> None:
    # calls: 10 @ 90, 30 @ 110; puts: 20 @ 100, 10 @ 110
    K = [90.0, 110.0, 100.0, 110.0]
    c = [True, True, False, False]
    oi = [10.0, 30.0, 20.0, 10.0]
    pay = holder_payout([90.0, 100.0, 110.0], K, c, oi)
    # S = 90: puts 20*10 + 10*20 = 400; S = 100: calls 10*10 = 100, puts 10*10 = 100 -> 200; S = 110: calls 200
    assert pay.tolist() == pytest.approx([400.0, 200.0, 200.0])
    assert max_pain(K, c, oi) == 100.0                      # tie -> lowest strike
    assert max_pain(K, c, oi, candidates=np.linspace(90, 110, 201)) == pytest.approx(100.0)
    # the payout is piecewise linear with kinks at strikes, so its minimum over S is at a strike
    fine = holder_payout(np.linspace(80, 120, 401), K, c, oi)
    assert fine.min() == pytest.approx(200.0)


def test_put_call_ratios_and_oi_by_strike() -> None:
    chain = _chain([90.0, 110.0, 100.0, 110.0], [True, True, False, False], [10.0, 30.0, 20.0, 10.0],
                   vol=[1.0, 3.0, 2.0, 6.0])
    pcr = put_call_ratio(chain)
    assert pcr.open_interest == pytest.approx(30.0 / 40.0) and pcr.volume == pytest.approx(8.0 / 4.0)
    tbl = open_interest_by_strike(chain)
    assert tbl.index.tolist() == [90.0, 100.0, 110.0]
    assert tbl["call_oi"].tolist() == [10.0, 0.0, 30.0] and tbl["put_oi"].tolist() == [0.0, 20.0, 10.0]
    assert math.isnan(put_call_ratio(_chain([100.0], [False], [1.0])).open_interest)


def test_gex_sign_convention_and_flip_between_put_and_call_walls() -> None:
    # dealers long calls (+), short puts (-): a put wall at 80 and a call wall at 120 -> GEX negative near 80,
    # positive near 125; equal gammas where d1(80) = -d1(125), i.e. at S = sqrt(80 * 125) exp(-sigma^2 t / 2)
    chain = _chain([80.0, 125.0], [False, True], [100.0, 100.0], t=30 / 365, spot=100.0, iv=0.4)
    prof = dealer_gamma_exposure(chain, spot_grid=np.linspace(60, 160, 1001))
    assert prof.gex[np.argmin(np.abs(prof.spot_grid - 80))] < 0
    assert prof.gex[np.argmin(np.abs(prof.spot_grid - 125))] > 0
    sw = 0.4 * math.sqrt(30 / 365)
    assert prof.flip == pytest.approx(100.0 * math.exp(-0.5 * sw * sw), abs=2e-3)
    # GEX at spot, by hand: sum sign * OI * Gamma * F^2 / 100 with Black gamma n(d1) / (F sigma sqrt t)

    def gamma(k: float) -> float:
        d1 = math.log(100.0 / k) / sw + 0.5 * sw
        return math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) / (100.0 * sw)

    expected = (100 * gamma(125.0) - 100 * gamma(80.0)) * 100.0**2 / 100
    assert prof.gex_at_spot == pytest.approx(expected, rel=1e-3)
    # all-short dealers: everything negative, no flip
    short = dealer_gamma_exposure(chain, spot_grid=np.linspace(60, 160, 101), call_sign=-1.0, put_sign=-1.0)
    assert np.all(short.gex <= 0) and math.isnan(short.flip)


def test_funding_annualisation_arithmetic() -> None:
    assert funding_periods_per_year(8) == 1095.0
    assert funding_apr(0.0001) == pytest.approx(0.1095)                  # 1 bp per 8 h = 10.95 % APR
    assert funding_apr(0.0001, interval_hours=1) == pytest.approx(0.876)  # dYdX hourly
    assert funding_apy(0.0001) == pytest.approx(1.0001**1095 - 1, rel=1e-12)
    assert realized_funding_apr([0.0001, 0.0003, np.nan]) == pytest.approx(0.0002 * 1095)
    with pytest.raises(ValueError):
        funding_periods_per_year(0)


def test_futures_basis_arithmetic() -> None:
    b = futures_basis(101.0, 100.0, 30 / 365)
    assert float(b.absolute) == pytest.approx(1.0)
    assert float(b.relative) == pytest.approx(0.01)
    assert float(b.apr) == pytest.approx(0.01 * 365 / 30)               # 12.17 %
    assert float(b.log_rate) == pytest.approx(math.log(1.01) * 365 / 30)
    with pytest.raises(ValueError):
        futures_basis(101.0, 100.0, 0.0)


def test_constant_maturity_basis_interpolates_log_basis() -> None:
    spot = 100.0
    t = np.array([30, 90]) / 365
    fut = spot * np.exp(np.array([0.08, 0.10]) * t)      # 8 % and 10 % continuous carry
    lr = constant_maturity_basis(t, fut, spot, [30, 60, 90, 180], quote="log_rate")
    total60 = 0.5 * (0.08 * 30 / 365 + 0.10 * 90 / 365)
    assert lr == pytest.approx([0.08, total60 / (60 / 365), 0.10, 0.10], rel=1e-12)
    apr = constant_maturity_basis(t, fut, spot, [30])
    assert apr[0] == pytest.approx((math.exp(0.08 * 30 / 365) - 1) / (30 / 365), rel=1e-12)
    # before the first expiry the carry rate of the first future is held (log basis through (0, 0))
    assert constant_maturity_basis(t, fut, spot, [7], quote="log_rate")[0] == pytest.approx(0.08)


def test_funding_apr_broadcasts_over_per_row_intervals() -> None:
    apr = funding_apr([0.0001, 0.0001, np.nan], interval_hours=[8.0, 1.0, np.nan])
    np.testing.assert_allclose(apr[:2], [0.1095, 0.876])
    assert np.isnan(apr[2])
    with pytest.raises(ValueError):
        funding_apr([0.0001, 0.0001], interval_hours=[8.0, 0.0])
