#!/usr/bin/env bash
# respondent_filter.sh: GET /api/v1/indices?...&respondent.FIELD=VALUE
# (docs/dashboard.md) against a real PostgreSQL and sipasd: the 900 rows of
# the sipas-2017 cluster fixture (weights, strata, PSUs) get a gender and an
# age band and are posted through POST /api/v1/responses; after a fold the
# filtered indices (one field, two fields, with a channel, a partial period,
# children and the pooled parent) equal `sipasctl analyze` of the same rows
# filtered independently (awk over the CSV), read from raw rows only (no
# state); only the form's demographics (gender, age_band) with their values
# may filter, never free text (422 naming the parameter); with
# dashboard_min_n a unit of a filtered query below it has its numbers
# withheld (null, n kept, "withheld": "min_n"); SQL-looking values and keys
# are harmless; control bytes in a logged path are escaped.
set -u
. "$(dirname "$0")/daemon_lib.sh"

RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
[ -x "$RESULTCMP" ] || bail "$RESULTCMP is missing (make check builds it)"
[ -x "$RESPOST" ] || bail "$RESPOST is missing (make check builds it)"

db_setup
VIEWER=$(token viewer)
COLLECTOR=$(token collector)

# The fixture with respondent.gender and respondent.age_band columns: every
# 11th row has neither (no respondent object), the others a mix.
awk -F, -v OFS=, 'NR == 1 { print $0, "\"respondent.gender\"", "\"respondent.age_band\""; next }
	{
		i = NR - 1
		if (i % 11 == 0) { print $0, "", ""; next }
		g = i % 5 < 2 ? "f" : i % 5 < 4 ? "m" : "o"
		split("18-24 25-34 35-49 50-64 65+", a, " ")
		print $0, "\"" g "\"", "\"" a[(i * 7) % 5 + 1] "\""
	}' "$FIXTURES/sipas2017-cluster.csv" >"$tmp/resp.csv"
is "$(wc -l <"$tmp/resp.csv")" 901 "900 fixture rows with respondent columns"

# dashboard_min_n = 0 while the numbers are compared with sipasctl analyze.
sipasd_start "aggregate_interval_ms = 0" "dashboard_min_n = 0" || bail "sipasd did not start"
"$RESPOST" --url "$URL" --token "$COLLECTOR" --survey sipas-2017 "$tmp/resp.csv" >"$tmp/respost.out" 2>&1
tap $? "the 900 rows posted through POST /api/v1/responses"
is "$(sql "SELECT count(*) FROM responses WHERE respondent ->> 'gender' = 'f'")" \
	"$(awk -F, '$30 == "\"f\""' "$tmp/resp.csv" | wc -l)" "their respondent objects are stored"
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
tap $? "sipasctl aggregate folds them"
is "$(sql 'SELECT count(*) FROM agg_queue')" 0 "nothing pending: the unfiltered indices come from states"

# expect GENDER AGE CHANNEL FROM TO UNIT: the CSV rows that match (empty =
# any), their unit replaced by UNIT unless UNIT is empty.
expect() {
	awk -F, -v OFS=, -v g="$1" -v a="$2" -v c="$3" -v f="$4" -v t="$5" -v u="$6" '
		NR == 1 { print; next }
		g != "" && $30 != "\"" g "\"" { next }
		a != "" && $31 != "\"" a "\"" { next }
		c != "" && $4 != "\"" c "\"" { next }
		f != "" && substr($3, 2, 10) < f { next }
		t != "" && substr($3, 2, 10) > t { next }
		{ if (u != "") $2 = "\"" u "\""; print }' "$tmp/resp.csv"
}
# check NAME QUERY GENDER AGE CHANNEL FROM TO: the API's children (P01
# dropped) and the pooled P01 against sipasctl analyze of the rows filtered
# by awk.
check() {
	local name=$1 q=$2 st
	shift 2
	st=$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&children=1&$q")
	[ "$st" = 200 ] || { tap 1 "$name: 200 (got $st $(cat "$tmp/body"))"; return; }
	"$RESPOST" --drop-unit P01 <"$tmp/body" >"$tmp/$name.api.json"
	expect "$@" "" >"$tmp/$name.csv"
	"$SIPASCTL" analyze --survey sipas-2017 --input "$tmp/$name.csv" >"$tmp/$name.exp.json" 2>"$tmp/$name.err" ||
		{ tap 1 "$name: analyze failed: $(head -n 3 "$tmp/$name.err")"; return; }
	"$RESULTCMP" -m 5 "$tmp/$name.exp.json" "$tmp/$name.api.json" 1e-9 >"$tmp/cmp.out" 2>&1
	st=$?
	tap $st "$name: each child equals sipasctl analyze of the filtered rows (1e-9)"
	[ $st = 0 ] || sed 's/^/# /' "$tmp/cmp.out" | head -n 10 >&2
	get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&$q" >/dev/null
	cp "$tmp/body" "$tmp/$name.p01.json"
	expect "$@" P01 >"$tmp/$name.p.csv"
	"$SIPASCTL" analyze --survey sipas-2017 --input "$tmp/$name.p.csv" >"$tmp/$name.pexp.json" 2>/dev/null
	"$RESULTCMP" -m 5 "$tmp/$name.pexp.json" "$tmp/$name.p01.json" 1e-9 >"$tmp/cmp.out" 2>&1
	tap $? "$name: the pooled P01 equals sipasctl analyze of the filtered rows as one unit"
}

