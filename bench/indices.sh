#!/usr/bin/env bash
# bench/indices.sh: latency of GET /api/v1/indices for a province of 100
# districts holding 1,000,000 sipas-2023 responses of one year (targets:
# cold < 2 s, warm < 100 ms). Generates the data (awk, 39 SAT5 + 10 EXP4
# items, ~10 % missing answers, each district its own satisfaction level,
# 10,000 responses each over 2025) and loads it through `sipasctl import`
# (the path of POST /api/v1/uploads; LOAD=copy uses psql's \copy instead),
# timing the load, and folds it (`sipasctl aggregate`, then VACUUM ANALYZE)
# when sipasctl has that verb. Then, for the year and children=1:
#   cold: the first request after stopping sipasd and PostgreSQL, dropping the
#         page cache when permitted (sync; echo 3 > /proc/sys/vm/drop_caches)
#         and starting both again; COLD runs of that, each printed;
#   warm: the median of WARM requests right after a cold run.
# Only sipasctl and the HTTP API are used, never the tables behind the
# indices (psql only counts the rows of the load and runs VACUUM ANALYZE), so
# the script measures whatever the indices computation is. A measurement, not
# part of make check.
#
#	SIPAS_BUILD=/path/to/build bench/indices.sh
#
# Environment: SIPAS_BUILD (build directory with sipasd and sipasctl;
# default: the -O2 build under bench/out/build, as bench/ingest.sh),
# ROWS (default 1000000), LOAD (import | copy, default import), COLD (cold
# runs, default 3), WARM (warm repeats, default 5), BENCH_KEEP=DIR keeps the
# cluster and its data in DIR: a second run with the same DIR skips the
# generation and the load (and says so).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
rows=${ROWS:-1000000}
load=${LOAD:-import}
cold_runs=${COLD:-3}
warm_runs=${WARM:-5}
PGSH=$root/scripts/pg.sh

die() {
	echo "indices: $*" >&2
	exit 1
}
case $load in import | copy) ;; *) die "LOAD is import or copy" ;; esac

# The programs under test: an -O2 build without sanitizers.
if [ -n "${SIPAS_BUILD:-}" ]; then
	build=$(cd "$SIPAS_BUILD" && pwd)
else
	build=$root/bench/out/build
	if [ ! -x "$root/configure" ]; then
		(cd "$root" && autoreconf -fi >/dev/null 2>&1)
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		echo "indices: configuring an optimised build in $build" >&2
		(cd "$build" && "$root/configure" CFLAGS="-O2 -g" >configure.log 2>&1) ||
			{ tail -n 20 "$build/configure.log" >&2; exit 1; }
	fi
	make -C "$build" -j"$(nproc)" sipasd sipasctl >"$build/make.log" 2>&1 ||
		{ tail -n 30 "$build/make.log" >&2; exit 1; }
fi
SIPASD=$build/sipasd
SIPASCTL=$build/sipasctl
for p in "$SIPASD" "$SIPASCTL"; do
	[ -x "$p" ] || die "$p is missing (build it, or set SIPAS_BUILD)"
done
san=$(sed -n 's/^SAN_CFLAGS = //p' "$build/Makefile" | head -n 1)
[ -z "$san" ] || echo "indices: WARNING: $build is a sanitizer build ($san); the figures mean little" >&2

# The working directory: kept (BENCH_KEEP) or temporary.
if [ -n "${BENCH_KEEP:-}" ]; then
	mkdir -p "$BENCH_KEEP"
	dir=$(cd "$BENCH_KEEP" && pwd)
else
	dir=$(mktemp -d /tmp/sipas-bench.XXXXXX)
