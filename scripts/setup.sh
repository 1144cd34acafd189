#!/usr/bin/env bash
# One-time, idempotent set-up for a fresh Debian 12 machine: system packages when missing, the
# virtualenv at .venv from the pinned lock, and the project itself (editable). A second run only
# checks and exits in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || APT_PACKAGES+=(postgresql)
[ -f /usr/share/java/postgresql.jar ] || APT_PACKAGES+=(libpostgresql-jdbc-java)
command -v java >/dev/null 2>&1 || APT_PACKAGES+=(default-jre-headless)
command -v runuser >/dev/null 2>&1 || APT_PACKAGES+=(util-linux)
# the dashboard's browser tests and screenshots drive Debian's Chromium (browser downloads are impossible here)
command -v chromium >/dev/null 2>&1 || APT_PACKAGES+=(chromium)
command -v node >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)
if [ ${#APT_PACKAGES[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing Debian packages: ${APT_PACKAGES[*]}; run as root or: sudo apt-get install ${APT_PACKAGES[*]}" >&2
        exit 1
    fi
    echo "setup: installing Debian packages: ${APT_PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null
    # Debian starts a system cluster on 5432; the platform runs its own, so leave that one stopped.
    if command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | while read -r ver name; do
            pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
        done
    fi
fi

# The dashboard's npm packages, pinned by dashboard/package-lock.json (reinstalled when the lock changes).
DASH_STAMP=dashboard/node_modules/.cryptoderiv-installed
DASH_WANT=$(sha256sum dashboard/package-lock.json | cut -d' ' -f1)
if [ ! -f "$DASH_STAMP" ] || [ "$(cat "$DASH_STAMP")" != "$DASH_WANT" ]; then
    echo "setup: installing the dashboard's npm packages"
    NEXT_TELEMETRY_DISABLED=1 npm --prefix dashboard ci --no-audit --no-fund --loglevel=error >/dev/null
    echo "$DASH_WANT" > "$DASH_STAMP"
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
STAMP=.venv/.cryptoderiv-installed
WANT=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; then
    exit 0
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check 'uv==0.13.9'
echo "setup: installing the pinned environment into .venv (first run: a few minutes)"
.venv/bin/uv pip install -q --python .venv/bin/python -r requirements.txt
.venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
.venv/bin/python - <<'PY'
import pyspark, importlib.metadata as md
assert pyspark.__version__ == md.version("pyspark-client"), (pyspark.__version__, md.version("pyspark-client"))
PY
echo "$WANT" > "$STAMP"
echo "setup: done"
