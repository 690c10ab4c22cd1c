#!/usr/bin/env bash
# demo.sh: the README's first command. Installs what is missing, builds,
# creates (or reuses) a private PostgreSQL cluster, loads a small demo
# province with a few thousand generated responses, turns on SMS with a local
# test gateway (scripts/sms-send), and runs sipasd on 127.0.0.1:8080 until
# Ctrl-C. It prints every address of the product and a login for each role.
#
#	scripts/demo.sh              run in the foreground (Ctrl-C stops all)
#	scripts/demo.sh --background leave sipasd and PostgreSQL running
#	scripts/demo.sh stop         stop what --background left running
#
# The cluster's directory (the state directory): as root, where the user
# postgres can reach it whatever the clone's path,
# /var/lib/sipas-demo/<clone name>-<hash of the clone path>; as another user,
# var/pg in the clone. SIPAS_DEMO_STATE overrides it.
#
# Environment: SIPAS_DEMO_PORT (default 8080), SIPAS_DEMO_STATE (the state
# directory), SIPAS_DEMO_BUILD (a directory with sipasd, sipasctl and
# tests/tools/respost already built: no build here), SIPAS_SKIP_DEPS=1 to
# skip scripts/deps.sh, JOBS for make (default 2).
# Running it again reuses the build, the cluster, the data and the tokens.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
var=$root/var
build=${SIPAS_DEMO_BUILD:-$var/build}
demo=$var/demo
port=${SIPAS_DEMO_PORT:-8080}
mode=foreground

# The state directory of the cluster. initdb and the server run as postgres
# when this script runs as root (scripts/pg.sh), and postgres may not be able
# to traverse the clone's path (a clone in /root, mode 700): the cluster then
# lives in a directory of its own under /var/lib, one per clone (a cluster
# that an earlier run made in var/pg is still used).
if [ -n "${SIPAS_DEMO_STATE:-}" ]; then
	pgdir=$SIPAS_DEMO_STATE
elif [ "$(id -u)" = 0 ] && [ ! -f "$var/pg/data/PG_VERSION" ]; then
	pgdir=/var/lib/sipas-demo/$(basename "$root")-$(printf '%s' "$root" |
		sha256sum | cut -c1-12)
else
	pgdir=$var/pg
fi

case ${1:-} in
--background) mode=background ;;
stop)
	if [ -f "$demo/sipasd.pid" ] && kill -0 "$(cat "$demo/sipasd.pid")" 2>/dev/null; then
		kill -TERM "$(cat "$demo/sipasd.pid")"
		echo "demo: sipasd stopped"
	fi
	rm -f "$demo/sipasd.pid"
	"$root/scripts/pg.sh" stop "$pgdir" && echo "demo: PostgreSQL stopped ($pgdir)"
	exit 0
	;;
"") ;;
*)
	echo "usage: scripts/demo.sh [--background | stop]" >&2
	exit 2
	;;
esac

say() { printf '\033[1mdemo:\033[0m %s\n' "$*"; }

# 1. Dependencies.
if [ -z "${SIPAS_SKIP_DEPS:-}" ]; then
	say "checking packages (scripts/deps.sh)"
	bash "$root/scripts/deps.sh"
fi

# 2. Build out of tree in var/build (unless SIPAS_DEMO_BUILD names a build).
mkdir -p "$build" "$demo"
if [ -z "${SIPAS_DEMO_BUILD:-}" ]; then
	say "building in var/build"
	if [ ! -x "$root/configure" ]; then
		(cd "$root" && autoreconf -fi)
	fi
	if [ ! -f "$build/Makefile" ]; then
		(cd "$build" && "$root/configure" -q)
	fi
	make -C "$build" -s -j"${JOBS:-2}" >/dev/null
else
	say "using the build in $build"
fi
SIPASCTL=$build/sipasctl
SIPASD=$build/sipasd
RESPOST=$build/tests/tools/respost

# 3. The private cluster (Unix socket in STATE/sock).
say "PostgreSQL cluster in $pgdir"
if [ "$(id -u)" = 0 ] && [ "$pgdir" != "$var/pg" ] && [ -z "${SIPAS_DEMO_STATE:-}" ]; then
	mkdir -p /var/lib/sipas-demo
	chmod 755 /var/lib/sipas-demo
	# Which clone a state directory belongs to.
	mkdir -p "$pgdir"
	printf '%s\n' "$root" >"$pgdir/clone"
