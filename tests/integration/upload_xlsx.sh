#!/usr/bin/env bash
# upload_xlsx.sh: XLSX workbooks (docs/uploads.md) through POST /api/v1/uploads
# and sipasctl import against a real PostgreSQL and sipasd: the fixtures
# written as XLSX by openpyxl (times as Excel dates in some, ISO text in
# others) give R's indices both ways, sheet=NAME and --sheet pick a second
# sheet, bad cells are named by row and column, a workbook whose sheet
# inflates to 2 GiB is refused with 413 while sipasd's memory stays flat, and
# corrupt or foreign zips get 422 with a message.
set -u
. "$(dirname "$0")/daemon_lib.sh"

command -v jq >/dev/null || bail "jq is required"
# Debian's python3-openpyxl is for Debian's python3, which another on PATH may hide.
PYTHON=
for p in python3 /usr/bin/python3; do
	"$p" -c 'import openpyxl' 2>/dev/null && { PYTHON=$p; break; }
done
[ -n "$PYTHON" ] || bail "python3-openpyxl is required"
db_setup
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-pooled.survey.json" >/dev/null || bail "survey load"
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-certainty.survey.json" >/dev/null || bail "survey load"
UPLOADER=$(token uploader)
VIEWER=$(token viewer)

mkdir -p "$tmp/spool"
sipasd_start "max_body = 4096" "upload_max = 67108864" "spool_dir = $tmp/spool"

# upload SURVEY FILE [QUERY]: the status; the answer in $tmp/body.
upload() {
	curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" \
		-H 'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
		--data-binary "@$2" "$URL/api/v1/uploads?survey=$1${3:+&$3}"
}
totals() { jq -r '"\(.rows) \(.stored) \(.duplicates) \(.conflicts) \(.rejected)"' "$1"; }
fmt() { jq -r '.format | "\(.container) \(.sheet) \(.dates)"' "$1"; }

RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
[ -x "$RESULTCMP" ] || bail "tests/tools/resultcmp is not built"

