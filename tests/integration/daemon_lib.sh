# daemon_lib.sh: shared set-up of the daemon integration tests (sourced, not
# run): a private PostgreSQL in a fresh directory under /tmp, one database,
# the schema, a unit tree, tokens, and sipasd on a free localhost port. TAP
# helpers print "ok N - ..." lines; the plan is printed at the end.
#
# Environment (set by make check): top_srcdir, top_builddir, SIPAS_TEST_DATA.
# SIPAS_TEST_KEEP=1 keeps the directory (and says where) for a post-mortem.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
SIPAS_TEST_DATA=${SIPAS_TEST_DATA:-$top_srcdir/tests/data}
SIPASD=$top_builddir/sipasd
SIPASCTL=$top_builddir/sipasctl
RESPOST=$top_builddir/tests/tools/respost
PGSH=$top_srcdir/scripts/pg.sh
FIXTURES=$SIPAS_TEST_DATA/fixtures

tap_n=0
tap_failed=0

# ok COND-STATUS DESCRIPTION: one TAP line from an exit status.
tap() {
	local st=$1
	shift
	tap_n=$((tap_n + 1))
	if [ "$st" -eq 0 ]; then
		echo "ok $tap_n - $*"
	else
		echo "not ok $tap_n - $*"
		tap_failed=$((tap_failed + 1))
	fi
}

# is GOT WANT DESCRIPTION
is() {
	local got=$1 want=$2
	shift 2
	if [ "$got" = "$want" ]; then
		tap 0 "$*"
	else
		tap 1 "$* (got '$got', want '$want')"
	fi
}

# bail REASON: stop the whole test.
bail() {
	echo "Bail out! $*"
	exit 1
}

tmp=$(mktemp -d /tmp/sipas-dt.XXXXXX) || exit 1
chmod 755 "$tmp"
PGDIR=$tmp/pg
SIPASD_PID=
SIPASD_LOG=$tmp/sipasd.log
SIPASD_CONF=$tmp/sipasd.conf
: >"$SIPASD_LOG"

