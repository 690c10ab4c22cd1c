#!/usr/bin/env bash
# aggregates.sh: the incremental aggregates (sql/0004_aggregates.sql,
# docs/scale.md) against a real PostgreSQL and sipasd: the indices served
# from states equal those computed from the raw rows (1e-9) for whole and
# partial months, channels, levels and children; responses posted after a
# fold, deleted responses, a changed survey definition and damaged states;
# sipasd's own folder; `sipasctl aggregate [--rebuild]`.
set -u
. "$(dirname "$0")/daemon_lib.sh"

RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
[ -x "$RESULTCMP" ] || bail "$RESULTCMP is missing (make check builds it)"
FIX=$SIPAS_TEST_DATA/fixtures

db_setup
VIEWER=$(token viewer)
COLLECTOR=$(token collector)
for f in sipas2017-cluster:sipas-2017 sipas2023-weighted:sipas-2023 onestop-simple:onestop-tt01; do
	"$SIPASCTL" --db "$DSN" import --survey "${f#*:}" "$FIX/${f%%:*}.csv" >/dev/null 2>&1 ||
		bail "import of ${f%%:*} failed"
done
total=$(sql 'SELECT count(*) FROM responses')
is "$total" 3618 "fixtures imported (900 + 750 + 1968)"
is "$(sql 'SELECT count(*) FROM agg_queue')" "$total" "every imported response is pending (the insert trigger)"

# The queries: whole ranges, partial months at either end, a single day,
# a channel, a level; sipas-2017 has weights, strata and PSUs.
Q=(
	"survey=sipas-2017&unit=P01&children=1"
	"survey=sipas-2017&unit=P01&from=2025-02-10&to=2025-10-20&children=1"
	"survey=sipas-2017&unit=P01&from=2025-03-01&to=2025-05-31&children=1&channel=paper"
	"survey=sipas-2023&unit=P01&from=2025-01-15&to=2025-12-31&children=1"
	"survey=onestop-tt01&unit=P01&level=district&from=2025-06-01&to=2025-06-30"
	"survey=sipas-2017&unit=U001&from=2025-04-23&to=2025-04-23"
	"survey=onestop-tt01&unit=P01&from=2025-02-01&to=2025-11-30&channel=web"
)

respondents() {
	jq -r '.units[] | select(.unit == "P01") | .respondents' "$tmp/$1.0.json"
}

sipasd_start "aggregate_interval_ms = 0" || bail "sipasd did not start"
fetch_all raw
tap $? "all ${#Q[@]} queries answered from the raw rows (nothing folded yet)"
is "$(sql 'SELECT count(*) FROM agg_states')" 0 "no state yet (the folder is off)"

"$SIPASCTL" --db "$DSN" aggregate >"$tmp/agg.out" 2>"$tmp/agg.err"
tap $? "sipasctl aggregate"
is "$(cat "$tmp/agg.out")" "$total responses folded" "it folds every pending response"
is "$(sql 'SELECT count(*) FROM agg_queue')" 0 "nothing pending"
is "$(sql "SELECT sum(rows) FROM agg_states WHERE channel <> '*'")" "$total" "the channels' states hold every response once"
is "$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")" "$total" "and so do the months' roll-ups"
is "$(sql "SELECT count(*) FROM agg_states WHERE channel = '*'")" \
	"$(sql "SELECT count(DISTINCT (survey, unit, sipas_vn_month(submitted_at))) FROM responses")" \
	"one roll-up per survey, unit and month"
is "$(sql "SELECT count(*) FROM agg_states WHERE survey = 'sipas-2017' AND channel = 'paper'")" \
	"$(sql "SELECT count(DISTINCT (unit, sipas_vn_month(submitted_at))) FROM responses WHERE survey = 'sipas-2017' AND channel = 'paper'")" \
	"one state per unit, month and channel"
: >"$SIPASD_LOG.mark"
fetch_all agg
tap $? "all queries answered with the aggregates"
same raw agg
tap $? "states give the raw rows' results (1e-9) for every query"
grep -Eq '] [1-9][0-9]* states and 0 rows for P01' "$SIPASD_LOG"
tap $? "a whole-year query reads states and no raw row"

# Against R: the children of the first query are the fixture's units.
jq '.units |= map(select(.unit != "P01"))' "$tmp/agg.0.json" >"$tmp/children.json"
"$RESULTCMP" -N "$FIX/sipas2017-cluster.expected.json" "$tmp/children.json" >"$tmp/cmp.out" 2>&1
tap $? "the children from states agree with R's survey package (1e-6)"

