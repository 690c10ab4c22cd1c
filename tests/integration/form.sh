#!/usr/bin/env bash
# form.sh: the citizen web form, the kiosk and the static assets of sipasd
# over plain HTTP (curl) against a real PostgreSQL: the pages, the stored rows
# (channel web / kiosk), replays, validation errors shown next to the item,
# the token (CSRF), the honeypot, the one-per-day cookie, the rate limit, the
# caching headers and the poster. docs/form.md.
set -u
. "$(dirname "$0")/daemon_lib.sh"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"

sipasd_start "form_secret = \"test-secret-0123456789\"" "form_one_per_day = 1" \
	"form_rate_limit = 40" "kiosk_rate_limit = 0" "kiosk_reset = 3"

# page PATH: GET a page; status printed, body in $tmp/body.
page() { curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$URL$1"; }
# form_post PATH FIELDS...: POST urlencoded fields (each -d "k=v").
form_post() {
	local path=$1
	shift
	curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$@" "$URL$path"
}
# The token of the last page.
token_of() { sed -n 's/.*name="token" value="\([^"]*\)".*/\1/p' "$tmp/body" | head -n 1; }
has() { grep -q -- "$1" "$tmp/body"; }
header() { tr -d '\r' <"$tmp/headers" | sed -n "s/^$1: //Ip" | head -n 1; }

F=/f/sipas-2023/U001
is "$(page $F)" 200 "GET the form: 200"
has '<html lang="vi">'; tap $? 'lang="vi"'
has 'Huyện Một'; tap $? "the unit's name is on the page"
has 'Chỉ số hài lòng'; tap $? "the survey's Vietnamese title"
is "$(grep -c 'type="radio" name="Q9_' "$tmp/body")" $((39 * 5)) "39 items with 5 radio buttons each"
is "$(grep -c '<label for="Q9_1-' "$tmp/body")" 5 "each radio button has a label tied to it"
is "$(grep -c '<legend>' "$tmp/body")" "$(($(grep -c '<fieldset' "$tmp/body")))" "every fieldset has a legend"
has 'name="comment"'; tap $? "a comment box"
has 'name="gender"'; tap $? "optional demographics"
is "$(header Content-Type)" "text/html; charset=utf-8" "Content-Type text/html"
header Content-Security-Policy | grep -q "default-src 'none'"; tap $? "a strict Content-Security-Policy"
TOKEN=$(token_of)
[ -n "$TOKEN" ]; tap $? "the form carries a token"

is "$(page "$F?lang=en")" 200 "GET ?lang=en: 200"
has '<html lang="en">'; tap $? 'lang="en"'
has 'Very satisfied'; tap $? "English scale labels"
is "$(page /f/sipas-2023/NOPE)" 404 "an unknown unit: 404 page"
has 'Không tìm thấy'; tap $? "a Vietnamese 404 page"
is "$(page /f/nope/U001)" 404 "an unknown survey: 404"
is "$(page /f/sipas-2023)" 404 "a path without a unit: 404"

# A full, valid post: every item 4, expectations none, demographics, comment.
args=(-d "token=$TOKEN" -d lang=vi -d website= -d gender=f -d age_band=35-49 \
	--data-urlencode "comment=Cán bộ rất nhiệt tình <b>&amp;</b>")
for i in $(seq 1 39); do args+=(-d "Q9_$i=4"); done
is "$(form_post $F "${args[@]}")" 200 "POST a valid form: 200 thank-you page"
has 'Cảm ơn'; tap $? "the thank-you page says Cảm ơn"
NONCE=$(echo "$TOKEN" | cut -d. -f2)
is "$(sql "SELECT channel || ' ' || unit || ' ' || (answers->>'Q9_17') || ' ' || (respondent->>'gender') || ' ' || (respondent->>'age_band') FROM responses WHERE source_id = 'web-$NONCE'")" \
	"web U001 4 f 35-49" "the row is stored with channel web"
is "$(sql "SELECT respondent->>'comment' FROM responses WHERE source_id = 'web-$NONCE'")" \
	"Cán bộ rất nhiệt tình <b>&amp;</b>" "the comment is stored as typed"
header Set-Cookie | grep -q '^sipas_done_U001=[0-9]\{8\}; Max-Age=86400; Path=/f/; HttpOnly'
tap $? "the one-per-day cookie is set"
is "$(form_post $F "${args[@]}")" 200 "the same form sent again: 200 (a replay)"
is "$(sql "SELECT count(*) FROM responses WHERE source_id = 'web-$NONCE'")" 1 "still one row"
COOKIE="sipas_done_U001=$(TZ=Asia/Ho_Chi_Minh date +%Y%m%d)"
is "$(page $F -b "$COOKIE")" 200 "GET the form with the cookie"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -b "$COOKIE" "$URL$F")" 429 "with the day's cookie: 429"
has 'đã gửi phiếu hôm nay'; tap $? "a clear 'already answered today' page"

