#!/usr/bin/env bash
# bench/ingest.sh: durable ingest throughput of sipasd against its ceiling.
# Starts a private PostgreSQL (scripts/pg.sh, fsync on), the schema,
# a province with 10 districts, a collector token, sipasd, and bench/echo (a
# bare evhttp + Jansson server that parses the body and answers 201 without
# validating or storing anything), each on a free 127.0.0.1 port. wrk posts
# valid sipas-2023 responses (bench/ingest.lua: 49 answers, a unique id per
# request) to each at 16 and 64 connections. Prints requests/s,
# p50/p90/p99/p99.9 latency (as wrk reports them: see bench/README.md), the
# statuses, sipasd's maximum RSS (ps every 0.5 s) and the CPU account of
# each run: the server's CPU seconds and, for sipasd, those of
# every process of the private PostgreSQL, each per response in µs (see
# pg_ticks for how the PostgreSQL side is counted). After a sipasd run it
# waits until the folder has folded every response of the run, so that the
# fold's CPU (sipasd's thread and its backend) is counted too. Then it checks
# that every 201 is a row in responses (exit 1 if not) and prints a Markdown
# table with its targets: durable ingest >= 1/2 of echo's throughput, p99 <
# 50 ms at 64 connections, RSS < 100 MiB, and sipasd's plus PostgreSQL's CPU
# per durable response <= 2x echo's CPU per request.
# A measurement, not part of make check.
#
#	SIPAS_BUILD=/path/to/build bench/ingest.sh
#
# Environment: SIPAS_BUILD (a configured build directory holding sipasd,
# sipasctl and bench/echo; default: the -O2 build under bench/out/build that
# bench/analyze.sh and bench/report.sh use, made when missing), DURATION
# (seconds per run, default 30), CONNECTIONS (default "16 64"), THREADS (wrk
# threads, default 2), WARMUP (seconds of unmeasured load on each target
# first, default 3), LOG_LEVEL (sipasd's, default info), SIPASD_CONF (more
# lines for sipasd's config file, e.g. "batch_delay_ms = 2"), KEEP=1 keeps the
# temporary directory (logs, wrk outputs, the cluster), PROFILE=DIR records
# each measured sipasd run with `perf record -a -g` into DIR/NAME.perf and
# lists the PIDs of sipasd and of each PostgreSQL process, named, in
# DIR/NAME.pids (read with `perf report -i DIR/NAME.perf --pid PID`).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
duration=${DURATION:-30}
connections=${CONNECTIONS:-16 64}
threads=${THREADS:-2}
warmup=${WARMUP:-3}
PGSH=$root/scripts/pg.sh

die() {
	echo "ingest: $*" >&2
	exit 1
}
command -v wrk >/dev/null || die "wrk is needed: apt-get install wrk (scripts/deps.sh)"

# The programs under test: an -O2 build without sanitizers.
if [ -n "${SIPAS_BUILD:-}" ]; then
	build=$(cd "$SIPAS_BUILD" && pwd)
	[ -x "$build/bench/echo" ] || make -C "$build" -s bench/echo >/dev/null ||
		die "cannot build bench/echo in $build"
else
	build=$root/bench/out/build
	if [ ! -x "$root/configure" ]; then
		(cd "$root" && autoreconf -fi >/dev/null 2>&1)
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		echo "ingest: configuring an optimised build in $build" >&2
		(cd "$build" && "$root/configure" CFLAGS="-O2 -g" >configure.log 2>&1) ||
			{ tail -n 20 "$build/configure.log" >&2; exit 1; }
	fi
	make -C "$build" -j"$(nproc)" sipasd sipasctl bench/echo >"$build/make.log" 2>&1 ||
		{ tail -n 30 "$build/make.log" >&2; exit 1; }
fi
SIPASD=$build/sipasd
SIPASCTL=$build/sipasctl
ECHO=$build/bench/echo
for p in "$SIPASD" "$SIPASCTL" "$ECHO"; do
	[ -x "$p" ] || die "$p is missing (build it, or set SIPAS_BUILD)"
done
cflags=$(sed -n 's/^CFLAGS = //p' "$build/Makefile" | head -n 1)
san=$(sed -n 's/^SAN_CFLAGS = //p' "$build/Makefile" | head -n 1)
[ -z "$san" ] || echo "ingest: WARNING: $build is a sanitizer build ($san); the figures mean little" >&2

