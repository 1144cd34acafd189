"""The services of the local stack (``make up``), declared as data.

Each :class:`ServiceSpec` says how to start one long-running process (command, environment, working
folder, log file), where it answers (URL shown by ``status``), how to tell it is healthy (an HTTP probe)
and how long it may take. Addresses come from the settings (``AIRFLOW_URL``, ``MLFLOW_UI_URL``,
``DASHBOARD_URL``, ``SIMULATOR_URL``, ``STREAM_PORT``, ``SMTP_PORT``, ``MAIL_WEB_PORT``), so a second stack (the
smoke test's) can run beside a developer's on other ports. PostgreSQL is not in this list: it is the
project-managed cluster of :mod:`cryptoderiv.storage.local_cluster`, handled by the supervisor itself.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from cryptoderiv.airflow_runtime import DASHBOARD_API_USER, AirflowRuntime, pools_import_command
from cryptoderiv.config import PROJECT_ROOT, ExchangeSource, Settings
from cryptoderiv.errors import ConfigurationError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SIDECAR_CONFIG = PROJECT_ROOT / "streaming" / "subscriptions.yaml"
DASHBOARD_DIR = PROJECT_ROOT / "dashboard"


def _json_status_ok(body: Any) -> bool:
    return isinstance(body, dict) and str(body.get("status", "ok")).lower() in {"ok", "healthy", "pass"}


def airflow_components_healthy(body: Any) -> bool:
    """Airflow's ``/api/v2/monitor/health``: the metadata database and the scheduler report healthy."""
    if not isinstance(body, dict):
        return False
    return all(isinstance(body.get(part), dict) and body[part].get("status") == "healthy"
               for part in ("metadatabase", "scheduler"))


@dataclass(frozen=True)
class HealthProbe:
    """``GET url`` must answer 200 (and, when given, ``check`` must accept the JSON body)."""

    url: str
    check: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class ServiceSpec:
    """One long-running service of the stack.

    Attributes
    ----------
    name
        Short name (``airflow``, ``mlflow``, ...), the key in ``pids.json``.
    command
        Argument vector; started in its own session, so the process group id equals its pid.
    env
        The complete environment of the process (may carry secrets: never logged).
    url
        Where people point a browser or client.
    health
        The readiness / health probe.
    ready_timeout
        Seconds ``up`` waits for the first healthy answer.
    port
        The TCP port it binds (checked free before starting).
    unavailable
        Why the service cannot be started here (not built yet, replaced by an external one); ``None`` when it can.
    prepare
        Run (blocking) just before the process starts, e.g. Airflow's metadata migration.
    stop_timeout
        Seconds between SIGTERM to the process group and SIGKILL.
    depends_on
        Services that must be healthy before this one starts (ignored when not part of the stack).
    notes
        Extra lines for the ``up``/``status`` table (e.g. where a password is).
    """

    name: str
    command: tuple[str, ...]
    env: Mapping[str, str]
    url: str
    health: HealthProbe
    ready_timeout: float
    port: int
    cwd: Path = PROJECT_ROOT
    unavailable: str | None = None
    prepare: Callable[[], object] | None = None
    stop_timeout: float = 15.0
    depends_on: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def url_port(url: str, what: str) -> tuple[str, int]:
    """Host and port of a loopback ``http://host:port`` URL the stack serves on.

    Raises
    ------
    ConfigurationError
        The URL has no explicit port or does not point at this machine.
    """
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK or parts.port is None:
        raise ConfigurationError(f"{what}={url!r}: the local stack serves on http://127.0.0.1:<port>")
    return "127.0.0.1", parts.port


def _child_env(**overrides: str) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([venv_bin, env.get("PATH", "")])
    env.update(overrides)
    return env


def _cli(*args: str) -> tuple[str, ...]:
    return (sys.executable, "-m", "cryptoderiv.cli", *args)


