#!/usr/bin/env bash
# tests/fuzz/run.sh: build the libFuzzer targets with clang
# (-fsanitize=fuzzer,address,undefined) and run each for a fixed time on its
# seed corpus (tests/fuzz/corpus/TARGET). Fails if a target does not build or
# if any run finds a crash, a leak, a sanitizer report or a timeout.
#
#	tests/fuzz/run.sh [SECONDS [TARGET...]]
#
# SECONDS per target (default: $FUZZ_SECONDS or 20). Environment: CC (default
# clang), FUZZ_DIR (work directory, default a fresh one under /tmp; kept only
# if set), FUZZ_JOBS (parallel fuzzing workers per target, default 1).
# Crash inputs are written to the work directory; the script prints them.
# Longer runs: docs/operations.md.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-${FUZZ_SECONDS:-20}}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_csvin fuzz_survey fuzz_sms fuzz_json_response fuzz_form fuzz_bodystream
	fuzz_report_run fuzz_xlsxin)
cc=${CC:-clang}
command -v "$cc" >/dev/null 2>&1 || { echo "run.sh: $cc not found (Debian: clang libclang-rt-14-dev)" >&2; exit 1; }

if [ -n "${FUZZ_DIR:-}" ]; then
	work=$FUZZ_DIR
	mkdir -p "$work"
else
	work=$(mktemp -d /tmp/sipas-fuzz.XXXXXX) || exit 1
	trap 'rm -rf "$work"' EXIT
fi

pc() { pkg-config "$@" 2>/dev/null; }
cflags=(-g -O1 -std=gnu11 -fno-omit-frame-pointer -fno-sanitize-recover=all -Werror=implicit-function-declaration
	-I"$work" -I"$root/include" -I"$root" $(pc --cflags jansson libevent libpq gsl libcrypto libzip expat))
libs=($(pc --libs jansson libevent libpq gsl libcrypto libzip expat) -lcsv -lunistring -lm)
san=address,undefined

# A minimal config.h: the sources include it for autoconf's defines.
cat >"$work/config.h" <<'H'
#define _GNU_SOURCE 1
#define PACKAGE "sipas"
#define PACKAGE_NAME "sipas"
#define PACKAGE_VERSION "fuzz"
#define PACKAGE_STRING "sipas fuzz"
H

# The built-in surveys, as the Makefile embeds them.
sh "$root/build-aux/embed.sh" "$work/builtin_surveys.c" \
    "$root/surveys/sipas-2017.json" "$root/surveys/sipas-2023.json" \
    "$root/surveys/onestop-tt01.json" || exit 1

# The pure library (no libevent, no libpq) every target links.
objs=()
for src in common/util.c common/strmap.c common/response.c common/csvin.c common/csvout.c common/xlsxin.c \
    common/sms.c common/hmac.c common/survey.c analysis/accum.c \
    analysis/indices.c analysis/output.c analysis/compare.c \
    analysis/intervals.c "$work/builtin_surveys.c" daemon/log.c common/token.c common/textbuf.c; do
	case $src in /*) path=$src ;; *) path=$root/$src ;; esac
	obj=$work/$(echo "$src" | tr '/' '_' | sed 's/\.c$/.o/')
	"$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link,$san -c "$path" -o "$obj" ||
		{ echo "run.sh: cannot compile $src" >&2; exit 1; }
	objs+=("$obj")
done
# The form decoder and the upload body stream live in daemon modules; only
# they are reached.
"$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link,$san -c "$root/daemon/formdata.c" \
    -o "$work/daemon_form.o" || { echo "run.sh: cannot compile daemon/formdata.c" >&2; exit 1; }
"$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link,$san -c "$root/daemon/channels/bodystream.c" \
    -o "$work/daemon_bodystream.o" || { echo "run.sh: cannot compile daemon/channels/bodystream.c" >&2; exit 1; }
# A report's periods: the run and the model (the renderers are never reached).
for src in report/run.c report/model.c report/format.c; do
	"$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link,$san -c "$root/$src" \
	    -o "$work/$(echo "$src" | tr '/' '_' | sed 's/\.c$/.o/')" ||
		{ echo "run.sh: cannot compile $src" >&2; exit 1; }
done

export SIPAS_FUZZ_SURVEY=$root/tests/data/csv/mini.survey.json
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in "${targets[@]}"; do
	extra=()
	case $t in
	fuzz_form) extra=("$work/daemon_form.o") ;;
	fuzz_bodystream) extra=("$work/daemon_bodystream.o") ;;
	fuzz_report_run) extra=("$work/report_run.o" "$work/report_model.o" "$work/report_format.o") ;;
	esac
	# Functions a target reaches only on paths it never takes (HTTP
	# replies, the store, the metrics) get stubs that abort.
	: >"$work/$t-stubs.c"
	"$cc" "${cflags[@]}" -fsanitize=fuzzer,$san "$here/$t.c" "${extra[@]}" \
	    "${objs[@]}" "${libs[@]}" -o "$work/$t" 2>"$work/$t-link.log"
	sed -n "s/.*undefined reference to \`\([A-Za-z_0-9]*\)'.*/\1/p" \
	    "$work/$t-link.log" | sort -u | while read -r sym; do
		echo "void $sym(void); void $sym(void) { __builtin_trap(); }"
	done >"$work/$t-stubs.c"
	if ! "$cc" "${cflags[@]}" -fsanitize=fuzzer,$san "$here/$t.c" "${extra[@]}" \
	    "$work/$t-stubs.c" "${objs[@]}" "${libs[@]}" -o "$work/$t"; then
		echo "FAIL $t: does not build"
		failed=$((failed + 1))
		continue
	fi
	corpus=$work/corpus-$t
	mkdir -p "$corpus"
	[ -d "$here/corpus/$t" ] && cp "$here/corpus/$t"/* "$corpus/" 2>/dev/null
	opts=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536
		-artifact_prefix="$work/$t-" -print_final_stats=1)
	[ -f "$here/$t.dict" ] && opts+=(-dict="$here/$t.dict")
	if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then
		opts+=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
	fi
	"$work/$t" "${opts[@]}" "$corpus" >"$work/$t.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "ok   $t: ${execs:-?} executions in ${secs}s, no crash"
	else
		echo "FAIL $t (exit $rc): see below"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|^ *#[0-9]+ ' "$work/$t.log" | head -n 40 | sed 's/^/    /'
		ls "$work/$t-"* 2>/dev/null | sed 's/^/    input: /'
		failed=$((failed + 1))
	fi
done
[ -n "${FUZZ_DIR:-}" ] && echo "run.sh: work directory $work"
[ "$failed" -eq 0 ]
