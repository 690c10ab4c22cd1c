#!/bin/sh
# pg.sh: a private PostgreSQL cluster in a directory, for the demo and the
# integration tests. Unix socket only (listen_addresses = ''), in DIR/sock,
# mode 0700: trust authentication for the user postgres, so only the
# cluster's owner and root may connect; never touches the system's clusters.
#
#	pg.sh init DIR          initdb DIR/data unless it exists
#	pg.sh start DIR         start it (waits until it accepts connections)
#	pg.sh stop DIR          stop it (fast: open connections are dropped)
#	pg.sh status DIR        exit 0 if it runs
#	pg.sh createdb DIR NAME create database NAME unless it exists
#	pg.sh dsn DIR [NAME]    print the libpq connection string
#
# initdb and pg_ctl refuse to run as root: as root they run as the user
# postgres (runuser), and DIR is handed to that user. PGBIN overrides the
# directory of the server programs (default: the newest
# /usr/lib/postgresql/*/bin, else the PATH). PGPORT_PRIVATE sets the socket's
# port number (default 5432; only the socket's name depends on it).
set -eu

usage() {
	echo "usage: pg.sh init|start|stop|status|createdb|dsn DIR [NAME]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
port=${PGPORT_PRIVATE:-5432}

if [ -z "${PGBIN:-}" ]; then
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$PGBIN" ]; then
		PGBIN=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
	fi
fi
if [ ! -x "$PGBIN/pg_ctl" ]; then
	echo "pg.sh: PostgreSQL server programs not found (install postgresql, or set PGBIN)" >&2
	exit 1
fi

# Run a server program as the cluster's owner (from /: postgres may not be
# able to enter the current directory).
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		"$@"
	fi
}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
sock=$dir/sock
log=$dir/postgresql.log

case $cmd in
init)
	if [ -f "$data/PG_VERSION" ]; then
		exit 0
	fi
	mkdir -p "$sock"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir" "$sock"
		chmod 755 "$dir"
	fi
	as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
		cat "$dir/initdb.log" >&2
		exit 1
	}
	cat >>"$data/postgresql.conf" <<CONF
# pg.sh: private cluster
listen_addresses = ''
unix_socket_directories = '$sock'
# trust authentication: only the owner (and root) may connect
unix_socket_permissions = 0700
port = $port
fsync = on
max_connections = 50
shared_buffers = 32MB
logging_collector = off
# A commit waits for its WAL flush, and that flush waits behind whatever
# else the disk is writing. Data pages the backends write out of
# shared_buffers would sit in the kernel's cache until 30 s old and go out
# in one burst (about 100 MB under bench/ingest.sh, holding commits over
# 100 ms); backend_flush_after has each backend start the write-back every
# 256 kB instead. A new WAL segment is created sparse rather than written
# full of zeros (16 MB and an fsync, 20-30 ms without a commit, for every
# segment a fresh cluster fills). docs/daemon.md, "PostgreSQL settings".
backend_flush_after = 256kB
wal_init_zero = off
CONF
	;;
start)
	if as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		exit 0
	fi
	if [ "$(id -u)" = 0 ]; then
		touch "$log"
		chown postgres: "$log"
	fi
	as_owner "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null || {
		tail -n 20 "$log" >&2
		exit 1
	}
	;;
stop)
	if as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
		as_owner "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
	fi
	;;
status)
	as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1
	;;
createdb)
	[ $# -eq 3 ] || usage
	if ! echo "SELECT 1 FROM pg_database WHERE datname = :'name'" |
		"$PGBIN/psql" -X -q -h "$sock" -p "$port" -U postgres -d postgres \
			-tA -v name="$3" | grep -q 1; then
		"$PGBIN/createdb" -h "$sock" -p "$port" -U postgres "$3"
	fi
	;;
dsn)
	echo "host=$sock port=$port user=postgres dbname=${3:-postgres}"
	;;
*)
	usage
	;;
esac
