#!/usr/bin/env bash
# demo.sh: scripts/demo.sh where a user may clone the project as root: a copy
# of the source in a mode-700 directory under a mode-700 parent (like
# /root/sipas), which the user postgres cannot enter. The demo runs in the
# background with the binaries of this build (SIPAS_DEMO_BUILD: no second
# build), keeps its cluster in a state directory postgres owns, answers at
# every address it prints, takes the logins it prints, stores the SMS of the
# line it prints and prints the reply; `demo.sh stop` stops sipasd and
# PostgreSQL. Needs root (skipped otherwise). docs/operations.md, "The demo".
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
build=$(cd "$top_builddir" && pwd)

skip() {
	echo "1..0 # SKIP $1"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (the demo's cluster as the user postgres)"
id postgres >/dev/null 2>&1 || skip "no user postgres"
command -v runuser >/dev/null || skip "no runuser"
for f in sipasd sipasctl tests/tools/respost; do
	[ -x "$build/$f" ] || skip "$build/$f is not built"
done

tap_n=0
tap_failed=0
tap() {
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
is() {
	if [ "$1" = "$2" ]; then
		tap 0 "$3"
	else
		echo "# got '$1', expected '$2'"
		tap 1 "$3"
	fi
}

parent=$(mktemp -d /tmp/sipas-demo-test.XXXXXX)
chmod 700 "$parent"
clone=$parent/sipas
mkdir -m 700 "$clone"
state=
cleanup() {
	(cd "$clone" && SIPAS_SKIP_DEPS=1 bash scripts/demo.sh stop) >/dev/null 2>&1
	[ -n "$state" ] && case $state in /var/lib/sipas-demo/sipas-*) rm -rf "$state" ;; esac
	rm -rf "$parent"
}
trap cleanup EXIT

# The source as a user has it (no build, no var/, no git metadata).
tar -C "$top_srcdir" --exclude=./build --exclude=./var --exclude=./.git \
	--exclude=./autom4te.cache --exclude=./_build --exclude=./_inst \
	-cf - . | tar -C "$clone" -xf -
runuser -u postgres -- test -x "$clone" 2>/dev/null
is $? 1 "postgres cannot enter the clone (mode 700 under a mode-700 parent)"

port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
(cd "$clone" && SIPAS_SKIP_DEPS=1 SIPAS_DEMO_BUILD="$build" \
	SIPAS_DEMO_PORT=$port bash scripts/demo.sh --background) \
	>"$parent/out" 2>"$parent/err"
rc=$?
tap $rc "scripts/demo.sh --background from the clone"
if [ $rc != 0 ]; then
	sed 's/^/# /' "$parent/err" "$parent/out" | tail -n 40 >&2
	[ -f "$clone/var/demo/sipasd.log" ] &&
		sed 's/^/# sipasd.log: /' "$clone/var/demo/sipasd.log" | tail -n 40 >&2
	echo "1..$tap_n"
	exit 1
fi
out=$parent/out
url=http://127.0.0.1:$port

state=$(sed -n 's/^(PostgreSQL in \([^;]*\);.*/\1/p' "$out")
case $state in
/var/lib/sipas-demo/sipas-*) tap 0 "the cluster lives in a state directory under /var/lib/sipas-demo ($state)" ;;
*) tap 1 "the cluster lives in a state directory under /var/lib/sipas-demo (got '$state')" ;;
esac
is "$(stat -c %U "$state/data" 2>/dev/null)" postgres "owned by postgres"
is "$(cat "$state/clone" 2>/dev/null)" "$clone" "which names its clone"
is "$(stat -c %a "$clone/var/demo/tokens.env" "$clone/var/demo/sipasd.conf" | tr '\n' ' ')" "600 600 " \
	"the files with the tokens and secrets are mode 600"
if id nobody >/dev/null 2>&1; then
	runuser -u nobody -- psql -X -q -tA -h "$state/sock" -U postgres -d sipas \
		-c 'SELECT 1' >/dev/null 2>&1
	is $? 2 "another local user cannot connect to the cluster's socket (mode 0700)"
fi

