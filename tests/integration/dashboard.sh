#!/usr/bin/env bash
# dashboard.sh: the leadership dashboard over HTTP with curl (docs/dashboard.md):
# the login and its cookie (Secure by default; CSRF: Origin/Sec-Fetch-Site and
# a token bound to a cookie on login, the session's token on logout), the log
# escaping of a parameter, redirects without a session, the unit scope of a
# district viewer (403 outside it), and the numbers of the page against
# GET /api/v1/indices (two decimals, decimal comma in Vietnamese): the
# overall index, its interval and n, the change from the previous quarter,
# each ranked child, a group, and the greyed child below dashboard_min_n;
# a child without responses listed (n = 0) but not drawn; the channel filter
# (channel=paper|web|kiosk) against GET /api/v1/indices?channel=, kept by
# every link of the page; the respondent filter (respondent.gender=,
# respondent.age_band=) against GET /api/v1/indices with the same filter,
# kept by every link, and a filtered group below dashboard_min_n showing no
# number.
set -u
. "$(dirname "$0")/daemon_lib.sh"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"
# A third commune of U001 that never gets a response.
printf 'code,name,level,parent\nC013,Xã Ba,commune,U001\n' >"$tmp/units2.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units2.csv" >/dev/null || bail "unit import C013"

# 2 years of sipas-2023 responses (2023-04-01 .. 2025-03-31); each unit has
# its own bias, U005 has too few to be ranked.
"$PSQL" -X -q -d "$DSN" >/dev/null <<'EOF' || bail "data"
SELECT setseed(0.25);
INSERT INTO responses (survey, unit, source_id, submitted_at, channel, answers, content_hash)
SELECT 'sipas-2023', u.unit, 'g-' || u.unit || '-' || g,
	timestamptz '2023-04-01 08:00+07' + floor(random() * 730) * interval '1 day',
	CASE WHEN g % 3 = 0 THEN 'paper' ELSE 'web' END,
	(SELECT jsonb_object_agg('Q9_' || i, least(5, greatest(1, floor(random() * 5 + u.bias + 0 * g)::int)))
	 FROM generate_series(1, 39) i),
	md5(u.unit || g)
FROM (VALUES ('C011', 1.5, 400), ('C012', 0.6, 400), ('U002', 0.3, 600),
	('U003', 1.2, 600), ('U004', 0.8, 600), ('U005', 0.9, 40)) u(unit, bias, cnt),
	generate_series(1, u.cnt) g;
EOF
is "$(sql "SELECT count(*) FROM responses")" 2640 "2640 responses stored"
# A gender and an age band for each, fixed by its id.
sql "UPDATE responses SET respondent = jsonb_build_object(
	'gender', (ARRAY['f', 'm', 'o'])[1 + abs(hashtext(source_id)) % 3],
	'age_band', (ARRAY['18-24', '25-34', '35-49', '50-64', '65+'])[1 + abs(hashtext(source_id || 'a')) % 5])" >/dev/null
is "$(sql "SELECT count(DISTINCT respondent ->> 'gender') FROM responses")" 3 "each with a gender and an age band"

VIEWER_U001=$(token viewer U001)
VIEWER=$(token viewer)
COLLECTOR=$(token collector)
sipasd_start "report_today = 2025-04-10" "dashboard_min_n = 10" "token_ttl = 0" "session_cookie_secure = 0"
C=$tmp/cookies

# A third channel through the API: 12 kiosk responses for C011 in 2025-02.
bad=0
for i in $(seq 1 12); do
	answers=$(for q in $(seq 1 39); do printf '"Q9_%d": %d,' "$q" $(((i + q) % 5 + 1)); done)
	g=$([ "$i" -le 5 ] && echo f || echo m)
	st=$(post "$COLLECTOR" "{\"id\": \"k-$i\", \"survey\": \"sipas-2023\", \"unit\": \"C011\", \"channel\": \"kiosk\", \"submitted_at\": \"2025-02-$((i + 10))T09:00:00+07:00\", \"answers\": {${answers%,}}, \"respondent\": {\"gender\": \"$g\", \"age_band\": \"65+\"}}")
	[ "$st" = 201 ] || { echo "# k-$i: $st $(cat "$tmp/body")" >&2; bad=$((bad + 1)); }
done
tap $bad "12 kiosk responses for C011 posted through the API"

