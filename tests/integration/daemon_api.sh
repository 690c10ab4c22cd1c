#!/usr/bin/env bash
# daemon_api.sh: sipasd against a real PostgreSQL: sipasctl init/unit/token,
# every status of POST /api/v1/responses (docs/interfaces.md, "HTTP API"),
# rows in the table, the indices endpoint with scopes, and agreement of the
# served indices with R's references after posting every fixture's rows as JSON.
set -u
. "$(dirname "$0")/daemon_lib.sh"

pg_setup

# --- sipasctl ---------------------------------------------------------------
"$SIPASCTL" --db "$DSN" init >"$tmp/init1" 2>&1
tap $? "sipasctl init on an empty database"
"$SIPASCTL" --db "$DSN" init >"$tmp/init2" 2>&1
tap $? "sipasctl init again is safe"
latest=$(ls "$top_srcdir"/sql/[0-9]*.sql | sed 's|.*/0*\([0-9]*\)_.*|\1|' | sort -n | tail -n 1)
is "$(sql 'SELECT max(version) FROM schema_version')" "$latest" "schema version $latest (the newest migration) recorded"
is "$(sql "SELECT count(*) FROM surveys WHERE builtin")" 3 "three built-in surveys loaded"
# The audit log is append-only (sql/0003_audit.sql).
na=$(sql 'SELECT count(*) FROM audit_log')
[ "$na" -gt 0 ]
tap $? "init recorded itself in the audit log ($na rows)"
for stmt in "UPDATE audit_log SET actor = 'x'" "DELETE FROM audit_log" "TRUNCATE audit_log"; do
	"$PSQL" -X -q -tA -d "$DSN" -c "$stmt" >"$tmp/audit.out" 2>&1
	r=$?
	grep -q 'append-only' "$tmp/audit.out"
	is "$r:$?" "1:0" "audit_log refuses: $stmt"
done
is "$(sql 'SELECT count(*) FROM audit_log')" "$na" "and keeps every row"
units_setup
tap $? "unit import"
units_setup
tap $? "unit import again (idempotent)"
is "$(sql 'SELECT count(*) FROM units')" 8 "8 units stored"
printf 'code,name,level,parent\nX1,X,commune,NOPE\n' >"$tmp/bad_units.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/bad_units.csv" >/dev/null 2>&1
is $? 2 "unit import with an unknown parent fails (bad input: exit 2)"
is "$(sql "SELECT count(*) FROM units WHERE code = 'X1'")" 0 "and imports nothing"

COLLECTOR=$(token collector)
VIEWER=$(token viewer)
ADMIN=$(token admin)
SCOPED=$(token collector U002)
SCOPED_VIEWER=$(token viewer U001)
REVOKED=$(token collector)
"$SIPASCTL" --db "$DSN" token revoke 6 >/dev/null
tap $? "token revoke"
is "${#COLLECTOR}" 47 "a token has 4 + 43 characters (256 random bits)"
is "$(sql "SELECT count(*) FROM tokens WHERE hash = encode(sha256(convert_to('$COLLECTOR', 'UTF8')), 'hex')")" 1 \
	"only the SHA-256 of a token is stored"
"$SIPASCTL" --db "$DSN" token create --role nobody >/dev/null 2>&1
is $? 2 "token create with an unknown role is a usage error"

# --- the daemon -------------------------------------------------------------
"$SIPASD" --version | grep -q '^sipasd '
tap $? "sipasd --version"
printf 'listen = 127.0.0.1:1\nmax_body = 12\n' >"$tmp/bad.conf"
"$SIPASD" -c "$tmp/bad.conf" --check-config >/dev/null 2>"$tmp/check.err"
is $? 1 "--check-config rejects max_body below its range"
grep -q 'max_body' "$tmp/check.err"
tap $? "and names the key"

sipasd_start "max_body = 4096"
"$SIPASD" -c "$SIPASD_CONF" --check-config >/dev/null 2>&1
tap $? "--check-config accepts the test config"

is "$(get '' /healthz)" 200 "/healthz 200 with the database up"
# The allocator: ASan's in a sanitizer build, mimalloc when sipasd itself
# needs libmimalloc (configure.ac), else glibc's.
needed=$(readelf -d "$SIPASD" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
case "$needed" in
*libasan*) alloc=asan ;;
*libmimalloc*) alloc=mimalloc ;;
*) alloc=glibc ;;
esac
grep -q "starting (pid [0-9]*, malloc: $alloc" "$SIPASD_LOG"
tap $? "the start-up line names the allocator sipasd runs on ($alloc)"
is "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sipasd write'")" 1 \
	"sipasd's write connection names itself in pg_stat_activity"

