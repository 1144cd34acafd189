"""What the sidecar subscribes to and how it batches: the YAML file ``streaming/subscriptions.yaml``.

Example::

    venues:
      binance:
        tickers: [BTC/USDT, BTC/USDT:USDT]
        trades: [BTC/USDT:USDT]
        book: [BTC/USDT:USDT]            # best bid/ask channel (Binance bookTicker)
      deribit:
        tickers: [BTC/USD:BTC]
        trades: [BTC/USD:BTC]
        futures: {BTC: 2}                # the 2 nearest dated futures: ticker channel
        options:                         # option ticker channels (mark, mark IV, greeks)
          - {base: BTC, expiries: ["next:1"], strikes_around_atm: 4}
    writer: {batch_rows: 5000, flush_interval_s: 0.5, queue_rows: 50000}
    server: {client_buffer: 256}
    reconnect: {base_delay_s: 0.2, max_delay_s: 10}
    backfill_lookback_s: 0
    alerts: {rules_file: streaming/alert_rules.yaml, use_db_rules: true}

Expiries are ISO dates (``2026-12-25``) or ``next:N`` (the N nearest listed expiries at start).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cryptoderiv.config import PROJECT_ROOT
from cryptoderiv.errors import ConfigurationError

VENUES = ("binance", "bybit", "deribit")


@dataclass(frozen=True)
class OptionSubscription:
    """Deribit option ticker channels of one base coin.

    Attributes
    ----------
    base : str
        ``BTC`` or ``ETH``.
    expiries : tuple of str
        ISO dates (``2026-12-25``) or ``next:N``.
    strikes_around_atm : int
        Strikes kept on each side of the forward per expiry (calls and puts); 0 keeps every strike.
    """

    base: str
    expiries: tuple[str, ...] = ("next:1",)
    strikes_around_atm: int = 4

    def __post_init__(self) -> None:
        for e in self.expiries:
            if not (e.startswith("next:") and e[5:].isdigit()) and not _is_date(e):
                raise ConfigurationError(f"options.{self.base}: expiry {e!r} is neither an ISO date nor next:N")
        if self.strikes_around_atm < 0:
            raise ConfigurationError(f"options.{self.base}: strikes_around_atm must be >= 0")


@dataclass(frozen=True)
class VenueSubscriptions:
    """Channels of one venue (ccxt unified symbols)."""

    venue: str
    tickers: tuple[str, ...] = ()
    trades: tuple[str, ...] = ()
    book: tuple[str, ...] = ()
    futures: tuple[tuple[str, int], ...] = ()
    options: tuple[OptionSubscription, ...] = ()


@dataclass(frozen=True)
class WriterConfig:
    """Batching of database writes.

    Attributes
    ----------
    batch_rows : int
        Flush when this many rows are pending.
    flush_interval_s : float
        Flush at least this often (seconds) when rows are pending.
    queue_rows : int
        Bound of the in-memory queue; producers wait when it is full (back-pressure).
    spool_dir : Path
        Where batches go while the database is unreachable.
    retry_interval_s : float
        Seconds between reconnection attempts while the database is down.
    """

    batch_rows: int = 5000
    flush_interval_s: float = 0.5
    queue_rows: int = 50_000
    spool_dir: Path | None = None
    retry_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if self.batch_rows < 1 or self.queue_rows < self.batch_rows or self.flush_interval_s <= 0:
            raise ConfigurationError(
                "writer: need batch_rows >= 1, queue_rows >= batch_rows and flush_interval_s > 0, got "
                f"{self.batch_rows}, {self.queue_rows}, {self.flush_interval_s}")


@dataclass(frozen=True)
class StreamConfig:
    """The sidecar's configuration (see the module docstring for the YAML form)."""

    venues: tuple[VenueSubscriptions, ...]
    writer: WriterConfig = field(default_factory=WriterConfig)
    client_buffer: int = 256
    reconnect_base_delay_s: float = 0.2
    reconnect_max_delay_s: float = 10.0
    backfill_lookback_s: float = 0.0
    alert_rules_file: Path | None = None
    use_db_rules: bool = True
    alert_poll_interval_s: float = 1.0

    def venue(self, name: str) -> VenueSubscriptions | None:
        """The subscriptions of one venue, if configured."""
        return next((v for v in self.venues if v.venue == name), None)


