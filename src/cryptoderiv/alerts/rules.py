"""Alert rules: what to watch, when to fire, where to send. From YAML or the ``alert_rules`` table.

Kinds and their ``params`` (all thresholds as decimals; windows in seconds):

=====================  ===================================================================================
``price_move``         ``venue``, ``symbol``, ``window_s``, ``threshold``: fires when
                       ``abs(mid_t / mid_{t-window} - 1) >= threshold``.
``iv_spike``           ``venue`` (deribit), ``base``, ``expiry`` (ISO date or omitted: any), ``window_s``,
                       ``threshold``: ATM mark IV (the call with delta nearest 0.5) rose by at least
                       ``threshold`` (absolute, 0.05 = 5 vol points) within the window.
``skew_flip``          ``venue``, ``base``, ``expiry`` (optional), ``min_abs`` (default 0): the 25-delta risk
                       reversal ``IV(call, delta 0.25) - IV(put, delta -0.25)`` changed sign (and is at least
                       ``min_abs`` away from zero).
``funding_above``      ``venue``, ``symbol``, ``threshold``: the perpetual's current funding rate (decimal per
                       interval) is above ``threshold``.
``basis_inversion``    ``venue``, ``symbol`` (a future or perpetual), ``threshold`` (default 0): the contract
                       trades below its index by more than ``threshold``: ``mid / index - 1 < -threshold``.
``dq_failure``         ``table`` (optional), ``severity`` (``hard``/``soft``/``any``): a data-quality
                       expectation failed (evaluated by the pipeline, :func:`~cryptoderiv.alerts.evaluate_dq_alerts`).
``pipeline_failure``   ``dag_id`` (optional): a pipeline task failed (:func:`~cryptoderiv.alerts.raise_pipeline_alert`).
=====================  ===================================================================================

YAML form::

    rules:
      - name: btc-perp-move-1m
        kind: price_move
        params: {venue: binance, symbol: BTC/USDT:USDT, window_s: 60, threshold: 0.01}
        cooldown_s: 300
        channels: [dashboard, email, webhook]
        recipients: risk@example.com
        webhook_url: http://127.0.0.1:9000/hook
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml

from cryptoderiv.errors import ConfigurationError

KINDS = ("price_move", "iv_spike", "skew_flip", "funding_above", "basis_inversion", "dq_failure",
         "pipeline_failure")
MARKET_KINDS = KINDS[:5]
SEVERITIES = ("info", "warning", "critical")
CHANNELS = ("dashboard", "email", "webhook")
_REQUIRED: dict[str, tuple[str, ...]] = {
    "price_move": ("venue", "symbol", "window_s", "threshold"),
    "iv_spike": ("base", "window_s", "threshold"),
    "skew_flip": ("base",),
    "funding_above": ("venue", "symbol", "threshold"),
    "basis_inversion": ("venue", "symbol"),
    "dq_failure": (),
    "pipeline_failure": (),
}


@dataclass(frozen=True)
class AlertRule:
    """One rule.

    Attributes
    ----------
    name : str
        Unique name.
    kind : str
        One of :data:`KINDS`.
    params : Mapping
        Kind-specific parameters (see the module docstring).
    severity : {"info", "warning", "critical"}
    cooldown_s : float
        After firing for a subject, the same rule stays silent for that subject this long (seconds).
    channels : tuple of str
        Subset of ``dashboard``, ``email``, ``webhook``.
    recipients : tuple of str
        E-mail addresses (empty: the settings' ``report_recipients``).
    webhook_url : str or None
        Where the webhook posts.
    enabled : bool
    """

    name: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: str = "warning"
    cooldown_s: float = 300.0
    channels: tuple[str, ...] = ("dashboard",)
    recipients: tuple[str, ...] = ()
    webhook_url: str | None = None
    enabled: bool = True

    def __post_init__(self) -> None:
        where = f"alert rule {self.name!r}"
        if self.kind not in KINDS:
            raise ConfigurationError(f"{where}: unknown kind {self.kind!r}; choose from {', '.join(KINDS)}")
        if self.severity not in SEVERITIES:
            raise ConfigurationError(f"{where}: severity must be one of {SEVERITIES}, got {self.severity!r}")
        bad = [c for c in self.channels if c not in CHANNELS]
        if bad:
            raise ConfigurationError(f"{where}: unknown channels {bad}; choose from {CHANNELS}")
        missing = [p for p in _REQUIRED[self.kind] if p not in self.params]
        if missing:
            raise ConfigurationError(f"{where}: params {missing} are required for kind {self.kind}")
        if "webhook" in self.channels and not self.webhook_url:
            raise ConfigurationError(f"{where}: channel 'webhook' needs webhook_url")
        if self.cooldown_s < 0:
            raise ConfigurationError(f"{where}: cooldown_s must be >= 0")
        for key in ("window_s", "threshold", "min_abs"):
            if key in self.params:
                try:
                    float(self.params[key])
                except (TypeError, ValueError) as exc:
                    raise ConfigurationError(f"{where}: params.{key} must be a number") from exc

    def param(self, key: str, default: Any = None) -> Any:
        """A parameter, or ``default``."""
        return self.params.get(key, default)


def _recipients(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(a.strip() for a in items if a and a.strip())


def rule_from_mapping(node: Mapping[str, Any]) -> AlertRule:
    """An :class:`AlertRule` from a YAML mapping or a table row."""
    try:
        name, kind = str(node["name"]), str(node["kind"])
    except KeyError as exc:
        raise ConfigurationError(f"alert rule {dict(node)!r}: missing {exc.args[0]!r}") from exc
    params = node.get("params") or {}
    if isinstance(params, str):
        params = json.loads(params)
    return AlertRule(
        name=name, kind=kind, params=dict(params), severity=str(node.get("severity") or "warning"),
        cooldown_s=float(node.get("cooldown_s", 300) if node.get("cooldown_s") is not None else 300),
        channels=tuple(node.get("channels") or ("dashboard",)), recipients=_recipients(node.get("recipients")),
        webhook_url=node.get("webhook_url"), enabled=bool(node.get("enabled", True)),
    )


def load_rules_yaml(path: str | Path) -> list[AlertRule]:
    """Rules from a YAML file (``rules:`` list).

    Raises
    ------
    ConfigurationError
        Missing file, invalid YAML or an invalid rule (named).
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except OSError as exc:
        raise ConfigurationError(f"cannot read alert rules {p}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{p}: not valid YAML: {exc}") from exc
    rules = [rule_from_mapping(n) for n in (data.get("rules") or [])]
    _check_unique(rules)
    return rules


def load_rules_db(conn: psycopg.Connection) -> list[AlertRule]:
    """Enabled rules of the ``alert_rules`` table."""
    cur = conn.execute("SELECT name, kind, enabled, severity, params, cooldown_s, channels, recipients, webhook_url"
                       " FROM alert_rules WHERE enabled ORDER BY name")
    names = [d.name for d in cur.description or []]
    return [rule_from_mapping(dict(zip(names, row, strict=True))) for row in cur.fetchall()]


def save_rules_db(conn: psycopg.Connection, rules: Iterable[AlertRule]) -> int:
    """Upsert rules into ``alert_rules`` (by name); returns the number written. The caller commits."""
    n = 0
    for r in rules:
        conn.execute(
            "INSERT INTO alert_rules (name, kind, enabled, severity, params, cooldown_s, channels, recipients,"
            " webhook_url, updated_at) VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, now())"
            " ON CONFLICT (name) DO UPDATE SET kind = EXCLUDED.kind, enabled = EXCLUDED.enabled,"
            " severity = EXCLUDED.severity, params = EXCLUDED.params, cooldown_s = EXCLUDED.cooldown_s,"
            " channels = EXCLUDED.channels, recipients = EXCLUDED.recipients, webhook_url = EXCLUDED.webhook_url,"
            " updated_at = now()",
            (r.name, r.kind, r.enabled, r.severity, json.dumps(dict(r.params)), int(r.cooldown_s),
             list(r.channels), ",".join(r.recipients) or None, r.webhook_url),
        )
        n += 1
    return n


def _check_unique(rules: list[AlertRule]) -> None:
    seen: set[str] = set()
    for r in rules:
        if r.name in seen:
            raise ConfigurationError(f"alert rule name {r.name!r} is defined twice")
        seen.add(r.name)


def merge_rules(*sources: Iterable[AlertRule]) -> list[AlertRule]:
    """Rules of several sources; a later source overrides an earlier one of the same name."""
    out: dict[str, AlertRule] = {}
    for src in sources:
        for r in src:
            out[r.name] = r
    return [r for r in out.values() if r.enabled]
