#!/bin/sh
# analyze_cli.sh: sipasctl analyze as a user runs it (TAP).
#
# Every fixture of tests/data/fixtures/index.json gives exit 0 and a JSON
# result with as many units as its expected result (the numbers themselves are
# checked by test_fixtures and r_agreement.sh); every bad input gives exit 2,
# nothing on stdout and FILE:ROW:COLUMN: NAME: reason on stderr. Any run whose
# stderr shows a sanitizer report fails its test.
#
# Environment (set by make check): top_builddir, top_srcdir, SIPAS_TEST_DATA.
set -u

top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
data=${SIPAS_TEST_DATA:-$top_srcdir/tests/data}
ctl=$top_builddir/sipasctl
fixtures=$data/fixtures
csv=$data/csv
tmp=$(mktemp -d "${TMPDIR:-/tmp}/analyze_cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0

# ok COND-STATUS DESCRIPTION: one TAP line; dumps the last run when it failed.
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		echo "# exit status $status"
		sed -e 's/^/# stderr: /' "$tmp/err" | head -20
		sed -e 's/^/# stdout: /' "$tmp/out" | head -5
	fi
}

# run ARGS...: sipasctl with stdout and stderr in $tmp/out, $tmp/err; sets status.
run() {
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# run_stdin FILE ARGS...: the same with FILE on standard input.
run_stdin() {
	f=$1
	shift
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err" <"$f"
	status=$?
}

# clean: 0 if the last run's stderr has no sanitizer or UBSan report.
clean() {
	! grep -q -e 'Sanitizer' -e 'runtime error' "$tmp/err"
}

# units FILE: the number of units of a JSON result.
units() {
	if command -v jq >/dev/null 2>&1; then
		jq '.units | length' "$1" 2>/dev/null
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["units"]))' "$1" 2>/dev/null
	else
		grep -c '"unit": *"' "$1"
	fi
}

# is_json FILE: 0 if FILE holds one JSON object (a syntax check when a tool is there).
is_json() {
	if command -v jq >/dev/null 2>&1; then
		jq -e 'type == "object"' "$1" >/dev/null 2>&1
	elif command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), dict)' "$1" 2>/dev/null
	else
		head -c 1 "$1" | grep -q '{' && tail -c 2 "$1" | grep -q '}'
	fi
}

# bad DESCRIPTION EXPECTED-STDERR ARGS...: exit 2, nothing on stdout, message on stderr.
bad() {
	desc=$1
	expect=$2
	shift 2
	run "$@"
	[ "$status" -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q -F -e "$expect" "$tmp/err" && clean
	ok $? "$desc: exit 2, stderr says '$expect'"
}

if [ ! -x "$ctl" ]; then
	echo "1..1"
	echo "not ok 1 - $ctl is built"
	exit 1
fi

# --- every fixture ---

sed -n 's/.*"input": *"\([^"]*\)".*"survey": *"\([^"]*\)".*"expected": *"\([^"]*\)".*/\1 \2 \3/p' \
    "$fixtures/index.json" >"$tmp/cases"
: >"$tmp/err"
: >"$tmp/out"
status=0
[ -s "$tmp/cases" ]
ok $? "index.json lists fixtures (one case a line: input, survey, expected)"

while read -r input survey expected; do
	case $survey in
	*.json) survey=$fixtures/$survey ;;
	esac
	want=$(units "$fixtures/$expected")
	run analyze --survey "$survey" --input "$fixtures/$input"
	cp "$tmp/out" "$tmp/$input.json"
	got=$(units "$tmp/out")
	[ "$status" -eq 0 ] && is_json "$tmp/out" && [ -n "$want" ] && [ "$got" = "$want" ] &&
	    [ ! -s "$tmp/err" ] && clean
	ok $? "$input ($survey): exit 0, JSON with $want units (got ${got:-none})"

	run analyze --survey "$survey" --input "$fixtures/$input" --format csv
	[ "$status" -eq 0 ] && head -n 1 "$tmp/out" | grep -q '^unit,kind,code,value,ci_low,ci_high,n' &&
	    [ "$(cut -d, -f1 "$tmp/out" | sed 1d | sort -u | wc -l)" -eq "$want" ] && clean
	ok $? "$input --format csv: exit 0, a CSV with a header and $want units"
done <"$tmp/cases"

# The same file on standard input gives the same result.
set -- $(head -n 1 "$tmp/cases")
run_stdin "$fixtures/$1" analyze --survey "$2" --input -
cmp -s "$tmp/out" "$tmp/$1.json" && [ "$status" -eq 0 ] && clean
ok $? "--input - reads standard input, same result as the file"

run analyze --survey sipas-2017 --input "$fixtures/sipas2017-simple.csv" --level 0.9
[ "$status" -eq 0 ] && grep -q '"confidence": 0.9' "$tmp/out" && clean
ok $? "--level 0.9 is used"

# A file whose rows are all blank but the header: a result with no units.
run analyze --survey "$csv/mini.survey.json" --input "$csv/header-only.csv"
[ "$status" -eq 0 ] && [ "$(units "$tmp/out")" = 0 ] && clean
ok $? "a header-only file: exit 0, no units"

# --- bad input: exit 2, nothing on stdout, file:row:column on stderr ---

