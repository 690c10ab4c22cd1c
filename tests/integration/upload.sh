#!/usr/bin/env bash
# upload.sh: survey teams (docs/uploads.md): POST /api/v1/uploads and
# sipasctl import against a real PostgreSQL and sipasd: the fixtures give R's
# indices, re-uploads add nothing, bad rows are named exactly and not stored,
# conflicts, the role x endpoint matrix, the audit log, unit import checks,
# export -> import into an empty database, and sipasctl import's exit codes.
set -u
. "$(dirname "$0")/daemon_lib.sh"

command -v jq >/dev/null || bail "jq is required"
db_setup
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-pooled.survey.json" >/dev/null || bail "survey load"
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-certainty.survey.json" >/dev/null || bail "survey load"

UPLOADER=$(token uploader)
UPLOADER2=$(token uploader U002)
COLLECTOR=$(token collector)
COLLECTOR2=$(token collector U002)
VIEWER=$(token viewer)
VIEWER1=$(token viewer U001)
ADMIN=$(token admin)
REVOKED=$(token uploader)
"$SIPASCTL" --db "$DSN" token revoke 8 >/dev/null || bail "revoke"

sipasd_start "max_body = 4096" "upload_max = 8388608"

# upload TOKEN SURVEY FILE [CONTENT-TYPE]: prints the status; answer in $tmp/body.
upload() {
	local auth=()
	[ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
	curl -s -o "$tmp/body" -w '%{http_code}' "${auth[@]}" \
		-H "Content-Type: ${4:-text/csv}" --data-binary "@$3" \
		"$URL/api/v1/uploads?survey=$2"
}
# totals of the last answer: rows stored duplicates conflicts rejected
totals() {
	jq -r '"\(.rows) \(.stored) \(.duplicates) \(.conflicts) \(.rejected)"' "$tmp/body"
}

RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
if [ ! -x "$RESULTCMP" ]; then
	RESULTCMP=$tmp/resultcmp
	cc -o "$RESULTCMP" "$top_srcdir/tests/tools/resultcmp.c" $(pkg-config --cflags --libs jansson) -lm ||
		bail "cannot build resultcmp"
fi

# --- the fixtures: upload, compare with R, upload again ----------------------
sed -n 's/.*"input": *"\([^"]*\)", *"survey": *"\([^"]*\)", *"expected": *"\([^"]*\)".*/\1 \2 \3/p' \
	"$FIXTURES/index.json" >"$tmp/cases"
[ -s "$tmp/cases" ] || bail "no cases in index.json"
while read -r input survey expected; do
	case $survey in
	*.json) survey=$(sed -n 's/^ *"code": *"\([^"]*\)".*/\1/p' "$FIXTURES/$survey" | head -n 1) ;;
	esac
	rows=$(($(wc -l <"$FIXTURES/$input") - 1))
	sql "DELETE FROM responses WHERE survey = '$survey'" >/dev/null   # two fixtures share ids
	is "$(upload "$UPLOADER" "$survey" "$FIXTURES/$input")" 200 "$input: upload answers 200"
	is "$(totals)" "$rows $rows 0 0 0" "$input: $rows rows, all stored"
	is "$(sql "SELECT count(*) FROM responses WHERE survey = '$survey'")" "$rows" "$input: $rows rows in the table"
	get "$VIEWER" "/api/v1/indices?survey=$survey&unit=P01&children=1" >/dev/null
	"$RESPOST" --drop-unit P01 <"$tmp/body" >"$tmp/actual.json"
	"$RESULTCMP" "$FIXTURES/$expected" "$tmp/actual.json" >"$tmp/cmp.out" 2>&1
	tap $? "$input: uploaded indices agree with R to 1e-6 ($(tail -n 1 "$tmp/cmp.out"))"
	is "$(upload "$UPLOADER" "$survey" "$FIXTURES/$input")" 200 "$input: re-upload answers 200"
	is "$(totals)" "$rows 0 $rows 0 0" "$input: re-upload stores nothing, $rows duplicates"
	is "$(sql "SELECT count(*) FROM responses WHERE survey = '$survey'")" "$rows" "$input: still $rows rows"
done <"$tmp/cases"

