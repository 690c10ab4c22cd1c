#!/bin/bash
# report.sh: periodic reports (docs/reports.md) against a real
# PostgreSQL and sipasd: sipasctl report in every format read back (CSV
# figures against R's reference to 1e-6, PDF text, XLSX sheets, HTML), an
# empty period, GET /api/v1/reports (the same CSV figures, headers, roles, scope),
# and the schedule producing a closed period's reports once.
. "$(dirname "$0")/daemon_lib.sh"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null || bail "sipasctl init failed"
units_setup || bail "unit import failed"
"$SIPASCTL" --db "$DSN" import --survey sipas-2017 "$FIXTURES/sipas2017-simple.csv" \
	>/dev/null 2>"$tmp/import.err" || bail "import failed: $(cat "$tmp/import.err")"
is "$(sql "SELECT count(*) FROM responses")" 600 "600 fixture rows stored"

# report FORMAT FILE [ARGS]: sipasctl report of P01 for 2025.
report() {
	local fmt=$1 out=$2
	shift 2
	"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 \
		--from 2025-01-01 --to 2025-12-31 --format "$fmt" -o "$out" "$@" 2>"$tmp/report.err"
}

# --- CSV: every figure of U001..U004 equals R's reference ---
report csv "$tmp/r.csv"
is $? 0 "report --format csv exits 0"
jq -r '.units[] | .unit as $u |
	([.overall] + .groups + .items + .expectations)[] |
	[$u, .code, (.value // "NA"), (.ci_low // "NA"), (.ci_high // "NA"), .n] | @csv' \
	"$FIXTURES/sipas2017-simple.expected.json" | tr -d '"' >"$tmp/expected.csv"
awk -F, '
	NR == FNR { want[$1 "," $2] = $0; nwant++; next }
	FNR == 1 { next }
	($1 "," $3) in want {
		split(want[$1 "," $3], w, ",")
		seen++
		for (i = 4; i <= 6; i++) {
			if (w[i - 1] == "NA") { if ($i != "") bad++; continue }
			d = $i - w[i - 1]; if (d < 0) d = -d
			if ($i == "" || d > 1e-6) { bad++; print "mismatch " $0 " want " want[$1 "," $3] > "/dev/stderr" }
		}
		if ($7 != w[6]) bad++
	}
	END { printf "%d %d %d\n", nwant, seen, bad }' "$tmp/expected.csv" "$tmp/r.csv" >"$tmp/cmp"
read -r nwant seen bad <"$tmp/cmp"
tap $([ "$nwant" -gt 100 ] && [ "$seen" = "$nwant" ] && [ "$bad" = 0 ]; echo $?) \
	"CSV: all $nwant figures of U001..U004 agree with R to 1e-6 (seen $seen, bad $bad)"
is "$(grep -c '^P01,overall,' "$tmp/r.csv")" 1 "CSV has the parent's overall row"
is "$(awk -F, '$1 == "P01" && $2 == "overall" { print $7 }' "$tmp/r.csv")" 600 \
	"the parent's overall n is the 600 respondents of its children (merged)"

# The parent's figures equal an analysis of all its rows as one unit.
sed -e '1!s/^\("[^"]*"\),"U00[0-9]"/\1,"P01"/' "$FIXTURES/sipas2017-simple.csv" >"$tmp/pooled.csv"
"$SIPASCTL" analyze --survey sipas-2017 --input "$tmp/pooled.csv" --format csv >"$tmp/pooled.out" 2>/dev/null
awk -F, '{ gsub(/"/, "") }
	NR == FNR { if ($1 == "P01") v[$3] = $4; next }
	$1 == "P01" && ($3 in v) { d = $4 - v[$3]; if (d < 0) d = -d; if (d > 1e-9) bad++; n++ }
	END { print n + 0, bad + 0 }' "$tmp/pooled.out" "$tmp/r.csv" >"$tmp/cmp"
read -r n bad <"$tmp/cmp"
tap $([ "$n" -gt 20 ] && [ "$bad" = 0 ]; echo $?) \
	"the parent by analysis_merge equals the pooled analysis ($n indices, $bad off)"

# --- trend: Q4 2025 with --trend 4 gives Q1..Q4, each the pooled quarter ---
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-10-01 \
	--to 2025-12-31 --trend 4 --format csv -o "$tmp/q4.csv" 2>"$tmp/report.err"
is $? 0 "report of Q4 2025 with --trend 4 exits 0"
is "$(awk -F, '$1 == "P01" && $2 == "trend" { printf "%s ", $3 }' "$tmp/q4.csv")" \
	"Quý I/2025 Quý II/2025 Quý III/2025 Quý IV/2025 " "CSV: four trend points Quý I/2025..Quý IV/2025, oldest first"
bad=0
for q in 1 2 3 4; do
	roman=$(echo "I II III IV" | cut -d' ' -f$q)
	# The quarter's rows by the month of submitted_at (all +07:00 in the fixture).
	awk -F, -v q=$q 'NR == 1 || int((substr($3, 7, 2) - 1) / 3) + 1 == q' "$tmp/pooled.csv" \
		>"$tmp/pooled-q$q.csv"
	"$SIPASCTL" analyze --survey sipas-2017 --input "$tmp/pooled-q$q.csv" --format csv \
		>"$tmp/pooled-q$q.out" 2>/dev/null
	awk -F, -v q="Quý $roman/2025" '{ gsub(/"/, "") }
		NR == FNR { if ($1 == "P01" && $2 == "overall") { v = $4; lo = $5; hi = $6; n = $7 }; next }
		$1 == "P01" && $2 == "trend" && $3 == q {
			seen = 1
			if (v == "" || $4 - v > 1e-9 || v - $4 > 1e-9 || $5 - lo > 1e-9 || lo - $5 > 1e-9 ||
			    $6 - hi > 1e-9 || hi - $6 > 1e-9 || $7 != n) {
				print "trend " q ": " $4 " " $5 " " $6 " n " $7 ", analyze " v " " lo " " hi " n " n > "/dev/stderr"
				exit 1
			}
		}
		END { exit !seen }' "$tmp/pooled-q$q.out" "$tmp/q4.csv" || bad=$((bad + 1))
done
is "$bad" 0 "each trend point equals sipasctl analyze of that quarter's pooled rows (1e-9, n)"
is "$(awk -F, '$1 == "P01" && $2 == "overall" { print $7 }' "$tmp/q4.csv")" \
	"$(awk -F, '{ gsub(/"/, "") } $1 == "P01" && $2 == "overall" { print $7 }' "$tmp/pooled-q4.out")" \
	"the Q4 report's own overall n is Q4's"
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-10-01 \
	--to 2025-12-31 --trend 4 --format xlsx -o "$tmp/q4.xlsx" 2>"$tmp/report.err"
