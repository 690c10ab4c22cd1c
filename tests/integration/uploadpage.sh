#!/usr/bin/env bash
# uploadpage.sh: the survey teams' upload page with curl (docs/uploads.md):
# /uploads needs a session (303 to /login), an uploader signs in and lands
# there; a multipart POST stores the good rows and shows the counts; a unit
# outside the uploader's scope is rejected; the rejected rows are listed on
# the page and downloadable as a CSV holding exactly the bad rows (as sent,
# plus a reason), for this session only; the CSRF token is required; a file
# over upload_max is refused with a message; the recent uploads list shows
# the team's uploads only. The template: CSV and XLSX over HTTP (session or
# bearer token; the header, the drop-down lists and the units in the XLSX's
# XML), sipasctl template writes the same header, and a filled CSV template
# uploads as it is.
set -u
. "$(dirname "$0")/daemon_lib.sh"

pg_setup
"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init"
units_setup || bail "unit import"

UP_U001=$(token uploader U001)
UP_U002=$(token uploader U002)
VIEWER=$(token viewer)
sipasd_start "token_ttl = 0" "session_cookie_secure = 0" "upload_max = 65536"
C=$tmp/cookies
C2=$tmp/cookies2

page() {
	curl -s -b "$C" -c "$C" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "$URL$1"
}
csrf_of() { sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$1" | head -n 1; }
# login JAR TOKEN: sign in as a browser does; the status of POST /login.
login() {
	curl -s -b "$1" -c "$1" -o "$tmp/login.html" "$URL/login"
	curl -s -b "$1" -c "$1" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
		-H "Origin: $URL" --data-urlencode "token=$2" \
		--data-urlencode "csrf=$(csrf_of "$tmp/login.html")" "$URL/login"
}
header() { tr -d '\r' <"$tmp/headers" | sed -n "s/^$1: //Ip" | head -n 1; }
count() { sed -n "s/.*id=\"$1\">\([0-9]*\)<.*/\1/p" "$tmp/body" | head -n 1; }
# send JAR FILE [CSRF [SURVEY]]: the page's form as a browser posts it.
send() {
	local jar=$1 file=$2 csrf=${3-} survey=${4:-onestop-tt01}
	curl -s -b "$jar" -c "$jar" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
		-H "Origin: $URL" -F "csrf=$csrf" -F "survey=$survey" \
		-F "file=@$file;type=text/csv" "$URL/uploads"
}

# --- the session -----------------------------------------------------------
is "$(page /uploads)" 303 "GET /uploads without a session: 303"
case "$(header Location)" in /login\?next=%2Fuploads*) tap 0 "to /login with next=/uploads" ;;
*) tap 1 "to /login with next (got $(header Location))" ;; esac
is "$(curl -s -o /dev/null -w '%{http_code}' -F csrf=x -F survey=onestop-tt01 \
	-F "file=@/dev/null" "$URL/uploads")" 303 "POST /uploads without a session: 303, nothing read"
is "$(login "$C" "$UP_U001")" 303 "an uploader signs in"
is "$(header Location)" /uploads "and lands on /uploads"
is "$(page /uploads)" 200 "GET /uploads: 200"
grep -q 'enctype="multipart/form-data"' "$tmp/body" && grep -q 'name="file"' "$tmp/body" &&
	! grep -q '<script' "$tmp/body"
tap $? "a plain multipart form with a file field, no script"
grep -q '<html lang="vi">' "$tmp/body" && grep -q 'Tải phiếu khảo sát lên' "$tmp/body"
tap $? "Vietnamese by default"
grep -q 'recent-none' "$tmp/body"
tap $? "no uploads listed yet"
CSRF=$(csrf_of "$tmp/body")
[ -n "$CSRF" ]
tap $? "the form carries the session's CSRF token"
is "$(page '/uploads?lang=en')" 200 "GET /uploads?lang=en: 200"
grep -q '<html lang="en">' "$tmp/body" && grep -q 'Upload survey responses' "$tmp/body"
tap $? "English through the language link"
is "$(page /dashboard)" 403 "the uploader's session does not open the dashboard"

# --- an upload with good and bad rows -------------------------------------
cat >"$tmp/mixed.csv" <<'EOF'
id,unit,submitted_at,R1
p-1,U001,2025-03-01,1
p-2,C011,2025-03-02,3
p-3,U001,2025-03-03,9
p-4,U002,2025-03-04,2
p-5,NOPE,2025-03-05,2
p-6,C012,2025-13-01,2
p-7,C012,2025-03-07,2
EOF
is "$(send "$C" "$tmp/mixed.csv" "$CSRF")" 200 "the form's POST: 200"
is "$(count rows)/$(count stored)/$(count duplicates)/$(count conflicts)/$(count rejected)" 7/3/0/0/4 \
	"the counts: 7 rows, 3 stored, 4 rejected"
