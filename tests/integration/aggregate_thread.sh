#!/usr/bin/env bash
# aggregate_thread.sh: sipasd folds the aggregates on a thread of its own
# (daemon/store/aggregator.c), not on the event loop: a large fold's CPU is
# counted to the thread named sipasd-fold, the loop answers while it runs,
# the fold commits whole, and SIGTERM in the middle of a fold stops sipasd
# cleanly with the fold rolled back or committed, never half of it.
set -u
. "$(dirname "$0")/daemon_lib.sh"
FIX=$SIPAS_TEST_DATA/fixtures

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "init failed"
units_setup || bail "unit import failed"
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
until [ "$(sql 'SELECT count(*) FROM agg_pending')" = 0 ]; do
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
pending=$(sql 'SELECT count(*) FROM agg_pending')
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
left=$(sql 'SELECT count(*) FROM agg_pending')
states=$(sql "SELECT sum(rows) FROM agg_states WHERE channel = '*'")
[ "$left" = "$pending" ] && [ "$states" = "$total" ] ||
	{ [ "$left" = 0 ] && [ "$states" = "$((total + pending))" ]; }
tap $? "the fold was rolled back or committed whole ($left pending, $states in the states)"
grep -q 'stopping' "$SIPASD_LOG"
tap $? "sipasd logged that it was stopping"
log_clean
finish
