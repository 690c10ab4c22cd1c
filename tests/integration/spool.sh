#!/usr/bin/env bash
# spool.sh: the spool (spool_dir; docs/daemon.md "Spool"). With PostgreSQL
# stopped, valid responses (with and without id) get 202 and are fsync()ed to
# the spool; /metrics shows the depth; when PostgreSQL is back they are stored
# exactly once. A record cut short (a crash in the middle of an append) is
# ignored; a restart replays what is left, once; the drain deadline spools the
# batch stuck on a hung database; a full spool answers 503.
set -u
. "$(dirname "$0")/daemon_lib.sh"

db_setup
COLLECTOR=$(token collector)
SPOOL=$tmp/spool

body() { # body ID [R1]
	printf '{"id":"%s","survey":"onestop-tt01","unit":"U001","answers":{"R1":%s}}' "$1" "${2:-3}"
}
noid() { # noid R1
	printf '{"survey":"onestop-tt01","unit":"U002","answers":{"R1":%s}}' "$1"
}
# metric NAME: its value on /metrics.
metric() {
	curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
# wait_depth N: until sipas_spool_depth is N (20 s at most).
wait_depth() {
	local i
	for i in $(seq 1 200); do
		[ "$(metric sipas_spool_depth)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_health() { # wait_health STATUS
	local i
	for i in $(seq 1 100); do
		[ "$(get '' /healthz)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
spool_bytes() {
	cat "$SPOOL"/*.spool 2>/dev/null | wc -c
}
rows() { # rows SOURCE_ID: how many rows have it
	sql "SELECT count(*) FROM responses WHERE source_id = '$1'"
}

CONF=("spool_dir = $SPOOL" "token_ttl = 3600")
sipasd_start "${CONF[@]}"
is "$(post "$COLLECTOR" "$(body r-1)")" 201 "a response is stored while PostgreSQL runs"
is "$(metric sipas_spool_depth)" 0 "/metrics: sipas_spool_depth 0"

# --- PostgreSQL stopped: 202 and the spool grows -------------------------------
"$PGSH" stop "$PGDIR" || bail "cannot stop PostgreSQL"
wait_health 503
is "$(post "$COLLECTOR" "$(body s-1)")" 202 "POST with an id while the database is down: 202"
grep -q '"status":"spooled"' "$tmp/body" && grep -q '"id":"s-1"' "$tmp/body"
tap $? "the body says it is spooled, with its id"
b1=$(spool_bytes)
[ "$b1" -gt 0 ]
tap $? "the spool file holds it ($b1 bytes)"
is "$(post "$COLLECTOR" "$(noid 1)")" 202 "POST without an id: 202"
grep -Eq '"id":"spool-[0-9a-f]{32}"' "$tmp/body"
tap $? "a response without id gets a generated id spool-<32 hex>"
gen1=$(sed -n 's/.*"id":"\(spool-[0-9a-f]*\)".*/\1/p' "$tmp/body")
is "$(post "$COLLECTOR" "$(noid 2)")" 202 "another without an id: 202"
is "$(post "$COLLECTOR" "$(body s-1)")" 202 "the same id again (a client retry): 202"
[ "$(spool_bytes)" -gt "$b1" ]
tap $? "the spool grows"
is "$(post "$COLLECTOR" "$(body s-bad 9)")" 422 "an invalid response is still refused (422)"
is "$(metric sipas_spool_depth)" 4 "/metrics: sipas_spool_depth 4"
is "$(metric sipas_spool_spooled_total)" 4 "/metrics: sipas_spool_spooled_total 4"

# --- PostgreSQL back: replayed, exactly once --------------------------------
"$PGSH" start "$PGDIR" || bail "cannot restart PostgreSQL"
wait_depth 0
tap $? "the spool drains once PostgreSQL is back (depth 0)"
is "$(rows s-1)" 1 "s-1 is stored once (spooled twice)"
is "$(rows "$gen1")" 1 "the response without id is stored under its generated id"
is "$(sql "SELECT count(*) FROM responses WHERE source_id LIKE 'spool-%'")" 2 "both responses without id are stored"
is "$(sql "SELECT count(*) FROM responses")" 4 "four rows in all"
is "$(sql "SELECT count(*) = count(DISTINCT source_id) FROM responses")" t "no source id twice"
is "$(curl -s "$URL/metrics" | awk '$1 == "sipas_spool_replayed_total{outcome=\"stored\"}" { print $2 }')" 3 "/metrics: 3 replayed as stored"
is "$(curl -s "$URL/metrics" | awk '$1 == "sipas_spool_replayed_total{outcome=\"already_stored\"}" { print $2 }')" 1 "/metrics: 1 replayed as already stored"
is "$(ls "$SPOOL" | grep -c '\.spool$')" 0 "the replayed segment is removed"
is "$(post "$COLLECTOR" "$(body s-1)")" 200 "s-1 sent again: 200 already_stored"

# --- a torn record, and a restart with records in the spool -------------------
"$PGSH" stop "$PGDIR" || bail "cannot stop PostgreSQL"
wait_health 503
is "$(post "$COLLECTOR" "$(body s-2)") $(post "$COLLECTOR" "$(body s-3)") $(post "$COLLECTOR" "$(body s-4)")" \
	"202 202 202" "three more spooled"
sipasd_stop
tap $? "SIGTERM with the database down: sipasd exits 0"
seg=$(ls "$SPOOL"/*.spool | tail -n 1)
size=$(stat -c %s "$seg")
truncate -s $((size - 20)) "$seg"	# s-4's record cut short: a crash mid-append
"$PGSH" start "$PGDIR" || bail "cannot restart PostgreSQL"
sipasd_start "${CONF[@]}"
grep -q 'ignoring [0-9]* byte(s)' "$SIPASD_LOG"
tap $? "the torn record is detected and logged at start"
grep -q 'spool: .*: 2 record(s) to replay' "$SIPASD_LOG"
tap $? "two intact records to replay"
wait_depth 0
tap $? "replayed after the restart (depth 0)"
is "$(rows s-2) $(rows s-3) $(rows s-4)" "1 1 0" "s-2 and s-3 once; the torn s-4 ignored"
ls "$SPOOL" | grep -q '\.spool\.damaged$'
tap $? "the segment with the torn record is kept as .damaged"
sipasd_stop
empty=$(grep -c 'spool: .*: 0 record(s) to replay' "$SIPASD_LOG")
sipasd_start "${CONF[@]}"
wait_log 'spool: .*: 0 record\(s\) to replay' $((empty + 1))
tap $? "another restart: nothing left to replay"
sleep 0.5
is "$(sql "SELECT count(*) FROM responses")" 6 "and nothing stored twice"

# --- the drain deadline with a hung database spools the batch ---------------
pm=$(head -n 1 "$PGDIR/data/postmaster.pid")
children() {
	local f pid comm state ppid rest
	for f in /proc/[0-9]*/stat; do
		read -r pid comm state ppid rest 2>/dev/null <"$f" || continue
		[ "$ppid" = "$1" ] && echo "$pid"
	done
}
pg_thaw() { kill -CONT "$pm" $(children "$pm") 2>/dev/null; }
trap 'pg_thaw; cleanup' EXIT
sipasd_stop
sipasd_start "${CONF[@]}" "drain_timeout = 2"
is "$(post "$COLLECTOR" "$(body s-5)")" 201 "token checked while the database answers"
batches=$(metric sipas_ingest_batch_size_count)
kill -STOP "$pm" $(children "$pm")
post "$COLLECTOR" "$(body s-6)" >"$tmp/s6" &
c1=$!
# SIGTERM once s-6's batch is on its way to the hung database.
wait_metric sipas_ingest_batch_size_count $((batches + 1)) || echo "# s-6's batch not seen" >&2
sipasd_stop
st=$?
wait $c1
is "$(cat "$tmp/s6")" 202 "SIGTERM with a batch stuck on a hung database: spooled at the deadline (202)"
is "$st" 0 "and sipasd exits 0"
pg_thaw
sipasd_start "${CONF[@]}"
wait_depth 0
tap $? "replayed at the next start"
is "$(rows s-6)" 1 "s-6 is stored once"

# --- a full spool: 503 ----------------------------------------------------------
sipasd_stop
sipasd_start "${CONF[@]}" "spool_max_mb = 1" "max_body = 400000"
post "$COLLECTOR" "$(body s-7)" >/dev/null
"$PGSH" stop "$PGDIR" || bail "cannot stop PostgreSQL"
wait_health 503
# Responses as big as the validation allows (about 2.8 KB: every respondent
# field at its limit) until the 1 MiB spool is full, then two more.
d=$(head -c 200 /dev/zero | tr '\0' x)
rd=$(printf '"%s":"'"$d"'",' gender age_band age education occupation ethnicity residence disability)
rd="{$rd\"comment\":\"$(head -c 1000 /dev/zero | tr '\0' x)\"}"
bigpost() {
	printf '{"id":"big-%d","survey":"onestop-tt01","unit":"U001","answers":{"R1":2},"respondent":%s}' \
		"$1" "$rd" >"$tmp/big.json"
	curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
		-H "Authorization: Bearer $COLLECTOR" --data-binary @"$tmp/big.json" "$URL/api/v1/responses"
}
n=0
st=202
while [ "$st" = 202 ] && [ "$n" -lt 1000 ]; do
	n=$((n + 1))
	st=$(bigpost "$n")
done
nbig=$((n - 1))
is "$st $(bigpost $((n + 1)))" "503 503" "spool_max_mb = 1: big responses fit, then 503"
[ "$nbig" -ge 300 ] && [ "$nbig" -le 400 ]
tap $? "about 1 MiB of them were spooled ($nbig)"
grep -qi '^Retry-After:' "$tmp/headers"
tap $? "the 503 of a full spool carries Retry-After"
[ "$(metric sipas_spool_full_total)" -ge 2 ]
tap $? "/metrics counts the full spool"
"$PGSH" start "$PGDIR" || bail "cannot restart PostgreSQL"
wait_depth 0
tap $? "the big responses are replayed"
is "$(sql "SELECT count(*) FROM responses WHERE source_id LIKE 'big-%'")" "$nbig" "every spooled big row is stored"

# --- tokens while the database is away -------------------------------------------
# token_ttl = 0: every request checks its token, which cannot be done while
# PostgreSQL is stopped; a token checked before is trusted then, a new one not.
sipasd_stop
sipasd_start "spool_dir = $SPOOL" "token_ttl = 0"
is "$(post "$COLLECTOR" "$(body t-1)")" 201 "token_ttl = 0: a response while PostgreSQL runs"
NEWTOKEN=$(token collector)
"$PGSH" stop "$PGDIR" || bail "cannot stop PostgreSQL"
wait_health 503
is "$(post "$COLLECTOR" "$(body t-2)")" 202 "database away: a token checked before is trusted, the response spooled"
is "$(post "$NEWTOKEN" "$(body t-3)")" 503 "a token never checked cannot be: 503"
"$PGSH" start "$PGDIR" || bail "cannot restart PostgreSQL"
wait_depth 0
tap $? "t-2 is replayed"
is "$(rows t-2):$(rows t-3)" "1:0" "t-2 stored once, t-3 not"

sipasd_stop
tap $? "sipasd exits 0"
log_clean
finish
