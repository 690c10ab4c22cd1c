#!/usr/bin/env bash
# form_browser.sh: the web form and the kiosk in a real headless Chromium
# (Debian chromium + chromium-driver, driven through the W3C WebDriver API with
# curl and jq: tests/browser/webdriver.sh), against sipasd and PostgreSQL:
#  - a 360 px phone with JavaScript off fills and sends sipas-2023 for unit
#    U004 (odd items "Rất hài lòng" = 5, even items "Rất không hài lòng" = 1);
#  - a desktop window with JavaScript on first sends an empty form (errors
#    next to the items), then fills it for U005 (every third item 3, else 5);
#  - a tablet with JavaScript off taps the kiosk of C012 twice (3, then 1,
#    after the page came back by itself);
#  - at 360 px with JavaScript on: no horizontal scroll, touch targets >= 44 px;
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
( sleep "${SIPAS_BROWSER_TIMEOUT:-600}"; kill -TERM $$ ) >/dev/null 2>&1 &
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

# fill_sipas2023 RULE: click one radio per item; RULE is a shell function
# printing the value for item number i.
fill() {
	local i v el bad=0
	for i in $(seq 1 39); do
		v=$($1 "$i")
		el=$(wd_find "#Q9_$i-$v")
		[ -n "$el" ] && [ "$(wd_click "$el")" = ok ] || bad=$((bad + 1))
	done
	return $bad
}
phone_rule() { [ $(($1 % 2)) -eq 1 ] && echo 5 || echo 1; }
desk_rule() { [ $(($1 % 3)) -eq 0 ] && echo 3 || echo 5; }

# --- a phone, JavaScript off ----------------------------------------------
wd_session "$tmp/chrome-phone" "$(jq -n --argjson a "$PHONE" --argjson b "$NOJS" '$a + $b')" ||
	bail "no WebDriver session ($WD_ERR)"
wd_go "$URL/f/sipas-2023/U004"
is "$(wd_count 'html[lang="vi"] fieldset.item input[type=radio][name^="Q9_"]')" 195 "phone, JS off: the form shows 39 x 5 radio buttons"
is "$(wd_text "$(wd_find '#progress')")" "" "JavaScript is really off (the progress line stays empty)"
wd_shot "$SHOTS/form-phone.png"
fill phone_rule
tap $? "every item answered by tapping its label's radio button"
wd_click "$(wd_find 'button.submit')" >/dev/null
is "$(wd_wait "$THANKS" h1)" "$THANKS" "the thank-you page after COMMIT"
wd_text "$(wd_find '#ref')" | grep -q '^web-[0-9a-f]\{16\}$'
tap $? "with the response's reference"
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
is "$(wd_exec 'return document.querySelector("#progress").textContent')" '"Đã trả lời 0/39 câu hỏi"' \
	"with JavaScript the optional progress line appears"
wd_go "$URL/kiosk/U001"
is "$(wd_exec 'return document.documentElement.scrollWidth <= 360')" true "360 px: no horizontal scroll on the kiosk"
wd_go "$URL/f/sipas-2023/U001?lang=en"
is "$(wd_exec 'return document.documentElement.scrollWidth <= 360')" true "360 px: no horizontal scroll in English"
wd_quit

# --- a desktop, JavaScript on ---------------------------------------------
wd_session "$tmp/chrome-desk" '{"args": ["--window-size=1280,900"]}' || bail "no WebDriver session ($WD_ERR)"
wd_go "$URL/f/sipas-2023/U005"
wd_click "$(wd_find 'button.submit')" >/dev/null
is "$(wd_count '.summary li')" 39 "desktop: an empty form comes back with 39 problems listed"
is "$(wd_count 'fieldset.item.invalid p.error')" 39 "each marked next to its item"
is "$(wd_exec 'return document.activeElement.id')" '"summary"' "the script moves the focus to the summary"
fill desk_rule
tap $? "every item answered"
is "$(wd_exec 'return document.querySelector("#progress").textContent')" '"Đã trả lời 39/39 câu hỏi"' "the progress line counts 39/39"
wd_go "$URL/f/sipas-2023/U005"
fill desk_rule >/dev/null
wd_exec 'window.scrollTo(0, 0); return 0' >/dev/null
wd_shot "$SHOTS/form-desktop.png"
wd_type "$(wd_find '#comment')" "Thủ tục nhanh gọn."
wd_click "$(wd_find '#gender-m')" >/dev/null
wd_click "$(wd_find 'button.submit')" >/dev/null
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