is "$(sql "SELECT string_agg(source_id, ',' ORDER BY source_id) FROM responses")" p-1,p-2,p-7 \
	"exactly the good rows are stored"
is "$(sql "SELECT count(*) FROM responses WHERE unit = 'U002'")" 0 "the unit outside the scope is not stored"
grep -o '<tr><td class="n">[0-9]*</td><td>[^<]*</td><td>[^<]*</td>' "$tmp/body" |
	sed 's/<[^>]*>/|/g; s/||*/|/g' >"$tmp/rej.txt"
printf '|3|R1|9|\n|4|unit|U002|\n|5|unit|NOPE|\n|6|submitted_at|2025-13-01|\n' >"$tmp/rej.want"
diff "$tmp/rej.want" "$tmp/rej.txt" >&2
tap $? "the rejected rows are listed: row, column, value"
grep -q 'Đơn vị nằm ngoài phạm vi của tài khoản' "$tmp/body"
tap $? "the scope's reason in Vietnamese"
grep -q 'Giá trị không có trong thang đo' "$tmp/body"
tap $? "the scale's reason in Vietnamese"
HREF=$(sed -n 's/.*id="rejected-csv" href="\([^"]*\)".*/\1/p' "$tmp/body")
[ -n "$HREF" ]
tap $? "a link to the rejected rows"
is "$(page "$HREF")" 200 "the rejected rows' CSV: 200"
is "$(header Content-Type)" "text/csv; charset=utf-8" "as text/csv"
tr -d '\r' <"$tmp/body" | cut -d, -f1-4 >"$tmp/rej.csv"
printf 'id,unit,submitted_at,R1\np-3,U001,2025-03-03,9\np-4,U002,2025-03-04,2\np-5,NOPE,2025-03-05,2\np-6,C012,2025-13-01,2\n' \
	>"$tmp/rej.csv.want"
diff "$tmp/rej.csv.want" "$tmp/rej.csv" >&2
tap $? "it holds exactly the bad rows as sent"
is "$(head -n 1 "$tmp/body" | tr -d '\r')" "id,unit,submitted_at,R1,reason" "with a last column reason"
is "$(tr -d '\r' <"$tmp/body" | sed -n 3p | cut -d, -f5-)" "Đơn vị nằm ngoài phạm vi của tài khoản; chỉ gửi phiếu của các đơn vị mình phụ trách." \
	"each row's reason"
# Fixed (reason column off, good values), the rows upload.
tr -d '\r' <"$tmp/body" | cut -d, -f1-4 | sed 's/,9$/,3/; s/U002/C012/; s/NOPE/U001/; s/2025-13-01/2025-03-06/' >"$tmp/fixed.csv"
is "$(send "$C" "$tmp/fixed.csv" "$CSRF")" 200 "the fixed rows sent again"
is "$(count stored)/$(count rejected)" 4/0 "all four are stored"
is "$(send "$C" "$tmp/mixed.csv" "$CSRF")" 200 "the first file again"
is "$(count stored)/$(count duplicates)/$(count rejected)" 0/3/4 "nothing new: 3 duplicates"

# What a row holds is shown as text, never as markup.
printf 'id,unit,submitted_at,R1\nx-1,C011,2025-03-01,<b>9</b>\n' >"$tmp/markup.csv"
is "$(send "$C" "$tmp/markup.csv" "$CSRF")/$(count rejected)" 200/1 "a row with markup in a cell is rejected"
grep -q '<td>R1</td><td>&lt;b&gt;9&lt;/b&gt;</td>' "$tmp/body" && ! grep -q '<b>9' "$tmp/body"
tap $? "its value is escaped on the page"
grep -q "Content-Security-Policy: default-src 'none'" "$tmp/headers"
tap $? "the result page has the CSP header"

# A file of many slices (the form is read 16 KiB at a time): every row
# arrives whole, whatever slice the part's boundary falls in.
{
	echo 'id,unit,submitted_at,R1'
	for i in $(seq 1 1500); do echo "m-$i,C011,2025-05-01,$((i % 3 + 1))"; done
} >"$tmp/many.csv"
is "$(send "$C" "$tmp/many.csv" "$CSRF")/$(count rows)/$(count stored)/$(count rejected)" 200/1500/1500/0 \
	"a $(wc -c <"$tmp/many.csv")-byte file: 1500 rows stored"
