#!/bin/bash
# insert.sh: PostgreSQL's CPU per stored response for each way of sending a
# batch (bench/insertbench.c): one prepared insert per row ("rows", the
# former write path), one statement with an array per column as text
# literals ("array", the write path of sipasctl import) or in binary form
# ("binary", sipasd's), COPY (FORMAT binary) into a temporary table and one
# INSERT ... SELECT ("copy"). A private PostgreSQL
# (scripts/pg.sh, fsync on) with the schema of `sipasctl init`; 49-answer
# rows, BATCHES batches of SIZE rows per mode, each mode run REPS times.
#
#	SIPAS_BUILD=/path/to/build bash bench/insert.sh
#	BATCHES=300 SIZE=100 REPS=3 MODES="rows array binary copy" bash bench/insert.sh
#
# SIPAS_BUILD is a configured build of this tree (preferably -O2 without
# sanitizers); its sipasctl and bench/insertbench are built if missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
batches=${BATCHES:-300}
size=${SIZE:-100}
reps=${REPS:-3}
modes=${MODES:-rows array binary copy}
PGSH=$root/scripts/pg.sh

[ -n "${SIPAS_BUILD:-}" ] || { echo "insert: set SIPAS_BUILD to a configured build" >&2; exit 1; }
build=$(cd "$SIPAS_BUILD" && pwd)
make -C "$build" -s sipasctl bench/insertbench >/dev/null
tmp=$(mktemp -d /tmp/sipas-insert.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	"$PGSH" stop "$tmp/pg" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
"$PGSH" init "$tmp/pg" >/dev/null
"$PGSH" start "$tmp/pg" >/dev/null
"$PGSH" createdb "$tmp/pg" sipas >/dev/null
DSN=$("$PGSH" dsn "$tmp/pg" sipas)
"$build/sipasctl" --db "$DSN" init >/dev/null
printf 'code,name,level,parent\nP01,Province,province,\nB01,Desk,desk,P01\n' >"$tmp/units.csv"
"$build/sipasctl" --db "$DSN" unit import "$tmp/units.csv" >/dev/null
echo "# $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //');" \
	"PostgreSQL $(psql --version | awk '{ print $3 }'); $batches batches of $size rows"
for r in $(seq 1 "$reps"); do
	for m in $modes; do
		printf '%s load %s\n' "$("$build/bench/insertbench" --db "$DSN" --mode "$m" \
			--batches "$batches" --size "$size")" "$(cut -d' ' -f1-3 /proc/loadavg)"
	done
done
