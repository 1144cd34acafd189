"""Which database the platform talks to, and connections to it.

``DATABASE_URL`` wins; without it the project-managed local cluster is used (and started on demand by
:func:`ensure_database`). This is the only module that decides where the data lives.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from cryptoderiv.config import Settings, get_settings
from cryptoderiv.errors import DatabaseError
from cryptoderiv.storage.local_cluster import LocalCluster


def database_url(settings: Settings | None = None) -> str:
    """The URL of the platform database (the local cluster's when ``DATABASE_URL`` is unset)."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    return LocalCluster(settings).url()


def ensure_database(settings: Settings | None = None) -> str:
    """Make sure the database is reachable, starting the local cluster when it is the one in use."""
    settings = settings or get_settings()
    if not settings.database_url:
        LocalCluster(settings).start()
    url = database_url(settings)
    try:
        with psycopg.connect(url, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        raise _unreachable(url, exc) from exc
    return url


@contextmanager
def connect(url: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection to the platform database, UTC session time zone."""
    url = url or database_url()
    try:
        conn = psycopg.connect(url, autocommit=autocommit, options="-c timezone=UTC")
    except psycopg.OperationalError as exc:
        raise _unreachable(url, exc) from exc
    with conn:
        yield conn


def _unreachable(url: str, exc: psycopg.OperationalError) -> DatabaseError:
    """One readable line naming the server (never the password) and libpq's reason."""
    parts = urlsplit(url)
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}/{parts.path.lstrip('/')}"
    reason = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    return DatabaseError(f"cannot connect to the database at {where}: {reason}")


def fresh_database(name: str, settings: Settings | None = None) -> str:
    """A new, empty, migrated database ``name`` on the platform's server (dropped first if it exists);
    its URL. For benchmarks and scratch work: never point it at a database you want to keep."""
    from psycopg import sql

    from cryptoderiv.storage.migrations import migrate

    server = ensure_database(settings)
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    migrate(url, settings)
    return url