R1='{"id":"t-1","survey":"onestop-tt01","unit":"U001","channel":"kiosk","submitted_at":"2025-03-01T10:00:00+07:00","answers":{"R1":3},"respondent":{"gender":"f"}}'
is "$(post "$COLLECTOR" "$R1")" 201 "POST a new response: 201"
is "$(sql "SELECT unit || ' ' || channel || ' ' || (answers->>'R1') || ' ' || (respondent->>'gender') FROM responses WHERE source_id = 't-1'")" \
	"U001 kiosk 3 f" "the row is in the table"
is "$(sql "SELECT to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')  FROM responses WHERE source_id = 't-1'")" \
	"2025-03-01 03:00" "submitted_at stored as the right instant"
is "$(post "$COLLECTOR" "$R1")" 200 "the same id and content again: 200"
R1B='{"answers":{"R1":"3"},"respondent":{"gender":"f"},"unit":"U001","survey":"onestop-tt01","id":"t-1","channel":"kiosk","submitted_at":"2025-03-01T03:00:00Z"}'
is "$(post "$COLLECTOR" "$R1B")" 200 "the same content written differently: 200"
R1C='{"id":"t-1","survey":"onestop-tt01","unit":"U001","channel":"kiosk","submitted_at":"2025-03-01T10:00:00+07:00","answers":{"R1":2},"respondent":{"gender":"f"}}'
is "$(post "$COLLECTOR" "$R1C")" 409 "the same id with other content: 409"
is "$(error_field)" id "409 names the field id"
is "$(sql "SELECT count(*) FROM responses WHERE source_id = 't-1'")" 1 "still one row for t-1"
is "$(sql "SELECT answers->>'R1' FROM responses WHERE source_id = 't-1'")" 3 "and it kept the first content"
is "$(post "$ADMIN" '{"survey":"onestop-tt01","unit":"U003","answers":{"R1":1}}')" 201 "an admin may post; no id: 201"
is "$(cat "$tmp/body")" "{\"id\":null,\"status\":\"stored\",\"stored_id\":$(sql "SELECT max(id) FROM responses WHERE unit = 'U003'")}" \
	"the 201's body, byte for byte: id null, the stored id"
is "$(post "$COLLECTOR" "$R1")" 200 "t-1 once more: 200"
is "$(cat "$tmp/body")" "{\"id\":\"t-1\",\"status\":\"already_stored\",\"stored_id\":$(sql "SELECT id FROM responses WHERE source_id = 't-1'")}" \
	"the 200's body, byte for byte"
is "$(post "$COLLECTOR" '{"id":"q\"b\\s/1","survey":"onestop-tt01","unit":"U003","answers":{"R1":2}}')" 201 \
	"an id with a quote, a backslash and a slash: 201"
is "$(cat "$tmp/body")" "{\"id\":\"q\\\"b\\\\s/1\",\"status\":\"stored\",\"stored_id\":$(sql "SELECT id FROM responses WHERE source_id = 'q\"b\\s/1'")}" \
	"its 201 body escapes the quote and the backslash as Jansson does, not the slash"

is "$(post "$COLLECTOR" '{"id":"t-2","survey":')" 400 "malformed JSON: 400"
is "$(post "$COLLECTOR" '[1,2]')" 400 "a JSON array body: 400"

# 422 cases: body, field.
while IFS='|' read -r body field what; do
	[ -z "$body" ] && continue
	st=$(post "$COLLECTOR" "$body")
	is "$st $(error_field)" "422 $field" "422 for $what, field $field"
