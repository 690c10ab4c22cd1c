#!/usr/bin/env bash
# read_only.sh: a primary that turns read-only (as a demoted one does) under
# a connected sipasd. Writes there fail with SQLSTATE 25006; sipasd must take
# that as a lost primary: spool the batch (202), drop the connection, look
# for a read-write server again (target_session_attrs=read-write), tell
# /healthz, and replay the spool once the server takes writes again. The
# reads meanwhile go on through db_read, and say how old their data may be.
set -u
. "$(dirname "$0")/daemon_lib.sh"

db_setup
COLLECTOR=$(token collector)
VIEWER=$(token viewer)
BASE_DSN=$DSN
DSN="$BASE_DSN target_session_attrs=read-write"
sipasd_start "spool_dir = $tmp/spool" "token_ttl = 3600" \
    "db_read = \"$BASE_DSN target_session_attrs=any\""
DSN=$BASE_DSN # psql below must reach the server when it is read-only too

body() { # ID
	printf '{"id":"%s","survey":"onestop-tt01","unit":"U001","answers":{"R1":3}}' "$1"
}
status() { curl -s "$URL/healthz" | sed -n 's/.*"status":"\([^"]*\)".*/\1/p'; }

is "$(post "$COLLECTOR" "$(body ro-1)")" 201 "stored while the server takes writes"
is "$(status)" ok "/healthz: ok"
curl -s "$URL/healthz" | grep -q '"database":"primary"'
tap $? "/healthz names the primary"

# The server turns read-only, as a demoted primary does.
sql "ALTER SYSTEM SET default_transaction_read_only = on" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
# pg_reload_conf only signals the postmaster: wait until it has read the
# file (a new session sees the setting), by when it has signalled sipasd's
# backends too, which then apply it before their next message.
for i in $(seq 1 300); do
	[ "$(sql 'SHOW default_transaction_read_only')" = on ] && break
	sleep 0.1
done
is "$(post "$COLLECTOR" "$(body ro-2)")" 202 "a write that meets a read-only server is spooled (202)"
wait_log 'database \(write\): the server is read-only now'
tap $? "sipasd logs the read-only server and drops the connection"
for i in $(seq 1 300); do [ "$(status)" = read-only ] && break; sleep 0.1; done
is "$(status)" read-only "/healthz: read-only while no server takes writes (db_read still answers)"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200 "... with 200, so a balancer keeps sending reads"
is "$(post "$COLLECTOR" "$(body ro-3)")" 202 "writes are spooled meanwhile"
is "$(get "$VIEWER" "/api/v1/indices?survey=onestop-tt01&unit=P01")" 200 "the indices are still served"
grep -q '"unit":"P01"' "$tmp/body"
tap $? "... with the province's figures"
fails=$(curl -s "$URL/metrics" | awk '$1 == "sipas_db_failures_total{db=\"write\"}" { print $2 }')
[ "${fails:-0}" -ge 1 ]
tap $? "the lost primary is counted in /metrics ($fails failed connections)"

# Writes are back.
sql "ALTER SYSTEM RESET default_transaction_read_only" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
for i in $(seq 1 600); do [ "$(status)" = ok ] && break; sleep 0.1; done
is "$(status)" ok "/healthz: ok again once the server takes writes"
wait_metric sipas_spool_depth 0
tap $? "the spool is replayed"
is "$(sql "SELECT count(*) FROM responses WHERE source_id IN ('ro-1','ro-2','ro-3')")" 3 "all three responses are stored"
is "$(post "$COLLECTOR" "$(body ro-2)")" 200 "a replay of a spooled one is a duplicate (200), not a second row"
is "$(sql "SELECT count(*) FROM responses WHERE source_id LIKE 'ro-%'")" 3 "still three rows"

# db_read is reloadable: pointed at nothing, the reads fall back to db.
sed -i "s|^db_read = .*|db_read = \"host=127.0.0.1 port=1 connect_timeout=1\"|" "$SIPASD_CONF"
kill -HUP "$SIPASD_PID"
wait_log 'config reloaded'
tap $? "SIGHUP reloads db_read"
wait_metric 'sipas_db_up{db="read"}' 0
tap $? "the read connection follows the new db_read (down)"
is "$(get "$VIEWER" "/api/v1/indices?survey=onestop-tt01&unit=P01")" 200 "reads fall back to the write connection"
log_clean
finish
