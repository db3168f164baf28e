#!/usr/bin/env bash
# The README's server command as a newcomer runs it, in a checkout with no data yet, where
# OpenSSL's development files and pkg-config do not exist (.ci/without-openssl.sh): the release
# build succeeds, the server creates its SQLite database and prints credentials, and those
# credentials get a token that reads the application. Run from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ ! -e data ] || { echo "data/ exists: the newcomer check needs a checkout that never ran the server" >&2; exit 1; }
.ci/without-openssl.sh cargo build --release -p roost
logs="$(mktemp -d)"
# Its own process group, so one signal reaches cargo and the server it started.
setsid .ci/without-openssl.sh cargo run --release -p roost > "$logs/out" 2> "$logs/err" &
group=$!
stop() { kill -TERM -- "-$group" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 120); do grep -q "listening on http://" "$logs/err" && break; sleep 0.5; done
grep -q "listening on http://" "$logs/err" || { cat "$logs/err"; echo "the server did not start" >&2; exit 1; }
id="$(sed -n 's/^client_id: *//p' "$logs/out")"
secret="$(sed -n 's/^client_secret: *//p' "$logs/out")"
[ -n "$id" ] && [ -n "$secret" ] || { cat "$logs/out"; echo "no credentials printed" >&2; exit 1; }
token="$(curl -sf -u "$id:$secret" -d grant_type=client_credentials http://127.0.0.1:8080/oauth/token | jq -er .access_token)"
curl -sf -H "Authorization: Bearer $token" http://127.0.0.1:8080/v1/application | jq -e '.name' >/dev/null
[ -f data/roost.db ] || { echo "no data/roost.db" >&2; exit 1; }
stop
trap - EXIT
for _ in $(seq 1 60); do kill -0 "$group" 2>/dev/null || break; sleep 0.5; done
grep -q "stopped" "$logs/err" || { cat "$logs/err"; echo "the server did not stop gracefully" >&2; exit 1; }
rm -rf data
echo "newcomer check: release build without OpenSSL headers, first start, credentials, token, API: ok"
