"""Full revaluation against the independent QuantLib reference (tests/reference/
generate_risk_revaluation_reference.py), and the smile / greek conventions."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoderiv.portfolio.greeks import portfolio_greeks
from cryptoderiv.portfolio.valuation import revalue
from cryptoderiv.pricing import black76
from tests.unit.portfolio.support import reference, reference_book


def test_full_revaluation_matches_quantlib() -> None:
    ref = reference()
    book = reference_book()
    scen = np.array(ref["scenarios"])
    pnl = revalue(book, scen[:, 0:2], scen[:, 2:4], scen[:, 4] / 365.0) - revalue(book)[0]
    expected = np.array(ref["pnl"])
    np.testing.assert_allclose(pnl, expected, rtol=1e-9, atol=1e-6)


def test_unshocked_svi_smile_keeps_the_mark_and_moves_sticky_moneyness() -> None:
    flat, smile = reference_book(), reference_book(svi=(0.02, 0.05, -0.4, 0.0, 0.2))
    np.testing.assert_allclose(revalue(smile)[0], revalue(flat)[0], rtol=1e-12)
    down = np.array([[0.8, 1.0]])
    differs = revalue(smile, down)[0] - revalue(flat, down)[0]
    opt = np.array([i for i, pid in enumerate(smile.ids) if pid in ("call-inv", "put-lin")])
    assert np.all(np.abs(differs[opt]) > 1.0)  # the smile moved with the forward
    assert np.allclose(np.delete(differs, opt)[:-1], 0.0)  # nothing else changed (ETH not shocked)


def test_linear_option_greeks_match_black76_analytic() -> None:
    book = reference_book()
    g = portfolio_greeks(book).set_index("position_id")
    i = book.ids.index("put-lin")
    f0, k, t, iv, q = book.forward0[i], book.strike[i], book.tau0[i], book.iv0[i], book.q[i]
    s0 = book.spot0[0]
    a = black76.greeks("put", f0, k, t, iv)
    ratio = f0 / s0  # dF/dS at a constant basis
    assert g.loc["put-lin", "delta_coin"] == pytest.approx(q * a["delta"] * ratio, rel=5e-5)  # h = 1e-3 S
    assert g.loc["put-lin", "gamma_coin"] == pytest.approx(q * a["gamma"] * ratio**2, rel=1e-4)
    assert g.loc["put-lin", "vega_usd"] == pytest.approx(q * a["vega"] * 0.01, rel=5e-5)
    assert g.loc["put-lin", "volga_usd"] == pytest.approx(q * a["volga"] * 1e-4, rel=1e-4)
    assert g.loc["put-lin", "vanna_usd"] == pytest.approx(q * a["vanna"] * ratio * s0 * 0.01, rel=1e-4)


def test_inverse_future_is_linear_in_usd_and_totals_add_up() -> None:
    book = reference_book()
    g = portfolio_greeks(book, {"ETH": 1.3}).set_index("position_id")
    i = book.ids.index("fut-inv")
    # USD value S N (1/F0 - 1/F) with F = c S: delta = N / F0 coins, no gamma.
    assert g.loc["fut-inv", "delta_coin"] == pytest.approx(book.q[i] / book.forward0[i], rel=1e-8)
    assert abs(g.loc["fut-inv", "gamma_usd"]) < 1e-6
    assert g.loc["spot", "delta_coin"] == pytest.approx(1.5, rel=1e-10)
    positions = g.drop(index="TOTAL")
    assert g.loc["TOTAL", "delta_usd"] == pytest.approx(positions["delta_usd"].sum())
    assert g.loc["eth-put-inv", "btc_beta_delta_usd"] == pytest.approx(1.3 * g.loc["eth-put-inv", "delta_usd"])
    assert g.loc["call-inv", "theta_usd"] > 0 > g.loc["put-lin", "theta_usd"]  # short option earns decay
