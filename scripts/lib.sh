# Shared shell helpers for scripts/run.sh, scripts/test.sh and scripts/bench.sh (sourced).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive

ensure_apt() {  # ensure_apt pkg...: install the Debian packages that are missing
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "siemhub: installing Debian packages: ${missing[*]}" >&2
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-upgrade "${missing[@]}" >/dev/null
  fi
}

ensure_venv() {  # create .venv and install the pinned requirements (fast when up to date)
  [ -x .venv/bin/python ] || python3 -m venv .venv
  local stamp=.venv/.requirements.sha
  local want; want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
    echo "$want" > "$stamp"
  fi
}

SERVICES_DIR=""
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

services_start() {  # throwaway Postgres + Redis on loopback; sets DATABASE_URL / CELERY_BROKER_URL
  SERVICES_DIR=$(mktemp -d /tmp/siemhub-svc.XXXXXX); chmod 755 "$SERVICES_DIR"
  REDIS_PORT=${REDIS_PORT:-$(free_port)}; PGPORT=${PGPORT:-$(free_port)}
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$SERVICES_DIR" --pidfile "$SERVICES_DIR/redis.pid" --logfile "$SERVICES_DIR/redis.log"
  install -d -o postgres -g postgres "$SERVICES_DIR/pg"
  ( cd / && runuser -u postgres -- "$PGBIN/initdb" -D "$SERVICES_DIR/pg" -A trust -U postgres -E UTF8 \
      --locale=C.UTF-8 --no-sync >/dev/null
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SERVICES_DIR/pg" -l "$SERVICES_DIR/pg/server.log" -w -t 60 \
      -o "-p $PGPORT -k $SERVICES_DIR/pg -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_EXTRA_OPTS:-}" start >/dev/null )
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
  export REDIS_PORT PGPORT
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/siemhub"
  export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
  runuser -u postgres -- "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres siemhub
}

services_stop() {
  [ -n "$SERVICES_DIR" ] || return 0
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  if [ -f "$SERVICES_DIR/pg/postmaster.pid" ]; then
    (cd / && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$SERVICES_DIR/pg" -m immediate stop >/dev/null 2>&1) || true
  fi
  rm -rf "$SERVICES_DIR"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
