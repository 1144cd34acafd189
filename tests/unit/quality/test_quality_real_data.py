"""The tuned suites on clean real data: two Deribit chain snapshots, a gap-free stretch of Binance candles
and a Binance funding year pass every rule; the unit traps of the files are caught when left in."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cryptoderiv.quality import frames
from cryptoderiv.quality import reference_data as rd
from cryptoderiv.quality.validation import SuiteRun, validate_frame

pytestmark = pytest.mark.shared_data

SNAPSHOTS = ("deribit_options_snapshot_20260302T093957Z.csv.gz", "deribit_options_snapshot_20260601T084252Z.csv.gz")


def _run(table: str, frame: pd.DataFrame, window: tuple[pd.Timestamp, pd.Timestamp]) -> SuiteRun:
    return validate_frame(table, frames.prepare_offline(table, frame), window)


@pytest.fixture(scope="module")
def options(shared_market_dir: Path) -> pd.DataFrame:
    folder = shared_market_dir / "deribit_svcj_snapshots" / "daily_0900utc_gz"
    return rd.read_deribit_snapshots([folder / name for name in SNAPSHOTS])


def _window(frame: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    return frame["ts"].min().floor("D"), frame["ts"].max().floor("D") + pd.Timedelta(days=1)


def test_tuned_option_rules_pass_on_two_real_deribit_days(options: pd.DataFrame) -> None:
    assert len(options) > 3_000 and set(options["base"]) == {"BTC", "ETH"}
    run = _run("option_quotes", options, _window(options))
    assert run.success, [(o.name, o.unexpected_count) for o in run.failures]
    # the derivative rules really ran on these rows (pairs, slices), not vacuously
    assert run.outcome("option_quotes.put_call_parity_marks").element_count == len(options)


def test_deribit_futures_marks_pass_against_the_same_snapshots(options: pd.DataFrame,
                                                                shared_market_dir: Path) -> None:
    futures = rd.read_deribit_futures(options=options)
    assert len(futures) >= 10
    run = _run("futures_quotes", futures, _window(options))
    assert run.success, [(o.name, o.unexpected_count) for o in run.failures]


def test_the_files_act_365_25_time_to_maturity_is_caught_when_not_converted(options: pd.DataFrame) -> None:
    raw = options.assign(time_to_expiry=options["time_to_expiry"] * 365.0 / rd.FILE_YEAR_DAYS)
    run = _run("option_quotes", raw, _window(options))
    assert not run.outcome("option_quotes.time_to_expiry_consistent").success


def test_gap_free_binance_candles_pass_and_the_forming_bar_is_caught(shared_market_dir: Path) -> None:
    candles = rd.read_binance_candles(shared_market_dir / "binance_ohlcv_btc_eth" / "BTCUSDT_4h.csv")
    stretch = candles[(candles["ts"] >= "2024-01-01") & (candles["ts"] < "2024-07-01")].reset_index(drop=True)
    window = (pd.Timestamp("2024-01-01T00:00Z"), pd.Timestamp("2024-07-01T00:00Z"))
    run = _run("ohlcv", stretch, window)
    assert run.success, [(o.name, o.unexpected_count) for o in run.failures]
    # the whole file, loaded up to its last bar's open time: only that (forming) bar fails, and the
    # exchange outages are recorded as gaps
    whole = _run("ohlcv", candles, (candles["ts"].min(), candles["ts"].max()))
    assert whole.outcome("ohlcv.bars_within_window").failed_rows.tolist() == [len(candles) - 1]
    gaps = whole.outcome("ohlcv.bar_grid_complete")
    assert not gaps.success and gaps.observed_value["gaps"][0]["first_missing"].startswith("2018-02-08")


def test_binance_funding_passes_once_shifted_from_utc_plus_3(shared_market_dir: Path) -> None:
    path = next((shared_market_dir / "perp_funding_basis_dvol" / "funding_multiexchange_supervik_MIT" / "BTC-USDT")
                .glob("BTC-USDT_binance_*.csv"))
    window = (pd.Timestamp("2022-01-01T00:00Z"), pd.Timestamp("2023-01-01T00:00Z"))
    funding = rd.read_funding_history(path, "binance", "BTC/USDT:USDT")
    year = funding[(funding["ts"] >= window[0]) & (funding["ts"] < window[1])].reset_index(drop=True)
    run = _run("funding_rates", year, window)
    assert run.success, [(o.name, o.unexpected_count) for o in run.failures]
    published = rd.read_funding_history(path, "binance", "BTC/USDT:USDT", utc_offset_hours=0)
    shifted = published[(published["ts"] >= window[0]) & (published["ts"] < window[1])].reset_index(drop=True)
    assert not _run("funding_rates", shifted, window).outcome("funding_rates.ts_on_interval").success