grep -q 'uploads page: onestop-tt01, file many.csv, form of [0-9]* bytes, streamed' "$SIPASD_LOG"
tap $? "its form was streamed"

# Another session cannot take the first one's rejected rows.
is "$(login "$C2" "$UP_U002")" 303 "another uploader signs in"
is "$(curl -s -b "$C2" -o /dev/null -w '%{http_code}' "$URL$HREF")" 404 "the rejected rows are its session's only"

# --- refusals --------------------------------------------------------------
n0=$(sql "SELECT count(*) FROM responses")
is "$(send "$C" "$tmp/fixed.csv" "")" 403 "no CSRF token: 403"
grep -q 'Biểu mẫu đã hết hạn' "$tmp/body"
tap $? "with a message saying what to do"
is "$(send "$C" "$tmp/fixed.csv" "sip_forged")" 403 "a wrong CSRF token: 403"
is "$(send "$C" "$tmp/fixed.csv" "$(csrf_of "$tmp/login.html")")" 403 "the login form's token: 403"
is "$(sql "SELECT count(*) FROM responses")" "$n0" "nothing stored by the refused posts"
head -c 70000 /dev/zero | tr '\0' 'x' >"$tmp/big.csv"
is "$(send "$C" "$tmp/big.csv" "$CSRF")" 413 "a file over upload_max: 413"
grep -q 'Tệp quá lớn: tối đa 64 KiB' "$tmp/body"
tap $? "with a message to split the file"
is "$(send "$C" "$tmp/fixed.csv" "$CSRF" nope)" 422 "an unknown survey: 422"
is "$(curl -s -b "$C" -o /dev/null -w '%{http_code}' -H "Origin: $URL" \
	--data "csrf=$CSRF&survey=onestop-tt01" "$URL/uploads")" 415 "a urlencoded post: 415"

# --- the recent uploads ------------------------------------------------------
is "$(page /uploads)" 200 "GET /uploads again"
is "$(grep -c '<tr><td>[0-9][0-9]/[0-9][0-9]/20[0-9][0-9] [0-9:]*</td><td>t-uploader-U001</td><td>onestop-tt01</td><td>U001</td>' "$tmp/body")" 5 \
	"the team's five uploads are listed"
grep -q '<td class="n">7</td><td class="n">0</td><td class="n">3</td><td class="n">0</td><td class="n">4</td>' "$tmp/body"
tap $? "with their counts"
# U002's upload is not in U001's list, and U001's not in U002's.
printf 'id,unit,submitted_at,R1\nq-1,U002,2025-03-01,2\n' >"$tmp/u2.csv"
curl -s -b "$C2" -c "$C2" -o "$tmp/p2.html" "$URL/uploads"
is "$(send "$C2" "$tmp/u2.csv" "$(csrf_of "$tmp/p2.html")")/$(count stored)" 200/1 "U002's team uploads its row"
page /uploads >/dev/null
! grep -q 't-uploader-U002' "$tmp/body"
tap $? "U001's list does not show U002's upload"
curl -s -b "$C2" -o "$tmp/body" "$URL/uploads"
! grep -q 't-uploader-U001' "$tmp/body" && grep -q 't-uploader-U002' "$tmp/body"
tap $? "U002's list shows its own only"

# --- the template -------------------------------------------------------------
is "$(page '/uploads/template?survey=onestop-tt01&format=csv')" 200 "the CSV template with the session: 200"
is "$(tr -d '\r' <"$tmp/body")" "id,unit,submitted_at,R1" "its header: the codes the upload reads"
cp "$tmp/body" "$tmp/template.csv"
is "$(curl -s -o "$tmp/t.xlsx" -w '%{http_code}' -H "Authorization: Bearer $UP_U001" \
	"$URL/uploads/template?survey=onestop-tt01&format=xlsx")" 200 "the XLSX template with a bearer token: 200"