fi
chmod 755 "$dir"
PGDIR=$dir/pg
SIPASD_PID=
cleanup() {
	local st=$?
	trap '' INT TERM
	if [ -n "$SIPASD_PID" ]; then
		kill -TERM "$SIPASD_PID" 2>/dev/null || true
		wait "$SIPASD_PID" 2>/dev/null || true
	fi
	"$PGSH" stop "$PGDIR" >/dev/null 2>&1 || true
	if [ "$st" -ne 0 ] && [ -s "$dir/sipasd.log" ]; then
		echo "indices: the end of sipasd's log:" >&2
		tail -n 20 "$dir/sipasd.log" >&2
	fi
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "indices: kept the cluster and data in $dir" >&2
	else
		rm -rf "$dir"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

"$PGSH" init "$PGDIR" >/dev/null
"$PGSH" start "$PGDIR" >/dev/null
"$PGSH" createdb "$PGDIR" sipas >/dev/null
DSN=$("$PGSH" dsn "$PGDIR" sipas)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PSQL=${PGBIN:+$PGBIN/}psql
[ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -X -q -tA -d "$DSN" -c "$1"; }
# init again on a kept cluster: applies the migrations a newer tree brings.
"$SIPASCTL" --db "$DSN" init >/dev/null || die "sipasctl init failed"

# 1. The province, its districts and the responses, unless a kept directory
# already has them.
stamp=$dir/loaded
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$rows $load" ]; then
	echo "data: kept in $dir ($(cat "$stamp")); generation and load skipped"
else
	[ ! -f "$stamp" ] || die "$dir holds another data set ($(cat "$stamp")); use another BENCH_KEEP"
	[ "$(sql 'SELECT count(*) FROM responses')" = 0 ] || die "$dir has responses but no complete load; delete it"
	{
		echo "code,name,level,parent"
		echo "BP,Tỉnh Benchmark,province,"
		for i in $(seq -w 1 100); do echo "BP-$i,Huyện số $i,district,BP"; done
	} >"$dir/units.csv"
	"$SIPASCTL" --db "$DSN" unit import "$dir/units.csv" >/dev/null || die "unit import failed"
	la0=$(load_avg)
	items=$(for i in $(seq 1 39); do printf 'Q9_%d ' "$i"; done; for i in $(seq 1 10); do printf 'Q10_%d ' "$i"; done)
	t0=$(now)
	# One row per response, rows of all units interleaved; SAT5 items
	# around each unit's level, EXP4 items uniform; 10 % of cells empty.
	awk -v rows="$rows" -v items="$items" -v fmt="$load" 'BEGIN {
		srand(20250101); n = split(items, it, " ")
		if (fmt == "import") {
			printf "id,unit,submitted_at,channel"
			for (i = 1; i <= n; i++) printf ",%s", it[i]
			printf "\n"
		}
		split("paper web sms kiosk", ch, " ")
		for (r = 0; r < rows; r++) {
			u = r % 100; m = 2.8 + 1.6 * (u / 99)
			day = 1 + int(rand() * 365)
			mon = 1; while (day > mdays(mon)) { day -= mdays(mon); mon++ }
			when = sprintf("2025-%02d-%02dT%02d:%02d:00+07:00", mon, day, 7 + int(rand() * 10), int(rand() * 60))
			c = ch[1 + int(rand() * 4)]
			if (fmt == "import") {
				line = sprintf("b-%d,BP-%03d,%s,%s", r, u + 1, when, c)
				for (i = 1; i <= n; i++) {
					if (rand() < 0.1) { line = line ","; continue }
					line = line "," value(it[i], m)
				}
				print line
			} else {
				s = "{"; first = 1
				for (i = 1; i <= n; i++) {
					if (rand() < 0.1) continue
					s = s (first ? "" : ", ") "\"" it[i] "\": " value(it[i], m); first = 0
				}
				printf "sipas-2023\tBP-%03d\tb-%d\t%s\t%s\t%s\th%d\n", u + 1, r, when, c, s "}", r
			}
		}
	}
	function value(code, m,   v) {
		if (code ~ /^Q10_/) return 1 + int(rand() * 4)
		v = int(m + (rand() + rand() - 1) * 2.5 + 0.5)
		return v < 1 ? 1 : v > 5 ? 5 : v
	}
	function mdays(m) { return m == 2 ? 28 : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31 }' \
		>"$dir/responses.$load"
	t1=$(now)
	if [ "$load" = import ]; then
		/usr/bin/time -f '%e %M' -o "$dir/import.time" \
			"$SIPASCTL" --db "$DSN" import --survey sipas-2023 "$dir/responses.import" \
			>"$dir/import.out" 2>"$dir/import.err" || { tail -n 20 "$dir/import.out" "$dir/import.err" >&2; die "sipasctl import failed"; }
	else
		"$PSQL" -X -q -d "$DSN" -c "\\copy responses (survey, unit, source_id, submitted_at, channel, answers, content_hash) FROM '$dir/responses.copy'" ||
			die "COPY failed"
	fi
	t2=$(now)
	"$PSQL" -X -q -d "$DSN" -c "VACUUM ANALYZE" >/dev/null
	t3=$(now)
	n=$(sql 'SELECT count(*) FROM responses')
	[ "$n" = "$rows" ] || die "$n rows loaded, not $rows"
	gen_s=$(elapsed "$t0" "$t1") load_s=$(elapsed "$t1" "$t2") vac_s=$(elapsed "$t2" "$t3")
	echo "data: $n responses (sipas-2023, 49 items, 100 districts, 2025) generated in $gen_s s ($(du -m "$dir/responses.$load" | cut -f1) MiB),"
	if [ "$load" = import ]; then
		read -r _ kb <"$dir/import.time"
		echo "  loaded by sipasctl import in $load_s s ($(awk -v n="$n" -v s="$load_s" 'BEGIN { printf "%.0f", n / s }') rows/s, max RSS $((kb / 1024)) MiB), VACUUM ANALYZE $vac_s s (load average before: $la0)"
	else
		echo "  loaded by \\copy in $load_s s, VACUUM ANALYZE $vac_s s (load average before: $la0)"
	fi
	rm -f "$dir/responses.$load"
	echo "$rows $load" >"$stamp"
