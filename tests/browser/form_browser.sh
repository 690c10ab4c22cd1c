#!/usr/bin/env bash
# form_browser.sh: the web form and the kiosk in a real headless Chromium
# (Debian chromium + chromium-driver, driven through the W3C WebDriver API with
# curl and jq: tests/browser/webdriver.sh), against sipasd and PostgreSQL:
#  - a 360 px phone with JavaScript off answers sipas-2023 for unit U004
#    through its 10 pages (odd items "Rất hài lòng" = 5, even items "Rất
#    không hài lòng" = 1, every expectation 3), going Back once to check the
#    answers were kept, sends, reloads the thank-you page, goes Back from it,
#    and exactly one response is stored;
#  - a desktop window with JavaScript on first presses Next on an empty page
#    (errors next to the items), then answers every page for U005 (every
#    third item 3, else 5);
#  - a tablet with JavaScript off taps the kiosk of C012 twice (3, then 1,
#    after the page came back by itself);
#  - at 360 px with JavaScript on: no horizontal scroll, touch targets >= 44 px,
#    no page of the form taller than FORM_PAGE_MAX px;
# and checks every item's index through GET /api/v1/indices (a viewer token):
# 100 or 0 as answered, R1 = 50. SIPAS_SCREENSHOTS=DIR saves the screenshots.
set -u
. "$(dirname "$0")/../integration/daemon_lib.sh"
. "$(dirname "$0")/webdriver.sh"

command -v chromedriver >/dev/null && command -v chromium >/dev/null ||
	bail "chromium and chromium-driver are needed (scripts/deps.sh)"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"
VIEWER=$(token viewer)
# The kiosk thanks for 20 s: long enough for a loaded machine's browser to be
# seen on the thank-you page before it returns to the question.
sipasd_start "form_rate_limit = 0" "kiosk_reset = 20"
wd_driver_start "$tmp" || bail "chromedriver did not start"
# A watchdog: a browser that stops answering fails the test instead of
# hanging the suite (the EXIT trap then stops chromedriver and sipasd).
( sleep "${SIPAS_BROWSER_TIMEOUT:-900}"; kill -TERM $$ ) >/dev/null 2>&1 &
watchdog=$!
trap 'kill $watchdog 2>/dev/null; wd_quit; wd_driver_stop; cleanup' EXIT
SHOTS=${SIPAS_SCREENSHOTS:-$tmp}

PHONE='{"mobileEmulation": {"deviceMetrics": {"width": 360, "height": 780, "pixelRatio": 2, "touch": false}}}'
NOJS='{"prefs": {"profile.managed_default_content_settings.javascript": 2}}'

# h1: the text of the page's first heading (empty while there is none).
h1() { wd_text "$(wd_find 'h1')"; }
# choices: how many kiosk buttons the page shows.
choices() { wd_count 'button.choice'; }
THANKS='Cảm ơn ông/bà!'

