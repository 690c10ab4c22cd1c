-- bench/ingest.lua: the wrk script of bench/ingest.sh. Every request
-- is a valid POST /api/v1/responses of the survey sipas-2023 (the 39 SAT5
-- items Q9_1..Q9_39 and the 10 EXP4 items Q10_1..Q10_10) with a unique "id"
-- PREFIX-tTHREAD-COUNTER, so that each one is a new row. Counts the statuses
-- (201, 200, 503, other) and prints, from done(), one line that ingest.sh
-- parses:
--
--	BENCH sent=N s201=N s200=N s503=N other=N rps=R p50_us=N ... p999_us=N ...
--
-- Environment: BENCH_TOKEN (collector token), BENCH_PREFIX (id prefix),
-- BENCH_UNITS (unit codes, comma-separated).

local token = os.getenv("BENCH_TOKEN") or ""
local prefix = os.getenv("BENCH_PREFIX") or "bench"
local unitlist = os.getenv("BENCH_UNITS") or "BP-001"

local threads = {}
local nthreads = 0

-- Main context: number each thread and keep it for done().
function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
	table.insert(threads, thread)
end

-- Thread context from here to done().
local units = {}
local counter = 0
sent, s201, s200, s503, other = 0, 0, 0, 0, 0
local headers

function init(args)
	for u in string.gmatch(unitlist, "[^,]+") do
		table.insert(units, u)
	end
	headers = {
		["Authorization"] = "Bearer " .. token,
		["Content-Type"] = "application/json",
	}
end

-- A deterministic, varied response: answers derived from the counter.
function request()
	counter = counter + 1
	sent = counter
	local n = counter
	local a = {}
	for i = 1, 39 do
		a[#a + 1] = string.format('"Q9_%d":%d', i, 1 + (n * 7 + i * 3) % 5)
	end
	for i = 1, 10 do
		a[#a + 1] = string.format('"Q10_%d":%d', i, 1 + (n + i) % 4)
	end
	local body = string.format(
		'{"id":"%s-t%d-%d","survey":"sipas-2023","unit":"%s","channel":"web",' ..
		'"submitted_at":"2025-%02d-%02dT%02d:%02d:00+07:00","answers":{%s}}',
		prefix, tid, n, units[1 + n % #units], 1 + n % 12, 1 + n % 28,
		7 + n % 10, n % 60, table.concat(a, ","))
	return wrk.format("POST", "/api/v1/responses", headers, body)
end

function response(status, hdrs, body)
	if status == 201 then
		s201 = s201 + 1
	elseif status == 200 then
		s200 = s200 + 1
	elseif status == 503 then
		s503 = s503 + 1
	else
		other = other + 1
		if other <= 3 then
			io.stderr:write(string.format("ingest.lua: HTTP %d %s\n", status, body or ""))
		end
	end
end

-- Main context: the totals over the threads and the latency percentiles (us).
function done(summary, latency, requests)
	local t = { sent = 0, s201 = 0, s200 = 0, s503 = 0, other = 0 }
	for _, thread in ipairs(threads) do
		for k, _ in pairs(t) do
			t[k] = t[k] + (thread:get(k) or 0)
		end
	end
	local e = summary.errors
	io.write(string.format(
		"BENCH sent=%d s201=%d s200=%d s503=%d other=%d completed=%d rps=%.1f " ..
		"p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d " ..
		"err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
		t.sent, t.s201, t.s200, t.s503, t.other, summary.requests,
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(90), latency:percentile(99),
		latency:percentile(99.9), latency.max, e.connect, e.read, e.write,
		e.status, e.timeout))
end
