"""VolSurface: interpolation in time, forwards, delta queries (analytic for flat smiles), fitting a chain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from cryptoderiv.pricing.black76 import price as black76_price
from cryptoderiv.surface.chain import ChainError, LiquidityFilter, OptionChain
from cryptoderiv.surface.fit_quality import fit_quality
from cryptoderiv.surface.svi import SVIParams
from cryptoderiv.surface.vol_surface import (
    SmileSlice,
    SurfaceError,
    SurfaceFitConfig,
    VolSurface,
    fit_surface,
    quote_ivs,
)


def _flat(t: float, vol: float, fwd: float) -> SmileSlice:
    return SmileSlice(t=t, forward=fwd, params=SVIParams(a=vol * vol * t, b=0.0, rho=0.0, m=0.0, sigma=0.1))


def test_total_variance_is_linear_in_time_between_slices_and_flat_vol_outside() -> None:
    s = VolSurface([_flat(0.5, 0.6, 101.0), _flat(0.1, 0.5, 100.0)], spot=99.0)
    assert s.times.tolist() == [0.1, 0.5]                         # sorted
    w1, w2 = 0.25 * 0.1, 0.36 * 0.5
    assert s.total_variance(0.3, 0.2) == pytest.approx(0.5 * (w1 + w2), rel=1e-14)
    assert s.implied_vol_k(0.05, 0.0) == pytest.approx(0.5, rel=1e-14)    # before the first slice
    assert s.implied_vol_k(2.0, -0.3) == pytest.approx(0.6, rel=1e-14)    # after the last
    assert s.atm_vol(np.array([0.1, 0.5])) == pytest.approx([0.5, 0.6], rel=1e-14)


def test_forward_is_log_linear_through_spot_and_slices() -> None:
    s = VolSurface([_flat(0.1, 0.5, 100.0), _flat(0.5, 0.6, 110.0)], spot=90.0)
    assert s.forward(0.0) == pytest.approx(90.0)
    assert s.forward(0.05) == pytest.approx(math.sqrt(90.0 * 100.0), rel=1e-14)
    assert s.forward(0.3) == pytest.approx(math.sqrt(100.0 * 110.0), rel=1e-14)
    assert s.forward(0.9) == pytest.approx(110.0 * (110.0 / 100.0), rel=1e-12)  # carry extended
    # implied_vol by strike uses the interpolated forward
    assert s.implied_vol(0.3, s.forward(0.3)) == pytest.approx(s.implied_vol_k(0.3, 0.0), rel=1e-14)


def test_delta_strike_of_a_flat_smile_is_analytic() -> None:
    vol, t = 0.55, 30 / 365
    s = VolSurface([_flat(t, vol, 90_000.0)], spot=90_000.0)
    sw = vol * math.sqrt(t)
    for delta, kind in ((0.25, "call"), (-0.25, "put"), (0.1, "call"), (-0.4, "put")):
        p = delta if kind == "call" else delta + 1.0
        k_expected = sw * (0.5 * sw - ndtri(p))
        assert s.k_for_delta(t, delta, kind) == pytest.approx(k_expected, abs=1e-12)
        assert s.implied_vol_delta(t, delta, kind) == pytest.approx(vol, rel=1e-12)
    assert math.isnan(float(s.k_for_delta(t, 1.2, "call")))
    assert math.isnan(float(s.k_for_delta(t, 0.25, "put")))


def test_delta_query_on_a_skewed_smile_hits_the_delta() -> None:
    t = 60 / 365
    p = SVIParams(a=0.02, b=0.1, rho=-0.4, m=0.02, sigma=0.15)
    s = VolSurface([SmileSlice(t=t, forward=100.0, params=p)], spot=100.0)
    deltas = np.array([0.1, 0.25, 0.5, 0.75])
    k = s.k_for_delta(t, deltas, "call")
    w = p.total_variance(k)
    d1 = -k / np.sqrt(w) + 0.5 * np.sqrt(w)
    np.testing.assert_allclose(ndtr(d1), deltas, atol=1e-9)
    strikes = s.strike_for_delta(t, deltas, "call")
    np.testing.assert_allclose(strikes, 100.0 * np.exp(k), rtol=1e-12)


def test_surface_validation() -> None:
    with pytest.raises(SurfaceError):
        VolSurface([], spot=1.0)
    with pytest.raises(SurfaceError):
        VolSurface([_flat(0.1, 0.5, 1.0), _flat(0.1, 0.6, 1.0)], spot=1.0)
    with pytest.raises(SurfaceError):
        _flat(0.0, 0.5, 1.0)
    s = VolSurface([_flat(0.1, 0.5, 1.0)], spot=1.0)
    with pytest.raises(SurfaceError):
        s.total_variance(0.0, 0.0)


def _svi_chain(params: dict[float, SVIParams], fwd: float = 90_000.0, half_spread_vol: float = 0.01) -> OptionChain:
    """Chain whose mid IVs lie exactly on given SVI slices, bid/ask +-half_spread_vol around them."""
    rows = []
    for t in params:
        strikes = fwd * np.exp(np.linspace(-0.35, 0.35, 29))
        for is_call in (True, False):
            rows.append((np.full(strikes.size, t), strikes, np.full(strikes.size, is_call)))
    t = np.concatenate([r[0] for r in rows])
    K = np.concatenate([r[1] for r in rows])
    c = np.concatenate([r[2] for r in rows])
    vol = np.array([math.sqrt(params[tt].total_variance(math.log(kk / fwd)) / tt) for tt, kk in zip(t, K, strict=True)])
    kind = np.where(c, "call", "put")
    f = np.full(t.size, fwd)
    bid = black76_price(kind, f, K, t, vol - half_spread_vol)
    ask = black76_price(kind, f, K, t, vol + half_spread_vol)
    mark = black76_price(kind, f, K, t, vol)
    return OptionChain(t=t, strike=K, forward=f, is_call=c, bid=bid, ask=ask, mark=mark, mark_iv=vol,
                       open_interest=np.full(t.size, 10.0), volume=np.ones(t.size), spot=fwd)


def test_fit_surface_recovers_slices_from_a_generated_chain() -> None:
    truth = {14 / 365: SVIParams(a=0.004, b=0.04, rho=0.1, m=0.02, sigma=0.08),
             45 / 365: SVIParams(a=0.015, b=0.08, rho=-0.1, m=0.0, sigma=0.12)}
    chain = _svi_chain(truth)
    ivs = quote_ivs(chain)
    liq = LiquidityFilter().mask(chain)
    s = fit_surface(chain, ivs=ivs)
    assert len(s.slices) == 2
    for sl in s.slices:
        k = np.linspace(-0.3, 0.3, 13)
        np.testing.assert_allclose(sl.params.implied_vol(k, sl.t), truth[sl.t].implied_vol(k, sl.t), atol=2e-4)
    q = fit_quality(chain, s, ivs, liq)
    assert q.inside_share == 1.0 and q.rmse_iv < 2e-4 and q.n == int(liq.sum())
    for cfg in (SurfaceFitConfig(weighting="vega"), SurfaceFitConfig(weighting="equal", target="mark")):
        assert fit_quality(chain, fit_surface(chain, cfg, ivs=ivs), ivs, liq).inside_share == 1.0


def test_configs_are_validated() -> None:
    with pytest.raises(ChainError):
        LiquidityFilter(moneyness=(1.4, 0.6))
    with pytest.raises(SurfaceError):
        SurfaceFitConfig(weighting="bogus")  # type: ignore[arg-type]
    with pytest.raises(SurfaceError):
        SurfaceFitConfig(min_points=3)


def test_fit_surface_without_liquid_quotes_fails() -> None:
    chain = _svi_chain({14 / 365: SVIParams(a=0.004, b=0.04, rho=0.1, m=0.02, sigma=0.08)})
    with pytest.raises(SurfaceError):
        fit_surface(chain, SurfaceFitConfig(liquidity=LiquidityFilter(min_open_interest=100.0)))


def test_chain_validation_and_helpers() -> None:
    chain = _svi_chain({14 / 365: SVIParams(a=0.004, b=0.04, rho=0.1, m=0.02, sigma=0.08)})
    assert chain.expiries.size == 1 and chain.expiry_forwards()[0] == 90_000.0
    otm = chain.is_otm
    assert np.all(chain.strike[otm & chain.is_call] >= 90_000.0)
    assert np.all(chain.strike[otm & ~chain.is_call] < 90_000.0)
    assert len(chain.subset(otm)) == int(otm.sum())
    with pytest.raises(ChainError):
        OptionChain(t=[0.1], strike=[1.0], forward=[1.0, 2.0], is_call=[True], bid=[1.0], ask=[1.0], mark=[1.0],
                    mark_iv=[0.5], open_interest=[1.0], volume=[1.0], spot=1.0)
    with pytest.raises(ChainError):
        OptionChain(t=[0.0], strike=[1.0], forward=[1.0], is_call=[True], bid=[1.0], ask=[1.0], mark=[1.0],
                    mark_iv=[0.5], open_interest=[1.0], volume=[1.0], spot=1.0)
    zero_bid = OptionChain(t=[0.1], strike=[1.0], forward=[1.0], is_call=[True], bid=[0.0], ask=[1.0], mark=[1.0],
                           mark_iv=[0.5], open_interest=[1.0], volume=[1.0], spot=1.0)
    assert np.isnan(zero_bid.bid[0]) and not LiquidityFilter().mask(zero_bid)[0]


def test_from_deribit_snapshot_converts_coin_prices_with_the_forward() -> None:
    import pandas as pd

    frame = pd.DataFrame({
        "option_type": ["call", "put", "call"], "strike": [100_000.0, 80_000.0, 3_000.0],
        "time_to_maturity": [0.1, 0.1, 0.1], "underlying": [90_000.0, 90_000.0, 3_000.0],
        "bid_price": [0.01, 0.0, 0.05], "ask_price": [0.012, 0.001, 0.06], "mark_price": [0.011, 0.0005, 0.055],
        "implied_volatility": [0.5, 0.6, 0.7], "open_interest": [5.0, 1.0, 2.0], "volume": [1.0, np.nan, 0.0],
        "currency": ["BTC", "BTC", "ETH"], "expiry_datetime": ["x"] * 3, "index_price": [89_000.0] * 2 + [2_990.0],
    })
    chain = OptionChain.from_deribit_snapshot(frame, "BTC")
    assert len(chain) == 2 and chain.spot == 89_000.0
    assert chain.ask[0] == pytest.approx(0.012 * 90_000.0)
    assert np.isnan(chain.bid[1]) and chain.volume[1] == 0.0
    with pytest.raises(ChainError):
        OptionChain.from_deribit_snapshot(frame.drop(columns=["strike"]), "BTC")