# Validation: missing answers and a value off the scale, answers kept.
page $F >/dev/null
TOKEN=$(token_of)
args=(-d "token=$TOKEN" -d Q9_1=5 -d Q9_2=9 -d gender=x)
is "$(form_post $F "${args[@]}")" 422 "POST with problems: 422"
has 'id="e-Q9_2"'; tap $? "the bad value is marked next to its item"
has 'id="e-Q9_3"'; tap $? "a missing answer is marked next to its item"
grep -q 'id="Q9_1-5" value="5" checked' "$tmp/body"; tap $? "the given answers are kept"
has 'href="#q-Q9_3"'; tap $? "the summary links to the item"
is "$(sql "SELECT count(*) FROM responses WHERE source_id = 'web-$(echo "$TOKEN" | cut -d. -f2)'")" 0 "nothing stored"

# The token: missing, forged, for another unit.
is "$(form_post $F -d Q9_1=5)" 403 "no token: 403, the form again"
has 'hết hạn hoặc'; tap $? "with a clear message"
grep -q 'id="Q9_1-5" value="5" checked' "$tmp/body"; tap $? "and the answers kept"
# The last character changed (to one it is not: a fixed one would be the
# token itself now and then).
last=${TOKEN: -1}
[ "$last" = 0 ] && forged=${TOKEN%?}1 || forged=${TOKEN%?}0
is "$(form_post $F -d "token=$forged" -d Q9_1=5)" 403 "a forged token: 403"
is "$(form_post /f/sipas-2023/U002 -d "token=$TOKEN" -d Q9_1=5)" 403 "another unit's token: 403"

# The honeypot.
page $F >/dev/null
is "$(form_post $F -d "token=$(token_of)" -d website=http://spam -d Q9_1=5)" 400 "the honeypot filled: 400"
has 'website'; tap $? "a clear honeypot page"

# The kiosk.
is "$(page /kiosk/U003)" 200 "GET the kiosk: 200"
is "$(grep -c 'class="choice c' "$tmp/body")" 3 "three big buttons"
has 'Rất hài lòng'; tap $? "the one-stop scale's labels"
KT=$(token_of)
is "$(form_post '/kiosk/U003?survey=onestop-tt01&lang=vi' -d "token=$KT" -d R1=3)" 200 "tap a button: thank-you page"
has 'http-equiv="refresh" content="3;url=/kiosk/U003'; tap $? "which returns to the question (meta refresh)"
is "$(sql "SELECT channel || ' ' || (answers->>'R1') FROM responses WHERE source_id = 'kiosk-$(echo "$KT" | cut -d. -f2)'")" \
	"kiosk 3" "the row is stored with channel kiosk"
is "$(form_post '/kiosk/U003' -d "token=$KT" -d R1=1)" 200 "a second tap on the same page: still thanks"
is "$(sql "SELECT count(*) FROM responses WHERE unit = 'U003' AND channel = 'kiosk'")" 1 "and the first tap counts"
is "$(page /kiosk/NOPE)" 404 "an unknown kiosk unit: 404"
is "$(form_post '/kiosk/U003' -d "token=$KT" -d R1=7)" 422 "a value off the scale: 422"

