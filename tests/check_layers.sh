#!/bin/sh
# tests/check_layers.sh: the layering rule of docs/architecture.md, as a TAP
# test. Each source file's layer comes from its folder; each of its
# #include "..." lines must name a header of a layer it may use. Also: no two
# sources or headers share a basename, and every shared header of
# include/sipas/ has a layer in the table below.
#
#	tests/check_layers.sh [ROOT]
#
# ROOT is the source tree (default: $top_srcdir, else the script's ../).
# Each problem is printed as FILE:LINE: what is wrong.
LC_ALL=C
export LC_ALL
root=${1:-${top_srcdir:-$(dirname "$0")/..}}
cd "$root" || { echo "Bail out! cannot enter $root"; exit 1; }

# The folders whose files have a layer; tests/ and bench/ may use anything.
dirs="common analysis report daemon ctl include/sipas"

# The layer of a file, from its path (empty: no layer).
layer_of() {
	case $1 in
	include/sipas/*)
		case ${1#include/sipas/} in
		util.h|strmap.h|survey.h|response.h|csvin.h|csvout.h|hmac.h|sms.h|token.h|xlsxin.h|password.h|pgarray.h|pgconn.h|textbuf.h|problems.h)
			echo common ;;
		analysis.h|aggfold.h)	echo analysis ;;
		report.h|report_run.h|template.h)	echo report ;;
		sql_*.h)		echo sql ;;
		*)			echo unlisted ;;
		esac ;;
	common/*)		echo common ;;
	analysis/*)		echo analysis ;;
	report/*)		echo report ;;
	daemon/store/*)		echo store ;;
	daemon/channels/*)	echo channels ;;
	daemon/present/*)	echo present ;;
	daemon/net/*)		echo net ;;
	daemon/main.c)		echo main ;;
	daemon/*/*)		echo unlisted ;;
	daemon/*)		echo daemon ;;
	ctl/*)			echo ctl ;;
	esac
}

# The layers a layer may include, itself among them. Lowest first:
# common < analysis < report, daemon (conf, log, metrics) < store <
# channels | present (siblings: neither includes the other) < net < main.
# sql: the statements shared by the daemon's store and sipasctl.
allowed() {
	case $1 in
	common)		echo "common" ;;
	analysis)	echo "common analysis" ;;
	report)		echo "common analysis report" ;;
	daemon)		echo "common analysis report daemon" ;;
	store)		echo "common analysis report daemon sql store" ;;
	channels)	echo "common analysis report daemon store channels" ;;
	present)	echo "common analysis report daemon store present" ;;
	net)		echo "common analysis report daemon store channels present net" ;;
	main)		echo "common analysis report daemon store channels present net main" ;;
	ctl)		echo "common analysis report sql ctl" ;;
	esac
}

files=$(find $dirs -type f \( -name '*.c' -o -name '*.h' \) 2>/dev/null | sort)
[ -n "$files" ] || { echo "Bail out! no sources under $root"; exit 1; }

echo 1..3
fail=0

# 1: every header of include/sipas/ and every daemon folder has a layer.
bad=
for f in $files; do
	case $(layer_of "$f") in
	unlisted) bad="$bad $f"; echo "# $f: no layer (add it to the table of tests/check_layers.sh)" ;;
	esac
done
if [ -z "$bad" ]; then echo "ok 1 - every file has a layer"; else echo "not ok 1 - every file has a layer"; fail=1; fi

# 2: each #include "..." resolves to a file of a layer the includer may use.
bad=0
for f in $files; do
	from=$(layer_of "$f")
	ok=" $(allowed "$from") "
	dir=$(dirname "$f")
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' >"${TMPDIR:-/tmp}/layers.$$"
	while read -r line inc; do
		[ "$inc" = config.h ] && continue	# autoconf's
		target=
		for cand in "$dir/$inc" "$inc" "include/$inc"; do
			if [ -f "$cand" ]; then target=$cand; break; fi
		done
		# Normalise ./ and ../ in a path relative to the root.
		case $target in
		*./*) target=$(cd "$(dirname "$target")" && pwd -P)/$(basename "$target")
			target=${target#"$(pwd -P)"/} ;;
		esac
		if [ -z "$target" ]; then
			echo "# $f:$line: includes \"$inc\", which is not in the tree"
			bad=$((bad + 1))
			continue
		fi
		to=$(layer_of "$target")
		case $ok in
		*" $to "*) ;;
		*)	echo "# $f:$line: $from includes $target ($to)"
			bad=$((bad + 1)) ;;
		esac
	done <"${TMPDIR:-/tmp}/layers.$$"
	rm -f "${TMPDIR:-/tmp}/layers.$$"
done
if [ "$bad" -eq 0 ]; then
	echo "ok 2 - no file includes a header of a layer above it or beside it"
else
	echo "not ok 2 - no file includes a header of a layer above it or beside it ($bad)"
	fail=1
fi

# 3: no two sources or headers anywhere share a basename.
dups=$(find . -path ./build -prune -o -path './.git' -prune -o -path './sipas-*' -prune \
    -o -type f \( -name '*.c' -o -name '*.h' \) -print 2>/dev/null |
    grep -v '/_build/' |
    sed 's|^\./||' | while read -r p; do echo "$(basename "$p") $p"; done |
    sort | awk '{ n[$1]++; w[$1] = w[$1] " " $2 } END { for (b in n) if (n[b] > 1) print b ":" w[b] }' | sort)
if [ -z "$dups" ]; then
	echo "ok 3 - no two files share a basename"
else
	echo "$dups" | sed 's/^/# same basename: /'
	echo "not ok 3 - no two files share a basename"
	fail=1
fi
exit $fail
