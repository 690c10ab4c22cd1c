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

# Responses: 30 for C011 in 2024-11 (the province's and U001's latest
# quarter, 2024-Q4), 5 for U002 in 2023-05 (too few for a quarter: its year
# 2023), none for U003.
"$PSQL" -X -q -d "$DSN" >/dev/null <<'EOF' || bail "data"
INSERT INTO responses (survey, unit, source_id, submitted_at, channel, answers, content_hash)
SELECT 'sipas-2023', u.unit, 'a-' || u.unit || '-' || g, u.at + g * interval '1 hour', 'paper',
	(SELECT jsonb_object_agg('Q9_' || i, 1 + (g + i) % 5) FROM generate_series(1, 39) i),
	md5(u.unit || g)
FROM (VALUES ('C011', timestamptz '2024-11-02 08:00+07', 30),
	('U002', timestamptz '2023-05-02 08:00+07', 5)) u(unit, at, cnt),
	generate_series(1, u.cnt) g;
EOF

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

"$SIPASCTL" --db "$DSN" user add v2 --role viewer --unit U002 --password-stdin <<<'viewer-two-password' >/dev/null 2>&1
"$SIPASCTL" --db "$DSN" user add v3 --role viewer --unit U003 --password-stdin <<<'viewer-three-password' >/dev/null 2>&1
"$SIPASCTL" --db "$DSN" user add uadmin --role admin --unit U001 --password-stdin <<<'u001-admin-password' >/dev/null 2>&1
sipasd_start "token_ttl = 0" "session_cookie_secure = 0" "dashboard_min_n = 10"

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

# --- the landing ------------------------------------------------------------
rm -f "$C"
plogin prov 'new-province-pw' >/dev/null
is "$(header Location)" /start "after sign-in: to /start"
is "$(page /start)" 303 "GET /start: 303"
is "$(header Location)" "/dashboard?unit=P01&from=2024-10-01&to=2024-12-31" "a province viewer lands on the province's latest quarter with data"
is "$(page "$(header Location)")" 200 "... whose page opens"
rm -f "$C"
plogin v2 'viewer-two-password' >/dev/null
page /start >/dev/null
is "$(header Location)" "/dashboard?unit=U002&from=2023-01-01&to=2023-12-31" "a quarter with too few responses: the year"
rm -f "$C"
plogin v3 'viewer-three-password' >/dev/null
page '/start?lang=en' >/dev/null
is "$(header Location)" "/dashboard?unit=U003&lang=en" "no data at all: the dashboard's default period"
rm -f "$C"
plogin padmin "$PW_ADMIN" >/dev/null
is "$(page /start)" 200 "an account of every unit gets the unit picker"
grep -q 'href="/start?unit=P01"' "$tmp/body" && grep -q 'href="/start?unit=C011"' "$tmp/body"
tap $? "... with the unit tree"
! grep -q '<script' "$tmp/body" && grep -q '<form method="get" action="/dashboard"' "$tmp/body"
tap $? "... and a search form that needs no JavaScript"
is "$(page '/dashboard?q=hai')" 200 "a search: 200"
is "$(grep -o 'href="/start?unit=[A-Z0-9]*"' "$tmp/body" | sort | tr '\n' ' ')" 'href="/start?unit=C012" href="/start?unit=U002" ' "?q=hai lists Huyện Hai and Xã Hai"
page '/dashboard?q=zzz' >/dev/null
grep -q 'id="no-match"' "$tmp/body"
tap $? "a search without a match says so"
is "$(page '/start?unit=U001')" 303 "choosing U001: 303"
is "$(header Location)" "/dashboard?unit=U001&from=2024-10-01&to=2024-12-31" "... to its latest quarter"
grep -q 'sipas_unit.*U001' "$C"
tap $? "... and the choice is remembered in a cookie"
page /start >/dev/null
is "$(header Location)" "/dashboard?unit=U001&from=2024-10-01&to=2024-12-31" "the next landing goes to the unit last chosen"
page /dashboard >/dev/null
grep -q 'id="last-unit"' "$tmp/body"
tap $? "the picker offers the unit last chosen first"

# --- error pages in words ---------------------------------------------------
is "$(page '/dashboard?unit=U001&from=2025-13-01&to=2025-12-31')" 422 "a bad day: 422"
! grep -q '<h1>422</h1>' "$tmp/body" && grep -q '<h1>Thông tin nhập chưa đúng</h1>' "$tmp/body" && grep -q 'Some input is not valid' "$tmp/body"
tap $? "... headed in words, Vietnamese and English"
grep -q 'class="button" href="/dashboard"' "$tmp/body"
tap $? "... with the way back"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'Accept: text/html' "$URL/no/such/page")" 404 "an unknown page for a browser: 404"
grep -q '<h1>Không tìm thấy trang</h1>' "$tmp/body" && grep -q 'Page not found' "$tmp/body" && grep -q 'href="/dashboard"' "$tmp/body"
tap $? "... in words, with a link to the dashboard"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' "$URL/no/such/page")" 404 "an unknown path for an API client: 404 ..."
grep -q '"code":"not_found"' "$tmp/body"
tap $? "... in JSON as before"