fi
"$root/scripts/pg.sh" init "$pgdir"
"$root/scripts/pg.sh" start "$pgdir"
"$root/scripts/pg.sh" createdb "$pgdir" sipas
DSN=$("$root/scripts/pg.sh" dsn "$pgdir" sipas)
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
PSQL=${PGBIN:+$PGBIN/}psql
[ -x "$PSQL" ] || PSQL=psql
psql_q() { "$PSQL" -X -q -tA -d "$DSN" "$@"; }

# 4. Schema and built-in surveys (safe to run again).
"$SIPASCTL" --db "$DSN" init >/dev/null

# 5. The demo units: a province, 3 districts, 3 communes each.
cat >"$demo/units.csv" <<'EOF'
code,name,level,parent
BN,Tỉnh Bắc Ninh,province,
BN-TP,Thành phố Bắc Ninh,district,BN
BN-TP-VN,Phường Vũ Ninh,commune,BN-TP
BN-TP-DC,Phường Đáp Cầu,commune,BN-TP
BN-TP-TC,Phường Thị Cầu,commune,BN-TP
BN-YP,Huyện Yên Phong,district,BN
BN-YP-CH,Thị trấn Chờ,commune,BN-YP
BN-YP-DL,Xã Dũng Liệt,commune,BN-YP
BN-YP-TD,Xã Tam Đa,commune,BN-YP
BN-QV,Huyện Quế Võ,district,BN
BN-QV-PM,Thị trấn Phố Mới,commune,BN-QV
BN-QV-VT,Xã Việt Thống,commune,BN-QV
BN-QV-DX,Xã Đại Xuân,commune,BN-QV
EOF
"$SIPASCTL" --db "$DSN" unit import "$demo/units.csv" >/dev/null

# 6. Tokens and secrets, created once and kept in var/demo/tokens.env (mode
# 600): one token per role (an admin, a viewer of the province, an uploader
# of one district, a collector), the SMS gateway's key and the phone-hash and
# form secrets.
if [ -f "$demo/tokens.env" ]; then
	. "$demo/tokens.env"
fi
if [ -z "${ADMIN:-}" ] || [ -z "${COLLECTOR:-}" ] || [ -z "${VIEWER:-}" ] ||
	[ -z "${UPLOADER:-}" ] || [ -z "${SMS_KEY:-}" ] ||
	[ "$(echo "SELECT count(*) FROM tokens WHERE revoked_at IS NULL AND name IN ('demo-admin', 'demo-collector', 'demo-viewer', 'demo-uploader')" | psql_q)" != 4 ]; then
	echo "UPDATE tokens SET revoked_at = now() WHERE revoked_at IS NULL AND name LIKE 'demo-%'" | psql_q
	token() { "$SIPASCTL" --db "$DSN" token create "$@" 2>/dev/null; }
	ADMIN=$(token --role admin --name demo-admin)
	VIEWER=$(token --role viewer --unit BN --name demo-viewer)
	UPLOADER=$(token --role uploader --unit BN-YP --name demo-uploader)
	COLLECTOR=$(token --role collector --name demo-collector)
	secret() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }
	SMS_KEY=$(secret)
	SMS_SECRET=$(secret)
	FORM_SECRET=$(secret)
	(umask 077 && printf '%s=%s\n' ADMIN "$ADMIN" VIEWER "$VIEWER" \
		UPLOADER "$UPLOADER" COLLECTOR "$COLLECTOR" SMS_KEY "$SMS_KEY" \
		SMS_SECRET "$SMS_SECRET" FORM_SECRET "$FORM_SECRET" >"$demo/tokens.env")
fi

# 6b. User accounts (name and password) for the sign-in page.
# ---- user accounts: create the demo's accounts here (one per role) ----
# A login and password per role for the sign-in page (the passwords are the
# demo's, printed below: never use them on a real service). Running again
# sets the same passwords.
demo_user() { # LOGIN PASSWORD ROLE UNIT NAME
	local login=$1 pw=$2 role=$3 unit=$4 name=$5
	if ! printf '%s\n' "$pw" | "$SIPASCTL" --db "$DSN" user add "$login" \
	    --role "$role" ${unit:+--unit "$unit"} --name "$name" \
	    --password-stdin >/dev/null 2>&1; then
		printf '%s\n' "$pw" | "$SIPASCTL" --db "$DSN" user passwd "$login" \
		    --password-stdin >/dev/null
	fi
}
demo_user lanhdao demo-lanhdao-2025 viewer BN 'Lãnh đạo tỉnh'
demo_user khaosat demo-khaosat-2025 uploader BN-YP 'Nhóm khảo sát Yên Phong'
demo_user quantri demo-quantri-2025 admin '' 'Quản trị'
# ---- end of user accounts ----

