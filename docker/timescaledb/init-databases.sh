#!/usr/bin/env bash
# First start of the TimescaleDB container: the metadata databases of Airflow and MLflow beside the
# platform's own (POSTGRES_DB). The platform schema itself is applied by the airflow-init job.
set -euo pipefail
for db in airflow mlflow; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -c "CREATE DATABASE $db OWNER \"$POSTGRES_USER\""
done