# sipasctl import of a file uploaded through sipasd: same content hash.
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 "$FIXTURES/onestop-simple.csv" >"$tmp/imp.json" 2>"$tmp/imp.err"
is "$? $(jq -r '"\(.stored) \(.duplicates) \(.conflicts)"' "$tmp/imp.json")" "0 0 1968 0" \
	"sipasctl import of the uploaded file: all 1968 duplicates (same content hash), exit 0"

# --- bad rows: each named exactly, none stored --------------------------------
cat >"$tmp/bad.csv" <<'EOF'
id,unit,submitted_at,channel,weight,R1
bad-1,U001,2025-05-01,paper,1,3
bad-2,U001,2025-05-01,paper,1,9
bad-3,NOPE,2025-05-01,paper,1,2
bad-4,U002,2025-13-01,paper,-1,2
bad-5,U003,2025-05-01,fax,1,2
bad-6,U002,2025-05-02,web,2,1
EOF
is "$(upload "$UPLOADER" onestop-tt01 "$tmp/bad.csv")" 200 "a file with bad rows: 200"
is "$(totals)" "6 2 0 0 4" "6 rows: 2 stored, 4 rejected"
jq -r '.problems[] | "\(.row)|\(.status)|\(.column)|\(.column_number)|\(.reason)"' "$tmp/body" >"$tmp/problems"
cat >"$tmp/want" <<'EOF'
2|rejected|R1|6|value 9 is not on scale
3|rejected|unit|2|unknown unit 'NOPE'
4|rejected|submitted_at|3|no such date: 2025-13-01
4|rejected|weight|5|weight must be a number > 0, got "-1"
5|rejected|channel|4|unknown channel "fax" (paper, web, sms, kiosk)
EOF
n=0
while IFS='|' read -r row st col colno reason; do
	n=$((n + 1))
	line=$(sed -n "${n}p" "$tmp/problems")
	case $line in
	"$row|$st|$col|$colno|$reason"*) tap 0 "bad row $row named: column $col ($colno): $reason" ;;
	*) tap 1 "bad row $row named: column $col ($colno): $reason (got '$line')" ;;
	esac
done <"$tmp/want"
is "$(wc -l <"$tmp/problems")" 5 "exactly 5 problems listed"
is "$(sql "SELECT string_agg(source_id, ',' ORDER BY source_id) FROM responses WHERE source_id LIKE 'bad-%'")" \
	"bad-1,bad-6" "only the good rows bad-1 and bad-6 are in the table"

# --- a conflict -----------------------------------------------------------------
printf 'id,unit,submitted_at,channel,weight,R1\nbad-7,U001,2025-05-01,paper,1,2\nbad-1,U001,2025-05-01,paper,1,1\n' >"$tmp/conflict.csv"
is "$(upload "$UPLOADER" onestop-tt01 "$tmp/conflict.csv")" 200 "a file with a conflicting id: 200"
is "$(totals)" "2 1 0 1 0" "1 stored, 1 conflict"
is "$(jq -r '.problems[0] | "\(.row) \(.status) \(.column)"' "$tmp/body")" "2 conflict id" "the conflict is row 2, column id"
is "$(sql "SELECT answers->>'R1' FROM responses WHERE source_id = 'bad-1'")" 3 "the stored row kept its content"

# --- scope: a U002 uploader --------------------------------------------------
printf 'id,unit,R1\nsc-1,U002,2\nsc-2,U001,2\nsc-3,P01,2\n' >"$tmp/scope.csv"
is "$(upload "$UPLOADER2" onestop-tt01 "$tmp/scope.csv")" 200 "scoped uploader: 200"
is "$(totals)" "3 1 0 0 2" "scoped uploader: the U002 row stored, U001 and P01 rejected"
is "$(jq -r '[.problems[] | "\(.row):\(.column)"] | join(" ")' "$tmp/body")" "2:unit 3:unit" \
	"out-of-scope rows are rejected on the unit column"

# --- bad files ---------------------------------------------------------------
printf 'unit,R1,BOGUS\nU001,3,1\n' >"$tmp/badhead.csv"
is "$(upload "$UPLOADER" onestop-tt01 "$tmp/badhead.csv")" 422 "an unknown column: 422"
is "$(jq -r '.problems[0] | "\(.row) \(.column)"' "$tmp/body")" "0 BOGUS" "and names it (row 0)"
printf 'PK\003\004rest-of-a-zip' >"$tmp/sheet.xlsx"
is "$(upload "$UPLOADER" onestop-tt01 "$tmp/sheet.xlsx" application/octet-stream)" 422 "a broken XLSX (zip) body: 422"
is "$(jq -r .error.code "$tmp/body")" bad_file "with code bad_file and a message ($(jq -r .error.message "$tmp/body"))"
is "$(upload "$UPLOADER" nope "$tmp/scope.csv")" 422 "an unknown survey: 422"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" --data-binary @"$tmp/scope.csv" "$URL/api/v1/uploads")" \
	400 "no survey: 400"