tmp=$(mktemp -d /tmp/sipas-bench.XXXXXX)
chmod 755 "$tmp"
PGDIR=$tmp/pg
pids=()
cleanup() {
	local st=$? p
	trap '' INT TERM
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	"$PGSH" stop "$PGDIR" >/dev/null 2>&1 || true
	if [ "$st" -ne 0 ] && [ -s "$tmp/sipasd.log" ]; then
		echo "ingest: the end of sipasd's log:" >&2
		tail -n 20 "$tmp/sipasd.log" >&2
	fi
	if [ -n "${KEEP:-}" ]; then
		echo "ingest: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port on 127.0.0.1 that nothing listens on, below the ephemeral range.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		[ -z "$(ss -Htln "sport = :$p" 2>/dev/null)" ] && { echo "$p"; return; }
	done
}

# wait_http URL PID [STATUS]: until URL answers (with STATUS, default any),
# or PID died.
wait_http() {
	local i st
	for i in $(seq 1 100); do
		kill -0 "$2" 2>/dev/null || return 1
		st=$(curl -s -o /dev/null -w '%{http_code}' "$1" || true)
		if [ -n "${3:-}" ]; then [ "$st" = "$3" ] && return 0; else [ "$st" != 000 ] && return 0; fi
		sleep 0.1
	done
	return 1
}

# cpu_ticks PID: user + system clock ticks PID has used so far (every
# thread of it: /proc/PID/stat sums them).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# pg_ticks: the same for the whole private PostgreSQL. Every process of a
# cluster is a child of the postmaster, which waits for each one that exits
# (backends, autovacuum workers, ...); the kernel then adds the child's
# user and system time to the postmaster's cutime and cstime. So the
# cluster's CPU so far is the postmaster's utime + stime + cutime + cstime
# plus utime + stime of every child still alive (a zombie not yet waited
# for is still listed with its times). The children are read first: one that
# is waited for between the two reads is counted twice (a backend of a few
# ms; the long-lived ones do not exit during a run), never missed.
pg_ticks() {
	local pm p t=0
	pm=$(head -n 1 "$PGDIR/data/postmaster.pid")
	for p in $(ps -o pid= --ppid "$pm"); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo $((t + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")))
}

# pg_procs FILE: "PID TICKS" of every child of the postmaster, into FILE.
pg_procs() {
	local pm p
	pm=$(head -n 1 "$PGDIR/data/postmaster.pid")
	for p in $(ps -o pid= --ppid "$pm"); do
		awk -v p="$p" '{ print p, $14 + $15 }' "/proc/$p/stat" 2>/dev/null || true
	done >"$1"
}

# sipasd_threads PID FILE: "TID NAME TICKS FAULTS" of every thread of
# sipasd (the names it gives them: sipasd is the event loop; FAULTS its
# minor page faults), into FILE.
sipasd_threads() {
	local t
	for t in /proc/"$1"/task/*; do
		awk -v t="${t##*/}" '{ sub(/^[^(]*\(/, ""); n = $0; sub(/\).*/, "", n);
			sub(/^.*\) /, ""); print t, n, $12 + $13, $8 }' "$t/stat" 2>/dev/null || true
	done >"$2"
}

# thread_split BEFORE AFTER N TICKS: sipasd's CPU of a run by thread name,
# in µs per durable response, and its minor page faults per 100 responses
# (a fault costs a few µs: memory the allocator gave back and takes again).
# The event loop ("sipasd") comes first, the other names in order, then
# what threads that exited during the run used: the rest of TICKS, the
# process's CPU over the run.
thread_split() {
	awk -v hz="$(getconf CLK_TCK)" -v n="$3" -v total="$4" '
		FNR == NR { before[$1] = $3; bf[$1] = $4; next }
		{
			if (!($2 in by)) names[++k] = $2
			by[$2] += $3 - ($1 in before ? before[$1] : 0)
			fl[$2] += $4 - ($1 in bf ? bf[$1] : 0)
		}
		END {
			if (n <= 0)
				exit
			# Insertion sort, the event loop first.
			for (i = 2; i <= k; i++) {
				v = names[i]
				for (j = i - 1; j >= 1 && (v == "sipasd" || (names[j] != "sipasd" && names[j] > v)); j--)
					names[j + 1] = names[j]
				names[j + 1] = v
			}
			printf "sipasd by thread (µs, minor faults per 100 durable responses):"
			for (i = 1; i <= k; i++) {
				printf " %s %.1f, %.1f;", names[i], 1e6 * by[names[i]] / hz / n, 100 * fl[names[i]] / n
				sum += by[names[i]]
			}
			printf " exited %.1f\n", (total > sum ? 1e6 * (total - sum) / hz / n : 0)
		}' "$1" "$2"
}

