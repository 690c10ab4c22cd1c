#!/usr/bin/env bash
# sms_http.sh: the SMS endpoints of sipasd over HTTP against a real
# PostgreSQL (docs/sms.md): Kannel's get-url (GET and POST), Twilio's signed
# webhook and TwiML, the external channel; the raw log, idempotent retries,
# the one-response-per-period limit, dialogues and their expiry, the
# diacritics mode, and that no log line shows a full phone number.
set -u
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/sms_lib.sh"

sms_setup
msgs() { sql "SELECT count(*) FROM sms_messages $1"; }
resp() { sql "SELECT count(*) FROM responses WHERE channel = 'sms' $1"; }

# --- Kannel: authentication -------------------------------------------------
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/sms/kannel?key=wrong&from=0912000001&text=HL+U001+5+4+4+5+3")" \
	403 "a wrong key: 403"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/sms/kannel?from=0912000001&text=HL+U001+5+4+4+5+3")" \
	403 "no key: 403"
is "$(msgs '')" 0 "a refused request logs nothing"

# --- complete messages ------------------------------------------------------
is "$(kannel 0912000001 'HL U001 5 4 4 5 3' m1)" 200 "a complete message: 200"
is "$(reply)" "Cam on ong/ba da danh gia Huyen Mot. Y kien cua ong/ba da duoc ghi nhan." "the thank-you names the unit"
is "$(sql "SELECT unit || ' ' || channel || ' ' || (answers->>'Q9_24') || (answers->>'Q9_27') || (answers->>'Q9_31') || (answers->>'Q9_34') || (answers->>'Q9_37') FROM responses WHERE source_id = (SELECT 'sms-' || id FROM sms_messages WHERE external_id = 'm1')")" \
	"U001 sms 54453" "the response is stored with the SMS items' answers"
is "$(sql "SELECT outcome || ' ' || (response_id IS NOT NULL) || ' ' || sender_masked FROM sms_messages WHERE external_id = 'm1'")" \
	"stored true +84*****001" "the raw log links the response and masks the sender"
is "$(sql "SELECT count(*) FROM sms_messages WHERE sender_hash LIKE '%912000001%' OR text LIKE '%0912000001%'")" 0 \
	"the number is stored only as a keyed hash"
is "$(sql "SELECT to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM responses WHERE channel = 'sms' ORDER BY id LIMIT 1")" \
	"2025-06-15 15:06" "submitted_at is Kannel's ts"
is "$(kannel 0912000001 'HL U001 5 4 4 5 3' m1)" 200 "Kannel re-sends the same id: 200"
is "$(reply)" "Cam on ong/ba da danh gia Huyen Mot. Y kien cua ong/ba da duoc ghi nhan." "and gets the same reply"
is "$(msgs "WHERE external_id = 'm1'") $(resp '')" "1 1" "stored once, one response"

is "$(kannel 0912000002 'hl u002 54453' m2)" 200 "compact, lower case"
is "$(sql "SELECT outcome FROM sms_messages WHERE external_id = 'm2'")" stored "stored"
is "$(kannel 0912000003 'HL U003 5,4,4,5,3 cam on can bo' m3)" 200 "separators and a comment"
is "$(sql "SELECT outcome || '|' || comment FROM sms_messages WHERE external_id = 'm3'")" "stored|cam on can bo" "the comment is kept"
is "$(kannel 0912000004 'Hl Ư004 5.4.4.5.3' m4)" 200 "a unit typed with a diacritic, dots"
is "$(reply)" "Cam on ong/ba da danh gia Huyen Bon. Y kien cua ong/ba da duoc ghi nhan." "accents are ignored in the unit"
is "$(kannel 0912000006 'HL u005 5 4 4 5 3 Cán bộ nhiệt tình' m5)" 200 "accented comment (UTF-8 from UCS-2)"
is "$(sql "SELECT outcome || '|' || comment FROM sms_messages WHERE external_id = 'm5'")" "stored|Cán bộ nhiệt tình" \
	"stored with the accents kept"

