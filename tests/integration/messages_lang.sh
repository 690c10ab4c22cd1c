#!/usr/bin/env bash
# messages_lang.sh: the language of the API's error messages
# (docs/interfaces.md, "Error messages"). A representative error of each
# endpoint, asked with Accept-Language: vi and with lang=vi, answers in
# Vietnamese (a distinctive phrase of its text, which says what to do); asked
# with Accept-Language: en or with neither, in the English text it always
# had. The status, the error code and the field never change with the
# language.
set -u
. "$(dirname "$0")/daemon_lib.sh"

db_setup
VIEWER=$(token viewer)
SCOPED=$(token viewer U002)
COLLECTOR=$(token collector)
ADMIN=$(token admin)
MTOKEN=metrics-secret-1

sipasd_start "max_body = 1024" "metrics_token = $MTOKEN"

# ask LANG TOKEN PATH [CURL ARGS...]: a request with Accept-Language: LANG
# (none when empty) and the bearer TOKEN (none when empty); prints the
# status, the body in $tmp/body.
ask() {
	local al=$1 tok=$2 path=$3 args=()
	shift 3
	[ -n "$al" ] && args+=(-H "Accept-Language: $al")
	[ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
	curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
	    "${args[@]}" "$@" "$URL$path"
}

# The code and field of the last error body, and its message.
shape() {
	jq -r '.error.code + " " + (.error.field // "")' "$tmp/body" 2>/dev/null
}
message() {
	jq -r .error.message "$tmp/body" 2>/dev/null
}

# says PATTERN DESCRIPTION: the last message matches the glob PATTERN.
says() {
	local m
	m=$(message)
	# shellcheck disable=SC2053
	if [[ $m == $1 ]]; then
		tap 0 "$2"
	else
		tap 1 "$2 (got '$m')"
	fi
}

# check STATUS CODE FIELD VI EN TOKEN PATH [CURL ARGS...]: the error of
# PATH, asked four ways: Accept-Language: vi and lang=vi give a message
# holding VI; Accept-Language: en and no language give the message EN (a
# glob); each time with STATUS, CODE and FIELD.
check() {
	local st=$1 code=$2 field=$3 vi=$4 en=$5 tok=$6 path=$7 sep='?' want
	shift 7
	case $path in *\?*) sep='&' ;; esac
	want="$st $code $field"
	is "$(ask vi "$tok" "$path" "$@") $(shape)" "$want" \
	    "$path, Accept-Language: vi: $want"
	says "*$vi*" "in Vietnamese ($vi)"
	is "$(ask '' "$tok" "$path${sep}lang=vi" "$@") $(shape)" "$want" \
	    "$path${sep}lang=vi: $want"
	says "*$vi*" "in Vietnamese ($vi)"
	is "$(ask en "$tok" "$path" "$@") $(shape)" "$want" \
	    "$path, Accept-Language: en: $want"
	says "$en" "in English"
	is "$(ask '' "$tok" "$path" "$@") $(shape)" "$want" \
	    "$path, no language: $want"
	says "$en" "in English"
}

IDX="/api/v1/indices?survey=onestop-tt01&unit=U001"
REP="/api/v1/reports?survey=onestop-tt01&unit=U001&from=2025-01-01&to=2025-03-31"

# --- the indices -----------------------------------------------------------------
check 400 missing_parameter survey "thiếu tham số survey" \
    "survey and unit are required" "$VIEWER" "/api/v1/indices?unit=U001"
check 422 unknown_survey survey "không có khảo sát" \
    "unknown survey 'nope'" "$VIEWER" "/api/v1/indices?survey=nope&unit=U001"
check 422 invalid confidence "từ 0.5 đến 0.999" \
    "confidence must be a number from 0.5 to 0.999" "$VIEWER" \
    "$IDX&confidence=2"
