"""Assets: the published tables, defined once. Producers list them as outlets; consumers schedule on them."""

from __future__ import annotations

from airflow.sdk import Asset


def table_asset(table: str, group: str) -> Asset:
    """The Asset of a published table of the platform database."""
    return Asset(name=f"cryptoderiv.{table}", uri=f"cryptoderiv://tables/{table}", group=group)


INSTRUMENTS = table_asset("instruments", "market")
OHLCV = table_asset("ohlcv", "market")
OHLCV_ROLLUPS = table_asset("ohlcv_rollups", "market")
FUNDING_RATES = table_asset("funding_rates", "derivatives")
OPEN_INTEREST = table_asset("open_interest", "derivatives")
FUTURES_QUOTES = table_asset("futures_quotes", "derivatives")
OPTION_QUOTES = table_asset("option_quotes", "options")
OPTION_GREEKS = table_asset("option_greeks", "options")
VOL_SURFACES = table_asset("vol_surfaces", "options")
VOL_SURFACE_METRICS = table_asset("vol_surface_metrics", "options")
MARKET_FEATURES = table_asset("market_features", "features")
HESTON_PARAMS = table_asset("heston_params", "models")
POSITION_GREEKS = table_asset("position_greeks", "risk")
RISK_METRICS = table_asset("risk_metrics", "risk")
VAR_BACKTESTS = table_asset("var_backtests", "risk")
STRESS_RESULTS = table_asset("stress_results", "risk")
EXPECTED_RETURNS = table_asset("expected_returns", "risk")
PAYOFF_CURVES = table_asset("payoff_curves", "risk")
