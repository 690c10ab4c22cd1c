#!/usr/bin/env bash
# survey_upgrade.sh: `sipasctl init` with changed built-in definitions
# (--surveys DIR) over stored responses and folded aggregates: a reworded,
# an added and a removed item upgrade the stored definition, the survey's
# states are dropped and folded again by init, and the indices served from
# them equal those computed from the raw rows and a fresh fold; a definition
# that changes a kept item's scale is refused and nothing changes.
# docs/operations.md, "Upgrading the built-in surveys".
set -u
. "$(dirname "$0")/daemon_lib.sh"

RESULTCMP=${RESULTCMP:-$top_builddir/tests/tools/resultcmp}
[ -x "$RESULTCMP" ] || bail "$RESULTCMP is missing (make check builds it)"
command -v jq >/dev/null || bail "jq is missing (scripts/deps.sh)"

db_setup
VIEWER=$(token viewer)
for f in sipas2023-weighted:sipas-2023 onestop-simple:onestop-tt01; do
	"$SIPASCTL" --db "$DSN" import --survey "${f#*:}" "$FIXTURES/${f%%:*}.csv" >/dev/null 2>&1 ||
		bail "import of ${f%%:*} failed"
done
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1 || bail "aggregate failed"
is "$(sql 'SELECT count(*) FROM agg_queue')" 0 "responses stored and folded"
states_before=$(sql "SELECT count(*) FROM agg_states WHERE survey = 'sipas-2023'")

# The changed copies: sipas-2023 rewords Q9_1, drops Q9_2, adds Q9_40;
# onestop-tt01 rewords R1; a third copy changes the 5-point scale.
mkdir -p "$tmp/new" "$tmp/bad"
cp "$top_srcdir"/surveys/*.json "$tmp/new/"
cp "$top_srcdir"/surveys/*.json "$tmp/bad/"
jq '.version += 1
	| .overall.groups[0].groups[0].items[0].text.vi = "Chính quyền giải trình rõ ràng"
	| .overall.groups[0].groups[0].items |= map(select(.code != "Q9_2"))
	| .overall.groups[1].groups[4].items += [{"code": "Q9_40", "scale": "SAT5",
		"text": {"vi": "Câu hỏi mới", "en": "A new question"}}]' \
	"$top_srcdir/surveys/sipas-2023.json" >"$tmp/new/sipas-2023.json"
jq '.overall.items[0].text.vi = "Hài lòng với việc giải quyết hồ sơ"' \
	"$top_srcdir/surveys/onestop-tt01.json" >"$tmp/new/onestop-tt01.json"
jq '.scales.SAT5.satisfied_min = 5' "$top_srcdir/surveys/sipas-2023.json" \
	>"$tmp/bad/sipas-2023.json"

stored_def() { sql "SELECT definition FROM surveys WHERE code = '$1'" | jq -S .; }
stored_def sipas-2023 >"$tmp/def.before"

# A kept item's scale changes: refused, nothing written.
"$SIPASCTL" --db "$DSN" init --surveys "$tmp/bad" >"$tmp/out" 2>"$tmp/err"
is $? 1 "init with a changed scale under stored answers fails"
grep -q "survey sipas-2023 has stored responses and the new definition cannot replace the stored one (item Q9_1 changes its scale)" "$tmp/err"
tap $? "naming the survey and the item"
stored_def sipas-2023 | cmp -s - "$tmp/def.before"
tap $? "the stored definition is unchanged"
is "$(sql "SELECT count(*) FROM agg_states WHERE survey = 'sipas-2023'")" "$states_before" \
	"and so are the states"

# The compatible upgrade.
"$SIPASCTL" --db "$DSN" init --surveys "$tmp/new" >"$tmp/out" 2>"$tmp/err"
tap $? "init with reworded, added and removed items succeeds"
grep -qx "survey sipas-2023 upgraded (1 item(s) added, 1 removed); its aggregates are rebuilt" "$tmp/out"
tap $? "it says what changed in sipas-2023"
grep -qx "survey onestop-tt01 upgraded (0 item(s) added, 0 removed); its aggregates are rebuilt" "$tmp/out"
tap $? "and that onestop-tt01 was reworded"
grep -qx "schema version [0-9]*, 2 built-in survey(s) loaded or updated" "$tmp/out"
tap $? "two definitions written"
stored_def sipas-2023 | cmp -s - <(jq -S . "$tmp/new/sipas-2023.json")
tap $? "the stored sipas-2023 is the new definition"
is "$(sql "SELECT definition->'overall'->'items'->0->'text'->>'vi' FROM surveys WHERE code = 'onestop-tt01'")" \
	"Hài lòng với việc giải quyết hồ sơ" "the stored onestop-tt01 has the new wording"
is "$(sql 'SELECT count(*) FROM agg_queue')" 0 "init folded every response again"
is "$(sql "SELECT sum(rows) FROM agg_states WHERE survey = 'sipas-2023' AND channel = '*'")" \
	"$(sql "SELECT count(*) FROM responses WHERE survey = 'sipas-2023'")" \
	"the new states hold every response once"
is "$(sql "SELECT count(*) FROM audit_log WHERE action = 'init'")" 2 "the upgrade is in the audit log"

"$SIPASCTL" --db "$DSN" init --surveys "$tmp/new" >"$tmp/out" 2>&1
tap $? "init again with the same definitions"
grep -qx "schema version [0-9]*, 0 built-in survey(s) loaded or updated" "$tmp/out"
tap $? "changes nothing"

# The indices from the rebuilt states, from the raw rows (states dropped,
# every response pending, the folder off) and from a fresh fold agree.
Q=(
	"survey=sipas-2023&unit=P01&children=1"
	"survey=sipas-2023&unit=P01&from=2025-02-10&to=2025-10-20&children=1"
	"survey=onestop-tt01&unit=P01&children=1"
)

sipasd_start "aggregate_interval_ms = 0" || bail "sipasd did not start"
fetch_all states
tap $? "indices served from the rebuilt states"
items=$(jq -r '[.. | objects | .code? // empty] | unique | join(" ")' "$tmp/states.0.json")
case " $items " in *" Q9_40 "*) tap 0 "they have the added item" ;; *) tap 1 "they have the added item" ;; esac
case " $items " in *" Q9_2 "*) tap 1 "and not the removed one" ;; *) tap 0 "and not the removed one" ;; esac
sql "DELETE FROM agg_states; INSERT INTO agg_pending (id, survey, submitted_at) SELECT id, survey, submitted_at FROM responses ON CONFLICT (id) DO NOTHING" >/dev/null
fetch_all raw
tap $? "indices computed from the raw rows"
same states raw
tap $? "equal those of the rebuilt states (1e-9)"
"$SIPASCTL" --db "$DSN" aggregate >/dev/null 2>&1
tap $? "a fresh fold"
fetch_all fresh
same states fresh
tap $? "gives the same indices again"

sipasd_stop
tap $? "sipasd stops cleanly"
log_clean
finish