# 7. sipasd on 127.0.0.1:$port.
if [ -f "$demo/sipasd.pid" ] && kill -0 "$(cat "$demo/sipasd.pid")" 2>/dev/null; then
	say "stopping the sipasd of a previous run"
	old=$(cat "$demo/sipasd.pid")
	kill -TERM "$old" || true
	for i in $(seq 1 100); do
		kill -0 "$old" 2>/dev/null || break
		sleep 0.1
	done
fi
# The number citizens text their answers to (on the poster, and sms-send's
# recipient). The demo's gateway is scripts/sms-send.
SMS_NUMBER=${SIPAS_DEMO_SMS_NUMBER:-8077}
(umask 077 && cat >"$demo/sipasd.conf" <<EOF
# sipasd configuration of the demo (scripts/demo.sh writes it on every run)
listen = 127.0.0.1:$port
db = "$DSN"
log_level = info
# plain HTTP on this machine: the dashboard's cookies go without Secure
session_cookie_secure = 0
form_secret = "$FORM_SECRET"
# SMS: scripts/sms-send posts as Kannel's smsbox would (docs/sms.md)
sms_phone_secret = "$SMS_SECRET"
sms_kannel_key = "$SMS_KEY"
sms_number = "$SMS_NUMBER"
# any number may answer again at once (production: month)
sms_limit_period = none
EOF
)
if [ "$mode" = background ]; then
	"$SIPASD" -c "$demo/sipasd.conf" </dev/null >/dev/null 2>>"$demo/sipasd.log" &
else
	"$SIPASD" -c "$demo/sipasd.conf" 2> >(tee -a "$demo/sipasd.log" >&2) &
fi
pid=$!
echo $pid >"$demo/sipasd.pid"
for i in $(seq 1 100); do
	if ! kill -0 $pid 2>/dev/null; then
		echo "demo: sipasd did not start; see var/demo/sipasd.log (is port $port taken? set SIPAS_DEMO_PORT)" >&2
		exit 1
	fi
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && break
	sleep 0.1
done
# Foreground: Ctrl-C (or SIGTERM) stops sipasd, then PostgreSQL.
stop_all() {
	trap '' INT TERM
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$demo/sipasd.pid"
	"$root/scripts/pg.sh" stop "$pgdir" || true
	echo
	echo "demo: stopped (the data stays in $pgdir)"
}
if [ "$mode" = foreground ]; then
	trap stop_all EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
fi

# 8. Demo responses, once: generated deterministically, posted over HTTP.
# gen SURVEY PER_COMMUNE: a responses CSV with every item of the survey.
gen() {
	echo "SELECT i->>'code', array_to_string(ARRAY(SELECT jsonb_array_elements_text(s.definition->'scales'->(i->>'scale')->'values')), ' ')
	      FROM surveys s, jsonb_path_query(s.definition, 'strict \$.**.items[*] ? (@.type() == \"object\")') i
	      WHERE s.code = :'code'
	      UNION ALL
	      SELECT e->>'code', array_to_string(ARRAY(SELECT jsonb_array_elements_text(s.definition->'scales'->(e->>'scale')->'values')), ' ')
	      FROM surveys s, jsonb_array_elements(coalesce(s.definition->'expectations', '[]')) e
	      WHERE s.code = :'code'" |
		psql_q -F '|' -v code="$1" >"$demo/items-$1.txt"
	awk -F, 'NR > 1 && $3 == "commune" { print $1 }' "$demo/units.csv" >"$demo/communes.txt"
	awk -v survey="$1" -v per="$2" -v itemsfile="$demo/items-$1.txt" -v unitsfile="$demo/communes.txt" '
	BEGIN {
		srand(20250101)
		while ((getline line < itemsfile) > 0) {
			split(line, f, "|"); n++; code[n] = f[1]; nv[n] = split(f[2], vals, " ")
			lo[n] = vals[1]; hi[n] = vals[nv[n]]
		}
		while ((getline u < unitsfile) > 0) units[++nu] = u
		split("paper web sms kiosk", ch, " ")
		printf "id,unit,submitted_at,channel"
		for (i = 1; i <= n; i++) printf ",%s", code[i]
		printf "\n"
		for (k = 1; k <= nu; k++) {
			q = 0.55 + 0.35 * (k - 1) / (nu > 1 ? nu - 1 : 1)   # units differ
			for (r = 1; r <= per; r++) {
				m = 1 + int(rand() * 12); d = 1 + int(rand() * 28)
				printf "%s-%s-%05d,%s,2025-%02d-%02dT%02d:%02d:00+07:00,%s", survey, units[k], r, units[k], m, d, 7 + int(rand() * 10), int(rand() * 60), ch[1 + int(rand() * 4)]
				for (i = 1; i <= n; i++) {
					# a few items unanswered (not the only one)
					if (n > 1 && rand() < 0.05) { printf ","; continue }
					# satisfied (the top values) with probability q
					if (rand() < q) v = hi[i] - int(rand() * (hi[i] - lo[i] > 1 ? 2 : 1))
					else v = lo[i] + int(rand() * (hi[i] - lo[i] > 1 ? hi[i] - lo[i] - 1 : 1))
					printf ",%d", v
				}
				printf "\n"
			}
		}
	}' >"$demo/responses-$1.csv"
}
if [ "$(echo "SELECT count(*) FROM responses" | psql_q)" = 0 ]; then
	say "generating and posting demo responses (sipas-2023 and onestop-tt01)"
	gen sipas-2023 300
	gen onestop-tt01 120
	for s in sipas-2023 onestop-tt01; do
		"$RESPOST" --url "http://127.0.0.1:$port" --token "$COLLECTOR" --survey "$s" \
			--parallel 8 "$demo/responses-$s.csv" | sed "s/^/demo: $s: HTTP /" ||
			say "$s: some demo responses were refused (above)"
	done
