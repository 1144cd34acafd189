"""Errors of the exchange-access layer."""

from __future__ import annotations

import ccxt

from cryptoderiv.errors import CryptoderivError


class ExchangeAccessError(CryptoderivError):
    """An exchange could not be reached or answered wrongly after every retry; or the request is invalid."""


class UnsupportedRequestError(ExchangeAccessError):
    """The venue does not offer what was asked (e.g. historical trades on Bybit, options on Binance)."""


class MalformedResponse(ccxt.BadResponse):
    """A 2xx answer whose body is not JSON or lacks fields the parsers need.

    Raised from inside ccxt (by the response check of :mod:`cryptoderiv.exchanges.client`) so that such an
    answer is retried like a network failure and never returned.
    """