# --- errors: the precise reply ----------------------------------------------
is "$(kannel 0912000005 'HL U001 5 4 9' e1)" 200 "too few answers: 200"
is "$(reply)" "Sai so cau tra loi: can 5 so tu 1 den 5, nhan duoc 3. Soan: HL U001 5 4 4 5 3. Gop y ghi sau cac so." \
	"the reply says how many answers are needed"
kannel 0912000005 'HL U001 5 4 9 5 3' e2 >/dev/null
grep -q '9 khong hop le' "$tmp/body" && grep -q '1-5' "$tmp/body"
tap $? "an answer off the scale is named, with the range ($(reply))"
kannel 0912000005 'XY U001 5 4 4 5 3' e3 >/dev/null
grep -q 'HL' "$tmp/body"
tap $? "an unknown keyword lists the keywords ($(reply))"
is "$(kannel 0912000005 $'HL\x01 U001' e4)" 200 "a control character does no harm"
is "$(sql "SELECT outcome FROM sms_messages WHERE external_id IN ('e1','e2','e3') ORDER BY id" | tr '\n' ' ')" \
	"answer-count answer-range unknown-keyword " "every error is in the raw log with its outcome"
long="HL U001 $(printf '5 %.0s' $(seq 1 996))"
is "$(kannel 0912000005 "$long" e5)" 200 "a 2,000-character text: 200"
is "$(sql "SELECT length(text) || ' ' || outcome FROM sms_messages WHERE external_id = 'e5'")" "2000 answer-count" "stored whole in the raw log"
is "$(resp "AND unit = 'U001'")" 1 "no error stored a response"

# --- one response per number, unit and month --------------------------------
is "$(kannel 0912000001 'HL U001 1 1 1 1 1' l1)" 200 "the same number and unit again this month"
is "$(reply)" "So dien thoai nay da danh gia Huyen Mot trong thang nay. Moi so chi gui 1 danh gia cho moi don vi moi thang. Cam on ong/ba!" \
	"is refused with a clear reply"
is "$(resp "AND unit = 'U001'")" 1 "nothing stored"
is "$(kannel '+84 912 000 001' 'HL U002 1 1 1 1 1' l2)" 200 "the same number written otherwise, another unit"
is "$(sql "SELECT outcome FROM sms_messages WHERE external_id = 'l2'")" stored "another unit is fine"
is "$(kannel '84912000001' 'HL U002 2 2 2 2 2' l3)" 200 "84... is the same number"
is "$(sql "SELECT outcome FROM sms_messages WHERE external_id = 'l3'")" limit "and is limited for that unit"

# --- dialogue ---------------------------------------------------------------
kannel 0912000009 'KS U005' d1 >/dev/null
case "$(reply)" in "Cau 1/5: "*) tap 0 "KEYWORD UNIT starts a dialogue: $(reply)" ;; *) tap 1 "dialogue start ($(reply))" ;; esac
is "$(sql "SELECT survey || ' ' || unit || ' ' || cardinality(answers) FROM sms_dialogues")" "sipas-2017 U005 0" "its state is in PostgreSQL"
kannel 0912000009 '5' d2 >/dev/null
case "$(reply)" in "Cau 2/5: "*) tap 0 "an answer asks the next item" ;; *) tap 1 "next item ($(reply))" ;; esac
kannel 0912000009 '7' d3 >/dev/null
case "$(reply)" in '"7" khong hop le. Cau 2/5'*) tap 0 "an answer off the scale asks again" ;; *) tap 1 "retry ($(reply))" ;; esac
kannel 0912000009 '4' d4 >/dev/null
kannel 0912000009 '3' d5 >/dev/null
kannel 0912000009 '4' d5b >/dev/null
kannel 0912000009 '4' d5b >/dev/null
case "$(reply)" in "Cau 5/5: "*) tap 0 "a retried dialogue answer is not counted twice" ;; *) tap 1 "retry in dialogue ($(reply))" ;; esac
is "$(kannel 0912000009 '2 xin cam on' d6)" 200 "the last answer"
is "$(reply)" "Cam on ong/ba da danh gia Huyen Nam. Y kien cua ong/ba da duoc ghi nhan." "thanks after the last answer"
is "$(sql "SELECT answers->>'A1' || (answers->>'B5') || (answers->>'C1') || (answers->>'D1') || (answers->>'E4') FROM responses WHERE survey = 'sipas-2017' AND unit = 'U005'")" \
	54342 "the dialogue's response is stored"
