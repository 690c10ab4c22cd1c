#!/usr/bin/env bash
# purge.sh: sipasctl purge (ctl/purge.c) against a real PostgreSQL and
# sipasd: blanking old free text leaves every index and state as it was;
# deleting a unit's responses for a period takes exactly those rows, the
# aggregates follow and the served indices equal sipasctl analyze on what is
# left; dry runs change nothing; every purge is in the audit log.
set -u
. "$(dirname "$0")/daemon_lib.sh"

RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
[ -x "$RESULTCMP" ] || bail "$RESULTCMP is missing (make check builds it)"
FIX=$SIPAS_TEST_DATA/fixtures

db_setup
VIEWER=$(token viewer)
COLLECTOR=$(token collector)
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 "$FIX/onestop-simple.csv" >/dev/null 2>&1 ||
	bail "import failed"
sipasd_start "aggregate_interval_ms = 0" || bail "sipasd did not start"

# Free text: a web response with a comment and two SMS messages, made old.
st=$(post "$COLLECTOR" '{"id": "c-1", "survey": "onestop-tt01", "unit": "U002", "submitted_at": "2025-05-02T10:00:00+07:00", "channel": "web", "answers": {"R1": 3}, "respondent": {"gender": "f", "comment": "Cán bộ Nguyễn Văn A rất tốt"}}')
is "$st" 201 "a response with a comment"
sql "INSERT INTO sms_messages (gateway, external_id, sender_hash, sender_masked, text, outcome, comment, received_at)
	VALUES ('external', 'x1', 'h1', '+84*****001', 'MC U001 2 rat cham', 'stored', 'rat cham', now() - interval '400 days'),
	       ('external', 'x2', 'h2', '+84*****002', 'MC U001 1', 'stored', NULL, now() - interval '2 days')" >/dev/null
sql "UPDATE responses SET received_at = now() - interval '400 days' WHERE source_id = 'c-1'" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1 || bail "aggregate failed"
get "$VIEWER" "/api/v1/indices?survey=onestop-tt01&unit=P01&children=1" >/dev/null
cp "$tmp/body" "$tmp/before.json"
stamps=$(sql 'SELECT sum(stamp) FROM agg_states')

"$SIPASCTL" --db "$DSN" purge --texts --older-than 365 --dry-run >"$tmp/out" 2>&1
is "$(head -n 1 "$tmp/out")" "1 SMS texts and 1 response comments older than 365 days blanked" "a dry run counts"
is "$(sql "SELECT count(*) FROM sms_messages WHERE text <> ''")" 2 "and changes nothing"
"$SIPASCTL" --db "$DSN" purge --texts --older-than 365 >"$tmp/out" 2>&1
tap $? "sipasctl purge --texts --older-than 365"
is "$(sql "SELECT text || '|' || coalesce(comment, '') FROM sms_messages WHERE external_id = 'x1'")" "|" \
	"the old SMS text and comment are blank"
is "$(sql "SELECT text FROM sms_messages WHERE external_id = 'x2'")" "MC U001 1" "a recent SMS keeps its text"
is "$(sql "SELECT respondent::text FROM responses WHERE source_id = 'c-1'")" '{"gender": "f"}' \
	"the old comment is gone, the demographics stay"
is "$(sql "SELECT answers::text FROM responses WHERE source_id = 'c-1'")" '{"R1":3}' "and the answers, as written"
is "$(sql 'SELECT sum(stamp) FROM agg_states'):$(sql 'SELECT count(*) FROM agg_queue')" "$stamps:0" \
	"no aggregate state was touched"
get "$VIEWER" "/api/v1/indices?survey=onestop-tt01&unit=P01&children=1" >/dev/null
"$RESULTCMP" "$tmp/before.json" "$tmp/body" 1e-12 >/dev/null 2>&1
tap $? "every index is unchanged"
is "$(sql "SELECT detail::text FROM audit_log WHERE action = 'purge texts'")" \
	'{"sms_texts": 1, "older_than_days": 365, "response_comments": 1}' "the purge is in the audit log with its counts"

# A unit and a period.
want=$(sql "SELECT count(*) FROM responses WHERE survey = 'onestop-tt01' AND unit IN ('U001', 'C011', 'C012')
	AND submitted_at >= '2025-03-01 00:00+07' AND submitted_at < '2025-04-01 00:00+07'")
[ "$want" -gt 0 ]
tap $? "U001 has $want responses in March 2025"
total=$(sql 'SELECT count(*) FROM responses')
"$SIPASCTL" --db "$DSN" purge --survey onestop-tt01 --unit U001 --from 2025-03-01 --to 2025-03-31 --dry-run >"$tmp/out" 2>&1
is "$(head -n 1 "$tmp/out" | cut -d ' ' -f 1)" "$want" "a dry run counts them"
is "$(sql 'SELECT count(*) FROM responses')" "$total" "and deletes nothing"
"$SIPASCTL" --db "$DSN" purge --survey onestop-tt01 --unit U001 --from 2025-03-01 --to 2025-03-31 >"$tmp/out" 2>&1
tap $? "sipasctl purge --survey --unit --from --to"
is "$(sql 'SELECT count(*) FROM responses')" "$((total - want))" "exactly those responses are gone"
is "$(sql "SELECT count(*) FROM responses WHERE unit = 'U001' AND submitted_at >= '2025-03-01 00:00+07' AND submitted_at < '2025-04-01 00:00+07'")" 0 \
	"none of U001's March is left"
is "$(sql "SELECT count(*) FROM agg_states WHERE unit = 'U001' AND month = '2025-03-01'"):$(sql 'SELECT count(*) FROM agg_queue')" "0:0" \
	"U001's March states went with them (nothing of that month is left to fold)"
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
get "$VIEWER" "/api/v1/indices?survey=onestop-tt01&unit=P01&children=1" >/dev/null
"$RESPOST" --drop-unit P01 <"$tmp/body" >"$tmp/served.json"
"$SIPASCTL" --db "$DSN" export --survey onestop-tt01 >"$tmp/left.csv" 2>/dev/null
"$SIPASCTL" analyze --survey onestop-tt01 --input "$tmp/left.csv" >"$tmp/analyzed.json" 2>/dev/null
"$RESULTCMP" "$tmp/analyzed.json" "$tmp/served.json" 1e-9 >"$tmp/cmp.out" 2>&1
tap $? "served indices equal sipasctl analyze on the responses left ($(tail -n 1 "$tmp/cmp.out"))"
is "$(sql "SELECT detail->>'responses' FROM audit_log WHERE action = 'purge responses'")" "$want" "audited with its count"

"$SIPASCTL" --db "$DSN" purge --survey onestop-tt01 --unit NOPE >/dev/null 2>&1
is $? 2 "an unknown unit: exit 2"
"$SIPASCTL" --db "$DSN" purge --texts >/dev/null 2>&1
is $? 2 "--texts without --older-than: exit 2"
"$SIPASCTL" --db "$DSN" purge --survey onestop-tt01 --unit U001 --from 2025-02-30 >/dev/null 2>&1
is $? 2 "a day that does not exist: exit 2"

sipasd_stop
tap $? "sipasd stops cleanly"
log_clean
finish
