#!/usr/bin/env bash
# accounts_browser.sh: a person's account in a real headless Chromium
# (tests/browser/webdriver.sh): an operator creates a province viewer with
# sipasctl user add; the viewer signs in with login and password through the
# form and lands on the province's dashboard for the latest period with data
# (2024-Q4 here, not the last closed quarter), with an index number on the
# page, at 1366 px and at 390 px window width. The page must not scroll
# sideways at 1366 px; at 390 px a sideways scroll is reported as TODO (the
# phone layout of the dashboard is its own piece of work).
set -u
. "$(dirname "$0")/../integration/daemon_lib.sh"
. "$(dirname "$0")/webdriver.sh"

command -v chromedriver >/dev/null && command -v chromium >/dev/null ||
	bail "chromium and chromium-driver are needed (scripts/deps.sh)"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"
# 2024-Q4 is the latest quarter with data; report_today puts the last
# closed quarter at 2025-Q1, which has none.
"$PSQL" -X -q -d "$DSN" >/dev/null <<'EOF' || bail "data"
INSERT INTO responses (survey, unit, source_id, submitted_at, channel, answers, content_hash)
SELECT 'sipas-2023', u.unit, 'b-' || u.unit || '-' || g,
	timestamptz '2024-10-01 08:00+07' + (g % 90) * interval '1 day', 'web',
	(SELECT jsonb_object_agg('Q9_' || i, 1 + (g * 7 + i + u.shift) % 5) FROM generate_series(1, 39) i),
	md5(u.unit || g)
FROM (VALUES ('C011', 0, 60), ('C012', 1, 60), ('U002', 2, 80), ('U003', 3, 80)) u(unit, shift, cnt),
	generate_series(1, u.cnt) g;
EOF
"$SIPASCTL" --db "$DSN" user add lanh.dao --role viewer --unit P01 --name 'Lãnh đạo tỉnh' \
	--password-stdin <<<'mật khẩu lãnh đạo' >/dev/null 2>&1 || bail "sipasctl user add"
sipasd_start "report_today = 2025-04-10" "dashboard_min_n = 10" "session_cookie_secure = 0"
wd_driver_start "$tmp" || bail "chromedriver did not start"
( sleep "${SIPAS_BROWSER_TIMEOUT:-300}"; kill -TERM $$ ) >/dev/null 2>&1 &
watchdog=$!
trap 'kill $watchdog 2>/dev/null; wd_quit; wd_driver_stop; cleanup' EXIT
SHOTS=${SIPAS_SCREENSHOTS:-$tmp}

unit_shown() { wd_exec 'var h = document.querySelector("h1#unit"); return h ? h.dataset.unit : null' | tr -d '"'; }
# An index number: a percentage with two decimals in #overall-value.
index_shown() { wd_exec 'var e = document.querySelector("#overall-value"); return e !== null && /[0-9]+,[0-9]{2}/.test(e.textContent)'; }
no_side_scroll() { wd_exec 'return document.documentElement.scrollWidth <= window.innerWidth'; }

# sign_in WIDTH: a fresh browser at that width signs in with the password.
sign_in() {
	local opts="{\"args\": [\"--window-size=$1,900\"]}"
	# A headless window is at least 500 px wide: a phone is emulated.
	[ "$1" -lt 500 ] && opts="{\"mobileEmulation\": {\"deviceMetrics\": {\"width\": $1, \"height\": 844, \"pixelRatio\": 3, \"mobile\": true, \"touch\": true}}}"
	wd_session "$tmp/chrome-$1" "$opts" || bail "no WebDriver session ($WD_ERR)"
	wd_go "$URL/login"
	wd_type "$(wd_find '#user-login')" "lanh.dao"
	wd_type "$(wd_find '#password')" "mật khẩu lãnh đạo"
	wd_click "$(wd_find '#login-password')" >/dev/null
	wd_wait P01 unit_shown >/dev/null
}

for width in 1366 390; do
	sign_in "$width"
	is "$(unit_shown)" P01 "$width px: signed in with the password, the province's page"
	is "$(wd_exec 'return new URLSearchParams(location.search).get("from") + ".." + new URLSearchParams(location.search).get("to")' | tr -d '"')" \
		"2024-10-01..2024-12-31" "$width px: the latest quarter with data (2024-Q4)"
	is "$(index_shown)" true "$width px: an index number on the page"
	wd_shot "$SHOTS/accounts-landing-$width.png"
	echo "# $width px window: innerWidth $(wd_exec 'return window.innerWidth'), scrollWidth $(wd_exec 'return document.documentElement.scrollWidth')"
	is "$(wd_exec 'return window.innerWidth')" "$width" "$width px: the page is $width CSS px wide"
	if [ "$width" = 390 ]; then
		if [ "$(no_side_scroll)" = true ]; then
			tap 0 "390 px: no sideways scroll"
		else
			echo "not ok $((tap_n + 1)) - 390 px: no sideways scroll (scrollWidth $(wd_exec 'return document.documentElement.scrollWidth') > innerWidth $(wd_exec 'return window.innerWidth')) # TODO the dashboard's phone layout"
			tap_n=$((tap_n + 1))
		fi
	else
		is "$(no_side_scroll)" true "$width px: no sideways scroll"
	fi
	wd_quit
done

log_clean
finish