cleanup() {
	if [ -n "$SIPASD_PID" ]; then
		kill -KILL "$SIPASD_PID" 2>/dev/null
		wait "$SIPASD_PID" 2>/dev/null
	fi
	"$PGSH" stop "$PGDIR" >/dev/null 2>&1
	if [ -n "${SIPAS_TEST_KEEP:-}" ]; then
		echo "# kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# Start the private cluster and create the database.
pg_setup() {
	"$PGSH" init "$PGDIR" || bail "initdb failed"
	"$PGSH" start "$PGDIR" || bail "PostgreSQL did not start"
	"$PGSH" createdb "$PGDIR" sipas || bail "createdb failed"
	DSN=$("$PGSH" dsn "$PGDIR" sipas)
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	PSQL=${PGBIN:+$PGBIN/}psql
	[ -x "$PSQL" ] || PSQL=psql
}

# sql QUERY: one value from the test database.
sql() {
	"$PSQL" -X -q -tA -d "$DSN" -c "$1"
}

# The province P01 and its children U001..U005 (the fixtures' units), and
# communes C011, C012 under U001.
units_setup() {
	cat >"$tmp/units.csv" <<'EOF'
code,name,level,parent
P01,Tỉnh Thử Nghiệm,province,
U001,Huyện Một,district,P01
U002,Huyện Hai,district,P01
U003,Huyện Ba,district,P01
U004,Huyện Bốn,district,P01
U005,Huyện Năm,district,P01
C011,Xã Một,commune,U001
C012,Xã Hai,commune,U001
EOF
	"$SIPASCTL" --db "$DSN" unit import "$tmp/units.csv" >/dev/null
}

# The cluster, the schema (sipasctl init) and the units of units_setup: what
# most tests start from.
db_setup() {
	pg_setup
	"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "init failed"
	units_setup || bail "unit import failed"
}

# token ROLE [UNIT]: print a new token.
token() {
	if [ $# -ge 2 ]; then
		"$SIPASCTL" --db "$DSN" token create --role "$1" --unit "$2" --name "t-$1-$2" 2>/dev/null
	else
		"$SIPASCTL" --db "$DSN" token create --role "$1" --name "t-$1" 2>/dev/null
	fi
}

# sipasd_start [EXTRA CONFIG LINES]: write the config, start on a free port,
# wait until /healthz answers 200.
sipasd_start() {
	local try port i
	for try in 1 2 3 4 5; do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		{
			echo "listen = 127.0.0.1:$port"
			echo "db = \"$DSN\""
			echo "log_level = debug"
			echo "reconnect_min_ms = 100"
			echo "reconnect_max_ms = 500"
			printf '%s\n' "$@"
		} >"$SIPASD_CONF"
		"$SIPASD" -c "$SIPASD_CONF" 2>>"$SIPASD_LOG" &
		SIPASD_PID=$!
		for i in $(seq 1 100); do
			if ! kill -0 "$SIPASD_PID" 2>/dev/null; then
				wait "$SIPASD_PID" 2>/dev/null
				SIPASD_PID=
				break
			fi
			if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ]; then
				URL=http://127.0.0.1:$port
				return 0
			fi
			sleep 0.1
		done
		if [ -n "$SIPASD_PID" ]; then
			kill -KILL "$SIPASD_PID" 2>/dev/null
			wait "$SIPASD_PID" 2>/dev/null
			SIPASD_PID=
		fi
	done
	cat "$SIPASD_LOG" >&2
	bail "sipasd did not start"
}

# wait_log PATTERN [COUNT [SECONDS]]: wait until sipasd's log has COUNT
# (default 1) lines matching PATTERN (grep -E), at most SECONDS (default 90);
# 0 if it did. For what sipasd does after a signal, instead of a fixed sleep
# that a loaded machine can outlast.
wait_log() {
	local want=${2:-1} i
	for i in $(seq 1 $((${3:-90} * 10))); do
		[ "$(grep -cE "$1" "$SIPASD_LOG")" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_metric NAME VALUE [SECONDS]: wait until GET /metrics shows NAME (with
# its labels) at VALUE, at most SECONDS (default 90; $MTOKEN if set); 0 if
# it did.
wait_metric() {
	local i auth=()
	[ -n "${MTOKEN:-}" ] && auth=(-H "Authorization: Bearer $MTOKEN")
	for i in $(seq 1 $((${3:-90} * 10))); do
		[ "$(curl -s "${auth[@]}" "$URL/metrics" |
			awk -v m="$1" '$1 == m { print $2; exit }')" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# table_lock TABLE: hold an ACCESS EXCLUSIVE lock on TABLE in a transaction
# of its own until table_unlock; returns once PostgreSQL granted it. A batch
# that writes to TABLE then waits for as long as the test needs.
table_lock() {
	local i
	mkfifo "$tmp/lock.sql" || return 1
	"$PSQL" -X -q -d "$DSN" <"$tmp/lock.sql" >/dev/null 2>&1 &
	LOCKER_PID=$!
	exec 8>"$tmp/lock.sql"
	echo "BEGIN; LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE;" >&8
	for i in $(seq 1 900); do
		[ "$(sql "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = '$1' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# table_unlock: commit table_lock's transaction.
table_unlock() {
	echo "COMMIT;" >&8
	exec 8>&-
	wait "$LOCKER_PID"
	rm -f "$tmp/lock.sql"
}

# hwm: sipasd's peak resident memory (VmHWM) in KiB.
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SIPASD_PID/status"; }

# sipasd_stop: SIGTERM, wait; the exit status of sipasd.
sipasd_stop() {
	local st
	kill -TERM "$SIPASD_PID"
	wait "$SIPASD_PID"
	st=$?
	SIPASD_PID=
	return $st
}

# post TOKEN BODY: POST a response; prints the status, keeps the body in
# $tmp/body and the headers in $tmp/headers.
post() {
	local auth=()
	[ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
	curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "${auth[@]}" \
		-H 'Content-Type: application/json' --data-binary "$2" \
		"$URL/api/v1/responses"
}

# get TOKEN PATH: GET; prints the status, body in $tmp/body.
get() {
	local auth=()
	[ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
	curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "${auth[@]}" "$URL$2"
}

# fetch_all TAG: the indices of every query of the array Q (read with the
# token $VIEWER) into $tmp/TAG.N.json; 1 if one did not answer 200.
fetch_all() {
	local i st bad=0
	for i in "${!Q[@]}"; do
		st=$(get "$VIEWER" "/api/v1/indices?${Q[$i]}")
		[ "$st" = 200 ] || { echo "# ${Q[$i]}: $st $(cat "$tmp/body")" >&2; bad=1; }
		cp "$tmp/body" "$tmp/$1.$i.json"
	done
	return $bad
}
# same A B: every query's result of A equals B's within 1e-9 (tests/tools/resultcmp).
same() {
	local i bad=0
	for i in "${!Q[@]}"; do
		"${RESULTCMP:-$top_builddir/tests/tools/resultcmp}" -m 5 "$tmp/$1.$i.json" \
			"$tmp/$2.$i.json" 1e-9 >"$tmp/cmp.out" 2>&1 ||
			{ echo "# ${Q[$i]}:" >&2; cat "$tmp/cmp.out" >&2; bad=1; }
	done
	return $bad
}

# csv_near A B TOL: two CSV files with the same cells, numbers within TOL of
# each other (the same report computed two ways); prints the cells compared
# and the largest difference, and returns 1 at the first cell that differs.
csv_near() {
	awk -F, -v tol="$3" '
		function num(x) { return x ~ /^-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ }
		NR == FNR { a[FNR] = $0; na = FNR; next }
		{
			nb = FNR
			if (!(FNR in a)) { print "line " FNR " only in the second" > "/dev/stderr"; bad = 1; exit }
			n = split(a[FNR], x, ",")
			if (n != NF) { print "line " FNR ": " n " vs " NF " cells" > "/dev/stderr"; bad = 1; exit }
			for (i = 1; i <= NF; i++) {
				cells++
				if (num(x[i]) && num($i)) {
					d = x[i] - $i; if (d < 0) d = -d
					if (d > max) max = d
					if (d > tol) { print "line " FNR " cell " i ": " x[i] " vs " $i > "/dev/stderr"; bad = 1; exit }
				} else if (x[i] != $i) {
					print "line " FNR " cell " i ": " x[i] " vs " $i > "/dev/stderr"; bad = 1; exit
				}
			}
		}
		END { if (bad) exit 1; if (na != nb) { print na " vs " nb " lines" > "/dev/stderr"; exit 1 }
			printf "%d cells, largest difference %g\n", cells, max }' "$1" "$2"
}

# The "field" of the last error body.
error_field() {
	sed -n 's/.*"field":"\([^"]*\)".*/\1/p' "$tmp/body"
}

# The daemon's stderr must show no sanitizer report and no assertion.
log_clean() {
	if grep -E 'Sanitizer|runtime error|assertion failed' "$SIPASD_LOG" >&2; then
		tap 1 "sipasd's stderr has no sanitizer report or assertion"
	else
		tap 0 "sipasd's stderr has no sanitizer report or assertion"
	fi
}

# Print the plan and exit with the verdict.
finish() {
	echo "1..$tap_n"
	if [ "$tap_failed" -gt 0 ]; then
		echo "# $tap_failed failed; sipasd log:" >&2
		tail -n 60 "$SIPASD_LOG" | sed 's/^/# /' >&2
		exit 1
	fi
	exit 0
}