# Responses after a fold: states plus pending rows.
before=$(respondents agg)
for i in 1 2 3; do
	st=$(post "$COLLECTOR" "{\"id\": \"late-$i\", \"survey\": \"sipas-2017\", \"unit\": \"U00$i\", \"submitted_at\": \"2025-0$((i + 3))-1${i}T10:00:00+07:00\", \"channel\": \"paper\", \"answers\": {\"A1\": 5, \"A2\": 4, \"B1\": 2, \"C1\": 3, \"E4\": 1}}")
	[ "$st" = 201 ] || echo "# post late-$i: $st $(cat "$tmp/body")" >&2
done
is "$(sql 'SELECT count(*) FROM agg_queue')" 3 "three new responses pending"
is "$(sql 'SELECT bool_and(fresh) FROM agg_queue')" t \
	"queued by the insert trigger: fresh (a folder holding them may fold them from memory)"
is "$(sql 'SELECT count(*) FROM agg_pending'):$(sql 'SELECT count(*) FROM agg_fresh'):$(sql 'SELECT sum(cardinality(ids)) FROM agg_fresh')" 0:3:3 \
	"one queue row per inserting statement (agg_fresh), none per response"
fetch_all mixed
tap $? "queries over states and pending rows"
is "$(respondents mixed)" $((before + 3)) "the pending responses count"
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
fetch_all mixed2
same mixed mixed2
tap $? "folding them changes no result"

# A deleted response: its month's state is dropped and rebuilt.
is "$("$PSQL" -X -q -d "$DSN" -c "DELETE FROM responses WHERE survey = 'sipas-2017' AND source_id = 'U001-00001' RETURNING 1" -tA)" 1 \
	"a response deleted by hand"
is "$(sql "SELECT count(*) FROM agg_states WHERE survey = 'sipas-2017' AND unit = 'U001' AND month = '2025-04-01'")" 0 \
	"its month's states (every channel and the roll-up) are dropped"
[ "$(sql 'SELECT count(*) FROM agg_queue')" -gt 0 ]
tap $? "and the month's other responses are pending again"
fetch_all deleted
is "$(respondents deleted)" $((before + 2)) "the deleted response no longer counts"
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
fetch_all deleted2
same deleted deleted2
tap $? "rebuilt states give the same results"

# Updates: one that leaves the statistics' columns alone (a purged comment)
# keeps every state; one that changes a weight rebuilds its month.
nstates=$(sql 'SELECT count(*) FROM agg_states')
stamps=$(sql 'SELECT sum(stamp) FROM agg_states')
sql "UPDATE responses SET respondent = '{}'::jsonb WHERE survey = 'sipas-2017'" >/dev/null
is "$(sql 'SELECT count(*) FROM agg_states'):$(sql 'SELECT sum(stamp) FROM agg_states'):$(sql 'SELECT count(*) FROM agg_queue')" \
	"$nstates:$stamps:0" "an update of respondent only leaves every state as it was"
sql "UPDATE responses SET weight = weight * 2 WHERE survey = 'sipas-2017' AND source_id = 'U002-00001'" >/dev/null
[ "$(sql 'SELECT count(*) FROM agg_queue')" -gt 0 ]
tap $? "an update of a weight queues its month again"
fetch_all reweighted
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
fetch_all reweighted2
same reweighted reweighted2
tap $? "and the rebuilt state gives the raw rows' result"
"$RESULTCMP" "$tmp/deleted2.0.json" "$tmp/reweighted2.0.json" 1e-9 >/dev/null 2>&1
is $? 1 "which differs from before the new weight"
sql "UPDATE responses SET weight = weight / 2 WHERE survey = 'sipas-2017' AND source_id = 'U002-00001'" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1

# A pending response whose time changes, into another year's partition: its
# queued time follows it, and the fold puts it in its new month.
st=$(post "$COLLECTOR" '{"id": "moved", "survey": "sipas-2017", "unit": "U001", "submitted_at": "2025-06-15T10:00:00+07:00", "channel": "paper", "answers": {"A1": 5, "B1": 2}}')
is "$st" 201 "a response posted while the folder is off"
nov=$(sql "SELECT coalesce(sum(rows), 0) FROM agg_states WHERE survey = 'sipas-2017' AND unit = 'U001' AND month = '2024-11-01' AND channel = '*'")
sql "UPDATE responses SET submitted_at = '2024-11-20 10:00+07' WHERE source_id = 'moved'" >/dev/null
is "$(sql "SELECT p.submitted_at = r.submitted_at AND NOT p.fresh FROM agg_queue p JOIN responses r ON r.id = p.id WHERE r.source_id = 'moved'")" t \
	"moved to 2024 while pending: its queued time is the new one, and it is no longer fresh"
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
is "$(sql 'SELECT count(*) FROM agg_queue')" 0 "the fold takes it"
is "$(sql "SELECT sum(rows) FROM agg_states WHERE survey = 'sipas-2017' AND unit = 'U001' AND month = '2024-11-01' AND channel = '*'")" \
	$((nov + 1)) "into the state of its new month"