# pg_split BEFORE AFTER SECONDS_TOTAL N: PostgreSQL's CPU of a run by
# process, in µs per durable response: each of sipasd's connections by the
# name it gives itself (sipasd_write, sipasd_read, sipasd_aggregate), each
# background process by its type, and what
# processes that exited during the run used (the rest of the total).
pg_split() {
	local labels
	labels=$(sql "SELECT pid, replace(coalesce(nullif(application_name, ''), backend_type), ' ', '_') FROM pg_stat_activity" | tr '|' ' ')
	awk -v hz="$(getconf CLK_TCK)" -v total="$3" -v n="$4" -v labels="$labels" '
		BEGIN { k = split(labels, l, "\n"); for (i = 1; i <= k; i++) { split(l[i], f, " "); lab[f[1]] = f[2] } }
		FNR == NR { before[$1] = $2; next }
		{ d = $2 - ($1 in before ? before[$1] : 0); name = ($1 in lab) ? lab[$1] : "unnamed"
		  by[name] += d; seen += d }
		END {
			if (n <= 0)
				exit
			printf "PostgreSQL by process (µs per durable response):"
			for (name in by) if (by[name] > 0) printf " %s %.1f", name, 1e6 * by[name] / hz / n
			printf " exited %.1f\n", 1e6 * (total - seen / hz) / n
		}' "$1" "$2"
}

# folded: wait (up to 60 s) until nothing is pending for the aggregates.
folded() {
	local i
	for i in $(seq 1 600); do
		[ "$(sql 'SELECT count(*) FROM agg_queue')" = 0 ] && return 0
		sleep 0.1
	done
	echo "ingest: the folder did not catch up within 60 s; its CPU is counted so far" >&2
}

# batch_stat: "SUM COUNT" of sipasd's sipas_ingest_batch_size histogram.
batch_stat() {
	curl -s "http://127.0.0.1:$sport/metrics" | awk '$1 == "sipas_ingest_batch_size_sum" { s = $2 }
		$1 == "sipas_ingest_batch_size_count" { c = $2 } END { print s + 0, c + 0 }'
}

load() { cut -d, -f3- /proc/loadavg 2>/dev/null | awk '{ print $1 " " $2 " " $3 }'; }

# 1. PostgreSQL, schema, units, token.
"$PGSH" init "$PGDIR" >/dev/null
"$PGSH" start "$PGDIR" >/dev/null
"$PGSH" createdb "$PGDIR" sipas >/dev/null
DSN=$("$PGSH" dsn "$PGDIR" sipas)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PSQL=${PGBIN:+$PGBIN/}psql
[ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -X -q -tA -d "$DSN" -c "$1"; }
"$SIPASCTL" --db "$DSN" init >/dev/null || die "sipasctl init failed"
units=
{
	echo "code,name,level,parent"
	echo "BP,Tỉnh Benchmark,province,"
	for i in $(seq -w 1 10); do
		echo "BP-$i,Huyện số $i,district,BP"
		units=${units:+$units,}BP-$i
	done
} >"$tmp/units.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units.csv" >/dev/null || die "unit import failed"
TOKEN=$("$SIPASCTL" --db "$DSN" token create --role collector --name bench-ingest 2>/dev/null) ||
	die "token create failed"

# 2. sipasd and echo, each on a free port (a few tries: another program may
# take the port between the check and the bind).
for try in 1 2 3 4 5; do
	sport=$(free_port)
	printf 'listen = 127.0.0.1:%s\ndb = "%s"\nlog_level = %s\n%s\n' "$sport" "$DSN" "${LOG_LEVEL:-info}" \
		"${SIPASD_CONF:-}" >"$tmp/sipasd.conf"
	"$SIPASD" -c "$tmp/sipasd.conf" </dev/null >/dev/null 2>>"$tmp/sipasd.log" &
	SIPASD_PID=$!
	wait_http "http://127.0.0.1:$sport/healthz" "$SIPASD_PID" 200 && break
	kill -KILL "$SIPASD_PID" 2>/dev/null || true
	wait "$SIPASD_PID" 2>/dev/null || true
	[ "$try" -lt 5 ] || die "sipasd did not start"
