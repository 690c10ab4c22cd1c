#!/usr/bin/env bash
# accesslog.sh: what sipasd logs about requests (daemon/net/accesslog.c). At
# level info: no line per successful reply, a line for the first ten 4xx,
# every 5xx, and a summary of counts by method, route and status (written
# each minute and when sipasd stops). At level debug: a line per reply.
set -u
. "$(dirname "$0")/daemon_lib.sh"

db_setup
COLLECTOR=$(token collector)

body() { # body ID
	printf '{"id":"%s","survey":"onestop-tt01","unit":"U001","answers":{"R1":3}}' "$1"
}

sipasd_start "log_level = info" || bail "sipasd did not start"
codes=
for i in 1 2 3; do
	codes="$codes $(post "$COLLECTOR" "$(body info-$i)")"
done
is "$codes" " 201 201 201" "three responses stored"
codes=
for i in $(seq 1 12); do
	codes="$codes $(get "" "/no-such-page-$i")"
done
is "$codes" "$(printf ' 404%.0s' $(seq 1 12))" "twelve unknown pages: 404"
sipasd_stop
tap $? "sipasd stopped"
n=$(grep -c '"/api/v1/responses" 201 ' "$SIPASD_LOG")
is "$n" 0 "at info, no line per stored response"
n=$(grep -c '"/no-such-page-[0-9]*" 404 ' "$SIPASD_LOG")
is "$n" 10 "at info, the first ten 404s have a line each"
grep -q 'requests answered: .*POST /api/v1/responses 201: 3\b.*GET unmatched 404: 12\b.*; 4xx not logged one by one: 2$' "$SIPASD_LOG"
tap $? "the summary counts the 201s and the 404s, and the two 404s not logged"

: >"$SIPASD_LOG"
sipasd_start || bail "sipasd did not start again"
is "$(post "$COLLECTOR" "$(body debug-1)")" 201 "at debug, a response stored"
wait_log 'debug \[r[0-9]+\] POST "/api/v1/responses" 201 ' 1 30
tap $? "at debug, it has its line"
sipasd_stop
tap $? "sipasd stopped"
log_clean
finish
