# sms_lib.sh: set-up shared by the SMS integration tests (sourced after
# daemon_lib.sh): the schema, the test units and sipasd with the SMS keys.
SMS_KEY=kannel-test-key
SMS_EXT_KEY=external-test-key
TWILIO_TOKEN=12345
TWILIO_URL=https://sipas.example.org/sms/twilio

# sms_setup [EXTRA CONFIG LINES]: a database with the schema and the units, and sipasd.
sms_setup() {
	pg_setup
	"$SIPASCTL" --db "$DSN" init >/dev/null 2>&1 || bail "sipasctl init failed"
	units_setup || bail "unit import failed"
	sipasd_start "sms_phone_secret = phone-secret" "sms_kannel_key = $SMS_KEY" \
		"sms_external_key = $SMS_EXT_KEY" "sms_twilio_token = $TWILIO_TOKEN" \
		"sms_twilio_url = $TWILIO_URL" "$@"
}

# kannel FROM TEXT [ID]: GET /sms/kannel like Kannel's get-url; prints the
# status; the reply in $tmp/body.
kannel() {
	local args=(--data-urlencode "key=$SMS_KEY" --data-urlencode "from=$1" \
		--data-urlencode "to=8077" --data-urlencode "text=$2" --data-urlencode "ts=1750000000")
	[ $# -ge 3 ] && args+=(--data-urlencode "id=$3")
	curl -s -G -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' "${args[@]}" "$URL/sms/kannel"
}

# reply: the last reply body.
reply() {
	cat "$tmp/body"
}
