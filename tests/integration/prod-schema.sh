#!/bin/bash
# Issue 13: the JSON Schema of the config file, generated from the field
# table, checked by a real validator (python3-jsonschema, Draft 2020-12).
#
#  1. share/mxlb.schema.json is exactly what `mxlbd --schema` prints: the
#     shipped schema cannot drift from the engine's fields.
#  2. It is a valid Draft 2020-12 schema; demo.json and the README's config
#     validate against it.
#  3. Every example script, applied by the shell to real engines, gives
#     config files (the engine's own config-N.json) that validate.
#  4. Configs the engine refuses for their form (a weight out of range, an
#     unknown key, a port as a number where text is expected, an unknown
#     enum) are refused by the schema too, and the engine (mxlbd -n)
#     agrees with the schema on every file of this suite.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null
SCHEMA=$T_TOP/share/mxlb.schema.json
VALIDATE=$T_TOP/tests/peers/schema-check.py
"$T_PY" -c 'import jsonschema' 2>/dev/null ||
	die "python3-jsonschema is not installed (share/install-deps installs it)"

# --- 1. no drift ----------------------------------------------------------------

"$MXLBD" --schema >"$T_DIR/schema.json" 2>"$T_DIR/schema.err"
rc=$?
check_eq "mxlbd --schema exits 0 and says nothing on stderr" "0 " "$rc $(cat "$T_DIR/schema.err")"
check "share/mxlb.schema.json is what mxlbd --schema prints (make schema rewrites it)" \
	cmp -s "$SCHEMA" "$T_DIR/schema.json"
check "the schema names every farm field of mxlb help (probe-interval, connect-timeout)" \
	eval 'grep -q "\"probe-interval\"" "$SCHEMA" && grep -q "\"connect-timeout\"" "$SCHEMA"'

# --- 2. the schema, demo.json, the README's config -------------------------------

awk '/^```json$/ { on = 1; next } /^```$/ { on = 0 } on' "$T_TOP/README.md" >"$T_DIR/readme.json"
check "the README has a JSON config" test -s "$T_DIR/readme.json"
out=$("$T_PY" "$VALIDATE" "$SCHEMA" "$T_TOP/share/examples/demo.json" "$T_DIR/readme.json")
check_eq "demo.json and the README's config validate" \
	"valid $T_TOP/share/examples/demo.json|valid $T_DIR/readme.json" "$(paste -sd'|' <<<"$out")"

# --- 3. the examples, as the engine writes them -----------------------------------

declare -A ZPID=()
start_zone() {
	start_engine -z "$1" "engine-$1" || return 1
	ZPID[$1]=$ENGINE_PID
}
# Each bind and server port gets a port of the suite's range (15 per
# example, from the range's middle): nothing needs to answer, the configs
# only have to be committed.
k=0
for ex in "$T_TOP"/share/examples/*.mxlb; do
	name=$(basename "$ex" .mxlb)
	k=$((k + 1))
	awk -v base="$((T_PORT_BASE + 25 + 15 * k))" '
		{ while (match($0, /(bind|port) [0-9][0-9,-]*/)) {
			w = substr($0, RSTART, RLENGTH); split(w, a, " ")
			printf "%s%s %d", substr($0, 1, RSTART - 1), a[1], base + n++
			$0 = substr($0, RSTART + RLENGTH) }
		  print }' "$ex" >"$T_DIR/$name.mxlb"
	for z in $(grep -oE '\<zone [A-Za-z0-9_.-]+' "$ex" | awk '$2 != "apply" { print $2 }' | sort -u); do
		[ -n "${ZPID[$z]:-}" ] || start_zone "$z" || die "engine for zone $z not ready"
	done
	timeout -k 5 60 "$MXLB" <"$T_DIR/$name.mxlb" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err"
	rc=$?
	check_eq "example $name applies (exit 0, no error)" "0 " "$rc $(cat "$T_DIR/$name.err")"
done
mapfile -t written < <(ls "$MXLB_STATEDIR"/*/config-*.json 2>/dev/null)
check "the examples left config files (${#written[@]})" test "${#written[@]}" -ge 5
out=$("$T_PY" "$VALIDATE" "$SCHEMA" "${written[@]}")
check_eq "every config the engine wrote validates" "" "$(grep -v '^valid ' <<<"$out")"

# --- 4. what the engine refuses, the schema refuses ---------------------------------

mk() {	# mk NAME FARM-JSON-FRAGMENT FRONTEND-FRAGMENT
	printf '{"zone":"z","farms":[{"name":"mx","servers":[{"address":"127.0.0.1"%s}]}],"frontends":[{"name":"f","bind":"2525","farm":"mx"%s}]}\n' \
		"$2" "$3" >"$T_DIR/bad-$1.json"
}
mk weight ',"weight":300' ''
mk unknown ',"color":"red"' ''
mk enum ',"proxyprotocol":"v3"' ''
mk maxconn '' ',"maxconn":0'
mk bindint '' ',"disabled":false,"address":"127.0.0.1","source-rate":-1'
mk flag ',"backup":"yes"' ''
for f in "$T_DIR"/bad-*.json; do
	b=$(basename "$f" .json)
	"$T_PY" "$VALIDATE" "$SCHEMA" "$f" >"$T_DIR/$b.schema" 2>&1
	check_eq "$b: the schema refuses it" 1 "$?"
	"$MXLBD" -n -c "$f" >"$T_DIR/$b.engine" 2>&1
	rc=$?
	check "$b: mxlbd -n refuses it too ($(head -1 "$T_DIR/$b.engine"))" test "$rc" -ne 0
done
for f in "$T_TOP/share/examples/demo.json" "$T_DIR/readme.json" "${written[@]}"; do
	"$MXLBD" -n -c "$f" >/dev/null 2>&1 || fail "mxlbd -n accepts what the schema accepts" "$f"
done

finish
