#!/bin/bash
# report_states.sh: reports computed from the aggregate states equal those
# computed from every stored response (`sipasctl report --raw`) to 1e-6,
# cell by cell of the CSV (every index, interval, n, ranking and change):
# whole years and quarters with a trend, periods that do not start or end on
# a month's first or last day (their other days read raw), weights, strata
# and PSUs, a response stored but not folded yet, GET /api/v1/reports, and
# a damaged state (refused, never guessed from).
. "$(dirname "$0")/daemon_lib.sh"

FIX=$SIPAS_TEST_DATA/fixtures
db_setup
for f in sipas2017-cluster:sipas-2017 sipas2023-weighted:sipas-2023; do
	"$SIPASCTL" --db "$DSN" import --survey "${f#*:}" "$FIX/${f%%:*}.csv" >/dev/null 2>&1 ||
		bail "import of ${f%%:*} failed"
done
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
tap $? "sipasctl aggregate folds the imported responses"
is "$(sql 'SELECT count(*) FROM agg_queue')" 0 "nothing pending"

# both NAME SURVEY UNIT FROM TO [ARGS]: the report from the states and with
# --raw, as CSV, into $tmp/NAME.states.csv and $tmp/NAME.raw.csv.
both() {
	local name=$1 survey=$2 unit=$3 from=$4 to=$5
	shift 5
	"$SIPASCTL" --db "$DSN" report --survey "$survey" --unit "$unit" --from "$from" \
		--to "$to" --format csv -o "$tmp/$name.states.csv" "$@" 2>"$tmp/$name.states.err" &&
	"$SIPASCTL" --db "$DSN" report --survey "$survey" --unit "$unit" --from "$from" \
		--to "$to" --format csv -o "$tmp/$name.raw.csv" --raw "$@" 2>"$tmp/$name.raw.err"
}
# states NAME: the aggregate states the report from states merged.
states() {
	sed -n 's/.* from \([0-9]*\) aggregate state(s).*/\1/p' "$tmp/$1.states.err"
}

# NAME SURVEY UNIT FROM TO ARGS; the states each should merge (the roll-ups
# of the whole months of its periods), or - for "some".
cases=(
	"y2025 sipas-2017 P01 2025-01-01 2025-12-31 36"
	"q4 sipas-2017 P01 2025-10-01 2025-12-31 36 --trend 4"
	"partial sipas-2017 P01 2025-02-10 2025-10-20 - --trend 3"
	"days sipas-2017 U001 2025-04-03 2025-04-27 0"
	"u001 sipas-2017 U001 2025-07-01 2025-12-31 12 --lang en"
	"w2023 sipas-2023 P01 2025-07-01 2025-12-31 - --trend 2"
)
for c in "${cases[@]}"; do
	set -- $c
	name=$1 want=$6
	both "$1" "$2" "$3" "$4" "$5" "${@:7}"
	tap $? "$name: the report from states and with --raw both exit 0"
	csv_near "$tmp/$name.states.csv" "$tmp/$name.raw.csv" 1e-6 >"$tmp/near.out"
	tap $? "$name: every cell of the CSV agrees to 1e-6 ($(cat "$tmp/near.out"))"
	got=$(states "$name")
	if [ "$want" = - ]; then
		tap $([ "${got:-0}" -gt 0 ]; echo $?) "$name: read $got states, the other days raw"
	else
		is "$got" "$want" "$name: the states of its whole months"
	fi
	is "$(sed -n 's/.* from \([0-9]*\) aggregate state(s).*/\1/p' "$tmp/$name.raw.err")" 0 \
		"$name: --raw reads no state"
done
tap $(grep -q '^P01,overall,' "$tmp/y2025.states.csv"; echo $?) "the yearly report has the province's overall row"
tap $(awk -F, '$2 == "trend"' "$tmp/q4.states.csv" | grep -c . | grep -qx 4; echo $?) \
	"the quarterly report has four trend points"

