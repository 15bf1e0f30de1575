#!/bin/bash
# Issue 13, the file form and `json` everywhere.  `mxlb show running ZONE
# json` prints exactly the engine's running config as a file: it equals
# what the engine says ("get"), `mxlbd -n` accepts it, and importing it
# changes nothing.  `mxlb zone export ZONE FILE` writes the same bytes
# atomically (a new file renamed over the old: a hard link to the old one
# keeps the old text), mode 0640, no temp file left, and a file that
# cannot be written says why.  Every `show` takes `json` and prints one
# JSON document (python -m json.tool parses it), where `show servers json`
# used to fail with `no farm "json"`.
. "$(dirname "$0")/../lib.sh"

CTL="$T_PY $T_PEERS/ctl.py"
MXLB=${MXLB:-$T_TOP/build/mxlb}
ZONE=cx$$
SOCK=$MXLB_RUNDIR/$ZONE.sock
ETC=$T_DIR/etc
FILE=$ETC/$ZONE.json
mkdir -p "$ETC"
mxc() { timeout -k 5 20 "$MXLB" -c "$1"; }

two_sink_config "$ZONE" "$T_DIR/start.json" '"maxconn": 50'
start_sink "$P1" || die "smtp-sink on $P1 did not start"
spawn engine "$MXLBD" -z "$ZONE" -c "$T_DIR/start.json" --statedir "$T_DIR/state" -f
ENGINE_PID=$SPAWNED_PID
ENGINE_LOG=$T_DIR/engine.log
wait_log "$ENGINE_LOG" " ready zone=$ZONE " 10 || die "engine not ready"
# A commit from the shell, with fields the file did not have.
mxc "server set mx s2 weight 3 priority 2; farm set mx balance leastconn; zone apply $ZONE" \
	>/dev/null 2>&1
check_eq "a shell commit: version 2" 2 \
	"$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')"

# --- show running ZONE json: the file form -------------------------------------
mxc "show running $ZONE json" >"$T_DIR/show.json"
$CTL -p result.config "$SOCK" '{"id":1,"cmd":"get"}' >"$T_DIR/get.json"
check "show running ZONE json is one JSON object (the file, not a list)" \
	"$T_PY" -c 'import json,sys; assert isinstance(json.load(open(sys.argv[1])), dict)' "$T_DIR/show.json"
check "... equal to the engine's running config (get)" "$T_PY" -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
sys.exit(0 if a == b else 1)' "$T_DIR/show.json" "$T_DIR/get.json"
check "... with the shell's commit in it (leastconn, weight 3)" eval \
	'grep -q "\"balance\": \"leastconn\"" "$T_DIR/show.json" && grep -q "\"weight\": 3" "$T_DIR/show.json"'
out=$("$MXLBD" -n -c "$T_DIR/show.json" 2>&1)
check "mxlbd -n accepts it ($out)" eval '[[ $out == *": OK" ]]'

# --- zone export ---------------------------------------------------------------
printf 'old\n' >"$FILE"
chmod 644 "$FILE"
ln "$FILE" "$T_DIR/old-link"
out=$(mxc "zone export $ZONE $FILE" 2>&1)
check "zone export: says what it wrote ($out)" eval \
	'[[ $out == "zone $ZONE: version 2 written to $FILE"* ]]'
check "... the same bytes as show running ZONE json" cmp -s "$FILE" "$T_DIR/show.json"
check_eq "... mode 0640" 640 "$(stat -c %a "$FILE")"
check_eq "... atomically: a new file renamed over the old (a link to the old keeps it)" \
	"old" "$(cat "$T_DIR/old-link")"
check_eq "... no temp file left in the directory" "$ZONE.json" "$(ls -A "$ETC")"

chmod 555 "$ETC"
if [ -w "$ETC" ]; then
	note "running as root: a read-only directory does not stop us; skipped"
else
	out=$(mxc "zone export $ZONE $FILE" 2>&1)
	rc=$?
	check "export into a directory it cannot write: fails, says where ($out)" eval \
		'[ $rc -ne 0 ] && [[ $out == *"$ETC"* ]]'
