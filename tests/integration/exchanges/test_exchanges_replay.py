"""Replay of a real Deribit option-chain snapshot: ccxt fetches it through the simulator and the normalised
frame reproduces the file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoderiv.exchanges import VenueClient, fetch_option_chain
from cryptoderiv.simulator import SimulatorServer

SNAPSHOT = "deribit_svcj_snapshots/daily_0900utc_gz/deribit_options_snapshot_20260302T093957Z.csv.gz"


@pytest.mark.shared_data
def test_replayed_snapshot_round_trips_through_ccxt(shared_market_dir):
    path = shared_market_dir / SNAPSHOT
    if not path.is_file():
        pytest.skip(f"{path.name} not in the shared data")
    raw = pd.read_csv(path)
    with (
        SimulatorServer(seed=7, replay=path) as server,
        VenueClient("deribit", source="simulator", simulator_url=server.url) as vc,
    ):
        chains = {c: fetch_option_chain(vc, c, greeks=False).frame for c in ("BTC", "ETH")}
        with_greeks = fetch_option_chain(vc, "ETH", greeks=True, expiries=1).frame
    frame = pd.concat(chains.values(), ignore_index=True)
    assert len(frame) == len(raw)
    by_id = raw.set_index("instrument_name")
    markets = {row.symbol: row for row in frame.itertuples()}
    ids = {}
    for name, rec in by_id.iterrows():
        base, _code, strike, letter = name.split("-")
        expiry = pd.Timestamp(rec["expiry_datetime"])
        symbol = f"{base}/USD:{base}-{expiry:%y%m%d}-{strike}-{letter}"
        ids[symbol] = name
        row = markets[symbol]
        assert row.premium_currency == rec["currency"]
        assert row.strike == rec["strike"] and row.option_type == rec["option_type"]
        assert row.expiry == expiry
        assert row.ts == pd.Timestamp(rec["timestamp"]).floor("ms")
        for got, want in ((row.bid, rec["bid_price"]), (row.ask, rec["ask_price"])):
            assert (np.isnan(got) and np.isnan(want)) or got == want
        assert row.mark == rec["mark_price"]
        assert row.mark_iv == pytest.approx(rec["implied_volatility"], abs=1e-12)  # percent on the wire, decimal here
        assert row.underlying_price == rec["underlying"]
        assert row.index_price == rec["index_price"]
        assert row.open_interest == rec["open_interest"] and row.volume == rec["volume"]
        assert row.mark_usd == pytest.approx(rec["mark_price"] * rec["underlying"], rel=1e-12)
        # the file counts years of 365.25 days; the frame is ACT/365
        assert row.time_to_expiry == pytest.approx(rec["time_to_maturity"] * 365.25 / 365.0, abs=1e-9)
    assert len(with_greeks) > 10
    for row in with_greeks.itertuples():
        rec = by_id.loc[ids[row.symbol]]
        assert row.delta == rec["delta"] and row.vega == rec["vega"]
        assert np.isfinite(row.gamma) and np.isfinite(row.theta)  # derived with Black-76 from the file's IV
