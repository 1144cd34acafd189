"""Quote selection, snapshot grouping and the snapshot fit, on chains quoted by the exchange simulator's
market model (a known Heston model with tick-rounded bid/ask; no server, no database)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.calibration import CalibrationConfig, ChainSnapshot, fit_snapshot, group_snapshots, select_quotes
from cryptoderiv.calibration.fit import smile_curve
from cryptoderiv.calibration.runner import window_from_event_extras
from cryptoderiv.errors import ConfigurationError, ContractViolation
from cryptoderiv.pricing.heston import HestonParams
from cryptoderiv.simulator import Market

DAY_MS = 86_400_000
T_MS = (int(time.time() * 1000) // DAY_MS - 2) * DAY_MS + 12 * 3_600_000


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=3)


def simulator_snapshot(market: Market, venue: str, asset: str, t_ms: int) -> ChainSnapshot:
    """The venue's quotes at ``t_ms`` in the shape ``option_quotes`` JOIN ``instruments`` gives."""
    q = market.option_quotes(venue, asset, t_ms)
    unit = q["forward"].to_numpy() if venue == "deribit" else 1.0
    frame = pd.DataFrame({
        "symbol": q["symbol"], "expiry": pd.to_datetime(q["expiry_ms"], unit="ms", utc=True),
        "strike": q["strike"], "option_type": q["option_type"], "ts": pd.Timestamp(t_ms, unit="ms", tz="UTC"),
        "premium_currency": q["premium_currency"], "bid_usd": q["bid"] * unit, "ask_usd": q["ask"] * unit,
        "mark_usd": q["mark"] * unit, "underlying_price": q["forward"], "index_price": q["index_price"],
        "open_interest": q["open_interest"],
    })
    return ChainSnapshot(venue, asset, pd.Timestamp(t_ms, unit="ms", tz="UTC"), frame)


def test_grouping_splits_on_gaps_and_keeps_first_and_last_times() -> None:
    base = pd.Timestamp("2026-11-20T10:00:00Z")
    times = [base + pd.Timedelta(seconds=s) for s in (40, 0, 1, 40, 900, 901, 960, 2000)]
    groups = group_snapshots(times, gap_seconds=300)
    assert groups == [(base, base + pd.Timedelta(seconds=40)),
                      (base + pd.Timedelta(seconds=900), base + pd.Timedelta(seconds=960)),
                      (base + pd.Timedelta(seconds=2000), base + pd.Timedelta(seconds=2000))]
    assert group_snapshots([], 300) == []


def test_selection_rules_are_applied(market: Market) -> None:
    snap = simulator_snapshot(market, "deribit", "BTC", T_MS)
    config = CalibrationConfig()
    sel = select_quotes(snap, config)
    q = snap.quotes[sel.mask]
    t = snap.time_to_expiry()[sel.mask]
    fwd = snap.expiry_forward()[sel.mask]
    mid = 0.5 * (q["bid_usd"] + q["ask_usd"])
    assert sel.n_selected >= config.min_quotes
    assert sel.n_selected + sel.n_illiquid + sel.n_thin_expiry == len(snap.quotes)
    assert (t >= 2 / 365).all() and ((q["ask_usd"] - q["bid_usd"]) / mid <= 0.5).all()
    assert ((q["strike"] / fwd).between(0.6, 1.4)).all() and (q["open_interest"] >= 1).all()
    otm = np.where(q["option_type"] == "call", q["strike"] >= fwd, q["strike"] < fwd)
    assert otm.all()
    assert q.groupby("expiry").size().min() >= config.min_quotes_per_expiry
    stricter = select_quotes(snap, CalibrationConfig.from_mapping({"liquidity": {"max_relative_spread": 0.05}}))
    assert stricter.n_selected < sel.n_selected


@pytest.mark.parametrize(("venue", "asset"), [("deribit", "BTC"), ("bybit", "ETH")])
def test_fit_recovers_the_simulator_model(market: Market, venue: str, asset: str) -> None:
    snap = simulator_snapshot(market, venue, asset, T_MS)
    fit = fit_snapshot(snap)
    truth = market.params.heston[asset]
    assert fit.status == "converged", fit.message
    p = fit.params
    assert p is not None
    assert abs(p.v0 / market.variance(asset, T_MS) - 1) < 0.05
    assert abs(p.theta / truth.theta - 1) < 0.05 and abs(p.sigma / truth.sigma - 1) < 0.10
    assert abs(p.kappa / truth.kappa - 1) < 0.15 and abs(p.rho - truth.rho) < 0.05
    m = fit.metrics
    assert m["rmse_iv"] < 0.005 and m["within_spread"] > 0.9
    # premium errors: coin for the inverse venue (USD / forward), USD otherwise
    if snap.is_inverse:
        assert m["rmse_premium"] < m["rmse_premium_usd"] / 1000
    else:
        assert m["rmse_premium"] == pytest.approx(m["rmse_premium_usd"])
    assert set(fit.quotes["expiry"]) == set(snap.quotes["expiry"][fit.selection.mask])