done
pids+=("$SIPASD_PID")
for try in 1 2 3 4 5; do
	eport=$(free_port)
	[ "$eport" != "$sport" ] || continue
	"$ECHO" 127.0.0.1 "$eport" </dev/null >/dev/null 2>>"$tmp/echo.log" &
	ECHO_PID=$!
	wait_http "http://127.0.0.1:$eport/" "$ECHO_PID" && break
	kill -KILL "$ECHO_PID" 2>/dev/null || true
	wait "$ECHO_PID" 2>/dev/null || true
	[ "$try" -lt 5 ] || die "bench/echo did not start"
done
pids+=("$ECHO_PID")

# field NAME KEY: a value of the BENCH line of run NAME.
field() { sed -n "s/^BENCH.* $2=\([^ ]*\).*/\1/p" "$tmp/$1.out"; }

# run NAME PORT PID CONNS SECONDS: one wrk run; its BENCH line (ingest.lua)
# and the maximum RSS of PID in KiB are left in $tmp/NAME.{out,rss}.
run() {
	local name=$1 port=$2 pid=$3 conns=$4 secs=$5 sampler t0 t1 b0 b1 p0 p1 perfpid=
	t0=$(cpu_ticks "$pid")
	[ "$pid" != "$SIPASD_PID" ] || sipasd_threads "$pid" "$tmp/$name.th0"
	pg_procs "$tmp/$name.pg0"
	p0=$(pg_ticks)
	b0=$(batch_stat)
	(
		while kill -0 "$pid" 2>/dev/null; do
			ps -o rss= -p "$pid" || true
			sleep 0.5
		done
	) >"$tmp/$name.rsslog" 2>/dev/null &
	sampler=$!
	if [ -n "${PROFILE:-}" ] && [ "$pid" = "$SIPASD_PID" ] && [ "${name#warm}" = "$name" ]; then
		perf record -a -g -F 499 -o "$PROFILE/$name.perf" -- sleep "$((secs > 4 ? secs - 2 : secs))" \
			>"$PROFILE/$name.perf.log" 2>&1 &
		perfpid=$!
		sql "SELECT pid, replace(coalesce(nullif(application_name, ''), backend_type), ' ', '_') FROM pg_stat_activity" \
			| tr '|' ' ' >"$PROFILE/$name.pids"
		echo "$SIPASD_PID sipasd" >>"$PROFILE/$name.pids"
	fi
	BENCH_TOKEN=$TOKEN BENCH_PREFIX="bench-$name" BENCH_UNITS=$units \
		wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency \
		-s "$root/bench/ingest.lua" "http://127.0.0.1:$port" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" || {
		kill "$sampler" 2>/dev/null
		cat "$tmp/$name.err" >&2
		die "wrk failed on $name"
	}
	kill "$sampler" 2>/dev/null || true
	wait "$sampler" 2>/dev/null || true
	[ -z "$perfpid" ] || wait "$perfpid" || true
	sort -n "$tmp/$name.rsslog" | tail -n 1 >"$tmp/$name.rss"
	[ "$pid" != "$SIPASD_PID" ] || folded
	t1=$(cpu_ticks "$pid")
	[ "$pid" != "$SIPASD_PID" ] || sipasd_threads "$pid" "$tmp/$name.th1"
	pg_procs "$tmp/$name.pg1"
	p1=$(pg_ticks)
	b1=$(batch_stat)
	# The CPU share of the server (100 = one core) and sipasd's mean batch.
	awk -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" -v d="$secs" -v b0="$b0" -v b1="$b1" \
		-v p0="$p0" -v p1="$p1" 'BEGIN {
		split(b0, x, " "); split(b1, y, " ")
		printf "CPU (100 %% = one core): server %.0f %%, PostgreSQL %.0f %%", 100 * (t1 - t0) / hz / d, 100 * (p1 - p0) / hz / d
		if (y[2] > x[2]) printf "; sipasd: %d batches, mean %.1f responses a batch", y[2] - x[2], (y[1] - x[1]) / (y[2] - x[2])
		printf "\n"
	}' >"$tmp/$name.cpu"
	grep -q '^BENCH ' "$tmp/$name.out" || { cat "$tmp/$name.out" "$tmp/$name.err" >&2; die "no BENCH line from $name"; }
	# The CPU account: server and PostgreSQL seconds, and per answered
	# request (echo) or durable response (201 and 200 of sipasd) in µs.
	awk -v t0="$t0" -v t1="$t1" -v p0="$p0" -v p1="$p1" -v hz="$(getconf CLK_TCK)" \
		-v n="$( [ "$pid" = "$SIPASD_PID" ] && echo $(( $(field "$name" s201) + $(field "$name" s200) )) || field "$name" completed)" \
		'BEGIN { s = (t1 - t0) / hz; p = (p1 - p0) / hz
		printf "%.2f %.2f %d %.1f %.1f\n", s, p, n, (n > 0 ? 1e6 * s / n : 0), (n > 0 ? 1e6 * p / n : 0) }' \
		>"$tmp/$name.acct"
	if [ "$pid" = "$SIPASD_PID" ]; then
		pg_split "$tmp/$name.pg0" "$tmp/$name.pg1" "$(acct "$name" 2)" \
			"$(acct "$name" 3)" >>"$tmp/$name.cpu"
		thread_split "$tmp/$name.th0" "$tmp/$name.th1" "$(acct "$name" 3)" \
			"$((t1 - t0))" >>"$tmp/$name.cpu"
	fi
}

