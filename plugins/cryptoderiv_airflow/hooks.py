"""Hooks: how Airflow tasks reach the platform's services, always through Airflow connections."""

from __future__ import annotations

from airflow.providers.postgres.hooks.postgres import PostgresHook


class CryptoderivDatabaseHook(PostgresHook):
    """The platform database, from the ``cryptoderiv_db`` connection (``AIRFLOW_CONN_CRYPTODERIV_DB``
    locally, a secrets backend in production).

    The library takes a libpq URL; this hook builds it from the connection, so credentials live only
    in Airflow's connection store and never in DAG code or XCom.
    """

    default_conn_name = "cryptoderiv_db"
    hook_name = "cryptoderiv database"

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("postgres_conn_id", self.default_conn_name)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def database_url(self) -> str:
        """libpq URL of the connection (``postgresql://user:pw@host:port/db``)."""
        return self.sqlalchemy_url.set(drivername="postgresql").render_as_string(hide_password=False)


def platform_database_url() -> str:
    """The platform database URL for a task, from the ``cryptoderiv_db`` Airflow connection."""
    return CryptoderivDatabaseHook().database_url()