is "$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")" "$(sql 'SELECT count(*) FROM responses')" \
	"every response is in exactly one roll-up"
sql "DELETE FROM responses WHERE source_id = 'moved'" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1

# A month queued again while fresh responses of it wait: they move into
# agg_pending with it (agg_fresh_flatten) and are folded once.
for i in 6 7; do
	st=$(post "$COLLECTOR" "{\"id\": \"late-$i\", \"survey\": \"sipas-2017\", \"unit\": \"U003\", \"submitted_at\": \"2025-03-0${i}T09:00:00+07:00\", \"channel\": \"paper\", \"answers\": {\"A1\": 3, \"B1\": 4}}")
	[ "$st" = 201 ] || echo "# post late-$i: $st $(cat "$tmp/body")" >&2
done
is "$(sql "SELECT sum(cardinality(ids)) FROM agg_fresh")" 2 "two fresh responses wait"
nb="(SELECT min(id) FROM responses WHERE survey = 'sipas-2017' AND unit = 'U003' AND submitted_at >= '2025-03-01 00:00+07' AND submitted_at < '2025-04-01 00:00+07' AND source_id NOT LIKE 'late-%')"
sql "UPDATE responses SET weight = weight * 2 WHERE id = $nb" >/dev/null
is "$(sql "SELECT count(*) FROM agg_fresh"):$(sql "SELECT count(*) FROM agg_pending WHERE id IN (SELECT id FROM responses WHERE source_id IN ('late-6', 'late-7')) AND NOT fresh")" 0:2 \
	"a neighbour reweighted: the fresh batch became two ordinary queue rows"
is "$(sql "SELECT count(*) FROM agg_queue") " "$(sql "SELECT count(DISTINCT id) FROM agg_queue") " "no response is queued twice"
sql "UPDATE responses SET weight = weight / 2 WHERE id = $nb" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
is "$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")" "$(sql 'SELECT count(*) FROM responses')" \
	"folded once each: every response is in exactly one roll-up"
sql "DELETE FROM responses WHERE source_id IN ('late-6', 'late-7')" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1

# A damaged state met by a fold that leaves fresh responses of its month
# waiting: the month is queued again with them, and each is folded once.
for i in 8 9; do
	st=$(post "$COLLECTOR" "{\"id\": \"late-$i\", \"survey\": \"sipas-2017\", \"unit\": \"U002\", \"submitted_at\": \"2025-05-0${i}T09:00:00+07:00\", \"channel\": \"paper\", \"answers\": {\"A1\": 2, \"B1\": 5}}")
	[ "$st" = 201 ] || echo "# post late-$i: $st $(cat "$tmp/body")" >&2
done
is "$(sql "SELECT sum(cardinality(ids)) FROM agg_fresh"):$(sql "UPDATE agg_states SET state = '\\x00' WHERE survey = 'sipas-2017' AND unit = 'U002' AND month = '2025-05-01' AND channel = '*' RETURNING 1")" 2:1 \
	"two fresh responses wait; their month's roll-up state damaged"
"$SIPASCTL" --db "$DSN" aggregate --batch 1 >/dev/null 2>&1
tap $? "sipasctl aggregate --batch 1 over a damaged state"
is "$(sql 'SELECT count(*) FROM agg_queue'):$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")" "0:$(sql 'SELECT count(*) FROM responses')" \
	"the damaged month folded again, every response exactly once"
sql "DELETE FROM responses WHERE source_id IN ('late-8', 'late-9')" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
fetch_all repaired2
same deleted2 repaired2
tap $? "and without them the same results again"

# A changed survey definition drops its states and queues its responses.
n23=$(sql "SELECT count(*) FROM responses WHERE survey = 'onestop-tt01'")
sql "UPDATE surveys SET definition = definition || '{\"note\": \"x\"}'::jsonb WHERE code = 'onestop-tt01'" >/dev/null
is "$(sql "SELECT count(*) FROM agg_states WHERE survey = 'onestop-tt01'"):$(sql "SELECT count(*) FROM agg_queue WHERE survey = 'onestop-tt01'")" \
	"0:$n23" "a changed definition drops the survey's states and queues its responses"
sql "UPDATE surveys SET definition = definition - 'note' WHERE code = 'onestop-tt01'" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
fetch_all resurveyed
same deleted2 resurveyed
tap $? "refolded, the results are unchanged"

