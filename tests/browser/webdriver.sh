# webdriver.sh: a tiny W3C WebDriver client in shell (curl and jq) for the
# browser tests: chromedriver drives a headless Debian chromium. Sourced.
#
#	wd_driver_start DIR	start chromedriver on a free port (WD=base URL)
#	wd_session JSON_OPTS	new session with goog:chromeOptions extras; WDS=session URL
#	wd_go URL, wd_find CSS (prints the element id), wd_click ID, wd_text ID,
#	wd_exec SCRIPT (prints the JSON value), wd_shot FILE, wd_quit
#	wd_wait WANT CMD...	poll CMD until it prints WANT (or WD_WAIT seconds)

WD=
WDS=
WD_PID=
WD_LOG=
WD_ERR=

# wd_call METHOD URL [JSON]: the JSON reply on stdout.
wd_call() {
	curl -s --max-time 20 -X "$1" -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$2"
}

# wd_driver_start DIR: chromedriver on a free localhost port.
wd_driver_start() {
	local port i
	for i in 1 2 3 4 5; do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		WD_LOG=$1/chromedriver.log
		chromedriver --port="$port" --allowed-ips=127.0.0.1 >"$WD_LOG" 2>&1 &
		WD_PID=$!
		for _ in $(seq 1 50); do
			if curl -s "http://127.0.0.1:$port/status" | jq -e '.value.ready' >/dev/null 2>&1; then
				WD=http://127.0.0.1:$port
				return 0
			fi
			kill -0 "$WD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$WD_PID" 2>/dev/null
		wait "$WD_PID" 2>/dev/null
	done
	return 1
}

wd_driver_stop() {
	[ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
	WD_PID=
}

# wd_session PROFILE_DIR EXTRA_OPTIONS_JSON: headless chromium; EXTRA is merged
# into goog:chromeOptions (e.g. mobileEmulation, prefs, more args).
wd_session() {
	local dir=$1 extra=${2:-'{}'} caps id= try reply
	caps=$(jq -n --arg dir "$dir" --argjson extra "$extra" '{capabilities: {alwaysMatch: {
		browserName: "chrome",
		"goog:chromeOptions": ({binary: "/usr/bin/chromium",
			args: (["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking",
				"--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--hide-scrollbars",
				"--user-data-dir=" + $dir] + ($extra.args // []))}
			+ ($extra | del(.args)))}}}')
	# Chromium can be slow to start, or fail to, on a loaded machine (CI
	# runs the suite two tests at a time): up to 90 s a try, and three
	# tries, each after a fresh chromedriver. WD_ERR keeps what the last
	# try answered, for the test's bail message.
	for try in 1 2 3; do
		reply=$(curl -s --max-time 90 -X POST -H 'Content-Type: application/json' \
			--data-binary "$caps" "$WD/session")
		id=$(printf '%s' "$reply" | jq -r '.value.sessionId // empty' 2>/dev/null)
		[ -n "$id" ] && break
		WD_ERR="try $try: $(printf '%s' "$reply" | jq -r '.value.message // empty' 2>/dev/null |
			head -c 300 | tr '\n' ' ') | chromedriver: $(tail -n 3 "$WD_LOG" 2>/dev/null |
			head -c 300 | tr '\n' ' ')"
		echo "# no WebDriver session, $WD_ERR" >&2
		rm -rf "$dir"
		wd_driver_stop
		sleep 2
		wd_driver_start "$(dirname "$WD_LOG")" || break
	done
	[ -n "$id" ] || return 1
	WDS=$WD/session/$id
}

wd_go() { wd_call POST "$WDS/url" "$(jq -n --arg u "$1" '{url: $u}')" >/dev/null; }
wd_url() { wd_call GET "$WDS/url" | jq -r .value; }
wd_refresh() { wd_call POST "$WDS/refresh" '{}' >/dev/null; }
wd_back() { wd_call POST "$WDS/back" '{}' >/dev/null; }
wd_find() {
	wd_call POST "$WDS/element" "$(jq -n --arg c "$1" '{using: "css selector", value: $c}')" |
		jq -r '.value["element-6066-11e4-a52e-4f735466cecf"] // empty'
}
wd_count() {
	wd_call POST "$WDS/elements" "$(jq -n --arg c "$1" '{using: "css selector", value: $c}')" |
		jq -r '.value | length'
}
wd_click() { wd_call POST "$WDS/element/$1/click" '{}' | jq -r '.value.error // "ok"'; }
wd_type() { wd_call POST "$WDS/element/$1/value" "$(jq -n --arg t "$2" '{text: $t}')" >/dev/null; }
wd_text() { wd_call GET "$WDS/element/$1/text" | jq -r .value; }
wd_attr() { wd_call GET "$WDS/element/$1/property/$2" | jq -r .value; }
wd_exec() { wd_call POST "$WDS/execute/sync" "$(jq -n --arg s "$1" '{script: $s, args: []}')" | jq -c .value; }
wd_rect() { wd_call POST "$WDS/window/rect" "{\"width\": $1, \"height\": $2}" >/dev/null; }
wd_shot() { wd_call GET "$WDS/screenshot" | jq -r .value | base64 -d >"$1"; }
# wd_wait WANT CMD...: run CMD, a command printing one value about the page,
# until it prints WANT or WD_WAIT seconds (default 90) have passed; prints
# its last value. For a page that a click or a refresh is still loading.
wd_wait() {
	local want=$1 got end=$((SECONDS + ${WD_WAIT:-90}))
	shift
	while :; do
		got=$("$@")
		[ "$got" = "$want" ] && break
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.2
	done
	printf '%s\n' "$got"
}

wd_quit() { [ -n "$WDS" ] && wd_call DELETE "$WDS" >/dev/null; WDS=; }