is $? 0 "the same as XLSX exits 0"
tap $(unzip -p "$tmp/q4.xlsx" xl/workbook.xml 2>/dev/null | grep -q 'name="Xu hướng"' &&
	unzip -p "$tmp/q4.xlsx" xl/sharedStrings.xml 2>/dev/null | grep -q 'Quý I/2025'; echo $?) \
	"XLSX has a Xu hướng sheet naming Quý I/2025"
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-10-01 \
	--to 2025-12-31 --trend 0 --format csv -o "$tmp/x.csv" 2>/dev/null
is $? 2 "--trend 0: exit 2"

# --- PDF ---
report pdf "$tmp/r.pdf"
is $? 0 "report --format pdf exits 0"
pdftotext -layout "$tmp/r.pdf" "$tmp/r.txt" 2>/dev/null
overall=$(jq -r '.units[0].overall.value' "$FIXTURES/sipas2017-simple.expected.json")
for name in "Tỉnh Thử Nghiệm" "Huyện Một" "Huyện Hai" "Huyện Ba" "Huyện Bốn"; do
	tap $(grep -q "$name" "$tmp/r.txt"; echo $?) "PDF names unit $name"
done
u001=$(printf '%.2f' "$overall" | tr . ,)
tap $(grep -q "$u001" "$tmp/r.txt"; echo $?) "PDF shows U001's overall as $u001 (decimal comma)"
tap $(pdftoppm -r 30 -png -f 1 -l 1 "$tmp/r.pdf" "$tmp/page" 2>/dev/null && ls "$tmp"/page*.png >/dev/null 2>&1; echo $?) \
	"PDF renders (pdftoppm)"