done <<'EOF'
{"id":"v1","survey":"nope","unit":"U001","answers":{"R1":3}}|survey|an unknown survey
{"id":"v2","unit":"U001","answers":{"R1":3}}|survey|a missing survey
{"id":"v3","survey":"onestop-tt01","unit":"ZZZ","answers":{"R1":3}}|unit|an unknown unit
{"id":"v4","survey":"onestop-tt01","unit":"U001","answers":{"Q9_4":3}}|answers.Q9_4|an unknown item
{"id":"v5","survey":"onestop-tt01","unit":"U001","answers":{"R1":4}}|answers.R1|a value outside the scale
{"id":"v6","survey":"onestop-tt01","unit":"U001","answers":{"R1":"x"}}|answers.R1|a value that is not a number
{"id":"v7","survey":"sipas-2023","unit":"U001","answers":{"Q9_4":6}}|answers.Q9_4|a value outside SAT5
{"id":"v8","survey":"onestop-tt01","unit":"U001","submitted_at":"2025-13-45","answers":{"R1":3}}|submitted_at|a bad date
{"id":"v9","survey":"onestop-tt01","unit":"U001","submitted_at":"yesterday","answers":{"R1":3}}|submitted_at|a bad time
{"id":"v10","survey":"onestop-tt01","unit":"U001","weight":0,"answers":{"R1":3}}|weight|weight 0
{"id":"v11","survey":"onestop-tt01","unit":"U001","weight":-1.5,"answers":{"R1":3}}|weight|a negative weight
{"id":"v12","survey":"onestop-tt01","unit":"U001","weight":"abc","answers":{"R1":3}}|weight|a weight that is not a number
{"id":"v13","survey":"onestop-tt01","unit":"U001","channel":"fax","answers":{"R1":3}}|channel|an unknown channel
{"id":"v14","survey":"onestop-tt01","unit":"U001"}|answers|missing answers
{"id":"v15","survey":"onestop-tt01","unit":"U001","answers":{"R1":3},"colour":"red"}|colour|an unknown field
EOF
is "$(sql "SELECT count(*) FROM responses WHERE source_id LIKE 'v%'")" 0 "no invalid response was stored"

is "$(post '' "$R1")" 401 "no token: 401"
grep -qi '^WWW-Authenticate: Bearer' "$tmp/headers"
tap $? "401 carries WWW-Authenticate"
is "$(post 'sip_notatoken' "$R1")" 401 "an unknown token: 401"
is "$(post "$REVOKED" "$R1")" 401 "a revoked token: 401"
is "$(post "$VIEWER" "$R1")" 403 "a viewer token may not post: 403"
is "$(post "$SCOPED" "$R1")" 403 "a token scoped to U002 may not post to U001: 403"
is "$(post "$SCOPED" '{"id":"s-1","survey":"onestop-tt01","unit":"U002","answers":{"R1":2}}')" 201 \
	"a token scoped to U002 may post to U002: 201"

big=$(printf '{"id":"big","survey":"onestop-tt01","unit":"U001","answers":{"R1":3},"respondent":{"note":"%s"}}' "$(head -c 6000 /dev/zero | tr '\0' 'a')")
is "$(post "$COLLECTOR" "$big")" 413 "a body over max_body: 413"

# --- indices ----------------------------------------------------------------
is "$(get "$VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=P01&children=1')" 200 "indices for a viewer: 200"
grep -q '"unit":"P01"' "$tmp/body" && grep -q '"unit":"U001"' "$tmp/body"
tap $? "the result lists the parent and its children"
is "$(get "$COLLECTOR" '/api/v1/indices?survey=onestop-tt01&unit=P01')" 403 "a collector may not read indices: 403"
is "$(get '' '/api/v1/indices?survey=onestop-tt01&unit=P01')" 401 "indices without a token: 401"
is "$(get "$SCOPED_VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=P01')" 403 "a viewer scoped to U001 may not read P01: 403"
is "$(get "$SCOPED_VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=C011')" 200 "but may read a commune under U001"
is "$(get "$VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=P01&from=2025-02-30')" 422 "an impossible date: 422"
is "$(get "$VIEWER" '/api/v1/indices?survey=nope&unit=P01')" 422 "an unknown survey: 422"
# Error messages repeat what the client sent: bytes that are not UTF-8, or a
# character cut at the message's length, must still give a JSON error.
is "$(get "$VIEWER" '/api/v1/indices?survey=%FF%FEx&unit=P01')" 422 "a survey code that is not UTF-8: 422"
is "$(jq -r .error.message "$tmp/body")" "unknown survey '??x'" "the bytes replaced in the message"
long=$(printf '%%C6%%AF%.0s' $(seq 1 400))
is "$(get "$VIEWER" "/api/v1/indices?survey=$long&unit=P01")" 422 "a long survey code of two-byte characters: 422"
jq -e '.error.message | startswith("unknown survey")' "$tmp/body" >/dev/null
tap $? "its message is valid JSON"
is "$(get '' /healthz)" 200 "and sipasd still serves"

# --- the fixtures: post every row as JSON, compare the children with R -------
RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
if [ ! -x "$RESULTCMP" ]; then
	RESULTCMP=$tmp/resultcmp
	cc -o "$RESULTCMP" "$top_srcdir/tests/tools/resultcmp.c" $(pkg-config --cflags --libs jansson) -lm ||
		bail "cannot build resultcmp"
