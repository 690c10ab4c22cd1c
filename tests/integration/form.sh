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

# The fields of the last page: its token, step and signed state.
field_of() { sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" "$tmp/body" | head -n 1 | sed 's/&amp;/\&/g'; }
# The item codes of the last page.
items_of() { grep -o 'type="radio" name="Q[0-9_]*"' "$tmp/body" | sed 's/.*name="\(.*\)"/\1/' | sort -u; }
# step_post NAV FIELDS...: post the last page's token, step and state with
# the button NAV and more fields; Next and Back follow their 303 (one GET).
step_post() {
	local nav=$1 follow=
	shift
	[ "$nav" = send ] || follow=-L
	form_post $F $follow -d "token=$(field_of token)" -d "step=$(field_of step)" \
		--data-urlencode "state=$(field_of state)" -d "nav=$nav" "$@"
}
# answer_page VALUE: the answers of every item of the last page.
answer_page() {
	local q
	for q in $(items_of); do printf -- '-d %s=%s ' "$q" "$1"; done
}

F=/f/sipas-2023/U001
is "$(page $F)" 200 "GET the form: 200"
has '<html lang="vi">'; tap $? 'lang="vi"'
has 'Huyện Một'; tap $? "the unit's name is on the page"
has 'Chỉ số hài lòng'; tap $? "the survey's Vietnamese title"
has 'thực hiện chính sách'; tap $? "the survey's own intro, about policies"
has 'Phần 1/10'; tap $? "a long survey in steps: part 1 of 10"
is "$(items_of | tr '\n' ' ')" "Q9_1 Q9_2 " "the first page asks the first aspect's items"
is "$(grep -c 'type="radio" name="Q9_1"' "$tmp/body")" 5 "with 5 radio buttons each"
grep -o 'type="radio" name="Q9_1" id="Q9_1-[0-9]"' "$tmp/body" | head -n 1 | grep -q 'Q9_1-1"'
tap $? "worst answer first (1 = Rất không hài lòng)"
is "$(grep -c '<label for="Q9_1-' "$tmp/body")" 5 "each radio button has a label tied to it"
is "$(grep -c '<legend>' "$tmp/body")" "$(($(grep -c '<fieldset' "$tmp/body")))" "every fieldset has a legend"
! has 'name="comment"'; tap $? "the optional questions wait for the last page"
[ -n "$(field_of state)" ] && [ "$(field_of step)" = 1 ]; tap $? "a hidden step and signed state"
has 'name="nav" value="next"'; tap $? "a Next button"
is "$(header Content-Type)" "text/html; charset=utf-8" "Content-Type text/html"
header Content-Security-Policy | grep -q "default-src 'none'"; tap $? "a strict Content-Security-Policy"
TOKEN=$(field_of token)
[ -n "$TOKEN" ]; tap $? "the form carries a token"

is "$(page "$F?lang=en")" 200 "GET ?lang=en: 200"
has '<html lang="en">'; tap $? 'lang="en"'
has 'Very satisfied'; tap $? "English scale labels"
has 'Part 1 of 10'; tap $? "Part 1 of 10"
is "$(page /f/sipas-2023/NOPE)" 404 "an unknown unit: 404 page"
has 'Không tìm thấy'; tap $? "a Vietnamese 404 page"
is "$(page /f/nope/U001)" 404 "an unknown survey: 404"
is "$(page /f/sipas-2023)" 404 "a path without a unit: 404"

# A short survey stays on one page.
is "$(page /f/onestop-tt01/U001)" 200 "GET the one-stop rating"
! has 'name="step"' && has 'name="comment"' && has 'name="R1"'; tap $? "one page, no steps"
has 'hồ sơ vừa xong'; tap $? "its intro speaks of the dossier just handled"

# Every page answered 4 (the second page once 2, then Back and changed).
page $F >/dev/null
NONCE=$(field_of token | cut -d. -f2)
P1_TOKEN=$(field_of token) P1_STATE=$(field_of state)
is "$(form_post $F -d "token=$P1_TOKEN" -d step=1 --data-urlencode "state=$P1_STATE" -d nav=next -d Q9_1=4 -d Q9_2=4)" 303 \
	"page 1 answered, Next: 303"
header Location | grep -q '^/f/sipas-2023/U001?lang=vi&step=2&token=[^&]*&state=[^&]*$'
tap $? "to GET page 2 with its step and signed state (every page in the history is a GET)"
P2=$(header Location)
is "$(page "$P2")" 200 "GET page 2: 200"
has 'Phần 2/10'; tap $? "and part 2 is shown"
is "$(page "$(echo "$P2" | sed 's/state=/state=5/')")" 400 "page 2 with a changed state in the URL: 400"
has '&quot;state&quot;'; tap $? "naming state"
page "$P2" >/dev/null
has 'name="nav" value="back"'; tap $? "with a Back button"
# shellcheck disable=SC2046
is "$(step_post back $(answer_page 2))" 200 "Back from page 2 (303, then GET): 200"
has 'Phần 1/10'; tap $? "part 1 again"
grep -q 'id="Q9_1-4" value="4" checked' "$tmp/body" && grep -q 'id="Q9_2-4" value="4" checked' "$tmp/body"
tap $? "with its answers kept"
# shellcheck disable=SC2046
step_post next $(answer_page 4) >/dev/null
grep -q 'id="Q9_3-2" value="2" checked' "$tmp/body"; tap $? "and page 2 keeps what was chosen before Back"
# A required item missing on a page: the same page again, the item marked.
is "$(step_post next -d Q9_3=4)" 422 "a page with a missing answer: 422"
has 'Phần 2/10'; tap $? "the same page again"
has 'id="e-Q9_4"'; tap $? "the missing answer is marked next to its item"
has 'href="#q-Q9_4"'; tap $? "the summary links to the item"
grep -q 'id="Q9_3-4" value="4" checked' "$tmp/body"; tap $? "the answer given is kept"
is "$(step_post next -d Q9_3=4 -d Q9_4=9)" 422 "a value off the scale: 422"
has 'id="e-Q9_4"'; tap $? "the bad value is marked next to its item"
n=2
while ! has 'name="nav" value="send"' && [ $n -lt 12 ]; do
	# shellcheck disable=SC2046
	st=$(step_post next $(answer_page 4))
	[ "$st" = 200 ] || break
	n=$((n + 1))
done
has 'Phần 10/10'; tap $? "page 10, the last, has the Send button"
has 'name="comment"' && has 'name="gender"' && has 'name="Q10_1"'; tap $? "the expectations, demographics and comment on it"
LT=$(field_of token) LS=$(field_of state)
args=(-d website= -d gender=f -d age_band=35-49 --data-urlencode "comment=Cán bộ rất nhiệt tình <b>&amp;</b>")
is "$(step_post send "${args[@]}")" 303 "Send: 303 See Other"
is "$(header Location)" "/f/sipas-2023/U001/thanks?lang=vi&ref=$NONCE" "to the thank-you page"
header Set-Cookie | grep -q '^sipas_done_U001=[0-9]\{8\}; Max-Age=86400; Path=/f/; HttpOnly'
tap $? "the one-per-day cookie is set"
is "$(sql "SELECT channel || ' ' || unit || ' ' || (answers->>'Q9_3') || (answers->>'Q9_17') || ' ' || (respondent->>'gender') || ' ' || (respondent->>'age_band') FROM responses WHERE source_id = 'web-$NONCE'")" \
	"web U001 44 f 35-49" "the row is stored with channel web"
is "$(sql "SELECT respondent->>'comment' FROM responses WHERE source_id = 'web-$NONCE'")" \
	"Cán bộ rất nhiệt tình <b>&amp;</b>" "the comment is stored as typed"
is "$(sql "SELECT count(*) FROM json_object_keys((SELECT answers FROM responses WHERE source_id = 'web-$NONCE'))")" 39 \
	"all 39 answers of the 10 pages are stored"
is "$(page "/f/sipas-2023/U001/thanks?lang=vi&ref=$NONCE")" 200 "GET the thank-you page: 200"
has 'Cảm ơn ông/bà' && has "web-$NONCE"; tap $? "it thanks and shows the reference"
page "/f/sipas-2023/U001/thanks?lang=vi&ref=$NONCE" >/dev/null
is "$(sql "SELECT count(*) FROM responses WHERE source_id = 'web-$NONCE'")" 1 "reloading it stores nothing"
# The same last page sent again (same token, same state): stored once.
is "$(form_post $F -d "token=$LT" -d step=10 --data-urlencode "state=$LS" -d nav=send "${args[@]}")" 303 \
	"the same last page sent again: 303 again"
is "$(sql "SELECT count(*) FROM responses WHERE source_id = 'web-$NONCE'")" 1 "still one row (the token's nonce is the id)"
COOKIE="sipas_done_U001=$(TZ=Asia/Ho_Chi_Minh date +%Y%m%d)"
is "$(page $F -b "$COOKIE")" 200 "GET the form with the cookie"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -b "$COOKIE" "$URL$F")" 429 "with the day's cookie: 429"
has 'đã gửi phiếu hôm nay'; tap $? "a clear 'already answered today' page"