head -c 6000 /dev/zero | tr '\0' 'x' >"$tmp/big.json"
is "$(post "$COLLECTOR" "$(cat "$tmp/big.json")")" 413 "other routes still hold to max_body: 413"

# --- the role x endpoint matrix ------------------------------------------------
# token | method path | expected status
RESP_U1='{"survey":"onestop-tt01","unit":"U001","answers":{"R1":3}}'
RESP_U2='{"survey":"onestop-tt01","unit":"U002","answers":{"R1":3}}'
printf 'unit,R1\nU002,1\n' >"$tmp/m2.csv"
printf 'unit,R1\nU001,1\n' >"$tmp/m1.csv"
matrix() { # NAME TOKEN EXPECT_RESP_U2 EXPECT_RESP_U1 EXPECT_UPLOAD EXPECT_IDX_U1 EXPECT_IDX_P01
	local got
	got="$(post "$2" "$RESP_U2") $(post "$2" "$RESP_U1")"
	got="$got $(upload "$2" onestop-tt01 "$tmp/m2.csv")"
	got="$got $(get "$2" '/api/v1/indices?survey=onestop-tt01&unit=U001') $(get "$2" '/api/v1/indices?survey=onestop-tt01&unit=P01')"
	is "$got" "$3 $4 $5 $6 $7" "matrix: $1 (responses U002, U001 | uploads | indices U001, P01)"
}
matrix "no token"            ""            401 401 401 401 401
matrix "revoked uploader"    "$REVOKED"    401 401 401 401 401
matrix "bogus token"         "sip_bogus"   401 401 401 401 401
matrix "collector"           "$COLLECTOR"  201 201 403 403 403
matrix "collector U002"      "$COLLECTOR2" 201 403 403 403 403
matrix "uploader"            "$UPLOADER"   403 403 200 403 403
matrix "uploader U002"       "$UPLOADER2"  403 403 200 403 403
matrix "viewer"              "$VIEWER"     403 403 403 200 200
matrix "viewer U001"         "$VIEWER1"    403 403 403 200 403
matrix "admin"               "$ADMIN"      201 201 200 200 200
upload "$UPLOADER2" onestop-tt01 "$tmp/m1.csv" >/dev/null
is "$(totals)" "1 0 0 0 1" "matrix: uploader U002 uploading a U001 row: the row is rejected"

# --- the audit log -------------------------------------------------------------
is "$(sql "SELECT count(*) > 10 FROM audit_log WHERE action = 'upload' AND actor = 't-uploader'")" t \
	"uploads are in the audit log under the token's name"
is "$(sql "SELECT detail->>'stored' || ' ' || (detail->>'rejected') FROM audit_log WHERE action = 'upload' AND detail->>'rows' = '6' ORDER BY id LIMIT 1")" \
	"2 4" "the audit row has the counts"
is "$(sql "SELECT count(*) FROM audit_log WHERE action = 'token create' AND actor = 'sipasctl'")" 8 "token creations are audited"
is "$(sql "SELECT count(*) FROM audit_log WHERE action = 'token revoke'")" 1 "the revocation is audited"
is "$(sql "SELECT count(*) FROM audit_log WHERE action = 'import'")" 1 "sipasctl import is audited"

