#!/usr/bin/env bash
# The dashboard's build/serve/screenshot helper.
#   scripts/dashboard.sh build                         npm ci (when needed) + next build
#   scripts/dashboard.sh start                         next start on $PORT (default 3000); env as documented
#   scripts/dashboard.sh screenshots DATABASE_URL OUT  build, serve against DATABASE_URL's database through the
#                                                      read-only login, sign in with a one-off user, save a
#                                                      screenshot of every page to OUT and print the paths
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DASH="$ROOT/dashboard"
PY="$ROOT/.venv/bin/python"
export NEXT_TELEMETRY_DISABLED=1

build() {
  if [ ! -f "$DASH/node_modules/.package-lock.json" ]; then npm --prefix "$DASH" ci --no-audit --no-fund; fi
  npm --prefix "$DASH" run build >/dev/null
}

case "${1:-}" in
  build) build ;;
  start) cd "$DASH" && exec npx next start -H "${HOST:-127.0.0.1}" -p "${PORT:-3000}" ;;
  screenshots)
    url="${2:?database URL}"; out="$(mkdir -p "${3:?output dir}" && cd "$3" && pwd)"
    build
    ro_url="$("$PY" -c 'import sys; from cryptoderiv.storage.migrations import dashboard_url; print(dashboard_url(sys.argv[1]))' "$url")"
    password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
    hash="$(printf '%s\n' "$password" | node "$DASH/scripts/hash-password.mjs")"
    port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    log="$out/next-start.log"
    ( cd "$DASH" && DASHBOARD_DATABASE_URL="$ro_url" DASHBOARD_USERS="{\"demo\":\"$hash\"}" \
        DASHBOARD_SESSION_SECRET="$("$PY" -c 'import secrets; print(secrets.token_hex(32))')" \
        setsid npx next start -H 127.0.0.1 -p "$port" >"$log" 2>&1 ) &
    for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.5; done
    pid="$(pgrep -f "next start -H 127.0.0.1 -p $port" | head -1 || true)"
    trap '[ -n "$pid" ] && kill -- -"$(ps -o pgid= -p "$pid" | tr -d " ")" 2>/dev/null || true' EXIT
    node "$DASH/e2e/run.mjs" --base "http://127.0.0.1:$port" --user demo --password "$password" --out "$out" \
      | "$PY" -c 'import json,sys; r=json.load(sys.stdin); [print(k.ljust(9), v["screenshot"], " (LCP", v["lcpMs"], "ms)") for k,v in r["pages"].items()]'
    ;;
  *) echo "usage: $0 build | start | screenshots DATABASE_URL OUT_DIR" >&2; exit 2 ;;
esac
