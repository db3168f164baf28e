# Roost tasks. `just` is optional: every recipe is a plain command you can run yourself.

pg_url := env_var_or_default("ROOST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")

# Run the server on the embedded SQLite default (creates ./data/roost.db, prints credentials).
run:
    cargo run --release -p roost

# Run every test (SQLite).
test:
    cargo test --workspace

# Run the storage, auth and HTTP suites on SQLite and PostgreSQL, with the tests that need
# PostgreSQL or Node.js (`npm ci` in tests/interop/js) and are ignored by a plain `cargo test`.
test-pg:
    ROOST_TEST_POSTGRES_URL={{pg_url}} cargo test -p roost-persistence -p roost-auth -p roost-http -p roost -- --include-ignored

# Format check, clippy with warnings denied, and the layering check.
check:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    ! cargo tree -q -p roost-domain -e normal --prefix none --format '{p}' | awk '{print $1}' | grep -qxE 'diesel|actix-web|r2d2|argon2'

# Benchmarks (release build; installs wrk from Debian when missing). The load benchmark runs
# Roost next to a baseline server; the cursor benchmark reads pages of 10k and 1M channels.
# Set ROOST_BENCH_POSTGRES_URL to measure PostgreSQL too. Results: target/bench/*.json.
bench:
    command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
    cargo build --release -p roost -p roost-bench
    target/release/roost-bench
    cargo bench -p roost-persistence --bench cursor_page

# The whole CI, as it runs on a fresh clone.
ci:
    bash .ci/run

# Create a migration pair with the same folder name for both engines.
migration NAME:
    #!/usr/bin/env bash
    set -euo pipefail
    dir="$(date -u +%Y-%m-%d-%H%M%S)_{{NAME}}"
    for engine in sqlite postgres; do
      mkdir -p "migrations/$engine/$dir"
      printf -- '-- %s (%s)\n' "{{NAME}}" "$engine" > "migrations/$engine/$dir/up.sql"
      printf -- '-- undo %s (%s)\n' "{{NAME}}" "$engine" > "migrations/$engine/$dir/down.sql"
    done
    echo "created migrations/{sqlite,postgres}/$dir"
