#!/usr/bin/env bash
# validation.sh: the rules every response passes wherever it enters
# (common/response.c, docs/daemon.md "Validation"): the channels' own id
# prefixes, the weight bound, unit codes, id length and characters, the
# respondent fields, a time at most a day ahead, at least one answer and
# short quotes of bad values; through the JSON API, an upload, sipasctl import
# and sipasctl unit import, and that SMS keeps working when its ids are tried.
set -u
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/sms_lib.sh"

command -v jq >/dev/null || bail "jq is required"
sms_setup
COLLECTOR=$(token collector)
SCOPED=$(token collector U002)
UPLOADER=$(token uploader)

# body ID UNIT [EXTRA JSON FIELDS]: a response of onestop-tt01.
body() {
	printf '{"id":"%s","survey":"onestop-tt01","unit":"%s","answers":{"R1":3}%s}' "$1" "$2" "${3:-}"
}
# The message of the last error body.
error_message() {
	jq -r '.error.message' "$tmp/body"
}

# --- the channels' own ids ----------------------------------------------------
# The next SMS will be stored as sms-<its message row>: a collector tries to
# take that id and the two after it, and the other channels' prefixes.
is "$(kannel 0912000003 'HL U003 5 4 4 5 3' v0)" 200 "a first SMS: 200"
next=$(( $(sql "SELECT max(id) FROM sms_messages") + 1 ))
for id in "sms-$next" "sms-$((next + 1))" "SMS-$((next + 2))" web-abc kiosk-abc spool-0123; do
	is "$(post "$SCOPED" "{\"id\":\"$id\",\"survey\":\"sipas-2023\",\"unit\":\"U002\",\"answers\":{\"Q9_1\":5}}") $(error_field)" \
		"422 id" "an API post to the SMS survey with id $id: 422 naming id"
done
is "$(sql "SELECT count(*) FROM responses WHERE channel <> 'sms'")" 0 "none of them was stored"
is "$(kannel 0912000001 'HL U001 5 4 4 5 3' v1)" 200 "the next SMS: 200"
is "$(reply)" "Cam on ong/ba da danh gia Huyen Mot. Y kien cua ong/ba da duoc ghi nhan." "and it is thanked"
is "$(kannel 0912000002 'HL U002 5 4 4 5 3' v2)" 200 "the SMS after it: 200"
is "$(sql "SELECT string_agg(source_id, ' ' ORDER BY source_id) FROM responses WHERE channel = 'sms'")" \
	"sms-$((next - 1)) sms-$next sms-$((next + 1))" "all three SMS are stored under their sms- ids"
if grep -q 'response refused (409' "$SIPASD_LOG"; then tap 1 "no SMS was refused with 409"; else tap 0 "no SMS was refused with 409"; fi

# --- a conflict outside the caller's scope -------------------------------------
is "$(post "$COLLECTOR" "$(body c-1 U001)")" 201 "c-1 stored for U001"
is "$(post "$SCOPED" "$(body s-1 U002)")" 201 "s-1 stored for U002"
is "$(post "$SCOPED" "$(body s-1 U002 ',"weight":2')")" 409 "the scoped token's own id with other content: 409"
own=$(sed 's/s-1/ID/g' "$tmp/body")
is "$(post "$SCOPED" "$(body c-1 U002)")" 409 "an id stored under a unit outside the scope: 409"
other=$(sed 's/c-1/ID/g' "$tmp/body")
is "$other" "$own" "and the same answer as a conflict inside the scope"
grep -q 'U001' "$tmp/body"
is $? 1 "the answer does not name the other unit"

# --- weights ------------------------------------------------------------------
is "$(post "$COLLECTOR" "$(body w-1 U001 ',"weight":1e300')") $(error_field)" "422 weight" "weight 1e300: 422 naming weight"
is "$(post "$COLLECTOR" "$(body w-2 U001 ',"weight":"1001"')") $(error_field)" "422 weight" "weight 1001 (above weight_max 1000): 422"
is "$(post "$COLLECTOR" "$(body w-3 U001 ',"weight":1000')")" 201 "weight 1000: 201"