# page PATH: GET with the cookie jar; status out, body in $tmp/body.
page() {
	curl -s -b "$C" -c "$C" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$URL$1"
}
# login TOKEN [NEXT]: as a browser does: GET /login (its cookie and csrf
# token), then POST it with this site's Origin.
login() {
	curl -s -b "$C" -c "$C" -o "$tmp/login.html" "$URL/login"
	curl -s -b "$C" -c "$C" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
		-H "Origin: $URL" --data-urlencode "token=$1" --data-urlencode "csrf=$(csrf_of "$tmp/login.html")" \
		${2:+--data-urlencode "next=$2"} "$URL/login"
}
# The csrf field of a page.
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$1" | head -n 1; }
# raw_login TOKEN CSRF CURL-ARGS...: POST /login with the cookie jar.
raw_login() {
	local t=$1 c=$2
	shift 2
	curl -s -b "$C" -c "$C" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$@" \
		--data-urlencode "token=$t" --data-urlencode "csrf=$c" "$URL/login"
}
header() { tr -d '\r' <"$tmp/headers" | sed -n "s/^$1: //Ip" | head -n 1; }
# The API's value as the page shows it: 87,53 % (vi) or 87.53% (en).
vi_pct() { LC_ALL=C printf '%.2f %%' "$1" | tr . ,; }
vi_num() { LC_ALL=C printf "%${2:-}.2f" "$1" | tr . ,; }
api() {
	curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/indices?survey=sipas-2023&$1" >"$tmp/api.json"
}
text_of() { sed -n "s/.*id=\"$1\">\([^<]*\)<.*/\1/p" "$tmp/body" | head -n 1; }
row_value() { grep -o "data-unit=\"$1\">.*" "$tmp/body" | sed -n 's/.*class="value">\([^<]*\)<.*/\1/p' | head -n 1; }

# --- without a session --------------------------------------------------
is "$(page /dashboard)" 303 "GET /dashboard without a session: 303"
case "$(header Location)" in /login\?next=*) tap 0 "to /login with next=" ;; *) tap 1 "to /login (got $(header Location))" ;; esac
is "$(page '/dashboard?unit=P01')" 303 "a deep link without a session: 303 too"
is "$(page /login)" 200 "GET /login: 200"
grep -q 'name="token"' "$tmp/body"
tap $? "the login page has a token field"
grep -q "Content-Security-Policy: default-src 'none'" "$tmp/headers"
tap $? "the login page has the CSP header"
is "$(login nonsense)" 401 "an unknown token: 401 and the form again"
is "$(login "$COLLECTOR")" 401 "a collector token cannot sign in"
[ ! -s "$C" ] || ! grep -q sipas_session "$C"
tap $? "no session cookie after the refusals"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'Origin: http://evil.example' --data-urlencode "token=$VIEWER_U001" "$URL/login")" 403 \
	"a login posted from another origin: 403"

