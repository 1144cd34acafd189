"""Read portfolios from YAML or CSV files and from / into the ``positions`` table.

A position needs ``id``, ``exchange``, ``symbol``, ``size`` and ``entry_price``; the contract terms (kind, base,
inverse, option type, strike, expiry) are parsed from the CCXT unified symbol
(``BASE/QUOTE[:SETTLE[-YYMMDD[-STRIKE-C|P]]]``; settle == base means inverse; expiries at 08:00 UTC, the
venues' convention) and, when also given in the file, must agree with it.  Optional: ``size_unit``
(default ``usd`` for inverse futures/perpetuals, else ``coin``), ``entry_price_unit`` (default ``coin`` for
inverse options, else ``usd``), ``contract_size``, ``entry_ts``.  Every error names the file and line.

YAML layout::

    portfolio: sample
    positions:
      - {id: btc-spot, exchange: binance, symbol: BTC/USDT, size: 1.5, entry_price: 88000}
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from cryptoderiv.portfolio.positions import Portfolio, Position, PositionError

__all__ = ["load_portfolio_file", "parse_symbol", "read_portfolio", "save_portfolio"]

log = logging.getLogger(__name__)

_SYMBOL = re.compile(
    r"^(?P<base>[A-Z0-9]+)/(?P<quote>[A-Z0-9]+)"
    r"(?::(?P<settle>[A-Z0-9]+)(?:-(?P<expiry>\d{6})(?:-(?P<strike>\d+(?:\.\d+)?)-(?P<cp>[CP]))?)?)?$"
)
_FIELDS = {"id", "position_id", "exchange", "symbol", "kind", "base", "is_inverse", "option_type", "strike",
           "expiry", "size", "size_unit", "entry_price", "entry_price_unit", "contract_size", "entry_ts"}


def parse_symbol(symbol: str) -> dict[str, Any]:
    """Contract terms of a CCXT unified symbol.

    Parameters
    ----------
    symbol : str
        e.g. ``BTC/USDT``, ``BTC/USD:BTC``, ``BTC/USDT:USDT-261225``, ``BTC/USD:BTC-261225-100000-C``.

    Returns
    -------
    dict
        ``kind``, ``base``, ``is_inverse``, ``expiry`` (UTC 08:00 or None), ``strike`` (USD or None),
        ``option_type`` (or None).

    Raises
    ------
    ValueError
        The symbol does not have the unified form.
    """
    m = _SYMBOL.match(symbol.strip()) if isinstance(symbol, str) else None
    if m is None:
        raise ValueError(f"symbol {symbol!r} is not a CCXT unified symbol like BTC/USD:BTC-261225-100000-C")
    settle, expiry, strike, cp = m["settle"], m["expiry"], m["strike"], m["cp"]
    if settle is None:
        kind = "spot"
    elif expiry is None:
        kind = "perpetual"
    elif strike is None:
        kind = "future"
    else:
        kind = "option"
    exp = (pd.Timestamp(f"20{expiry[:2]}-{expiry[2:4]}-{expiry[4:]} 08:00", tz="UTC") if expiry else None)
    return {"kind": kind, "base": m["base"], "is_inverse": settle is not None and settle == m["base"],
            "expiry": exp, "strike": float(strike) if strike else None,
            "option_type": {"C": "call", "P": "put", None: None}[cp]}


def _as_bool(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    return value


def _as_number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def position_from_record(record: Mapping[str, Any], source: str, line: int) -> Position:
    """Build a :class:`Position` from a flat record (YAML mapping or CSV row).

    Raises
    ------
    PositionError
        Unknown or missing field, unparsable symbol, or terms that contradict the symbol; names ``line``.
    """
    where = f"{source}, line {line}"
    rec = {k.strip() if isinstance(k, str) else k: v for k, v in record.items()
           if v is not None and not (isinstance(v, str) and v.strip() == "")}
    unknown = sorted(str(k) for k in rec if k not in _FIELDS)
    if unknown:
        raise PositionError(f"{where}: unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}")
    pid = rec.get("id", rec.get("position_id"))
    for name in ("exchange", "symbol", "size", "entry_price"):
        if name not in rec:
            raise PositionError(f"{where}: position {pid!r}: {name}: is required")
    if pid is None:
        raise PositionError(f"{where}: id: is required")
    try:
        terms = parse_symbol(str(rec["symbol"]))
    except ValueError as exc:
        raise PositionError(f"{where}: position {pid!r}: symbol: {exc}") from exc
    given = {"kind": rec.get("kind"), "base": rec.get("base"), "is_inverse": _as_bool(rec.get("is_inverse")),
             "option_type": rec.get("option_type"), "strike": _as_number(rec.get("strike")),
             "expiry": pd.Timestamp(rec["expiry"]) if "expiry" in rec else None}
    if given["expiry"] is not None and given["expiry"].tzinfo is None:
        given["expiry"] = given["expiry"].tz_localize("UTC")
    for name, value in given.items():
        if value is None:
            continue
        expected = terms[name]
        same = (value == expected) if name != "expiry" else (expected is not None and value.date() == expected.date())
        if not same:
            raise PositionError(f"{where}: position {pid!r}: {name}: {value!r} contradicts symbol "
                                f"{rec['symbol']!r} ({expected!r})")
        if name == "expiry":
            terms["expiry"] = value
    inverse_future = terms["is_inverse"] and terms["kind"] in ("perpetual", "future")
    size_unit = rec.get("size_unit", "usd" if inverse_future else "coin")
    price_unit = rec.get("entry_price_unit", "coin" if terms["is_inverse"] and terms["kind"] == "option" else "usd")
    return Position(
        position_id=str(pid), exchange=str(rec["exchange"]).strip().lower(), symbol=str(rec["symbol"]).strip(),
        kind=terms["kind"], base=terms["base"], is_inverse=terms["is_inverse"],
        size=_as_number(rec["size"]), size_unit=str(size_unit), entry_price=_as_number(rec["entry_price"]),
        entry_price_unit=str(price_unit), contract_size=_as_number(rec.get("contract_size", 1.0)),
        option_type=terms["option_type"], strike=terms["strike"], expiry=terms["expiry"],
        entry_ts=rec.get("entry_ts"), source=source, source_line=line)


def _load_yaml(text: str, source: str) -> Portfolio:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise PositionError(f"{source}{line}: not valid YAML: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise PositionError(f"{source}, line 1: expected a mapping with 'portfolio' and 'positions'")
    top = {k.value: v for k, v in root.value}
    name_node, items = top.get("portfolio"), top.get("positions")
    if name_node is None or not isinstance(name_node, yaml.ScalarNode):
        raise PositionError(f"{source}, line 1: 'portfolio: <name>' is required")
    if not isinstance(items, yaml.SequenceNode):
        raise PositionError(f"{source}, line {root.start_mark.line + 1}: 'positions' must be a list")
    constructor = yaml.SafeLoader("")
    positions = []
    for item in items.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            raise PositionError(f"{source}, line {line}: each position must be a mapping")
        record = {str(k): v for k, v in constructor.construct_mapping(item, deep=True).items()}
        positions.append(position_from_record(record, source, line))
    return Portfolio(str(name_node.value), tuple(positions))


def _load_csv(text: str, source: str, name: str) -> Portfolio:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None:
        raise PositionError(f"{source}, line 1: empty file (a header line is required)")
    portfolio_col = "portfolio" in reader.fieldnames
    positions, names = [], set()
    for row in reader:
        line = reader.line_num
        if None in row:
            raise PositionError(f"{source}, line {line}: more values than header columns")
        if portfolio_col:
            names.add(row.pop("portfolio") or name)
        positions.append(position_from_record(row, source, line))
    if len(names) > 1:
        raise PositionError(f"{source}: one portfolio per file, found {sorted(names)}")
    return Portfolio(names.pop() if names else name, tuple(positions))


def load_portfolio_file(path: str | Path, name: str | None = None) -> Portfolio:
    """Read a portfolio from a ``.yaml``/``.yml`` or ``.csv`` file.

    Parameters
    ----------
    path : str or Path
        The file.
    name : str, optional
        Portfolio name for CSV files without a ``portfolio`` column (default: the file stem); overrides the
        YAML name when given.

    Raises
    ------
    PositionError
        The file is missing or a position is invalid (the message names the line and field).
    """
    p = Path(path)
    if not p.is_file():
        raise PositionError(f"{p}: no such file")
    text = p.read_text(encoding="utf-8")
    if p.suffix.lower() in (".yaml", ".yml"):
        portfolio = _load_yaml(text, str(p))
    elif p.suffix.lower() == ".csv":
        portfolio = _load_csv(text, str(p), name or p.stem)
    else:
        raise PositionError(f"{p}: unknown format {p.suffix!r} (use .yaml, .yml or .csv)")
    if name is not None and name != portfolio.name:
        portfolio = Portfolio(name, portfolio.positions)
    log.info("read portfolio %s: %d positions from %s", portfolio.name, len(portfolio), p)
    return portfolio


_COLUMNS = ("portfolio", "position_id", "exchange", "symbol", "instrument_id", "kind", "base", "is_inverse",
            "option_type", "strike", "expiry", "size", "size_unit", "contract_size", "quantity_coin",
            "entry_price", "entry_price_unit", "entry_ts", "source", "source_line")


def save_portfolio(conn: psycopg.Connection, portfolio: Portfolio) -> int:
    """Replace the portfolio's rows in ``positions`` (one transaction); returns the number of positions.

    ``instrument_id`` is filled from ``instruments`` where ``(exchange, symbol)`` is in the catalog.
    """
    rows = []
    for p in portfolio.positions:
        rows.append((portfolio.name, p.position_id, p.exchange, p.symbol, p.exchange, p.symbol, p.kind, p.base,
                     p.is_inverse, p.option_type, p.strike, p.expiry, p.size, p.size_unit, p.contract_size,
                     p.quantity if p.notional_unit == "coin" else None, p.entry_price, p.entry_price_unit,
                     p.entry_ts, p.source, p.source_line))
    with conn.transaction():
        conn.execute("DELETE FROM positions WHERE portfolio = %s", (portfolio.name,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO positions (portfolio, position_id, exchange, symbol, instrument_id, kind, base,"
                " is_inverse, option_type, strike, expiry, size, size_unit, contract_size, quantity_coin,"
                " entry_price, entry_price_unit, entry_ts, source, source_line)"
                " VALUES (%s, %s, %s, %s, (SELECT instrument_id FROM instruments WHERE exchange = %s AND symbol = %s),"
                " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    log.info("saved portfolio %s: %d positions", portfolio.name, len(rows))
    return len(rows)


def read_portfolio(conn: psycopg.Connection, name: str) -> Portfolio:
    """The portfolio ``name`` from the ``positions`` table.

    Raises
    ------
    PositionError
        No such portfolio, or a stored row fails validation (names the position).
    """
    cur = conn.execute(
        "SELECT position_id, exchange, symbol, kind, base, is_inverse, option_type, strike, expiry, size,"
        " size_unit, entry_price, entry_price_unit, contract_size, entry_ts, source, source_line"
        " FROM positions WHERE portfolio = %s ORDER BY position_id", (name,))
    rows = cur.fetchall()
    if not rows:
        raise PositionError(f"portfolio {name!r} has no rows in the positions table")
    out = []
    for r in rows:
        out.append(Position(
            position_id=r[0], exchange=r[1], symbol=r[2], kind=r[3], base=r[4], is_inverse=r[5],
            option_type=r[6], strike=r[7], expiry=pd.Timestamp(r[8]) if r[8] is not None else None,
            size=r[9], size_unit=r[10], entry_price=r[11], entry_price_unit=r[12], contract_size=r[13],
            entry_ts=pd.Timestamp(r[14]) if r[14] is not None else None, source=r[15] or "positions table",
            source_line=r[16]))
    return Portfolio(name, tuple(out))
