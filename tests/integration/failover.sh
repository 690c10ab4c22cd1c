#!/usr/bin/env bash
# failover.sh: the loss of the primary database under load.
#
# scripts/cluster.sh builds a pg_auto_failover formation (a monitor, a primary
# and a synchronous standby) with two sipasd behind HAProxy. 16 clients post
# responses through HAProxy, retrying each id until it is acknowledged, while
# a reader asks for the indices. The primary's keeper and PostgreSQL are then
# killed together. Checked: writes resume on the promoted standby within the
# target (30 s); the reads keep being answered (at least 90 % of them while
# the primary is away: they go to the standby); once the spools have drained,
# every acknowledged response is on the new primary exactly once.
set -u
. "$(dirname "$0")/daemon_lib.sh"

CLUSTER=$top_srcdir/scripts/cluster.sh
LOADCLIENT=$top_builddir/tests/tools/loadclient

if ! command -v pg_autoctl >/dev/null 2>&1 || ! command -v haproxy >/dev/null 2>&1; then
	echo "1..0 # SKIP pg_autoctl or haproxy is not installed (scripts/deps.sh)"
	exit 0
fi
[ -x "$LOADCLIENT" ] || bail "$LOADCLIENT is not built"

# 13 ports from a base none of which is in use in any state.
base=
for try in $(seq 1 20); do
	b=$((21000 + RANDOM % 9000))
	if ! ss -tanH | awk '{ print $4 }' | sed 's/.*://' |
	    awk -v b="$b" '$1 >= b && $1 <= b + 12 { found = 1 } END { exit !found }'; then
		base=$b
		break
	fi
done
[ -n "$base" ] || bail "no free ports"

export SIPAS_CLUSTER_DIR=$tmp/cluster SIPAS_CLUSTER_PORT=$base SIPASD SIPASCTL
mkdir -p "$SIPAS_CLUSTER_DIR"
cluster_cleanup() {
	touch "$tmp/stop" 2>/dev/null
	[ -n "${reader_pid:-}" ] && kill "$reader_pid" 2>/dev/null
	[ -n "${lc_pid:-}" ] && kill "$lc_pid" 2>/dev/null
	bash "$CLUSTER" down >/dev/null 2>&1
	cleanup
}
trap cluster_cleanup EXIT