fi
# Fold what the load left pending into the incremental aggregates (sipasd
# would do it in the background), then VACUUM ANALYZE, so that the
# measurements see a steady state with the planner's statistics up to date
# (as autovacuum would leave them).
if "$SIPASCTL" help aggregate >/dev/null 2>&1; then
	t0=$(now)
	"$SIPASCTL" --db "$DSN" aggregate >"$dir/aggregate.out" 2>&1 || { cat "$dir/aggregate.out" >&2; die "sipasctl aggregate failed"; }
	t1=$(now)
	"$PSQL" -X -q -d "$DSN" -c "VACUUM ANALYZE" >/dev/null
	echo "sipasctl aggregate: $(elapsed "$t0" "$t1") s ($(tail -n 1 "$dir/aggregate.out")), then VACUUM ANALYZE $(elapsed "$t1" "$(now)") s"
fi
echo "database: $(sql "SELECT pg_size_pretty(pg_database_size('sipas'))"), PostgreSQL $(sql 'SHOW server_version') (shared_buffers $(sql 'SHOW shared_buffers'))"
VIEWER=$("$SIPASCTL" --db "$DSN" token create --role viewer --name "bench-indices-$$" 2>/dev/null) ||
	die "token create failed"

# 2. sipasd on a free port.
port=
sipasd_start() {
	local i
	if [ -z "$port" ]; then
		while :; do
			port=$((20000 + RANDOM % 12000))
			[ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ] && break
		done
		cat >"$dir/sipasd.conf" <<-EOF
			listen = 127.0.0.1:$port
			db = "$DSN"
			http_timeout = 600
			log_level = info
		EOF
	fi
	"$SIPASD" -c "$dir/sipasd.conf" </dev/null >/dev/null 2>>"$dir/sipasd.log" &
	SIPASD_PID=$!
	for i in $(seq 1 300); do
		kill -0 "$SIPASD_PID" 2>/dev/null || die "sipasd did not start"
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true)" = 200 ] && return 0
		sleep 0.1
	done
	die "sipasd's /healthz did not become 200"
}
sipasd_stop() {
	kill -TERM "$SIPASD_PID"
	wait "$SIPASD_PID" || true
	SIPASD_PID=
}