# --- units: cycles, unknown parents, renames ------------------------------------
printf 'code,name,level,parent\nX1,X1,commune,X2\nX2,X2,commune,X1\n' >"$tmp/cycle.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/cycle.csv" >/dev/null 2>"$tmp/cycle.err"
is $? 2 "unit import with a cycle fails (bad input: exit 2)"
grep -q 'line [23]' "$tmp/cycle.err" && grep -q cycle "$tmp/cycle.err"
tap $? "and names the line and the cycle ($(head -n 1 "$tmp/cycle.err"))"
printf 'code,name,level,parent\nX3,X3,commune,U001\nX4,X4,commune,NOPE\n' >"$tmp/orphan.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/orphan.csv" >/dev/null 2>"$tmp/orphan.err"
is $? 2 "unit import with an unknown parent fails (bad input: exit 2)"
grep -q 'line 3' "$tmp/orphan.err"
tap $? "and names line 3 ($(head -n 1 "$tmp/orphan.err"))"
is "$(sql "SELECT count(*) FROM units WHERE code LIKE 'X%'")" 0 "nothing of either file is stored"
before=$(sql "SELECT count(*), md5(string_agg(id::text || unit, ',' ORDER BY id)) FROM responses")
sed 's/^U001,Huyện Một/U001,Huyện Một Mới/' "$tmp/units.csv" >"$tmp/rename.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/rename.csv" >/dev/null 2>&1
tap $? "renaming a unit"
is "$(sql "SELECT name FROM units WHERE code = 'U001'")" "Huyện Một Mới" "the new name is stored"
is "$(sql "SELECT count(*), md5(string_agg(id::text || unit, ',' ORDER BY id)) FROM responses")" "$before" \
	"the responses are untouched"

# --- export -> import into an empty database -------------------------------------
"$PGSH" createdb "$PGDIR" sipas2 || bail "createdb sipas2"
DSN2=$("$PGSH" dsn "$PGDIR" sipas2)
"$SIPASCTL" --db "$DSN2" init >/dev/null 2>&1 &&
	"$SIPASCTL" --db "$DSN2" unit import "$tmp/rename.csv" >/dev/null 2>&1 &&
	"$SIPASCTL" --db "$DSN2" survey load "$FIXTURES/custom-pooled.survey.json" >/dev/null 2>&1
tap $? "an empty second database"
for survey in sipas-2017 sipas-2023 onestop-tt01 custom-health-2025; do
	"$SIPASCTL" --db "$DSN" export --survey "$survey" >"$tmp/exp1-$survey.csv" 2>"$tmp/exp.err"
	tap $? "$survey: export"
	"$SIPASCTL" --db "$DSN2" import --survey "$survey" "$tmp/exp1-$survey.csv" >"$tmp/imp.json" 2>>"$tmp/imp.err"
	st=$?
	n=$(sql "SELECT count(*) FROM responses WHERE survey = '$survey'")
	is "$st $(jq -r '"\(.stored) \(.rejected)"' "$tmp/imp.json")" "0 $n 0" "$survey: import into the empty database stores all $n rows"
	"$SIPASCTL" --db "$DSN2" export --survey "$survey" >"$tmp/exp2-$survey.csv" 2>>"$tmp/exp.err"
	# Ids are unique per survey here but rows without id (matrix posts) order by row id.
	cmp -s <(sort "$tmp/exp1-$survey.csv") <(sort "$tmp/exp2-$survey.csv")
	tap $? "$survey: the second export equals the first"
	q="SELECT md5(string_agg(concat_ws('|', unit, coalesce(source_id, ''), extract(epoch FROM submitted_at), channel, weight, stratum, psu, answers::text, respondent::text), ',' ORDER BY source_id)) FROM (SELECT * FROM responses WHERE survey = '$survey' AND source_id IS NOT NULL) r"
	is "$("$PSQL" -X -q -tA -d "$DSN2" -c "$q")" "$(sql "$q")" "$survey: the stored rows are identical"
	# sc-* rows were uploaded without submitted_at: their hash has no time,
	# the exported copy has one (docs/uploads.md, "export and import").
	q2="SELECT md5(string_agg(content_hash, ',' ORDER BY content_hash)) FROM responses WHERE survey = '$survey' AND source_id IS NOT NULL AND source_id NOT LIKE 'sc-%'"
	is "$("$PSQL" -X -q -tA -d "$DSN2" -c "$q2")" "$(sql "$q2")" "$survey: and so are their content hashes (rows that had a time)"
	"$SIPASCTL" analyze --survey "$( [ $survey = custom-health-2025 ] && echo "$FIXTURES/custom-pooled.survey.json" || echo $survey)" \
		--input "$tmp/exp1-$survey.csv" >"$tmp/a1.json" 2>/dev/null
	"$SIPASCTL" analyze --survey "$( [ $survey = custom-health-2025 ] && echo "$FIXTURES/custom-pooled.survey.json" || echo $survey)" \
		--input "$tmp/exp2-$survey.csv" >"$tmp/a2.json" 2>/dev/null
	cmp -s "$tmp/a1.json" "$tmp/a2.json" && [ -s "$tmp/a1.json" ]
	tap $? "$survey: identical indices from both databases"
