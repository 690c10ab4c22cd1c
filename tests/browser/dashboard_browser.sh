#!/usr/bin/env bash
# dashboard_browser.sh: the leadership dashboard in a real headless Chromium
# (chromedriver through tests/browser/webdriver.sh), against sipasd and
# PostgreSQL with two years of generated responses:
#  - logged out, every dashboard address shows the login form and nothing else;
#  - a viewer scoped to the district U001 signs in through the form and sees
#    U001 with only its communes ranked; the province and a sibling district
#    give the 403 page;
#  - the numbers on the page equal GET /api/v1/indices (two decimals, decimal
#    comma): the overall index, each ranked commune, after the drill-down;
#  - clicking a commune drills down, the breadcrumb leads back up;
#  - a commune without responses (C013) is listed greyed without a bar;
#  - choosing the channel in the filter form gives that channel's numbers
#    (equal to the API's with channel=), kept by the drill-down, the
#    breadcrumb and the language switch;
#  - choosing a gender and an age band in the filter form gives that
#    group's numbers (equal to the API's with respondent.gender= and
#    respondent.age_band=), kept by the drill-down;
#  - a national viewer sees the province with its five districts;
#  - at 390 px and 1366 px nothing scrolls sideways, the ranking shows each
#    unit's index, interval, whole n and flag (cards on the phone) and no
#    chart label is under 12 px; screenshots dashboard-390.png and
#    dashboard-1366.png.
# SIPAS_SCREENSHOTS=DIR saves dashboard-*.png there (docs/img for the docs).
set -u
. "$(dirname "$0")/../integration/daemon_lib.sh"
. "$(dirname "$0")/webdriver.sh"

command -v chromedriver >/dev/null && command -v chromium >/dev/null ||
	bail "chromium and chromium-driver are needed (scripts/deps.sh)"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"
printf 'code,name,level,parent\nC013,Xã Ba,commune,U001\n' >"$tmp/units2.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units2.csv" >/dev/null || bail "unit import C013"
"$PSQL" -X -q -d "$DSN" >/dev/null <<'EOF' || bail "data"
SELECT setseed(0.25);
INSERT INTO responses (survey, unit, source_id, submitted_at, channel, answers, content_hash, respondent)
SELECT 'sipas-2023', u.unit, 'g-' || u.unit || '-' || g,
	timestamptz '2023-04-01 08:00+07' + floor(random() * 730) * interval '1 day',
	'web',
	(SELECT jsonb_object_agg('Q9_' || i, least(5, greatest(1, floor(random() * 5 + u.bias + 0 * g)::int)))
	 FROM generate_series(1, 39) i),
	md5(u.unit || g),
	jsonb_build_object('gender', (ARRAY['f', 'm', 'o'])[1 + g % 3],
		'age_band', (ARRAY['18-24', '25-34', '35-49', '50-64', '65+'])[1 + g % 2])
FROM (VALUES ('C011', 1.5, 400), ('C012', 0.6, 400), ('U002', 0.3, 600),
	('U003', 1.2, 600), ('U004', 0.8, 600), ('U005', 0.9, 40)) u(unit, bias, cnt),
	generate_series(1, u.cnt) g;
-- 15 kiosk responses for C011 in 2025-Q1 (the channel filter).
INSERT INTO responses (survey, unit, source_id, submitted_at, channel, answers, content_hash)
SELECT 'sipas-2023', 'C011', 'k-' || g, timestamptz '2025-02-01 08:00+07' + g * interval '1 day', 'kiosk',
	(SELECT jsonb_object_agg('Q9_' || i, (g + i) % 5 + 1) FROM generate_series(1, 39) i),
	md5('k' || g)
FROM generate_series(1, 15) g;
EOF
VIEWER_U001=$(token viewer U001)
VIEWER=$(token viewer)
sipasd_start "report_today = 2025-04-10" "dashboard_min_n = 10" "session_cookie_secure = 0"
wd_driver_start "$tmp" || bail "chromedriver did not start"
# A watchdog: a browser that stops answering fails the test instead of
# hanging the suite (the EXIT trap then stops chromedriver and sipasd).
( sleep "${SIPAS_BROWSER_TIMEOUT:-300}"; kill -TERM $$ ) >/dev/null 2>&1 &
watchdog=$!
trap 'kill $watchdog 2>/dev/null; wd_quit; wd_driver_stop; cleanup' EXIT
SHOTS=${SIPAS_SCREENSHOTS:-$tmp}
Q1='from=2025-01-01&to=2025-03-31'