# drop_caches: the kernel's page cache, if this user may; says which.
drop_caches() {
	sync
	if { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
		echo dropped
	else
		echo "not dropped (not permitted)"
	fi
}

# ticks PID...: user + system clock ticks used so far by the PIDs, and by
# their exited children; pg_pids: the private PostgreSQL's processes.
ticks() {
	local p t=0
	for p in "$@"; do
		t=$((t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
pg_pids() {
	local pm
	pm=$(head -n 1 "$PGDIR/data/postmaster.pid")
	{ echo "$pm"; ps -o pid= --ppid "$pm"; } | xargs
}
hz=$(getconf CLK_TCK)

query="survey=sipas-2023&unit=BP&from=2025-01-01&to=2025-12-31&children=1"
# indices: one request; prints "STATUS SECONDS CPU": curl's time_total and
# the CPU seconds sipasd and PostgreSQL spent meanwhile (useful when other
# work shares the CPUs); the body in $dir/indices.json.
# shellcheck disable=SC2046 # pg_pids is a list of PIDs, split on purpose
indices() {
	local a0 b0 out
	a0=$(ticks "$SIPASD_PID")
	b0=$(ticks $(pg_pids))
	out=$(curl -s --max-time 600 -o "$dir/indices.json" -w '%{http_code} %{time_total}' \
		-H "Authorization: Bearer $VIEWER" "http://127.0.0.1:$port/api/v1/indices?$query")
	awk -v o="$out" -v a="$(($(ticks "$SIPASD_PID") - a0))" -v b="$(($(ticks $(pg_pids)) - b0))" -v hz="$hz" \
		'BEGIN { printf "%s %.2f+%.2f\n", o, a / hz, b / hz }'
}

echo "machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(free -g | awk '/^Mem:/ { print $2 }') GiB; $(uname -sr)"
echo "build: $build (CFLAGS $(sed -n 's/^CFLAGS = //p' "$build/Makefile" | head -n 1))"
echo "request: GET /api/v1/indices?$query"
echo
colds=() warms=()
for k in $(seq 1 "$cold_runs"); do
	[ -z "$SIPASD_PID" ] || sipasd_stop
	"$PGSH" stop "$PGDIR" >/dev/null
	cache=$(drop_caches)
	"$PGSH" start "$PGDIR" >/dev/null
	sipasd_start
	la=$(load_avg)
	read -r st secs cpu < <(indices)
	[ "$st" = 200 ] || { cat "$dir/indices.json" >&2; die "indices answered $st"; }
	units=$(jq '.units | length' "$dir/indices.json")
	resp=$(jq '.units[] | select(.unit == "BP") | .respondents' "$dir/indices.json")
	echo "cold run $k: HTTP $st, $secs s, CPU sipasd+PostgreSQL $cpu s (both restarted, page cache $cache; load before: $la; $units units in the answer, BP respondents $resp)"
	colds+=("$secs")
	ws=() wc=()
	for i in $(seq 1 "$warm_runs"); do
		read -r st secs cpu < <(indices)
		[ "$st" = 200 ] || die "indices answered $st"
		ws+=("$secs") wc+=("$cpu")
	done
	w=$(printf '%s\n' "${ws[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "  warm after it: ${ws[*]} s (CPU sipasd+PostgreSQL ${wc[*]} s); median $w s (load after: $(load_avg))"
	warms+=("$w")
done
[ "$resp" = "$rows" ] || echo "indices: WARNING: the province has $resp respondents in the answer, $rows were loaded" >&2

cmax=$(printf '%s\n' "${colds[@]}" | sort -g | tail -n 1)
wmax=$(printf '%s\n' "${warms[@]}" | sort -g | tail -n 1)
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "met" : "not met" }'; }
echo
echo "| measure | seconds | target | |"
echo "|---|---|---|---|"
echo "| cold (first request after restarting sipasd and PostgreSQL; $cold_runs runs) | ${colds[*]} | < 2 s | $(verdict "$cmax" 2) |"
echo "| warm (median of $warm_runs after each cold run) | ${warms[*]} | < 0.1 s | $(verdict "$wmax" 0.1) |"