# The items of sipas-2023's pages 1-9, one aspect each (page 10: the
# expectations and the optional questions).
PAGES="1-2 3-4 5-13 14-23 24-26 27-30 31-33 34-36 37-39"
# The tallest a page of the form may be at 360 px (6 screens of 780 px; the
# form on one page was 17,320 px).
FORM_PAGE_MAX=4680
# step_text: the page's "Phần N/10" line.
step_text() { wd_text "$(wd_find '#step')"; }
# fill_page RULE FROM-TO: click one radio per item Q9_FROM..Q9_TO; RULE is a
# shell function printing the value for item number i.
fill_page() {
	local i v el bad=0
	for i in $(seq "${2%-*}" "${2#*-}"); do
		v=$($1 "$i")
		el=$(wd_find "#Q9_$i-$v")
		[ -n "$el" ] && [ "$(wd_click "$el")" = ok ] || bad=$((bad + 1))
	done
	return $bad
}
# next_page N: press Next and wait for part N.
next_page() {
	wd_click "$(wd_find '#next')" >/dev/null
	[ "$(wd_wait "Phần $1/10" step_text)" = "Phần $1/10" ]
}
# fill RULE: answer pages 1-9 and press Next on each; ends on page 10.
fill() {
	local range n=1 bad=0
	for range in $PAGES; do
		n=$((n + 1))
		fill_page "$1" "$range" || bad=$((bad + 1))
		next_page $n || bad=$((bad + 1))
	done
	return $bad
}
# checked I V: 1 if the radio of item Q9_I with value V is checked.
checked() { wd_attr "$(wd_find "#Q9_$1-$2")" checked; }
phone_rule() { [ $(($1 % 2)) -eq 1 ] && echo 5 || echo 1; }
desk_rule() { [ $(($1 % 3)) -eq 0 ] && echo 3 || echo 5; }

# --- a phone, JavaScript off ----------------------------------------------
wd_session "$tmp/chrome-phone" "$(jq -n --argjson a "$PHONE" --argjson b "$NOJS" '$a + $b')" ||
	bail "no WebDriver session ($WD_ERR)"
wd_go "$URL/f/sipas-2023/U004"
is "$(wd_count 'html[lang="vi"] fieldset.item input[type=radio][name^="Q9_"]')" 10 \
	"phone, JS off: page 1 shows its 2 items x 5 radio buttons"
is "$(step_text)" "Phần 1/10" "and says Phần 1/10"
is "$(wd_text "$(wd_find '#progress')")" "" "JavaScript is really off (the progress line stays empty)"
wd_shot "$SHOTS/form-phone.png"
fill_page phone_rule 1-2
tap $? "page 1 answered by tapping its labels' radio buttons"
next_page 2
tap $? "Next: Phần 2/10"
fill_page phone_rule 3-4
tap $? "page 2 answered"
next_page 3
tap $? "Next: Phần 3/10"
wd_click "$(wd_find '#back')" >/dev/null
is "$(wd_wait "Phần 2/10" step_text)" "Phần 2/10" "Back: Phần 2/10 again"
is "$(checked 3 "$(phone_rule 3)") $(checked 4 "$(phone_rule 4)")" "true true" "with page 2's answers kept"
wd_click "$(wd_find '#back')" >/dev/null
is "$(wd_wait "Phần 1/10" step_text)" "Phần 1/10" "Back again: Phần 1/10"
is "$(checked 1 "$(phone_rule 1)") $(checked 2 "$(phone_rule 2)")" "true true" "with page 1's answers kept"
bad=0
n=1
for range in $PAGES; do
	n=$((n + 1))
	[ "$n" -le 3 ] || fill_page phone_rule "$range" || bad=$((bad + 1))
	next_page $n || bad=$((bad + 1))
done
is "$bad" 0 "every page answered, Next to Phần 10/10"
is "$(wd_count 'input[type=radio][name^="Q10_"]')" 40 "the last page asks the 10 expectations"
for i in $(seq 1 10); do wd_click "$(wd_find "#Q10_$i-3")" >/dev/null; done
wd_click "$(wd_find '#gender-f')" >/dev/null
wd_click "$(wd_find '#send')" >/dev/null
is "$(wd_wait "$THANKS" h1)" "$THANKS" "the thank-you page after COMMIT"
REF=$(wd_text "$(wd_find '#ref')")
echo "$REF" | grep -q '^web-[0-9a-f]\{16\}$'
tap $? "with the response's reference"
wd_url | grep -q '/f/sipas-2023/U004/thanks?'
tap $? "at its own address (Post/Redirect/Get)"
wd_refresh
is "$(wd_wait "$THANKS" h1)" "$THANKS" "reloading it shows the thanks again"
is "$(wd_text "$(wd_find '#ref')")" "$REF" "with the same reference"
wd_back
is "$(wd_wait "Phần 10/10" step_text)" "Phần 10/10" "Back from the thanks shows the last page, no resend question"
is "$(sql "SELECT count(*) FROM responses WHERE unit = 'U004'")" 1 "exactly one response is stored"
is "$(sql "SELECT source_id || ' ' || (SELECT count(*) FROM json_object_keys(answers)) || ' ' || (respondent->>'gender') FROM responses WHERE unit = 'U004'")" \
	"$REF 49 f" "with its 39 answers, 10 expectations and the gender"
wd_quit

# --- 360 px with JavaScript on: layout probes -----------------------------
wd_session "$tmp/chrome-probe" "$PHONE" || bail "no WebDriver session ($WD_ERR)"
wd_go "$URL/f/sipas-2023/U001"
is "$(wd_exec 'return document.documentElement.scrollWidth <= 360 && document.documentElement.clientWidth === 360')" true \
	"360 px: no horizontal scroll on the form"
is "$(wd_exec 'return Array.from(document.querySelectorAll(".options label, button.submit, .lang a")).every(e => e.getBoundingClientRect().height >= 44)')" true \
	"360 px: every touch target is at least 44 px high"
is "$(wd_exec 'return Array.from(document.querySelectorAll("input[type=radio]")).every(i => i.labels.length === 1)')" true \
	"every radio button has its label"
is "$(wd_exec 'return document.querySelector("#progress").textContent')" '"Đã trả lời 0/2 câu hỏi"' \
	"with JavaScript the optional progress line appears"
tallest=0
n=1
for range in $PAGES; do
	h=$(wd_exec 'return document.documentElement.scrollHeight')
	[ "$h" -gt "$tallest" ] && tallest=$h
	n=$((n + 1))
	fill_page phone_rule "$range" && next_page $n || break
done
h=$(wd_exec 'return document.documentElement.scrollHeight')
[ "$h" -gt "$tallest" ] && tallest=$h
is "$n" 10 "360 px: all 10 pages seen"
[ "$tallest" -le "$FORM_PAGE_MAX" ]
tap $? "360 px: the tallest page is $tallest px (at most $FORM_PAGE_MAX)"
is "$(wd_exec 'return document.documentElement.scrollWidth <= 360')" true "360 px: no horizontal scroll on the last page"
wd_go "$URL/kiosk/U001"
is "$(wd_exec 'return document.documentElement.scrollWidth <= 360')" true "360 px: no horizontal scroll on the kiosk"
wd_go "$URL/f/sipas-2023/U001?lang=en"
is "$(wd_exec 'return document.documentElement.scrollWidth <= 360')" true "360 px: no horizontal scroll in English"
wd_quit

# --- a desktop, JavaScript on ---------------------------------------------
wd_session "$tmp/chrome-desk" '{"args": ["--window-size=1280,900"]}' || bail "no WebDriver session ($WD_ERR)"
wd_go "$URL/f/sipas-2023/U005"
wd_click "$(wd_find '#next')" >/dev/null
is "$(wd_wait 2 wd_count '.summary li')" 2 "desktop: Next on an empty page 1 lists its 2 problems"
is "$(wd_count 'fieldset.item.invalid p.error')" 2 "each marked next to its item"
is "$(step_text)" "Phần 1/10" "on the same page"
is "$(wd_exec 'return document.activeElement.id')" '"summary"' "the script moves the focus to the summary"
fill_page desk_rule 1-2
is "$(wd_exec 'return document.querySelector("#progress").textContent')" '"Đã trả lời 2/2 câu hỏi"' "the progress line counts the page's 2/2"
wd_click "$(wd_find '#next')" >/dev/null
wd_wait "Phần 2/10" step_text >/dev/null
bad=0
n=2
for range in $PAGES; do
	[ "$range" = 1-2 ] && continue
	n=$((n + 1))
	fill_page desk_rule "$range" || bad=$((bad + 1))
	next_page $n || bad=$((bad + 1))
done
is "$bad" 0 "desktop: every page answered"
wd_exec 'window.scrollTo(0, 0); return 0' >/dev/null
wd_shot "$SHOTS/form-desktop.png"
wd_type "$(wd_find '#comment')" "Thủ tục nhanh gọn."
wd_click "$(wd_find '#gender-m')" >/dev/null
wd_click "$(wd_find '#send')" >/dev/null
is "$(wd_wait "$THANKS" h1)" "$THANKS" "desktop: the thank-you page"
wd_quit

# --- the kiosk on a tablet, JavaScript off ---------------------------------
wd_session "$tmp/chrome-kiosk" "$(jq -n --argjson b "$NOJS" '$b + {args: ["--window-size=1024,768"]}')" ||
	bail "no WebDriver session ($WD_ERR)"
wd_go "$URL/kiosk/C012"
is "$(wd_count 'button.choice')" 3 "kiosk: three big buttons"
wd_shot "$SHOTS/kiosk.png"
wd_click "$(wd_find '#v3')" >/dev/null
is "$(wd_wait "$THANKS" h1)" "$THANKS" "a tap: the thank-you page"
is "$(WD_WAIT=120 wd_wait 3 choices)" 3 "the kiosk comes back to the question by itself"
wd_click "$(wd_find '#v1')" >/dev/null
is "$(wd_wait "$THANKS" h1)" "$THANKS" "a second citizen's tap"
wd_quit

# --- the stored answers, through the indices --------------------------------
indices() {
	curl -s -H "Authorization: Bearer $VIEWER" "$URL/api/v1/indices?survey=$1&unit=$2" >"$tmp/ind.json"
}
items_ok() {
	local rule=$1 i want got bad=0
	for i in $(seq 1 39); do
		want=0
		[ "$($rule "$i")" -ge 4 ] && want=100
		got=$(jq -r --arg c "Q9_$i" '.units[0].items[] | select(.code == $c) | .value' "$tmp/ind.json")
		[ "$got" = "$want" ] || { echo "# Q9_$i: got $got, want $want" >&2; bad=$((bad + 1)); }
	done
	return $bad
}
indices sipas-2023 U004
is "$(sql "SELECT count(*) FROM responses WHERE unit = 'U004' AND channel = 'web'")" 1 "U004 has the phone's one response (channel web)"
items_ok phone_rule
tap $? "U004: each item's index is 100 (answered 5) or 0 (answered 1)"
indices sipas-2023 U005
is "$(sql "SELECT count(*) FROM responses WHERE unit = 'U005' AND channel = 'web'")" 1 "U005 has the desktop's one response (channel web)"
items_ok desk_rule
tap $? "U005: each item's index is 100 (answered 5) or 0 (answered 3)"
is "$(sql "SELECT channel || ' ' || (respondent->>'gender') || ' ' || (respondent->>'comment') FROM responses WHERE unit = 'U005'")" \
	"web m Thủ tục nhanh gọn." "the desktop's demographics and comment are stored"
indices onestop-tt01 C012
is "$(jq -r '.units[0].items[] | select(.code == "R1") | "\(.value) \(.n)"' "$tmp/ind.json")" "50 2" \
	"C012: R1 = 50 over the kiosk's 2 taps"
is "$(sql "SELECT string_agg(channel || ':' || (answers->>'R1'), ' ' ORDER BY id) FROM responses WHERE unit = 'C012'")" \
	"kiosk:3 kiosk:1" "stored with channel kiosk"

log_clean
finish