bad "unknown column" \
    "$csv/bad-unknown-column.csv:0:2: Q99: unknown column \"Q99\"" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-unknown-column.csv"
printf 'unit,A1,A9\nU1,4,5\n' >"$tmp/unknown-item.csv"
bad "column that is not an item of the built-in survey" \
    "$tmp/unknown-item.csv:0:3: A9: unknown column \"A9\"" \
    analyze --survey sipas-2017 --input "$tmp/unknown-item.csv"
bad "value outside the item's scale" \
    "$csv/bad-sipas2017-scale.csv:1:2: A1: value 6 is not on scale SAT5 (1, 2, 3, 4, 5)" \
    analyze --survey sipas-2017 --input "$csv/bad-sipas2017-scale.csv"
bad "non-integer answer" \
    "$csv/bad-scale.csv:2:2: Q1: value \"4.5\" is not on scale SAT5 (1, 2, 3, 4, 5)" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-scale.csv"
bad "non-numeric weight" \
    "$csv/bad-weight.csv:1:2: weight: weight must be a number > 0, got \"abc\"" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-weight.csv"
bad "weight 0" \
    "$csv/bad-weight.csv:2:2: weight: weight must be a number > 0, got \"0\"" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-weight.csv"
bad "negative weight" \
    "$csv/bad-weight.csv:3:2: weight: weight must be a number > 0, got \"-1\"" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-weight.csv"
bad "missing unit column" \
    "$csv/bad-missing-unit.csv:0:0: unit: missing required column \"unit\"" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-missing-unit.csv"
bad "empty file" \
    "$csv/bad-empty.csv:0:0: empty file" \
    analyze --survey sipas-2023 --input "$csv/bad-empty.csv"
bad "row with too few fields" \
    "$csv/bad-fieldcount.csv:2:0: row has 2 fields, the header has 3" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-fieldcount.csv"
bad "bad submitted_at" \
    "$csv/bad-time.csv:1:2: submitted_at: no such date: 2025-02-30" \
    analyze --survey "$csv/mini.survey.json" --input "$csv/bad-time.csv"
bad "unknown survey" \
    "sipasctl: unknown survey 'nope' (built-in: sipas-2017, sipas-2023, onestop-tt01, or a definition file)" \
    analyze --survey nope --input "$fixtures/sipas2017-simple.csv"
bad "nonexistent input file" \
    "$tmp/no-such-file.csv: No such file or directory" \
    analyze --survey sipas-2017 --input "$tmp/no-such-file.csv"
printf '{"code": "broken"}\n' >"$tmp/broken.survey.json"
bad "invalid survey definition file" \
    "$tmp/broken.survey.json" \
    analyze --survey "$tmp/broken.survey.json" --input "$fixtures/sipas2017-simple.csv"

# Every bad field is named, each row once; after 50, a count of the rest.
{
	echo "unit,A1"
	i=0
	while [ $i -lt 60 ]; do
		echo "U1,9"
		i=$((i + 1))
	done
} >"$tmp/many.csv"
run analyze --survey sipas-2017 --input "$tmp/many.csv"
[ "$status" -eq 2 ] && [ ! -s "$tmp/out" ] &&
    [ "$(grep -c "^$tmp/many.csv:[0-9]*:2: A1: value 9" "$tmp/err")" -eq 50 ] &&
    grep -q -F '... and 10 more' "$tmp/err" && grep -q -F '60 bad rows of 60' "$tmp/err" && clean
ok $? "60 bad rows: 50 printed, then '... and 10 more'"

# A bad row among good ones spoils the result too (no partial output).
{
	head -n 5 "$fixtures/sipas2017-simple.csv"
	echo '"x","U001","2025-01-01","fax",5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5,5'
} >"$tmp/one-bad.csv"
bad "one bad row among good ones" \
    "$tmp/one-bad.csv:5:4: channel: unknown channel \"fax\"" \
    analyze --survey sipas-2017 --input "$tmp/one-bad.csv"

# --- usage ---

bad "--level 1" "--level" analyze --survey sipas-2017 --input "$fixtures/sipas2017-simple.csv" --level 1
bad "--level 0" "--level" analyze --survey sipas-2017 --input "$fixtures/sipas2017-simple.csv" --level 0
bad "--level abc" "--level" analyze --survey sipas-2017 --input "$fixtures/sipas2017-simple.csv" --level abc
bad "--format xml" "--format" analyze --survey sipas-2017 --input "$fixtures/sipas2017-simple.csv" --format xml
bad "no --input" "usage: sipasctl analyze" analyze --survey sipas-2017
bad "stray argument" "usage: sipasctl analyze" analyze --survey sipas-2017 --input "$fixtures/sipas2017-simple.csv" extra
bad "unknown command" "unknown command 'frobnicate'" frobnicate
bad "no command" "usage: sipasctl"

run --version
[ "$status" -eq 0 ] && grep -q '^sipasctl [0-9]' "$tmp/out" && clean
ok $? "--version"
run --help
[ "$status" -eq 0 ] && grep -q 'analyze' "$tmp/out" && clean
ok $? "--help lists analyze"
run analyze --help
[ "$status" -eq 0 ] && grep -q 'usage: sipasctl analyze' "$tmp/out" && clean
ok $? "analyze --help"

echo "1..$n"
[ "$failed" -eq 0 ]
