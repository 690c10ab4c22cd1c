#!/usr/bin/env bash
# r_agreement.sh: sipasctl analyze agrees with R's survey package to 1e-6 on
# data the project has never seen. Every run draws new responses
# (tests/tools/gen_responses.R, then tests/tools/gen_edge.R for small units and
# 0 %/100 % items), computes the reference with tests/tools/oracle.R and compares
# with tests/tools/resultcmp. TAP output for automake's tap-driver.
#
# Environment (set by make check): top_srcdir, top_builddir. Optional:
#   SIPAS_R_SEED=N    reproduce a run (each test name prints its own seed)
#   SIPAS_R_JOBS=N    cases prepared in parallel (default 2)
#   RESULTCMP=PATH    the comparator (default $top_builddir/tests/tools/resultcmp)
#   SIPAS_R_KEEP=DIR  copy the data, reference and output of failing cases there
#
# R is required: without Rscript the test fails, it never skips (CI installs R).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
SIPASCTL=${SIPASCTL:-$top_builddir/sipasctl}
RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
TOOLS=$top_srcdir/tests/tools
CUSTOM=$top_srcdir/tests/data/fixtures/custom-pooled.survey.json
JOBS=${SIPAS_R_JOBS:-2}
TOL=1e-6

seed=${SIPAS_R_SEED:-$(( (RANDOM * 32768 + RANDOM) % 900000 + 1 ))}

tmp=$(mktemp -d /tmp/sipas-r-agreement.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# One case a line: survey design units per_unit missing level gen_edge-options.
# Every built-in survey and the custom one, in the four designs, missing 0, 0.1
# and 0.3, levels 0.9, 0.95 (sipasctl's default, not passed) and 0.99. "small=N"
# keeps N to per_unit respondents a unit; "extremes" makes items and groups 0 %
# and 100 % satisfied (the Kish fallback under complex designs) and leaves an
# item unanswered. Small complex units have no missing answers, so that every
# item's design has at least 2 degrees of freedom: with fewer, R's reference is
# undefined ("NaN") and such a draw is replaced by the next seed. The
# "lonely" design has strata with a single PSU and the same PSU labels in two
# strata; a survey name ending in "+certainty" is that survey with
# "lonely_psu": "certainty" (otherwise lonely PSUs are adjusted, the default).
cases=(
	"sipas-2017   simple     5 120 0   0.95 -"
	"sipas-2017   cluster    3 200 0.1 0.95 extremes"
	"sipas-2017   weighted   4  60 0.3 0.95 extremes"
	"sipas-2017   simple    12   8 0.3 0.95 small=3,extremes"
	"sipas-2017   stratified 4 100 0.1 0.9  extremes"
	"sipas-2023   weighted   3 150 0.1 0.95 -"
	"sipas-2023   stratified 3 150 0.3 0.9  -"
	"sipas-2023   cluster    3 200 0   0.95 extremes"
	"sipas-2023   simple     3  80 0.1 0.95 extremes"
	"sipas-2023   stratified 8   8 0   0.95 small=4"
	"sipas-2023   cluster    2 1500 0.1 0.95 -"
	"onestop-tt01 simple     6  50 0.1 0.95 extremes"
	"onestop-tt01 cluster    4 100 0.3 0.95 -"
	"onestop-tt01 weighted   4  40 0   0.9  extremes"
	"onestop-tt01 cluster    4  12 0   0.95 -"
	"onestop-tt01 stratified 5  60 0.3 0.99 extremes"
	"onestop-tt01 simple    40  30 0.1 0.95 -"
	"custom       simple     4 100 0.1 0.9  extremes"
	"custom       stratified 4 100 0   0.95 extremes"
	"custom       cluster    3 150 0.3 0.95 extremes"
	"custom       weighted  10   8 0   0.95 small=3,extremes"
	"sipas-2017   lonely     3 200 0.1 0.95 -"
	"sipas-2023   lonely     2 300 0   0.95 extremes"
	"onestop-tt01 lonely     4  80 0.1 0.9  -"
	"custom       lonely     3 150 0.1 0.95 extremes"
	"sipas-2017+certainty   lonely 3 200 0.1 0.95 -"
	"onestop-tt01+certainty lonely 4  60 0   0.95 -"
	"custom+certainty       lonely 3 150 0.3 0.99 extremes"
)

# The survey file R reads for a case's survey name; NAME+certainty is a copy
# of NAME's file in the case's directory $2 with "lonely_psu": "certainty".
survey_file() {
	local f
	case ${1%+certainty} in
	custom) f=$CUSTOM ;;
	*) f=$top_srcdir/surveys/${1%+certainty}.json ;;
	esac
	case $1 in
	*+certainty)
		sed '0,/{/s//{"lonely_psu": "certainty", /' "$f" >"$2/survey.json"
		echo "$2/survey.json" ;;
	*) echo "$f" ;;
	esac
}

