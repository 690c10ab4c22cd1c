#!/usr/bin/env bash
# upload_stream.sh: POST /api/v1/uploads streams its body (daemon/channels/bodystream.c,
# docs/uploads.md) against a real PostgreSQL and sipasd: a 100 MiB file is
# stored with sipasd's memory growing by a few MiB, rows are committed while
# the body is still arriving, refusals (401, 403, 413, 422) answer before or
# without reading the body and store nothing, a client that leaves or stalls
# mid-body keeps the rows before the break and leaves sipasd healthy, chunked
# and pipelined uploads are read whole (held to max_body), and an upload after
# another request on the same connection still streams.
set -u
. "$(dirname "$0")/daemon_lib.sh"

command -v jq >/dev/null || bail "jq is required"
command -v python3 >/dev/null || bail "python3 is required"
db_setup
UPLOADER=$(token uploader)
SCOPED=$(token uploader U002)
VIEWER=$(token viewer)

sipasd_start "max_body = 16384" "upload_max = 150000000" "http_timeout = 3"
port=${URL##*:}
SURVEY=onestop-tt01
count() { sql "SELECT count(*) FROM responses WHERE survey = '$SURVEY' AND source_id LIKE '$1%'"; }
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ]; }

# gen FILE PREFIX MIB [UNIT]: a responses CSV of about MIB MiB, rows of about
# 3 KB (a long respondent comment and long demographics, each at its limit;
# fewer rows keep the database's share of the run small) with ids
# PREFIX-0000000...
gen() {
	python3 - "$1" "$2" "$3" "${4:-U001}" <<'EOF'
import sys
path, prefix, mib, unit = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
fields = ["gender", "age_band", "age", "education", "occupation", "ethnicity", "residence", "disability"]
pad = ",".join(["x" * 200] * len(fields) + ["x" * 1000])
size, i = 0, 0
with open(path, "w") as f:
    head = "id,unit,submitted_at,channel,R1,%s\n" % ",".join("respondent." + k for k in fields + ["comment"])
    f.write(head)
    size = len(head)
    while size < mib * 1048576:
        line = "%s-%07d,%s,2025-03-01T10:00:00+07:00,paper,%d,%s\n" % (prefix, i, unit, 1 + i % 3, pad)
        f.write(line)
        size += len(line)
        i += 1
EOF
}
rows_of() { echo $(($(wc -l <"$1") - 1)); }

# upload TOKEN FILE [CURL ARGS...]: the status; the answer in $tmp/body.
upload() {
	local tok=$1 file=$2 auth=()
	shift 2
	[ -n "$tok" ] && auth=(-H "Authorization: Bearer $tok")
	curl -s -o "$tmp/body" -w '%{http_code}' "${auth[@]}" -H 'Content-Type: text/csv' \
		"$@" --data-binary "@$file" "$URL/api/v1/uploads?survey=$SURVEY"
}
totals() { jq -r '"\(.rows) \(.stored) \(.duplicates) \(.rejected) \(.complete)"' "$tmp/body"; }

# raw SCRIPT: a python client on the daemon's port (s: the socket).
raw() {
	python3 - "$port" "$UPLOADER" "$SURVEY" "$@" <<EOF
import socket, sys, time
port, token, survey = int(sys.argv[1]), sys.argv[2], sys.argv[3]
args = sys.argv[4:]
s = socket.create_connection(("127.0.0.1", port))
def head(length, extra=""):
    return ("POST /api/v1/uploads?survey=%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: text/csv\r\nContent-Length: %d\r\n%s\r\n" % (survey, token, length, extra)).encode()
def answer(timeout=20):
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except (socket.timeout, ConnectionResetError):
        pass
    return data
$(cat)
EOF
}

