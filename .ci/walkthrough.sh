#!/usr/bin/env bash
# Runs the API guide's walk-through (docs/walkthrough.sh) against a fresh Roost, so the guide
# cannot drift from the server.
#
#   .ci/walkthrough.sh sqlite|postgres
#
# The server is the binary already built at $ROOST_BIN (default target/debug/roost). It starts on
# a port the system picks, on a database of its own (SQLite: a file in a temporary folder;
# PostgreSQL: a database roost_walk_PID created on $ROOST_WALK_POSTGRES_URL, default
# postgres://postgres@127.0.0.1:5432, and dropped afterwards), and prints the client id and secret
# of its first application, which the walk-through then uses. The script fails, showing the
# server's log, when the server does not start, when the walk-through fails, or when the server
# does not stop cleanly on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."

engine="${1:-}"
case "$engine" in
  sqlite | postgres) ;;
  *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
bin="${ROOST_BIN:-target/debug/roost}"
[ -x "$bin" ] || { echo "no server binary at $bin (build it, or set ROOST_BIN)" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
if ! command -v jq >/dev/null; then
  apt-get update -qq && apt-get install -y -qq jq
fi
command -v curl >/dev/null || { apt-get update -qq && apt-get install -y -qq curl; }

work="$(mktemp -d)"
pg_base="${ROOST_WALK_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
pg_base="${pg_base%/}"
database="roost_walk_$$"
pid=""
created_database=false
show_log=true

stop_server() {
  [ -n "$pid" ] || return 0
  local status=0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "the server did not stop within 15 s of SIGTERM" >&2
    kill -KILL "$pid" 2>/dev/null || true
    status=1
  fi
  wait "$pid" || status=$?
  pid=""
  return "$status"
}
cleanup() {
  local status=$?
  stop_server || status=1
  if [ "$status" -ne 0 ] && $show_log; then
    echo "---- server log ($engine) ----" >&2
    cat "$work/server.log" >&2 2>/dev/null || true
    echo "---- server output (secret hidden) ----" >&2
    sed 's/^\(client_secret: *\).*/\1…/' "$work/server.out" >&2 2>/dev/null || true
  fi
  if $created_database; then
    psql "$pg_base/postgres" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null ||
      echo "could not drop the database $database" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

case "$engine" in
  sqlite) url="sqlite://$work/roost.db" ;;
  postgres)
    psql "$pg_base/postgres" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $database" >/dev/null
    created_database=true
    url="$pg_base/$database"
    ;;
esac

# The server sees no ROOST_* variable of the caller's (CI's ROOST_TEST_POSTGRES_URL, a stray
# ROOST_CONFIG…), and runs in the empty folder, where no roost.toml is read.
unset_roost=()
for name in $(compgen -e); do
  case "$name" in ROOST_*) unset_roost+=(-u "$name") ;; esac
done
(
  cd "$work"
  exec env "${unset_roost[@]}" ROOST_DATABASE_URL="$url" ROOST_BIND=127.0.0.1:0 ROOST_BOOTSTRAP=true \
    "$bin" serve >"$work/server.out" 2>"$work/server.log"
) &
pid=$!

# The first start prints the credentials, then a token command naming the address it listens on.
base=""
for _ in $(seq 1 600); do
  kill -0 "$pid" 2>/dev/null || { echo "the server exited at start-up" >&2; exit 1; }
  base="$(sed -n 's|^Get a token: .* \(http://[^ ]*\)/oauth/token$|\1|p' "$work/server.out")"
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "the server printed no credentials within 60 s" >&2; exit 1; }
client_id="$(sed -n 's/^client_id: *//p' "$work/server.out")"
client_secret="$(sed -n 's/^client_secret: *//p' "$work/server.out")"
if [ -z "$client_id" ] || [ -z "$client_secret" ]; then
  echo "no client id or secret in the server's output" >&2
  exit 1
fi

ready=false
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || { echo "the server exited before it was ready" >&2; exit 1; }
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; then ready=true; break; fi
  sleep 0.1
done
$ready || { echo "$base/readyz did not answer 200 within 30 s" >&2; exit 1; }
echo "Roost on $engine at $base ($url)"

docs/walkthrough.sh "$base" "$client_id" "$client_secret"

stop_server || { echo "the server did not stop cleanly on SIGTERM" >&2; exit 1; }
show_log=false
echo "walk-through on $engine: ok"
