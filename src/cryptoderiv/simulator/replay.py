"""Replay of a recorded Deribit option-chain snapshot as the simulator's live Deribit chain.

The snapshot format is the one of ``deribit_options_snapshot_<YYYYMMDDTHHMMSSZ>.csv[.gz]`` (one row per option,
collected from Deribit's ``get_book_summary_by_currency`` and ``ticker``): ``timestamp``, ``instrument_name``,
``underlying`` (per-expiry forward, USD), ``underlying_name``, ``option_type``, ``strike``, ``expiry_datetime``,
``time_to_maturity`` (years), ``bid_price``/``ask_price``/``mark_price`` (coin), ``implied_volatility`` (decimal:
mark IV / 100), ``delta``, ``vega``, ``open_interest``, ``volume``, ``currency``, ``index_price``, ``volume_usd``.

While replaying, Deribit answers ``get_instruments``, ``get_book_summary_by_*`` and ``ticker`` for the options of
the file's currencies from the file (mark IV back in percent); futures, perpetuals and spot stay simulated.
Values the file lacks are derived with Black-76 on the file's forward and IV: ``gamma``, ``theta``,
``bid_iv``/``ask_iv``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cryptoderiv.simulator import instruments as ins
from cryptoderiv.simulator.errors import SimulatorError
from cryptoderiv.simulator.instruments import Instrument
from cryptoderiv.simulator.option_pricer import black76_greeks, reference_implied_vol

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = (
    "timestamp",
    "instrument_name",
    "underlying",
    "underlying_name",
    "option_type",
    "strike",
    "expiry_datetime",
    "time_to_maturity",
    "bid_price",
    "ask_price",
    "mark_price",
    "implied_volatility",
    "delta",
    "vega",
    "open_interest",
    "volume",
    "currency",
    "index_price",
)


@dataclass(frozen=True)
class ReplayChain:
    """A recorded Deribit option chain, ready to serve.

    Attributes
    ----------
    path : Path
        The snapshot file.
    frame : pandas.DataFrame
        One row per option with the columns of
        :meth:`cryptoderiv.simulator.market.Market.option_quotes` (venue ``deribit``) plus ``ts`` (snapshot
        time, ms UTC) and ``volume_usd``.
    """

    path: Path
    frame: pd.DataFrame

    @classmethod
    def load(cls, path: Path) -> ReplayChain:
        """Read a snapshot file (``.csv`` or ``.csv.gz``).

        Raises
        ------
        SimulatorError
            If the file is missing or lacks a required column.
        """
        if not path.is_file():
            raise SimulatorError(f"replay file not found: {path}")
        try:
            raw = pd.read_csv(path)
        except (OSError, ValueError) as exc:
            raise SimulatorError(f"cannot read replay file {path}: {exc}") from exc
        missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
        if missing:
            raise SimulatorError(f"replay file {path.name} lacks columns {missing}")
        return cls(path=path, frame=_to_quotes(raw))

    @property
    def currencies(self) -> set[str]:
        """Currencies whose option chain the file holds."""
        return set(self.frame["premium_currency"].unique())

    @property
    def snapshot_ms(self) -> int:
        """Snapshot time, ms UTC."""
        return int(self.frame["ts"].iloc[0])

    def quotes(self, currency: str) -> pd.DataFrame:
        """The options of ``currency``."""
        return self.frame[self.frame["premium_currency"] == currency]

    def has_instrument(self, name: str) -> bool:
        """True if the file holds option ``name``."""
        return name in self._by_id

    def instrument(self, name: str) -> Instrument:
        """The replayed option ``name``."""
        row = self._by_id[name]
        return _option(row["premium_currency"], int(row["expiry_ms"]), float(row["strike"]), row["option_type"], name)

    def instruments(self, currency: str) -> list[Instrument]:
        """Every replayed option of ``currency``."""
        return [self.instrument(name) for name in self.quotes(currency)["id"]]

    @property
    def _by_id(self) -> dict[str, pd.Series]:
        cache = self.__dict__.get("_index")
        if cache is None:
            cache = {row["id"]: row for _, row in self.frame.iterrows()}
            object.__setattr__(self, "_index", cache)
        return cache


def _option(currency: str, expiry_ms: int, strike: float, option_type: str, name: str) -> Instrument:
    inst = ins.option("deribit", currency, expiry_ms, strike, option_type)
    if inst.id != name:
        inst = Instrument(**{**inst.__dict__, "id": name})
    return Instrument(**{**inst.__dict__, "listed_ms": min(inst.listed_ms, expiry_ms - 86_400_000)})


def _to_quotes(raw: pd.DataFrame) -> pd.DataFrame:
    ts = pd.to_datetime(raw["timestamp"], utc=True, format="ISO8601")
    expiry = pd.to_datetime(raw["expiry_datetime"], utc=True, format="ISO8601")
    fwd = raw["underlying"].to_numpy(dtype=np.float64)
    strike = raw["strike"].to_numpy(dtype=np.float64)
    tau = raw["time_to_maturity"].to_numpy(dtype=np.float64)
    iv = raw["implied_volatility"].to_numpy(dtype=np.float64)
    kinds = raw["option_type"].str.lower().to_numpy()
    out = pd.DataFrame(
        {
            "id": raw["instrument_name"],
            "expiry_ms": expiry.dt.as_unit("ms").astype("int64").to_numpy(),
            "strike": strike,
            "option_type": kinds,
            "tau": tau,
            "forward": fwd,
            "index_price": raw["index_price"].to_numpy(dtype=np.float64),
            "iv": iv,
            "mark": raw["mark_price"].to_numpy(dtype=np.float64),
            "bid": raw["bid_price"].to_numpy(dtype=np.float64),
            "ask": raw["ask_price"].to_numpy(dtype=np.float64),
            "delta": raw["delta"].to_numpy(dtype=np.float64),
            "vega": raw["vega"].to_numpy(dtype=np.float64),
            "open_interest": raw["open_interest"].to_numpy(dtype=np.float64),
            "volume_24h": raw["volume"].to_numpy(dtype=np.float64),
            "volume_usd": raw["volume_usd"].to_numpy(dtype=np.float64) if "volume_usd" in raw else np.nan,
            "underlying_index": raw["underlying_name"],
            "premium_currency": raw["currency"],
            "ts": ts.dt.as_unit("ms").astype("int64").to_numpy(),
        }
    )
    gamma = np.full(len(out), np.nan)
    theta = np.full(len(out), np.nan)
    bid_iv = np.full(len(out), np.nan)
    ask_iv = np.full(len(out), np.nan)
    for kind in ("call", "put"):
        m = kinds == kind
        g = black76_greeks(kind, fwd[m], strike[m], tau[m], iv[m])
        gamma[m], theta[m] = g.gamma, g.theta
        bid_iv[m] = reference_implied_vol(kind, out["bid"].to_numpy()[m] * fwd[m], fwd[m], strike[m], tau[m])
        ask_iv[m] = reference_implied_vol(kind, out["ask"].to_numpy()[m] * fwd[m], fwd[m], strike[m], tau[m])
    out["gamma"], out["theta"], out["bid_iv"], out["ask_iv"] = gamma, theta, bid_iv, ask_iv
    out["bid_size"] = 0.0
    out["ask_size"] = 0.0
    out["symbol"] = [
        _option(c, int(e), float(k), t, n).symbol
        for c, e, k, t, n in zip(
            out["premium_currency"], out["expiry_ms"], out["strike"], out["option_type"], out["id"], strict=True
        )
    ]
    logger.info(
        "replaying %d options (%s) from snapshot %s",
        len(out),
        ", ".join(sorted(set(out["premium_currency"]))),
        ts.iloc[0].isoformat(),
    )
    return out.sort_values(["premium_currency", "expiry_ms", "strike", "option_type"], ignore_index=True)
