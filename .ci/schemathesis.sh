#!/usr/bin/env bash
# Fuzzes every operation of /openapi.json with schemathesis, once per
# database, against a freshly started server with authentication on (an
# admin key for the fuzzer; `ignored_auth` then checks that every protected
# operation refuses requests without it). Fails on any 5xx, any response
# that violates its documented status, content type, headers or schema, any
# schema-violating request that is accepted and any schema-valid request
# that is refused (the documented exceptions are in schemathesis.toml).
#
# Usage: .ci/schemathesis.sh [sqlite|postgres]...   (default: both)
# Needs the `forecastlab` binary ($FORECASTLAB_BIN, else the debug build in
# $CARGO_TARGET_DIR) and `schemathesis` on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${FORECASTLAB_BIN:-${CARGO_TARGET_DIR:-target}/debug/forecastlab}"
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-25}"
SEED="${SCHEMATHESIS_SEED:-20261130}"
PORT="${SCHEMATHESIS_PORT:-18923}"

fuzz() {
    local backend=$1 work database_url pid status=0
    work=$(mktemp -d)
    case "$backend" in
        sqlite) database_url="sqlite://$work/forecastlab.db" ;;
        postgres)
            local name="forecastlab_fuzz_$$"
            psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
            database_url="${PG_ADMIN%/*}/$name"
            ;;
        *) echo "unknown backend $backend" >&2; return 2 ;;
    esac
    export DATABASE_URL="$database_url" APP_ENV=testing AUTH_ENABLED=true LOG_LEVEL=warn \
        FORECAST_MODEL_ARTIFACTS_DIR="$work/models" REGISTRY_ARTIFACT_ROOT="$work/registry" \
        SEEDER_MAX_ROWS_PER_REQUEST=5000 SEEDER_MAX_ROWS_PER_JOB=20000 JOBS_WORKERS=1
    "$BIN" migrate
    local key
    key=$("$BIN" apikey create --scope admin --name schemathesis 2>/dev/null)
    "$BIN" serve --addr "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do
        curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
        sleep 0.2
    done
    echo "== schemathesis on $backend (seed $SEED, $EXAMPLES examples per operation)"
    local started=$SECONDS
    # One worker: CPython 3.11 before 3.11.8 can fail building ASTs in
    # parallel threads (gh-106905), which schemathesis reports as an error.
    schemathesis --config-file .ci/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
        --checks all --max-examples "$EXAMPLES" --seed "$SEED" --generation-deterministic \
        --header "Authorization: Bearer $key" --no-color --workers 1 --request-timeout 30 || status=$?
    echo "== schemathesis on $backend took $((SECONDS - started)) s (exit $status)"
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ "$status" -ne 0 ]; then
        echo "-- server log: errors (last 40)"; grep -a 'ERROR' "$work/server.log" | tail -n 40 || true
        echo "-- server log (last 40 lines)"; tail -n 40 "$work/server.log"
    fi
    if [ "$backend" = postgres ]; then
        psql "$PG_ADMIN" -q -c "DROP DATABASE IF EXISTS forecastlab_fuzz_$$ WITH (FORCE)" || true
    fi
    rm -rf "$work"
    return "$status"
}

backends=("$@")
[ ${#backends[@]} -eq 0 ] && backends=(sqlite postgres)
failed=0
for backend in "${backends[@]}"; do
    fuzz "$backend" || failed=1
done
exit "$failed"
