"""``cryptoderiv db``: the local cluster and the schema."""

from __future__ import annotations

import typer

from cryptoderiv.config import get_settings
from cryptoderiv.storage.database import database_url, ensure_database
from cryptoderiv.storage.local_cluster import LocalCluster
from cryptoderiv.storage.migrations import applied_versions, discover, migrate

app = typer.Typer(no_args_is_help=True)


@app.command()
def start() -> None:
    """Start the local cluster (initialising it on first use). Does nothing when DATABASE_URL is set."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("DATABASE_URL is set: using that server, nothing to start")
        return
    cluster = LocalCluster(settings)
    started = cluster.start()
    typer.echo(f"local PostgreSQL {'started' if started else 'already running'} on 127.0.0.1:{settings.local_pg_port}")


@app.command()
def stop() -> None:
    """Stop the local cluster."""
    stopped = LocalCluster(get_settings()).stop()
    typer.echo("local PostgreSQL stopped" if stopped else "local PostgreSQL was not running")


@app.command()
def status() -> None:
    """Show which database is in use and, for the local cluster, whether it runs."""
    settings = get_settings()
    if settings.database_url:
        typer.echo("database: DATABASE_URL (external server)")
        return
    st = LocalCluster(settings).status()
    state = f"running (pid {st.pid})" if st.running else ("stopped" if st.initialised else "not initialised")
    typer.echo(f"local PostgreSQL: {state}; 127.0.0.1:{st.port}; data {st.data_dir}")
    if st.running:
        versions = applied_versions(database_url(settings))
        pending = [m.name for m in discover() if m.version not in versions]
        typer.echo(f"schema: {len(versions)} migrations applied, {len(pending)} pending")
    else:
        raise typer.Exit(code=3)


@app.command()
def url() -> None:
    """Print the database URL (it contains the local password: do not paste it into logs)."""
    typer.echo(database_url(get_settings()))


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations (starting the local cluster if it is the one in use)."""
    applied = migrate(ensure_database(get_settings()))
    typer.echo(f"applied {len(applied)} migrations: {', '.join(applied)}" if applied else "schema up to date")


@app.command()
def maintain(ahead_days: int = typer.Option(35, help="Create partitions this many days ahead.")) -> None:
    """Create partitions ahead, drop partitions past their retention, refresh the rollups."""
    from cryptoderiv.storage.rollups import maintain_time_tables, refresh_rollups

    url = ensure_database(get_settings())
    for table, created, dropped in maintain_time_tables(url, ahead_days):
        typer.echo(f"{table:<16} partitions created {created:>3}, dropped {dropped:>3}")
    refresh_rollups(url)
    typer.echo("rollups refreshed")
