#!/usr/bin/env bash
# man_pages.sh: the manual pages render without a single groff warning, and
# they document everything: every sipasctl command and each of its options,
# every sipasd option and every configuration key of sipasd.
set -u
# The TAP helpers and $tmp; no PostgreSQL is started.
. "$(dirname "$0")/daemon_lib.sh"

# The text of a page's source with roff's escapes of hyphens and fonts gone.
plain() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(lq/"/g' -e 's/\\(rq/"/g' "$1"
}

ctl1=$top_builddir/man/sipasctl.1
conf5=$top_builddir/man/sipasd.conf.5
d8=$top_srcdir/man/sipasd.8
for page in "$ctl1" "$conf5" "$d8"; do
	name=$(basename "$page")
	if [ ! -s "$page" ]; then
		tap 1 "$name exists (make builds it)"
		continue
	fi
	LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" >"$tmp/groff.err" 2>&1
	st=$?
	[ "$st" -eq 0 ] && [ ! -s "$tmp/groff.err" ]
	tap $? "$name renders with groff -man -ww, no warning $(head -n 2 "$tmp/groff.err" | tr '\n' ' ')"
	MANWIDTH=80 LC_ALL=C.UTF-8 man -l "$page" >"$tmp/man.out" 2>"$tmp/man.err"
	[ -s "$tmp/man.out" ] && [ ! -s "$tmp/man.err" ]
	tap $? "man -l $name shows it, silently $(head -n 2 "$tmp/man.err" | tr '\n' ' ')"
	grep -q -e '@[A-Z]*@' -e '%VERSION%' "$page"
	[ $? -ne 0 ]
	tap $? "$name has no placeholder left"
done

# Every sipasctl command, with each option its help lists.
plain "$ctl1" >"$tmp/ctl1"
commands=$("$SIPASCTL" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' |
	grep -vx help)
[ -n "$commands" ]
tap $? "sipasctl --help lists commands"
for c in $commands; do
	grep -qx ".SS $c" "$tmp/ctl1"
	tap $? "sipasctl(1) has the command $c"
	missing=
	for o in $("$SIPASCTL" help "$c" | sed -n '/^options:/,/^$/p' | grep -oe '--[a-z][a-z-]*'); do
		awk -v c="$c" '$0 == ".SS " c { on = 1; next } /^\.S[SH] / { on = 0 } on' "$tmp/ctl1" |
			grep -qe "$o" || missing="$missing $o"
	done
	[ -z "$missing" ]
	tap $? "sipasctl(1) lists every option of $c${missing:+ (missing:$missing)}"
done
for s in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "GLOBAL OPTIONS"; do
	grep -q "^\.SH $s" "$tmp/ctl1"
	tap $? "sipasctl(1) has $s"
done
grep -q -- '--db' "$tmp/ctl1"
tap $? "sipasctl(1) documents --db"

# Every sipasd option and configuration key.
plain "$d8" >"$tmp/d8"
missing=
for o in $("$SIPASD" --help | sed -n '/^options:/,/^$/p' | grep -oe '--[a-z][a-z-]*'); do
	grep -qe "$o" "$tmp/d8" || missing="$missing $o"
done
[ -z "$missing" ]
tap $? "sipasd(8) lists every option of sipasd --help${missing:+ (missing:$missing)}"
for s in SIGNALS "HTTP ENDPOINTS" FILES "EXIT STATUS"; do
	grep -q "^\.SH $s" "$tmp/d8"
	tap $? "sipasd(8) has $s"
done
plain "$conf5" >"$tmp/conf5"
keys=$("$SIPASD" --help | awk '/^configuration keys/ { on = 1; next } on { print $1 }')
[ "$(echo "$keys" | wc -l)" -gt 10 ]
tap $? "sipasd --help lists the keys ($(echo "$keys" | wc -l))"
missing=
for k in $keys; do
	grep -q "^\.BR $k \"" "$tmp/conf5" || missing="$missing $k"
done
[ -z "$missing" ]
tap $? "sipasd.conf(5) has every key with its type and default${missing:+ (missing:$missing)}"

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
