#!/usr/bin/env bash
# cluster.sh: sipas on a replicated PostgreSQL, on one machine, for tests and
# demonstrations of failover (docs/scale.md).
#
#	cluster.sh up            start everything (creating it the first time)
#	cluster.sh down          stop everything (the data stay)
#	cluster.sh status        the formation's nodes and each sipasd's /healthz
#	cluster.sh failover      a planned switch of the primary (pg_auto_failover)
#	cluster.sh kill-primary  kill -9 the primary's keeper and PostgreSQL
#	cluster.sh uri           print the write and read connection strings
#	cluster.sh reload        SIGHUP both sipasd (after unit imports, config edits)
#	cluster.sh destroy       down, then remove the directory
#
# The parts, all listening on 127.0.0.1 from port BASE (default 25400):
#
#	BASE      the pg_auto_failover monitor
#	BASE+1,2  node1 and node2: PostgreSQL with a keeper each, one primary and
#	          one synchronous standby
#	BASE+11,12 two sipasd, each with its own spool; writes go to the primary
#	          (target_session_attrs=read-write over both nodes), reads to the
#	          standby when there is one (db_read, prefer-standby)
#	BASE+10   HAProxy in front of the two sipasd, checking /healthz
#
# Environment: SIPAS_CLUSTER_DIR (default var/cluster in the source tree),
# SIPAS_CLUSTER_PORT (BASE), SIPASD and SIPASCTL (the programs; default the
# build of scripts/demo.sh or of build/, else the PATH). As root, PostgreSQL
# and the keepers run as the user postgres, who must be able to reach the
# directory; when it cannot (a clone under /root), the cluster lives in
# /var/tmp/sipas-cluster-<hash of the path> instead, and this says so.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${SIPAS_CLUSTER_PORT:-25400}
dir=${SIPAS_CLUSTER_DIR:-$root/var/cluster}

say() { echo "cluster: $*"; }
die() { echo "cluster: $*" >&2; exit 1; }

usage() {
	sed -n '4,12p' "$0" | sed 's/^#//' >&2
	exit 2
}

[ $# -eq 1 ] || usage
cmd=$1

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
command -v pg_autoctl >/dev/null 2>&1 || die "pg_autoctl not found: apt-get install postgresql-15-auto-failover pg-auto-failover-cli"

find_prog() { # NAME: the program's path
	local name=$1 p
	for p in "$root/var/build/$name" "$root/build/$name" "$root/$name"; do
		[ -x "$p" ] && { echo "$p"; return 0; }
	done
	command -v "$name" 2>/dev/null || true
}
SIPASD=${SIPASD:-$(find_prog sipasd)}
SIPASCTL=${SIPASCTL:-$(find_prog sipasctl)}

# As root the PostgreSQL side runs as postgres.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- env PATH="$PGBIN:$PATH" \
		    XDG_CONFIG_HOME="$dir/pgaf/config" XDG_DATA_HOME="$dir/pgaf/data" \
		    XDG_RUNTIME_DIR="$dir/pgaf/run" "$@"
	else
		env PATH="$PGBIN:$PATH" XDG_CONFIG_HOME="$dir/pgaf/config" \
		    XDG_DATA_HOME="$dir/pgaf/data" XDG_RUNTIME_DIR="$dir/pgaf/run" "$@"
	fi
}

# The directory: reachable by postgres, or a state directory that is.
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$dir" 2>/dev/null; then
	alt=/var/tmp/sipas-cluster-$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
	[ "$cmd" = up ] && say "postgres cannot reach $dir; the cluster lives in $alt"
	dir=$alt
	mkdir -p "$dir"
fi
mkdir -p "$dir/pgaf/config" "$dir/pgaf/data" "$dir/pgaf/run" "$dir/log"
[ "$(id -u)" = 0 ] && chown -R postgres "$dir/pgaf" "$dir/log" 2>/dev/null || true
[ "$(id -u)" = 0 ] && chown postgres "$dir"

p_monitor=$base
p_node1=$((base + 1))
p_node2=$((base + 2))
p_haproxy=$((base + 10))
p_sipasd1=$((base + 11))
p_sipasd2=$((base + 12))
monitor_uri="postgres://autoctl_node@127.0.0.1:$p_monitor/pg_auto_failover?sslmode=disable"
write_uri="host=127.0.0.1,127.0.0.1 port=$p_node1,$p_node2 dbname=sipas user=postgres connect_timeout=2 target_session_attrs=read-write"
read_uri="host=127.0.0.1,127.0.0.1 port=$p_node1,$p_node2 dbname=sipas user=postgres connect_timeout=2 target_session_attrs=prefer-standby"

# Start `pg_autoctl run` for a data directory unless it runs.
pgaf_run() { # NAME
	local name=$1
	if as_pg pg_autoctl status --pgdata "$dir/$name" >/dev/null 2>&1; then
		return 0
	fi
	as_pg setsid pg_autoctl run --pgdata "$dir/$name" \
	    </dev/null >>"$dir/log/$name.log" 2>&1 &
}

