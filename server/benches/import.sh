#!/usr/bin/env bash
# `forecastlab import sales` against each database's own bulk load, side by
# side on PostgreSQL (`\copy … FROM` through psql) and SQLite (`sqlite3
# .import` into a staging table, then one INSERT … SELECT), both into an
# empty `sales_daily` with the same stores, products and calendar. Prints
# the median seconds and rows/s of each and the import's share of the
# native speed (target: at least 1/3).
#
#   bash server/benches/import.sh
#
# The native loads read ids (date, store_id, product_id, …); the import
# reads natural keys (date, store_code, sku, …), resolves and checks every
# row, and upserts. Settings: BENCH_ROWS (1000000; stores × products × days
# with 20 stores and 100 products), BENCH_RUNS (3), BENCH_BATCH (the
# import's --batch-size, 10000), TEST_POSTGRES_URL (the admin URL of a
# PostgreSQL server), BENCH_PROFILE (`release`, built here; `debug` reuses
# the debug binary). Needs psql and sqlite3 (Debian packages
# `postgresql-client`, `sqlite3`); a database whose client is missing is
# skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROWS="${BENCH_ROWS:-1000000}"
RUNS="${BENCH_RUNS:-3}"
BATCH="${BENCH_BATCH:-10000}"
STORES=20
PRODUCTS=100
DAYS=$(( (ROWS + STORES * PRODUCTS - 1) / (STORES * PRODUCTS) ))
PG_ADMIN="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

PROFILE="${BENCH_PROFILE:-release}"
if [ "$PROFILE" = release ]; then
    cargo build --release -p forecastlab-server --bin forecastlab >/dev/null