# Static assets: caching headers, 304.
V=$(sed -n 's/.*form\.css?v=\([0-9a-f]*\).*/\1/p' <(curl -s "$URL$F") | head -n 1)
is "$(page "/static/form.css?v=$V")" 200 "GET the stylesheet: 200"
is "$(header Cache-Control)" "public, max-age=31536000, immutable" "a versioned asset is cached for a year"
is "$(header ETag)" "\"$V\"" "its ETag is the version"
is "$(header Content-Type)" "text/css; charset=utf-8" "text/css"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"$V\"" "$URL/static/form.css")" 304 "If-None-Match: 304"
is "$(page /static/form.js)" 200 "the optional script: 200"
is "$(header Cache-Control)" "public, max-age=3600" "an unversioned asset: one hour"
is "$(page /static/nope.css)" 404 "an unknown asset: 404"
is "$(page $F)" 200 "the form page"
is "$(header Cache-Control)" "no-store" "pages are not cached"

# The rate limit (40 posts per window from one address).
st=
for i in $(seq 1 45); do
	st=$(form_post $F -d token=x)
	[ "$st" = 429 ] && break
done
is "$st" 429 "the per-address rate limit answers 429"
has 'Quá nhiều phiếu'; tap $? "with a clear page"
grep -qi '^Retry-After: 600' "$tmp/headers"; tap $? "and Retry-After"

# The poster.
"$SIPASCTL" --db "$DSN" poster --survey sipas-2023 --unit U001 --url https://sipas.example.vn -o "$tmp/p.pdf" >"$tmp/url"
tap $? "sipasctl poster writes a PDF"
is "$(cat "$tmp/url")" https://sipas.example.vn/f/sipas-2023/U001 "for the form's public URL"
head -c 5 "$tmp/p.pdf" | grep -q '%PDF-'; tap $? "a PDF file"
"$SIPASCTL" poster --survey onestop-tt01 --unit U001 --name "Xã Một" -o "$tmp/p.svg" >/dev/null && grep -q '<svg' "$tmp/p.svg"
tap $? "an SVG poster without the database (--name)"
"$SIPASCTL" poster --survey onestop-tt01 --unit U001 --name X -o "$tmp/p.png" >/dev/null && head -c 8 "$tmp/p.png" | grep -q PNG
tap $? "a PNG poster"
"$SIPASCTL" poster --survey onestop-tt01 --unit U001 --name X -o "$tmp/p.doc" 2>/dev/null
is $? 2 "an unknown extension is a usage error"
if command -v pdftotext >/dev/null; then
	pdftotext "$tmp/p.pdf" - | grep -q 'HL U001 a b c d e'
	tap $? "the poster has the SMS syntax"
	pdftotext "$tmp/p.pdf" - | grep -q 'Huyện Một'
	tap $? "and the unit's name in Vietnamese"
	"$SIPASCTL" --db "$DSN" poster --survey sipas-2023 --unit U001 \
		--sms-number '+84 912 000 777' -o "$tmp/n.pdf" >/dev/null &&
		pdftotext "$tmp/n.pdf" - | tr -s '\n ' '  ' | grep -q 'SMS tới số +84 912 000 777: HL U001'
	tap $? "--sms-number: the poster says which number to text, with the syntax"
	SIPAS_SMS_NUMBER=8077 "$SIPASCTL" --db "$DSN" poster --survey sipas-2023 \
		--unit U001 -o "$tmp/e.pdf" >/dev/null &&
		pdftotext "$tmp/e.pdf" - | grep -q 'SMS tới số 8077'
	tap $? "or SIPAS_SMS_NUMBER"
fi
"$SIPASCTL" poster --survey onestop-tt01 --unit U001 --name X --sms-number 80x7 \
	-o "$tmp/x.pdf" 2>"$tmp/err"
is $? 2 "--sms-number that is not a number: usage error"
grep -q "sms-number: '80x7' is not a phone number" "$tmp/err"; tap $? "naming the option and the value"

sipasd_stop
tap $? "sipasd stops cleanly"
log_clean
finish