unzip -p "$tmp/t.xlsx" xl/sharedStrings.xml >"$tmp/ss.xml" 2>/dev/null
unzip -p "$tmp/t.xlsx" xl/worksheets/sheet1.xml >"$tmp/s1.xml" 2>/dev/null
grep -q '<dataValidation type="list"[^>]*sqref="D2:D5001"><formula1>"1,2,3"</formula1>' "$tmp/s1.xml"
tap $? "R1's column has a drop-down of its scale 1, 2, 3"
grep -q '<dataValidation type="list"[^>]*sqref="B2:B5001"><formula1>"C011,C012,U001"</formula1>' "$tmp/s1.xml"
tap $? "the unit column's list: the 3 units of the scope"
grep -q 'type="date"[^>]*sqref="C2:C5001"' "$tmp/s1.xml"
tap $? "submitted_at takes dates"
unzip -p "$tmp/t.xlsx" xl/styles.xml | grep -q 'formatCode="dd/mm/yyyy"'
tap $? "shown dd/mm/yyyy"
bad=0
for w in id unit submitted_at R1 U001 C011 C012 'Tên đơn vị'; do
	grep -q ">$w<" "$tmp/ss.xml" || { echo "# $w missing" >&2; bad=$((bad + 1)); }
done
tap $bad "the header, the scope's units and their names' heading are in the workbook"
unzip -p "$tmp/t.xlsx" xl/workbook.xml | grep -o '<sheet name="[^"]*"' | tr '\n' ' ' >"$tmp/sheets"
is "$(cat "$tmp/sheets")" '<sheet name="Phiếu" <sheet name="Hướng dẫn" <sheet name="Đơn vị" ' \
	"three sheets: Phiếu, Hướng dẫn, Đơn vị"
! grep -q '>U002<' "$tmp/ss.xml"
tap $? "no unit outside the scope"
unzip -l "$tmp/t.xlsx" | grep -q 'xl/comments1.xml'
tap $? "the header cells have comments (the items' texts and scales)"
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $VIEWER" \
	"$URL/uploads/template?survey=onestop-tt01")" 403 "a viewer token: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/uploads/template?survey=onestop-tt01")" 303 \
	"neither token nor session: to /login"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UP_U001" \
	"$URL/uploads/template?survey=onestop-tt01&format=pdf")" 422 "an unknown format: 422"
is "$(error_field)" format "naming the field"

"$SIPASCTL" --db "$DSN" template --survey onestop-tt01 --format csv -o "$tmp/ctl.csv"
is "$?" 0 "sipasctl template --format csv"
cmp -s "$tmp/ctl.csv" "$tmp/template.csv"
tap $? "writes the same CSV as the page"
"$SIPASCTL" --db "$DSN" template --survey onestop-tt01 --unit U001 -o "$tmp/ctl.xlsx"
is "$?" 0 "sipasctl template (xlsx, --unit U001)"
unzip -p "$tmp/ctl.xlsx" xl/worksheets/sheet1.xml >"$tmp/c1.xml"
cmp -s "$tmp/s1.xml" "$tmp/c1.xml"
tap $? "its data sheet is the same as the page's"
"$SIPASCTL" --db "$DSN" template --survey nope -o "$tmp/x.xlsx" 2>/dev/null
is "$?" 2 "an unknown survey: exit 2"

# The CSV template, filled, uploads as it is.
cp "$tmp/template.csv" "$tmp/filled.csv"
printf 'f-1,C011,2025-04-01,1\r\nf-2,C012,2025-04-02,2\r\n' >>"$tmp/filled.csv"
is "$(send "$C" "$tmp/filled.csv" "$CSRF")/$(count stored)/$(count rejected)" 200/2/0 \
	"a filled CSV template uploads: 2 stored"

# A person's account (a password session) uploads too, audited under its login.
printf '%s\n' 'team-u001-password' | "$SIPASCTL" --db "$DSN" user add team1 \
	--role uploader --unit U001 --password-stdin >/dev/null
C3=$tmp/cookies3
curl -s -b "$C3" -c "$C3" -o "$tmp/login.html" "$URL/login"
is "$(curl -s -b "$C3" -c "$C3" -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
	-H "Origin: $URL" --data-urlencode "login=team1" \
	--data-urlencode "password=team-u001-password" \
	--data-urlencode "csrf=$(csrf_of "$tmp/login.html")" "$URL/login")" 303 \
	"an uploader's account signs in with its password"
is "$(header Location)" /uploads "and lands on /uploads"
curl -s -b "$C3" -c "$C3" -o "$tmp/body" "$URL/uploads"
printf 'id,unit,submitted_at,R1\r\nacct-1,U001,2025-05-01,2\r\n' >"$tmp/acct.csv"
is "$(send "$C3" "$tmp/acct.csv" "$(csrf_of "$tmp/body")")/$(count stored)" 200/1 \
	"its upload through the page is stored"
is "$(sql "SELECT actor FROM audit_log WHERE action = 'upload' ORDER BY id DESC LIMIT 1")" \
	"user:team1" "and audited under the account's login"

log_clean
finish