# --- XLSX ---
report xlsx "$tmp/r.xlsx"
is $? 0 "report --format xlsx exits 0"
sheets=$(unzip -Z1 "$tmp/r.xlsx" 2>/dev/null | grep -c '^xl/worksheets/sheet[0-9]*\.xml$')
tap $([ "$sheets" -ge 8 ]; echo $?) "XLSX has one sheet per table ($sheets sheets)"
tap $(unzip -p "$tmp/r.xlsx" xl/sharedStrings.xml 2>/dev/null | grep -q "Huyện Một"; echo $?) \
	"XLSX names the child units"

# --- HTML, English ---
report html "$tmp/r.html" --lang en
is $? 0 "report --format html --lang en exits 0"
tap $(grep -q '<html' "$tmp/r.html" && grep -q "Huyện Bốn" "$tmp/r.html" &&
	grep -q "$(printf '%.2f' "$overall")" "$tmp/r.html"; echo $?) \
	"HTML has the units and U001's overall with a decimal point"

# --- an empty period, bad usage ---
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2019-01-01 \
	--to 2019-12-31 --format pdf -o "$tmp/empty.pdf" 2>"$tmp/report.err"
is $? 0 "a period with no data still gives a report (exit 0)"
pdftotext "$tmp/empty.pdf" - 2>/dev/null | grep -q "Không có dữ liệu"
tap $? "the empty report says \"Không có dữ liệu\""
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit NOPE --from 2025-01-01 \
	--to 2025-12-31 --format csv -o "$tmp/x.csv" 2>/dev/null
is $? 2 "unknown unit: exit 2"
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-13-01 \
	--to 2025-12-31 --format csv -o "$tmp/x.csv" 2>/dev/null
is $? 2 "bad date: exit 2"
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-01-01 \
	--to 2025-12-31 --format docx -o "$tmp/x.docx" 2>/dev/null
is $? 2 "unknown format: exit 2"

# --- periods at the edge of the supported days (1900-01-01..9999-12-30) ---
# A previous period before 1900 is refused; a trend reaching there is cut.
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 1950-01-01 \
	--to 2025-12-31 --format csv -o "$tmp/x.csv" 2>"$tmp/report.err"
is $? 2 "from 1950-01-01 to 2025-12-31 (previous period before 1900): exit 2"
tap $(grep -q -- '--from: the previous period of equal length would start before 1900-01-01' \
	"$tmp/report.err"; echo $?) "... saying why: $(cat "$tmp/report.err")"
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 1970-01-01 \
	--to 2025-12-31 --trend 60 --format csv -o "$tmp/long.csv" 2>"$tmp/report.err"
is $? 0 "from 1970-01-01 to 2025-12-31 with --trend 60: exit 0"
tap $(grep -q 'over 2 period(s)' "$tmp/report.err"; echo $?) \
	"... over the 2 periods that start in 1900 or later: $(cat "$tmp/report.err")"
is "$(awk -F, '$1 == "P01" && $2 == "trend" { printf "%s ", $3 }' "$tmp/long.csv")" \
	"01/01/1970 – 31/12/2025 " "... its trend is the one period with data"
"$SIPASCTL" --db "$DSN" report --survey sipas-2017 --unit P01 --from 2025-01-01 \
	--to 9999-12-31 --format csv -o "$tmp/x.csv" 2>"$tmp/report.err"