done
is "$(sql "SELECT count(*) FROM audit_log WHERE action = 'export'")" 4 "exports are audited"

# --- sipasctl import exit codes -----------------------------------------------
"$SIPASCTL" --db "$DSN2" import --survey onestop-tt01 "$tmp/bad.csv" >"$tmp/imp.json" 2>"$tmp/imp2.err"
is "$? $(jq -r '"\(.rows) \(.stored + .duplicates) \(.rejected)"' "$tmp/imp.json")" "2 6 2 4" \
	"import of a file with bad rows: exit 2, 2 stored or duplicates, 4 rejected"
grep -q "bad.csv:2:6: R1: value 9" "$tmp/imp2.err"
tap $? "and names row 2 column 6 on stderr"
"$SIPASCTL" --db "$DSN2" import --survey onestop-tt01 "$tmp/bad.csv" >"$tmp/imp.json" 2>/dev/null
is "$? $(jq -r '"\(.stored) \(.duplicates) \(.rejected)"' "$tmp/imp.json")" "2 0 2 4" "again: the good rows are duplicates, still exit 2"
"$SIPASCTL" --db "$DSN2" import --survey onestop-tt01 "$FIXTURES/onestop-simple.csv" >/dev/null 2>&1
is $? 0 "import of a good file: exit 0"
# A row the database refuses in the middle of a chunk (a trigger of this test
# stands for a constraint): the chunk's transaction (one statement) rolls back, its
# rows are retried one by one, only that row is rejected, with its SQLSTATE.
"$PSQL" -X -q -d "$DSN2" -c "CREATE FUNCTION t_refuse() RETURNS trigger LANGUAGE plpgsql AS
	\$\$BEGIN IF NEW.source_id = 'refuse-0700' THEN RAISE EXCEPTION 'refused by the test'
	USING ERRCODE = '23514'; END IF; RETURN NEW; END\$\$;
	CREATE TRIGGER t_refuse BEFORE INSERT ON response_keys FOR EACH ROW EXECUTE FUNCTION t_refuse()" >/dev/null ||
	bail "cannot create the refusing trigger"
{ echo 'id,unit,submitted_at,channel,R1'
  for i in $(seq -w 1 1200); do echo "refuse-$i,U001,2025-03-01T10:00:00+07:00,paper,2"; done; } >"$tmp/refuse.csv"
"$SIPASCTL" --db "$DSN2" import --survey onestop-tt01 "$tmp/refuse.csv" >"$tmp/imp.json" 2>"$tmp/imp3.err"
is "$? $(jq -r '"\(.rows) \(.stored) \(.rejected) \(.problems[0].row)"' "$tmp/imp.json")" "2 1200 1199 1 700" \
	"a row refused by the database mid-chunk: exit 2, the other 1199 stored, row 700 rejected"
jq -r '.problems[0].reason' "$tmp/imp.json" | grep -q 'SQLSTATE 23514'
tap $? "with its SQLSTATE"
"$PSQL" -X -q -d "$DSN2" -c "DROP TRIGGER t_refuse ON response_keys" >/dev/null
"$SIPASCTL" --db "$DSN2" import --survey nope "$FIXTURES/onestop-simple.csv" >/dev/null 2>&1
is $? 2 "import with an unknown survey: exit 2"
"$SIPASCTL" --db "$DSN2" import --survey onestop-tt01 "$tmp/no-such-file.csv" >/dev/null 2>&1
is $? 2 "import of a missing file: exit 2"
"$SIPASCTL" --db "$DSN2" import "$tmp/bad.csv" >/dev/null 2>&1
is $? 2 "import without --survey: exit 2"
"$SIPASCTL" --db "host=$tmp/nowhere dbname=x" import --survey onestop-tt01 "$tmp/bad.csv" >/dev/null 2>&1
is $? 1 "import with no database: exit 1"

if cat "$tmp"/*.err | grep -E 'Sanitizer|runtime error|assertion failed' >&2; then
	tap 1 "sipasctl's stderr has no sanitizer report"
else
	tap 0 "sipasctl's stderr has no sanitizer report"
fi
sipasd_stop
is $? 0 "sipasd exits 0 on SIGTERM"
log_clean
finish
