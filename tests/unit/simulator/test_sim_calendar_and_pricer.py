"""Expiry calendar, instrument naming and the reference option pricer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cryptoderiv.simulator import instruments as ins
from cryptoderiv.simulator.calendar import (
    EPOCH_MS,
    MS_PER_DAY,
    OPTION_HORIZON_DAYS,
    deribit_date_code,
    expiry_kinds,
    last_friday,
    listed_expiries,
    parse_deribit_date_code,
    to_datetime,
    to_ms,
)
from cryptoderiv.simulator.option_pricer import (
    REFERENCE_PRICER,
    black76_price,
    default_pricer,
    reference_heston_price,
    reference_implied_vol,
)


def test_expiry_codes_and_kinds():
    expiry = to_ms(last_friday(2026, 3))
    assert deribit_date_code(expiry) == "27MAR26" and ins.yymmdd(expiry) == "260327"
    assert parse_deribit_date_code("27MAR26") == expiry
    assert parse_deribit_date_code("3JAN26") == to_ms(to_datetime(expiry).replace(year=2026, month=1, day=3))
    assert expiry_kinds(expiry) == ("weekly", "monthly", "quarterly")
    assert expiry_kinds(expiry - 7 * MS_PER_DAY) == ("weekly",)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=2000 * 24))
def test_listed_option_expiries(hours):
    t = EPOCH_MS + hours * 3_600_000
    expiries = listed_expiries(t, OPTION_HORIZON_DAYS)
    assert len(expiries) >= 8
    assert all(e > t and to_datetime(e).weekday() == 4 and to_datetime(e).hour == 8 for e in expiries)
    assert sum("quarterly" in expiry_kinds(e) for e in expiries) >= 3


def test_instrument_symbols_follow_ccxt():
    expiry = to_ms(last_friday(2026, 12))
    assert ins.option("deribit", "BTC", expiry, 100000.0, "call").symbol == "BTC/USD:BTC-261225-100000-C"
    assert ins.option("bybit", "ETH", expiry, 2500.0, "put").id == "ETH-25DEC26-2500-P-USDT"
    assert ins.binance_future("BTC", expiry).symbol == "BTC/USDT:USDT-261225"
    assert ins.deribit_future("ETH", expiry).id == "ETH-25DEC26"


def test_reference_heston_tends_to_black_as_vol_of_vol_vanishes():
    strikes = np.array([70.0, 100.0, 140.0])
    v0, kappa, theta, t = 0.2, 2.0, 0.3, 0.5
    total = theta * t + (v0 - theta) * (1 - np.exp(-kappa * t)) / kappa
    heston = reference_heston_price("call", 100.0, strikes, t, 0.0, 0.0, v0, kappa, theta, 1e-4, 0.0)
    np.testing.assert_allclose(heston, black76_price("call", 100.0, strikes, t, np.sqrt(total / t)), rtol=1e-6)


def test_reference_implied_vol_inverts_black():
    vols = np.array([0.2, 0.6, 1.4])
    prices = black76_price("put", 100.0, np.array([80.0, 100.0, 130.0]), 0.3, vols)
    np.testing.assert_allclose(reference_implied_vol("put", prices, 100.0, [80.0, 100.0, 130.0], 0.3), vols, atol=1e-9)
    assert np.isnan(reference_implied_vol("call", 0.0, 100.0, 120.0, 0.3))


def test_default_pricer_agrees_with_the_reference():
    pricer = default_pricer()
    strikes = np.array([60_000.0, 95_000.0, 150_000.0])
    got = np.asarray(pricer.heston_price("put", 95_000.0, strikes, 0.1, 0.0, 0.0, 0.3, 2.0, 0.3, 0.8, -0.3))
    ref = REFERENCE_PRICER.heston_price("put", 95_000.0, strikes, 0.1, 0.0, 0.0, 0.3, 2.0, 0.3, 0.8, -0.3)
    np.testing.assert_allclose(got, ref, rtol=2e-3, atol=1.0)
    assert pricer.name in ("cryptoderiv.pricing", "simulator-reference", "cryptoderiv.pricing+simulator-reference")


@pytest.mark.parametrize("bad", [{"rho": 1.5}, {"sigma": -1.0}])
def test_heston_params_are_validated(bad):
    from cryptoderiv.simulator import SpotHestonParams

    with pytest.raises(ValueError):
        SpotHestonParams(**{"s0": 1.0, "v0": 0.1, "kappa": 1.0, "theta": 0.1, "sigma": 0.5, "rho": -0.3, **bad})