is $? 2 "--to 9999-12-31: exit 2"
tap $(grep -q -- '--to must be a date YYYY-MM-DD from 1900-01-01 to 9999-12-30' "$tmp/report.err"; echo $?) \
	"... naming --to and the range"
"$SIPASCTL" --db "$DSN" export --survey sipas-2017 --to 9999-12-31 >/dev/null 2>"$tmp/report.err"
is "$? $(cat "$tmp/report.err")" \
	"2 sipasctl: --to must be a date YYYY-MM-DD from 1900-01-01 to 9999-12-30" "export --to 9999-12-31: exit 2"
"$SIPASCTL" --db "$DSN" purge --survey sipas-2017 --unit P01 --from 1899-12-31 --dry-run >/dev/null 2>"$tmp/report.err"
is "$? $(cat "$tmp/report.err")" \
	"2 sipasctl: --from must be a date YYYY-MM-DD from 1900-01-01 to 9999-12-30" "purge --from 1899-12-31: exit 2"
"$SIPASCTL" --db "$DSN" export --survey sipas-2017 --from 9999-12-30 >"$tmp/x.csv" 2>"$tmp/report.err"
is "$? $(wc -l <"$tmp/x.csv")" "0 1" "export --from 9999-12-30: exit 0, the header alone"
"$SIPASCTL" --db "host=/nonexistent dbname=x" report --survey sipas-2017 --unit P01 \
	--from 2025-01-01 --to 2025-12-31 --format csv -o "$tmp/x.csv" 2>/dev/null
is $? 1 "database unreachable: exit 1"