# --- unit codes and ids ---------------------------------------------------------
is "$(post "$COLLECTOR" "$(body u-1 'U0\"01')") $(error_field)" "422 unit" "a unit code with a quote: 422 naming unit"
is "$(post "$COLLECTOR" "$(body u-2 '<b>U001')") $(error_field)" "422 unit" "a unit code with <: 422"
is "$(post "$COLLECTOR" "$(body u-3 'U0\r\n01')") $(error_field)" "422 unit" "a unit code with CR LF: 422"
long=$(head -c 5000 /dev/zero | tr '\0' 'U')
is "$(post "$COLLECTOR" "$(body u-4 "$long")") $(error_field)" "422 unit" "a 5000-character unit code: 422"
m=$(error_message)
[ "${#m}" -lt 200 ] && case $m in *UUUUUUUUUU...*) true ;; *) false ;; esac
tap $? "the message quotes the code's first characters only (${#m} characters)"
is "$(post "$COLLECTOR" "$(body "i-$(head -c 62 /dev/zero | tr '\0' x)" U001)")" 201 "a 64-character id: 201"
is "$(post "$COLLECTOR" "$(body "i-$(head -c 63 /dev/zero | tr '\0' x)" U001)") $(error_field)" "422 id" "a 65-character id: 422 naming id"
is "$(post "$COLLECTOR" "$(body 'i-\u0001' U001)") $(error_field)" "422 id" "an id with a control character: 422"
is "$(post "$COLLECTOR" "$(body 'i-ă' U001)") $(error_field)" "422 id" "an id with a non-ASCII letter: 422"

# --- respondent fields ----------------------------------------------------------
is "$(post "$COLLECTOR" "$(body r-1 U001 ',"respondent":{"gender":"f","age_band":"18-24","comment":"tốt"}')")" 201 \
	"gender, age_band and comment: 201"
is "$(post "$COLLECTOR" "$(body r-2 U001 ',"respondent":{"gender":"f","hobby":"chess"}')") $(error_field)" \
	"422 respondent.hobby" "an undeclared respondent field: 422 naming respondent.hobby"
keys=$(seq 1 3000 | sed 's/.*/"k&":"x"/' | paste -sd,)
printf '%s' "$(body r-3 U001 ",\"respondent\":{$keys}")" >"$tmp/keys.json"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" --data-binary @"$tmp/keys.json" "$URL/api/v1/responses") $(error_field)" \
	"422 respondent.k1" "3000 respondent keys: 422 naming the first"
is "$(post "$COLLECTOR" "$(body r-4 U001 ",\"respondent\":{\"gender\":\"$(head -c 201 /dev/zero | tr '\0' f)\"}")") $(error_field)" \
	"422 respondent.gender" "a 201-character value: 422"
is "$(post "$COLLECTOR" "$(body r-5 U001 ",\"respondent\":{\"gender\":\"$(head -c 200 /dev/zero | tr '\0' f)\"}")")" 201 \
	"a 200-character value: 201"

# --- plausibility -----------------------------------------------------------------
later=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
soon=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
is "$(post "$COLLECTOR" "$(body p-1 U001 ",\"submitted_at\":\"$later\"")") $(error_field)" "422 submitted_at" \
	"submitted_at two days ahead: 422"
is "$(post "$COLLECTOR" "$(body p-2 U001 ",\"submitted_at\":\"$soon\"")")" 201 "submitted_at an hour ahead: 201"
is "$(post "$COLLECTOR" '{"id":"p-3","survey":"onestop-tt01","unit":"U001","answers":{}}') $(error_field)" "422 answers" \
	"no answer at all: 422 naming answers"
is "$(post "$COLLECTOR" '{"id":"p-4","survey":"onestop-tt01","unit":"U001","answers":{"R1":null}}') $(error_field)" "422 answers" \
	"only a null answer: 422"
# A 5000-character survey code, field name and item code: each message short.
while IFS='|' read -r what json; do
	post "$COLLECTOR" "${json//LONG/$long}" >/dev/null
	m=$(error_message)
	[ "${#m}" -lt 200 ] && [ "$(error_field | wc -c)" -lt 100 ]
	tap $? "a 5000-character $what: a short message and field (${#m} characters)"
done <<'EOF'
survey code|{"id":"p-5","survey":"LONG","unit":"U001","answers":{"R1":3}}
field name|{"id":"p-6","survey":"onestop-tt01","unit":"U001","answers":{"R1":3},"LONG":1}
item code|{"id":"p-7","survey":"onestop-tt01","unit":"U001","answers":{"R1":3,"LONG":1}}
EOF
st=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" -H 'Content-Type: text/csv' \
	--data-binary 'unit,R1' "$URL/api/v1/uploads?survey=$long")
m=$(error_message)
[ "$st" = 422 ] && [ "${#m}" -lt 200 ]
tap $? "an upload for a 5000-character survey code: 422, a short message (${#m} characters)"

# --- an upload: each bad row rejected with its column -------------------------------
cat >"$tmp/bad.csv" <<EOF
id,unit,submitted_at,weight,R1,respondent.gender,respondent.hobby
up-1,U001,2025-05-01,1,3,f,
sms-99,U001,2025-05-01,1,3,,
up-3,U001,2025-05-01,1e300,3,,
up-4,"U0""01",2025-05-01,1,3,,
up-5,U001,$later,1,3,,
up-6,U001,2025-05-01,1,,,
up-7,U001,2025-05-01,1,3,,chess
up-8,U001,2025-05-01,1,3,$(head -c 300 /dev/zero | tr '\0' f),
EOF
st=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" -H 'Content-Type: text/csv' \
	--data-binary @"$tmp/bad.csv" "$URL/api/v1/uploads?survey=onestop-tt01")