is "$(sql 'SELECT count(*) FROM sms_dialogues')" 0 "and the dialogue is closed"
kannel 0912000008 'KS U004' x1 >/dev/null
kannel 0912000008 '5' x2 >/dev/null
sql "UPDATE sms_dialogues SET expires_at = now() - interval '1 second'" >/dev/null
kannel 0912000008 '5' x3 >/dev/null
grep -q 'HL' "$tmp/body"
tap $? "after expiry a bare number is not an answer ($(reply))"
is "$(sql 'SELECT count(*) FROM sms_dialogues')" 0 "the expired dialogue is gone"
kannel 0912000001 'HL U001' x4 >/dev/null
case "$(reply)" in "So dien thoai nay da danh gia Huyen Mot"*) tap 0 "a dialogue for a used-up unit is refused at once" ;; *) tap 1 "limit at start ($(reply))" ;; esac

# --- POST form, UCS-2 fields ------------------------------------------------
is "$(curl -s -o "$tmp/body" -w '%{http_code}' --data-urlencode "key=$SMS_KEY" --data-urlencode 'id=p1' \
	--data-urlencode 'from=0912000010' --data-urlencode 'text=MC C011 3' "$URL/sms/kannel")" 200 "POST form to /sms/kannel"
is "$(sql "SELECT outcome || ' ' || unit FROM sms_messages WHERE external_id = 'p1'")" "stored C011" "stored"
ucs=$(printf 'MC C012 2' | iconv -f UTF-8 -t UTF-16BE | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g')
is "$(curl -s -o "$tmp/body" -w '%{http_code}' "$URL/sms/kannel?key=$SMS_KEY&id=u1&from=0912000011&coding=2&charset=UTF-16BE&text=$ucs")" \
	200 "UCS-2 text without mo-recode (coding=2, charset=UTF-16BE)"
is "$(sql "SELECT outcome || ' ' || text FROM sms_messages WHERE external_id = 'u1'")" "stored MC C012 2" "decoded and stored"

# --- Twilio -----------------------------------------------------------------
# twilio_sig URL FIELD=VALUE...: Twilio's signature (URL, then sorted name+value).
twilio_sig() {
	local url=$1
	shift
	{ printf '%s' "$url"; printf '%s\n' "$@" | LC_ALL=C sort | while IFS= read -r kv; do printf '%s%s' "${kv%%=*}" "${kv#*=}"; done; } |
		openssl dgst -sha1 -hmac "$TWILIO_TOKEN" -binary | base64
}
tw_fields=("MessageSid=SM0001" "From=+84912000020" "To=+15005550006" "Body=HL C011 5 5 5 4 4 <cảm ơn & hẹn>" "AccountSid=AC1")
sig=$(twilio_sig "$TWILIO_URL" "${tw_fields[@]}")
tw_args=()
for f in "${tw_fields[@]}"; do tw_args+=(--data-urlencode "$f"); done
is "$(curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -H "X-Twilio-Signature: $sig" "${tw_args[@]}" "$URL/sms/twilio")" \
	200 "Twilio with a correct signature: 200"
is "$(cat "$tmp/body")" '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Cam on ong/ba da danh gia Xa Mot. Y kien cua ong/ba da duoc ghi nhan.</Message></Response>' \
	"the reply is TwiML"
grep -qi '^Content-Type: application/xml' "$tmp/headers"
tap $? "as application/xml"
is "$(sql "SELECT outcome || '|' || comment FROM sms_messages WHERE gateway = 'twilio'")" "stored|<cảm ơn & hẹn>" "stored, comment kept"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H "X-Twilio-Signature: $sig" "${tw_args[@]}" --data-urlencode 'Extra=1' "$URL/sms/twilio")" \
	403 "a field added after signing: 403"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' -H 'X-Twilio-Signature: AAAAAAAAAAAAAAAAAAAAAAAAAAA=' "${tw_args[@]}" "$URL/sms/twilio")" \
	403 "a wrong signature: 403"