# What sipasctl is given: a built-in code, or the survey file's path.
survey_arg() {
	case $1 in
	custom | *+certainty) survey_file "$1" "$2" ;;
	*) echo "$1" ;;
	esac
}

# Whether R's reference for a case is usable: it exists, has no NaN (jsonlite's
# string for an undefined interval) and every unit lists every code of the
# survey (oracle.R leaves out a group none of whose items was answered).
reference_ok() {
	local ref=$1 sfile=$2 units codes per
	[ -s "$ref" ] || return 1
	grep -q '"NaN"\|"NA"\|"Inf"\|"-Inf"' "$ref" && return 1
	units=$(grep -o '"unit"' "$ref" | wc -l)
	codes=$(grep -o '"code"' "$ref" | wc -l)
	per=$(( $(grep -o '"code"' "$sfile" | wc -l) - 1 ))
	[ "$units" -gt 0 ] && [ "$codes" -eq $((units * per)) ]
}

# Prepare and run case i in its own directory: data, R reference, sipasctl,
# comparison. Leaves result (ok|not ok), name and diag files.
run_case() {
	local i=$1 dir=$tmp/case$i
	local survey design units per missing level edge sfile s try cseed
	local level_args=() edge_args=()
	read -r survey design units per missing level edge <<<"${cases[$i]}"
	mkdir -p "$dir"
	sfile=$(survey_file "$survey" "$dir")
	[ "$edge" = - ] || IFS=, read -r -a edge_args <<<"$edge"
	[ "$level" = 0.95 ] || level_args=(--level "$level")

	s=$(( (seed + 7919 * (i + 1)) % 1000000 + 1 ))
	for try in 1 2 3 4 5; do
		cseed=$s
		if ! Rscript "$TOOLS/gen_responses.R" "$sfile" "$dir/gen.csv" \
		    "$cseed" "$units" "$per" "$design" "$missing" \
		    >"$dir/r.out" 2>&1; then
			echo "gen_responses.R failed" >>"$dir/diag"
			break
		fi
		if [ "$edge" = - ]; then
			mv "$dir/gen.csv" "$dir/in.csv"
		elif ! Rscript "$TOOLS/gen_edge.R" "$sfile" "$dir/gen.csv" \
		    "$dir/in.csv" "$cseed" "${edge_args[@]}" \
		    >>"$dir/r.out" 2>&1; then
			echo "gen_edge.R failed" >>"$dir/diag"
			break
		fi
		rm -f "$dir/expected.json"
		Rscript "$TOOLS/oracle.R" "$sfile" "$dir/in.csv" \
		    "$dir/expected.json" "$level" \
		    >>"$dir/r.out" 2>&1
		if reference_ok "$dir/expected.json" "$sfile"; then
			break
		fi
		echo "seed $cseed: R's reference is degenerate (NaN, a group" \
		    "left out, or oracle.R failed); drawing again" >>"$dir/diag"
		rm -f "$dir/expected.json"
		s=$(( s % 1000000 + 1 ))
	done

	echo "$survey $design ${units}x$per missing $missing level $level" \
	    "${edge//,/ } seed $cseed" | sed 's/ - / /' >"$dir/name"
	if [ ! -s "$dir/expected.json" ]; then
		echo "no usable R reference" >>"$dir/diag"
		sed 's/^/R: /' "$dir/r.out" | tail -n 20 >>"$dir/diag"
		echo "not ok" >"$dir/result"
		return
	fi

	"$SIPASCTL" analyze --survey "$(survey_arg "$survey" "$dir")" \
	    --input "$dir/in.csv" --format json "${level_args[@]}" \
	    >"$dir/actual.json" 2>"$dir/stderr"
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "sipasctl analyze exited $rc" >>"$dir/diag"
		echo "not ok" >"$dir/result"
	elif grep -q 'Sanitizer\|runtime error' "$dir/stderr"; then
		echo "sipasctl stderr shows a sanitizer report" >>"$dir/diag"
		echo "not ok" >"$dir/result"
	elif [ "$design" = lonely ] &&
	    ! grep -q 'a stratum has a single PSU' "$dir/actual.json"; then
		echo "no single-PSU warning in sipasctl's result" >>"$dir/diag"
		echo "not ok" >"$dir/result"
	elif "$RESULTCMP" -m 40 "$dir/expected.json" "$dir/actual.json" $TOL \
	    >"$dir/cmp" 2>&1; then
		echo "ok" >"$dir/result"
	else
		echo "not ok" >"$dir/result"
	fi
	[ -f "$dir/cmp" ] && cat "$dir/cmp" >>"$dir/diag"
	[ -s "$dir/stderr" ] && sed 's/^/sipasctl: /' "$dir/stderr" |
	    head -n 40 >>"$dir/diag"
	return 0
}