# The API's value as the page shows it: 87,53 %.
vi_pct() { LC_ALL=C printf '%.2f %%' "$1" | tr . ,; }
# api_value UNIT CHILD [&channel=CH]
api_value() {
	curl -s --max-time 30 -H "Authorization: Bearer $VIEWER" \
		"$URL/api/v1/indices?survey=sipas-2023&unit=$1&$Q1&children=1${3:-}" |
		jq -r --arg u "$2" '.units[] | select(.unit == $u) | .overall.value'
}
text() { wd_text "$(wd_find "$1")"; }
unit_shown() { wd_exec 'var h = document.querySelector("h1#unit"); return h ? h.dataset.unit : null' | tr -d '"'; }

wd_session "$tmp/chrome-desk" '{"args": ["--window-size=1280,900"]}' ||
	bail "no WebDriver session ($WD_ERR)"

# --- logged out -------------------------------------------------------------
for path in "/dashboard" "/dashboard?unit=P01&$Q1" "/dashboard?unit=U001"; do
	wd_go "$URL$path"
	ok=$(wd_exec 'return location.pathname === "/login" && document.querySelectorAll("input[name=token]").length === 1 && document.querySelectorAll("#summary, #ranking, table").length === 0 && !/Huyện|Xã/.test(document.body.innerText)')
	is "$ok" true "logged out, $path shows only the login form"
done
wd_go "$URL/login"
wd_shot "$SHOTS/dashboard-login.png"

# --- a district viewer --------------------------------------------------------
wd_go "$URL/dashboard?unit=U001&$Q1"
wd_type "$(wd_find '#token')" "$VIEWER_U001"
wd_click "$(wd_find '#login')" >/dev/null
is "$(unit_shown)" U001 "signed in, back at the page asked for: U001"
is "$(text '#overall-value')" "$(vi_pct "$(api_value U001 U001)")" "U001's overall index equals the API's"
is "$(wd_exec 'return Array.from(document.querySelectorAll("table.ranking tr[data-unit]")).map(t => t.dataset.unit).sort().join(" ")' | tr -d '"')" \
	"C011 C012 C013" "only U001's communes are listed"
is "$(wd_exec 'return Array.from(document.querySelectorAll("table.ranking tr.empty")).map(t => t.dataset.unit + ": " + t.querySelector("td.n").textContent + ", " + t.querySelector("td.flag").textContent + ", " + getComputedStyle(t).color).join(" ")' | tr -d '"')" \
	"C013: 0, Chưa có phiếu, rgb(107, 116, 128)" "C013 without responses: greyed, n = 0, 'Chưa có phiếu'"
bad=0
for c in C011 C012; do
	got=$(wd_exec "return document.querySelector('table.ranking tr[data-unit=$c] td.value').textContent" | tr -d '"')
	want=$(vi_pct "$(api_value U001 $c)")
	[ "$got" = "$want" ] || { echo "# $c: got $got, want $want" >&2; bad=$((bad + 1)); }
done
tap $bad "each commune's index in the ranking equals the API's"
is "$(wd_count 'svg.chart.ranking rect.bar')" 2 "the bar chart has a bar per ranked commune"
is "$(wd_count 'svg.chart.ranking a[href*="unit=C013"]')" 0 "C013 is not in the chart"
is "$(wd_count 'svg.chart.ranking path.whisker')" 2 "each with its interval whisker"
is "$(wd_exec 'return document.documentElement.scrollWidth <= document.documentElement.clientWidth')" true "no horizontal scroll at 1280 px"
wd_rect 1280 1500
wd_shot "$SHOTS/dashboard-district.png"
wd_exec 'document.querySelector("#items").scrollIntoView(); return 0' >/dev/null
wd_shot "$SHOTS/dashboard-items.png"
wd_rect 1280 900

# Outside the scope.
wd_go "$URL/dashboard?unit=P01&$Q1"
is "$(wd_exec 'return document.querySelector("h1").textContent + "|" + document.querySelectorAll("#summary").length' | tr -d '"')" \
	"Không có quyền xem|0" "the province: the 403 page, no numbers"
wd_go "$URL/dashboard?unit=U002&$Q1"
is "$(text 'h1')" "Không có quyền xem" "a sibling district: the 403 page"

# Drill down and back.
wd_go "$URL/dashboard?unit=U001&$Q1"
wd_click "$(wd_find 'table.ranking tr[data-unit=C011] a')" >/dev/null
is "$(unit_shown)" C011 "clicking C011 in the ranking drills down"
is "$(text '#overall-value')" "$(vi_pct "$(api_value C011 C011)")" "C011's overall index equals the API's"
is "$(wd_exec 'return Array.from(document.querySelectorAll("nav.breadcrumb li")).map(l => l.textContent).join(" > ")' | tr -d '"')" \
	"Huyện Một > Xã Một" "the breadcrumb: Huyện Một > Xã Một"