is "$(curl -s -o "$tmp/body" -w '%{http_code}' "${tw_args[@]}" "$URL/sms/twilio")" 403 "no signature: 403"
tw2=("MessageSid=SM0002" "From=+84912000021" "To=+15005550006" "Body=HL C011 9")
sig2=$(twilio_sig "$TWILIO_URL" "${tw2[@]}")
a2=(); for f in "${tw2[@]}"; do a2+=(--data-urlencode "$f"); done
curl -s -o "$tmp/body" -H "X-Twilio-Signature: $sig2" "${a2[@]}" "$URL/sms/twilio"
grep -q '<Response><Message>Sai so cau tra loi' "$tmp/body"
tap $? "an error reply as TwiML ($(cat "$tmp/body"))"

# --- external ---------------------------------------------------------------
is "$(curl -s -o "$tmp/body" -w '%{http_code}' --data-urlencode "key=$SMS_EXT_KEY" --data-urlencode 'from=0912000030' \
	--data-urlencode 'text=MC U003 3' --data-urlencode 'date=2025-05-01T08:00:00+07:00' "$URL/sms/external")" 200 "/sms/external: 200"
is "$(reply)" "Cam on ong/ba da danh gia Huyen Ba. Y kien cua ong/ba da duoc ghi nhan." "plain-text reply"
is "$(sql "SELECT to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM responses r JOIN sms_messages m ON m.response_id = r.id WHERE m.gateway = 'external'")" \
	"2025-05-01 01:00" "the date is the response's time"
is "$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "key=$SMS_KEY" --data-urlencode 'from=0912000030' \
	--data-urlencode 'text=MC U003 3' "$URL/sms/external")" 403 "the Kannel key does not open /sms/external"
is "$(curl -s -o /dev/null -w '%{http_code}' --data-urlencode "key=$SMS_EXT_KEY" --data-urlencode 'from=0912000030' \
	--data-urlencode 'text=MC U003 3' --data-urlencode 'date=yesterday' "$URL/sms/external")" 400 "a bad date: 400"

# --- diacritics mode (SIGHUP) -----------------------------------------------
echo "sms_diacritics = 1" >>"$SIPASD_CONF"
reloads=$(grep -c 'config reloaded' "$SIPASD_LOG")
kill -HUP "$SIPASD_PID"
wait_log 'config reloaded' $((reloads + 1)) || echo "# the reload was not logged" >&2
kannel 0912000040 'MC U005 3' c1 >/dev/null
is "$(reply)" "Cảm ơn ông/bà đã đánh giá Huyện Năm. Đã ghi nhận!" "diacritics mode: UTF-8 reply with accents"
grep -qi '^X-Kannel-Coding: 2' "$tmp/headers"
tap $? "with X-Kannel-Coding: 2"
[ "$(printf '%s' "$(reply)" | iconv -f UTF-8 -t UTF-16BE | wc -c)" -le 140 ]
tap $? "at most 70 UCS-2 characters"

# --- privacy ----------------------------------------------------------------
if grep -E '0912000|912000|\+84912' "$SIPASD_LOG" >&2; then tap 1 "no log line shows a full number"; else tap 0 "no log line shows a full number"; fi
log_clean
finish
