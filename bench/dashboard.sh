#!/usr/bin/env bash
# bench/dashboard.sh: page load of GET /dashboard for a province with 100
# child units and N stored responses (default 1,000,000, sipas-2023, spread
# over the 8 quarters 2023-Q2 .. 2025-Q1). A measurement, not a test: prints
# the time of each load (curl time_total) and of GET /api/v1/indices, after
# the responses were folded into the aggregates (sipasctl aggregate, timed).
#
#	top_builddir=BUILD bench/dashboard.sh [N] [RUNS]
set -u
N=${1:-1000000}
RUNS=${2:-5}
. "$(dirname "$0")/../tests/integration/daemon_lib.sh"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
{
	echo "code,name,level,parent"
	echo "P,Tỉnh,province,"
	for i in $(seq -w 1 100); do echo "D$i,Huyện $i,district,P"; done
} >"$tmp/units.csv"
"$SIPASCTL" --db "$DSN" unit import "$tmp/units.csv" >/dev/null || bail "units"
t0=$(date +%s.%N)
"$PSQL" -X -q -d "$DSN" >/dev/null <<EOSQL || bail "data"
SELECT setseed(0.5);
INSERT INTO responses (survey, unit, source_id, submitted_at, channel, answers, content_hash)
SELECT 'sipas-2023', 'D' || lpad((1 + g % 100)::text, 3, '0'), 'b' || g,
	timestamptz '2023-04-01 08:00+07' + (g % 730) * interval '1 day',
	'web', a.answers, md5(g::text)
FROM generate_series(1, $N) g
JOIN LATERAL (SELECT jsonb_object_agg('Q9_' || i, 1 + floor(random() * 5)::int + 0 * g) AS answers
	FROM generate_series(1, 39) i) a ON true;
ANALYZE responses;
EOSQL
t1=$(date +%s.%N)
echo "# loaded $(sql 'SELECT count(*) FROM responses') responses in $(echo "$t1 - $t0" | bc) s"
t0=$(date +%s.%N)
"$SIPASCTL" --db "$DSN" aggregate >"$tmp/agg.out" 2>/dev/null || bail "sipasctl aggregate"
t1=$(date +%s.%N)
echo "# sipasctl aggregate: $(cat "$tmp/agg.out") in $(echo "$t1 - $t0" | bc) s; $(sql 'SELECT count(*) FROM agg_states') states, $(sql "SELECT pg_size_pretty(sum(pg_column_size(state))) FROM agg_states")"
VIEWER=$(token viewer P)
sipasd_start "report_today = 2025-04-10" "http_timeout = 600"
C=$tmp/cookies
curl -s -c "$C" -o /dev/null --data-urlencode "token=$VIEWER" "$URL/login"
for i in $(seq 1 "$RUNS"); do
	curl -s -b "$C" -o "$tmp/page.html" -w "dashboard P (quarter 2025-Q1 + previous + 8 trend quarters): %{http_code} %{time_total} s\n" \
		"$URL/dashboard?unit=P"
done
echo "# child units on the page: $(grep -c '<tr class="[a-z]*" data-unit="D' "$tmp/page.html")"
for i in $(seq 1 "$RUNS"); do
	curl -s -H "Authorization: Bearer $VIEWER" -o /dev/null -w "api/v1/indices P 2025-Q1 children=1: %{http_code} %{time_total} s\n" \
		"$URL/api/v1/indices?survey=sipas-2023&unit=P&from=2025-01-01&to=2025-03-31&children=1"
done