# The signed state: changed or missing, the post is refused naming the field.
page $F >/dev/null
T2=$(field_of token) S2=$(field_of state)
is "$(form_post $F -d "token=$T2" -d step=1 --data-urlencode "state=5${S2}" -d nav=next -d Q9_1=4 -d Q9_2=4)" 400 \
	"a changed state: 400"
has '&quot;state&quot;'; tap $? "the page names the field state"
is "$(form_post $F -d "token=$T2" -d step=1 --data-urlencode "state=$(echo "$S2" | sed 's/^,/5,/')" -d nav=next -d Q9_1=4 -d Q9_2=4)" 400 \
	"an answer slipped into the state: 400"
is "$(form_post $F -d "token=$T2" -d step=1 -d nav=next -d Q9_1=4 -d Q9_2=4)" 400 "no state: 400"
has '&quot;state&quot;'; tap $? "naming state"
is "$(form_post $F -d "token=$T2" -d step=11 --data-urlencode "state=$S2" -d nav=next)" 400 "a step past the last: 400"
has '&quot;step&quot;'; tap $? "naming step"
page $F >/dev/null
T3=$(field_of token)
is "$(form_post $F -d "token=$T3" -d step=1 --data-urlencode "state=$S2" -d nav=next -d Q9_1=4 -d Q9_2=4)" 400 \
	"another form's state: 400"