# xlsx CSV XLSX dates|iso [FIRST-SHEET]: the CSV as a workbook, numbers as
# numbers, empty cells left out; submitted_at as Excel dates (a date-time
# number format) or as ISO text. With FIRST-SHEET, the data is the second
# sheet, "Data", after a sheet of that name holding notes.
xlsx() {
	"$PYTHON" - "$@" <<'EOF'
import csv, datetime, sys
import openpyxl
src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
first = sys.argv[4] if len(sys.argv) > 4 else None
wb = openpyxl.Workbook()
ws = wb.active
if first:
    ws.title = first
    ws.append(["Phiếu khảo sát", "nhập từ giấy"])
    ws.append(["unit", "not", "the", "data"])
    ws = wb.create_sheet("Data")
else:
    ws.title = "Sheet1"
vn = datetime.timezone(datetime.timedelta(hours=7))
text = {"id", "unit", "channel", "stratum", "psu"}
with open(src, newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    head = next(rows)
    ws.append(head)
    for r in rows:
        out = []
        for name, v in zip(head, r):
            if v == "":
                out.append(None)
            elif name == "submitted_at" and mode == "dates":
                t = datetime.datetime.fromisoformat(v).astimezone(vn)
                out.append(t.replace(tzinfo=None))
            elif name in text or name.startswith("respondent.") or name == "submitted_at":
                out.append(v)
            else:
                try:
                    out.append(int(v))
                except ValueError:
                    out.append(float(v))
        ws.append(out)
        if mode == "dates" and "submitted_at" in head:
            c = ws.cell(row=ws.max_row, column=head.index("submitted_at") + 1)
            c.number_format = "yyyy-mm-dd hh:mm:ss"
wb.save(dst)
EOF
}

# --- the fixtures as XLSX: upload and import, compare with R ----------------------
sed -n 's/.*"input": *"\([^"]*\)", *"survey": *"\([^"]*\)", *"expected": *"\([^"]*\)".*/\1 \2 \3/p' \
	"$FIXTURES/index.json" >"$tmp/cases"
[ -s "$tmp/cases" ] || bail "no cases in index.json"
n=0
while read -r input survey expected; do
	n=$((n + 1))
	case $survey in
	*.json) survey=$(sed -n 's/^ *"code": *"\([^"]*\)".*/\1/p' "$FIXTURES/$survey" | head -n 1) ;;
	esac
	rows=$(($(wc -l <"$FIXTURES/$input") - 1))
	# Odd cases: times as Excel dates; even ones: ISO text; the third on a second sheet.
	mode=iso dates=text query= sheet=Sheet1 first=
	[ $((n % 2)) = 1 ] && mode=dates dates=excel-serial
	[ $n = 3 ] && first=Notes query=sheet=Data sheet=Data
	xlsx "$FIXTURES/$input" "$tmp/case.xlsx" "$mode" $first || bail "openpyxl failed on $input"
	sql "DELETE FROM responses WHERE survey = '$survey'" >/dev/null
	is "$(upload "$survey" "$tmp/case.xlsx" "$query")" 200 "$input as XLSX ($mode times${first:+, second sheet}): upload answers 200"
	is "$(totals "$tmp/body")" "$rows $rows 0 0 0" "$input: $rows rows, all stored"
	is "$(fmt "$tmp/body")" "xlsx $sheet $dates" "$input: format says xlsx, sheet $sheet, dates $dates"
	get "$VIEWER" "/api/v1/indices?survey=$survey&unit=P01&children=1" >/dev/null
	"$RESPOST" --drop-unit P01 <"$tmp/body" >"$tmp/actual.json"
	"$RESULTCMP" "$FIXTURES/$expected" "$tmp/actual.json" >"$tmp/cmp.out" 2>&1
	tap $? "$input: indices of the uploaded XLSX agree with R to 1e-6 ($(tail -n 1 "$tmp/cmp.out"))"

	sql "DELETE FROM responses WHERE survey = '$survey'" >/dev/null
	"$SIPASCTL" --db "$DSN" import --survey "$survey" ${first:+--sheet Data} "$tmp/case.xlsx" \
		>"$tmp/imp.json" 2>"$tmp/imp.err"
	is "$? $(totals "$tmp/imp.json")" "0 $rows $rows 0 0 0" "$input: sipasctl import of the XLSX stores $rows rows, exit 0"
	is "$(fmt "$tmp/imp.json")" "xlsx $sheet $dates" "$input: sipasctl import's format says the same"
	get "$VIEWER" "/api/v1/indices?survey=$survey&unit=P01&children=1" >/dev/null
	"$RESPOST" --drop-unit P01 <"$tmp/body" >"$tmp/actual.json"
	"$RESULTCMP" "$FIXTURES/$expected" "$tmp/actual.json" >"$tmp/cmp.out" 2>&1
	tap $? "$input: indices of the imported XLSX agree with R to 1e-6 ($(tail -n 1 "$tmp/cmp.out"))"
	[ $n = 1 ] && cp "$tmp/case.xlsx" "$tmp/first.xlsx"
done <"$tmp/cases"

# A workbook imported, then uploaded: duplicates (the same content hashes).
first_survey=$(sed -n '1s/^[^ ]* \([^ ]*\) .*/\1/p' "$tmp/cases")
first_rows=$(($(wc -l <"$FIXTURES/$(sed -n '1s/ .*//p' "$tmp/cases")") - 1))
sql "DELETE FROM responses WHERE survey = '$first_survey'" >/dev/null
"$SIPASCTL" --db "$DSN" import --survey "$first_survey" "$tmp/first.xlsx" >/dev/null 2>&1 ||
	tap 1 "sipasctl import of the first workbook"
is "$(upload "$first_survey" "$tmp/first.xlsx")" 200 "an XLSX uploaded after its import: 200"
is "$(totals "$tmp/body")" "$first_rows 0 $first_rows 0 0" "every row a duplicate: upload and import hash alike"

