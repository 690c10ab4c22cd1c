#!/usr/bin/env bash
# same_response.sh: one response is one response whatever way it comes in.
# The same response (respondent fields, weight, stratum and psu, a time
# given with an offset) through POST /api/v1/responses, a CSV upload
# (POST /api/v1/uploads) and sipasctl import, in each order: one row is
# stored, and every replay through another way is a duplicate (200,
# "duplicates" of the upload's report, import's duplicate count), never a
# conflict. Then the API's messages in Vietnamese (Accept-Language, lang=)
# and in English.
set -u
. "$(dirname "$0")/daemon_lib.sh"

command -v jq >/dev/null || bail "jq is required"
db_setup

COLLECTOR=$(token collector)
COLLECTOR2=$(token collector U002)
UPLOADER=$(token uploader)

sipasd_start

# The response as the API's JSON: ID, then the time in its own offset (the
# same instant as the CSV's, written otherwise) and answers as text.
api_body() {
	printf '{"id":"%s","survey":"onestop-tt01","unit":"U001",' "$1"
	printf '"channel":"paper","submitted_at":"2025-05-01T10:30:00+08:00",'
	printf '"weight":"2.50","stratum":"urban","psu":"p-1",'
	printf '"answers":{"R1":"3"},'
	printf '"respondent":{"gender":"female","age_band":"35-44"}}'
}
# The same response as one CSV row: ID.
csv_file() {
	{
		echo 'id,unit,submitted_at,channel,weight,stratum,psu,R1,respondent.gender,respondent.age_band'
		echo "$1,U001,2025-05-01 09:30,paper,2.5,urban,p-1,3,female,35-44"
	} >"$tmp/$1.csv"
	echo "$tmp/$1.csv"
}
# api ID: post it; "STATUS STATUS-FIELD".
api() {
	local st
	st=$(post "$COLLECTOR" "$(api_body "$1")")
	echo "$st $(jq -r '.status // .error.code' "$tmp/body")"
}
# upload ID: upload its CSV; "STATUS stored duplicates conflicts rejected".
upload() {
	local st
	st=$(curl -s -o "$tmp/body" -w '%{http_code}' \
		-H "Authorization: Bearer $UPLOADER" -H 'Content-Type: text/csv' \
		--data-binary "@$(csv_file "$1")" \
		"$URL/api/v1/uploads?survey=onestop-tt01")
	echo "$st $(jq -r '"\(.stored) \(.duplicates) \(.conflicts) \(.rejected)"' "$tmp/body")"
}
# import ID: sipasctl import of its CSV; "EXIT stored duplicates conflicts rejected".
import() {
	local rc
	"$SIPASCTL" --db "$DSN" import --survey onestop-tt01 "$(csv_file "$1")" \
		>"$tmp/imp.json" 2>"$tmp/imp.err"
	rc=$?
	echo "$rc $(jq -r '"\(.stored) \(.duplicates) \(.conflicts) \(.rejected)"' "$tmp/imp.json")"
}
rows() {
	sql "SELECT count(*) FROM responses WHERE source_id = '$1'"
}

# --- API, then upload, then import ------------------------------------------
is "$(api same-a)" "201 stored" "A: the API stores the response"
is "$(upload same-a)" "200 0 1 0 0" "A: its upload is a duplicate"
is "$(import same-a)" "0 0 1 0 0" "A: its import is a duplicate"
is "$(api same-a)" "200 already_stored" "A: the API again: already stored"
is "$(rows same-a)" 1 "A: one row"

# --- upload, then import, then API ------------------------------------------
is "$(upload same-b)" "200 1 0 0 0" "B: the upload stores the response"
is "$(import same-b)" "0 0 1 0 0" "B: its import is a duplicate"
is "$(api same-b)" "200 already_stored" "B: its API post is already stored"
is "$(upload same-b)" "200 0 1 0 0" "B: the upload again: a duplicate"
is "$(rows same-b)" 1 "B: one row"

# --- import, then API, then upload ------------------------------------------
is "$(import same-c)" "0 1 0 0 0" "C: the import stores the response"
is "$(api same-c)" "200 already_stored" "C: its API post is already stored"
is "$(upload same-c)" "200 0 1 0 0" "C: its upload is a duplicate"
is "$(import same-c)" "0 0 1 0 0" "C: the import again: a duplicate"
is "$(rows same-c)" 1 "C: one row"

# What is stored is the same whichever way came first.
is "$(sql "SELECT count(DISTINCT (content_hash, submitted_at, weight, stratum, psu, answers::text, respondent::text)) FROM responses WHERE source_id LIKE 'same-%'")" 1 \
	"the three rows hold the same content"
is "$(sql "SELECT answers::text || ' ' || respondent::text FROM responses WHERE source_id = 'same-a'")" \
	'{"R1":3} {"gender": "female", "age_band": "35-44"}' \
	"answers stored as the JSON text sipasd wrote, respondent as a JSON object"
# Other content under the same id is a conflict, through each way.
sed -i 's/,3,female/,2,female/' "$tmp/same-a.csv"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $UPLOADER" \
	-H 'Content-Type: text/csv' --data-binary "@$tmp/same-a.csv" \
	"$URL/api/v1/uploads?survey=onestop-tt01") $(jq -r .conflicts "$tmp/body")" "200 1" \
	"other content, same id, by upload: a conflict"
