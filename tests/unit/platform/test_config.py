"""Settings come from the environment, with local defaults, and keep secrets out of repr."""

from __future__ import annotations

import pytest

from cryptoderiv.config import ExchangeSource, Settings


def test_defaults_are_the_embedded_local_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "EXCHANGE_SOURCE", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url is None
    assert settings.exchange_source is ExchangeSource.SIMULATOR
    assert settings.pg_dir == settings.local_dir / "pg"
    assert settings.resolved_mlflow_uri == f"sqlite:///{settings.local_dir / 'mlflow' / 'mlflow.db'}"


def test_environment_overrides_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/x")
    monkeypatch.setenv("EXCHANGE_SOURCE", "live")
    monkeypatch.setenv("DASHBOARD_DB_PASSWORD", "s3cret-value")
    settings = Settings()
    assert settings.database_url == "postgresql://u:p@db:5432/x"
    assert settings.exchange_source is ExchangeSource.LIVE
    assert "s3cret-value" not in repr(settings)
    monkeypatch.setenv("EXCHANGE_SOURCE", "paper")
    with pytest.raises(ValueError, match="exchange_source"):
        Settings()
