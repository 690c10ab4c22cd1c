#!/usr/bin/env bash
# reliability.sh: nothing acknowledged is lost, nothing is stored twice.
# tests/tools/loadclient runs 32 clients, each posting its own ids one after
# another and retrying the same id (same body) until it gets 200, 201 or 202.
# Meanwhile: sipasd is killed with SIGKILL and restarted, PostgreSQL is
# restarted (fast), PostgreSQL is stopped while sipasd is killed (the spool
# holds records at the restart), and PostgreSQL is stopped for 5 s. At the
# end, once the spool has drained, every acknowledged id is stored exactly
# once and no source id is stored twice.
set -u
. "$(dirname "$0")/daemon_lib.sh"

LOADCLIENT=$top_builddir/tests/tools/loadclient
[ -x "$LOADCLIENT" ] || bail "$LOADCLIENT is not built"

db_setup
COLLECTOR=$(token collector)

sipasd_start "spool_dir = $tmp/spool" "token_ttl = 3600" "drain_timeout = 5" "log_level = info"
PORT=${URL##*:}

# sipasd_kill: SIGKILL, no drain.
sipasd_kill() {
	kill -KILL "$SIPASD_PID" 2>/dev/null
	wait "$SIPASD_PID" 2>/dev/null
	SIPASD_PID=
}
# sipasd_again: start on the same port with the same config (no waiting).
sipasd_again() {
	"$SIPASD" -c "$SIPASD_CONF" 2>>"$SIPASD_LOG" &
	SIPASD_PID=$!
}
# wait_health: until /healthz answers 200 (30 s at most).
wait_health() {
	local i
	for i in $(seq 1 300); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
metric() {
	curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
# ev MESSAGE: a line of the timeline, as a TAP comment.
t0=$(date +%s)
ev() {
	echo "# t+$(($(date +%s) - t0))s: $*"
}

"$LOADCLIENT" --port "$PORT" --token "$COLLECTOR" --acked "$tmp/acked" \
	--clients 32 --duration 28 --deadline 75 --prefix ld >"$tmp/load.out" 2>"$tmp/load.err" &
lc=$!

sleep 3
ev "kill -9 sipasd, restart it"
sipasd_kill
sipasd_again
wait_health
tap $? "sipasd serves again after kill -9"

sleep 3
ev "restart PostgreSQL (fast)"
"$PGSH" stop "$PGDIR" && "$PGSH" start "$PGDIR"
tap $? "PostgreSQL restarted"
wait_health

sleep 3
ev "stop PostgreSQL; kill -9 sipasd while it spools; start sipasd, then PostgreSQL"
"$PGSH" stop "$PGDIR" || bail "cannot stop PostgreSQL"
sleep 3
spooled=$(ls "$tmp/spool"/*.spool 2>/dev/null | wc -l)
sipasd_kill
sipasd_again
sleep 1
"$PGSH" start "$PGDIR" || bail "cannot start PostgreSQL"
wait_health
tap $? "sipasd serves again (it was killed with $spooled spool file(s))"
found=$(grep 'record(s) to replay' "$SIPASD_LOG" | tail -n 1 | sed 's/.*: \([0-9]*\) record(s).*/\1/')
[ "${found:-0}" -gt 0 ]
tap $? "the restart found ${found:-0} record(s) in the spool to replay"

sleep 3
ev "stop PostgreSQL for 5 s"
"$PGSH" stop "$PGDIR" || bail "cannot stop PostgreSQL"
sleep 5
"$PGSH" start "$PGDIR" || bail "cannot start PostgreSQL"
wait_health
tap $? "sipasd serves again after PostgreSQL is back"

ev "waiting for the clients"
wait $lc
st=$?
ev "clients done: $(cat "$tmp/load.out")"
is "$st" 0 "every id a client started was acknowledged (200, 201 or 202)"
sed 's/^/# /' "$tmp/load.err" | head -n 20

for i in $(seq 1 300); do
	[ "$(metric sipas_spool_depth)" = 0 ] && [ "$(metric sipas_ingest_queue_depth)" = 0 ] && break
	sleep 0.1
done
is "$(metric sipas_spool_depth)" 0 "the spool has drained"

cut -d ' ' -f 1 "$tmp/acked" | sort >"$tmp/acked.ids"
nacked=$(wc -l <"$tmp/acked.ids")
[ "$nacked" -ge 200 ]
tap $? "the clients got $nacked acknowledgements"
is "$(sort -u "$tmp/acked.ids" | wc -l)" "$nacked" "each id was acknowledged once"
grep -q ' 202$' "$tmp/acked"
tap $? "some were acknowledged as spooled (202: $(grep -c ' 202$' "$tmp/acked"))"
sql "SELECT source_id FROM responses WHERE source_id LIKE 'ld-%'" | sort >"$tmp/stored.ids"
missing=$(comm -23 "$tmp/acked.ids" "$tmp/stored.ids" | wc -l)
is "$missing" 0 "every acknowledged id is stored"
comm -23 "$tmp/acked.ids" "$tmp/stored.ids" | head -n 5 | sed 's/^/# missing: /'
is "$(sql "SELECT count(*) - count(DISTINCT source_id) FROM responses")" 0 "count(*) = count(DISTINCT source_id): nothing stored twice"
extra=$(comm -13 "$tmp/acked.ids" "$tmp/stored.ids" | wc -l)
echo "# stored but not acknowledged (a reply lost to a kill): $extra"

sipasd_stop
tap $? "sipasd drains and exits 0"
log_clean
finish