# --- sheets, bad cells, bad files ---------------------------------------------
printf 'id,unit,submitted_at,channel,R1\nx-1,U001,2025-05-01T08:00:00+07:00,paper,3\nx-2,U001,2025-05-01T08:00:00+07:00,fax,9\nx-3,U002,2025-05-02T09:30:00+07:00,web,2\n' >"$tmp/bad.csv"
xlsx "$tmp/bad.csv" "$tmp/bad.xlsx" dates Notes || bail "openpyxl failed"
is "$(upload onestop-tt01 "$tmp/bad.xlsx" sheet=Nope)" 422 "an unknown sheet: 422"
is "$(jq -r .error.code "$tmp/body")" unknown_sheet "with code unknown_sheet"
case $(jq -r .error.message "$tmp/body") in
*'"Nope"'*Notes*Data*) tap 0 "the message lists the workbook's sheets" ;;
*) tap 1 "the message lists the workbook's sheets (got $(jq -r .error.message "$tmp/body"))" ;;
esac
is "$(upload onestop-tt01 "$tmp/bad.xlsx")" 422 "the first sheet (notes, no such columns): 422"
is "$(jq -r '.problems[0] | "\(.row) \(.column_number)"' "$tmp/body")" "0 1" "the unknown column is named (row 0, column 1)"
is "$(upload onestop-tt01 "$tmp/bad.xlsx" sheet=Data)" 200 "sheet=Data: 200"
is "$(totals "$tmp/body")" "3 2 0 0 1" "3 rows, 2 stored, 1 rejected"
is "$(jq -r '[.problems[] | "\(.row):\(.column):\(.column_number)"] | join(" ")' "$tmp/body")" \
	"2:channel:4 2:R1:5" "the bad cells are named by row and column"
is "$(sql "SELECT to_char(submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI') FROM responses WHERE source_id = 'x-3'")" \
	"2025-05-02 09:30" "an Excel date is read as Vietnam time"

head -c 3000 "$tmp/first.xlsx" >"$tmp/cut.xlsx"
is "$(upload sipas-2017 "$tmp/cut.xlsx")" 422 "a truncated XLSX: 422"
is "$(jq -r .error.code "$tmp/body")" bad_file "with code bad_file"
case $(jq -r .error.message "$tmp/body") in
*zip*) tap 0 "and a message about the zip ($(jq -r .error.message "$tmp/body"))" ;;
*) tap 1 "and a message about the zip (got $(jq -r .error.message "$tmp/body"))" ;;
esac
"$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1], "w").writestr("a.txt", "hello")' "$tmp/other.zip"
is "$(upload sipas-2017 "$tmp/other.zip")" 422 "a zip that is not a workbook: 422"
case $(jq -r .error.message "$tmp/body") in
*Content_Types*) tap 0 "the message says it is not an XLSX" ;;
*) tap 1 "the message says it is not an XLSX (got $(jq -r .error.message "$tmp/body"))" ;;
esac
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" \
	-H 'Content-Type: application/octet-stream' --data-binary "@$tmp/bad.xlsx" \
	"$URL/api/v1/uploads?survey=onestop-tt01&sheet=Data")" 200 "an XLSX told by its bytes alone: 200"
is "$(totals "$tmp/body")" "3 0 2 0 1" "the same rows: duplicates"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 --sheet Nope "$tmp/bad.xlsx" >"$tmp/imp.json" 2>"$tmp/imp.err"
is "$? $(jq -r .error.message "$tmp/imp.json" | cut -c1-21)" "2 no sheet named \"Nope\"" "sipasctl import --sheet of an unknown sheet: exit 2 and a message"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 --sheet Data "$tmp/bad.csv" >/dev/null 2>"$tmp/imp.err"
is "$?" 2 "sipasctl import --sheet of a CSV: exit 2"

# --- a zip bomb: a sheet of 2 GiB in a few MiB ---------------------------------------
"$PYTHON" - "$tmp/bomb.xlsx" <<'EOF' || bail "cannot write the bomb"
import sys, zipfile
ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
    z.writestr("xl/workbook.xml", '<workbook %s xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>' % ns)
    z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>')
    with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
        f.write(('<worksheet %s><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>unit</t></is></c></row>' % ns).encode())
        block = b" " * (1 << 20)
        for i in range(2048):
            f.write(block)
        f.write(b"</sheetData></worksheet>")
EOF
bomb_size=$(stat -c %s "$tmp/bomb.xlsx")
before=$(hwm)
is "$(upload sipas-2017 "$tmp/bomb.xlsx")" 413 "a workbook inflating to 2 GiB ($bomb_size bytes sent): 413"
is "$(jq -r .error.code "$tmp/body")" too_large "with code too_large"
case $(jq -r .error.message "$tmp/body") in
*'zip bomb'*save*) tap 0 "the message says what to do ($(jq -r .error.message "$tmp/body"))" ;;
*) tap 1 "the message says what to do (got $(jq -r .error.message "$tmp/body"))" ;;
esac
after=$(hwm)
if ldd "$SIPASD" 2>/dev/null | grep -q libasan; then
	echo "ok $((tap_n += 1)) # SKIP peak memory under ASan (its shadow memory and quarantine)"