wd_click "$(wd_find 'nav.breadcrumb a[data-unit=U001]')" >/dev/null
is "$(unit_shown)" U001 "the breadcrumb leads back to U001"
wd_click "$(wd_find 'svg.chart.ranking a')" >/dev/null
case "$(unit_shown)" in C011 | C012) tap 0 "a bar label of the chart drills down too" ;; *) tap 1 "a bar label of the chart drills down too" ;; esac

# The channel filter, through the form.
wd_go "$URL/dashboard?unit=U001&$Q1"
wd_click "$(wd_find 'select[name=channel] option[value=kiosk]')" >/dev/null
wd_click "$(wd_find 'form.filters button[type=submit]')" >/dev/null
is "$(wd_exec 'return new URLSearchParams(location.search).get("channel") + " " + document.querySelector("h1#unit").dataset.unit' | tr -d '"')" \
	"kiosk U001" "choosing Ki-ốt in the form: channel=kiosk in the address"
is "$(text '#overall-value')" "$(vi_pct "$(api_value U001 U001 '&channel=kiosk')")" "U001's kiosk index equals the API's with channel=kiosk"
is "$(wd_count 'svg.chart.ranking rect.bar') $(wd_count 'table.ranking tr.empty')" "1 2" \
	"kiosk: one bar (C011), C012 and C013 listed without responses"
wd_click "$(wd_find 'table.ranking tr[data-unit=C011] a')" >/dev/null
is "$(wd_exec 'return new URLSearchParams(location.search).get("channel") + " " + document.querySelector("h1#unit").dataset.unit' | tr -d '"')" \
	"kiosk C011" "the drill-down keeps the channel"
is "$(text '#overall-value')" "$(vi_pct "$(api_value C011 C011 '&channel=kiosk')")" "C011's kiosk index equals the API's"
wd_click "$(wd_find 'nav.breadcrumb a[data-unit=U001]')" >/dev/null
is "$(wd_exec 'return new URLSearchParams(location.search).get("channel") + " " + document.querySelector("select[name=channel]").value' | tr -d '"')" \
	"kiosk kiosk" "the breadcrumb keeps the channel, the form shows it"
wd_click "$(wd_find '#lang')" >/dev/null
is "$(wd_exec 'return document.documentElement.lang + " " + new URLSearchParams(location.search).get("channel")')" '"en kiosk"' "the English switch (keeps the channel)"

# The respondent filter, through the form.
wd_go "$URL/dashboard?unit=U001&$Q1"
wd_click "$(wd_find 'select[name="respondent.gender"] option[value=f]')" >/dev/null
wd_click "$(wd_find 'select[name="respondent.age_band"] option[value="25-34"]')" >/dev/null
wd_click "$(wd_find 'form.filters button[type=submit]')" >/dev/null
RF='&respondent.gender=f&respondent.age_band=25-34'
is "$(wd_exec 'var q = new URLSearchParams(location.search); return q.get("respondent.gender") + " " + q.get("respondent.age_band") + " " + document.querySelector("h1#unit").dataset.unit' | tr -d '"')" \
	"f 25-34 U001" "choosing Nữ and 25–34 in the form: both in the address"
is "$(text '#overall-value')" "$(vi_pct "$(api_value U001 U001 "$RF")")" "U001's index for women of 25-34 equals the API's with the same filter"
is "$(wd_exec 'return document.querySelector("#respondent-note").offsetHeight > 0')" true "the note on raw responses is shown"
wd_click "$(wd_find 'table.ranking tr[data-unit=C011] a')" >/dev/null
is "$(wd_exec 'var q = new URLSearchParams(location.search); return q.get("respondent.gender") + " " + q.get("respondent.age_band") + " " + document.querySelector("select[name=\"respondent.gender\"]").value + " " + document.querySelector("h1#unit").dataset.unit' | tr -d '"')" \
	"f 25-34 f C011" "the drill-down keeps the filter, the form shows it"
n=$(curl -s --max-time 30 -H "Authorization: Bearer $VIEWER" "$URL/api/v1/indices?survey=sipas-2023&unit=C011&$Q1$RF" | jq -r '.units[0].overall.n // 0')
if [ "$n" -ge 10 ]; then
	is "$(text '#overall-value')" "$(vi_pct "$(api_value C011 C011 "$RF")")" "C011's index for women of 25-34 equals the API's"
else
	is "$(text '#overall-value')" "–" "C011 has $n women of 25-34 (< 10): no number shown"
fi
wd_click "$(wd_find '#logout')" >/dev/null
is "$(wd_exec 'return location.pathname')" '"/login"' "sign out: back at the login"
wd_go "$URL/dashboard?unit=U001&$Q1"
is "$(wd_exec 'return location.pathname')" '"/login"' "after signing out the dashboard is closed again"
wd_quit

