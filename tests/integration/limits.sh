#!/usr/bin/env bash
# limits.sh: every limit of sipasd answered with its status and counted in
# GET /metrics (docs/operations.md): body size (413, JSON error), a request
# sent too slowly (slowloris: 408 and the connection closed), too many
# connections (503), per-address and per-token rate limits (429 with
# Retry-After), a full queue (503), headers over 16 KiB (431); the metrics
# token; the security headers;
# the ingest latency and batch size histograms.
set -u
. "$(dirname "$0")/daemon_lib.sh"

db_setup
COLLECTOR=$(token collector)

body() { # body ID
	printf '{"id":"%s","survey":"onestop-tt01","unit":"U001","answers":{"R1":3}}' "$1"
}

# metric NAME_WITH_LABELS: its value in /metrics (the metrics token is MTOKEN).
metric() {
	curl -s -H "Authorization: Bearer $MTOKEN" "$URL/metrics" |
	    awk -v m="$1" '$1 == m { print $2; exit }'
}

# port: the port of $URL.
port() {
	echo "${URL##*:}"
}

MTOKEN=metrics-secret-1
sipasd_start "max_body = 1024" "upload_max = 1024" "max_connections = 4" \
    "request_timeout = 2" "http_timeout = 30" "metrics_token = $MTOKEN"

# --- /metrics ----------------------------------------------------------------
is "$(get '' /metrics)" 401 "/metrics without the metrics token: 401"
is "$(get wrong /metrics)" 401 "/metrics with a wrong token: 401"
is "$(get "$MTOKEN" /metrics)" 200 "/metrics with the metrics token: 200"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/headers"
tap $? "/metrics is the Prometheus text format"
grep -q '^# TYPE sipas_ingest_latency_seconds histogram' "$tmp/body"
tap $? "/metrics has the ingest latency histogram"

# --- security headers ----------------------------------------------------------
is "$(post "$COLLECTOR" "$(body h-1)")" 201 "a response is stored"
grep -qi "^X-Content-Type-Options: nosniff" "$tmp/headers" &&
    grep -qi "^Content-Security-Policy: .*frame-ancestors 'none'" "$tmp/headers" &&
    grep -qi "^Referrer-Policy: no-referrer" "$tmp/headers"
tap $? "API replies carry nosniff, CSP frame-ancestors 'none' and Referrer-Policy"
is "$(metric 'sipas_http_requests_total{route="/api/v1/responses",method="POST",status="201"}')" 1 \
    "the 201 is counted by route, method and status"
is "$(metric sipas_ingest_latency_seconds_count)" 1 "its latency is in the histogram"
is "$(metric sipas_ingest_batch_size_count)" 1 "its batch is in the batch size histogram"
is "$(metric 'sipas_db_connections_total{db="write"}')" 1 "the write connection is counted"

# --- body size -----------------------------------------------------------------
big=$(printf '{"id":"big","survey":"onestop-tt01","unit":"U001","answers":{"R1":3},"psu":"%01500d"}' 0)
is "$(post "$COLLECTOR" "$big")" 413 "a body over max_body: 413"
is "$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$tmp/body")" too_large "with the JSON error shape (code too_large)"
is "$(metric 'sipas_limit_rejections_total{limit="body_size"}')" 1 "the 413 is counted"
# Far over every route's limit (upload_max + headers): cut off as it arrives.
head -c 100000 /dev/zero | tr '\0' 'x' >"$tmp/huge"
st=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $COLLECTOR" \
    -H 'Content-Type: application/json' --data-binary @"$tmp/huge" "$URL/api/v1/responses")
is "$st" 413 "a body over upload_max and the headers: 413 before it is read"
is "$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$tmp/body")" too_large "with the JSON error shape too"
is "$(metric 'sipas_limit_rejections_total{limit="body_size"}')" 2 "and counted"

# --- header size ---------------------------------------------------------------
# A request line and headers over 16 KiB: sipasd's JSON 431, not libevent's page.
long=$(head -c 17000 /dev/zero | tr '\0' 'h')
st=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "X-Long: $long" "$URL/healthz")
is "$st" 431 "headers over 16 KiB: 431"
is "$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$tmp/body")" headers_too_large "with the JSON error shape (code headers_too_large)"
is "$(metric 'sipas_limit_rejections_total{limit="headers"}')" 1 "and counted"
long=$(head -c 15000 /dev/zero | tr '\0' 'h')
is "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Long: $long" "$URL/healthz")" 200 "headers of 15 KB are served"