# A response stored after the fold is pending: read raw beside the states.
n0=$(awk -F, '$1 == "P01" && $2 == "overall" { print $7 }' "$tmp/y2025.states.csv")
sql "INSERT INTO responses (survey, unit, source_id, submitted_at, channel, weight, stratum, psu,
	answers, content_hash) VALUES ('sipas-2017', 'U002', 'late-1', '2025-06-15 09:00:00+07', 'web',
	1.5, 'urban', 'U002-v1', '{\"A1\": 1, \"A2\": 2, \"B1\": 1, \"C1\": 2, \"D1\": 1, \"E1\": 1}',
	'late-1')" >/dev/null
is "$(sql 'SELECT count(*) FROM agg_queue')" 1 "a response inserted after the fold is pending"
both y2025p sipas-2017 P01 2025-01-01 2025-12-31
tap $? "the yearly report again, both ways"
csv_near "$tmp/y2025p.states.csv" "$tmp/y2025p.raw.csv" 1e-6 >"$tmp/near.out"
tap $? "with a pending response, states and raw agree to 1e-6 ($(cat "$tmp/near.out"))"
is "$(awk -F, '$1 == "P01" && $2 == "overall" { print $7 }' "$tmp/y2025p.states.csv")" "$((n0 + 1))" \
	"the pending response is counted ($n0 + 1)"
is "$(states y2025p)" 36 "the months' states are still read"
both partialp sipas-2017 P01 2025-02-10 2025-10-20 --trend 3
csv_near "$tmp/partialp.states.csv" "$tmp/partialp.raw.csv" 1e-6 >"$tmp/near.out"
tap $? "and so for 2025-02-10..2025-10-20 ($(cat "$tmp/near.out"))"

# sipasd, its folder off so the response stays pending.
VIEWER=$(token viewer)
sipasd_start "aggregate_interval_ms = 0"
for c in y2025p:2025-01-01:2025-12-31 partialp:2025-02-10:2025-10-20; do
	IFS=: read -r name from to <<<"$c"
	trend=6
	[ "$name" = partialp ] && trend=3
	is "$(get "$VIEWER" "/api/v1/reports?survey=sipas-2017&unit=P01&from=$from&to=$to&format=csv&trend=$trend")" \
		200 "GET /api/v1/reports $from..$to: 200"
	csv_near "$tmp/body" "$tmp/$name.raw.csv" 1e-6 >"$tmp/near.out"
	tap $? "sipasd's report of $from..$to agrees with sipasctl report --raw to 1e-6 ($(cat "$tmp/near.out"))"
done

# A damaged state is refused, never guessed from.
sql "UPDATE agg_states SET state = '\\x00'::bytea WHERE survey = 'sipas-2017' AND unit = 'U001'
	AND month = '2025-03-01' AND channel = '*'" >/dev/null
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-01-01 --to 2025-12-31 \
	--format csv -o "$tmp/bad.csv" 2>"$tmp/bad.err"
is $? 1 "a report over a damaged state: exit 1"
tap $(grep -q 'aggregate --rebuild' "$tmp/bad.err" && [ ! -e "$tmp/bad.csv" ]; echo $?) \
	"it says to rebuild the states and writes no file"
is "$(get "$VIEWER" "/api/v1/reports?survey=sipas-2017&unit=P01&from=2025-01-01&to=2025-12-31&format=csv")" \
	500 "GET /api/v1/reports over a damaged state: 500"
tap $(grep -q '"code":"stale_aggregates"' "$tmp/body"; echo $?) "... stale_aggregates"
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-01-01 --to 2025-12-31 \
	--format csv -o "$tmp/bad.csv" --raw 2>/dev/null
is $? 0 "--raw still reports"
is "$(sql 'SELECT count(*) FROM agg_queue')" 1 "the reports wrote nothing (the response still pending)"

sipasd_stop
log_clean
finish