: >"$SIPASD_LOG.mark"
lines=$(wc -l <"$SIPASD_LOG")
check female "respondent.gender=f" f "" "" "" ""
tail -n +"$((lines + 1))" "$SIPASD_LOG" | grep -q "] 0 states and $(($(wc -l <"$tmp/female.csv") - 1)) rows for P01"
tap $? "a filtered query reads no state, only the matching raw rows"
check m3549 "respondent.gender=m&respondent.age_band=35-49&from=2025-02-10&to=2025-10-20" m 35-49 "" 2025-02-10 2025-10-20
check fpaper "respondent.gender=f&channel=paper&from=2025-03-01&to=2025-05-31" f "" paper 2025-03-01 2025-05-31
check age65 "respondent.age_band=65%2B" "" 65+ "" "" ""
is "$(jq -r '.units[] | select(.unit == "P01") | .respondents' "$tmp/female.p01.json")" \
	"$(($(wc -l <"$tmp/female.csv") - 1))" "respondents of gender=f: the number of matching rows"
get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01" >/dev/null
all=$(jq -r '.units[0].respondents' "$tmp/body")
is "$all" 900 "without a filter: every respondent (from states)"
get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&respondent.gender=" >/dev/null
is "$(cat "$tmp/body" | jq -r .error.field)" respondent.gender "respondent.gender= (empty): 422 naming the parameter"
sum=0
for g in f m o; do
	get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&respondent.gender=$g" >/dev/null
	sum=$((sum + $(jq -r '.units[0].respondents // 0' "$tmp/body")))
done
none=$(awk -F, 'NR > 1 && $30 == ""' "$tmp/resp.csv" | wc -l)
is "$sum" $((900 - none)) "f + m + o: every respondent with a gender ($none rows have none)"

# Responses posted after the fold (pending) count too.
st=$(post "$COLLECTOR" '{"id": "late-1", "survey": "sipas-2017", "unit": "U002", "submitted_at": "2025-06-01T10:00:00+07:00", "answers": {"A1": 5, "B1": 4}, "respondent": {"gender": "f", "age_band": "18-24"}}')
is "$st" 201 "a response posted after the fold"
before=$(jq -r '.units[] | select(.unit == "P01") | .respondents' "$tmp/female.p01.json")
get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&respondent.gender=f" >/dev/null
is "$(jq -r '.units[0].respondents' "$tmp/body")" $((before + 1)) "counts at once with gender=f"

# Bad filters: 422 naming the parameter.
bad() {
	local st
	st=$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&$1")
	is "$st $(jq -r .error.field "$tmp/body")" "422 $2" "$3"
}
bad "respondent.Gender=f" respondent.Gender "an upper-case field: 422"
bad "respondent.gen-der=f" respondent.gen-der "a field with '-': 422"
bad "respondent.=f" respondent. "an empty field: 422"
k41=$(printf 'k%.0s' $(seq 1 41))
bad "respondent.$k41=f" "respondent.$k41" "a 41-byte field: 422"
bad "respondent.district=U001" respondent.district "a field the form does not ask (district): 422"
bad "respondent.gender=x" respondent.gender "a gender that is not f, m or o: 422"
jq -r .error.message "$tmp/body" | grep -q 'f, m or o'
tap $? "... the message lists the values"
bad "respondent.age_band=30-39" respondent.age_band "an age band that is not one of the form's: 422"
v101=$(printf 'v%.0s' $(seq 1 101))
bad "respondent.gender=$v101" respondent.gender "a 101-byte value: 422"
bad "respondent.gender=f&respondent.gender=m" respondent.gender "a field given twice: 422"
bad "respondent.gender=%FF" respondent.gender "a value that is not UTF-8: 422"
bad "respondent.gender=n%C6%B0%CC%83" respondent.gender "a UTF-8 value that is not a choice: 422"
is "$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&respondent.gender=f&respondent.age_band=65%2B")" 200 "both fields: 200"

# Free text never selects a respondent: a comment's exact text cannot confirm
# who answered.
st=$(post "$COLLECTOR" '{"id": "comment-1", "survey": "sipas-2017", "unit": "U003", "submitted_at": "2025-06-02T09:00:00+07:00", "answers": {"A1": 4}, "respondent": {"gender": "m", "comment": "Tôi là Nguyễn Văn A, nhà số 12"}}')
is "$st" 201 "a response with a free-text comment"
bad "respondent.comment=T%C3%B4i%20l%C3%A0%20Nguy%E1%BB%85n%20V%C4%83n%20A%2C%20nh%C3%A0%20s%E1%BB%91%2012" respondent.comment \
	"respondent.comment=<its exact text>: 422 naming the parameter"
