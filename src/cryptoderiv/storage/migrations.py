"""Schema migrations: ``sql/migrations/NNN_description.sql`` applied in order, once each.

Each file runs in its own transaction and is recorded in ``schema_migrations`` with its checksum;
running :func:`migrate` again is a no-op. An applied file whose content changed is an error (write a
new migration instead). After the files, the dashboard's login role is made to match the settings.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from cryptoderiv.config import PROJECT_ROOT, Settings, get_settings
from cryptoderiv.errors import DatabaseError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = PROJECT_ROOT / "sql" / "migrations"
MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
DASHBOARD_LOGIN_ROLE = "cryptoderiv_dashboard"
ADVISORY_LOCK_KEY = 7_361_001  # serialises concurrent migrators


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a malformed name or a repeated version is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise DatabaseError(f"migration file name {path.name!r} is not NNN_lower_snake.sql")
        version = int(match.group(1))
        if version in found:
            raise DatabaseError(f"migration version {version:03d} appears twice: {found[version].name}, {path.name}")
        found[version] = Migration(version, path.stem, path)
    return [found[v] for v in sorted(found)]


def migrate(url: str, settings: Settings | None = None, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply pending migrations; return the names applied now (empty when up to date)."""
    settings = settings or get_settings()
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {v: c for v, c in conn.execute("SELECT version, checksum FROM schema_migrations")}
            for migration in discover(directory):
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise DatabaseError(
                            f"migration {migration.name} was changed after it was applied; "
                            "add a new migration instead of editing an applied one"
                        )
                    continue
                log.info("applying migration %s", migration.name)
                try:
                    with conn.transaction():
                        conn.execute(migration.path.read_text())
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.Error as exc:
                    raise DatabaseError(f"migration {migration.name} failed: {exc}".strip()) from exc
                applied_now.append(migration.name)
            ensure_dashboard_login(conn, settings)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return applied_now


def ensure_dashboard_login(conn: psycopg.Connection, settings: Settings) -> None:
    """The dashboard's login role: a member of the read-only group, password from the settings."""
    password = settings.dashboard_db_password.get_secret_value()
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (DASHBOARD_LOGIN_ROLE,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(
        sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            sql.Identifier(DASHBOARD_LOGIN_ROLE), sql.Literal(password)
        )
    )
    conn.execute(
        sql.SQL("GRANT cryptoderiv_readonly TO {}").format(sql.Identifier(DASHBOARD_LOGIN_ROLE))
    )


def dashboard_url(url: str, settings: Settings | None = None) -> str:
    """The read-only URL the dashboard uses: same server and database, the dashboard login role."""
    from urllib.parse import quote, urlsplit, urlunsplit

    settings = settings or get_settings()
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{DASHBOARD_LOGIN_ROLE}:{quote(settings.dashboard_db_password.get_secret_value(), safe='')}@{host}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def applied_versions(url: str) -> list[int]:
    """Versions recorded in ``schema_migrations`` (empty before the first migrate)."""
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
        if not exists or exists[0] is None:
            return []
        return [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
