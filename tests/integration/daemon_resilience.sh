#!/usr/bin/env bash
# daemon_resilience.sh: sipasd when things go wrong: PostgreSQL stopped and
# restarted (503 with Retry-After, never 201; recovery), an unknown schema
# version, a full queue, a row the database rejects, SIGHUP reloads (all or
# nothing) and the SIGTERM drain (every 201 is a committed row).
set -u
. "$(dirname "$0")/daemon_lib.sh"

db_setup
COLLECTOR=$(token collector)
VIEWER=$(token viewer)

body() { # body ID [UNIT]
	printf '{"id":"%s","survey":"onestop-tt01","unit":"%s","answers":{"R1":3}}' "$1" "${2:-U001}"
}

# --- schema version ---------------------------------------------------------
sql "INSERT INTO schema_version (version, name) VALUES (99, 'future')" >/dev/null
"$SIPASD" --db "$DSN" --listen 127.0.0.1:1 2>"$tmp/future.log" &
pid=$!
( sleep 10; kill -KILL $pid 2>/dev/null ) &
watchdog=$!
wait $pid
st=$?
kill $watchdog 2>/dev/null
wait $watchdog 2>/dev/null
is "$st" 1 "sipasd refuses to start on an unknown schema version"
grep -q 'schema version 99' "$tmp/future.log"
tap $? "and says which version it found"
sql "DELETE FROM schema_version WHERE version = 99" >/dev/null

sipasd_start "retry_after = 7"
is "$(post "$COLLECTOR" "$(body r-1)")" 201 "a response is stored while PostgreSQL runs"

# --- PostgreSQL goes away ---------------------------------------------------
"$PGSH" stop "$PGDIR" || bail "cannot stop PostgreSQL"
for i in $(seq 1 50); do
	[ "$(get '' /healthz)" = 503 ] && break
	sleep 0.1
done
is "$(get '' /healthz)" 503 "/healthz 503 once PostgreSQL is stopped"
is "$(post "$COLLECTOR" "$(body r-2)")" 503 "POST while the database is down: 503"
grep -qi '^Retry-After: 7' "$tmp/headers"
tap $? "the 503 carries Retry-After"
is "$(get "$VIEWER" '/api/v1/indices?survey=onestop-tt01&unit=P01')" 503 "indices while the database is down: 503"
is "$(jq -r .error.message "$tmp/body")" "the database is not available" "saying so"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $VIEWER" \
    -H 'Accept-Language: vi-VN,vi;q=0.9' "$URL/api/v1/indices?survey=onestop-tt01&unit=P01")" 503 \
    "asked with Accept-Language: vi: 503 too"
is "$(jq -r .error.code "$tmp/body")" unavailable "with the same code"
jq -r .error.message "$tmp/body" | grep -q 'cơ sở dữ liệu tạm thời không sẵn sàng: thử lại'
tap $? "saying so in Vietnamese, with what to do"
n201=0
for i in $(seq 1 20); do
	[ "$(post "$COLLECTOR" "$(body r-down-$i)")" = 201 ] && n201=$((n201 + 1))
done
is "$n201" 0 "never a 201 while the database is down"

"$PGSH" start "$PGDIR" || bail "cannot restart PostgreSQL"
for i in $(seq 1 100); do
	[ "$(get '' /healthz)" = 200 ] && break
	sleep 0.1
done
is "$(get '' /healthz)" 200 "/healthz 200 again after PostgreSQL restarts"
is "$(post "$COLLECTOR" "$(body r-2)")" 201 "the refused response is stored when sent again"
is "$(sql "SELECT count(*) FROM responses WHERE source_id LIKE 'r-down-%'")" 0 "nothing of the 503s was stored"
grep -q 'database (write): connected' "$SIPASD_LOG" && grep -q 'retrying in' "$SIPASD_LOG"
tap $? "the log shows the reconnection with backoff"

