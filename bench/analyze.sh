#!/usr/bin/env bash
# bench/analyze.sh: how fast `sipasctl analyze` is against R's survey package,
# and how much memory it takes, on a 50,000-response clustered sipas-2023 file
# (50 units x 1,000, 39 satisfaction + 10 expectation items = 49, weights,
# 2 strata, 6 PSUs a unit, 10 % missing). Memory is measured again on a file
# 4 times longer with the same units and items: it should stay about the same,
# bounded by units x items, not by rows. Prints a Markdown table row for the
# README. Not part of make check.
#
#	bench/analyze.sh            from the repository root or anywhere
#
# Environment: SIPASCTL=PATH (default: an optimised, sanitizer-free build made
# under bench/out/build), REPS=N runs of sipasctl (default 7, median taken).
# Generated data and the build are cached under bench/out/ (gitignored).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/bench/out
reps=${REPS:-7}
survey=$root/surveys/sipas-2023.json
mkdir -p "$out"

command -v Rscript >/dev/null || { echo "bench: Rscript is needed (scripts/deps.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: GNU time is needed: apt-get install time (scripts/deps.sh)" >&2; exit 1; }

# The sipasctl under test: an -O2 build without sanitizers, made once.
if [ -z "${SIPASCTL:-}" ]; then
	build=$out/build
	if [ ! -x "$root/configure" ]; then
		(cd "$root" && autoreconf -fi >/dev/null 2>&1)
	fi
	mkdir -p "$build"
	if [ ! -f "$build/Makefile" ]; then
		echo "bench: configuring an optimised build in $build" >&2
		(cd "$build" && "$root/configure" CFLAGS="-O2 -g" >configure.log 2>&1) ||
		    { tail -n 20 "$build/configure.log" >&2; exit 1; }
	fi
	make -C "$build" -j"$(nproc)" sipasctl >"$build/make.log" 2>&1 ||
	    { tail -n 30 "$build/make.log" >&2; exit 1; }
	SIPASCTL=$build/sipasctl
fi

# A comparator for the agreement check (standalone, Jansson only).
resultcmp=$out/resultcmp
if [ ! -x "$resultcmp" ] || [ "$root/tests/tools/resultcmp.c" -nt "$resultcmp" ]; then
	# shellcheck disable=SC2046
	cc -std=gnu11 -O2 -o "$resultcmp" "$root/tests/tools/resultcmp.c" \
	    $(pkg-config --cflags --libs jansson) -lm
fi

# Data, generated once.
gen() {
	local file=$1 seed=$2 per=$3
	if [ ! -s "$file" ]; then
		echo "bench: generating $(basename "$file") (50 units x $per)" >&2
		Rscript "$root/tests/tools/gen_responses.R" "$survey" "$file.tmp" \
		    "$seed" 50 "$per" cluster 0.1
		mv "$file.tmp" "$file"
	fi
}
big=$out/big.csv
huge=$out/big4.csv
gen "$big" 42 1000
gen "$huge" 43 4000

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# sipasctl: a warm-up run, then REPS timed runs; median of the wall times.
"$SIPASCTL" analyze --survey sipas-2023 --input "$big" >"$out/sipasctl.json"
times=()
for ((k = 0; k < reps; k++)); do
	t0=$(now)
	"$SIPASCTL" analyze --survey sipas-2023 --input "$big" >/dev/null
	t1=$(now)
	times+=("$(elapsed "$t0" "$t1")")
done
median=$(printf '%s\n' "${times[@]}" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')

# Maximum resident set size (KiB) of one run on each file.
rss() {
	/usr/bin/time -f %M -o "$out/rss.txt" "$SIPASCTL" analyze \
	    --survey sipas-2023 --input "$1" >/dev/null
	tail -n 1 "$out/rss.txt"
}
rss_big=$(rss "$big")
rss_huge=$(rss "$huge")
# The same files with weights rounded to 0.1 (26 distinct values instead of
# up to 2,601): tells whether memory follows the number of distinct weights.
for f in "$big" "$huge"; do
	[ -s "${f%.csv}-w1.csv" ] && [ "${f%.csv}-w1.csv" -nt "$f" ] && continue
	awk -F, 'BEGIN { OFS = "," } NR == 1 { for (i = 1; i <= NF; i++) if ($i == "\"weight\"") c = i }
	    NR > 1 { $c = sprintf("%.1f", $c) } { print }' "$f" >"${f%.csv}-w1.csv"
done
rss_big_w1=$(rss "${big%.csv}-w1.csv")
rss_huge_w1=$(rss "${huge%.csv}-w1.csv")

# R's survey package, once, on the same file.
t0=$(now)
Rscript "$root/tests/tools/oracle.R" "$survey" "$big" "$out/oracle.json" 2>"$out/oracle.err"
t1=$(now)
r_time=$(elapsed "$t0" "$t1")
ratio=$(awk -v r="$r_time" -v s="$median" 'BEGIN { printf "%.0f", r / s }')
agree=$("$resultcmp" -m 0 "$out/oracle.json" "$out/sipasctl.json" || true)
agree="$(echo "$agree" | tail -n 1) ($(echo "$agree" | sed -n 's/^\(max abs diff.*\)/\1/p'))"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
[ -n "$cpu" ] || cpu=$(uname -m)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
rows_big=$(($(wc -l <"$big") - 1))
rows_huge=$(($(wc -l <"$huge") - 1))
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo "machine: $(nproc) CPUs, $cpu, $mem RAM"
echo "sipasctl: $SIPASCTL ($(grep -m1 '^CFLAGS = ' "$(dirname "$SIPASCTL")/Makefile" 2>/dev/null | sed 's/^CFLAGS = //' || echo "flags unknown"))"
echo "data: $rows_big responses x 49 items (sipas-2023, 50 units, cluster design, 10 % missing)"
echo "sipasctl analyze: median ${median} s of $reps runs (${times[*]})"
echo "R survey (tests/tools/oracle.R): ${r_time} s, 1 run"
echo "R / sipasctl: ${ratio}x"
echo "max RSS: $(mib "$rss_big") on $rows_big rows, $(mib "$rss_huge") on $rows_huge rows"
echo "max RSS, weights rounded to 0.1: $(mib "$rss_big_w1") on $rows_big rows, $(mib "$rss_huge_w1") on $rows_huge rows"
echo "agreement with R: $agree"
echo
echo "| machine | responses x items | sipasctl analyze (median of $reps) | R survey | R / sipasctl | max RSS (${rows_big} rows) | max RSS (${rows_huge} rows) |"
echo "|---|---|---|---|---|---|---|"
echo "| $(nproc) CPUs, $cpu, $mem | $rows_big x 49 | ${median} s | ${r_time} s | ${ratio}x | $(mib "$rss_big") | $(mib "$rss_huge") |"