# --- sipasd: GET /api/v1/reports, the schedule, the list ---
VIEWER=$(token viewer)
SCOPED=$(token viewer U001)
COLLECTOR=$(token collector)
COLLECTOR_U001=$(token collector U001)
UPLOADER=$(token uploader)
UPLOADER_U001=$(token uploader U001)
# A unit code with a quote, should the store take one: its downloads' names.
quoted=$(sql "INSERT INTO units (code, name, level, parent) VALUES ('Q\"V', 'Xã Q', 'commune', 'U005')
	RETURNING code" 2>/dev/null)
mkdir -p "$tmp/out"
sipasd_start \
	"report_yearly = \"survey=sipas-2017 units=P01,U001 formats=csv,pdf dir=$tmp/out\"" \
	"report_quarterly = \"survey=sipas-2017 units=P01 formats=xlsx dir=$tmp/out\"" \
	"report_today = 2026-01-15" "report_check = 1"

Q="survey=sipas-2017&unit=P01&from=2025-01-01&to=2025-12-31"
is "$(get "$VIEWER" "/api/v1/reports?$Q&format=csv")" 200 "GET /api/v1/reports csv: 200"
csv_near "$tmp/body" "$tmp/r.csv" 1e-9 >"$tmp/near.out"
tap $? "the endpoint's CSV has the cells of sipasctl report's, numbers to 1e-9 ($(cat "$tmp/near.out"))"
tap $(grep -qi '^Content-Type: text/csv' "$tmp/headers"; echo $?) "Content-Type text/csv"
tap $(grep -qi '^Content-Disposition: attachment; filename="sipas-2017_P01_2025-01-01.csv"' \
	"$tmp/headers"; echo $?) "Content-Disposition names the file"
is "$(get "$VIEWER" "/api/v1/reports?$Q&format=pdf&lang=en")" 200 "GET /api/v1/reports pdf: 200"
tap $(grep -qi '^Content-Type: application/pdf' "$tmp/headers" && head -c 5 "$tmp/body" | grep -q '%PDF'; echo $?) \
	"a PDF with Content-Type application/pdf"
is "$(get "$VIEWER" "/api/v1/reports?$Q&format=xlsx")" 200 "GET /api/v1/reports xlsx: 200"
tap $(grep -qi '^Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
	"$tmp/headers"; echo $?) "XLSX Content-Type"
is "$(get "$VIEWER" "/api/v1/reports?survey=sipas-2017&unit=P01&from=2019-01-01&to=2019-12-31&format=html")" 200 \
	"an empty period: 200"
tap $(grep -q "Không có dữ liệu" "$tmp/body"; echo $?) "the empty period's HTML says \"Không có dữ liệu\""
is "$(get "$SCOPED" "/api/v1/reports?$Q&format=csv")" 403 "a token scoped to U001 may not see P01: 403"
is "$(get "$SCOPED" "/api/v1/reports?survey=sipas-2017&unit=U001&from=2025-01-01&to=2025-12-31&format=csv")" 200 \
	"but may see U001: 200"
is "$(get "$COLLECTOR" "/api/v1/reports?$Q&format=csv")" 403 "role collector: 403"
is "$(get "" "/api/v1/reports?$Q&format=csv")" 401 "no token: 401"
is "$(get "$VIEWER" "/api/v1/reports?$Q")" 400 "no format: 400"
is "$(get "$VIEWER" "/api/v1/reports?$Q&format=docx")" 422 "unknown format: 422"
is "$(get "$VIEWER" "/api/v1/reports?$Q&format=csv&trend=61")" 422 "trend=61: 422"
QQ="survey=sipas-2017&unit=P01&from=2025-10-01&to=2025-12-31"
is "$(get "$VIEWER" "/api/v1/reports?$QQ&format=csv&trend=4")" 200 "GET /api/v1/reports Q4 trend=4: 200"
csv_near "$tmp/body" "$tmp/q4.csv" 1e-9 >"$tmp/near.out"
tap $? "the endpoint's Q4 CSV with its trend equals sipasctl report --trend 4's ($(cat "$tmp/near.out"))"
is "$(get "$VIEWER" "/api/v1/reports?$Q&format=html&lang=en")" 200 "GET /api/v1/reports html: 200"
tap $(grep -q "Huyện Năm" "$tmp/body"; echo $?) "sipasd lists the child U005 that has no responses"
is "$(get "$VIEWER" "/api/v1/reports?survey=sipas-2017&unit=P01&from=2025-02-30&to=2025-12-31&format=csv")" 422 \
	"bad date: 422"

# Periods reaching before 1900, the last supported day, for every viewer.
for t in VIEWER SCOPED; do
	u=$([ $t = VIEWER ] && echo P01 || echo U001)
	is "$(get "${!t}" "/api/v1/reports?survey=sipas-2017&unit=$u&format=csv&from=1950-01-01&to=2025-12-31")" 422 \
		"$t, $u from 1950-01-01 to 2025-12-31: 422"
	is "$(error_field)" from "... naming from"
	grep -q 'previous period of equal length would start before 1900-01-01' "$tmp/body"
	tap $? "... saying why"
	is "$(get "${!t}" "/api/v1/reports?survey=sipas-2017&unit=$u&format=csv&from=1970-01-01&to=2025-12-31&trend=60")" 200 \
		"$t, $u from 1970-01-01 to 2025-12-31 trend=60: 200"
	is "$(awk -F, '$2 == "trend"' "$tmp/body" | wc -l)" 1 "... a trend of the one period with data"
	is "$(get "${!t}" "/api/v1/reports?survey=sipas-2017&unit=$u&format=csv&from=2025-01-01&to=9999-12-31")" 422 \
		"$t, $u to=9999-12-31: 422"
	is "$(error_field)" to "... naming to"
	is "$(get "${!t}" "/api/v1/reports?survey=sipas-2017&unit=$u&format=csv&from=1899-12-31&to=2025-12-31")" 422 \
		"$t, $u from=1899-12-31: 422"
	is "$(error_field)" from "... naming from"
done
is "$(get "" /healthz)" 200 "sipasd still serves"
is "$(get "$VIEWER" "/api/v1/reports?survey=sipas-2017&unit=P01&format=csv&from=9999-12-01&to=9999-12-30")" 200 \
	"from=9999-12-01&to=9999-12-30, the last supported day: 200"
is "$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&from=2025-01-01&to=9999-12-31")" 422 \
	"indices to=9999-12-31: 422"