# --- a row the database rejects (the cache still knows a deleted unit) --------
printf 'code,name,level,parent\nU009,Huyện Chín,district,P01\n' >"$tmp/u9.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/u9.csv" >/dev/null
refreshes=$(grep -c 'cache refreshed' "$SIPASD_LOG")
kill -HUP "$SIPASD_PID"
wait_log 'cache refreshed' $((refreshes + 1)) || bail "no cache refresh after SIGHUP"
sql "DELETE FROM units WHERE code = 'U009'" >/dev/null
is "$(post "$COLLECTOR" "$(body r-9 U009)")" 422 "a row the database rejects (foreign key): 422"
is "$(post "$COLLECTOR" "$(body r-10)")" 201 "and the next response is stored"

# The units and surveys of responses: what the foreign keys promise, both
# ways, by SQLSTATE.
sqlstate() { # sqlstate SQL: "ok", the SQLSTATE of its error, or "failed"
	local err
	if err=$("$PSQL" -X -q -tA -d "$DSN" -v ON_ERROR_STOP=1 \
		-v VERBOSITY=sqlstate -c "$1" 2>&1 >/dev/null); then
		echo ok
	else
		echo "$err" | sed -n '/^ERROR/{s/^ERROR: *\([0-9A-Z]\{5\}\).*/\1/p;q;}' |
			grep . || echo failed
	fi
}
ins() { # ins UNIT SURVEY: insert one response row by hand
	echo "INSERT INTO responses (survey, unit, submitted_at, channel, answers, content_hash) VALUES ('$2', '$1', now(), 'web', '{\"R1\": 3}', 'x')"
}
is "$(sqlstate "$(ins U404 onestop-tt01)")" 23503 "a response of an unknown unit: foreign_key_violation"
is "$(sqlstate "$(ins U001 no-such-survey)")" 23503 "a response of an unknown survey: foreign_key_violation"
is "$(sqlstate "INSERT INTO responses (survey, unit, submitted_at, channel, answers, content_hash) SELECT 'onestop-tt01', u, now(), 'web', '{}', 'x' FROM unnest(ARRAY['U001', 'U002', 'U405']) u")" \
	23503 "one unknown unit among three fails the whole statement"
is "$(sqlstate "UPDATE responses SET unit = 'U406' WHERE source_id = 'r-10'")" 23503 "an update to an unknown unit: foreign_key_violation"
is "$(sqlstate "DELETE FROM units WHERE code = 'U001'")" 23503 "a unit that responses name cannot be deleted"
is "$(sqlstate "UPDATE units SET code = 'U001b' WHERE code = 'U001'")" 23503 "nor get another code"
is "$(sqlstate "UPDATE units SET name = name WHERE code = 'U001'")" ok "its other columns still change"
is "$(sqlstate "DELETE FROM surveys WHERE code = 'onestop-tt01'")" 23503 "a survey that responses name cannot be deleted"
is "$(sql "SELECT count(*) FROM units WHERE code = 'U001'")/$(sql "SELECT count(*) FROM responses WHERE unit = 'U404' OR unit = 'U405' OR unit = 'U406'")" \
	"1/0" "after all of that: the unit is there, no response names a missing unit"
is "$(sqlstate "BEGIN ISOLATION LEVEL REPEATABLE READ; DELETE FROM units WHERE code = 'U002'; COMMIT")" 40001 \
	"a unit's delete outside READ COMMITTED is refused (its check could miss responses)"
"$PSQL" -X -q -tA -d "$DSN" -c "$(ins U404 onestop-tt01)" 2>&1 | grep -q "unit 'U404' does not exist"
tap $? "the error names the missing unit"

