#!/usr/bin/env bash
# ctl_help.sh: sipasctl explains itself and has one exit-status rule.
# Without any reachable database: every command's --help, -h and "help CMD"
# exit 0 and print the whole usage with every option; --db works before and
# after the command and is never ignored. Then, against a real PostgreSQL, a
# table of command lines and the exit status each must give: 0 done, 1
# run-time failure (database down), 2 bad usage or bad input (unknown
# survey, unit, token, file).
set -u
. "$(dirname "$0")/daemon_lib.sh"

# Nothing listens at either place; the error message tells them apart.
BADDB="host=$tmp/no-server port=1 connect_timeout=2"
export PGHOST=$tmp/no-env-server PGPORT=1

# run ARGS...: sipasctl's status in $st, its output in $tmp/out and $tmp/err.
run() {
	"$SIPASCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
}

# The options each command must list (what users reach for); a command
# missing here is still checked for its help and man entry.
expected_options() {
	case $1 in
	analyze)	echo "--survey --input --level --format" ;;
	init)		echo "" ;;
	unit)		echo "import" ;;
	survey)		echo "load" ;;
	token)		echo "create list revoke --role --unit --name" ;;
	export)		echo "--survey --unit --from --to --channel" ;;
	poster)		echo "--survey --unit --name --url --output" ;;
	import)		echo "--survey --weight-max --channel-ids" ;;
	purge)		echo "--texts --older-than --survey --unit --from --to --dry-run" ;;
	aggregate)	echo "--survey --batch --rebuild" ;;
	report)		echo "--survey --unit --from --to --format --output --lang --min-n --level --trend" ;;
	*)		echo "" ;;
	esac
}

# --- the command list ---
run --help
is "$st" 0 "sipasctl --help exits 0"
commands=$(awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }' "$tmp/out" |
	grep -vx help)
[ -n "$commands" ] && ! grep -q . "$tmp/err"
tap $? "sipasctl --help lists the commands, each with a line: $(echo $commands)"
for c in analyze init unit survey token export poster import purge aggregate report; do
	echo "$commands" | grep -qx "$c" || echo "# --help does not list $c"
	echo "$commands" | grep -qx "$c"
	tap $? "sipasctl --help lists $c"
done
run help
is "$st" 0 "sipasctl help exits 0"
cmp -s "$tmp/out" <("$SIPASCTL" --help 2>/dev/null)
tap $? "sipasctl help prints what --help prints"

# same_help CMD ARGS...: sipasctl ARGS exits 0 and prints CMD's whole help.
same_help() {
	local c=$1
	shift
	run "$@"
	[ "$st" -eq 0 ] && cmp -s "$tmp/out" "$tmp/help.$c"
	tap $? "sipasctl $*: exit 0, the same whole usage (status $st)"
}

# --- each command's help, with no database reachable ---
for c in $commands; do
	run help "$c"
	cp "$tmp/out" "$tmp/help.$c"
	is "$st" 0 "help $c: exit 0, no database needed"
	grep -q "^usage: sipasctl .*$c" "$tmp/out"
	tap $? "help $c: prints the usage of $c"
	missing=
	for o in $(expected_options "$c"); do
		grep -qe "$o" "$tmp/out" || missing="$missing $o"
	done
	is "$missing" "" "help $c: lists every option and subcommand"
	# Every option of the usage line has a line of its own under options.
	missing=
	for o in $(head -n 1 "$tmp/out" | grep -oe '--[a-z][a-z-]*' | sort -u); do
		grep -qe "^  .*$o[ ,]" "$tmp/out" || missing="$missing $o"
	done
	is "$missing" "" "help $c: every option of its usage line is explained"
	same_help "$c" "$c" --help
	same_help "$c" "$c" -h
	same_help "$c" --help "$c"
	same_help "$c" --db "$BADDB" "$c" --help
	same_help "$c" "$c" --help --db "$BADDB"
	same_help "$c" "$c" -h --db="$BADDB"
done

# Options given after the command are its own even when they look global.
run token create --role admin --name -h
[ "$st" -eq 1 ] && grep -q "no-env-server" "$tmp/err"
tap $? "an option's argument '-h' is not --help (status $st)"