def _is_date(text: str) -> bool:
    import datetime as dt

    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _strings(node: Any, where: str) -> tuple[str, ...]:
    if node is None:
        return ()
    if not isinstance(node, list) or not all(isinstance(s, str) for s in node):
        raise ConfigurationError(f"{where}: expected a list of symbols, got {node!r}")
    return tuple(node)


def _resolve(path: Any) -> Path | None:
    if path is None:
        return None
    p = Path(str(path))
    return p if p.is_absolute() else PROJECT_ROOT / p


def parse_config(data: Mapping[str, Any]) -> StreamConfig:
    """Build a :class:`StreamConfig` from the parsed YAML mapping.

    Raises
    ------
    ConfigurationError
        Naming the offending key.
    """
    venues_node = data.get("venues") or {}
    if not isinstance(venues_node, dict) or not venues_node:
        raise ConfigurationError("subscriptions: 'venues' must map venue names to channels")
    venues = []
    for name, node in venues_node.items():
        if name not in VENUES:
            raise ConfigurationError(f"subscriptions: unknown venue {name!r}; choose from {', '.join(VENUES)}")
        node = node or {}
        unknown = set(node) - {"tickers", "trades", "book", "futures", "options"}
        if unknown:
            raise ConfigurationError(f"venues.{name}: unknown keys {sorted(unknown)}")
        options = tuple(
            OptionSubscription(
                base=str(o["base"]),
                expiries=tuple(str(e) for e in o.get("expiries", ["next:1"])),
                strikes_around_atm=int(o.get("strikes_around_atm", 4)),
            )
            for o in node.get("options") or []
        )
        if options and name != "deribit":
            raise ConfigurationError(f"venues.{name}: option channels are subscribed on deribit only")
        futures = tuple((str(k), int(v)) for k, v in (node.get("futures") or {}).items())
        venues.append(VenueSubscriptions(
            venue=name,
            tickers=_strings(node.get("tickers"), f"venues.{name}.tickers"),
            trades=_strings(node.get("trades"), f"venues.{name}.trades"),
            book=_strings(node.get("book"), f"venues.{name}.book"),
            futures=futures,
            options=options,
        ))
    w = data.get("writer") or {}
    writer = WriterConfig(
        batch_rows=int(w.get("batch_rows", 5000)),
        flush_interval_s=float(w.get("flush_interval_s", 0.5)),
        queue_rows=int(w.get("queue_rows", 50_000)),
        spool_dir=_resolve(w.get("spool_dir")),
        retry_interval_s=float(w.get("retry_interval_s", 1.0)),
    )
    server = data.get("server") or {}
    reconnect = data.get("reconnect") or {}
    alerts = data.get("alerts") or {}
    return StreamConfig(
        venues=tuple(venues),
        writer=writer,
        client_buffer=int(server.get("client_buffer", 256)),
        reconnect_base_delay_s=float(reconnect.get("base_delay_s", 0.2)),
        reconnect_max_delay_s=float(reconnect.get("max_delay_s", 10.0)),
        backfill_lookback_s=float(data.get("backfill_lookback_s", 0.0)),
        alert_rules_file=_resolve(alerts.get("rules_file")),
        use_db_rules=bool(alerts.get("use_db_rules", True)),
        alert_poll_interval_s=float(alerts.get("poll_interval_s", 1.0)),
    )


def load_config(path: str | Path) -> StreamConfig:
    """Read a subscriptions YAML file.

    Raises
    ------
    ConfigurationError
        If the file is missing or invalid.
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read subscriptions file {p}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{p}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"{p}: expected a mapping at the top level")
    return parse_config(data)