is "$(post "$COLLECTOR" "$(api_body same-b | sed 's/"R1":"3"/"R1":1/')") $(jq -r .error.code "$tmp/body")" \
	"409 conflict" "other content, same id, by the API: 409"

# --- the API's messages in Vietnamese and English ----------------------------
# postl TOKEN QUERY ACCEPT-LANGUAGE BODY: POST; prints the status, body in $tmp/body.
postl() {
	local auth=() lang=()
	[ -n "$1" ] && auth=(-H "Authorization: Bearer $1")
	[ -n "$3" ] && lang=(-H "Accept-Language: $3")
	curl -s -o "$tmp/body" -w '%{http_code}' "${auth[@]}" "${lang[@]}" \
		-H 'Content-Type: application/json' --data-binary "$4" \
		"$URL/api/v1/responses$2"
}
msg() { jq -r '"\(.error.code) \(.error.field) \(.error.message)"' "$tmp/body"; }

is "$(postl "$COLLECTOR" "" "vi" '{"survey":"onestop-tt01","unit":"U001","bogus":1,"answers":{"R1":3}}') $(msg)" \
	"422 unknown_field bogus Không có trường 'bogus': bỏ trường này hoặc sửa tên trường" \
	"Accept-Language: vi: an unknown field in Vietnamese, same code and field"
is "$(postl "$COLLECTOR" "" "" '{"survey":"onestop-tt01","unit":"U001","bogus":1,"answers":{"R1":3}}') $(msg)" \
	"422 unknown_field bogus unknown field 'bogus'" "no Accept-Language: English as before"
is "$(postl "$COLLECTOR" "?lang=vi" "en" '{"survey":') $(jq -r .error.code "$tmp/body")" \
	"400 malformed_json" "?lang=vi: malformed JSON is 400 malformed_json"
jq -r .error.message "$tmp/body" | grep -q '^JSON không đúng cú pháp ở dòng 1, cột' ; \
	tap $? "?lang=vi wins over Accept-Language: en: the message is Vietnamese"
is "$(postl "$COLLECTOR" "?lang=en" "vi" '{"survey":"onestop-tt01","unit":"U001","answers":{"R1":7}}') $(msg)" \
	"422 invalid_answer answers.R1 R1 is not a value of scale TT3" "?lang=en wins over Accept-Language: vi"
is "$(postl "$COLLECTOR" "" "vi-VN,vi;q=0.9,en;q=0.5" '{"survey":"onestop-tt01","unit":"U001","answers":{"R1":7}}') $(msg)" \
	"422 invalid_answer answers.R1 Câu trả lời R1 không thuộc thang đo TT3: gửi một giá trị của thang đo" \
	"Accept-Language: vi-VN,...: an answer off the scale in Vietnamese"
is "$(postl "$COLLECTOR" "?lang=vi" "" '{"survey":"onestop-tt01","unit":"U001","weight":0,"answers":{"R1":3}}') $(msg)" \
	"422 invalid_weight weight Trọng số (weight) phải là một số lớn hơn 0: sửa giá trị rồi gửi lại" \
	"?lang=vi: a bad weight in Vietnamese"
is "$(postl "$COLLECTOR" "?lang=vi" "" '{"survey":"onestop-tt01","unit":"U001","answers":{"R1":3},"respondent":{"shoe_size":"42"}}') $(msg | cut -d' ' -f1-2)" \
	"422 invalid respondent.shoe_size" "?lang=vi: a rule of the validator: 422, the field named"
jq -r .error.message "$tmp/body" | grep -q '^Phiếu không hợp lệ ở trường respondent.shoe_size (unknown respondent field "shoe_size" .*: sửa giá trị rồi gửi lại$'
tap $? "?lang=vi: the validator's reason inside a Vietnamese message"
is "$(postl "$COLLECTOR" "?lang=vi" "" '{"survey":"nope","unit":"U001","answers":{"R1":3}}') $(msg)" \
	"422 unknown_survey survey Không có khảo sát 'nope': dùng mã của một khảo sát đã đăng ký" \
	"?lang=vi: an unknown survey in Vietnamese"
is "$(postl "$COLLECTOR2" "" "vi" '{"survey":"onestop-tt01","unit":"U001","answers":{"R1":3}}') $(msg)" \
	"403 forbidden unit Mã truy cập này không được gửi phiếu cho đơn vị này: dùng mã truy cập của đơn vị hoặc sửa mã đơn vị" \
	"Accept-Language: vi: a unit outside the token's scope is 403 in Vietnamese"
is "$(postl "$COLLECTOR2" "" "" '{"survey":"onestop-tt01","unit":"U001","answers":{"R1":3}}') $(msg)" \
	"403 forbidden unit this token may not post to this unit" "403 in English as before"
is "$(postl "$COLLECTOR" "" "vi" "$(api_body same-b | sed 's/"R1":"3"/"R1":1/')") $(msg)" \
	"409 conflict id Khảo sát onestop-tt01 đã có một phiếu khác mang mã 'same-b': đổi mã id của phiếu này hoặc không gửi lại" \
	"Accept-Language: vi: a conflict in Vietnamese"
is "$(postl "$COLLECTOR" "" "" "$(api_body same-b | sed 's/"R1":"3"/"R1":1/')") $(msg)" \
	"409 conflict id another response with id 'same-b' is already stored for survey onestop-tt01" \
	"a conflict in English as before"

log_clean
finish
