"""One typed settings object, read from the environment with local defaults.

Every setting has an environment variable of the same name in upper case (``DATABASE_URL``,
``EXCHANGE_SOURCE``, ...); ``.env.example`` documents them. Nothing else in the library reads
``os.environ``. Secrets (database password, SMTP password, exchange keys) only ever come from here,
and :class:`pydantic.SecretStr` keeps them out of ``repr`` and logs.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ExchangeSource(StrEnum):
    """Where market data comes from."""

    SIMULATOR = "simulator"
    LIVE = "live"


class Settings(BaseSettings):
    """Platform settings. Unset values fall back to the embedded local defaults."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: the project-managed local cluster under LOCAL_DIR/pg is used.",
    )
    local_dir: Path = Field(
        default=PROJECT_ROOT / ".local",
        description="Git-ignored folder for the local cluster, landing files, MLflow store and logs.",
    )
    local_pg_port: int = Field(default=55432, ge=1024, le=65535, description="Port of the local cluster.")
    local_pg_user: str = Field(default="cryptoderiv", description="Superuser of the local cluster.")
    local_pg_database: str = Field(default="cryptoderiv", description="Database of the local cluster.")
    local_pg_os_user: str = Field(
        default="postgres",
        description="Unprivileged OS account the local cluster runs as when the platform runs as root.",
    )
    dashboard_db_password: SecretStr = Field(
        default=SecretStr("dashboard-local-only"),
        description="Password of the read-only dashboard role (set a real one outside local development).",
    )
    exchange_source: ExchangeSource = Field(default=ExchangeSource.SIMULATOR)
    simulator_url: str = Field(default="http://127.0.0.1:8765")
    spark_master: str = Field(
        default="local[*]",
        description="Master of the Airflow spark_default connection: local[*], spark://host:7077, k8s://...",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None, description="MLflow tracking URI. Unset: a local store under LOCAL_DIR/mlruns."
    )
    mlflow_ui_url: str = Field(
        default="http://127.0.0.1:5000", description="Base URL of the MLflow UI, used to build run links."
    )
    smtp_host: str = Field(default="127.0.0.1")
    smtp_port: int = Field(default=1025)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    airflow_url: str = Field(default="http://127.0.0.1:8080", description="Airflow UI/API (make up serves it here).")
    dashboard_url: str = Field(default="http://127.0.0.1:3000", description="Trader dashboard (make up serves it).")
    mail_web_port: int = Field(default=8025, ge=0, le=65535, description="Web view of the local mail catcher.")
    report_recipients: str = Field(default="risk@example.com", description="Comma-separated addresses.")
    stream_host: str = Field(default="127.0.0.1", description="Interface the streaming sidecar listens on.")
    stream_port: int = Field(default=8090, ge=0, le=65535, description="Port of the streaming sidecar (0: any).")
    stream_url: str = Field(default="ws://127.0.0.1:8090/ws", description="The sidecar's WebSocket, for clients.")
    shared_market_dir: Path = Field(
        default=PROJECT_ROOT.parent / "shared" / "data" / "market",
        description="Real published market data (read-only; used only where the path exists).",
    )
    report_sender: str = Field(default="cryptoderiv@localhost", description="From address of the e-mail reports.")
    report_portfolio: str = Field(default="sample", description="Portfolio the daily report covers by default.")
    reports_dir: Path | None = Field(
        default=None, description="Where report files are written. Unset: LOCAL_DIR/reports (<dir>/<date>/)."
    )

    @property
    def pg_dir(self) -> Path:
        """Data directory and logs of the local cluster."""
        return self.local_dir / "pg"

    @property
    def resolved_mlflow_uri(self) -> str:
        """MLflow tracking URI, defaulting to a SQLite store under the local folder (the store ``make up``'s
        MLflow server serves; MLflow 3 refuses new file stores)."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.local_dir / 'mlflow' / 'mlflow.db'}"

    @property
    def resolved_reports_dir(self) -> Path:
        """Folder of the report files (``REPORTS_DIR``, default ``LOCAL_DIR/reports``)."""
        return self.reports_dir or self.local_dir / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