# lang= comes before Accept-Language; other values of it are no language.
is "$(ask vi "$VIEWER" "/api/v1/indices?unit=U001&lang=en") $(shape)" \
    "400 missing_parameter survey" "lang=en with Accept-Language: vi: the same error"
says "survey and unit are required" "lang=en wins over Accept-Language: vi"
is "$(ask vi "$VIEWER" "/api/v1/indices?unit=U001&lang=fr") $(shape)" \
    "400 missing_parameter survey" "lang=fr with Accept-Language: vi: the same error"
says "*thiếu tham số survey*" "lang=fr is no language: Accept-Language: vi decides"
ask 'fr, en;q=0.5, vi;q=0.8' "$VIEWER" "/api/v1/indices?unit=U001" >/dev/null
says "*thiếu tham số survey*" "Accept-Language by q-value: vi;q=0.8 over en;q=0.5"

# --- the export ------------------------------------------------------------------
check 422 invalid_date from "ngày from không hợp lệ" \
    "from must be a date YYYY-MM-DD from 1900-01-01 to 9999-12-30" "$ADMIN" \
    "/api/v1/export?survey=onestop-tt01&from=2025-13-40"
check 400 unknown_parameter color "không có tham số" \
    "unknown parameter 'color' (survey, unit, from, to, channel)" "$ADMIN" \
    "/api/v1/export?survey=onestop-tt01&color=red"

# --- the reports -----------------------------------------------------------------
check 422 invalid format "định dạng không hợp lệ" \
    "format must be xlsx, pdf, csv or html" "$VIEWER" "$REP&format=doc"
check 422 invalid_date to "ngày to trước ngày from" "to is before from" \
    "$VIEWER" "/api/v1/reports?survey=onestop-tt01&unit=U001&from=2025-03-01&to=2025-01-01&format=csv"
check 404 not_found "" "không có báo cáo này" "no such report" "$VIEWER" \
    "/api/v1/reports/files/nothing.xlsx"

# --- tokens and scope ------------------------------------------------------------
check 401 unauthorized "" "thiếu mã thông báo" \
    "an Authorization: Bearer token is required" "" "$IDX"
check 401 unauthorized "" "không hợp lệ hoặc đã hết hạn" "unknown token" \
    "no-such-token-0123456789" "$IDX"
check 403 forbidden "" "vai trò" "a collector token may not do this" \
    "$COLLECTOR" "$IDX"
check 403 forbidden unit "phạm vi" "this token may not see this unit" \
    "$SCOPED" "$IDX"
check 401 unauthorized "" "mã thông báo metrics" \
    "GET /metrics needs the metrics token" "" "/metrics"

# --- the router ------------------------------------------------------------------
check 404 not_found "" "không có đường dẫn" "no such path: /api/v1/nope" \
    "" "/api/v1/nope"
check 405 method_not_allowed "" "không dùng được DELETE" \
    "DELETE is not allowed on /api/v1/indices" "$VIEWER" "/api/v1/indices" \
    -X DELETE
big=$(printf '{"id":"big","survey":"onestop-tt01","unit":"U001","answers":{"R1":3},"psu":"%01500d"}' 0)
check 413 too_large "" "lớn hơn 1024 byte" "the body is larger than 1024 bytes" \
    "$COLLECTOR" "/api/v1/responses" -H 'Content-Type: application/json' \
    --data-binary "$big"
log_clean
sipasd_stop

# --- the rate limit --------------------------------------------------------------
# A token every 100 s and a burst of one: the first request spends it.
sipasd_start "rate_token = 0.01" "rate_token_burst = 1"
is "$(ask '' "$VIEWER" "/api/v1/indices?unit=U001")" 400 "the burst is spent"
check 429 rate_limited "" "quá nhiều yêu cầu từ mã thông báo này" \
    "too many requests from this token; retry after [1-9]* s" "$VIEWER" \
    "/api/v1/indices?unit=U001"
log_clean
sipasd_stop
finish