def cli_command_exists(*names: str) -> bool:
    """Whether ``cryptoderiv <names...>`` exists in this checkout (e.g. ``("stream", "run")``).

    Looked up in the command tree in-process (importing the CLI, which ``cryptoderiv stack`` has already
    done) rather than by running ``--help`` in a subprocess, which costs a full CLI start-up.
    """
    import typer.main

    from cryptoderiv.cli import app  # lazy: only the stack's availability check needs the command tree

    command: Any = typer.main.get_command(app)
    for name in names:
        command = getattr(command, "commands", {}).get(name)  # a group has .commands; a leaf does not
        if command is None:
            return False
    return True


def _persistent_secret(path: Path) -> str:
    """A random secret generated once and kept in a mode-0600 file (dashboard session key)."""
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def dashboard_database_url(settings: Settings, platform_url: str) -> str:
    """The platform database URL with the read-only dashboard login (``cryptoderiv_dashboard``)."""
    parts = urlsplit(platform_url)
    password = quote(settings.dashboard_db_password.get_secret_value(), safe="")
    netloc = f"cryptoderiv_dashboard:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=netloc))


def build_services(settings: Settings, database_url: str, state_dir: Path) -> list[ServiceSpec]:
    """The stack's services for these settings, in start order (PostgreSQL excluded)."""
    services: list[ServiceSpec] = []

    # -- exchange simulator -------------------------------------------------------------------
    host, port = url_port(settings.simulator_url, "SIMULATOR_URL")
    services.append(ServiceSpec(
        name="simulator", command=_cli("simulator", "serve", "--host", host, "--port", str(port)),
        env=_child_env(), url=f"http://{host}:{port}", health=HealthProbe(f"http://{host}:{port}/_sim/health"),
        ready_timeout=60, port=port,
        unavailable=("EXCHANGE_SOURCE=live: the real venues are used"
                     if settings.exchange_source is ExchangeSource.LIVE else None)))

    # -- mail catcher ---------------------------------------------------------------------------
    web_port = settings.mail_web_port
    services.append(ServiceSpec(
        # `cryptoderiv mail serve` without the start-up cost of the whole CLI (same options).
        name="mail", command=(sys.executable, "-m", "cryptoderiv.stack.mailcatcher", "--smtp-port",
                              str(settings.smtp_port), "--web-port", str(web_port),
                              "--dir", str(settings.local_dir / "mail")),
        env=_child_env(), url=f"http://127.0.0.1:{web_port}",
        health=HealthProbe(f"http://127.0.0.1:{web_port}/health", _json_status_ok), ready_timeout=60, port=web_port,
        unavailable=(None if settings.smtp_host in LOOPBACK else
                     f"SMTP_HOST={settings.smtp_host}: mail goes to that server, no local catcher"),
        notes=(f"SMTP on 127.0.0.1:{settings.smtp_port}",)))

    # -- MLflow tracking server ---------------------------------------------------------------
    host, port = url_port(settings.mlflow_ui_url, "MLFLOW_UI_URL")
    mlflow_dir = settings.local_dir / "mlflow"
    allowed = ",".join(f"{h}:{port}" for h in ("127.0.0.1", "localhost")) + ",127.0.0.1,localhost"
    services.append(ServiceSpec(
        name="mlflow",
        command=(str(Path(sys.executable).parent / "mlflow"), "server",
                 "--backend-store-uri", f"sqlite:///{mlflow_dir / 'mlflow.db'}",
                 "--default-artifact-root", str(mlflow_dir / "artifacts"),
                 "--host", host, "--port", str(port), "--workers", "1", "--allowed-hosts", allowed),
        env=_child_env(), url=f"http://{host}:{port}", health=HealthProbe(f"http://{host}:{port}/health"),
        ready_timeout=180, port=port, stop_timeout=10,
        prepare=lambda: (mlflow_dir / "artifacts").mkdir(parents=True, exist_ok=True)))

    # -- streaming sidecar (issue #9) -----------------------------------------------------------
    stream_host = settings.stream_host
    stream_port = settings.stream_port
    sidecar_cmd = _cli("stream", "run", "--config", str(SIDECAR_CONFIG))
    unavailable = None if cli_command_exists("stream", "run") else "'cryptoderiv stream run' does not exist here yet"
    if unavailable is None and not SIDECAR_CONFIG.is_file():
        unavailable = f"{SIDECAR_CONFIG.relative_to(PROJECT_ROOT)} is missing"
    services.append(ServiceSpec(
        name="sidecar", command=sidecar_cmd,
        env=_child_env(STREAM_HOST=stream_host, STREAM_PORT=str(stream_port), DATABASE_URL=database_url),
        url=f"http://{stream_host}:{stream_port}",
        health=HealthProbe(f"http://{stream_host}:{stream_port}/health", _json_status_ok),
        ready_timeout=120, port=stream_port, unavailable=unavailable, depends_on=("simulator",)))

    # -- dashboard (issue #10) -------------------------------------------------------------------
    runtime = AirflowRuntime(settings, database_url)
    host, port = url_port(settings.dashboard_url, "DASHBOARD_URL")
    unavailable = None
    package = DASHBOARD_DIR / "package.json"
    if not package.is_file() or "start" not in json.loads(package.read_text()).get("scripts", {}):
        unavailable = "dashboard/package.json (with a 'start' script) is missing"
    elif not (DASHBOARD_DIR / ".next" / "BUILD_ID").is_file():
        unavailable = "the dashboard is not built: run 'npm --prefix dashboard ci && npm --prefix dashboard run build'"
    dashboard_env = {
        "PORT": str(port), "HOSTNAME": host, "NODE_ENV": "production", "NEXT_TELEMETRY_DISABLED": "1",
        "LOCAL_DIR": str(settings.local_dir), "AIRFLOW_URL": settings.airflow_url,
        "MLFLOW_UI_URL": settings.mlflow_ui_url, "STREAM_URL": f"http://{stream_host}:{stream_port}",
    }
    if unavailable is None:
        # Passed only when the dashboard runs: reading the secret file creates it.
        env_now = os.environ
        dashboard_env["DASHBOARD_DATABASE_URL"] = (
            env_now.get("DASHBOARD_DATABASE_URL") or dashboard_database_url(settings, database_url))
        dashboard_env["DASHBOARD_SESSION_SECRET"] = (
            env_now.get("DASHBOARD_SESSION_SECRET") or _persistent_secret(state_dir / "dashboard_session_secret"))
        # recent DAG runs through Airflow's REST API, as the read-only viewer user
        dashboard_env["AIRFLOW_API_USER"] = env_now.get("AIRFLOW_API_USER") or DASHBOARD_API_USER
        dashboard_env["AIRFLOW_API_PASSWORD"] = (
            env_now.get("AIRFLOW_API_PASSWORD") or runtime.api_password(DASHBOARD_API_USER))
    services.append(ServiceSpec(
        name="dashboard", command=("npm", "--prefix", str(DASHBOARD_DIR), "run", "start"),
        env=_child_env(**dashboard_env), url=f"http://{host}:{port}",
        health=HealthProbe(f"http://{host}:{port}/api/health"), ready_timeout=90, port=port,
        unavailable=unavailable))

    # -- Airflow (standalone: api-server, scheduler, dag-processor, triggerer) -------------------
    host, port = url_port(settings.airflow_url, "AIRFLOW_URL")
    mlflow_url = settings.mlflow_tracking_uri or settings.mlflow_ui_url
    airflow_bin = str(Path(sys.executable).parent / "airflow")
    pools = runtime.home / "pools.json"
    # Metadata migration and the venue pools first, inside the service (its log, its process group), so
    # `up` does not block on them; then standalone replaces the shell (same pid).
    script = 'set -e; "$0" db migrate; "$0" pools import "$1"; exec "$0" standalone'
    services.append(ServiceSpec(
        name="airflow", command=("/bin/sh", "-c", script, airflow_bin, str(pools)),
        env=runtime.standalone_environment(host, port, mlflow_url),
        url=f"http://{host}:{port}",
        health=HealthProbe(f"http://{host}:{port}/api/v2/monitor/health", airflow_components_healthy),
        ready_timeout=300, port=port, prepare=lambda: pools_import_command(runtime.home), stop_timeout=30,
        notes=(f"login admin; password in {runtime.home / 'simple_auth_manager_passwords.json.generated'}",)))
    return services