# The keeper's pid of a node (pg_autoctl's pid file), or nothing.
pgaf_pid() { # NAME
	as_pg pg_autoctl status --pgdata "$dir/$1" 2>&1 |
	    sed -n 's/.*pg_autoctl is running with pid \([0-9]*\).*/\1/p' | head -n 1
}

# Wait until the monitor answers SQL.
monitor_wait() {
	local i
	for i in $(seq 1 600); do
		psql "$monitor_uri" -Atqc "select 1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "the monitor did not start (see $dir/log/monitor.log)"
}

# The formation's nodes as NAME PORT STATE lines (reported state).
nodes() {
	psql "$monitor_uri" -AtqF' ' -c "select nodename, nodeport, reportedstate, goalstate from pgautofailover.node order by nodeid" 2>/dev/null
}

# Wait until one node is primary and the other secondary, both as assigned.
formation_wait() { # SECONDS
	local i n
	for i in $(seq 1 $(($1 * 5))); do
		n=$(nodes | awk '$3 == $4 && ($3 == "primary" || $3 == "secondary")' | wc -l)
		[ "$n" -eq 2 ] && return 0
		sleep 0.2
	done
	return 1
}

sipasd_conf() { # N PORT
	local n=$1 port=$2
	mkdir -p "$dir/sipasd$n/spool"
	cat >"$dir/sipasd$n/sipasd.conf" <<EOF
# sipasd $n of the cluster (scripts/cluster.sh)
listen = 127.0.0.1:$port
db = "$write_uri"
db_read = "$read_uri"
spool_dir = $dir/sipasd$n/spool
reconnect_min_ms = 100
reconnect_max_ms = 1000
token_ttl = 300
log_level = info
EOF
}

sipasd_up() { # N PORT
	local n=$1 port=$2 pidf=$dir/sipasd$1/pid
	if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
		return 0
	fi
	[ -x "$SIPASD" ] || die "sipasd not found: build it (scripts/demo.sh, or make) or set SIPASD"
	sipasd_conf "$n" "$port"
	setsid "$SIPASD" -c "$dir/sipasd$n/sipasd.conf" </dev/null >/dev/null \
	    2>>"$dir/log/sipasd$n.log" &
	echo $! >"$pidf"
}

haproxy_up() {
	local pidf=$dir/haproxy.pid
	if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
		return 0
	fi
	command -v haproxy >/dev/null 2>&1 || die "haproxy not found: apt-get install haproxy"
	cat >"$dir/haproxy.cfg" <<EOF
# HAProxy in front of the cluster's two sipasd (scripts/cluster.sh).
# /healthz answers 200 for "primary" and "read-only" (reads still served)
# and 503 when down, so during a failover both instances keep serving reads
# and spool or refuse writes; a stopped instance leaves the pool in a second.
global
	maxconn 1024
	pidfile $pidf
defaults
	mode http
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	retries 3
	option redispatch
frontend sipas
	bind 127.0.0.1:$p_haproxy
	default_backend sipasd
backend sipasd
	balance roundrobin
	option httpchk GET /healthz
	http-check expect status 200
	default-server inter 500ms fall 2 rise 1
	# Dashboard sessions live in one instance's memory: stick to it.
	cookie SIPASSRV insert indirect nocache httponly
	server sipasd1 127.0.0.1:$p_sipasd1 check cookie s1
	server sipasd2 127.0.0.1:$p_sipasd2 check cookie s2
EOF
	haproxy -f "$dir/haproxy.cfg" -D -p "$pidf" >>"$dir/log/haproxy.log" 2>&1 ||
	    die "haproxy did not start (see $dir/log/haproxy.log)"
}

health() { # PORT
	curl -s -m 2 "http://127.0.0.1:$1/healthz" 2>/dev/null || echo '{"status":"no answer"}'
}