! grep -q 'Nguy' "$tmp/body"
tap $? "... and the answer does not echo the text"

# SQL in values and keys: parameters only, nothing happens.
n0=$(sql 'SELECT count(*) FROM responses')
for v in "f'%20OR%20'1'%3D'1" "f'%3B%20DROP%20TABLE%20responses%3B%20--" "%22gender%22" "f%5C" "'"; do
	bad "respondent.gender=$v" respondent.gender "respondent.gender=$v: 422, never a query"
done
bad "respondent.gender%27%20OR%201%3D1%20--=f" "respondent.gender%27%20OR%201%3D1%20--" "SQL in a field: 422 (the key is checked as sent)"
st=$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&respondent.$(printf '\377')=f")
case "$st $(jq -r .error.field "$tmp/body" 2>/dev/null)" in
"422 respondent" | 400*) tap 0 "a raw non-UTF-8 byte in a field: $st, never echoed" ;;
*) tap 1 "a raw non-UTF-8 byte in a field (got $st $(head -c 200 "$tmp/body"))" ;;
esac
is "$(sql 'SELECT count(*) FROM responses')" "$n0" "the responses are all still there"

# dashboard_min_n applies to a filtered query as on the dashboard: a unit
# below it has no number, only its n and the reason.
cp "$SIPASD_CONF" "$tmp/conf0"
sed 's/^dashboard_min_n = 0$/dashboard_min_n = 30/' "$tmp/conf0" >"$SIPASD_CONF"
before=$(grep -c 'config reloaded' "$SIPASD_LOG")
kill -HUP "$SIPASD_PID"
wait_log 'config reloaded' $((before + 1))
tap $? "SIGHUP: dashboard_min_n = 30"
withheld=0 shown=0 wrong=0
for q in "respondent.gender=f" "respondent.gender=m&respondent.age_band=35-49&from=2025-03-01&to=2025-04-30" \
	"respondent.age_band=65%2B&from=2025-05-01&to=2025-05-31"; do
	get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&children=1&$q" >/dev/null
	withheld=$((withheld + $(jq '[.units[] | select(.withheld == "min_n")] | length' "$tmp/body")))
	shown=$((shown + $(jq '[.units[] | select(.withheld == null)] | length' "$tmp/body")))
	# Below 30: withheld, every number null, the counts kept; from 30: numbers.
	wrong=$((wrong + $(jq '[.units[] | select(
		(.overall.n < 30) != (.withheld == "min_n") or
		(.withheld == "min_n" and (.min_n != 30 or .respondents == null or .overall.n == null or
			([.overall, .groups[], .items[], .expectations[]] | map(.value, .ci_low, .ci_high, .se) | any(. != null)) or
			([.items[].distribution[]] | any(. != null)) or
			([.reliability[].alpha, .priorities[].importance, .priorities[].performance] | any(. != null)))) or
		(.withheld == null and .overall.value == null))] | length' "$tmp/body")))
done
[ "$withheld" -gt 0 ] && [ "$shown" -gt 0 ]
tap $? "filtered queries give units below 30 ($withheld) and from 30 ($shown)"
is "$wrong" 0 "below 30: withheld (every value, interval, distribution, alpha null; n kept; min_n 30); from 30: numbers"
get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=U003&from=2025-06-02&to=2025-06-02" >/dev/null
is "$(jq -r '.units[0] | "\(.respondents < 30) \(.withheld) \(.overall.value != null)"' "$tmp/body")" "true null true" \
	"without a filter a unit of a few responses shows its numbers (the rule is for subgroups)"
cp "$tmp/conf0" "$SIPASD_CONF"

# Control bytes in a logged path are escaped: a forged line (a newline,
# then a time stamp) stays inside its own line (dashboard.sh: parameters).
get "" "/x%0d%1b%7f%0a2026-12-04T00:00:00.000Z%20info%20forged" >/dev/null
port=${URL##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port" && {
	printf 'GET /raw\rCR\033[31m\177DEL HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
	cat <&3 >/dev/null
	exec 3<&-
}
wait_log '"/raw\\rCR\\x1b\[31m\\x7fDEL" 404'
tap $? "raw CR, ESC and DEL in a path are logged as \\r, \\x1b, \\x7f, the path quoted"
! grep -q '^2026-12-04T00:00:00' "$SIPASD_LOG" && ! grep -q "$(printf '\033')" "$SIPASD_LOG" &&
	! grep -q "$(printf '\177')" "$SIPASD_LOG" && ! grep -q "$(printf '\r')" "$SIPASD_LOG"
tap $? "no forged line, no raw ESC, DEL or CR in the log"

sipasd_stop
tap $? "sipasd stops cleanly"
log_clean
finish
