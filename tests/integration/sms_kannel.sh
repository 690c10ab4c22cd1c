#!/usr/bin/env bash
# sms_kannel.sh: a real Kannel in front of sipasd (docs/sms.md): bearerbox
# and smsbox from a generated configuration (tests/data/kannel/kannel.conf.in:
# mo-recode, http-request-retry, reply-couldnotfetch, accept-x-kannel-headers)
# and Kannel's test SMSC fakesmsc (package kannel-extras), which sends the
# citizens' messages and prints every reply SMS. Checks the stored responses,
# the raw log and each reply text as fakesmsc received it.
set -u
. "$(dirname "$0")/daemon_lib.sh"
. "$(dirname "$0")/sms_lib.sh"

BEARERBOX=${BEARERBOX:-/usr/sbin/bearerbox}
SMSBOX=${SMSBOX:-/usr/sbin/smsbox}
FAKESMSC=${FAKESMSC:-/usr/lib/kannel/test/fakesmsc}
for b in "$BEARERBOX" "$SMSBOX" "$FAKESMSC"; do
	[ -x "$b" ] || bail "$b is missing: install kannel and kannel-extras (scripts/deps.sh)"
done

KPIDS=()
kannel_stop() {
	local p
	for p in "${KPIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${KPIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	KPIDS=()
}
trap 'kannel_stop; cleanup' EXIT

sms_setup
SIPASD_PORT=${URL##*:}

# Ports for the admin interface, the smsbox link and the fake SMSC: below
# Linux's ephemeral range (32768-60999), so that no client connection of a
# test running beside this one holds them, and in no socket state at all.
# bearerbox panics if it cannot bind one; then it is started again on other
# ports (a CI run once lost that race): up to five tries.
K=$tmp/kannel
mkdir -p "$K"
port_used() {
	ss -tan 2>/dev/null | awk '{print $4}' | grep -qE ":($1|$(($1 + 1))|$(($1 + 2)))\$"
}
for try in 1 2 3 4 5; do
	base=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
	while port_used "$base"; do
		base=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
	done
	sed -e "s|@DIR@|$K|g" -e "s|@ADMIN_PORT@|$base|" -e "s|@SMSBOX_PORT@|$((base + 1))|g" \
		-e "s|@FAKE_PORT@|$((base + 2))|" -e "s|@SIPASD_PORT@|$SIPASD_PORT|" -e "s|@KEY@|$SMS_KEY|" \
		"$SIPAS_TEST_DATA/kannel/kannel.conf.in" >"$K/kannel.conf"
	"$BEARERBOX" "$K/kannel.conf" >"$K/bearerbox.out" 2>&1 &
	bpid=$!
	# smsbox panics if bearerbox is not yet listening on its smsbox port (a
	# slow, loaded CI machine): wait for the port rather than a fixed second.
	for i in $(seq 1 150); do
		ss -ltn 2>/dev/null | grep -qE ":$((base + 1))\b" && break
		kill -0 "$bpid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$bpid" 2>/dev/null && ss -ltn 2>/dev/null | grep -qE ":$((base + 1))\b"; then
		KPIDS+=("$bpid")
		break
	fi
	kill "$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	echo "# bearerbox did not start on ports $base-$((base + 2)) (try $try):" >&2
	grep -E 'ERROR|PANIC' "$K/bearerbox.log" "$K/bearerbox.out" 2>/dev/null | head -5 | sed 's/^/#   /' >&2
	mkdir -p "$K/try$try"
	mv "$K"/*.log "$K/bearerbox.out" "$K/try$try/" 2>/dev/null
done
[ ${#KPIDS[@]} -gt 0 ] || { cat "$K"/try*/* >&2; bail "bearerbox did not listen on its smsbox port"; }
# Should smsbox still give up (it panics when its first connect fails), start
# it again: up to three tries.
for try in 1 2 3; do
	"$SMSBOX" "$K/kannel.conf" >"$K/smsbox.out" 2>&1 &
	spid=$!
	for i in $(seq 1 100); do
		grep -q 'Connected to bearerbox' "$K/smsbox.log" 2>/dev/null && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$spid" 2>/dev/null; then
		KPIDS+=("$spid")
		break
	fi
	wait "$spid" 2>/dev/null
	echo "# smsbox exited (try $try); starting it again" >&2
	mv "$K/smsbox.log" "$K/smsbox.try$try" 2>/dev/null
	sleep 1
