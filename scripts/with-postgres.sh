#!/usr/bin/env bash
# Runs a command with a private PostgreSQL server on loopback, its URL in EXAM_BUILDER_PG_URL.
# The server lives in a temporary folder and is stopped when the command ends.
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PGBIN" ]; then
  echo "PostgreSQL is not installed (run: make system-deps); PostgreSQL tests will be skipped" >&2
  exec "$@"
fi
dir=$(mktemp -d /tmp/exam-builder-pg.XXXXXX)
# a free loopback port, so two runs on one machine never collide
port=${EXAM_BUILDER_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
runas=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  runas=(runuser -u postgres --)
fi
"${runas[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
"${runas[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
cleanup() { "${runas[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
export EXAM_BUILDER_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
"$@"