# Both races, each with a transaction held open in a session of its own (a
# FIFO feeds it) while another statement waits for its lock.
held_begin() { # held_begin SQL: run SQL in an open transaction, kept
	mkfifo "$tmp/held.sql" || return 1
	"$PSQL" -X -q -d "$DSN" <"$tmp/held.sql" >"$tmp/held.out" 2>&1 &
	HELD_PID=$!
	exec 9>"$tmp/held.sql"
	echo "BEGIN; $1; SELECT 'held';" >&9
	for i in $(seq 1 900); do
		grep -q held "$tmp/held.out" && return 0
		sleep 0.1
	done
	bail "the held transaction did not start: $(cat "$tmp/held.out")"
}
held_commit() {
	echo "COMMIT;" >&9
	exec 9>&-
	wait "$HELD_PID"
	rm -f "$tmp/held.sql"
}
lock_wait() { # lock_wait [EVENT]: until one statement of this test (not
	# one of sipasd's connections, whose folder takes advisory locks of
	# its own) waits for a lock (of that kind)
	for i in $(seq 1 900); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event LIKE '${1:-%}' AND application_name NOT LIKE 'sipasd%'")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# race HELD WAITER EVENT TEXT: HELD in an open transaction, then WAITER in
# another session; checks (TEXT) that WAITER waits on a lock of kind EVENT
# until HELD commits, and leaves WAITER's outcome (sqlstate) in $tmp/race.
race() {
	held_begin "$1"
	sqlstate "$2" >"$tmp/race" &
	racer=$!
	lock_wait "$3"
	tap $? "$4"
	held_commit
	wait "$racer"
}
printf 'code,name,level,parent\nU010,Mười,district,P01\nU011,Mười một,district,P01\nU012,Mười hai,district,P01\nU013,Mười ba,district,P01\n' >"$tmp/u10.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/u10.csv" >/dev/null
race "DELETE FROM units WHERE code = 'U010'" "$(ins U010 onestop-tt01)" advisory \
	"the insert waits for the unit's delete (on the advisory lock, no row lock)"
is "$(cat "$tmp/race")" 23503 "an insert that waited for its unit's delete fails once the delete commits"
race "$(ins U011 onestop-tt01)" "DELETE FROM units WHERE code = 'U011'" advisory \
	"the unit's delete waits for the insert (on the advisory lock)"
is "$(cat "$tmp/race")" 23503 "a unit's delete that waited for an insert naming it fails once the insert commits"
# The lock is the unit's: a delete holds back only the writes that name it.
held_begin "DELETE FROM units WHERE code = 'U013'"
is "$(PGOPTIONS='-c lock_timeout=20s' sqlstate "$(ins U001 onestop-tt01)")" ok \
	"an insert naming another unit does not wait for a unit's delete"
held_commit
# Outside READ COMMITTED the check locks the rows it names, as a foreign
# key does: a delete of such a unit waits for the row, not the advisory lock.
is "$(sqlstate "BEGIN ISOLATION LEVEL REPEATABLE READ; $(ins U404 onestop-tt01); COMMIT")" 23503 \
	"in REPEATABLE READ, a response of an unknown unit: foreign_key_violation"
race "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; $(ins U012 onestop-tt01)" \
	"DELETE FROM units WHERE code = 'U012'" transactionid \
	"a unit's delete waits for a REPEATABLE READ insert's row lock"
is "$(cat "$tmp/race")" 23503 "and fails once that insert commits"
is "$(sql "SELECT count(*) FROM responses r WHERE NOT EXISTS (SELECT 1 FROM units u WHERE u.code = r.unit) OR NOT EXISTS (SELECT 1 FROM surveys s WHERE s.code = r.survey)")" \
	0 "no stored response names a survey or unit that is gone"
is "$(sqlstate "INSERT INTO responses_y2025 (survey, unit, submitted_at, channel, answers, content_hash) VALUES ('onestop-tt01', 'U407', '2025-03-01', 'web', '{\"R1\": 3}', 'x')")" \
	23503 "a response of an unknown unit written straight into a partition: foreign_key_violation"
# An update checks only what it newly names, as a foreign key does: a row
# with an unknown unit (written with triggers off) keeps it through an
# update of another column.
sql "SET session_replication_role = replica; INSERT INTO responses_y2025 (survey, unit, submitted_at, channel, answers, content_hash) VALUES ('onestop-tt01', 'U407', '2025-03-01', 'web', '{\"R1\": 3}', 'x')" >/dev/null
is "$(sqlstate "UPDATE responses SET respondent = NULL WHERE unit = 'U407'")" ok \
	"an update that leaves an unknown unit as it was is not refused"
is "$(sqlstate "UPDATE responses SET unit = 'U408' WHERE unit = 'U407'")" 23503 \
	"an update to another unknown unit is"
sql "DELETE FROM responses WHERE unit = 'U407'" >/dev/null

# --- SIGHUP -----------------------------------------------------------------
cp "$SIPASD_CONF" "$tmp/good.conf"
echo "max_body = 12" >>"$SIPASD_CONF"
kill -HUP "$SIPASD_PID"
wait_log 'config not reloaded'
tap $? "SIGHUP with an invalid file: not reloaded, logged"
is "$(post "$COLLECTOR" "$(body r-11)")" 201 "and the old config still serves"
cp "$tmp/good.conf" "$SIPASD_CONF"
sed -i 's/^listen = .*/listen = 127.0.0.1:1/' "$SIPASD_CONF"
kill -HUP "$SIPASD_PID"
wait_log 'listen cannot change on reload'
tap $? "SIGHUP refuses to change a key that needs a restart"
cp "$tmp/good.conf" "$SIPASD_CONF"
# Token verdicts are looked up on the write connection: a long token_ttl
# keeps the collector's verdict cached while a batch holds that connection.
printf 'queue_max = 2\nbatch_max = 2\ntoken_ttl = 3600\n' >>"$SIPASD_CONF"
before=$(grep -c 'config reloaded' "$SIPASD_LOG")
kill -HUP "$SIPASD_PID"
wait_log 'config reloaded' $((before + 1))
is "$(grep -c 'config reloaded' "$SIPASD_LOG")" $((before + 1)) "SIGHUP with a valid file reloads it"

# --- a full queue: two responses wait behind a batch stuck on a locked table,
# a third is refused.
# blocked ID: a response whose batch of one waits for table_unlock.
blocked() {
	local n
	n=$(curl -s "$URL/metrics" | awk '$1 == "sipas_ingest_batch_size_count" { print $2 }')
	post "$COLLECTOR" "$(body "$1")" >/dev/null &
	blocker=$!
	wait_metric sipas_ingest_batch_size_count $((n + 1)) || bail "$1's batch not seen"
}
table_lock responses || bail "the table responses was not seen locked"
blocked b-1
post "$COLLECTOR" "$(body q-1)" >"$tmp/q1" &
q1=$!
wait_metric sipas_ingest_queue_depth 1 || echo "# q-1 not seen queued" >&2
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" \
	--data-binary "$(body q-2)" "$URL/api/v1/responses" >"$tmp/q2" &
q2=$!
wait_metric sipas_ingest_queue_depth 2 || echo "# q-2 not seen queued" >&2
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" \
	--data-binary "$(body q-3)" "$URL/api/v1/responses")" 503 "a full queue: 503"
table_unlock
wait $q1 $q2 $blocker
is "$(cat "$tmp/q1") $(cat "$tmp/q2")" "201 201" "the queued responses are stored once the batch before them is"
is "$(sql "SELECT count(*) FROM responses WHERE source_id IN ('q-1', 'q-2', 'q-3')")" 2 "two rows, not three"
# The same id twice in one batch: the first is stored, the second conflicts.
table_lock responses || bail "the table responses was not seen locked"
blocked b-2
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" \
	--data-binary '{"id":"d-1","survey":"onestop-tt01","unit":"U001","answers":{"R1":3}}' \
	"$URL/api/v1/responses" >"$tmp/d1" &
d1=$!
wait_metric sipas_ingest_queue_depth 1 || echo "# d-1 not seen queued" >&2
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" \
	--data-binary '{"id":"d-1","survey":"onestop-tt01","unit":"U001","answers":{"R1":1}}' \
	"$URL/api/v1/responses" >"$tmp/d2" &
d2=$!
wait_metric sipas_ingest_queue_depth 2 || echo "# the second d-1 not seen queued" >&2
table_unlock
wait $d1 $d2 $blocker
is "$(cat "$tmp/d1") $(cat "$tmp/d2")" "201 409" "one id twice in one batch: 201 then 409"
[ "$(grep -c 'batch of 2 committed' "$SIPASD_LOG")" -ge 2 ]
tap $? "both pairs were committed as batches of two"
# queued ID BODY FILE: POST BODY in the background, its status into FILE,
# once the queue holds one more response than before.
queued() {
	local depth
	depth=$(curl -s "$URL/metrics" | awk '$1 == "sipas_ingest_queue_depth" { print $2 }')
	curl -s -o "$3.body" -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" \
		--data-binary "$2" "$URL/api/v1/responses" >"$3" &
	QUEUED_PIDS="$QUEUED_PIDS $!"
	wait_metric sipas_ingest_queue_depth $((depth + 1)) || echo "# $1 not seen queued" >&2
}
# one_batch BLOCKER ID BODY FILE ID BODY FILE: two responses in one batch of
# two, queued behind BLOCKER's batch held by a table lock.
one_batch() {
	table_lock responses || bail "the table responses was not seen locked"
	blocked "$1"
	QUEUED_PIDS=
	queued "$2" "$3" "$4"
	queued "$5" "$6" "$7"
	table_unlock
	wait $QUEUED_PIDS $blocker
}
# The same id and content twice in one batch: the second is a duplicate of the
# first, with its id.
committed=$(grep -c 'batch of 2 committed' "$SIPASD_LOG")
one_batch b-3 e-1 "$(body e-1)" "$tmp/e1" e-1 "$(body e-1)" "$tmp/e2"
is "$(grep -c 'batch of 2 committed' "$SIPASD_LOG")" $((committed + 1)) "the pair was committed as one batch"
is "$(cat "$tmp/e1") $(cat "$tmp/e2")" "201 200" "one id twice with the same content in one batch: 201 then 200"
is "$(jq -r .stored_id "$tmp/e2.body")" "$(jq -r .stored_id "$tmp/e1.body")" "and the 200 names the id stored by the 201"
# One row the database refuses (a trigger of this test stands for a
# constraint) in a batch of good ones: the batch fails as a whole, its rows
# are retried one per transaction, and only that row is refused.
sql "CREATE FUNCTION t_refuse() RETURNS trigger LANGUAGE plpgsql AS
	\$\$BEGIN IF NEW.source_id = 'bad-1' THEN RAISE EXCEPTION 'refused by the test'
	USING ERRCODE = '23514'; END IF; RETURN NEW; END\$\$;
	CREATE TRIGGER t_refuse BEFORE INSERT ON response_keys FOR EACH ROW EXECUTE FUNCTION t_refuse()" >/dev/null ||
	bail "cannot create the refusing trigger"
failed=$(grep -c 'batch of 2 failed' "$SIPASD_LOG")
one_batch b-4 bad-1 "$(body bad-1)" "$tmp/bad1" g-1 "$(body g-1)" "$tmp/g1"
is "$(cat "$tmp/bad1") $(cat "$tmp/g1")" "422 201" "a batch with a row the database refuses: that row 422, the good one 201"
is "$(grep -c 'batch of 2 failed' "$SIPASD_LOG")" $((failed + 1)) "the batch failed whole and was retried row by row"
sql "DROP TRIGGER t_refuse ON response_keys; DROP FUNCTION t_refuse()" >/dev/null
# Replays of what those batches stored.
is "$(post "$COLLECTOR" "$(body e-1)")" 200 "replay of a response stored in a batch: 200"
is "$(post "$COLLECTOR" '{"id":"d-1","survey":"onestop-tt01","unit":"U001","answers":{"R1":1}}')" 409 \
	"replay of the conflicting copy: still 409"
is "$(post "$COLLECTOR" "$(body g-1)")" 200 "replay of the good row of the failed batch: 200"
is "$(post "$COLLECTOR" "$(body bad-1)")" 201 "the refused row, sent again once the database takes it: 201"
is "$(sql "SELECT count(*) FROM responses WHERE source_id IN ('d-1', 'e-1', 'g-1', 'bad-1')")" 4 \
	"one row per id"
cp "$tmp/good.conf" "$SIPASD_CONF"
before=$(grep -c 'config reloaded' "$SIPASD_LOG")
kill -HUP "$SIPASD_PID"
wait_log 'config reloaded' $((before + 1)) || bail "the good config was not reloaded"

# --- SIGTERM drains: every 201 the clients saw is a committed row -----------
sql "DELETE FROM responses" >/dev/null
stored=$(grep -c 'POST "/api/v1/responses" 201' "$SIPASD_LOG")
"$RESPOST" --url "$URL" --token "$COLLECTOR" --survey onestop-tt01 --parallel 16 \
	"$FIXTURES/onestop-simple.csv" >"$tmp/drain.out" 2>/dev/null &
rp=$!
# SIGTERM once the clients' responses are being stored.
wait_log 'POST "/api/v1/responses" 201' $((stored + 1)) || bail "no response of the load stored"
kill -TERM "$SIPASD_PID"
wait "$SIPASD_PID"
st=$?
SIPASD_PID=
wait $rp
is "$st" 0 "SIGTERM under load: sipasd drains and exits 0"
got201=$(awk '$1 == 201 { print $2 }' "$tmp/drain.out")
is "$(sql "SELECT count(*) FROM responses")" "${got201:-0}" "rows in the table = 201 replies (${got201:-0})"
grep -q 'drain: all work done' "$SIPASD_LOG"
tap $? "the log shows the drain finished"

# --- a hung database: the drain deadline, and a second SIGTERM ---------------
pm=$(head -n 1 "$PGDIR/data/postmaster.pid")
children() { # PIDs whose parent is $1 (no procps needed)
	local f pid comm state ppid rest
	for f in /proc/[0-9]*/stat; do
		read -r pid comm state ppid rest <"$f" 2>/dev/null || continue
		[ "$ppid" = "$1" ] && echo "$pid"
	done
}
pg_freeze() { kill -STOP "$pm" $(children "$pm"); }
pg_thaw() { kill -CONT "$pm" $(children "$pm") 2>/dev/null; }
trap 'pg_thaw; cleanup' EXIT

sipasd_start "drain_timeout = 2"
FRESH=$(token collector)	# unknown to sipasd: its check needs the database
pg_freeze
post "$FRESH" "$(body h-1)" >/dev/null &
c1=$!
# The POST is open in sipasd (this /metrics request is the other one).
wait_metric sipas_http_inflight 2 || bail "h-1's POST was not seen open in sipasd"
t0=$(date +%s%N)
kill -TERM "$SIPASD_PID"
wait "$SIPASD_PID"
SIPASD_PID=
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ "$ms" -ge 1500 ] && [ "$ms" -lt 20000 ]
tap $? "a request stuck on the database: SIGTERM waits for drain_timeout, then exits (${ms} ms)"
grep -q 'drain: deadline reached' "$SIPASD_LOG"
tap $? "and logs the deadline"
wait $c1 2>/dev/null
pg_thaw