up() {
	local t0 i
	t0=$(date +%s)
	if [ ! -f "$dir/monitor/PG_VERSION" ]; then
		say "creating the monitor on port $p_monitor"
		as_pg pg_autoctl create monitor --pgdata "$dir/monitor" \
		    --pgport "$p_monitor" --hostname 127.0.0.1 --listen 127.0.0.1 \
		    --auth trust --no-ssl >>"$dir/log/create.log" 2>&1 ||
		    die "creating the monitor failed (see $dir/log/create.log)"
	fi
	pgaf_run monitor
	monitor_wait
	# Failure detection in seconds rather than tens of seconds: a health
	# check every second, a node unhealthy after 5 s without answer, and
	# the standby writable 10 s after the primary was lost (the keepers'
	# network_partition_timeout below is shorter, so an isolated old
	# primary has demoted itself by then).
	psql "postgres://postgres@127.0.0.1:$p_monitor/pg_auto_failover?sslmode=disable" -q \
	    -c "alter system set pgautofailover.health_check_period = 1000" \
	    -c "alter system set pgautofailover.health_check_timeout = 1000" \
	    -c "alter system set pgautofailover.health_check_max_retries = 1" \
	    -c "alter system set pgautofailover.health_check_retry_delay = 500" \
	    -c "alter system set pgautofailover.node_considered_unhealthy_timeout = 5000" \
	    -c "alter system set pgautofailover.primary_demote_timeout = 10000" \
	    -c "select pg_reload_conf()" >/dev/null ||
	    die "cannot tune the monitor"
	for n in 1 2; do
		if [ ! -f "$dir/node$n/PG_VERSION" ]; then
			say "creating node$n on port $((base + n))"
			as_pg pg_autoctl create postgres --pgdata "$dir/node$n" \
			    --pgport $((base + n)) --hostname 127.0.0.1 \
			    --listen 127.0.0.1 --auth trust --no-ssl \
			    --monitor "$monitor_uri" --dbname sipas \
			    --name "node$n" >>"$dir/log/create.log" 2>&1 ||
			    die "creating node$n failed (see $dir/log/create.log)"
			as_pg pg_autoctl config set --pgdata "$dir/node$n" \
			    timeout.network_partition_timeout 8 >/dev/null
		fi
		pgaf_run "node$n"
		if [ "$n" = 1 ]; then
			# node2 copies node1: wait until it is the primary.
			for i in $(seq 1 600); do
				nodes | grep -q '^node1 .* \(single\|primary\|wait_primary\) ' && break
				sleep 0.2
			done
		fi
	done
	formation_wait 120 || die "the formation did not settle: $(nodes | tr '\n' ';')"
	# On a restart the monitor still lists the old states: wait for SQL.
	for i in $(seq 1 600); do
		psql "$write_uri" -Atqc "select 1" >/dev/null 2>&1 && break
		sleep 0.2
	done
	"$SIPASCTL" --db "$write_uri" init >/dev/null ||
	    die "sipasctl init failed on the primary"
	sipasd_up 1 "$p_sipasd1"
	sipasd_up 2 "$p_sipasd2"
	for i in $(seq 1 300); do
		if health "$p_sipasd1" | grep -q '"primary"' &&
		    health "$p_sipasd2" | grep -q '"primary"'; then
			break
		fi
		sleep 0.1
	done
	haproxy_up
	for i in $(seq 1 300); do
		curl -s -m 2 -o /dev/null "http://127.0.0.1:$p_haproxy/healthz" && break
		sleep 0.1
	done
	say "up in $(($(date +%s) - t0)) s, in $dir"
	status
	echo
	echo "  sipas through HAProxy:  http://127.0.0.1:$p_haproxy/"
	echo "  sipasd instances:       http://127.0.0.1:$p_sipasd1/  http://127.0.0.1:$p_sipasd2/"
	echo "  writes (db):            $write_uri"
	echo "  reads (db_read):        $read_uri"
	echo "  logs:                   $dir/log/"
}

down() {
	local f pid n
	for f in "$dir/haproxy.pid" "$dir/sipasd1/pid" "$dir/sipasd2/pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill -TERM "$pid" 2>/dev/null || true
		for n in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "$f"
	done
	for n in node2 node1 monitor; do
		[ -d "$dir/$n" ] || continue
		as_pg pg_autoctl stop --pgdata "$dir/$n" >/dev/null 2>&1 || true
	done
	for n in node2 node1 monitor; do
		[ -d "$dir/$n" ] || continue
		for pid in $(seq 1 100); do
			as_pg pg_autoctl status --pgdata "$dir/$n" >/dev/null 2>&1 || break
			sleep 0.1
		done
		# A node killed with its keeper may leave PostgreSQL behind.
		if [ -f "$dir/$n/postmaster.pid" ]; then
			as_pg "$PGBIN/pg_ctl" -D "$dir/$n" -m immediate stop >/dev/null 2>&1 || true
		fi
	done
	say "down"
}

status() {
	echo "formation (monitor on port $p_monitor):"
	nodes | awk '{ printf "  %-6s port %s  %s (assigned %s)\n", $1, $2, $3, $4 }'
	echo "sipasd1 :$p_sipasd1 $(health "$p_sipasd1")"
	echo "sipasd2 :$p_sipasd2 $(health "$p_sipasd2")"
	echo "haproxy :$p_haproxy $(health "$p_haproxy")"
}

kill_primary() {
	local name pid
	name=$(nodes | awk '$3 == "primary" || $3 == "wait_primary" { print $1; exit }')
	[ -n "$name" ] || die "no primary: $(nodes | tr '\n' ';')"
	pid=$(pgaf_pid "$name")
	[ -n "$pid" ] || die "the keeper of $name is not running"
	# The keeper leads a process group holding its PostgreSQL: one kill.
	kill -KILL -- "-$pid"
	say "killed $name (keeper pid $pid and its PostgreSQL) at $(date +%s.%N)"
}

case $cmd in
up) up ;;
down) down ;;
status) status ;;
uri) echo "$write_uri"; echo "$read_uri" ;;
reload)
	for n in 1 2; do
		[ -f "$dir/sipasd$n/pid" ] && kill -HUP "$(cat "$dir/sipasd$n/pid")"
	done
	say "sipasd reloaded" ;;
failover)
	as_pg pg_autoctl perform failover --pgdata "$dir/monitor" ;;
kill-primary) kill_primary ;;
destroy)
	down
	rm -rf "$dir"
	say "removed $dir" ;;
*) usage ;;
esac