is "$(error_field)" to "... naming to"
is "$(get "$VIEWER" "/api/v1/indices?survey=sipas-2017&unit=P01&from=2025-01-01&to=9999-12-30")" 200 \
	"indices to=9999-12-30: 200"
is "$(get "$UPLOADER" "/api/v1/export?survey=sipas-2017&unit=P01&from=1899-12-31")" 422 \
	"export from=1899-12-31: 422"
is "$(error_field)" from "... naming from"
is "$(get "$UPLOADER" "/api/v1/export?survey=sipas-2017&unit=P01&to=9999-12-31")" 422 \
	"export to=9999-12-31: 422"
is "$(error_field)" to "... naming to"

# A scoped token: an unknown unit and another district's alike.
for case in "SCOPED VIEWER /api/v1/reports?survey=sipas-2017&from=2025-01-01&to=2025-12-31&format=csv&unit=" \
    "SCOPED VIEWER /api/v1/indices?survey=sipas-2017&unit=" \
    "UPLOADER_U001 UPLOADER /api/v1/export?survey=sipas-2017&unit="; do
	read -r scoped wide path <<<"$case"
	st_other=$(get "${!scoped}" "${path}U002")
	cp "$tmp/body" "$tmp/other"
	st_unknown=$(get "${!scoped}" "${path}NOPE")
	is "$st_other $st_unknown" "403 403" "${path%%\?*}: U002 and NOPE to a U001 token: 403 both"
	cmp -s "$tmp/other" "$tmp/body"
	tap $? "... with the same body: $(cat "$tmp/body")"
	is "$(get "${!wide}" "${path}NOPE")" 422 "... NOPE to a province-wide token: 422"
done
st_other=$(post "$COLLECTOR_U001" '{"survey":"sipas-2017","unit":"U002","answers":{}}')
cp "$tmp/body" "$tmp/other"
st_unknown=$(post "$COLLECTOR_U001" '{"survey":"sipas-2017","unit":"NOPE","answers":{}}')
is "$st_other $st_unknown" "403 403" "POST /api/v1/responses to U002 and NOPE with a U001 token: 403 both"
cmp -s "$tmp/other" "$tmp/body"
tap $? "... with the same body: $(cat "$tmp/body")"

if [ "$quoted" = 'Q"V' ]; then
	is "$(get "$VIEWER" "/api/v1/reports?survey=sipas-2017&unit=Q%22V&from=2025-01-01&to=2025-12-31&format=csv")" 200 \
		"a report of the unit Q\"V: 200"
	grep -qi "^Content-Disposition: attachment; filename=\"sipas-2017_Q_V_2025-01-01.csv\"; filename\*=UTF-8''sipas-2017_Q%22V_2025-01-01.csv.\$" \
		"$tmp/headers"
	tap $? "... its Content-Disposition escaped: $(grep -i '^Content-Disposition' "$tmp/headers")"
else
	is "$(sql "SELECT count(*) FROM units WHERE code LIKE '%\"%'")" 0 "the store refuses a unit code with a quote"
	tap 0 "... so no download can be named after one"
fi

# The HTML report: nothing loads or runs but its own style element.
is "$(get "$VIEWER" "/api/v1/reports?$Q&format=html")" 200 "GET /api/v1/reports html: 200"
csp=$(sed -n 's/^Content-Security-Policy: *//Ip' "$tmp/headers" | tr -d '\r')
meta=$(sed -n 's/.*<meta http-equiv="Content-Security-Policy" content="\([^"]*\)">.*/\1/p' "$tmp/body")
hash=$(sed -n '/^<style>$/,/^<\/style>/p' "$tmp/body" | sed '1d;$d' |
	{ printf '\n'; cat; } | openssl dgst -sha256 -binary | base64)
is "$csp" "default-src 'none'; style-src 'sha256-$hash'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" \
	"the reply's Content-Security-Policy: none but the style element's SHA-256"
