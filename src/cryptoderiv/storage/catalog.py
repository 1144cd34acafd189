"""A table's contract, read from the database catalog.

The migrations are the only place the schema is written down. The writer learns from the catalog
what a batch must satisfy: columns and their types, NOT NULL columns, the conflict key, CHECK
constraints and foreign keys. Nothing here is a second copy of the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from cryptoderiv.errors import ContractViolation

SOFT_REFERENCE = re.compile(r"^references (\w+)\((\w+)\)")

# pg_type.typname -> the encoder's type names (see cryptoderiv.storage.pgcopy).
TYPE_ALIASES = {"float8": "float8", "int8": "int8", "int4": "int4", "int2": "int2", "bool": "bool",
                "timestamptz": "timestamptz", "text": "text", "varchar": "varchar", "jsonb": "jsonb"}


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str
    not_null: bool
    generated: bool  # identity or default: may be left out of a batch


@dataclass(frozen=True)
class ForeignKey:
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]                      # the conflict target of the upsert
    checks: tuple[tuple[str, str], ...]       # (constraint name, boolean SQL expression)
    foreign_keys: tuple[ForeignKey, ...]      # declared FKs and soft references (column comments)
    time_column: str | None                   # set for partitioned / hypertable time-series tables

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.not_null and not c.generated]


def load_contract(conn: psycopg.Connection, table: str) -> TableContract:
    """Read ``table``'s contract from the catalog. The conflict key is the natural key: a UNIQUE
    constraint when the primary key is a generated surrogate (``instruments``), else the primary key."""
    oid_row = conn.execute("SELECT to_regclass(%s)::oid", (table,)).fetchone()
    if oid_row is None or oid_row[0] is None:
        raise ContractViolation(f"unknown table {table!r}")
    oid = oid_row[0]
    columns = tuple(
        Column(name, TYPE_ALIASES.get(typname) or str(typname), not_null, generated)
        for name, typname, not_null, generated in conn.execute(
            "SELECT a.attname, t.typname, a.attnotnull, (a.attidentity <> '' OR a.atthasdef)"
            " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
            " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            (oid,),
        )
    )
    generated = {c.name for c in columns if c.generated}
    keys: dict[str, list[tuple[str, ...]]] = {"p": [], "u": []}
    checks: list[tuple[str, str]] = []
    fks: list[ForeignKey] = []
    for conname, contype, cols, definition, ref_table, ref_cols in conn.execute(
        "SELECT c.conname, c.contype,"
        "  ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
        "        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
        "  pg_get_constraintdef(c.oid), c.confrelid::regclass::text,"
        "  ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
        "        JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
        " FROM pg_constraint c WHERE c.conrelid = %s ORDER BY c.conname",
        (oid,),
    ):
        if contype in keys:
            keys[contype].append(tuple(cols))
        elif contype == "c":
            checks.append((conname, definition.removeprefix("CHECK ")))
        elif contype == "f" and len(cols) == 1:
            fks.append(ForeignKey(cols[0], ref_table, ref_cols[0]))
    for column_name, comment in conn.execute(
        "SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a"
        " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped", (oid,)):
        soft = SOFT_REFERENCE.match(comment or "")
        if soft:
            fks.append(ForeignKey(column_name, soft.group(1), soft.group(2)))
    primary = keys["p"][0] if keys["p"] else ()
    if primary and set(primary) <= generated and keys["u"]:
        key = keys["u"][0]
    elif primary:
        key = primary
    elif keys["u"]:
        key = keys["u"][0]
    else:
        raise ContractViolation(f"table {table!r} has no primary or unique key: loads could not be idempotent")
    time_row = conn.execute("SELECT time_column FROM cd_time_tables WHERE table_name = %s", (table,)).fetchone()
    if time_row is None:
        hyper = conn.execute(
            "SELECT column_name FROM timescaledb_information.dimensions WHERE hypertable_name = %s"
            if _has_timescale(conn) else "SELECT NULL WHERE false",
            (table,) if _has_timescale(conn) else (),
        ).fetchone()
        time_row = hyper
    return TableContract(
        name=table,
        columns=columns,
        key=key,
        checks=tuple(checks),
        foreign_keys=tuple(fks),
        time_column=time_row[0] if time_row else None,
    )


def _has_timescale(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT cd_timescale_available()").fetchone()
    return bool(row and row[0])