fi
chmod 755 "$ETC"
out=$(mxc "zone export $ZONE $T_DIR/no/such/dir/x.json" 2>&1)
rc=$?
check "export to a missing directory: fails, names it ($out)" eval \
	'[ $rc -ne 0 ] && [[ $out == *"$T_DIR/no/such/dir"* ]]'

# --- importing it changes nothing ----------------------------------------------
stop_pid "$ENGINE_PID"
spawn engine2 "$MXLBD" -z "$ZONE" --confdir "$ETC" --statedir "$T_DIR/state" -f
ENGINE_PID=$SPAWNED_PID
ENGINE_LOG=$T_DIR/engine2.log
wait_log "$ENGINE_LOG" " ready zone=$ZONE " 10 || die "engine with --confdir not ready"
check_eq "restart importing the exported file: still version 2" 2 \
	"$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}')"
out=$(mxc "zone import $ZONE" 2>&1)
check_eq "zone import of the exported file: nothing changes" \
	"zone $ZONE: $FILE is what runs (version 2); nothing changed" "$out"
check_eq "... still version 2, and the history has no import" "2 2" \
	"$($CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}') $($CTL -p result.versions.-1.version "$SOCK" '{"id":1,"cmd":"history"}')"
check "show running ZONE json after the round trip: the same bytes" \
	cmp -s "$T_DIR/show.json" <(mxc "show running $ZONE json")

# --- every show takes json ------------------------------------------------------
for cmd in "zones" "servers" "servers mx" "farms" "frontends" "stats" "history" \
	"history $ZONE" "running" "running $ZONE" "candidate" "sessions" "sessions mx" "diff"; do
	out=$(timeout -k 5 20 "$MXLB" -c "show $cmd json" 2>"$T_DIR/err")
	rc=$?
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | "$T_PY" -m json.tool >/dev/null 2>&1; then
		ok "show $cmd json: one JSON document"
	else
		fail "show $cmd json: one JSON document" "exit $rc: $(head -c 200 "$T_DIR/err") $(printf '%s' "$out" | head -c 200)"
	fi
done
servers() {
	mxc "show servers json" | "$T_PY" -c '
import json, sys
for s in json.load(sys.stdin):
    e = s["engine"] or {}
    print(s["zone"], s["farm"], s["server"], s["config"]["port"], e.get("state", "-"))' |
		paste -sd'|'
}
want="$ZONE mx s1 $P1 up|$ZONE mx s2 $P2 down"
wait_until 10 eval '[ "$(servers)" = "$want" ]'
check_eq "show servers json: config and the engine's state of each server (probed)" \
	"$want" "$(servers)"
d=$(timeout -k 5 20 "$MXLB" -c "server set mx s1 weight 5; show diff json" 2>/dev/null |
	"$T_PY" -c 'import json,sys; d = json.load(sys.stdin); print(d[0]["zone"], d[0]["changes"])')
check_eq "show diff json: the pending edit" "$ZONE ['server set mx s1 weight 5']" "$d"
z=$(mxc "show zones json" | "$T_PY" -c 'import json,sys; z = json.load(sys.stdin)[0]; print(z["zone"], z["engine"], z["version"])')
check_eq "show zones json: zone, engine up, version" "$ZONE up 2" "$z"
h=$(mxc "show history json" | "$T_PY" -c 'import json,sys; h = json.load(sys.stdin)[0]; print(h["zone"], h["running"], len(h["versions"]))')
check_eq "show history json: zone, running, versions" "$ZONE 2 2" "$h"
check "show farms json: each farm as in the file, with its zone" eval \
	'mxc "show farms json" | "$T_PY" -c "import json,sys; f = json.load(sys.stdin)[0]; sys.exit(not (f[\"zone\"] == \"$ZONE\" and f[\"balance\"] == \"leastconn\" and len(f[\"servers\"]) == 2))"'
out=$(mxc "show servers nosuch" 2>&1)
check "show servers with an unknown farm still says so ($out)" eval '[[ $out == *"no farm \"nosuch\""* ]]'

finish