# Login CSRF: the form's token is bound to the cookie of the browser that
# got the form, and the post must say it comes from this site.
rm -f "$C"
is "$(page /login)" 200 "GET /login ..."
csrf=$(csrf_of "$tmp/body")
[ -n "$csrf" ] && grep -q 'sipas_login' "$C"
tap $? "... a csrf field and its sipas_login cookie (Path=/login)"
grep -qi '^Referrer-Policy: same-origin' "$tmp/headers"
tap $? "... and Referrer-Policy same-origin, so that its post carries the real Origin"
is "$(raw_login "$VIEWER_U001" "$csrf")" 403 "a login without Origin nor Sec-Fetch-Site: 403"
is "$(raw_login "$VIEWER_U001" "$csrf" -H 'Origin: null')" 403 "a login with Origin: null (a sandboxed frame): 403"
is "$(raw_login "$VIEWER_U001" "$csrf" -H 'Sec-Fetch-Site: cross-site')" 403 "a login with Sec-Fetch-Site: cross-site: 403"
is "$(raw_login "$VIEWER_U001" "$csrf" -H "Origin: $URL" -H 'Sec-Fetch-Site: same-site')" 403 "a login with Sec-Fetch-Site: same-site: 403"
is "$(raw_login "$VIEWER_U001" "" -H "Origin: $URL")" 403 "a login without the csrf token: 403"
grep -q 'name="csrf"' "$tmp/body"
tap $? "... and the form again, with a fresh token"
# A token another client fetched (an attacker's server) is no good without
# the cookie that came with it.
other=$(curl -s "$URL/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
is "$(raw_login "$VIEWER_U001" "$other" -H "Origin: $URL")" 403 "a csrf token of another browser's form: 403"
! grep -q sipas_session "$C"
tap $? "no session cookie after these refusals"
page /login >/dev/null
is "$(raw_login "$VIEWER_U001" "$(csrf_of "$tmp/body")" -H 'Origin: null' -H 'Sec-Fetch-Site: same-origin')" 303 \
	"Sec-Fetch-Site: same-origin with Origin null and the token: 303"
rm -f "$C"
wait_log 'session cookies without Secure: plain HTTP on the loopback address 127\.0\.0\.1:'
tap $? "session_cookie_secure = 0 on 127.0.0.1: the log says the cookies go without Secure"

# --- a viewer scoped to the district U001 ---------------------------------
is "$(login "$VIEWER_U001")" 303 "a district viewer signs in: 303"
is "$(header Location)" /start "to /start (the landing)"
cookie=$(tr -d '\r' <"$tmp/headers" | sed -n 's/^Set-Cookie: //Ip' | grep '^sipas_session=')
case "$cookie" in sipas_session=sip_*"; Path=/; Max-Age=28800; HttpOnly; SameSite=Strict") tap 0 "the cookie: HttpOnly, SameSite=Strict, Max-Age" ;;
*) tap 1 "the cookie (got '$cookie')" ;; esac
is "$(page /dashboard)" 200 "GET /dashboard: 200"
is "$(sed -n 's/.*<h1 id="unit" data-unit="\([^"]*\)".*/\1/p' "$tmp/body")" U001 "defaults to the viewer's top unit"
grep -q 'name="from" value="2025-01-01".*' "$tmp/body" && grep -q 'name="to" value="2025-03-31"' "$tmp/body"
tap $? "defaults to the latest closed quarter (2025-Q1, report_today 2025-04-10)"
grep -q "Content-Security-Policy: default-src 'none'" "$tmp/headers"
tap $? "the dashboard has the CSP header"
cp "$tmp/body" "$tmp/u001.html"

api "unit=U001&from=2025-01-01&to=2025-03-31&children=1"
cp "$tmp/api.json" "$tmp/u001.json"
v=$(jq -r '.units[] | select(.unit == "U001") | .overall.value' "$tmp/api.json")
is "$(text_of overall-value)" "$(vi_pct "$v")" "the overall index equals the API's ($v)"
lo=$(jq -r '.units[] | select(.unit == "U001") | .overall.ci_low' "$tmp/api.json")
hi=$(jq -r '.units[] | select(.unit == "U001") | .overall.ci_high' "$tmp/api.json")
n=$(jq -r '.units[] | select(.unit == "U001") | .overall.n' "$tmp/api.json")
is "$(text_of overall-ci)" "Khoảng tin cậy 95 %: $(vi_num "$lo") – $(vi_num "$hi")" "its interval equals the API's"
is "$(text_of overall-n)" "n = $n" "its n equals the API's ($n)"
for c in C011 C012; do
	v=$(jq -r --arg u $c '.units[] | select(.unit == $u) | .overall.value' "$tmp/api.json")
	is "$(row_value $c)" "$(vi_pct "$v")" "the ranked child $c equals the API's ($v)"
done
g=$(jq -r '.units[] | select(.unit == "U001") | .groups[] | select(.code == "POL") | .value' "$tmp/api.json")
is "$(grep -o 'data-code="POL">.*' "$tmp/body" | sed -n 's/.*class="value">\([^<]*\)<.*/\1/p' | head -n 1)" "$(vi_pct "$g")" \
	"the aspect POL equals the API's"
first=$(grep -o '<tr class="[a-z]*" data-unit="C01[12]"' "$tmp/body" | head -n 1 | sed 's/.*data-unit="\(....\)"/\1/')
best=$(jq -r '[.units[] | select(.unit != "U001")] | max_by(.overall.value) | .unit' "$tmp/api.json")
is "$first" "$best" "the ranking is sorted (the best child first)"
api "unit=U001&from=2024-10-01&to=2024-12-31"
pv=$(jq -r '.units[0].overall.value' "$tmp/api.json")
cv=$(jq -r '.units[] | select(.unit == "U001") | .overall.value' "$tmp/u001.json")
diff=$(awk -v a="$cv" -v b="$pv" 'BEGIN { printf "%+.2f", a - b }' | tr . ,)
grep -q "id=\"overall-change\">So với kỳ trước (Quý IV/2024): <strong class=\"[a-z]*\">$diff điểm %</strong>" "$tmp/body"
tap $? "the change from the previous quarter is the difference of the API values ($diff)"
grep -q '<svg class="chart ranking"' "$tmp/body" && grep -q '<svg class="chart trend"' "$tmp/body" &&
	[ "$(grep -c '<svg class="dist"' "$tmp/body")" = 39 ]
tap $? "the ranking, the trend and 39 distribution bars are drawn as SVG"
grep -q 'id="trend-slope"' "$tmp/body"
tap $? "the trend has its weighted slope"

# A child without any response (C013): in the table, greyed, n = 0; no bar.
grep -q '<tr class="few empty" data-unit="C013"><td class="rank"></td><td class="unit"><a [^>]*>Xã Ba</a></td><td data-label="Chỉ số" class="value">–</td><td data-label="Khoảng tin cậy" class="ci">–</td><td data-label="n" class="n">0</td><td data-label="So với cấp trên" class="flag">Chưa có phiếu</td></tr>' "$tmp/body"
tap $? "C013 without responses is listed, greyed, n = 0, 'Chưa có phiếu'"
grep -o 'data-unit="C01[123]"' "$tmp/body" | grep -n . | tail -n 1 | grep -q '^3:data-unit="C013"$'
tap $? "... after the ranked communes"
chart() { sed -n '/<svg class="chart ranking"/,/<\/svg>/p' "$tmp/body"; }
[ "$(chart | grep -c 'unit=C013')" = 0 ] && [ "$(chart | grep -c '<rect class="bar')" = 2 ]
tap $? "C013 is not in the bar chart (2 bars: C011, C012)"

# The channel filter: every number from the channel's responses only.
for ch in paper web kiosk; do
	Q="unit=U001&from=2025-01-01&to=2025-03-31&channel=$ch"
	is "$(page "/dashboard?$Q")" 200 "channel=$ch: 200"
	api "$Q&children=1"
	v=$(jq -r '.units[] | select(.unit == "U001") | .overall.value' "$tmp/api.json")
	n=$(jq -r '.units[] | select(.unit == "U001") | .overall.n' "$tmp/api.json")
	is "$(text_of overall-value) $(text_of overall-n)" "$(vi_pct "$v") n = $n" \
		"channel=$ch: the overall index and n equal the API's with channel=$ch ($v, $n)"
	v=$(jq -r '.units[] | select(.unit == "C011") | .overall.value' "$tmp/api.json")
	is "$(row_value C011)" "$(vi_pct "$v")" "channel=$ch: C011 in the ranking equals the API's"
	grep -q "<option value=\"$ch\" selected>" "$tmp/body"
	tap $? "channel=$ch: selected in the filter form"
	cp "$tmp/body" "$tmp/u001-$ch.html"
done
is "$(grep -o 'href="/dashboard?[^"]*"' "$tmp/u001-kiosk.html" | grep -vc 'channel=kiosk')" 0 \
	"channel=kiosk: every link of the page keeps channel=kiosk (drill-down, language)"
grep -q '<a href="/dashboard?[^"]*unit=C011[^"]*channel=kiosk[^"]*">Xã Một</a></td>' "$tmp/u001-kiosk.html"
tap $? "channel=kiosk: the drill-down to C011 keeps the channel"
is "$(grep -c '<tr class="few empty" data-unit="C01[23]">' "$tmp/u001-kiosk.html") $(grep -c '<rect class="bar' "$tmp/u001-kiosk.html")" "2 1" \
	"channel=kiosk: C012 and C013 have no kiosk response (listed, greyed), one bar"
api "unit=U001&from=2024-10-01&to=2024-12-31&channel=web"
pv=$(jq -r '.units[0].overall.value' "$tmp/api.json")
api "unit=U001&from=2025-01-01&to=2025-03-31&channel=web"
cv=$(jq -r '.units[0].overall.value' "$tmp/api.json")
diff=$(awk -v a="$cv" -v b="$pv" 'BEGIN { printf "%+.2f", a - b }' | tr . ,)
grep -q "id=\"overall-change\">So với kỳ trước (Quý IV/2024): <strong class=\"[a-z]*\">$diff điểm %</strong>" "$tmp/u001-web.html"
tap $? "channel=web: the change is against the previous quarter's web responses ($diff)"
api "unit=U001&from=2024-07-01&to=2024-09-30&channel=paper"
n=$(jq -r '.units[0].overall.n' "$tmp/api.json")
grep -q "<tr><th scope=\"row\">Quý III/2024</th>.*<td class=\"n\">$n</td></tr>" "$tmp/u001-paper.html"
tap $? "channel=paper: the trend's Quý III/2024 has the paper n ($n)"
grep -q '<tr><th scope="row">Quý III/2024</th><td class="value">–</td><td class="ci">–</td><td class="n">0</td></tr>' "$tmp/u001-kiosk.html"
tap $? "channel=kiosk: the trend before the kiosk responses is empty (n = 0)"
is "$(page '/dashboard?unit=C011&from=2025-01-01&to=2025-03-31&channel=kiosk')" 200 "drill-down to C011 with channel=kiosk: 200"
grep -q '<li><a href="[^"]*unit=U001[^"]*channel=kiosk[^"]*" data-unit="U001">Huyện Một</a></li>' "$tmp/body"
tap $? "the breadcrumb keeps channel=kiosk"
grep -q '<a id="lang" href="[^"]*channel=kiosk&amp;lang=en"' "$tmp/body"
tap $? "the English switch keeps channel=kiosk"
is "$(text_of overall-n)" "n = 12" "C011 with channel=kiosk: n = 12"
is "$(page '/dashboard?unit=U001&channel=fax')" 422 "an unknown channel: 422"
grep -q 'Kênh không hợp lệ' "$tmp/body"
tap $? "... with the reason"
is "$(page '/dashboard?unit=U001&from=2025-01-01&to=2025-03-31&channel=')" 200 "channel= (all channels, as the form sends it): 200"
grep -q '<option value="" selected>Tất cả các kênh</option>' "$tmp/body" && ! grep -q 'channel=' <(grep -o 'href="/dashboard?[^"]*"' "$tmp/body")
tap $? "... all channels selected, the links without channel"

# The respondent filter: every number from the matching respondents only.
for f in "respondent.gender=f" "respondent.gender=m&respondent.age_band=35-49" "respondent.age_band=65%2B&channel=web"; do
	Q="unit=U001&from=2025-01-01&to=2025-03-31&$f"
	is "$(page "/dashboard?$Q")" 200 "$f: 200"
	api "$Q&children=1"
	v=$(jq -r '.units[] | select(.unit == "U001") | .overall.value' "$tmp/api.json")
	n=$(jq -r '.units[] | select(.unit == "U001") | .overall.n' "$tmp/api.json")
	if [ "$n" -ge 10 ]; then
		is "$(text_of overall-value) $(text_of overall-n)" "$(vi_pct "$v") n = $n" \
			"$f: the overall index and n equal the API's with the same filter ($v, $n)"
	else
		is "$(text_of overall-value) $(text_of overall-n)" "– n = $n" \
			"$f: U001 (n = $n < 10, the API's n with the same filter) shows no number"
	fi
	for c in C011 C012; do
		cn=$(jq -r --arg u $c '.units[] | select(.unit == $u) | .overall.n' "$tmp/api.json")
		if [ "${cn:-0}" -ge 10 ]; then
			v=$(jq -r --arg u $c '.units[] | select(.unit == $u) | .overall.value' "$tmp/api.json")
			is "$(row_value $c)" "$(vi_pct "$v")" "$f: $c in the ranking equals the API's (n = $cn)"
		else
			is "$(row_value $c)" "–" "$f: $c (n = ${cn:-0} < 10) shows no number"
		fi
	done
	api "unit=U001&from=2024-07-01&to=2024-09-30&$f"
	n=$(jq -r '.units[0].overall.n // 0' "$tmp/api.json")
	grep -q "<tr><th scope=\"row\">Quý III/2024</th>.*<td class=\"n\">$n</td></tr>" "$tmp/body"
	tap $? "$f: the trend's Quý III/2024 has the filtered n ($n)"
	k=${f%%&*}
	k=${k//+/%2B}
	is "$(grep -o 'href="/dashboard?[^"]*"' "$tmp/body" | grep -vc "${k//./\\.}")" 0 "$f: every link of the page keeps $k"
	grep -q 'id="respondent-note"' "$tmp/body" && grep -q 'id="respondent">' "$tmp/body"
	tap $? "$f: the page names the filter and says it reads raw responses"
done
cp "$tmp/body" "$tmp/u001-65.html"
grep -q '<option value="65+" selected>Từ 65 tuổi</option>' "$tmp/u001-65.html" &&
	grep -q '<option value="" selected>Tất cả</option>' "$tmp/u001-65.html" &&
	grep -q '<option value="web" selected>' "$tmp/u001-65.html"
tap $? "the form selects the age band, all genders and the channel"
grep -q '<a href="/dashboard?[^"]*unit=C011[^"]*channel=web&amp;respondent.age_band=65%2B[^"]*">Xã Một</a></td>' "$tmp/u001-65.html"
tap $? "the drill-down to C011 keeps the channel and the age band"
page "/dashboard?unit=U001&from=2025-01-01&to=2025-03-31&respondent.gender=f&lang=en" >/dev/null
grep -q '<select name="respondent.gender">' "$tmp/body" && grep -q '<option value="f" selected>Female</option>' "$tmp/body" &&
	grep -q '<option value="35-49">35–49</option>' "$tmp/body"
tap $? "lang=en: the gender and age selects in English"
# A group below dashboard_min_n: C011's 5 kiosk responses of women.
is "$(page '/dashboard?unit=C011&from=2025-01-01&to=2025-03-31&channel=kiosk&respondent.gender=f')" 200 "C011, kiosk, women (n = 5): 200"
is "$(text_of overall-value) $(text_of overall-n)" "– n = 5" "the overall shows no number, only n = 5 < dashboard_min_n"
grep -q 'id="overall-few"' "$tmp/body"
tap $? "... and says the group is too small"
is "$(grep -c 'class="value">[0-9]' "$tmp/body") $(grep -c '<svg class="dist"' "$tmp/body")" "0 0" \
	"no value anywhere on the page (groups, items, trend), no distribution"
grep -q '<tr><th scope="row">Quý I/2025</th><td class="value">–</td><td class="ci">–</td><td class="n">5</td></tr>' "$tmp/body"
tap $? "the trend's Quý I/2025 shows n = 5 and no number"
is "$(page '/dashboard?unit=C011&from=2025-01-01&to=2025-03-31&channel=kiosk')" 200 "without the filter ..."
[ "$(grep -c 'class="value">[0-9]' "$tmp/body")" -gt 0 ]
tap $? "... the same 12 kiosk responses show their numbers (the rule is for subgroups)"
is "$(page '/dashboard?unit=U001&respondent.Gender=f')" 422 "a bad respondent field: 422"
grep -q 'Bộ lọc người trả lời không hợp lệ' "$tmp/body"
tap $? "... with the reason"
# A decoded newline in a logged parameter cannot forge a log line.
page '/dashboard?unit=U001&respondent.a%0a2026-12-04T00:00:00.000Z%20info%20%20%5Br1%5D%20login:%20admin%20session%1b%7f=f' >/dev/null
wait_log 'dashboard: "respondent\.a\\n2026-12-04T00:00:00\.000Z info  \[r1\] login: admin session\\x1b\\x7f"'
tap $? "a %0a, %1b, %7f in a parameter are logged as \\n, \\x1b, \\x7f, the parameter quoted"
! grep -q '^2026-12-04T00:00:00' "$SIPASD_LOG" && ! grep -q "$(printf '\033')" "$SIPASD_LOG"
tap $? "... and no forged line in the log"
is "$(page '/dashboard?unit=U001&from=2025-01-01&to=2025-03-31&respondent.gender=&respondent.age_band=')" 200 \
	"respondent.gender= (all, as the form sends it): 200"
! grep -q 'respondent\.' <(grep -o 'href="/dashboard?[^"]*"' "$tmp/body") && ! grep -q 'id="respondent">' "$tmp/body"
tap $? "... no filter, the links without it"
is "$(page '/dashboard?unit=U001&from=2025-01-01&to=2025-03-31&respondent.district_code=x%22%3E%3Cb%3E')" 422 "a respondent field the form does not ask: 422"
! grep -q '&lt;b&gt;\|<b>' "$tmp/body"
tap $? "... and its value is not shown"
is "$(page '/dashboard?unit=U001&respondent.comment=Xin%20ch%C3%A0o')" 422 "a free-text field (comment): 422"
is "$(page '/dashboard?unit=U001&respondent.gender=x')" 422 "a gender that is not one of the form's: 422"

# Scope: the district viewer sees its subtree and nothing else.
is "$(page '/dashboard?unit=C011')" 200 "drill-down to the commune C011: 200"
grep -q '<li><a href="[^"]*unit=U001[^"]*" data-unit="U001">Huyện Một</a></li>' "$tmp/body"
tap $? "the breadcrumb leads back to U001"
! grep -q 'data-unit="P01"' "$tmp/body"
tap $? "the breadcrumb stops at the viewer's top unit"
is "$(page '/dashboard?unit=P01')" 403 "the province: 403"
is "$(page '/dashboard?unit=U002')" 403 "a sibling district: 403"
cp "$tmp/body" "$tmp/sibling"
is "$(page '/dashboard?unit=NOPE')" 403 "an unknown unit: 403, as for a unit not its own"
cmp -s "$tmp/body" "$tmp/sibling"
tap $? "... the very same page"
is "$(page '/dashboard?from=2025-02-01')" 400 "from without to: 400"
# Days outside 1900-01-01..9999-12-30: an error page naming the parameter.
is "$(page '/dashboard?unit=U001&from=2025-01-01&to=9999-12-31&lang=en')" 422 "to=9999-12-31: 422"
grep -q '<p>to: give a day YYYY-MM-DD from 1900-01-01 to 9999-12-30.</p>' "$tmp/body"
tap $? "... a page naming to and the range"
is "$(page '/dashboard?unit=U001&from=1899-12-31&to=2025-03-31')" 422 "from=1899-12-31: 422"
grep -q '<p>from: nhập một ngày YYYY-MM-DD từ 1900-01-01 đến 9999-12-30.</p>' "$tmp/body"
tap $? "... a page naming from, in Vietnamese"
is "$(page '/dashboard?unit=U001&from=1950-01-01&to=2025-12-31&lang=en')" 422 \
	"from=1950-01-01&to=2025-12-31 (previous period before 1900): 422"
grep -q '<p>from: the previous period of equal length would start before 1900-01-01.</p>' "$tmp/body"
tap $? "... a page naming from"
is "$(page '/dashboard?unit=U001&from=9999-10-01&to=9999-12-30')" 200 "to=9999-12-30, the last supported day: 200"
is "$(page '/dashboard?unit=U001&from=1900-04-01&to=1900-06-30')" 200 \
	"1900-Q2 (the previous quarter the first supported one, the trend older): 200"

# English.
page '/dashboard?unit=U001&from=2025-01-01&to=2025-03-31&lang=en' >/dev/null
v=$(jq -r '.units[] | select(.unit == "U001") | .overall.value' "$tmp/u001.json")
is "$(text_of overall-value)" "$(LC_ALL=C printf '%.2f%%' "$v")" "lang=en: 87.53% style"
grep -q '<html lang="en">' "$tmp/body"
tap $? "lang=en: the page is in English"

# Logout ends the session.
old=$(grep sipas_session "$C" | awk '{ print $7 }')
logout_csrf=$(csrf_of "$tmp/body")
[ -n "$logout_csrf" ] && grep -q '<form method="post" action="/logout"><input type="hidden" name="csrf"' "$tmp/body"
tap $? "the page's sign-out form carries the session's csrf token"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' "$URL/logout")" 405 "GET /logout (a link or an image of another site): 405"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' -H "Origin: $URL" -X POST "$URL/logout")" 403 "POST /logout without the token: 403"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' -H "Origin: $URL" --data-urlencode "csrf=x$logout_csrf" "$URL/logout")" 403 "POST /logout with a wrong token: 403"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' --data-urlencode "csrf=$logout_csrf" "$URL/logout")" 403 "POST /logout without Origin: 403"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' -H 'Sec-Fetch-Site: cross-site' -H 'Origin: http://evil.example' --data-urlencode "csrf=$logout_csrf" "$URL/logout")" 403 \
	"POST /logout from another site with the token: 403"
is "$(page '/dashboard?unit=U001')" 200 "the session still opens the dashboard after the refused sign-outs"
is "$(curl -s -b "$C" -c "$C" -o /dev/null -D "$tmp/headers" -w '%{http_code}' -H "Origin: $URL" --data-urlencode "csrf=$logout_csrf" "$URL/logout")" 303 "POST /logout with the token from this site: 303"
is "$(header Location)" /login "to /login"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: sipas_session=$old" "$URL/dashboard")" 303 \
	"the old session id no longer opens the dashboard"

# --- a national viewer at the province ------------------------------------
rm -f "$C"
is "$(login "$VIEWER" "/dashboard?unit=P01&from=2025-01-01&to=2025-03-31")" 303 "a national viewer signs in with next="
is "$(header Location)" "/dashboard?unit=P01&from=2025-01-01&to=2025-03-31" "back to the page asked for"
is "$(login "$VIEWER" "https://evil.example/")" 303 "next= to another site ..."
is "$(header Location)" "/start" "... is ignored"
is "$(page '/dashboard?unit=P01&from=2025-01-01&to=2025-03-31')" 200 "the province page: 200"
api "unit=P01&from=2025-01-01&to=2025-03-31&children=1"
for c in U001 U002 U003 U004; do
	v=$(jq -r --arg u $c '.units[] | select(.unit == $u) | .overall.value' "$tmp/api.json")
	is "$(row_value $c)" "$(vi_pct "$v")" "province ranking: $c equals the API's"
done
n5=$(jq -r '.units[] | select(.unit == "U005") | .overall.n' "$tmp/api.json")
grep -q "<tr class=\"few\" data-unit=\"U005\"><td class=\"rank\"></td><td class=\"unit\"><a [^>]*>Huyện Năm</a></td><td data-label=\"Chỉ số\" class=\"value\">–</td><td data-label=\"Khoảng tin cậy\" class=\"ci\">–</td><td data-label=\"n\" class=\"n\">$n5</td>" "$tmp/body"
tap $? "U005 (n = $n5 < 10) is greyed with its n and no number"
flags=$(grep -o '<tr class="\(above\|within\|below\)" data-unit="U00[1-4]"' "$tmp/body" | wc -l)
is "$flags" 4 "the four ranked districts are flagged above/within/below"
# The flags are Holm-adjusted: a district flagged above or below has an
# adjusted p < 0.05 against the province, computed here from the API numbers.
pv=$(jq -r '.units[] | select(.unit == "P01") | .overall.value' "$tmp/api.json")
want=$(jq -r '.units[] | select(.unit | test("^U00[1-4]$")) | "\(.unit) \(.overall.value) \(.overall.se)"' "$tmp/api.json" |
	awk -v pv="$pv" '{ u[NR] = $1; v[NR] = $2; z[NR] = ($2 - pv) / $3; if (z[NR] < 0) z[NR] = -z[NR] } END {
		# normal tail for large df (the districts have hundreds of respondents)
		for (i = 1; i <= NR; i++) p[i] = erfc(z[i] / sqrt(2))
		m = NR; for (i = 1; i <= m; i++) o[i] = i
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (p[o[j]] < p[o[i]]) { t = o[i]; o[i] = o[j]; o[j] = t }
		run = 0; for (k = 1; k <= m; k++) { a = (m - k + 1) * p[o[k]]; if (a > run) run = a; adj[o[k]] = run > 1 ? 1 : run }
		for (i = 1; i <= m; i++) printf "%s %s\n", u[i], (adj[i] >= 0.05 ? "within" : (v[i] > pv ? "above" : "below")) }
		function erfc(x,  t, y) { t = 1 / (1 + 0.5 * x); y = t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))); return y }' | sort)
got=$(grep -o '<tr class="\(above\|within\|below\)" data-unit="U00[1-4]"' "$tmp/body" | sed 's/<tr class="\([a-z]*\)" data-unit="\(....\)"/\2 \1/' | sort)
is "$got" "$want" "the ranking flags follow the Holm-adjusted p-values of the API's numbers"
api_rank=$(jq -r '.ranking.children[] | select(.ranked) | "\(.unit) \(.flag)"' "$tmp/api.json" | sort)
is "$api_rank" "$got" "GET /api/v1/indices?children=1 gives the same flags in its ranking"
jq -e '.ranking.adjustment == "holm" and (.ranking.children | map(select(.ranked)) | length == 4 and all(.p_holm >= .p and .p_holm <= 1)) and (.ranking.children[] | select(.unit == "U005") | .ranked == false and .p == null and .flag == "none")' "$tmp/api.json" >/dev/null
tap $? "the API keeps each raw p-value next to the adjusted one; U005 (too few) is not in the family"
grep -q 'Vì so sánh nhiều cặp cùng lúc, giá trị p của mỗi bảng được hiệu chỉnh theo phương pháp Holm' "$tmp/body"
tap $? "the page says in one sentence that the flags are adjusted (Holm)"
grep -q '<p class="note" id="ci-meaning">Khoảng tin cậy 95 %: nếu khảo sát lặp lại nhiều lần' "$tmp/body"
tap $? "one sentence says what the 95 % interval means"
grep -q '<p class="note" id="design">Thiết kế mẫu: Đơn giản: mọi phiếu có trọng số 1, không phân tầng, không chọn cụm</p>' "$tmp/body"
tap $? "the design is shown with its reason"
grep -q '<span id="period">Quý I/2025</span>' "$tmp/body"
tap $? "the period is named Quý I/2025"
! grep -q '/api/v1/indices\|[0-9]-Q[1-4]\|-0,00' "$tmp/body"
tap $? "no API path, no ISO quarter code, no -0,00 on the page"
nq=$(grep -o '<tr><th scope="row">Quý [IV]*/[0-9]*</th><td class="value">[0-9]' "$tmp/body" | wc -l)
if [ "$nq" -ge 3 ]; then grep -q 'id="trend-slope"' "$tmp/body" && ! grep -q 'id="trend-none"' "$tmp/body"
else grep -q "id=\"trend-none\">Chưa tính xu hướng: cần ít nhất 3 kỳ có số liệu, hiện có $nq kỳ." "$tmp/body" && ! grep -q 'id="trend-slope"' "$tmp/body"; fi
tap $? "the trend has a slope only with 3 quarters with data ($nq here)"
# The responses start in 2023-04: at Quý III/2023 two quarters have data.
is "$(page '/dashboard?unit=P01&from=2023-07-01&to=2023-09-30')" 200 "Quý III/2023: 200"
grep -q 'id="trend-none">Chưa tính xu hướng: cần ít nhất 3 kỳ có số liệu, hiện có 2 kỳ.</p>' "$tmp/body" &&
	! grep -q 'id="trend-slope"' "$tmp/body"
tap $? "two quarters with data: a sentence instead of a slope"
is "$(page '/dashboard?unit=P01&from=2025-01-01&to=2025-06-30&lang=en')" 200 "H1 2025 in English: 200"
grep -q '<span id="period">H1 2025</span>' "$tmp/body" && grep -q 'Against the previous period (H2 2024)' "$tmp/body" &&
	grep -q '<tr><th scope="row">Q1 2025</th>' "$tmp/body"
tap $? "English: H1 2025, the previous period H2 2024, quarters as Q1 2025"

# A revoked token ends its sessions at the next check (token_ttl = 0).
sql "UPDATE tokens SET revoked_at = now() WHERE name = 't-viewer'" >/dev/null
is "$(page '/dashboard?unit=P01')" 303 "after the token is revoked the session ends"

# Without session_cookie_secure every cookie is Secure, and the log says so.
sipasd_stop
tap $? "sipasd stops cleanly"
sipasd_start "report_today = 2025-04-10"
wait_log 'session cookies are Secure'
tap $? "by default the log says the session cookies are Secure"
page /login >/dev/null
tr -d '\r' <"$tmp/headers" | grep -qi '^Set-Cookie: sipas_login=sip_[^;]*; Path=/login; Max-Age=[0-9]*; HttpOnly; SameSite=Strict; Secure$'
tap $? "... and the login form's cookie carries Secure"
rm -f "$C"
curl -s -o "$tmp/login.html" -D "$tmp/headers" -c "$C" "$URL/login"
curl -s -b "sipas_login=$(awk '$6 == "sipas_login" { print $7 }' "$C")" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -H "Origin: $URL" \
	--data-urlencode "token=$VIEWER_U001" --data-urlencode "csrf=$(csrf_of "$tmp/login.html")" "$URL/login" >/dev/null
tr -d '\r' <"$tmp/headers" | grep -qi '^Set-Cookie: sipas_session=sip_[^;]*; Path=/; Max-Age=28800; HttpOnly; SameSite=Strict; Secure$'
tap $? "... and so does the session cookie"
sipasd_stop
tap $? "sipasd stops cleanly"
log_clean
finish