# acct NAME I: field I of run NAME's CPU account (1 server s, 2 PostgreSQL s,
# 3 responses, 4 server µs each, 5 PostgreSQL µs each).
acct() { awk -v i="$2" '{ print $i }' "$tmp/$1.acct"; }

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
pgver=$(sql 'SHOW server_version')
echo "machine: $(nproc) CPUs ($cpu), $(free -g | awk '/^Mem:/ { print $2 }') GiB; $(uname -sr); wrk, clients and servers on the same CPUs"
echo "PostgreSQL $pgver (fsync $(sql 'SHOW fsync'), synchronous_commit $(sql 'SHOW synchronous_commit'), shared_buffers $(sql 'SHOW shared_buffers'), backend_flush_after $(sql 'SHOW backend_flush_after'), wal_init_zero $(sql 'SHOW wal_init_zero'))"
echo "build: $build (CFLAGS $cflags${san:+, sanitizers $san})"
echo "wrk $(wrk -v 2>&1 | head -n 1 | awk '{ print $2 }'): -t$threads, ${duration} s per run, $warmup s warm-up per target; body: sipas-2023, 49 answers, $(echo "$units" | tr ',' '\n' | wc -l) units"
echo

if [ "$warmup" -gt 0 ]; then
	run warm-echo "$eport" "$ECHO_PID" 16 "$warmup"
	run warm-sipasd "$sport" "$SIPASD_PID" 16 "$warmup"
fi
declare -A loadavg
for c in $connections; do
	for t in echo sipasd; do
		if [ "$t" = echo ]; then port=$eport pid=$ECHO_PID; else port=$sport pid=$SIPASD_PID; fi
		loadavg[$t-c$c]=$(load)
		run "$t-c$c" "$port" "$pid" "$c" "$duration"
		echo "$t, $c connections (load before: ${loadavg[$t-c$c]}): $(grep '^BENCH ' "$tmp/$t-c$c.out")"
		sed -n 's/^ *Requests\/sec: */  wrk Requests\/sec: /p' "$tmp/$t-c$c.out"
		sed 's/^/  /' "$tmp/$t-c$c.cpu"
		if [ "$t" = echo ]; then
			echo "  CPU account: echo $(acct "$t-c$c" 1) s for $(acct "$t-c$c" 3) requests: $(acct "$t-c$c" 4) µs each"
		else
			echo "  CPU account: sipasd $(acct "$t-c$c" 1) s + PostgreSQL $(acct "$t-c$c" 2) s for $(acct "$t-c$c" 3) durable responses: $(acct "$t-c$c" 4) + $(acct "$t-c$c" 5) = $(awk -v a="$(acct "$t-c$c" 4)" -v b="$(acct "$t-c$c" 5)" 'BEGIN { printf "%.1f", a + b }') µs each (folding included; load after: $(load))"
		fi
		kill -0 "$pid" 2>/dev/null || die "$t died during the run"
	done
done

# 3. Every 201 must be a row: count the rows of each sipasd run's ids.
sleep 1
echo
fail=0
for c in $connections; do
	n="sipasd-c$c"
	p="bench-$n-"
	rows=$(sql "SELECT count(*) FROM responses WHERE left(source_id, ${#p}) = '$p'")
	acked=$(field "$n" s201)
	sent=$(field "$n" sent)
	echo "sipasd, $c connections: $rows rows for $acked 201s, $(field "$n" s200) 200s, $(field "$n" s503) 503s, $(field "$n" other) other, of $sent requests sent ($(field "$n" completed) completed)"
	if [ "$rows" -lt "$acked" ]; then
		echo "ingest: FAIL: $rows rows in responses but $acked responses acknowledged with 201 at $c connections" >&2
		fail=1
	fi
