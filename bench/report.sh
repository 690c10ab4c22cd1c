#!/usr/bin/env bash
# bench/report.sh: a yearly report of a province with 100 units and 1,000,000
# responses (sipas-2017, 22 items, ~10 % missing answers) produced by
# `sipasctl report` as PDF and as XLSX from the aggregate states (target
# < 1 s; RAW=1 reads every response instead, with --raw). Prints the machine,
# the load average, and the wall and CPU time (sipasctl and its PostgreSQL
# backend) of each run. Not part of make check.
#
#	SIPASCTL=/path/to/sipasctl bench/report.sh
#
# Environment: SIPASCTL (default: the sipasctl of an -O2 build made under
# bench/out/build, as bench/analyze.sh does), REPS (runs per format, default
# 3), ROWS (default 1000000), KEEP=1 keeps the cluster. Generating and
# loading the data (awk -> COPY) is not part of the measurement.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
reps=${REPS:-3}
rows=${ROWS:-1000000}

if [ -z "${SIPASCTL:-}" ]; then
	build=$root/bench/out/build
	mkdir -p "$build"
	[ -f "$build/Makefile" ] || (cd "$build" && "$root/configure" CFLAGS="-O2 -g" >configure.log 2>&1)
	make -C "$build" -j2 sipasctl >"$build/make.log" 2>&1
	SIPASCTL=$build/sipasctl
fi

tmp=$(mktemp -d /tmp/sipas-bench.XXXXXX)
chmod 755 "$tmp"
PGDIR=$tmp/pg
cleanup() {
	"$root/scripts/pg.sh" stop "$PGDIR" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] && { echo "kept $tmp" >&2; return; }
	rm -rf "$tmp"
}
trap cleanup EXIT

"$root/scripts/pg.sh" init "$PGDIR" >/dev/null
"$root/scripts/pg.sh" start "$PGDIR" >/dev/null
"$root/scripts/pg.sh" createdb "$PGDIR" sipas >/dev/null
DSN=$("$root/scripts/pg.sh" dsn "$PGDIR" sipas)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PSQL=$PGBIN/psql
"$SIPASCTL" --db "$DSN" init >/dev/null

# The province and its 100 districts.
{
	echo "code,name,level,parent"
	echo "BP,Tỉnh Benchmark,province,"
	for i in $(seq -w 1 100); do echo "BP-$i,Huyện số $i,district,BP"; done
} >"$tmp/units.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units.csv" >/dev/null

# 1,000,000 responses in 2025, 10,000 per unit, as COPY text: each unit has
# its own satisfaction level; ~10 % of answers are missing (key left out).
items="A1 A2 A3 A4 B1 B2 B3 B4 B5 C1 C2 C3 C4 C5 C6 D1 D2 D3 E1 E2 E3 E4"
t0=$(date +%s.%N)
awk -v rows="$rows" -v items="$items" 'BEGIN {
	srand(20250101); n = split(items, it, " ")
	for (r = 0; r < rows; r++) {
		u = r % 100; m = 2.8 + 1.6 * (u / 99)
		day = 1 + int(rand() * 365)
		mon = 1; while (day > mdays(mon)) { day -= mdays(mon); mon++ }
		s = "{"; first = 1
		for (i = 1; i <= n; i++) {
			if (rand() < 0.1) continue
			v = int(m + (rand() + rand() - 1) * 2.5 + 0.5)
			if (v < 1) v = 1; if (v > 5) v = 5
			s = s (first ? "" : ", ") "\"" it[i] "\": " v; first = 0
		}
		s = s "}"
		printf "sipas-2017\tBP-%03d\tb-%d\t2025-%02d-%02d 10:00:00+07\tpaper\t1\t%s\th%d\n", u + 1, r, mon, day, s, r
	}
}
function mdays(m) { return m == 2 ? 28 : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31 }' \
	>"$tmp/responses.tsv"
"$PSQL" -X -q -d "$DSN" -c "\\copy responses (survey, unit, source_id, submitted_at, channel, weight, answers, content_hash) FROM '$tmp/responses.tsv'"
"$PSQL" -X -q -d "$DSN" -c "VACUUM ANALYZE responses" >/dev/null
t1=$(date +%s.%N)
n=$("$PSQL" -X -tA -d "$DSN" -c "SELECT count(*) FROM responses")
printf 'data: %s responses in 100 units, generated and loaded in %.1f s (not measured)\n' "$n" \
	"$(echo "$t1 - $t0" | bc)"

# Fold the responses into the aggregate states, as sipasd's folder does while
# they arrive (reports read the states of whole months). Timed, not measured.
t0=$(date +%s.%N)
"$SIPASCTL" --db "$DSN" aggregate >/dev/null
t1=$(date +%s.%N)
printf 'fold: %s states in %.1f s (sipasctl aggregate; not measured)\n' \
	"$("$PSQL" -X -tA -d "$DSN" -c 'SELECT count(*) FROM agg_states')" "$(echo "$t1 - $t0" | bc)"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB; $(uname -sr); PostgreSQL $("$PSQL" -X -tA -d "$DSN" -c 'SHOW server_version')"
echo "sipasctl: $SIPASCTL; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# The CPU of a report's PostgreSQL backend: what the postmaster's reaped
# children (fields 16 and 17 of its /proc stat; nothing else connects to this
# cluster) gained over the run. On a shared machine the wall time depends on
# the load; the CPU times do not.
pm=$(head -n 1 "$PGDIR/data/postmaster.pid")
tck=$(getconf CLK_TCK)
children_cpu() { awk '{ print $16 + $17 }' "/proc/$pm/stat"; }
for fmt in pdf xlsx; do
	for i in $(seq 1 "$reps"); do
		c0=$(children_cpu)
		/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$SIPASCTL" --db "$DSN" report \
			--survey sipas-2017 --unit BP --from 2025-01-01 --to 2025-12-31 \
			--format "$fmt" -o "$tmp/report.$fmt" ${RAW:+--raw} 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
		c1=$(children_cpu)
		read -r secs kb user sys <"$tmp/time"
		printf 'yearly %s report, 100 units, %s responses%s: run %d: %s s wall, CPU sipasctl %.2f s + PostgreSQL %.2f s, max RSS %d MiB, %d bytes (load %s)\n' \
			"$fmt" "$n" "${RAW:+ (--raw)}" "$i" "$secs" "$(echo "$user + $sys" | bc)" \
			"$(echo "scale=2; ($c1 - $c0) / $tck" | bc)" $((kb / 1024)) \
			"$(stat -c %s "$tmp/report.$fmt")" "$(cut -d' ' -f1 /proc/loadavg)"
	done
done