done
grep -q 'Connected to bearerbox' "$K/smsbox.log" 2>/dev/null || { cat "$K"/*.log >&2; bail "smsbox did not connect to bearerbox"; }

n=0
# sms FROM TYPE DATA: one MO message through fakesmsc; the reply SMS it got,
# decoded to UTF-8, in $tmp/sms_reply (empty if none came in 15 s).
sms() {
	local out pid i line type data
	n=$((n + 1))
	out=$K/fake$n.out
	"$FAKESMSC" -H 127.0.0.1 -r $((base + 2)) -i 0 -m 1 "$1 8077 $2 $3" >"$out" 2>&1 &
	pid=$!
	for i in $(seq 1 150); do
		grep -q 'Got message 1:' "$out" && break
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	line=$(sed -n 's/.*Got message 1: <\(.*\)>$/\1/p' "$out" | head -n 1)
	# "<to> <from> <type> <data>": text as is, ucs-2 url-encoded.
	type=$(printf '%s' "$line" | cut -d ' ' -f 3)
	data=$(printf '%s' "$line" | cut -d ' ' -f 4-)
	case "$type" in
	ucs-2 | ucs2) printf '%b' "$(printf '%s' "$data" | sed 's/+/%20/g; s/%\(..\)/\\x\1/g')" | iconv -f UTF-16BE -t UTF-8 >"$tmp/sms_reply" ;;
	*) printf '%s' "$data" >"$tmp/sms_reply" ;;
	esac
}
# ucs2 TEXT: TEXT as fakesmsc's url-encoded UCS-2 data.
ucs2() {
	printf '%s' "$1" | iconv -f UTF-8 -t UTF-16BE | od -An -tx1 | tr -d ' \n' | sed 's/../%&/g'
}
got() { cat "$tmp/sms_reply"; }
THANKS1="Cam on ong/ba da danh gia Huyen Mot. Y kien cua ong/ba da duoc ghi nhan."

sms 0912100001 text 'HL U001 5 4 4 5 3'
is "$(got)" "$THANKS1" "valid message: fakesmsc got the thank-you"
sms 0912100002 ucs2 "$(ucs2 'HL Ư001 5 4 4 5 3 Cán bộ rất nhiệt tình')"
is "$(got)" "$THANKS1" "accented UCS-2 message (mo-recode): thank-you"
is "$(sql "SELECT comment FROM sms_messages WHERE sender_masked = '+84*****002'")" "Cán bộ rất nhiệt tình" \
	"the accented comment arrived as UTF-8 and is stored"
sms 0912100003 text 'hl u002 54453'
is "$(got)" "Cam on ong/ba da danh gia Huyen Hai. Y kien cua ong/ba da duoc ghi nhan." "compact, lower case: thank-you"
sms 0912100004 text 'HL U003 5,4,4,5,3 phuc vu tot'
is "$(got)" "Cam on ong/ba da danh gia Huyen Ba. Y kien cua ong/ba da duoc ghi nhan." "commented: thank-you"
is "$(sql "SELECT comment FROM sms_messages WHERE sender_masked = '+84*****004'")" "phuc vu tot" "the comment is kept"
sms 0912100005 text 'HL U009 5 4 4 5 3'
is "$(got)" 'Khong co don vi ma "U009". Xem ma tren giay hen, soan: HL <ma don vi> 5 4 4 5 3' "unknown unit: the reply says so"
sms 0912100005 text 'HL U001 5 4'
is "$(got)" "Sai so cau tra loi: can 5 so tu 1 den 5, nhan duoc 2. Soan: HL U001 5 4 4 5 3. Gop y ghi sau cac so." \
	"too few answers: the reply says how many"
sms 0912100005 text 'HL U001 5 4 8 5 3'
is "$(got)" "Cau 3: 8 khong hop le, chon 1-5. Soan lai: HL U001 5 4 4 5 3" "out of range: the reply names the answer"
sms 0912100001 text 'HL U001 1 1 1 1 1'
is "$(got)" "So dien thoai nay da danh gia Huyen Mot trong thang nay. Moi so chi gui 1 danh gia cho moi don vi moi thang. Cam on ong/ba!" \
	"a second response for the same unit this month is refused"
sms 0912100006 text 'MC U004'
case "$(got)" in "Cau 1/1: "*) tap 0 "a dialogue starts: $(got)" ;; *) tap 1 "dialogue start ($(got))" ;; esac
sms 0912100006 text '2'
is "$(got)" "Cam on ong/ba da danh gia Huyen Bon. Y kien cua ong/ba da duoc ghi nhan." "its answer completes it"

# Every reply fakesmsc printed is one SMS: at most 160 characters.
long=0
for f in "$K"/fake*.out; do
	r=$(sed -n 's/.*Got message 1: <[^ ]* [^ ]* text \(.*\)>$/\1/p' "$f")
	[ ${#r} -le 160 ] || long=$((long + 1))
done
is "$long" 0 "every reply fits in 160 characters"

is "$(sql "SELECT count(*) FROM responses WHERE channel = 'sms'")" 5 "5 responses stored"
is "$(sql "SELECT string_agg(unit, ' ' ORDER BY id) FROM responses WHERE channel = 'sms'")" "U001 U001 U002 U003 U004" "for the right units"
is "$(sql "SELECT count(*) FROM sms_messages WHERE gateway = 'kannel'")" 10 "10 messages in the raw log"
is "$(sql "SELECT string_agg(outcome, ' ' ORDER BY id) FROM sms_messages")" \
	"stored stored stored stored unknown-unit answer-count answer-range limit dialogue-start stored" \
	"each with its outcome" 
is "$(sql "SELECT count(*) FROM sms_messages WHERE external_id ~ '^[0-9a-f-]{36}\$' AND reply IS NOT NULL")" 10 \
	"each with Kannel's message id (%I) and its reply"
is "$(sql "SELECT count(*) FROM sms_messages m JOIN responses r ON r.id = m.response_id")" 5 "the stored ones link their response"
grep -q 'ERROR:\|PANIC:' "$K/bearerbox.log" "$K/smsbox.log"
is $? 1 "Kannel logged no error"
if grep -E '09121000|912100' "$SIPASD_LOG" >&2; then tap 1 "sipasd logged no full number"; else tap 0 "sipasd logged no full number"; fi
log_clean
kannel_stop
finish