bash "$CLUSTER" up >"$tmp/up.out" 2>&1 || {
	sed 's/^/# /' "$tmp/up.out"
	tail -n 30 "$SIPAS_CLUSTER_DIR"/log/*.log 2>/dev/null | sed 's/^/# /'
	bail "cluster.sh up failed"
}
tap 0 "cluster.sh up: monitor, primary, synchronous standby, two sipasd, HAProxy"
DSN=$(bash "$CLUSTER" uri | head -n 1)
HAP=$((base + 10))
URL=http://127.0.0.1:$HAP
PSQL=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)/psql
[ -x "$PSQL" ] || PSQL=psql

units_setup || bail "unit import failed"
COLLECTOR=$(token collector)
VIEWER=$(token viewer)
[ -n "$COLLECTOR" ] && [ -n "$VIEWER" ] || bail "tokens not created"
# The instances learn the new units.
bash "$CLUSTER" reload >/dev/null || bail "cluster.sh reload failed"
for n in 1 2; do
	for i in $(seq 1 600); do
		grep -q 'cache refreshed: 8 units' "$SIPAS_CLUSTER_DIR/log/sipasd$n.log" && break
		sleep 0.1
	done
	grep -q 'cache refreshed: 8 units' "$SIPAS_CLUSTER_DIR/log/sipasd$n.log" ||
	    bail "sipasd$n did not load the units"
done

# Both instances read from the standby.
for port in $((base + 11)) $((base + 12)); do
	for i in $(seq 1 300); do
		curl -s "http://127.0.0.1:$port/metrics" | grep -q '^sipas_db_read_standby 1' && break
		sleep 0.1
	done
	curl -s "http://127.0.0.1:$port/metrics" | grep -q '^sipas_db_read_standby 1'
	tap $? "sipasd on :$port reads from the standby (db_read, prefer-standby)"
done

# The reader: one indices request at a time, each line "TIME STATUS".
(
	while [ ! -f "$tmp/stop" ]; do
		st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
		    -H "Authorization: Bearer $VIEWER" \
		    "$URL/api/v1/indices?survey=onestop-tt01&unit=P01")
		echo "$(date +%s.%N) $st" >>"$tmp/reads"
		sleep 0.1
	done
) &
reader_pid=$!

"$LOADCLIENT" --port "$HAP" --token "$COLLECTOR" --acked "$tmp/acked" \
    --clients 16 --duration 600 --deadline 900 --stop-file "$tmp/stop" \
    --prefix fo --unit U001 >"$tmp/load.out" 2>"$tmp/load.err" &
lc_pid=$!

acked() { [ -f "$tmp/acked" ] && wc -l <"$tmp/acked" || echo 0; }
for i in $(seq 1 1200); do
	[ "$(acked)" -ge 300 ] && break
	sleep 0.1
done
[ "$(acked)" -ge 300 ] || bail "the load did not start: $(cat "$tmp/load.err")"

bash "$CLUSTER" kill-primary >"$tmp/kill.out" 2>&1 || bail "kill-primary: $(cat "$tmp/kill.out")"
t_kill=$(sed -n 's/.* at \([0-9.]*\)$/\1/p' "$tmp/kill.out")
echo "# $(cat "$tmp/kill.out") with $(acked) responses acknowledged"

# Writes resumed: a probe through HAProxy is stored (201), not spooled (202).
t_resume=
for i in $(seq 1 1200); do
	st=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $COLLECTOR" -H 'Content-Type: application/json' \
	    -d "{\"id\":\"probe-$i\",\"survey\":\"onestop-tt01\",\"unit\":\"U002\",\"answers\":{\"R1\":2}}" \
	    "$URL/api/v1/responses")
	case $st in 200|201|202) echo "probe-$i $st" >>"$tmp/acked" ;; esac
	if [ "$st" = 201 ]; then
		t_resume=$(date +%s.%N)
		break
	fi
	sleep 0.2
done
[ -n "$t_resume" ]
tap $? "writes resume on the promoted standby"
[ -n "$t_resume" ] || t_resume=$(date +%s.%N)
promotion=$(awk -v a="$t_kill" -v b="$t_resume" 'BEGIN { printf "%.1f", b - a }')
echo "# writes resumed $promotion s after the primary was killed"
awk -v p="$promotion" 'BEGIN { exit !(p < 30) }'
tap $? "writes resumed within 30 s ($promotion s)"

touch "$tmp/stop"
wait "$lc_pid"
lc_status=$?
lc_pid=
wait "$reader_pid" 2>/dev/null
reader_pid=
sed 's/^/# loadclient: /' "$tmp/load.out"
is "$lc_status" 0 "every id the 16 clients started was acknowledged, no refusal"
[ "$lc_status" = 0 ] || sort "$tmp/load.err" | sed 's/^loadclient: [^:]*: //' | uniq -c | sort -rn | head | sed 's/^/# /'


# The reads while the primary was away.
read -r total good <<EOF
$(awk -v a="$t_kill" -v b="$t_resume" '$1 >= a && $1 <= b { n++; if ($2 == 200) g++ } END { print n + 0, g + 0 }' "$tmp/reads")
EOF
echo "# reads during the failover: $good of $total answered 200"
awk -v n="$total" -v g="$good" 'BEGIN { exit !(n > 0 && g >= 0.9 * n) }'
tap $? "at least 90 % of the indices reads answered during the failover ($good/$total)"

# The spools drain into the new primary.
for port in $((base + 11)) $((base + 12)); do
	for i in $(seq 1 1200); do
		d=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "sipas_spool_depth" { print $2 }')
		[ "$d" = 0 ] && break
		sleep 0.1
	done
	is "$d" 0 "the spool of sipasd :$port is replayed"
done

# Every acknowledged response is stored exactly once.
cut -d' ' -f1 "$tmp/acked" | sort >"$tmp/acked.ids"
"$PSQL" -X -q -tA -d "$DSN" -c "SELECT source_id FROM responses WHERE source_id LIKE 'fo-%' OR source_id LIKE 'probe-%'" | sort >"$tmp/stored.ids"
n_acked=$(wc -l <"$tmp/acked.ids")
missing=$(comm -23 "$tmp/acked.ids" "$tmp/stored.ids" | wc -l)
dup=$(uniq -d "$tmp/stored.ids" | wc -l)
echo "# $n_acked acknowledged, $(wc -l <"$tmp/stored.ids") stored"
is "$missing" 0 "every one of the $n_acked acknowledged responses is on the new primary"
is "$dup" 0 "none is stored twice"
is "$(uniq -d "$tmp/acked.ids" | wc -l)" 0 "no id was acknowledged twice"

# The instances reconnected and said so.
for n in 1 2; do
	grep -q 'database (write): connected' "$SIPAS_CLUSTER_DIR/log/sipasd$n.log"
	if grep -E 'Sanitizer|runtime error|assertion failed' "$SIPAS_CLUSTER_DIR/log/sipasd$n.log" >&2; then
		tap 1 "sipasd$n's stderr has no sanitizer report or assertion"
	else
		tap 0 "sipasd$n's stderr has no sanitizer report or assertion"
	fi
done
rc=$(curl -s "http://127.0.0.1:$((base + 11))/metrics" | awk '$1 == "sipas_db_reconnects_total{db=\"write\"}" { print $2 }')
[ "${rc:-0}" -ge 1 ]
tap $? "the write reconnection is counted in /metrics (sipas_db_reconnects_total $rc)"
curl -s "$URL/healthz" | grep -q '"primary"'
tap $? "/healthz says primary again"

finish