# --- a 100 MiB file: stored, streamed, memory bounded ------------------------
gen "$tmp/big.csv" big 100
size=$(stat -c %s "$tmp/big.csv")
rows=$(rows_of "$tmp/big.csv")
base=$(hwm)
is "$(upload "$UPLOADER" "$tmp/big.csv")" 200 "a $((size / 1048576)) MiB upload answers 200"
is "$(totals)" "$rows $rows 0 0 true" "all its $rows rows stored"
is "$(count big-)" "$rows" "the $rows rows are in the table"
grep -q "upload $SURVEY: $size bytes, streamed" "$SIPASD_LOG"
tap $? "the body was streamed (log)"
n=$(grep -c "upload $SURVEY: .* rows read" "$SIPASD_LOG")
tap $((n >= 2 ? 0 : 1)) "progress was logged while reading ($n lines, one per 10,000 rows)"
peak=$(hwm)
if ldd "$SIPASD" 2>/dev/null | grep -q libasan; then
	tap 0 "# SKIP memory bound: ASan's allocator keeps freed memory"
else
	growth=$((peak - base))
	tap $((growth < 24576 ? 0 : 1)) "sipasd's peak memory grew by $((growth / 1024)) MiB for a $((size / 1048576)) MiB upload (at most 24 MiB; $((base / 1024)) MiB before)"
fi
is "$(upload "$UPLOADER" "$tmp/big.csv")" 200 "the same file again: 200"
is "$(totals)" "$rows 0 $rows 0 true" "all duplicates, nothing new"

# --- rows are committed while the body is still arriving ---------------------
gen "$tmp/slow.csv" slow 6
srows=$(rows_of "$tmp/slow.csv")
upload "$UPLOADER" "$tmp/slow.csv" --limit-rate 1M >"$tmp/slow.status" &
cpid=$!
mid=0
for i in $(seq 1 100); do
	kill -0 "$cpid" 2>/dev/null || break
	c=$(count slow-)
	if [ "$c" -gt 0 ] && [ "$c" -lt "$srows" ] && kill -0 "$cpid" 2>/dev/null; then
		mid=$c
		break
	fi
	sleep 0.2
done
wait "$cpid"
tap $((mid > 0 ? 0 : 1)) "rows were stored while the client was still sending ($mid of $srows)"
is "$(cat "$tmp/slow.status") $(totals)" "200 $srows $srows 0 0 true" "and the slow upload ends with all rows stored"

# --- refusals: prompt, precise, nothing stored -------------------------------
gen "$tmp/refused.csv" refused 20
is "$(upload "" "$tmp/refused.csv" -H 'Expect:')" 401 "no token, a 20 MiB body sent at once: 401"
is "$(jq -r .error.code "$tmp/body")" unauthorized "the 401 reaches the client whole (JSON error)"
# curl asks "Expect: 100-continue" for a body this large and waits up to
# 1 s for the answer before it sends the body anyway: %{size_upload} says
# how much of the body went out before the 403.
out=$(curl -s -o "$tmp/body" -w '%{http_code} %{size_upload}' -H "Authorization: Bearer $VIEWER" \
	-H 'Content-Type: text/csv' --data-binary "@$tmp/refused.csv" "$URL/api/v1/uploads?survey=$SURVEY")
