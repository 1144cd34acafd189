"""Exchange access through CCXT: client factory, retries, pagination, normalisation into the schemas.

Library functions (each returns a :class:`FetchResult`: normalised frame, raw answers, gaps, stats):
:func:`fetch_ohlcv`, :func:`fetch_funding_history`, :func:`fetch_open_interest`, :func:`fetch_option_chain`,
:func:`fetch_futures_quotes`, :func:`fetch_trades`, :func:`fetch_instruments`.
"""

from cryptoderiv.exchanges.client import VENUES, make_client, rewrite_url
from cryptoderiv.exchanges.errors import ExchangeAccessError, MalformedResponse, UnsupportedRequestError
from cryptoderiv.exchanges.fetch import (
    FetchResult,
    RawResponse,
    VenueClient,
    fetch_funding_history,
    fetch_futures_quotes,
    fetch_instruments,
    fetch_ohlcv,
    fetch_open_interest,
    fetch_option_chain,
    fetch_trades,
)
from cryptoderiv.exchanges.pagination import Gap
from cryptoderiv.exchanges.retry import CallStats, RetryPolicy

__all__ = [
    "VENUES",
    "CallStats",
    "ExchangeAccessError",
    "FetchResult",
    "Gap",
    "MalformedResponse",
    "RawResponse",
    "RetryPolicy",
    "UnsupportedRequestError",
    "VenueClient",
    "fetch_funding_history",
    "fetch_futures_quotes",
    "fetch_instruments",
    "fetch_ohlcv",
    "fetch_open_interest",
    "fetch_option_chain",
    "fetch_trades",
    "make_client",
    "rewrite_url",
]
