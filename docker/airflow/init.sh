#!/usr/bin/env bash
# The airflow-init job of docker-compose.yml: migrate Airflow's metadata database and the platform's
# schema, create the connections and the venue pools. Idempotent: every run leaves the same state.
# Secrets arrive as environment variables from .env; none is printed.
set -euo pipefail

airflow db migrate

# The platform's schema (sql/migrations) on the TimescaleDB server: the hypertable branch.
cryptoderiv db migrate

upsert_connection() {  # name, then `airflow connections add` options
    local name="$1"; shift
    airflow connections delete "$name" >/dev/null 2>&1 || true
    airflow connections add "$name" "$@" >/dev/null
    echo "connection $name ready"
}

upsert_connection cryptoderiv_db --conn-type postgres --conn-host "${PLATFORM_DB_HOST}" \
    --conn-port "${PLATFORM_DB_PORT}" --conn-login "${POSTGRES_USER}" --conn-password "${POSTGRES_PASSWORD}" \
    --conn-schema "${PLATFORM_DB_NAME}"
smtp_extra='{"disable_tls": true, "disable_ssl": true, "from_email": "airflow@cryptoderiv.local"}'
upsert_connection smtp_default --conn-type smtp --conn-host "${SMTP_HOST}" --conn-port "${SMTP_PORT}" \
    --conn-login "${SMTP_USER:-}" --conn-password "${SMTP_PASSWORD:-}" --conn-extra "${smtp_extra}"
upsert_connection spark_default --conn-type spark --conn-host "${SPARK_MASTER}" \
    --conn-extra '{"deploy-mode": "client"}'
upsert_connection mlflow_default --conn-type http --conn-host "${MLFLOW_HOST}" --conn-port "${MLFLOW_PORT}" \
    --conn-schema http

pools_file="$(python -c 'import pathlib, tempfile
from cryptoderiv.airflow_runtime import pools_import_command
print(pools_import_command(pathlib.Path(tempfile.mkdtemp()))[-1])')"
airflow pools import "${pools_file}"
echo "airflow-init done"
