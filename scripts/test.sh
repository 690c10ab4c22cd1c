#!/usr/bin/env bash
# scripts/test.sh: the project's one test command (README, .ci/run).
#
#	bash scripts/test.sh
#
# Installs the Debian packages (scripts/deps.sh), regenerates the build system,
# builds out of tree in build/ with AddressSanitizer and UBSan, runs make check
# (failing tests print their logs), then make distcheck (a plain build from the
# release tarball, its own make check included). Ends with one line
# "N passed, N failed": the TAP results of make check (XFAIL counts as passed,
# FAIL, ERROR and XPASS as failed) plus one for the fuzz run (tests/fuzz/run.sh,
# SIPAS_FUZZ_SECONDS per target, default 20) and one for distcheck. Exit status 0 only
# if nothing failed. Environment: JOBS (make -j, default 2).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=${JOBS:-2}
build=$root/build
passed=0
failed=0
check_failures=
summary=
fuzz_result=

# Print a banner for a step.
step() {
	printf '\n==> %s\n' "$*"
}

# Give up: one failure for what could not be done, then the summary.
give_up() {
	echo "test.sh: $*" >&2
	failed=$((failed + 1))
	echo
	echo "$passed passed, $failed failed"
	exit 1
}

step "dependencies (scripts/deps.sh)"
bash "$root/scripts/deps.sh" || give_up "scripts/deps.sh failed"

step "autoreconf -fi"
autoreconf -fi || give_up "autoreconf failed"

step "configure --enable-sanitizers in build/"
mkdir -p "$build"
(cd "$build" && "$root/configure" --enable-sanitizers) ||
    give_up "configure failed (see build/config.log)"

step "make -j$jobs"
make -C "$build" -j"$jobs" || give_up "the build failed"

step "make -j$jobs check"
rm -f "$build/test-suite.log"
# A hard limit well inside CI's 90 minutes: a hung test fails the run.
timeout "${SIPAS_CHECK_TIMEOUT:-2400}" make -C "$build" -j"$jobs" check VERBOSE=1
check_rc=$?
if [ -f "$build/test-suite.log" ]; then
	# One number from the summary block of automake's test-suite.log.
	count() {
		awk -v k="$1" '$1 == "#" && $2 == k ":" { print $3; exit }' \
		    "$build/test-suite.log"
	}
	pass=$(count PASS); xfail=$(count XFAIL); skip=$(count SKIP)
	fail=$(count FAIL); xpass=$(count XPASS); err=$(count ERROR)
	passed=$((passed + ${pass:-0} + ${xfail:-0}))
	failed=$((failed + ${fail:-0} + ${xpass:-0} + ${err:-0}))
	summary="make check: ${pass:-0} PASS, ${xfail:-0} XFAIL, ${skip:-0} SKIP, ${fail:-0} FAIL, ${xpass:-0} XPASS, ${err:-0} ERROR"
	echo "$summary"
	# The failing checks, kept for the end of the output (the last lines
	# are what a CI page shows).
	check_failures=$(grep -hE '^(FAIL|ERROR|XPASS):' "$build"/tests/*.log \
	    "$build"/tests/*/*.log 2>/dev/null | head -n 40)
	if [ "$check_rc" -ne 0 ] && [ $((${fail:-0} + ${xpass:-0} + ${err:-0})) -eq 0 ]; then
		echo "make check exited $check_rc with no failing test: counted as a failure"
		failed=$((failed + 1))
	fi
else
	echo "make check produced no test-suite.log (exit $check_rc): counted as a failure"
	failed=$((failed + 1))
fi

step "fuzzing (tests/fuzz/run.sh, ${SIPAS_FUZZ_SECONDS:-20} s per target)"
if timeout 600 bash "$root/tests/fuzz/run.sh" "${SIPAS_FUZZ_SECONDS:-20}"; then
	fuzz_result="fuzzing: passed"
	passed=$((passed + 1))
else
	fuzz_result="fuzzing: FAILED"
	failed=$((failed + 1))
fi
echo "$fuzz_result"

step "make distcheck"
distcheck_failures=
if timeout "${SIPAS_DISTCHECK_TIMEOUT:-1800}" make -C "$build" -j"$jobs" distcheck VERBOSE=1; then
	echo "make distcheck: passed"
	passed=$((passed + 1))
else
	echo "make distcheck: FAILED"
	failed=$((failed + 1))
	# The checks that failed inside the release tree (left in place on
	# failure), so the end of the output names them.
	distcheck_failures=$(grep -hE '^(FAIL|ERROR|XPASS):' \
	    "$build"/sipas-*/_build/sub/tests/*.log \
	    "$build"/sipas-*/_build/sub/tests/*/*.log 2>/dev/null | head -n 40)
fi

echo
# The make check summary and its failing checks again, next to the total.
[ -z "$summary" ] || echo "$summary"
[ -z "$check_failures" ] || printf '%s\n' "$check_failures"
[ -z "$fuzz_result" ] || echo "$fuzz_result"
[ -z "$distcheck_failures" ] || printf 'distcheck:\n%s\n' "$distcheck_failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