# sipasd's own folder.
sipasd_stop
sipasd_start "aggregate_interval_ms = 200" || bail "sipasd did not restart"
for i in 4 5; do
	post "$COLLECTOR" "{\"id\": \"late-$i\", \"survey\": \"sipas-2017\", \"unit\": \"C011\", \"submitted_at\": \"2025-07-0${i}T09:00:00+07:00\", \"answers\": {\"A1\": 4, \"B2\": 5}}" >/dev/null
done
for i in $(seq 1 900); do
	[ "$(sql 'SELECT count(*) FROM agg_queue')" = 0 ] && break
	sleep 0.1
done
is "$(sql 'SELECT count(*) FROM agg_queue')" 0 "sipasd folded the new responses by itself"
fetch_all daemon
is "$(respondents daemon)" $((before + 4)) "and they count"
get '' /metrics >/dev/null
is "$(sed -n 's/^sipas_aggregate_folded_total //p' "$tmp/body")" 2 "/metrics counts the 2 responses folded"
is "$(sed -n 's/^sipas_aggregate_failures_total //p' "$tmp/body")" 0 "and no failed fold"
# A response whose commit lands while a tick's take is starting is read back
# instead (correct, only slower): on a loaded machine that can happen to one
# of the two, so at least one must have come from memory.
mem=$(sed -n 's/^sipas_aggregate_from_memory_total //p' "$tmp/body")
[ "${mem:-0}" -ge 1 ] && [ "${mem:-0}" -le 2 ]
tap $? "folded from what sipasd held since storing them, not read back ($mem of 2)"
"$SIPASCTL" --db "$DSN" aggregate --rebuild >/dev/null 2>&1
fetch_all rebuilt
same daemon rebuilt
tap $? "a full rebuild (sipasctl aggregate --rebuild) gives the same results"
is "$(sql "SELECT count(*) FROM audit_log WHERE action = 'aggregate rebuild'")" 1 "the rebuild is in the audit log"

# Damaged states are refused, never guessed from.
sql "UPDATE agg_states SET state = '\\x00' WHERE survey = 'sipas-2017' AND unit = 'U002'" >/dev/null
is "$(get "$VIEWER" "/api/v1/indices?${Q[0]}")" 500 "a damaged state: 500"
is "$(jq -r .error.code "$tmp/body")" stale_aggregates "naming the problem"
is "$(jq -r .error.message "$tmp/body")" "aggregate states could not be read (sipasctl aggregate --rebuild rebuilds them)" \
    "saying what to do"
is "$(get "$VIEWER" "/api/v1/indices?${Q[0]}&lang=vi")" 500 "asked in Vietnamese: 500 too"
is "$(jq -r .error.code "$tmp/body")" stale_aggregates "with the same code"
jq -r .error.message "$tmp/body" | grep -q 'chạy sipasctl aggregate --rebuild để dựng lại'
tap $? "and what to do in Vietnamese"
"$SIPASCTL" --db "$DSN" aggregate --rebuild --survey sipas-2017 >/dev/null 2>&1
tap $? "sipasctl aggregate --rebuild --survey sipas-2017"
fetch_all repaired
same rebuilt repaired
tap $? "repaired: the same results again"
is "$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&channel=fax")" 422 "an unknown channel: 422"
is "$(error_field)" channel "naming the field"
"$SIPASCTL" --db "$DSN" aggregate --survey nope >/dev/null 2>&1
is $? 2 "sipasctl aggregate --survey with an unknown survey: exit 2"

# Partitions (sql/0005): a year is archived by detaching its partition; a
# rebuild of the aggregates then forgets it, attaching it back restores it.
is "$(sql "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'responses'::regclass")" r \
	"responses is partitioned by range"
in25=$(sql "SELECT count(*) FROM responses_y2025")
is "$(sql "SELECT count(*) FROM responses WHERE submitted_at >= '2025-01-01 00:00+00' AND submitted_at < '2026-01-01 00:00+00'")" "$in25" \
	"the 2025 responses ($in25) are in partition responses_y2025"
sql "ALTER TABLE responses DETACH PARTITION responses_y2025" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate --rebuild >/dev/null 2>&1
is "$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&from=2025-03-01&to=2025-05-31")" 200 "2025 detached: the indices answer"
is "$(jq -r '[.units[] | select(.unit == "P01")] | length' "$tmp/body")" 0 "with no 2025 respondent left (P01 has no result)"
sql "ALTER TABLE responses ATTACH PARTITION responses_y2025 FOR VALUES FROM ('2025-01-01 00:00+00') TO ('2026-01-01 00:00+00')" >/dev/null
"$SIPASCTL" --db "$DSN" aggregate --rebuild >/dev/null 2>&1
fetch_all reattached
same repaired reattached
tap $? "attached again and rebuilt: the same results as before"

sipasd_stop
tap $? "sipasd stops cleanly"
log_clean
finish
