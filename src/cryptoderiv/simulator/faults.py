"""Seeded, deterministic fault injection for the simulator.

A fault specification is a string such as::

    rate=0.2,kinds=429,5xx,timeout,malformed,truncated,missing_field;ws_drop_every=50

Sections are separated by ``;``; within a section ``key=value`` items are separated by ``,`` and a bare item
continues the list of the previous key. Keys:

``rate``
    Probability that a REST request fails (0..1).
``kinds``
    Fault kinds to draw from (uniformly): ``429`` (rate limit with ``Retry-After``), ``5xx`` (502/503/504
    with an HTML body), ``timeout`` (the response comes after ``timeout_s``), ``slow`` (the correct response
    after ``slow_ms``), ``malformed`` (a 200 whose body is not JSON), ``truncated`` (a 200 with the JSON cut
    short), ``missing_field`` (a 200 whose JSON lacks one field a parser needs).
``ws_drop_every``
    Close every WebSocket connection after this many data messages (0: never).
``seed``, ``slow_ms``, ``timeout_s``, ``retry_after``
    Seed of the decisions (default 0), delay of ``slow`` (default 300 ms), delay of ``timeout`` (default
    5 s), ``Retry-After`` seconds of ``429`` (default 1).

Whether the ``n``-th arrival of a request (same method, path and query) fails, and how, is a function of
``(seed, request, n)`` only: the same sequence of requests meets the same faults in any run, and a retry
of a failed request is a new draw.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from cryptoderiv.simulator.errors import SimulatorError
from cryptoderiv.simulator.paths import stable_hash

logger = logging.getLogger(__name__)

FAULT_KINDS = ("429", "5xx", "timeout", "slow", "malformed", "truncated", "missing_field")
_INT_KEYS = {"ws_drop_every", "seed", "slow_ms", "retry_after"}
_FLOAT_KEYS = {"rate", "timeout_s"}


@dataclass(frozen=True)
class FaultConfig:
    """What faults to inject.

    Attributes
    ----------
    rate : float
        Probability that a REST request fails.
    kinds : tuple of str
        Fault kinds drawn from (subset of :data:`FAULT_KINDS`).
    ws_drop_every : int
        Close WebSocket connections after this many data messages (0: never).
    seed : int
        Seed of the decisions.
    slow_ms : int
        Delay of a ``slow`` response.
    timeout_s : float
        Delay of a ``timeout`` response (set it above the client's timeout).
    retry_after : int
        ``Retry-After`` header of a ``429``, seconds.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    ws_drop_every: int = 0
    seed: int = 0
    slow_ms: int = 300
    timeout_s: float = 5.0
    retry_after: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise SimulatorError(f"fault rate must be within [0, 1], got {self.rate}")
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown or not self.kinds:
            raise SimulatorError(
                f"unknown fault kinds {unknown or '(none given)'}; choose from {', '.join(FAULT_KINDS)}"
            )
        if self.ws_drop_every < 0 or self.slow_ms < 0 or self.timeout_s < 0 or self.retry_after < 0:
            raise SimulatorError("fault delays and counts must be >= 0")

    @property
    def active(self) -> bool:
        """True if any fault can happen."""
        return self.rate > 0.0 or self.ws_drop_every > 0

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """Parse a fault specification string (see the module docstring).

        Raises
        ------
        SimulatorError
            On an unknown key, a bad number or an unknown fault kind.
        """
        if not spec or not spec.strip():
            return cls()
        values: dict[str, Any] = {}
        for section in spec.split(";"):
            key: str | None = None
            for item in (i.strip() for i in section.split(",")):
                if not item:
                    continue
                if "=" in item:
                    key, _, value = item.partition("=")
                    key = key.strip()
                    if key == "kinds":
                        values["kinds"] = [value.strip()] if value.strip() else []
                    else:
                        values[key] = value.strip()
                elif key == "kinds":
                    values["kinds"].append(item)
                else:
                    raise SimulatorError(f"cannot parse fault spec item {item!r} in {spec!r}")
        out: dict[str, Any] = {}
        for key, value in values.items():
            try:
                if key == "kinds":
                    out["kinds"] = tuple(value)
                elif key in _INT_KEYS:
                    out[key] = int(value)
                elif key in _FLOAT_KEYS:
                    out[key] = float(value)
                else:
                    raise SimulatorError(
                        f"unknown fault spec key {key!r}; known: rate, kinds, "
                        f"{', '.join(sorted(_INT_KEYS | {'timeout_s'}))}"
                    )
            except ValueError as exc:
                raise SimulatorError(f"bad value {value!r} for {key!r} in fault spec {spec!r}") from exc
        return cls(**out)

    def with_(self, **changes: Any) -> FaultConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass
class FaultInjector:
    """Draws the fault (or none) of each request arrival; thread-safe.

    Parameters
    ----------
    config : FaultConfig
        What to inject; can be replaced at run time with :meth:`configure`.
    """

    config: FaultConfig = field(default_factory=FaultConfig)
    injected: Counter[str] = field(default_factory=Counter)
    _arrivals: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration and forget previous arrivals and counts."""
        with self._lock:
            self.config = config
            self._arrivals.clear()
            self.injected.clear()

    def decide(self, request_key: str) -> str | None:
        """The fault kind for this arrival of ``request_key`` (method, path and sorted query), or None."""
        with self._lock:
            cfg = self.config
            if cfg.rate <= 0.0:
                return None
            n = self._arrivals[request_key]
            self._arrivals[request_key] += 1
            draw = stable_hash("fault", cfg.seed, request_key, n) / float(1 << 63)
            if draw >= cfg.rate:
                return None
            kind = cfg.kinds[stable_hash("kind", cfg.seed, request_key, n) % len(cfg.kinds)]
            self.injected[kind] += 1
            return kind


def malformed_body(request_key: str) -> str:
    """A body that is not JSON (varies deterministically with the request)."""
    bodies = (
        "<html><head><title>502 Bad Gateway</title></head><body>upstream reset</body></html>",
        '{"result": [1, 2,, 3]}',
        "OK",
        '{"jsonrpc": "2.0", "result": undefined}',
    )
    return bodies[stable_hash("malformed", request_key) % len(bodies)]


def truncate_body(body: str, request_key: str) -> str:
    """``body`` cut at 30-90 % of its length (never a complete JSON document)."""
    if len(body) < 4:
        return body[:1]
    frac = 0.3 + 0.6 * (stable_hash("truncate", request_key) % 1000) / 1000.0
    cut = max(1, min(len(body) - 2, int(len(body) * frac)))
    out = body[:cut]
    try:
        json.loads(out)
    except ValueError:
        return out
    return body[: len(body) - 1]


def drop_field(payload: Any, request_key: str) -> tuple[Any, str]:
    """Remove one field a parser needs from a JSON payload (deterministically).

    The field is taken from the records of the response: an element of its largest list of objects or
    arrays (a key of an object, or the last element of an array), else a key of its innermost object.

    Returns
    -------
    tuple
        The mutated payload (a deep copy) and a description of what was removed.
    """
    data = json.loads(json.dumps(payload))
    lists: list[list[Any]] = []
    dicts: list[tuple[int, dict[str, Any]]] = []

    def walk(node: Any, depth: int) -> None:
        if isinstance(node, dict):
            dicts.append((depth, node))
            for value in node.values():
                walk(value, depth + 1)
        elif isinstance(node, list):
            if node and all(isinstance(x, dict | list) for x in node):
                lists.append(node)
            for value in node[:50]:
                walk(value, depth + 1)

    walk(data, 0)
    h = stable_hash("missing", request_key)
    if lists:
        records = max(lists, key=len)
        element = records[h % len(records)]
        if isinstance(element, dict) and element:
            key = sorted(element)[(h >> 8) % len(element)]
            del element[key]
            return data, f"record[{h % len(records)}].{key}"
        if isinstance(element, list) and element:
            element.pop()
            return data, f"record[{h % len(records)}][-1]"
    candidates = [d for depth, d in sorted(dicts, key=lambda x: -x[0]) if len(d) > 1]
    if candidates:
        target = candidates[0]
        key = sorted(target)[(h >> 8) % len(target)]
        del target[key]
        return data, key
    return data, "(nothing to drop)"