# --- global options after the command ---
run token list --db "$BADDB"
[ "$st" -eq 1 ] && grep -q "no-server" "$tmp/err" && ! grep -q "no-env-server" "$tmp/err"
tap $? "token list --db BADDB: exit 1 naming that connection (status $st: $(head -n 1 "$tmp/err"))"
run export --survey sipas-2023 --db="$BADDB"
[ "$st" -eq 1 ] && grep -q "no-server" "$tmp/err"
tap $? "export --db=BADDB after the command: exit 1 naming it (status $st)"
run token list
[ "$st" -eq 1 ] && grep -q "no-env-server" "$tmp/err"
tap $? "without --db: the PG* environment (status $st)"
run token list --db
[ "$st" -eq 2 ] && grep -q -- "--db" "$tmp/err"
tap $? "--db without its argument: exit 2 (status $st)"
run analyze --survey sipas-2017 --input - --db "$BADDB"
[ "$st" -eq 2 ] && grep -q -- "--db" "$tmp/err"
tap $? "--db given to a command that reads no database: exit 2, not ignored (status $st)"
run frobnicate
[ "$st" -eq 2 ] && grep -q "sipasctl help" "$tmp/err"
tap $? "an unknown command: exit 2, pointing to sipasctl help (status $st)"
run help frobnicate
[ "$st" -eq 2 ] && grep -q "sipasctl help" "$tmp/err"
tap $? "help of an unknown command: exit 2 (status $st)"

# --- the exit-status table, against a real database ---
db_setup
printf '{"code": "broken"' >"$tmp/bad.json"
printf 'code,name,colour\nX1,x,red\n' >"$tmp/badunits.csv"
printf 'code,name,level,parent\nX1,x,district,NOPE\n' >"$tmp/orphan.csv"
cp "$FIXTURES/onestop-simple.csv" "$tmp/ok.csv"
R="--from 2025-01-01 --to 2025-03-31 -o $tmp/r.csv"

# STATUS ARGS (after sipasctl --db DSN; $tmp, $R and $BADDB are expanded).
while read -r want args; do
	case $want in ''|'#'*) continue ;; esac
	eval "set -- $args"
	case " $args " in
	*' --db '*|' analyze '*) run "$@" ;;
	*) run --db "$DSN" "$@" ;;
	esac
	is "$st" "$want" "sipasctl $args: exit $want ($(head -n 1 "$tmp/err"))"
done <<'TABLE'
0 token list
0 export --survey onestop-tt01 --unit P01
0 help export
0 analyze --survey onestop-tt01 --input $tmp/ok.csv
# bad usage
2 frobnicate
2 init extra
2 token frob
2 export --bogus
2 export
2 export --survey onestop-tt01 --from 2025-02-30
2 export --survey onestop-tt01 --channel fax
2 report --survey onestop-tt01 --unit P01 --from 2025-03-31 --to 2025-01-01 -o $tmp/r.csv
2 aggregate --batch 0
2 purge --texts
# unknown survey, unit, role, token
2 token create --role admin --unit NOPE
2 token create --role nobody
2 token revoke no-such-token
2 export --survey nope
2 export --survey onestop-tt01 --unit NOPE
2 report --survey onestop-tt01 --unit NOPE $R
2 report --survey nope --unit P01 $R
2 purge --survey onestop-tt01 --unit NOPE
2 purge --survey nope --unit P01
2 aggregate --survey nope
2 import --survey nope $tmp/ok.csv
2 poster --survey onestop-tt01 --unit NOPE -o $tmp/p.pdf
2 poster --survey nope --unit P01 --name X -o $tmp/p.pdf
2 analyze --survey nope --input $tmp/ok.csv
# bad input files
2 survey load $tmp/bad.json
2 survey load $tmp/no-such.json
2 unit import $tmp/badunits.csv
2 unit import $tmp/orphan.csv
2 unit import $tmp/no-such.csv
2 import --survey onestop-tt01 $tmp/no-such.csv
2 analyze --survey onestop-tt01 --input $tmp/no-such.csv
# the database is down
1 init --db "$BADDB"
1 unit import $tmp/badunits.csv --db "$BADDB"
1 survey load $tmp/bad.json --db "$BADDB"
1 token list --db "$BADDB"
1 export --survey onestop-tt01 --db "$BADDB"
1 import --survey onestop-tt01 $tmp/ok.csv --db "$BADDB"
1 purge --survey onestop-tt01 --unit P01 --db "$BADDB"
1 aggregate --db "$BADDB"
1 report --survey onestop-tt01 --unit P01 $R --db "$BADDB"
1 poster --survey onestop-tt01 --unit P01 -o $tmp/p.pdf --db "$BADDB"
TABLE

echo "1..$tap_n"
[ "$tap_failed" -eq 0 ]
