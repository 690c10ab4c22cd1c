#!/usr/bin/env bash
# upload_formats.sh: the files a Vietnamese office saves from Excel
# (docs/uploads.md, "File formats"), through POST /api/v1/uploads and
# sipasctl import against a real PostgreSQL and sipasd: every fixture as
# Windows-1258 with semicolons, dd/mm/yyyy times and decimal commas, and as
# UTF-16LE "Unicode text" (tab-separated), gives R's indices; the detected
# format is in the report; Vietnamese names typed with combining tone marks
# come back from the export in NFC; charset= wins over detection; messages
# are in Vietnamese or English by Accept-Language and lang=.
set -u
. "$(dirname "$0")/daemon_lib.sh"

command -v jq >/dev/null || bail "jq is required"
command -v iconv >/dev/null || bail "iconv is required"
db_setup
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-pooled.survey.json" >/dev/null || bail "survey load"
"$SIPASCTL" --db "$DSN" survey load "$FIXTURES/custom-certainty.survey.json" >/dev/null || bail "survey load"

UPLOADER=$(token uploader)
VIEWER=$(token viewer)
ADMIN=$(token admin)

sipasd_start "upload_max = 8388608"

# upload SURVEY FILE [CURL-ARGS...]: prints the status; answer in $tmp/body;
# the Content-Type is $CTYPE, else text/csv.
upload() {
	local survey=$1 file=$2
	shift 2
	curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" \
		-H "Content-Type: ${CTYPE:-text/csv}" "$@" --data-binary "@$file" \
		"$URL/api/v1/uploads?survey=$survey"
}
# totals of a report: rows stored duplicates conflicts rejected
totals() {
	jq -r '"\(.rows) \(.stored) \(.duplicates) \(.conflicts) \(.rejected)"' "$1"
}
# format of a report: encoding|delimiter|dates
format() {
	jq -r '.format | "\(.encoding)|\(.delimiter)|\(.dates)"' "$1"
}

RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
[ -x "$RESULTCMP" ] || bail "no $RESULTCMP (make check builds it)"