is "${out%% *}" 403 "a viewer's upload (Expect: 100-continue): 403"
tap $((${out##* } < 1048576 ? 0 : 1)) "answered before the body was sent (${out##* } of $(stat -c %s "$tmp/refused.csv") bytes sent)"
gen "$tmp/u001.csv" scoped 1
is "$(upload "$SCOPED" "$tmp/u001.csv")" 200 "an uploader scoped to U002 uploading U001 rows: 200 with rejections"
is "$(jq -r '"\(.stored) \(.rejected)"' "$tmp/body")" "0 $(rows_of "$tmp/u001.csv")" "every row out of scope is rejected, none stored"
{ printf 'PK\003\004'; head -c 2000000 /dev/zero; } >"$tmp/sheet.xlsx"
is "$(upload "$UPLOADER" "$tmp/sheet.xlsx" -H 'Expect:')" 422 "a streamed body that starts like a zip but is none: 422"
is "$(jq -r .error.code "$tmp/body")" bad_file "with its code"
raw >"$tmp/raw413" <<'EOF'
s.sendall(head(10 ** 11, "Expect: 100-continue\r\n"))
sys.stdout.write(answer().decode(errors="replace"))
EOF
grep -q '^HTTP/1.1 413' "$tmp/raw413"
tap $? "a Content-Length over upload_max: 413 before any body byte"
grep -q 'upload_max' "$tmp/raw413"
tap $? "and the error names upload_max"
! grep -q '100 Continue' "$tmp/raw413"
tap $? "no 100 Continue was sent for it"
is "$(count refused-)$(sql "SELECT count(*) FROM responses WHERE source_id LIKE 'scoped-%'")" 00 "nothing of the refused uploads is stored"
healthy
tap $? "sipasd is healthy after the refusals"

# --- a header of empty column names: memory follows the survey, not the header --
# 12 uploads at once, each a 1 MiB header of empty names then a 1 MiB data row
# of empty fields: each is refused at its first empty name, and sipasd's peak
# memory stays under a fixed ceiling (it went from 48 to 520 MiB when every
# empty name cost an error and a column).
{ printf 'unit,R1'; head -c 1048576 /dev/zero | tr '\0' ','; printf '\nU001,1'; head -c 1048576 /dev/zero | tr '\0' ','; printf '\n'; } >"$tmp/empty-names.csv"
{ printf 'unit,R1'; for i in $(seq 1 200); do printf ',respondent.k%d' "$i"; done; printf '\n'; } >"$tmp/wide.csv"
base=$(hwm)
pids=
for i in $(seq 1 12); do
	curl -s -o "$tmp/empty-$i.json" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" -H 'Content-Type: text/csv' \
		--data-binary "@$tmp/empty-names.csv" "$URL/api/v1/uploads?survey=$SURVEY" >"$tmp/empty-$i.status" &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
peak=$(hwm)
refused=0
for i in $(seq 1 12); do
	[ "$(cat "$tmp/empty-$i.status")" = 422 ] &&
		[ "$(jq -r '[.problems[] | "\(.row) \(.column_number) \(.reason | split(":")[0])"] | join("|")' "$tmp/empty-$i.json")" = "0 3 empty column name" ] &&
		refused=$((refused + 1))
done
is "$refused" 12 "12 uploads at once with 1 MiB of empty column names: each 422 with one error, column 3: empty column name"
[ "$refused" = 12 ] || head -c 600 "$tmp/empty-1.json" | sed 's/^/# /' >&2
if ldd "$SIPASD" 2>/dev/null | grep -q libasan; then
	tap 0 "# SKIP memory bound: ASan's allocator keeps freed memory"
else
	tap $((peak - base < 65536 ? 0 : 1)) "sipasd's peak memory grew by $(((peak - base) / 1024)) MiB for them (at most 64 MiB; $((base / 1024)) MiB before)"
fi
is "$(upload "$UPLOADER" "$tmp/wide.csv")" 422 "a header of 202 columns (onestop-tt01 allows 40) ..."
jq -r '.problems[0] | "\(.column_number) \(.reason)"' "$tmp/body" | grep -q '^41 the header has more than 40 columns'
tap $? "... is refused at column 41, with the limit in the message"
is "$(count empty-)" 0 "nothing stored"

# --- a client that leaves or stalls in the middle of its body ----------------
gen "$tmp/part.csv" part 3
prows=$(rows_of "$tmp/part.csv")
raw "$tmp/part.csv" <<'EOF'
data = open(args[0], "rb").read()
s.sendall(head(len(data) * 2))
s.sendall(data)
time.sleep(1.5)
s.close()
EOF
wait_log "upload $SURVEY: the client stopped sending after"
grep -q "upload $SURVEY: the client stopped sending after $(stat -c %s "$tmp/part.csv") of" "$SIPASD_LOG"
tap $? "a client that leaves mid-body: logged with the bytes that came"
for i in $(seq 1 50); do
	[ "$(count part-)" = "$prows" ] && break
	sleep 0.2
done
is "$(count part-)" "$prows" "the $prows whole rows sent before it left are stored"
is "$(sql "SELECT detail->>'complete' FROM audit_log WHERE action = 'upload' ORDER BY id DESC LIMIT 1")" false \
	"its audit row says the upload is not complete"
raw "$tmp/part.csv" >"$tmp/stall.out" <<'EOF'
data = open(args[0], "rb").read()[:100000]
s.sendall(head(10 ** 7))
s.sendall(data)
t = time.time()
answer(15)
sys.stdout.write("%.0f" % (time.time() - t))
EOF
secs=$(cat "$tmp/stall.out")
tap $((secs >= 2 && secs <= 10 ? 0 : 1)) "a client that stalls mid-body is closed after the idle timeout (${secs} s, http_timeout = 3)"
healthy
tap $? "sipasd is healthy after both"

# --- not streamed: chunked, pipelined; streamed after another request --------
head -n 2 "$FIXTURES/onestop-simple.csv" | sed 's/U001-00001/chunk-1/' >"$tmp/chunk.csv"
is "$(upload "$UPLOADER" "$tmp/chunk.csv" -H 'Transfer-Encoding: chunked')" 200 "a small chunked upload (read whole): 200"
is "$(totals)" "1 1 0 0 true" "its row stored"
is "$(upload "$UPLOADER" "$tmp/u001.csv" -H 'Transfer-Encoding: chunked' -H 'Expect:')" 413 "a chunked upload over max_body: 413"
jq -r .error.message "$tmp/body" | grep -q 'Content-Length'
tap $? "and the error says to send it with a Content-Length"
head -n 3 "$FIXTURES/onestop-simple.csv" | sed 's/U001-0000/after-/' >"$tmp/after.csv"
n0=$(grep -c "streamed" "$SIPASD_LOG")
out=$(curl -s -o /dev/null -w '%{http_code} ' "$URL/healthz" --next -s -o "$tmp/body" \
	-w '%{http_code} %{num_connects}' -H "Authorization: Bearer $UPLOADER" -H 'Content-Type: text/csv' \
	--data-binary "@$tmp/after.csv" "$URL/api/v1/uploads?survey=$SURVEY")
is "$out" "200 200 0" "an upload after a GET on the same connection: 200 (no new connection)"
is "$(($(grep -c "streamed" "$SIPASD_LOG") - n0)) $(totals)" "1 2 2 0 0 true" "it was streamed and its rows stored"
head -n 3 "$FIXTURES/onestop-simple.csv" | sed 's/U001-0000/piped-/' >"$tmp/piped.csv"
raw "$tmp/piped.csv" >"$tmp/piped.out" <<'EOF'
data = open(args[0], "rb").read()
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + head(len(data), "Connection: close\r\n") + data)
sys.stdout.write(answer().decode(errors="replace"))
EOF
is "$(grep -o 'HTTP/1.1 200' "$tmp/piped.out" | wc -l)" 2 "an upload pipelined behind a GET: both answered 200"
is "$(count piped-)" 2 "its rows stored (read whole)"
raw "$tmp/piped.csv" >"$tmp/after.out" <<'EOF'
data = open(args[0], "rb").read().replace(b"piped-", b"first-")
s.sendall(head(len(data)) + data + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
sys.stdout.write(answer().decode(errors="replace"))
EOF
is "$(grep -o 'HTTP/1.1 [0-9]*' "$tmp/after.out" | wc -l) $(grep -ci '^Connection: close' "$tmp/after.out")" "1 1" \
	"a request pipelined after a streamed upload: the upload answered, then the connection closed"
is "$(count first-)" 2 "the upload's rows stored"

# --- two streamed uploads at once --------------------------------------------
gen "$tmp/a.csv" conc-a 4
gen "$tmp/b.csv" conc-b 4 U002
upload "$UPLOADER" "$tmp/a.csv" >"$tmp/a.status" &
p1=$!
curl -s -o "$tmp/body-b" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" -H 'Content-Type: text/csv' \
	--data-binary "@$tmp/b.csv" "$URL/api/v1/uploads?survey=$SURVEY" >"$tmp/b.status"
wait "$p1"
is "$(cat "$tmp/a.status") $(cat "$tmp/b.status")" "200 200" "two uploads streamed at once: both 200"
is "$(count conc-a) $(count conc-b)" "$(rows_of "$tmp/a.csv") $(rows_of "$tmp/b.csv")" "and both stored whole"

log_clean
sipasd_stop
tap $? "sipasd stops cleanly (SIGTERM)"
finish
