#!/usr/bin/env bash
# Read load with wrk, side by side on SQLite and PostgreSQL: the release
# server over the same seeded data (`forecastlab seed`, seed 42), 64
# connections, each read route for BENCH_SECONDS; prints requests/s, p50
# and p99 per route and database, and the SQLite/PostgreSQL throughput
# ratio on /analytics/kpis.
#
#   bash server/benches/load.sh
#
# With BENCH_PIN=1 (the default on a machine of 2 or more cores) wrk runs
# on CPU 0 and the server on the others, so that the load generator does
# not take the server's cores in turns with it (its time slices would
# otherwise show up as the server's tail latency); BENCH_PIN=0 shares them.
#
# Settings: BENCH_SECONDS (10), BENCH_CONNECTIONS (64), BENCH_THREADS (2, or 1 when pinned),
# BENCH_STORES / BENCH_PRODUCTS / BENCH_DAYS (10 / 50 / 365 — the seeder's
# defaults), TEST_POSTGRES_URL (the admin URL of a PostgreSQL server),
# BENCH_PROFILE (`release`, built here; `debug` reuses the debug binary).
# Needs wrk (Debian package `wrk`).
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_ROUTE="${BENCH_SECONDS:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
PIN="${BENCH_PIN:-1}"
SERVER_ON=()
WRK_ON=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
    SERVER_ON=(taskset -c "1-$(($(nproc) - 1))")
    WRK_ON=(taskset -c 0)
    THREADS="${BENCH_THREADS:-1}"
else
    THREADS="${BENCH_THREADS:-2}"
fi
STORES="${BENCH_STORES:-10}"
PRODUCTS="${BENCH_PRODUCTS:-50}"
DAYS="${BENCH_DAYS:-365}"
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT=18931

PROFILE="${BENCH_PROFILE:-release}"
if [ "$PROFILE" = release ]; then
    cargo build --release -p forecastlab-server --bin forecastlab >/dev/null
fi
BIN="${CARGO_TARGET_DIR:-target}/$PROFILE/forecastlab"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

END=$(date +%F)
START=$(date -d "$END - $((DAYS - 1)) days" +%F)
Q_START=$(date -d "$END - 89 days" +%F)
ROUTES=(
    "/analytics/kpis?start_date=$Q_START&end_date=$END"
    "/analytics/drilldowns?dimension=store&start_date=$Q_START&end_date=$END"
    "/dimensions/products?page=1&page_size=20"
    "/seeder/status"
    "/health"
)

# Busy and total CPU ticks of the machine so far.
cpu_ticks() {
    awk '/^cpu / { total = 0; for (i = 2; i <= NF; i++) total += $i; print total - $5 - $6, total }' /proc/stat
}

# Waits (at most 30 s) until the machine is idle: requests wrk abandons at
# its deadline still run to completion in the server and the database
# (a 64-deep queue of a slow route takes seconds), and would otherwise land
# in the next route's figures.
settle() {
    local busy total last_busy last_total
    read -r last_busy last_total < <(cpu_ticks)
    for _ in $(seq 1 60); do
        sleep 0.5
        read -r busy total < <(cpu_ticks)
        [ $(((busy - last_busy) * 10)) -le $((total - last_total)) ] && return
        last_busy=$busy last_total=$total
    done
}

bench() {
    local backend=$1 url=$2 pid
    export DATABASE_URL="$url" APP_ENV=development LOG_LEVEL=warn JOBS_WORKERS=0 \
        FORECAST_MODEL_ARTIFACTS_DIR="$work/models" REGISTRY_ARTIFACT_ROOT="$work/registry"
    "$BIN" seed --seed 42 --stores "$STORES" --products "$PRODUCTS" --days "$DAYS" --reset >/dev/null 2>&1
    "${SERVER_ON[@]}" "$BIN" serve --addr "127.0.0.1:$PORT" >"$work/$backend.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.2; done
    for route in "${ROUTES[@]}"; do
        settle
        curl -fsS "http://127.0.0.1:$PORT$route" >/dev/null # warm up, and fail on an error
        "${WRK_ON[@]}" wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SECONDS_PER_ROUTE}s" --latency \
            "http://127.0.0.1:$PORT$route" >"$work/out.txt"
        local rps p50 p99 errors
        rps=$(awk '/Requests\/sec/ {print $2}' "$work/out.txt")
        p50=$(awk '$1 == "50%" {print $2}' "$work/out.txt")
        p99=$(awk '$1 == "99%" {print $2}' "$work/out.txt")
        errors=$(awk '/Non-2xx/ {print $5}' "$work/out.txt")
        printf '%-9s %-40s %10s req/s  p50 %-9s p99 %-9s %s\n' \
            "$backend" "${route%%\?*}" "$rps" "$p50" "$p99" "${errors:+non-2xx: $errors}"
        echo "$backend ${route%%\?*} $rps" >>"$work/summary.txt"
    done
    kill -TERM "$pid"
    wait "$pid" || true
}

printf '%s stores x %s products x %s days, %s connections, %s s per route, %s\n' \
    "$STORES" "$PRODUCTS" "$DAYS" "$CONNECTIONS" "$SECONDS_PER_ROUTE" \
    "$([ ${#WRK_ON[@]} -gt 0 ] && echo "wrk on CPU 0, server on the others" || echo "wrk and server share the cores")"
bench sqlite "sqlite://$work/bench.db"
name="forecastlab_load_$$"
psql "$PG_ADMIN" -q -c "CREATE DATABASE $name"
bench postgres "${PG_ADMIN%/*}/$name"
psql "$PG_ADMIN" -q -c "DROP DATABASE $name WITH (FORCE)"

awk '$2 == "/analytics/kpis" { rps[$1] = $3 }
     END { if (rps["postgres"] > 0) printf "kpis: SQLite / PostgreSQL throughput = %.2f\n", rps["sqlite"] / rps["postgres"] }' \
    "$work/summary.txt"
