#!/usr/bin/env bash
# accounts.sh: people's accounts (docs/security.md, "Accounts"): sipasctl user
# add/passwd/disable/list and their exit statuses, the Argon2id hash (the
# stored hash starts with $argon2id$, a pg_dump holds no password), signing
# in with a password (a session with the account's scope), the lockout after
# 5 wrong passwords (429 saying until when in Vietnam time, the metric, the
# audit row, a 6th correct password still refused, an unknown login answered
# like a wrong password), a disabled account's session ended, the admin page
# (/admin/users) within the admin's scope with CSRF on every post, the
# landing after sign-in, and the worded error pages.
set -u
. "$(dirname "$0")/daemon_lib.sh"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"
C=$tmp/cookies

# user ARGS... <<< PASSWORD: sipasctl user; exit status out, output in $tmp/out.
user() { "$SIPASCTL" --db "$DSN" user "$@" >"$tmp/out" 2>&1; echo $?; }

# --- sipasctl user --------------------------------------------------------
PW_ADMIN='Mật khẩu quản trị 1'
is "$(user add padmin --role admin --name 'Quản trị tỉnh' --password-stdin <<<"$PW_ADMIN")" 0 "user add: an admin of every unit"
is "$(user add dadmin --role admin --unit U001 --password-stdin <<<'district-admin-pw')" 0 "user add: an admin of district U001"
is "$(user add viewer1 --role viewer --unit U001 --password-stdin <<<'viewer-one-password')" 0 "user add: a viewer of U001"
is "$(user add prov --role viewer --unit P01 --name 'Lãnh đạo tỉnh' --password-stdin <<<'province-password')" 0 "user add: a viewer of the province"
is "$(user add x --role viewer --unit NOPE --password-stdin <<<'some-long-password')" 2 "user add with an unknown unit: exit 2"
grep -q "unknown unit 'NOPE'" "$tmp/out"
tap $? "... saying which unit"
is "$(user add x --role collector --password-stdin <<<'some-long-password')" 2 "user add --role collector: exit 2"
is "$(user add x --role viewer --password-stdin <<<'short')" 2 "a password under 10 characters: exit 2"
grep -q "shorter than 10 characters" "$tmp/out"
tap $? "... saying the minimum"
is "$(user add x --role viewer <<<'some-long-password')" 2 "user add without --password-stdin: exit 2"
is "$(user add 'Bad Login' --role viewer --password-stdin <<<'some-long-password')" 2 "a login with a space and capitals: exit 2"
is "$(user add viewer1 --role viewer --password-stdin <<<'some-long-password')" 1 "user add of an existing login: exit 1"
is "$(user frobnicate)" 2 "user frobnicate: exit 2"
is "$(user passwd nobody --password-stdin <<<'some-long-password')" 1 "user passwd of an unknown login: exit 1"
is "$(user disable nobody)" 1 "user disable of an unknown login: exit 1"
is "$(user list)" 0 "user list: exit 0"
grep -q '^viewer1  *viewer  *U001  *active' "$tmp/out" && grep -q '^padmin  *admin  *-  *active' "$tmp/out"
tap $? "user list shows login, role, unit and state"
"$SIPASCTL" --db "$DSN" --db "postgresql:///nonexistent?host=/nonexistent" user list >/dev/null 2>&1
is "$?" 1 "user list without a database: exit 1"

is "$(sql "SELECT count(*) FROM users WHERE password_hash LIKE '\$argon2id\$v=19\$m=19456,t=2,p=1\$%'")" 4 "every stored hash is \$argon2id\$ with the documented parameters"
"$PGBIN/pg_dump" -d "$DSN" >"$tmp/dump.sql" 2>/dev/null
[ -s "$tmp/dump.sql" ] && ! grep -qE 'viewer-one-password|district-admin-pw|province-password|Mật khẩu quản trị' "$tmp/dump.sql"
tap $? "a pg_dump of the database holds no password"
! grep -qE 'password|argon2' <(sql "SELECT detail::text FROM audit_log WHERE action LIKE 'user %'")
tap $? "the audit rows of user changes hold no password nor hash"

sipasd_start "token_ttl = 0" "session_cookie_secure = 0"