is "$meta; frame-ancestors 'none'" "$csp" "the page's meta tag says the same"
tap $(grep -qi "^Content-Disposition: attachment; filename=\"sipas-2017_P01_2025-01-01.html\"; filename\*=UTF-8''sipas-2017_P01_2025-01-01.html" \
	"$tmp/headers"; echo $?) "Content-Disposition with filename and filename*"

# The schedule: 2025 (yearly) and 2025-Q4 (quarterly) have closed on 2026-01-15.
for i in $(seq 1 100); do
	[ -f "$tmp/out/reports.tsv" ] && [ "$(wc -l <"$tmp/out/reports.tsv")" -ge 5 ] && break
	sleep 0.2
done
is "$(wc -l <"$tmp/out/reports.tsv" 2>/dev/null)" 5 "the schedule produced 5 reports (2 units x 2 yearly formats, 1 quarterly)"
tap $([ -s "$tmp/out/sipas-2017_P01_2025.pdf" ] && [ -s "$tmp/out/sipas-2017_U001_2025.csv" ] &&
	[ -s "$tmp/out/sipas-2017_P01_2025-Q4.xlsx" ]; echo $?) "the files are in the output directory"
csv_near "$tmp/out/sipas-2017_P01_2025.csv" "$tmp/r.csv" 1e-9 >"$tmp/near.out"
tap $? "the scheduled yearly CSV equals sipasctl report's ($(cat "$tmp/near.out"))"
tap $(pdftotext "$tmp/out/sipas-2017_P01_2025.pdf" - 2>/dev/null | grep -q "Huyện Một"; echo $?) \
	"the scheduled PDF reads back"
sleep 3
is "$(wc -l <"$tmp/out/reports.tsv")" 5 "three more checks produce nothing twice"
is "$(get "$VIEWER" /api/v1/reports/list)" 200 "GET /api/v1/reports/list: 200"
is "$(jq '.reports | length' "$tmp/body")" 5 "the list has the 5 reports"
url=$(jq -r '.reports[] | select(.file == "sipas-2017_P01_2025.csv") | .url' "$tmp/body")
is "$(get "$VIEWER" "$url")" 200 "GET $url: 200"
cmp -s "$tmp/body" "$tmp/out/sipas-2017_P01_2025.csv"
tap $? "the listed file is served as stored"
is "$(get "$SCOPED" /api/v1/reports/list)" 200 "the U001 token's list: 200"
is "$(jq -r '[.reports[].unit] | unique | join(",")' "$tmp/body")" U001 "it lists U001's reports only"
is "$(get "$SCOPED" "$url")" 404 "and may not fetch P01's file: 404, as for a file not listed"
cp "$tmp/body" "$tmp/other"
is "$(get "$SCOPED" "/api/v1/reports/files/sipas-2017_P09_2025.csv")" 404 "... a name no list has: 404"
cmp -s "$tmp/other" "$tmp/body"
tap $? "... with the same body: $(cat "$tmp/body")"
is "$(get "$VIEWER" /api/v1/reports/files/..%2Fsipasd.conf)" 404 "no path escapes: 404"

# A restart with the same list: still nothing twice.
sipasd_stop
is $? 0 "sipasd drains and exits 0"
sipasd_start \
	"report_yearly = \"survey=sipas-2017 units=P01,U001 formats=csv,pdf dir=$tmp/out\"" \
	"report_quarterly = \"survey=sipas-2017 units=P01 formats=xlsx dir=$tmp/out\"" \
	"report_today = 2026-01-15" "report_check = 1"
sleep 2.5
is "$(wc -l <"$tmp/out/reports.tsv")" 5 "after a restart nothing is produced twice"
sipasd_stop
printf 'report_yearly = "survey=sipas-2017 units=P01 formats=docx dir=/x"\n' >"$tmp/bad.conf"
"$SIPASD" --check-config -c "$tmp/bad.conf" >/dev/null 2>&1
is $? 1 "--check-config refuses an unknown report format"
log_clean

finish