done
echo "rows in responses: $(sql 'SELECT count(*) FROM responses') in all (warm-up included)"
warn=$(grep -c -E ' (warn|error|WARN|ERROR)[ :]' "$tmp/sipasd.log" || true)
echo "sipasd log: $(wc -l <"$tmp/sipasd.log") lines, $warn at warn or error level"
grep -E ' (warn|error|WARN|ERROR)[ :]' "$tmp/sipasd.log" | head -n 5 | sed 's/^/  /' || true
curl -s "http://127.0.0.1:$sport/metrics" | grep -E '^sipas_(limit_rejections_total|ingest_[a-z_]*(_sum|_count|_depth|_total)|aggregat[a-z_]*)[ {]' | sed 's/^/  metrics: /' || true

# 4. The table and the targets.
mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f", k / 1024 }'; }
ms() { awk -v u="${1:-0}" 'BEGIN { printf "%.2f", u / 1000 }'; }
echo
echo "| target | connections | req/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max RSS MiB | 201 | 503 | other | sipasd/echo | server CPU s | PostgreSQL CPU s | server µs/resp | PostgreSQL µs/resp | CPU/resp vs echo | load 1/5/15 before |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
ratio_ok=1 p99_ok=1 rss_max=0 cpu_ok=1 cpu_ratios=
for c in $connections; do
	for t in echo sipasd; do
		n=$t-c$c
		rss=$(cat "$tmp/$n.rss")
		ratio=- cratio=- pgs=- pgus=-
		if [ "$t" = sipasd ]; then
			pgs=$(acct "$n" 2) pgus=$(acct "$n" 5)
			cratio=$(awk -v s="$(acct "$n" 4)" -v p="$pgus" -v e="$(acct "echo-c$c" 4)" 'BEGIN { printf "%.2f", (e > 0 ? (s + p) / e : 0) }')
			awk -v r="$cratio" 'BEGIN { exit !(r <= 2) }' || cpu_ok=0
			cpu_ratios="${cpu_ratios:+$cpu_ratios, }${cratio}× at $c"
			ratio=$(awk -v s="$(field "$n" rps)" -v e="$(field "echo-c$c" rps)" 'BEGIN { printf "%.3f", s / e }')
			awk -v r="$ratio" 'BEGIN { exit !(r >= 0.5) }' || ratio_ok=0
			[ "${rss:-0}" -gt "$rss_max" ] && rss_max=$rss
			if [ "$c" = 64 ]; then
				p99_64=$(field "$n" p99_us)
				[ "$p99_64" -lt 50000 ] || p99_ok=0
			fi
		fi
		echo "| $t | $c | $(field "$n" rps) | $(ms "$(field "$n" p50_us)") | $(ms "$(field "$n" p90_us)") | $(ms "$(field "$n" p99_us)") | $(ms "$(field "$n" p999_us)") | $(mib "$rss") | $(field "$n" s201) | $(field "$n" s503) | $(field "$n" other) | $ratio | $(acct "$n" 1) | $pgs | $(acct "$n" 4) | $pgus | $cratio | ${loadavg[$n]} |"
	done
done
verdict() { [ "$1" = 1 ] && echo met || echo "not met"; }
echo
echo "| target | measured | |"
echo "|---|---|---|"
echo "| durable ingest >= 1/2 of echo's throughput | sipasd/echo $(for c in $connections; do printf '%s at %s, ' "$(awk -v s="$(field "sipasd-c$c" rps)" -v e="$(field "echo-c$c" rps)" 'BEGIN { printf "%.3f", s / e }')" "$c"; done | sed 's/, $//') | $(verdict $ratio_ok) |"
if [ -n "${p99_64:-}" ]; then
	echo "| p99 < 50 ms at 64 connections | $(ms "$p99_64") ms | $(verdict $p99_ok) |"
else
	echo "| p99 < 50 ms at 64 connections | not run (CONNECTIONS=$connections) | |"
fi
echo "| sipasd + PostgreSQL CPU per durable response <= 2x echo's CPU per request | $cpu_ratios | $(verdict $cpu_ok) |"
echo "| sipasd RSS < 100 MiB | max $(mib "$rss_max") MiB | $( [ "$rss_max" -lt 102400 ] && echo met || echo 'not met') |"
[ "$fail" = 0 ] || die "FAIL: fewer rows than acknowledged 201s (see above)"