sipasd_start "drain_timeout = 30"
FRESH=$(token collector)
pg_freeze
post "$FRESH" "$(body h-2)" >/dev/null &
c1=$!
wait_metric sipas_http_inflight 2 || bail "h-2's POST was not seen open in sipasd"
drains=$(grep -c 'draining' "$SIPASD_LOG")
kill -TERM "$SIPASD_PID"
wait_log 'draining' $((drains + 1)) || bail "the first SIGTERM did not start a drain"
t0=$(date +%s%N)
kill -TERM "$SIPASD_PID"
wait "$SIPASD_PID"
st=$?
SIPASD_PID=
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
pg_thaw
wait $c1 2>/dev/null
[ "$st" -ne 0 ] && [ "$ms" -lt 10000 ]
tap $? "a second SIGTERM exits at once (status $st, ${ms} ms)"

# The batch statement keeps its generic plan from the sixth execution on,
# even on a connection whose every batch holds a single response
# (include/sipas/sql_insert.h): no planning per batch.
printf 'code,name,level,parent\nB01,Desk,district,P01\n' >"$tmp/b01.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/b01.csv" >/dev/null
is "$("$top_builddir/bench/insertbench" --db "$DSN" --mode binary --batches 8 \
	--size 1 --plans | sed -n 's/^plans: //p')" "generic 3 custom 5" \
	"batches of one response: the batch statement's generic plan from the sixth on"

log_clean
finish