fi
BIN="${CARGO_TARGET_DIR:-target}/$PROFILE/forecastlab"
work=$(mktemp -d)
pg_db="forecastlab_import_bench_$$"
cleanup() {
    rm -rf "$work"
    if command -v psql >/dev/null 2>&1; then
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

# The inputs: dimensions, and the same sales rows keyed two ways. Store i
# and product j get ids i and j because they are imported in that order
# into empty tables.
echo "generating $((STORES * PRODUCTS * DAYS)) sales rows ($STORES stores x $PRODUCTS products x $DAYS days)"
{ echo "code,name"; for s in $(seq 1 $STORES); do echo "S$s,Store $s"; done; } >"$work/stores.csv"
{ echo "sku,name"; for p in $(seq 1 $PRODUCTS); do echo "P$p,Product $p"; done; } >"$work/products.csv"
awk -v days="$DAYS" 'BEGIN { print "date"; for (d = 0; d < days; d++) print strftime("%Y-%m-%d", 1672531200 + d * 86400 + 43200, 1) }' >"$work/calendar.csv"
awk -v stores="$STORES" -v products="$PRODUCTS" -v keyed="$work/sales.csv" -v ids="$work/native.csv" '
    NR == 1 { print "date,store_code,sku,quantity,unit_price,total_amount" > keyed
              print "date,store_id,product_id,quantity,unit_price,total_amount" > ids; next }
    { for (s = 1; s <= stores; s++) for (p = 1; p <= products; p++) {
          q = (s * 7 + p * 3 + NR) % 13; price = sprintf("%d.%02d", 1 + p % 9, (s * p) % 100)
          total = sprintf("%.2f", q * price)
          print $1 ",S" s ",P" p "," q "," price "," total > keyed
          print $1 "," s "," p "," q "," price "," total > ids } }' "$work/calendar.csv"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }

# bench NAME URL NATIVE_LOAD CLEAR COUNT: times RUNS native loads and RUNS
# imports into the emptied table and prints the medians.
bench() {
    local name=$1 url=$2 native=$3 clear=$4 count=$5 start rows
    export DATABASE_URL="$url" APP_ENV=development LOG_LEVEL=warn
    "$BIN" migrate >/dev/null 2>&1
    for table in stores products calendar; do
        "$BIN" import "$table" "$work/$table.csv" >/dev/null
    done
    : >"$work/native.times"
    : >"$work/import.times"
    for run in $(seq 1 "$RUNS"); do
        $clear
        start=$(now)
        $native
        echo "$(now) - $start" | bc >>"$work/native.times"
        rows=$($count)
        [ "$rows" -eq "$((STORES * PRODUCTS * DAYS))" ] || { echo "$name native load wrote $rows rows" >&2; exit 1; }
        $clear
        start=$(now)
        "$BIN" import sales "$work/sales.csv" --batch-size "$BATCH" --no-progress >"$work/summary"
        echo "$(now) - $start" | bc >>"$work/import.times"
        rows=$($count)
        [ "$rows" -eq "$((STORES * PRODUCTS * DAYS))" ] || { echo "$name import wrote $rows rows" >&2; exit 1; }
        echo "  $name run $run: native $(tail -n1 "$work/native.times") s, import $(tail -n1 "$work/import.times") s"
    done
    local n i
    n=$(median <"$work/native.times")
    i=$(median <"$work/import.times")
    printf '%-10s native %7.2f s (%8.0f rows/s)   import %7.2f s (%8.0f rows/s)   import/native speed %.2f\n' \
        "$name" "$n" "$(echo "$rows / $n" | bc -l)" "$i" "$(echo "$rows / $i" | bc -l)" "$(echo "$n / $i" | bc -l)" \
        >>"$work/results"
}

pg_url() {
    local base=${PG_ADMIN%%\?*} query=""
    [ "$base" != "$PG_ADMIN" ] && query="?${PG_ADMIN#*\?}"
    echo "${base%/*}/$1$query"
}
pg_native() {
    psql -q "$(pg_url "$pg_db")" -c "\\copy sales_daily (date, store_id, product_id, quantity, unit_price, total_amount) FROM '$work/native.csv' WITH (FORMAT csv, HEADER true)"
}
pg_clear() { psql -q "$(pg_url "$pg_db")" -c "TRUNCATE sales_daily" -c "VACUUM ANALYZE sales_daily" >/dev/null; }
pg_count() { psql -qtA "$(pg_url "$pg_db")" -c "SELECT COUNT(*) FROM sales_daily"; }

sqlite_file="$work/bench.db"
sqlite_native() {
    # The same pragmas the server sets (WAL is kept in the file).
    sqlite3 "$sqlite_file" <<SQL
PRAGMA foreign_keys = ON;
PRAGMA synchronous = NORMAL;
CREATE TEMP TABLE staging (date TEXT, store_id INTEGER, product_id INTEGER,
    quantity INTEGER, unit_price NUMERIC, total_amount NUMERIC);
.import --csv --skip 1 $work/native.csv staging
INSERT INTO sales_daily (date, store_id, product_id, quantity, unit_price, total_amount)
    SELECT * FROM staging;
SQL
}
sqlite_clear() { sqlite3 "$sqlite_file" "DELETE FROM sales_daily; VACUUM;"; }
sqlite_count() { sqlite3 "$sqlite_file" "SELECT COUNT(*) FROM sales_daily"; }

: >"$work/results"
if command -v psql >/dev/null 2>&1 && psql -q "$PG_ADMIN" -c "CREATE DATABASE $pg_db" >/dev/null; then
    bench PostgreSQL "$(pg_url "$pg_db")" pg_native pg_clear pg_count
else
    echo "skipping PostgreSQL: psql missing or $PG_ADMIN unreachable" >&2
fi
if command -v sqlite3 >/dev/null 2>&1; then
    bench SQLite "sqlite://$sqlite_file" sqlite_native sqlite_clear sqlite_count
else
    echo "skipping SQLite: sqlite3 missing (apt-get install sqlite3)" >&2
fi
echo
echo "median of $RUNS runs, $((STORES * PRODUCTS * DAYS)) rows, --batch-size $BATCH ($PROFILE build):"
cat "$work/results"