# --- the admin page -----------------------------------------------------------
# apost JAR FIELD=VALUE...: POST /admin/users with the page's token; status out.
apost() {
	local jar=$1 f a=()
	shift
	curl -s -b "$jar" -c "$jar" -o "$tmp/admin.html" "$URL/admin/users"
	for f in "$@"; do a+=(--data-urlencode "$f"); done
	curl -s -b "$jar" -c "$jar" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -H "Origin: $URL" \
		--data-urlencode "csrf=$(csrf_of "$tmp/admin.html")" "${a[@]}" "$URL/admin/users"
}
listed() { grep -o 'data-login="[^"]*"' "$tmp/body" | sed 's/data-login="//; s/"//' | sort | tr '\n' ' '; }
is "$(page /admin/users)" 200 "an admin of every unit: GET /admin/users 200"
is "$(listed)" "dadmin padmin prov uadmin v2 v3 viewer1 " "... lists every account"
rm -f "$C"
plogin uadmin 'u001-admin-password' >/dev/null
is "$(page /admin/users)" 200 "a district admin: 200"
is "$(listed)" "dadmin uadmin viewer1 " "... lists only the accounts of its district"
is "$(apost "$C" action=disable login=prov)" 403 "a district admin cannot disable a province account"
is "$(apost "$C" action=passwd login=padmin password=taken-over-pw)" 403 "... nor set the password of an account of every unit"
is "$(plogin padmin "$PW_ADMIN")" 303 "... whose password still works"
rm -f "$C"
plogin uadmin 'u001-admin-password' >/dev/null
is "$(apost "$C" action=add login=newp role=viewer unit=P01 password=new-person-pw)" 422 "... nor add an account of the province"
grep -q 'unit: ' "$tmp/body"
tap $? "... the 422 page names the field"
is "$(apost "$C" action=add login=newp role=viewer password=new-person-pw)" 422 "... nor one of every unit"
is "$(apost "$C" action=add login=newp role=viewer unit=C011 password=short)" 422 "a short password: 422"
grep -q 'password: ' "$tmp/body"
tap $? "... naming the field"
is "$(apost "$C" action=add login=newp 'name=Người Mới' role=viewer unit=C011 password=new-person-pw)" 303 "a district admin adds a commune viewer"
is "$(sql "SELECT role || ' ' || unit || ' ' || display_name FROM users WHERE login = 'newp'")" "viewer C011 Người Mới" "... stored with its role, unit and name"
is "$(sql "SELECT actor FROM audit_log WHERE action = 'user add' AND detail ->> 'login' = 'newp'")" "user:uadmin" "... audited with the admin as actor"
is "$(apost "$C" action=add login=newp role=viewer unit=C011 password=new-person-pw)" 422 "adding an existing login: 422"
curl -s -b "$C" -c "$C" -o "$tmp/admin.html" "$URL/admin/users"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' -H "Origin: $URL" --data-urlencode action=disable --data-urlencode login=newp "$URL/admin/users")" 403 "a post without the token: 403"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' --data-urlencode "csrf=$(csrf_of "$tmp/admin.html")" --data-urlencode action=disable --data-urlencode login=newp "$URL/admin/users")" 403 "a post from another site: 403"
is "$(apost "$C" action=passwd login=newp password=reset-by-admin)" 303 "the admin resets newp's password"
C2=$tmp/cookies2
curl -s -c "$C2" -o "$tmp/login.html" "$URL/login"
is "$(curl -s -b "$C2" -c "$C2" -o /dev/null -w '%{http_code}' -H "Origin: $URL" --data-urlencode login=newp --data-urlencode password=reset-by-admin --data-urlencode "csrf=$(csrf_of "$tmp/login.html")" "$URL/login")" 303 "newp signs in with the new password"
is "$(curl -s -b "$C2" -o /dev/null -w '%{http_code}' "$URL/start")" 303 "... and has a session"
is "$(apost "$C" action=disable login=newp)" 303 "the admin disables newp"
is "$(curl -s -b "$C2" -o /dev/null -D "$tmp/h2" -w '%{http_code}' "$URL/start")" 303 "newp's session ends at once ..."
grep -qi '^Location: /login' "$tmp/h2"
tap $? "... back to the login"
is "$(apost "$C" action=disable login=uadmin)" 422 "an admin cannot disable itself"
rm -f "$C"
plogin v2 'viewer-two-password' >/dev/null
is "$(page /admin/users)" 403 "a viewer may not open the admin page"
! grep -q '<h1>403</h1>' "$tmp/body"
tap $? "... told in words"

log_clean
finish