ncases=${#cases[@]}
echo "1..$((ncases + 3))"
echo "# SIPAS_R_SEED=$seed (set it to reproduce this run)"

t=0
# Test: R is there (CI installs it; missing R is a failure, not a skip).
t=$((t + 1))
if command -v Rscript >/dev/null 2>&1 &&
    Rscript -e 'suppressMessages({library(survey); library(jsonlite)})' \
    >"$tmp/rcheck" 2>&1; then
	echo "ok $t - Rscript with the survey and jsonlite packages"
else
	echo "not ok $t - Rscript with the survey and jsonlite packages" \
	    "(apt-get install r-base-core r-cran-survey r-cran-jsonlite)"
	sed 's/^/# /' "$tmp/rcheck" 2>/dev/null
	for ((i = 0; i < ncases + 2; i++)); do
		t=$((t + 1))
		echo "not ok $t - needs R"
	done
	exit 1
fi

# Tests: the comparator accepts a result equal to itself and rejects one
# ci_low moved by 2e-6, naming the field.
fixture=$top_srcdir/tests/data/fixtures/custom-pooled.expected.json
t=$((t + 1))
if [ -x "$RESULTCMP" ] &&
    "$RESULTCMP" "$fixture" "$fixture" >"$tmp/self" 2>&1; then
	echo "ok $t - resultcmp: a result matches itself"
else
	echo "not ok $t - resultcmp: a result matches itself ($RESULTCMP)"
	sed 's/^/# /' "$tmp/self" 2>/dev/null
fi
awk 'done == 0 && /"ci_low": [0-9]/ {
	match($0, /[0-9][0-9.e+-]*/)
	v = substr($0, RSTART, RLENGTH) + 2e-6
	$0 = substr($0, 1, RSTART - 1) sprintf("%.15g", v) substr($0, RSTART + RLENGTH)
	done = 1
} { print }' "$fixture" >"$tmp/moved.json"
t=$((t + 1))
"$RESULTCMP" "$fixture" "$tmp/moved.json" >"$tmp/moved" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'ci_low: expected' "$tmp/moved"; then
	echo "ok $t - resultcmp: a ci_low moved by 2e-6 is a mismatch"
else
	echo "not ok $t - resultcmp: a ci_low moved by 2e-6 is a mismatch" \
	    "(exit $rc)"
	sed 's/^/# /' "$tmp/moved"
fi

# The cases, JOBS at a time; reported in order.
for ((i = 0; i < ncases; i++)); do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	run_case "$i" &
done
wait

failed=0
for ((i = 0; i < ncases; i++)); do
	dir=$tmp/case$i
	t=$((t + 1))
	result=$(cat "$dir/result" 2>/dev/null || echo "not ok")
	name=$(cat "$dir/name" 2>/dev/null || echo "case $i")
	maxd=$(sed -n 's/^max abs diff \([^ ]*\) .*/\1/p' "$dir/cmp" 2>/dev/null)
	echo "$result $t - $name: agrees with R to $TOL${maxd:+ (max diff $maxd)}"
	[ "$result" = ok ] || failed=1
	if [ "$result" != ok ] || grep -q degenerate "$dir/diag" 2>/dev/null; then
		sed 's/^/# /' "$dir/diag" 2>/dev/null
	fi
	if [ "$result" != ok ] && [ -n "${SIPAS_R_KEEP:-}" ]; then
		mkdir -p "$SIPAS_R_KEEP" && cp -r "$dir" "$SIPAS_R_KEEP/"
		echo "# kept in $SIPAS_R_KEEP/case$i"
	fi
done
exit 0