# address NAME: the URL printed for NAME.
address() {
	sed -n "s|^  $1  *\(http://[^ ]*\).*|\1|p" "$out" | head -n 1
}
# status URL [CURL ARGS]: the HTTP status of a GET.
status() {
	local u=$1
	shift
	curl -s -o "$parent/body" -w '%{http_code}' "$@" "$u"
}
for a in form:200 kiosk:200 dashboard:303 healthz:200 metrics:200; do
	u=$(address "${a%%:*}")
	case $u in "$url"/*) ;; *) tap 1 "the ${a%%:*} address is printed (got '$u')"; continue ;; esac
	is "$(status "$u")" "${a#*:}" "${a%%:*} $u answers ${a#*:}"
done
login=$(sed -n 's|.*sign in at \(http://[^ ]*/login\).*|\1|p' "$out")
is "$(status "$login")" 200 "the sign-in page $login answers 200"
u=$(address "upload page")
is "$u" "$url/uploads" "the upload page's address is printed"
is "$(status "$u")" 303 "the upload page asks to sign in first (303)"

# The logins.
tok() { sed -n "s/^  $1 .* \(sip_[A-Za-z0-9_-]*\)\$/\1/p" "$out" | head -n 1; }
ADMIN=$(tok admin)
VIEWER=$(tok viewer)
UPLOADER=$(tok uploader)
COLLECTOR=$(tok collector)
[ -n "$ADMIN" ] && [ -n "$VIEWER" ] && [ -n "$UPLOADER" ] && [ -n "$COLLECTOR" ]
tap $? "a token is printed for each role"
u=$(address reports)
is "$(status "$u" -H "Authorization: Bearer $VIEWER")" 200 "reports $u answers the viewer 200"
is "$(status "$u" -H "Authorization: Bearer $ADMIN")" 200 "and the admin"
is "$(status "$u")" 401 "and nobody without a token"
q="/api/v1/indices?survey=sipas-2023&unit=BN&from=2025-01-01&to=2025-12-31&children=1"
is "$(status "$url$q" -H "Authorization: Bearer $VIEWER")" 200 "the viewer reads the province's indices"
is "$(status "$url${q/unit=BN/unit=BN-YP}" -H "Authorization: Bearer $VIEWER")" 200 "and a district's"
is "$(status "$url/api/v1/export?survey=onestop-tt01&unit=BN-YP" -H "Authorization: Bearer $UPLOADER")" 200 \
	"the uploader exports its district"
is "$(status "$url/api/v1/export?survey=onestop-tt01&unit=BN-QV" -H "Authorization: Bearer $UPLOADER")" 403 \
	"and not another"
st=$(curl -s -o "$parent/body" -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" \
	-H 'Content-Type: application/json' \
	-d '{"id":"demo-test-1","survey":"onestop-tt01","unit":"BN-YP-DL","channel":"web","submitted_at":"2025-06-01T09:30:00+07:00","answers":{"R1":3}}' \
	"$url/api/v1/responses")
is "$st" 201 "the collector posts a response"

# The SMS line, run as printed, from the clone.
line=$(grep -m 1 '^  scripts/sms-send ' "$out")
[ -n "$line" ]
tap $? "an SMS test command is printed"
psql_q() {
	runuser -u postgres -- psql -X -q -tA -h "$state/sock" -d sipas -c "$1"
}
before=$(psql_q "SELECT count(*) FROM responses WHERE channel = 'sms'")
reply=$(cd "$clone" && bash -c "$line")
tap $? "it runs"
case $reply in
"Cam on ong/ba da danh gia "*) tap 0 "and prints sipasd's reply ($reply)" ;;
*) tap 1 "and prints sipasd's reply (got '$reply')" ;;
esac
is "$(psql_q "SELECT count(*) FROM responses WHERE channel = 'sms'")" $((before + 1)) \
	"it stored one SMS response"
is "$(psql_q "SELECT outcome FROM sms_messages ORDER BY id DESC LIMIT 1")" stored \
	"the message's outcome is stored"

# The poster of the demo, with the SMS number.
if command -v pdftotext >/dev/null; then
	pdftotext "$clone/var/demo/poster-BN-YP-DL.pdf" - | grep -q 'SMS tới số 8077'
	tap $? "the demo's poster names the SMS number"
fi

(cd "$clone" && SIPAS_SKIP_DEPS=1 bash scripts/demo.sh stop) >"$parent/stop" 2>&1
tap $? "scripts/demo.sh stop"
pid=$(cat "$clone/var/demo/sipasd.pid" 2>/dev/null)
[ -z "$pid" ] && [ "$(status "$url/healthz")" = 000 ]
tap $? "sipasd is stopped"
"$clone/scripts/pg.sh" status "$state"
is $? 3 "PostgreSQL is stopped"
if grep -E 'Sanitizer|runtime error|assertion failed' "$clone/var/demo/sipasd.log" >&2; then
	tap 1 "sipasd's log has no sanitizer report or assertion"
else
	tap 0 "sipasd's log has no sanitizer report or assertion"
fi

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
