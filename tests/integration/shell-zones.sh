#!/bin/bash
# Names across zones, with two engines (zones z1 and z2): farm and
# frontend names are unique within a zone only.
#   - `show running z1`, its zone words changed to z2, replays into z2:
#     z2 then runs the same config (before: the replay stopped at "farm
#     smtpfarm already exists (zone z1)").
#   - Where a name is in both zones, a command without its zone word is
#     refused, naming both; with `zone z2` it acts on z2 only.
#   - show diff then says the zone on its lines; show zones' PENDING and
#     update count the changes of that diff, not the edits typed.
. "$(dirname "$0")/../lib.sh"

MXLB=$T_TOP/build/mxlb
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

mxc() {
	timeout -k 5 30 "$MXLB" -c "$1" </dev/null 2>>"$T_DIR/mxc.err"
}
pending() {
	mxc 'show zones' | awk -v z="$1" '$1 == z { print $4 }'
}

free_port; FE=$PORT
start_engine -z z1 z1 || die "engine z1 not ready"
Z1=$ENGINE_PID
start_engine -z z2 z2 || die "engine z2 not ready"
Z2=$ENGINE_PID

out=$(mxc "farm add smtpfarm zone z1 balance leastconn probe none;
	server add smtpfarm 192.0.2.10 name mx1 port 2525 weight 3;
	server add smtpfarm 192.0.2.11 name mx2 maxconn 50;
	frontend add smtpin zone z1 bind $FE address 127.0.0.1 farm smtpfarm disabled;
	zone apply z1")
check_eq "z1 configured" "zone z1: version 1 running" "$out"

mxc 'show running z1' >"$T_DIR/z1.run"
sed 's/\<zone z1\>/zone z2/; s/^zone apply z1$/zone apply z2/; s/^# zone z1$/# zone z2/' \
	"$T_DIR/z1.run" >"$T_DIR/z2.script"
words() { sed -E 's/(zone|apply) z[12]\>/\1 ZONE/' "$1"; }
check_eq "the script differs from z1's in its zone words only" "" \
	"$(diff <(words "$T_DIR/z1.run") <(words "$T_DIR/z2.script"))"
check "and every server line has its zone word" \
	eval '! grep "^server add" "$T_DIR/z2.script" | grep -qv " zone z2 "'
timeout -k 5 30 "$MXLB" <"$T_DIR/z2.script" >"$T_DIR/replay.out" 2>"$T_DIR/replay.err"
rc=$?
check_eq "z1's show running replays into z2: exit 0" 0 "$rc"
[ -s "$T_DIR/replay.err" ] && note "replay: $(cat "$T_DIR/replay.err")"
check_eq "z2 now runs version 1" "zone z2: version 1 running" "$(grep '^zone z2' "$T_DIR/replay.out")"
mxc 'show running z2' >"$T_DIR/z2.run"
check_eq "show running z2 = show running z1 with z2 for z1" "" \
	"$(diff "$T_DIR/z2.script" "$T_DIR/z2.run")"

# --- a name in both zones ---------------------------------------------------------

err=$( { timeout 10 "$MXLB" -c 'server set smtpfarm mx1 weight 4' </dev/null; } 2>&1)
check "ambiguous: refused, naming both zones" \
	eval '[[ $err == *"farm smtpfarm is in zones z1 and z2"* && $err == *"zone ZONE"* ]]'
check_eq "nothing pending after the refusal" "0 0" "$(pending z1) $(pending z2)"

cat >"$T_DIR/edit.script" <<EOF
server set smtpfarm mx1 zone z2 weight 4
server set smtpfarm mx1 zone z2 weight 5
server set smtpfarm mx2 zone z2 no maxconn
show diff
show zones
zone apply z2
EOF
timeout -k 5 30 "$MXLB" <"$T_DIR/edit.script" >"$T_DIR/edit.out" 2>"$T_DIR/edit.err"
check_eq "with 'zone z2' the edits apply: exit 0" "0" "$?"
check_eq "show diff: two set lines with their zone word" \
	"server set smtpfarm mx1 zone z2 weight 5|server set smtpfarm mx2 zone z2 no maxconn" \
	"$(grep -E '^(server|farm|frontend|[-+] )' "$T_DIR/edit.out" | paste -sd'|')"
check_eq "show zones: z2 PENDING 2 (the diff's lines, not the 3 edits)" "2" \
	"$(awk '$1 == "z2" { print $4 }' "$T_DIR/edit.out")"
check "z2 runs weight 5 for mx1" \
	eval 'mxc "show running z2" | grep -q "^server add smtpfarm 192.0.2.10 zone z2 name mx1 port 2525 weight 5"'
check "z1 unchanged: weight 3 for mx1" \
	eval 'mxc "show running z1" | grep -q "^server add smtpfarm 192.0.2.10 zone z1 name mx1 port 2525 weight 3"'

# update: the edits replayed and the changes pending, counted as show zones.
cat >"$T_DIR/upd.script" <<EOF
server set smtpfarm mx1 zone z1 weight 7
server set smtpfarm mx1 zone z1 weight 8
update
show zones
EOF
timeout -k 5 30 "$MXLB" <"$T_DIR/upd.script" >"$T_DIR/upd.out" 2>"$T_DIR/upd.err"
check_eq "update: 2 edits replayed, 1 change pending" \
	"zone z1: version 1, 2 edits replayed, 1 change pending" "$(grep '^zone z1:' "$T_DIR/upd.out")"
check_eq "show zones after update: z1 PENDING 1" "1" \
	"$(awk '$1 == "z1" { print $4 }' "$T_DIR/upd.out")"

check "engines still running" eval 'alive "$Z1" && alive "$Z2"'
finish