# Jumping to the last page: the pages skipped are asked again.
is "$(form_post $F -d "token=$T2" -d step=10 --data-urlencode "state=$S2" -d nav=send)" 422 \
	"Send with pages skipped: 422"
has 'Phần 1/10' && has 'id="e-Q9_1"'; tap $? "the first page skipped, its items marked"
is "$(sql "SELECT count(*) FROM responses WHERE source_id = 'web-$(echo "$T2" | cut -d. -f2)'")" 0 "nothing stored"

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

# The one-page form: every answer and the optional fields in one post.
page /f/onestop-tt01/U002 >/dev/null
T4=$(token_of)
is "$(form_post /f/onestop-tt01/U002 -d "token=$T4")" 422 "the one-page form without its answer: 422"
has 'id="e-R1"'; tap $? "marked next to the item"
is "$(form_post /f/onestop-tt01/U002 -d "token=$T4" -d R1=3 -d gender=m)" 303 "with it: 303"
is "$(header Location)" "/f/onestop-tt01/U002/thanks?lang=vi&ref=$(echo "$T4" | cut -d. -f2)" "to its thank-you page"
is "$(sql "SELECT (answers->>'R1') || ' ' || (respondent->>'gender') FROM responses WHERE source_id = 'web-$(echo "$T4" | cut -d. -f2)'")" \
	"3 m" "the one-page form is stored"

# The kiosk.
is "$(page /kiosk/U003)" 200 "GET the kiosk: 200"
is "$(grep -c 'class="choice c' "$tmp/body")" 3 "three big buttons"
has 'Rất hài lòng'; tap $? "the one-stop scale's labels"
order=$(grep -o 'id="v[0-9]"' "$tmp/body" | tr -dc '0-9')
is "$order" 123 "worst answer first, as on the form, the poster and the SMS help"
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
	st=$(form_post $F -d token=x -d nav=send)
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
	pdftotext "$tmp/p.pdf" - | grep -q 'khoảng 9 phút'
	tap $? "the poster's time: 49 items of 10 s, 9 minutes"
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