fi
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-pooled.survey.json" >/dev/null &&
	"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-certainty.survey.json" >/dev/null
tap $? "survey load of the custom surveys (lonely PSUs adjusted, and certainty)"
refreshes=$(grep -c 'cache refreshed' "$SIPASD_LOG")
kill -HUP "$SIPASD_PID"   # the cache picks the new survey up at once
wait_log 'cache refreshed' $((refreshes + 1)) || echo "# no cache refresh logged" >&2
sql "DELETE FROM responses" >/dev/null

# One line per case of index.json: input survey expected.
sed -n 's/.*"input": *"\([^"]*\)", *"survey": *"\([^"]*\)", *"expected": *"\([^"]*\)".*/\1 \2 \3/p' \
	"$FIXTURES/index.json" >"$tmp/cases"
[ -s "$tmp/cases" ] || bail "no cases in index.json"
while read -r input survey expected; do
	case $survey in
	*.json) survey=$(sed -n 's/^ *"code": *"\([^"]*\)".*/\1/p' "$FIXTURES/$survey" | head -n 1) ;;
	esac
	rows=$(($(wc -l <"$FIXTURES/$input") - 1))
	"$RESPOST" --url "$URL" --token "$COLLECTOR" --survey "$survey" --parallel 16 \
		"$FIXTURES/$input" >"$tmp/post.out" 2>"$tmp/post.err"
	is "$(cat "$tmp/post.out")" "201 $rows" "$input: $rows rows posted, every one 201"
	is "$(sql "SELECT count(*) FROM responses WHERE survey = '$survey'")" "$rows" "$input: $rows rows in the table"
	st=$(get "$VIEWER" "/api/v1/indices?survey=$survey&unit=P01&children=1")
	is "$st" 200 "$input: indices served"
	"$RESPOST" --drop-unit P01 <"$tmp/body" >"$tmp/actual.json"
	"$RESULTCMP" "$FIXTURES/$expected" "$tmp/actual.json" >"$tmp/cmp.out" 2>&1
	tap $? "$input: every child unit agrees with R to 1e-6 ($(tail -n 1 "$tmp/cmp.out"))"
	# The same rows again: all 200, nothing new.
	"$RESPOST" --url "$URL" --token "$COLLECTOR" --survey "$survey" --parallel 16 \
		"$FIXTURES/$input" >"$tmp/post.out" 2>&1
	is "$(cat "$tmp/post.out")" "200 $rows" "$input: posting again gives 200 for every row"
	sql "DELETE FROM responses WHERE survey = '$survey'" >/dev/null
done <"$tmp/cases"

# The period filter: Vietnam days, both ends inclusive.
"$RESPOST" --url "$URL" --token "$COLLECTOR" --survey onestop-tt01 "$FIXTURES/onestop-simple.csv" >/dev/null 2>&1
want=$(sql "SELECT count(*) FROM responses WHERE survey = 'onestop-tt01' AND submitted_at >= '2025-03-01 00:00+07' AND submitted_at < '2025-07-01 00:00+07'")
get "$VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=P01&from=2025-03-01&to=2025-06-30' >/dev/null
got=$(sed -n 's/^{"survey":"onestop-tt01","confidence":[^,]*,"units":\[{"unit":"P01","design":"[a-z]*","respondents":\([0-9]*\).*/\1/p' "$tmp/body")
is "$got" "$want" "from/to select the responses of those Vietnam days"

is "$(get "$VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=U001&level=commune')" 200 "level= is accepted"

# --- export -----------------------------------------------------------------
"$SIPASCTL" --db "$DSN" export --survey onestop-tt01 --unit P01 >"$tmp/export.csv"
tap $? "sipasctl export"
is "$(($(wc -l <"$tmp/export.csv") - 1))" "$(sql "SELECT count(*) FROM responses WHERE survey = 'onestop-tt01'")" \
	"export has one line per stored response"
head -n 1 "$tmp/export.csv" | grep -q '^id,unit,submitted_at,channel,weight,stratum,psu,R1'
tap $? "export has the responses CSV header"
grep -q '^U001-00001,U001,2025-01-17T11:09:00+07:00,paper,1,,,3' "$tmp/export.csv"
tap $? "export writes a row as it came in"

sipasd_stop
is $? 0 "SIGTERM: sipasd exits 0"
log_clean
finish