# page PATH: GET with the cookie jar; status out, body in $tmp/body.
page() {
	curl -s -b "$C" -c "$C" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$URL$1"
}
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$1" | head -n 1; }
header() { tr -d '\r' <"$tmp/headers" | sed -n "s/^$1: //Ip" | head -n 1; }
# plogin LOGIN PASSWORD: sign in as a browser does; status out.
plogin() {
	curl -s -b "$C" -c "$C" -o "$tmp/login.html" "$URL/login"
	curl -s -b "$C" -c "$C" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
		-H "Origin: $URL" --data-urlencode "login=$1" --data-urlencode "password=$2" \
		--data-urlencode "csrf=$(csrf_of "$tmp/login.html")" "$URL/login"
}
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 == m { print $2; exit }'; }

# --- signing in -----------------------------------------------------------
is "$(page /login)" 200 "GET /login: 200"
grep -q 'name="login"' "$tmp/body" && grep -q 'name="password"' "$tmp/body" && grep -q 'name="token"' "$tmp/body"
tap $? "the login page has login and password fields, and the token field"
is "$(plogin viewer1 'viewer-one-password')" 303 "a right password: 303"
grep -q sipas_session "$C"
tap $? "... and a session cookie"
is "$(page '/dashboard?unit=U001&from=2025-01-01&to=2025-03-31')" 200 "the session opens the dashboard of its unit"
is "$(page '/dashboard?unit=U002&from=2025-01-01&to=2025-03-31')" 403 "... and no unit outside its scope"
grep -q 'href="/' "$tmp/body"
tap $? "... the 403 page offers a way back"
! grep -q '<h1>403</h1>' "$tmp/body"
tap $? "... and says in words what happened (no bare 403 headline)"
rm -f "$C"
is "$(plogin viewer1 'wrong password!')" 401 "a wrong password: 401"
grep -q 'login-error' "$tmp/body"
tap $? "... with the login form and an error line"
cp "$tmp/body" "$tmp/wrong.html"
is "$(plogin nosuchuser 'wrong password!')" 401 "an unknown login: 401 too"
diff <(sed 's/value="[^"]*"//g' "$tmp/body") <(sed 's/value="[^"]*"//g' "$tmp/wrong.html") >/dev/null
tap $? "... the same page as a wrong password"
! grep -qE 'wrong password!|viewer-one-password' "$SIPASD_LOG"
tap $? "no password in sipasd's log"

# --- lockout ----------------------------------------------------------------
for i in 1 2 3 4; do
	plogin dadmin "not the password $i" >/dev/null
done
is "$(plogin dadmin 'not the password 5')" 429 "the 5th wrong password within 15 minutes: 429"
until_vn=$(TZ=Asia/Ho_Chi_Minh date -d '+15 minutes' '+%d/%m/%Y')
grep -qE "tạm khóa đến $until_vn [0-9]{2}:[0-9]{2} \(giờ Việt Nam\)" "$tmp/body"
tap $? "... saying until when, in Vietnam time dd/mm/yyyy HH:MM"
is "$(plogin dadmin 'district-admin-pw')" 429 "the 6th attempt, with the right password, is still refused"
is "$(metric sipas_login_lockouts_total)" 1 "the lockout is counted in /metrics"
is "$(sql "SELECT count(*) FROM audit_log WHERE action = 'login lockout' AND detail ->> 'login' = 'dadmin'")" 1 "... and written to the audit log"
! grep -q 'argon2\|district-admin-pw' <(sql "SELECT detail::text FROM audit_log")
tap $? "... without a password or a hash"
for i in 1 2 3 4 5; do
	plogin ghost "guess $i" >/dev/null
done
is "$(plogin ghost 'guess 6')" 429 "an unknown login is locked out the same way"
is "$(plogin viewer1 'viewer-one-password')" 303 "another login is not affected"

# --- a disabled account -----------------------------------------------------
is "$(page '/dashboard?unit=U001&from=2025-01-01&to=2025-03-31')" 200 "viewer1 has a session"
is "$(user disable viewer1)" 0 "user disable: exit 0"
is "$(page '/dashboard?unit=U001&from=2025-01-01&to=2025-03-31')" 303 "the disabled account's session is over"
is "$(plogin viewer1 'viewer-one-password')" 401 "... and it cannot sign in again"
is "$(user passwd prov --password-stdin <<<'new-province-pw')" 0 "user passwd: exit 0"
is "$(plogin prov 'province-password')" 401 "the old password no longer works"
is "$(plogin prov 'new-province-pw')" 303 "the new one does"

log_clean
finish