else
	tap $(((after - before) < 32768 ? 0 : 1)) "sipasd's peak memory grew by $((after - before)) KiB (< 32 MiB)"
fi
# The same kind of sheet (rows, then 300 MiB of blanks), its sizes lowered
# in the central directory and the local header to twice the compressed:
# refused while inflating, the rows before the bomb kept.
"$PYTHON" - "$tmp/liar.xlsx" <<'EOF' || bail "cannot write the lying bomb"
import struct, sys, zipfile
ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
name = "xl/worksheets/sheet1.xml"
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
    z.writestr("xl/workbook.xml", '<workbook %s xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>' % ns)
    z.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>')
    with z.open(name, "w", force_zip64=True) as f:
        f.write(('<worksheet %s><sheetData>' % ns).encode())
        f.write(b'<row><c t="inlineStr"><is><t>id</t></is></c><c t="inlineStr"><is><t>unit</t></is></c><c t="inlineStr"><is><t>R1</t></is></c></row>')
        f.write(b'<row><c t="inlineStr"><is><t>liar-1</t></is></c><c t="inlineStr"><is><t>U001</t></is></c><c><v>3</v></c></row>')
        block = b" " * (1 << 20)
        for i in range(300):
            f.write(block)
        f.write(b"</sheetData></worksheet>")
d = bytearray(open(sys.argv[1], "rb").read())
i = d.find(b"PK\x01\x02")
while i >= 0:
    nlen, xlen = struct.unpack_from("<HH", d, i + 28)
    if d[i + 46:i + 46 + nlen] == name.encode():
        comp = struct.unpack_from("<I", d, i + 20)[0]
        off = struct.unpack_from("<I", d, i + 42)[0]
        # zip64: the sizes are in the extra field (id 1: size, then comp).
        x = i + 46 + nlen
        while x < i + 46 + nlen + xlen:
            hid, hlen = struct.unpack_from("<HH", d, x)
            if hid == 1:
                comp = struct.unpack_from("<Q", d, x + 12)[0]
                struct.pack_into("<Q", d, x + 4, comp * 2)
            x += 4 + hlen
        if struct.unpack_from("<I", d, i + 24)[0] != 0xffffffff:
            struct.pack_into("<I", d, i + 24, comp * 2)
        lnlen, lxlen = struct.unpack_from("<HH", d, off + 26)
        if struct.unpack_from("<I", d, off + 22)[0] != 0xffffffff:
            struct.pack_into("<I", d, off + 22, comp * 2)
        x = off + 30 + lnlen
        while x < off + 30 + lnlen + lxlen:
            hid, hlen = struct.unpack_from("<HH", d, x)
            if hid == 1:
                struct.pack_into("<Q", d, x + 4, comp * 2)
            x += 4 + hlen
    i = d.find(b"PK\x01\x02", i + 4)
open(sys.argv[1], "wb").write(d)
EOF
is "$(upload onestop-tt01 "$tmp/liar.xlsx")" 413 "a bomb whose declared sizes lie: 413 while inflating"
case $(jq -r .error.message "$tmp/body") in
*'inflates more than 100 times'*) tap 0 "the message names the ratio ($(jq -r .error.message "$tmp/body"))" ;;
*) tap 1 "the message names the ratio (got $(jq -r .error.message "$tmp/body"))" ;;
esac
is "$(jq -r '"\(.stored) \(.complete)"' "$tmp/body") $(sql "SELECT count(*) FROM responses WHERE source_id = 'liar-1'")" \
	"1 false 1" "the row before the bomb is stored, the report says incomplete"
after=$(hwm)
if ! ldd "$SIPASD" 2>/dev/null | grep -q libasan; then
	tap $(((after - before) < 32768 ? 0 : 1)) "after both bombs, sipasd's peak memory grew by $((after - before)) KiB (< 32 MiB)"
fi
"$SIPASCTL" --db "$DSN" import --survey sipas-2017 "$tmp/bomb.xlsx" >"$tmp/imp.json" 2>"$tmp/imp.err"
is "$? $(jq -r .error.message "$tmp/imp.json" | grep -c 'zip bomb')" "2 1" "sipasctl import refuses the bomb too"
is "$(ls -A "$tmp/spool" | grep -c upload)" 0 "no temporary file is left in spool_dir"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200 "sipasd is healthy"
log_clean
finish