# --- slowloris -----------------------------------------------------------------
# One byte every 0.4 s: never idle for http_timeout, but never done either.
exec 7<>"/dev/tcp/127.0.0.1/$(port)" || bail "cannot connect"
req=$'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n'
(
	for ((i = 0; i < ${#req}; i++)); do
		printf '%s' "${req:i:1}" >&7 2>/dev/null || exit 0
		sleep 0.4
	done
) &
writer=$!
t0=$SECONDS
timeout 15 cat <&7 >"$tmp/slow"
t1=$SECONDS
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
exec 7>&-
head -n 1 "$tmp/slow" | grep -q '^HTTP/1.1 408'
tap $? "a client sending its headers byte by byte gets 408"
[ $((t1 - t0)) -le 6 ]
tap $? "and is cut off after request_timeout (took $((t1 - t0)) s, the request needs 30 s)"
is "$(metric 'sipas_limit_rejections_total{limit="request_timeout"}')" 1 "the 408 is counted"
is "$(get '' /healthz)" 200 "the daemon still serves others"

# --- maximum connections -------------------------------------------------------
accepted=$(grep -c 'connection accepted: 4 open' "$SIPASD_LOG")
exec 3<>"/dev/tcp/127.0.0.1/$(port)" 4<>"/dev/tcp/127.0.0.1/$(port)" \
    5<>"/dev/tcp/127.0.0.1/$(port)" 6<>"/dev/tcp/127.0.0.1/$(port)" || bail "cannot connect"
wait_log 'connection accepted: 4 open' $((accepted + 1)) || bail "sipasd did not accept the four connections"
is "$(get '' /healthz)" 503 "a fifth connection over max_connections = 4: 503"
grep -q 'too many connections' "$tmp/body"
tap $? "saying why"
exec 3>&- 4>&- 5>&- 6>&-
ok=1
for i in $(seq 1 900); do
	[ "$(get '' /healthz)" = 200 ] && { ok=0; break; }
	sleep 0.1
done
tap $ok "once they close, connections are accepted again"
is "$(metric 'sipas_limit_rejections_total{limit="connections"}')" 1 "the refused connection is counted"
sipasd_stop
is $? 0 "sipasd exits 0 on SIGTERM"

# --- rate limits ---------------------------------------------------------------
# A token every 100 s: the burst is spent long before one comes back.
sipasd_start "rate_ip = 0.01" "rate_ip_burst = 3"
codes=
for i in 1 2 3 4 5; do
	codes="$codes $(get '' /nope)"
done
is "$codes" " 404 404 404 429 429" "per address: the burst, then 429"
grep -qi '^Retry-After: [1-9]' "$tmp/headers"
tap $? "the 429 carries Retry-After"
is "$(sed -n 's/.*"code":"\([^"]*\)".*/\1/p' "$tmp/body")" rate_limited "with the JSON error shape"
is "$(get '' /healthz)" 200 "/healthz is not rate limited"
MTOKEN=
is "$(metric 'sipas_limit_rejections_total{limit="rate_ip"}')" 2 "both 429 are counted"
sipasd_stop

sipasd_start "rate_token = 0.01" "rate_token_burst = 2"
OTHER=$(token collector)
codes=
for i in 1 2 3; do
	codes="$codes $(post "$COLLECTOR" "$(body t-$i)")"
done
is "$codes" " 201 201 429" "per token: the burst, then 429"
grep -qi '^Retry-After: [1-9]' "$tmp/headers"
tap $? "the 429 carries Retry-After"
is "$(post "$OTHER" "$(body t-other)")" 201 "another token is not limited"
is "$(metric 'sipas_limit_rejections_total{limit="rate_token"}')" 1 "the 429 is counted"
sipasd_stop

# --- bounded queue -------------------------------------------------------------
# queue_max = 1, and the table locked until the test commits: the first
# response's batch waits for the lock, the second waits in the queue, the
# third finds it full.
sipasd_start "queue_max = 1" "batch_max = 1"
MTOKEN=
# Each step waits for the state it needs (a loaded machine is slow).
table_lock responses || bail "the table responses was not seen locked"
post "$COLLECTOR" "$(body q-1)" >"$tmp/q1" &
first=$!
wait_metric sipas_ingest_batch_size_count 1 || echo "# q-1's batch not seen" >&2
post "$COLLECTOR" "$(body q-2)" >"$tmp/q2" &
second=$!
wait_metric sipas_ingest_queue_depth 1 || echo "# q-2 not seen queued" >&2
is "$(post "$COLLECTOR" "$(body q-3)")" 503 "a response beyond queue_max: 503"
grep -qi '^Retry-After:' "$tmp/headers"
tap $? "with Retry-After"
is "$(metric sipas_ingest_queue_depth)" 1 "the queue depth gauge shows the waiting response"
table_unlock
wait "$first" "$second"
is "$(cat "$tmp/q1") $(cat "$tmp/q2")" "201 201" "the two accepted ones are stored once the lock goes"
is "$(metric 'sipas_limit_rejections_total{limit="queue"}')" 1 "the full queue is counted"
is "$(metric sipas_ingest_queue_depth)" 0 "the queue depth gauge is back to 0"
is "$(metric sipas_ingest_batch_size_count)" 2 "two batches of one"
sipasd_stop
is $? 0 "sipasd exits 0 on SIGTERM"

log_clean
finish