def test_fitting_the_exact_marks_recovers_the_model_to_high_precision(market: Market) -> None:
    snap = simulator_snapshot(market, "deribit", "ETH", T_MS)
    fit = fit_snapshot(snap, CalibrationConfig(price_source="mark"))
    truth = market.params.heston["ETH"]
    assert fit.params is not None
    np.testing.assert_allclose(fit.params.to_array(),
                               [market.variance("ETH", T_MS), truth.kappa, truth.theta, truth.sigma, truth.rho],
                               rtol=2e-3, atol=1e-3)


def test_warm_start_is_used_and_speeds_up_the_next_snapshot(market: Market) -> None:
    first = fit_snapshot(simulator_snapshot(market, "deribit", "BTC", T_MS))
    later = simulator_snapshot(market, "deribit", "BTC", T_MS + 900_000)
    warm = fit_snapshot(later, warm_start=first.params)
    cold = fit_snapshot(later)
    assert warm.initial_source == "warm_start" and cold.initial_source == "data"
    assert warm.status == cold.status == "converged"
    assert warm.metrics["iterations"] < cold.metrics["iterations"]
    assert warm.metrics["rmse_iv"] == pytest.approx(cold.metrics["rmse_iv"], abs=1e-4)


def test_bad_warm_start_falls_back_to_the_data_guess(market: Market) -> None:
    snap = simulator_snapshot(market, "deribit", "BTC", T_MS)
    absurd = HestonParams(v0=5.0, kappa=0.01, theta=5.0, sigma=9.0, rho=0.95)
    fit = fit_snapshot(snap, CalibrationConfig(max_iterations=3), warm_start=absurd)
    assert fit.initial_source in {"warm_start", "data"}
    # three iterations are not enough from either start: not converged -> failed, never "converged"
    assert fit.status == "failed" and "not converged" in fit.message


def test_acceptance_rules(market: Market) -> None:
    snap = simulator_snapshot(market, "bybit", "BTC", T_MS)
    rejected = fit_snapshot(snap, CalibrationConfig(max_rmse_iv=1e-7))
    assert rejected.status == "rejected" and "RMSE in IV" in rejected.message
    spread = fit_snapshot(snap, CalibrationConfig(min_within_spread=1.0, max_rmse_iv=1.0))
    assert spread.status in {"rejected", "converged"}
    if spread.metrics["within_spread"] < 1.0:
        assert spread.status == "rejected" and "inside the spread" in spread.message
    too_few = fit_snapshot(snap, CalibrationConfig(min_quotes=5000))
    assert too_few.status == "failed" and too_few.params is None and too_few.quotes.empty


def test_smile_curve_matches_the_fitted_quotes(market: Market) -> None:
    snap = simulator_snapshot(market, "deribit", "BTC", T_MS)
    fit = fit_snapshot(snap)
    assert fit.params is not None
    one = fit.quotes[fit.quotes["expiry"] == fit.quotes["expiry"].iloc[-1]]
    k = np.log(one["strike"].to_numpy() / one["forward"].to_numpy())
    curve = smile_curve(fit.params, float(one["forward"].iloc[0]), float(one["t"].iloc[0]), k)
    np.testing.assert_allclose(curve, one["model_iv"].to_numpy(), atol=1e-8)


def test_config_and_window_validation() -> None:
    with pytest.raises(ConfigurationError, match="unknown"):
        CalibrationConfig.from_mapping({"max_rsme_iv": 0.1})
    with pytest.raises(ConfigurationError, match="objective"):
        CalibrationConfig(objective="least_squares")
    cfg = CalibrationConfig.from_mapping({"liquidity": {"moneyness": [0.7, 1.3]}, "exchanges": ["deribit"]})
    assert cfg.liquidity.moneyness == (0.7, 1.3) and cfg.as_dict()["liquidity"]["moneyness"] == [0.7, 1.3]
    assert window_from_event_extras([None, {}, {"rows": 3}]) is None
    got = window_from_event_extras([{"window_start": "2026-11-20T10:00:00+00:00", "window_end": "2026-11-20T11:00:00Z"},
                                    {"window_start": "2026-11-20T09:00:00Z", "window_end": "2026-11-20T09:30:00Z"}])
    assert got == (pd.Timestamp("2026-11-20T09:00:00Z"), pd.Timestamp("2026-11-20T11:00:00Z"))
    with pytest.raises(ConfigurationError, match="timezone"):
        window_from_event_extras([{"window_start": "2026-11-20T10:00:00", "window_end": "2026-11-20T11:00:00"}])


def test_snapshot_contract() -> None:
    with pytest.raises(ContractViolation, match="lack columns"):
        ChainSnapshot("deribit", "BTC", pd.Timestamp("2026-11-20T10:00:00Z"), pd.DataFrame({"strike": [1.0]}))
