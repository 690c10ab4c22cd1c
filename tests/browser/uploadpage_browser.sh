#!/usr/bin/env bash
# uploadpage_browser.sh: the survey teams' upload page in a real headless
# Chromium with JavaScript turned off (chromedriver through
# tests/browser/webdriver.sh), against sipasd and PostgreSQL:
#  - /uploads while logged out shows the login form; an uploader scoped to
#    U001 signs in and is back on /uploads;
#  - a CSV with bad rows chosen in the file field and sent with the Upload
#    button: the result page shows the counts and names each rejected row
#    (row, column, value, reason in Vietnamese);
#  - the CSV template downloaded through its link, filled in the shell and
#    uploaded the same way: its rows are stored.
# SIPAS_SCREENSHOTS=DIR saves uploads-*.png there.
set -u
. "$(dirname "$0")/../integration/daemon_lib.sh"
. "$(dirname "$0")/webdriver.sh"

command -v chromedriver >/dev/null && command -v chromium >/dev/null ||
	bail "chromium and chromium-driver are needed (scripts/deps.sh)"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"
UPLOADER=$(token uploader U001)
sipasd_start "session_cookie_secure = 0"
wd_driver_start "$tmp" || bail "chromedriver did not start"
( sleep "${SIPAS_BROWSER_TIMEOUT:-300}"; kill -TERM $$ ) >/dev/null 2>&1 &
watchdog=$!
trap 'kill $watchdog 2>/dev/null; wd_quit; wd_driver_stop; cleanup' EXIT
SHOTS=${SIPAS_SCREENSHOTS:-$tmp}
DL=$tmp/downloads
mkdir -p "$DL"

text() { wd_text "$(wd_find "$1")"; }
# upload FILE: choose the survey and the file on /uploads, press Upload.
upload() {
	wd_go "$URL/uploads"
	wd_click "$(wd_find 'select#survey option[value="onestop-tt01"]')" >/dev/null
	wd_type "$(wd_find 'input#file')" "$1"
	wd_click "$(wd_find 'button#send')" >/dev/null
}
# The number of files in the download folder (done ones only).
downloads() { find "$DL" -type f ! -name '*.crdownload' | wc -l; }

wd_session "$tmp/chrome" "$(jq -n --arg dl "$DL" '{args: ["--window-size=1280,900"],
	prefs: {"profile.managed_default_content_settings.javascript": 2,
		"download.default_directory": $dl, "download.prompt_for_download": false}}')" ||
	bail "no WebDriver session ($WD_ERR)"

# --- sign in ------------------------------------------------------------------
wd_go "$URL/uploads"
is "$(wd_url | sed 's/?.*//')" "$URL/login" "logged out, /uploads shows the login form"
wd_type "$(wd_find '#token')" "$UPLOADER"
wd_click "$(wd_find '#login')" >/dev/null
is "$(wd_wait "$URL/uploads" wd_url)" "$URL/uploads" "signed in, back on /uploads"
is "$(text h1)" "Tải phiếu khảo sát lên" "the page in Vietnamese"
wd_shot "$SHOTS/uploads-form.png"

# --- a file with bad rows -------------------------------------------------------
cat >"$tmp/mixed.csv" <<'EOF'
id,unit,submitted_at,R1
b-1,U001,2025-03-01,1
b-2,C011,2025-03-02,7
b-3,U002,2025-03-03,2
b-4,C012,2025-03-04,3
EOF
upload "$tmp/mixed.csv"
is "$(wd_wait 2 text '#stored')" 2 "uploaded through the form: 2 stored"
is "$(text '#rejected')" 2 "2 rejected"
is "$(wd_exec 'return Array.from(document.querySelectorAll("#rejects tbody tr")).map(t => Array.from(t.cells).slice(0, 3).map(c => c.textContent).join(" ")).join("; ")' | tr -d '"')" \
	"2 R1 7; 3 unit U002" "the rejected rows are named: row, column, value"
is "$(wd_exec 'return document.querySelector("#rejects tbody tr:nth-child(2) td:nth-child(4)").textContent.indexOf("ngoài phạm vi") >= 0')" true \
	"with the reason in Vietnamese"
wd_shot "$SHOTS/uploads-result.png"
is "$(sql "SELECT string_agg(source_id, ',' ORDER BY source_id) FROM responses")" b-1,b-4 "the good rows are stored"

# --- the CSV template, filled and uploaded ----------------------------------------
wd_go "$URL/uploads"
wd_click "$(wd_find 'a[href="/uploads/template?survey=onestop-tt01&format=csv"]')" >/dev/null
is "$(wd_wait 1 downloads)" 1 "the CSV template is downloaded"
tpl=$(find "$DL" -type f -name '*.csv' | head -n 1)
is "$(basename "$tpl")" onestop-tt01-template.csv "under its name"
printf 't-1,C011,2025-04-01,3\r\nt-2,C012,2025-04-02,2\r\nt-3,U001,2025-04-03,1\r\n' >>"$tpl"
upload "$tpl"
is "$(wd_wait 3 text '#stored')" 3 "the filled template uploads: 3 stored"
is "$(text '#rejected')" 0 "none rejected"
is "$(sql "SELECT count(*) FROM responses WHERE source_id LIKE 't-%'")" 3 "its rows are in the database"

wd_quit
log_clean
finish
