#!/usr/bin/env bash
# aggregate_thread.sh: sipasd folds the aggregates on a thread of its own
# (daemon/store/aggregator.c), not on the event loop: a large fold's CPU is
# counted to the thread named sipasd-fold, the loop answers while it runs,
# the fold commits whole, and SIGTERM in the middle of a fold stops sipasd
# cleanly with the fold rolled back or committed, never half of it; a
# failed take is counted and retried.
set -u
. "$(dirname "$0")/daemon_lib.sh"
FIX=$SIPAS_TEST_DATA/fixtures

db_setup
"$SIPASCTL" --db "$DSN" import --survey sipas-2017 "$FIX/sipas2017-cluster.csv" >/dev/null 2>&1 ||
	bail "import failed"

# COPIES copies of every imported response, each a new pending response.
grow() {
	sql "INSERT INTO responses (survey, unit, source_id, submitted_at, channel,
		weight, stratum, psu, answers, respondent, content_hash)
		SELECT survey, unit, source_id || '-$2-' || g, submitted_at, channel,
		weight, stratum, psu, answers, respondent, content_hash || '-$2-' || g
		FROM responses, generate_series(1, $1) g WHERE source_id NOT LIKE '%-%-%'" >/dev/null
}
grow 49 a
total=$(sql 'SELECT count(*) FROM responses')
is "$total" 45000 "45,000 responses pending"

# The thread: its user and system clock ticks (0 when there is none).
fold_ticks() {
	local t
	for t in /proc/"$SIPASD_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = sipasd-fold ] || continue
		awk '{ print $14 + $15 }' "$t/stat"
		return
	done
	echo 0
}

sipasd_start "aggregate_interval_ms = 100" "aggregate_batch = 100000" || bail "sipasd did not start"
# Meanwhile the loop answers: every request gets its reply (a blocked loop
# would hold them until the fold ends, which the ticks below would show).
ok=0
until [ "$(sql 'SELECT count(*) FROM agg_queue')" = 0 ]; do
	kill -0 "$SIPASD_PID" 2>/dev/null || { echo "# sipasd is gone" >&2; ok=-1000000; break; }
	st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$URL/healthz")
	[ "$st" = 200 ] && ok=$((ok + 1)) || { echo "# /healthz: $st" >&2; ok=-1000000; }
done
[ "$ok" -ge 0 ]
tap $? "/healthz answered 200 each time while the fold ran ($ok times)"
wait_metric sipas_aggregate_folded_total "$total"
tap $? "the folder counted $total responses folded"
is "$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")" "$total" "the states hold every response once"
ticks=$(fold_ticks)
[ "$ticks" -gt 0 ]
tap $? "the fold's CPU went to the thread sipasd-fold ($ticks ticks), not the loop"

# SIGTERM during a fold: it ends cleanly, all or nothing.
grow 49 b
pending=$(sql 'SELECT count(*) FROM agg_queue')
is "$pending" 44100 "44,100 more responses pending"
before=$(fold_ticks)
i=0
while [ "$(fold_ticks)" = "$before" ] && [ "$i" -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ "$(fold_ticks)" != "$before" ]
tap $? "the next fold started"
sipasd_stop
tap $? "SIGTERM during a fold: sipasd exits 0"
left=$(sql 'SELECT count(*) FROM agg_queue')
states=$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")
[ "$left" = "$pending" ] && [ "$states" = "$total" ] ||
	{ [ "$left" = 0 ] && [ "$states" = "$((total + pending))" ]; }
tap $? "the fold was rolled back or committed whole ($left pending, $states in the states)"
grep -q 'stopping' "$SIPASD_LOG"
tap $? "sipasd logged that it was stopping"

# A take that fails (its backend ended while it waits for a lock on the
# states; the insert's trigger does not need them): counted,
# rolled back, and the next tick folds everything.
: >"$SIPASD_LOG"
sipasd_start "aggregate_interval_ms = 100" "aggregate_batch = 100000" || bail "sipasd did not start again"
i=0
until [ "$(sql 'SELECT count(*) FROM agg_queue')" = 0 ] || [ "$i" -ge 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")" "$((total + pending))" "the restarted folder folded what was left"
table_lock agg_states || bail "cannot lock agg_states"
grow 1 c
waiter() {
	sql "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
		WHERE c.relname = 'agg_states' AND NOT l.granted LIMIT 1"
}
i=0
until [ -n "$(waiter)" ] || [ "$i" -ge 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -n "$(waiter)" ]
tap $? "the fold waits for agg_states"
sql "SELECT pg_terminate_backend($(waiter))" >/dev/null
wait_metric sipas_aggregate_failures_total 1
tap $? "the failed take is counted"
table_unlock
wait_log 'aggregate: take of [a-z0-9-]+ failed \(57P01\)'
tap $? "and logged"
i=0
until [ "$(sql 'SELECT count(*) FROM agg_queue')" = 0 ] || [ "$i" -ge 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
is "$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")" "$((total + pending + 900))" "the next tick folded the responses the failed fold left pending"
sipasd_stop
tap $? "sipasd exits 0"
log_clean
finish