fi
total=$(echo "SELECT count(*) FROM responses" | psql_q)
url=http://127.0.0.1:$port

# The poster of one commune's desk, with the SMS number.
"$SIPASCTL" --db "$DSN" poster --survey sipas-2023 --unit BN-YP-DL \
	--url "$url" --sms-number "$SMS_NUMBER" -o "$demo/poster-BN-YP-DL.pdf" >/dev/null

cat <<EOF

sipasd is running on $url with $total stored responses
(PostgreSQL in $pgdir; log: var/demo/sipasd.log; tokens: var/demo/tokens.env;
configuration: var/demo/sipasd.conf; units: var/demo/units.csv).

Addresses:

  form        $url/f/sipas-2023/BN-YP-DL
  kiosk       $url/kiosk/BN-YP-DL
  dashboard   $url/dashboard   (sign in at $url/login with the viewer's or the admin's token)
  upload page $url/uploads
  reports     $url/api/v1/reports/list   (token of role viewer or admin)
  metrics     $url/metrics
  healthz     $url/healthz
  poster      var/demo/poster-BN-YP-DL.pdf (SMS number $SMS_NUMBER)

Logins (API tokens; Authorization: Bearer TOKEN, or the sign-in page):

  admin                      $ADMIN
  viewer of province BN      $VIEWER
  uploader of district BN-YP $UPLOADER
  collector                  $COLLECTOR
EOF
# ---- user accounts: print the demo's accounts here ----
cat <<EOF

Sign in at $url/login with a login and password:

  leader, province BN         lanhdao / demo-lanhdao-2025   (lands on the province's numbers)
  survey team, district BN-YP khaosat / demo-khaosat-2025   (lands on the upload page)
  administrator               quantri / demo-quantri-2025   (also $url/admin/users)
EOF
# ---- end of user accounts ----
cat <<EOF

Answer by SMS (the local test gateway posts as Kannel would and prints the reply):

  scripts/sms-send --url $url --key $SMS_KEY --from 0912345678 --to $SMS_NUMBER 'HL BN-YP-DL 5 4 4 5 3'

Post a response (token of role collector):

  curl -H 'Authorization: Bearer $COLLECTOR' \\
       -H 'Content-Type: application/json' \\
       -d '{"id":"my-first","survey":"sipas-2023","unit":"BN-YP-DL","channel":"web","submitted_at":"2025-06-01T09:30:00+07:00","answers":{"Q9_1":5,"Q9_2":4,"Q10_1":3}}' \\
       $url/api/v1/responses

Read the indices of the province and each district (token of role viewer):

  curl -H 'Authorization: Bearer $VIEWER' \\
       '$url/api/v1/indices?survey=sipas-2023&unit=BN&from=2025-01-01&to=2025-12-31&children=1'

Also &level=commune for every commune of the province.
EOF
if [ "$mode" = background ]; then
	echo
	echo "Running in the background; stop with: scripts/demo.sh stop"
	exit 0
fi
echo
echo "Press Ctrl-C to stop sipasd and PostgreSQL."
wait "$pid" || true