is "$st $(jq -r '"\(.rows) \(.stored) \(.rejected)"' "$tmp/body")" "200 8 1 7" "an upload of 8 rows: 1 stored, 7 rejected"
jq -r '.problems[] | "\(.row) \(.status) \(.column) \(.column_number)"' "$tmp/body" >"$tmp/problems"
is "$(paste -sd';' "$tmp/problems")" \
	"2 rejected id 1;3 rejected weight 4;4 rejected unit 2;5 rejected submitted_at 3;6 rejected answers null;7 rejected respondent.hobby 7;8 rejected respondent.gender 6" \
	"each rejected row names its column"
jq -r '.problems[] | .reason' "$tmp/body" | awk '{ if (length($0) > 200) bad = 1 } END { exit bad }'
tap $? "no reason quotes a long value whole"

# --- sipasctl import: the same rules, --weight-max and --channel-ids -----------------
sed 's/^up-/im-/' "$tmp/bad.csv" >"$tmp/imp.csv"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 "$tmp/imp.csv" >"$tmp/imp.json" 2>"$tmp/imp.err"
is "$? $(jq -r '"\(.stored) \(.rejected)"' "$tmp/imp.json")" "2 1 7" "sipasctl import: exit 2, 1 stored, 7 rejected"
is "$(jq -r '.problems[] | "\(.row) \(.column)"' "$tmp/imp.json" | paste -sd';')" \
	"2 id;3 weight;4 unit;5 submitted_at;6 answers;7 respondent.hobby;8 respondent.gender" \
	"and names the same columns"
grep -q 'imp.csv:3:4: weight: weight 1e+300 is above' "$tmp/imp.err"
tap $? "stderr says FILE:ROW:COLUMN and why"
printf 'id,unit,weight,R1\nwm-1,U001,2000,3\n' >"$tmp/wm.csv"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 "$tmp/wm.csv" >/dev/null 2>&1
is $? 2 "a weight of 2000 is rejected by default"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 --weight-max 5000 "$tmp/wm.csv" >/dev/null 2>&1
is $? 0 "and stored with --weight-max 5000"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 --weight-max 1e300 "$tmp/wm.csv" >/dev/null 2>&1
is $? 2 "--weight-max beyond 1e9 is a usage error"
printf 'id,unit,R1\nsms-900,U001,3\n' >"$tmp/ch.csv"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 "$tmp/ch.csv" >/dev/null 2>&1
is $? 2 "an sms- id is rejected by import"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 --channel-ids "$tmp/ch.csv" >/dev/null 2>&1
is "$? $(sql "SELECT count(*) FROM responses WHERE source_id = 'sms-900'")" "0 1" \
	"and stored with --channel-ids (restoring an export)"

# --- sipasctl unit import -------------------------------------------------------------
printf 'code,name,level,parent\nX1,X,district,P01\n"X""2",X,district,P01\n' >"$tmp/units_bad.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units_bad.csv" >/dev/null 2>"$tmp/units.err"
is $? 2 "unit import of a code with a quote: exit 2"
grep -q 'row 2: code: unit code "X"2"' "$tmp/units.err"
tap $? "and names the row ($(head -n 1 "$tmp/units.err"))"
is "$(sql "SELECT count(*) FROM units WHERE code LIKE 'X%'")" 0 "nothing imported"
printf 'code,name,level,parent\n%s,X,district,P01\n' "$(head -c 65 /dev/zero | tr '\0' X)" >"$tmp/units_long.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units_long.csv" >/dev/null 2>&1
is $? 2 "a 65-character unit code: exit 2"
printf 'code,name,level,parent\nX.1_a-B,X,district,P01\n' >"$tmp/units_ok.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units_ok.csv" >/dev/null 2>&1
is $? 0 "letters, digits, '.', '_' and '-': imported"

# --- the web form: a post with no answer ----------------------------------------------
sipasd_stop
sipasd_start "form_require_all = 0"
curl -s -o "$tmp/body" "$URL/f/onestop-tt01/U001"
ftoken=$(sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p' "$tmp/body" | head -n 1)
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -d "token=$ftoken" -d gender=f "$URL/f/onestop-tt01/U001")" 422 \
	"a form sent with no answer (form_require_all = 0): 422"
grep -q 'ít nhất một' "$tmp/body"
tap $? "the form says to answer at least one question"
is "$(sql "SELECT count(*) FROM responses WHERE channel = 'web' AND source_id LIKE 'web-%'")" 0 "nothing stored"

log_clean
finish