# The converters: what Excel writes in a Vietnamese locale, with a comment
# in Vietnamese on every row (so that the file is not plain ASCII).
COMMENT='Ý kiến: thủ tục nhanh, cán bộ tận tình'
# to_cp1258 IN OUT: Windows-1258, ';', dd/mm/yyyy HH:MM:SS, decimal comma, CRLF.
to_cp1258() {
	sed 's/,/;/g' "$1" | awk -F';' -v OFS=';' '
		NR == 1 {
			for (i = 1; i <= NF; i++) {
				h = $i
				gsub(/"/, "", h)
				if (h == "weight") w = i
				if (h == "submitted_at") t = i
			}
			print $0, "respondent.comment"
			next
		}
		{
			if (t && match($t, /[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\+07:00/)) {
				s = substr($t, RSTART, RLENGTH)
				$t = substr(s, 9, 2) "/" substr(s, 6, 2) "/" substr(s, 1, 4) " " substr(s, 12, 8)
			}
			if (w) sub(/\./, ",", $w)
			print $0, comment
		}' comment="$COMMENT" | sed 's/$/\r/' | iconv -f UTF-8 -t WINDOWS-1258 >"$2"
}
# to_utf16 IN OUT: UTF-16LE with a BOM, tabs, decimal comma, CRLF (Unicode text).
to_utf16() {
	{
		printf '\377\376'
		sed 's/,/\t/g' "$1" | awk -F'\t' -v OFS='\t' '
			NR == 1 {
				for (i = 1; i <= NF; i++) {
					h = $i
					gsub(/"/, "", h)
					if (h == "weight") w = i
				}
				print $0, "respondent.comment"
				next
			}
			{ if (w) sub(/\./, ",", $w); print $0, comment }' comment="$COMMENT" | sed 's/$/\r/' | iconv -f UTF-8 -t UTF-16LE
	} >"$2"
}

# --- every fixture, both ways: indices equal R's -----------------------------
sed -n 's/.*"input": *"\([^"]*\)", *"survey": *"\([^"]*\)", *"expected": *"\([^"]*\)".*/\1 \2 \3/p' \
	"$FIXTURES/index.json" >"$tmp/cases"
[ -s "$tmp/cases" ] || bail "no cases in index.json"
# compare INPUT SURVEY EXPECTED HOW: the stored responses' indices against R.
compare() {
	get "$VIEWER" "/api/v1/indices?survey=$2&unit=P01&children=1" >/dev/null
	"$RESPOST" --drop-unit P01 <"$tmp/body" >"$tmp/actual.json"
	"$RESULTCMP" "$FIXTURES/$3" "$tmp/actual.json" >"$tmp/cmp.out" 2>&1
	tap $? "$1 $4: indices agree with R to 1e-6 ($(tail -n 1 "$tmp/cmp.out"))"
}
while read -r input survey expected; do
	case $survey in
	*.json) survey=$(sed -n 's/^ *"code": *"\([^"]*\)".*/\1/p' "$FIXTURES/$survey" | head -n 1) ;;
	esac
	rows=$(($(wc -l <"$FIXTURES/$input") - 1))
	dates=dd/mm/yyyy
	head -n 1 "$FIXTURES/$input" | grep -q submitted_at || dates=iso8601
	to_cp1258 "$FIXTURES/$input" "$tmp/cp1258.csv"
	to_utf16 "$FIXTURES/$input" "$tmp/utf16.txt"

	sql "DELETE FROM responses WHERE survey = '$survey'" >/dev/null
	is "$(upload "$survey" "$tmp/cp1258.csv")" 200 "$input as Windows-1258 with ';': upload answers 200"
	cp "$tmp/body" "$tmp/report.json"
	is "$(totals "$tmp/report.json")" "$rows $rows 0 0 0" "$input as Windows-1258: $rows rows, all stored"
	is "$(format "$tmp/report.json")" "windows-1258|;|$dates" "$input as Windows-1258: the report names the format"
	compare "$input" "$survey" "$expected" "as Windows-1258, ';', dd/mm/yyyy, decimal comma, uploaded"

	sql "DELETE FROM responses WHERE survey = '$survey'" >/dev/null
	"$SIPASCTL" --db "$DSN" import --survey "$survey" "$tmp/utf16.txt" >"$tmp/imp.json" 2>"$tmp/imp.err"
	is "$? $(totals "$tmp/imp.json")" "0 $rows $rows 0 0 0" "$input as UTF-16 text: sipasctl import stores all $rows rows, exit 0"
	is "$(format "$tmp/imp.json")" "utf-16le|	|iso8601" "$input as UTF-16 text: the report names the format"
	grep -q "utf-16le, delimiter tab, dates iso8601" "$tmp/imp.err"
	tap $? "$input as UTF-16 text: sipasctl import prints the format"
	compare "$input" "$survey" "$expected" "as UTF-16LE, tabs, decimal comma, imported"

	# The other way round: dd/mm/yyyy through sipasctl, UTF-16 through the API.
	"$SIPASCTL" --db "$DSN" import --survey "$survey" "$tmp/cp1258.csv" >"$tmp/imp.json" 2>>"$tmp/imp.err"
	is "$? $(totals "$tmp/imp.json")" "0 $rows 0 $rows 0 0" "$input as Windows-1258: sipasctl import finds the same $rows responses"
	is "$(upload "$survey" "$tmp/utf16.txt")" 200 "$input as UTF-16 text: upload answers 200"
	is "$(totals "$tmp/body")" "$rows 0 $rows 0 0" "$input as UTF-16 text: the same $rows responses, duplicates"
done <"$tmp/cases"

# --- Vietnamese names with combining tone marks: back in NFC ------------------
# Windows-1258 writes a tone as a mark after its letter: "Nguyễn" is
# Nguy, e-circumflex, combining tilde, n.
{
	printf 'id;unit;submitted_at;channel;R1;respondent.comment\r\n'
	printf 'vn-1;U001;23/04/2025 13:59;paper;3;Nguy\352\336n Thi\362 H\343\314ng\r\n'
	printf 'vn-2;U001;13/05/2025;web;2;Tr\342\314n V\343n \320\375\354c\r\n'
} >"$tmp/vn.csv"
is "$(upload onestop-tt01 "$tmp/vn.csv")" 200 "Vietnamese names in Windows-1258: 200"
is "$(totals "$tmp/body")" "2 2 0 0 0" "both rows stored"
is "$(sql "SELECT respondent ->> 'comment' FROM responses WHERE source_id = 'vn-1'")" "Nguyễn Thị Hằng" \
	"the stored name is the letters, in NFC"
is "$(sql "SELECT to_char(submitted_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI') FROM responses WHERE source_id = 'vn-1'")" \
	"2025-04-23 13:59" "23/04/2025 13:59 is 23 April, Vietnam time"
curl -s -o "$tmp/export.csv" -H "Authorization: Bearer $ADMIN" "$URL/api/v1/export?survey=onestop-tt01&unit=U001"
grep '^vn-1,' "$tmp/export.csv" | grep -o 'Nguy[^,]*ng' >"$tmp/got-1"
printf 'Nguy\341\273\205n Th\341\273\213 H\341\272\261ng\n' >"$tmp/want-1"
cmp -s "$tmp/got-1" "$tmp/want-1"
tap $? "the export gives the name back byte for byte in NFC (U+1EC5, U+1ECB, U+1EB1)"
grep '^vn-2,' "$tmp/export.csv" | grep -o 'Tr[^,]*c' >"$tmp/got-2"
printf 'Tr\341\272\247n V\304\203n \304\220\341\273\251c\n' >"$tmp/want-2"
cmp -s "$tmp/got-2" "$tmp/want-2"
tap $? "and the second name too (Trần Văn Đức)"
if LC_ALL=C grep -q "$(printf '\314[\200-\243]')" "$tmp/export.csv"; then
	tap 1 "no combining mark is left in the export"
else
	tap 0 "no combining mark is left in the export"
fi

# The same letters typed decomposed in UTF-8 are the same text.
printf 'id,unit,R1,respondent.comment\nvn-3,U001,3,Nguye\314\202\314\203n\n' >"$tmp/nfd.csv"
is "$(upload onestop-tt01 "$tmp/nfd.csv")" 200 "a name typed decomposed in UTF-8: 200"
is "$(sql "SELECT respondent ->> 'comment' = 'Nguyễn' FROM responses WHERE source_id = 'vn-3'")" t \
	"it is stored in NFC"

# --- charset= in the Content-Type wins ----------------------------------------
printf 'id,unit,R1,respondent.comment\ncs-1,U001,3,\303\241\n' >"$tmp/cs.csv"
is "$(CTYPE='text/csv; charset=windows-1258' upload onestop-tt01 "$tmp/cs.csv")" 200 \
	"charset=windows-1258 on bytes that are also UTF-8: 200"
is "$(format "$tmp/body")" "windows-1258|,|iso8601" "the named charset is used, not detection"
is "$(sql "SELECT respondent ->> 'comment' FROM responses WHERE source_id = 'cs-1'")" "Ă¡" \
	"and the bytes are read as Windows-1258"
is "$(CTYPE='text/csv; charset="koi8-r"' upload onestop-tt01 "$tmp/cs.csv")" 415 \
	"a charset not read: 415"
is "$(jq -r '.error | "\(.code) \(.field)"' "$tmp/body")" "unsupported_charset charset" "naming the charset"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 --encoding windows-1258 "$tmp/cs.csv" >"$tmp/imp.json" 2>>"$tmp/imp.err"
is "$? $(format "$tmp/imp.json")" "0 windows-1258|,|iso8601" "sipasctl import --encoding windows-1258 is used too"
"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 --encoding koi8-r "$tmp/cs.csv" >/dev/null 2>>"$tmp/imp.err"
is $? 2 "sipasctl import --encoding with a charset not read: exit 2"

# --- a non-UTF-8 byte after a file judged UTF-8: a row error, not mojibake ------
{
	printf 'id,unit,R1,respondent.comment\nlate-1,U001,3,Nguy\341\273\205n\n'
	printf 'late-2,U001,3,Tr\342\314n\nlate-3,U001,2,ok\n'
} >"$tmp/late.csv"
is "$(upload onestop-tt01 "$tmp/late.csv")" 200 "a Windows-1258 row after UTF-8 rows: 200"
is "$(totals "$tmp/body")" "3 2 0 0 1" "that row is rejected, the others stored"
is "$(jq -r '.problems[0] | "\(.row) \(.column) \(.column_number)"' "$tmp/body")" "2 respondent.comment 4" \
	"the problem names row 2, column respondent.comment (4)"

# --- messages in Vietnamese or English ----------------------------------------
printf 'id;unit;R1;BOGUS\nm-1;U001;3;1\n' >"$tmp/msg.csv"
printf 'id;unit;weight;R1\nm-2;U001;abc;3\nm-3;U001;1,5;3\n' >"$tmp/weight.csv"
is "$(upload onestop-tt01 "$tmp/msg.csv" -H 'Accept-Language: vi-VN,vi;q=0.9,en;q=0.8')" 422 \
	"an unknown column: 422"
jq -r '.problems[0].message' "$tmp/body" | grep -q '^Cột không xác định "BOGUS": đổi tên cột thành .*R1'
tap $? "Accept-Language vi: the problem's message is Vietnamese, listing the expected columns"
is "$(jq -r '.problems[0] | "\(.row) \(.column) \(.column_number)"' "$tmp/body")" "0 BOGUS 4" \
	"row, column and its number stay as they are"
jq -r '.problems[0].reason' "$tmp/body" | grep -q '^unknown column "BOGUS"'
tap $? "and the reason stays English"
jq -r '.error.message' "$tmp/body" | grep -q '^Cột không xác định'
tap $? "the error's message is Vietnamese too"
upload onestop-tt01 "$tmp/msg.csv" -H 'Accept-Language: en-GB,en;q=0.9,vi;q=0.5' >/dev/null
jq -r '.problems[0].message' "$tmp/body" | grep -q '^unknown column "BOGUS" .*rename it .*R1'
tap $? "Accept-Language en first: English, saying what to do"
curl -s -o "$tmp/body" -H "Authorization: Bearer $UPLOADER" -H 'Accept-Language: vi' \
	--data-binary "@$tmp/msg.csv" "$URL/api/v1/uploads?survey=onestop-tt01&lang=en"
jq -r '.problems[0].message' "$tmp/body" | grep -q '^unknown column'
tap $? "lang=en wins over Accept-Language vi"
curl -s -o "$tmp/body" -H "Authorization: Bearer $UPLOADER" -H 'Accept-Language: en' \
	--data-binary "@$tmp/msg.csv" "$URL/api/v1/uploads?survey=onestop-tt01&lang=vi"
jq -r '.problems[0].message' "$tmp/body" | grep -q '^Cột không xác định'
tap $? "lang=vi wins over Accept-Language en"
upload onestop-tt01 "$tmp/msg.csv" >/dev/null
jq -r '.problems[0].message' "$tmp/body" | grep -q '^unknown column'
tap $? "no language asked: English"
is "$(upload onestop-tt01 "$tmp/weight.csv" -H 'Accept-Language: vi')" 200 "a bad weight in a ';' file: 200"
is "$(totals "$tmp/body")" "2 1 0 0 1" "the row with 1,5 is stored, abc rejected"
jq -r '.problems[0].message' "$tmp/body" | grep -q '^Trọng số phải là một số lớn hơn 0, ví dụ 1,5 hoặc 1.5'
tap $? "the weight's message in Vietnamese says how to write it"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" -H 'Accept-Language: vi' \
	--data-binary "@$tmp/msg.csv" "$URL/api/v1/uploads")" 400 "no survey=: 400"
jq -r '.error.message' "$tmp/body" | grep -q '^Thiếu survey=MÃ'
tap $? "in Vietnamese when asked"
printf 'id,unit,submitted_at,R1\nd-1,U001,05/13/2025,3\n' >"$tmp/mmdd.csv"
upload onestop-tt01 "$tmp/mmdd.csv" -H 'Accept-Language: vi' >/dev/null
is "$(jq -r '.problems[0] | "\(.row) \(.column)"' "$tmp/body")" "1 submitted_at" "05/13/2025 (month first) is refused on its row and column"
jq -r '.problems[0].reason' "$tmp/body" | grep -q 'dd/mm/yyyy'
tap $? "the reason names the format expected"
jq -r '.problems[0].message' "$tmp/body" | grep -q 'ngày/tháng/năm (dd/mm/yyyy'
tap $? "and so does the Vietnamese message"

if cat "$tmp"/*.err | grep -E 'Sanitizer|runtime error|assertion failed' >&2; then
	tap 1 "sipasctl's stderr has no sanitizer report"
else
	tap 0 "sipasctl's stderr has no sanitizer report"
fi
sipasd_stop
is $? 0 "sipasd exits 0 on SIGTERM"
log_clean
finish
