#!/usr/bin/env bash
# Peak memory under hostile bodies: starts the server on an empty SQLite
# database, sends BENCH_BODIES (4) bodies at once of MAX_BODY_BYTES
# (16 MiB) each, every one a JSON array of about 8 million small numbers
# posted to `POST /ingest/sales-daily`, and prints the server's resident memory
# before, its peak (VmHWM) after, every answer's status, and the peak's
# growth as a multiple of the body limit (the README's bound: under 4×).
#
#   bash server/benches/hostile_bodies.sh
#
# Settings: BENCH_BODIES (4), BENCH_PROFILE (`release`, built here;
# `debug` reuses the debug binary).
set -euo pipefail
cd "$(dirname "$0")/../.."

BODIES="${BENCH_BODIES:-4}"
LIMIT=$((16 * 1024 * 1024))
PORT=18932
PROFILE="${BENCH_PROFILE:-release}"
if [ "$PROFILE" = release ]; then
    cargo build --release -p forecastlab-server --bin forecastlab >/dev/null
fi
BIN="${CARGO_TARGET_DIR:-target}/$PROFILE/forecastlab"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# {"records": [0,0,0,…]} filling the limit exactly.
python3 - "$work/body.json" "$LIMIT" <<'EOF'
import sys
path, limit = sys.argv[1], int(sys.argv[2])
head, tail = b'{"records": [', b'0]}'
count = (limit - len(head) - len(tail)) // 2
with open(path, "wb") as out:
    out.write(head + b"0," * count + tail)
EOF

DATABASE_URL="sqlite://$work/bench.db" APP_ENV=development LOG_LEVEL=warn JOBS_WORKERS=0 \
    MAX_BODY_BYTES="$LIMIT" FORECAST_MODEL_ARTIFACTS_DIR="$work/models" \
    REGISTRY_ARTIFACT_ROOT="$work/registry" \
    "$BIN" serve --addr "127.0.0.1:$PORT" >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.2; done

rss_kib() { awk -v key="$1:" '$1 == key {print $2}' "/proc/$pid/status"; }
before=$(rss_kib VmRSS)
senders=()
for i in $(seq 1 "$BODIES"); do
    curl -s -o "$work/answer.$i" -w '%{http_code}\n' -H 'content-type: application/json' \
        --data-binary "@$work/body.json" "http://127.0.0.1:$PORT/ingest/sales-daily" >"$work/status.$i" &
    senders+=($!)
done
wait "${senders[@]}"
sleep 0.5
peak=$(rss_kib VmHWM)
after=$(rss_kib VmRSS)

printf '%s bodies of %d MiB at once to POST /ingest/sales-daily\n' "$BODIES" $((LIMIT / 1024 / 1024))
printf 'statuses: %s\n' "$(cat "$work"/status.* | sort | uniq -c | awk '{printf "%s×%s ", $1, $2}')"
printf 'RSS before %d MiB, peak %d MiB, after %d MiB\n' $((before / 1024)) $((peak / 1024)) $((after / 1024))
awk -v b="$before" -v p="$peak" -v l="$LIMIT" \
    'BEGIN { printf "peak growth = %.2f × the body limit (bound: 4)\n", (p - b) * 1024 / l }'
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null && echo "server still healthy"