# --- a national viewer at the province ----------------------------------------
wd_session "$tmp/chrome-nat" '{"args": ["--window-size=1280,1500"]}' || bail "no WebDriver session ($WD_ERR)"
wd_go "$URL/dashboard?unit=P01&$Q1"
wd_type "$(wd_find '#token')" "$VIEWER"
wd_click "$(wd_find '#login')" >/dev/null
is "$(unit_shown)" P01 "a national viewer sees the province"
is "$(wd_count 'table.ranking tr[data-unit]')" 5 "with its five districts"
is "$(wd_count 'table.ranking tr.few')" 1 "U005 greyed (too few respondents)"
is "$(text '#overall-value')" "$(vi_pct "$(api_value P01 P01)")" "the province's overall index equals the API's"
wd_shot "$SHOTS/dashboard-province.png"
wd_go "$URL/dashboard?unit=P01&$Q1&lang=en"
wd_shot "$SHOTS/dashboard-province-en.png"
wd_rect 360 780
wd_go "$URL/dashboard?unit=P01&$Q1"
is "$(wd_exec 'return document.documentElement.scrollWidth <= 360')" true "360 px: no horizontal scroll of the page"
wd_shot "$SHOTS/dashboard-phone.png"

# Phone first: at 390 px (a phone) and 1366 px (a laptop) nothing scrolls
# sideways, every ranked unit shows its index, interval, n (whole) and flag,
# and no chart label is drawn under 12 px (its font size in SVG units times
# the chart's scale on screen).
layout_check() {
	wd_exec '
	var out = [], de = document.documentElement;
	if (de.scrollWidth > window.innerWidth)
		out.push("page " + de.scrollWidth + " > " + window.innerWidth);
	document.querySelectorAll("table.ranking tr[data-unit]").forEach(function (tr) {
		var r = tr.getBoundingClientRect();
		if (r.width === 0 || r.left < 0 || r.right > window.innerWidth + 0.5)
			out.push(tr.dataset.unit + " row not fully visible");
		tr.querySelectorAll("td.value, td.ci, td.n, td.flag").forEach(function (td) {
			var c = td.getBoundingClientRect();
			if (getComputedStyle(td).display === "none" || c.width === 0 ||
			    td.scrollWidth > td.clientWidth + 1 || c.right > window.innerWidth + 0.5)
				out.push(tr.dataset.unit + " " + td.className + " cut");
		});
	});
	document.querySelectorAll("svg.chart").forEach(function (svg) {
		var scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
		svg.querySelectorAll("text").forEach(function (t) {
			if (getComputedStyle(t).display === "none")
				return;
			var px = parseFloat(getComputedStyle(t).fontSize) * scale;
			if (px < 12)
				out.push(svg.getAttribute("class") + " text \"" + t.textContent + "\" " + px.toFixed(1) + " px");
			var b = t.getBoundingClientRect();
			if (b.right > window.innerWidth + 0.5)
				out.push("\"" + t.textContent + "\" off screen");
		});
	});
	return out.join("; ")' | tr -d '"'
}
for w in 390 1366; do
	wd_rect "$w" 900
	wd_go "$URL/dashboard?unit=P01&$Q1"
	is "$(wd_exec 'return window.innerWidth <= '"$w"' && document.querySelectorAll("table.ranking tr[data-unit]").length')" 5 \
		"$w px: the five districts are listed"
	is "$(layout_check)" "" "$w px: no sideways scrolling, index/interval/n/flag whole, chart labels >= 12 px"
	n=$(curl -s --max-time 30 -H "Authorization: Bearer $VIEWER" "$URL/api/v1/indices?survey=sipas-2023&unit=P01&$Q1&children=1" |
		jq -r '.units[] | select(.unit == "U002") | .overall.n')
	is "$(wd_exec 'return document.querySelector("table.ranking tr[data-unit=U002] td.n").innerText' | tr -d '"')" "$n" \
		"$w px: U002's n is shown whole ($n)"
	wd_exec 'window.scrollTo(0, document.querySelector("#ranking").offsetTop); return 0' >/dev/null
	wd_shot "${SIPAS_SCREENSHOTS:-tests/browser}/dashboard-$w.png"
done
is "$(wd_exec 'return getComputedStyle(document.querySelector("table.ranking tr[data-unit]")).display')" '"table-row"' \
	"1366 px: the ranking is a table"
wd_rect 390 900
wd_go "$URL/dashboard?unit=P01&$Q1"
is "$(wd_exec 'return getComputedStyle(document.querySelector("table.ranking tr[data-unit]")).display')" '"grid"' \
	"390 px: the ranking is one card per unit"
wd_quit

log_clean
finish
