"""Helpers for the stack tests: an isolated environment for a second stack (ports from `free_ports`)."""

from __future__ import annotations

import json
import os

from tests.integration.dashboard.support import scrypt_hash

#: the dashboard user of the smoke test's stack (DASHBOARD_USERS holds its scrypt hash)
SMOKE_USER = "smoke"
SMOKE_PASSWORD = "stack smoke test password"


def stack_environment(local_dir: str, ports: dict[str, int]) -> dict[str, str]:
    """The environment of a stack under ``local_dir`` on ``ports`` (keys: pg, simulator, airflow, mlflow,
    dashboard, smtp, mail_web, stream): nothing is shared with a developer's running stack."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_HOME", "DATABASE_URL", "MLFLOW_"))}
    env.update({
        "LOCAL_DIR": local_dir,
        "LOCAL_PG_PORT": str(ports["pg"]),
        "EXCHANGE_SOURCE": "simulator",
        "SIMULATOR_URL": f"http://127.0.0.1:{ports['simulator']}",
        "AIRFLOW_URL": f"http://127.0.0.1:{ports['airflow']}",
        "MLFLOW_UI_URL": f"http://127.0.0.1:{ports['mlflow']}",
        "DASHBOARD_URL": f"http://127.0.0.1:{ports['dashboard']}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(ports["smtp"]),
        "MAIL_WEB_PORT": str(ports["mail_web"]),
        "STREAM_HOST": "127.0.0.1",
        "STREAM_PORT": str(ports["stream"]),
        "STREAM_URL": f"ws://127.0.0.1:{ports['stream']}/ws",
        "DASHBOARD_USERS": json.dumps({SMOKE_USER: scrypt_hash(SMOKE_PASSWORD)}),
    })
    return env
