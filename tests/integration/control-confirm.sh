#!/bin/bash
# Confirmed commits.  A commit with "confirmed": 3 and no confirm: the engine
# itself goes back to the previous config (as a new version) after about
# 3 s, and a subscriber sees the "revert" event.  Confirmed in time, the
# commit stays.  A commit on a stale base is refused with "stale", naming
# who committed since.
. "$(dirname "$0")/../lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
CTL="$PY $T_PEERS/ctl.py"
free_ports FE P1 P2

FARM=(farm mx probe=smtp probe-interval=1 probe-timeout=2)
zone_config "$T_DIR/confirm.json" confirm "${FARM[@]}" server s1 "$P1" frontend in "$FE"
zone_config "$T_DIR/two.json" confirm "${FARM[@]}" server s1 "$P1" server s2 "$P2" frontend in "$FE"

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/confirm.json" || die "engine did not start"
SOCK=$MXLB_RUNDIR/confirm.sock

get() {		# get PATH: a field of the running config's reply
	$CTL -p "$1" "$SOCK" '{"id":1,"cmd":"get"}'
}
running() {
	get result.running
}
servers() {	# the running config's server names
	get result.config.farms.0.servers |
		$PY -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin)))'
}
# same_config A B: versions A and B hold the same config.
same_config() {
	[ "$($CTL -p result.config "$SOCK" "{\"id\":1,\"cmd\":\"get\",\"version\":$1}")" = \
		"$($CTL -p result.config "$SOCK" "{\"id\":1,\"cmd\":\"get\",\"version\":$2}")" ]
}
# has_event KEY=VALUE...: the subscriber printed an event with these fields.
has_event() {
	$PY - "$T_DIR/sub.log" "$@" <<'PYEOF'
import json, sys
want = dict(a.split("=", 1) for a in sys.argv[2:])
for line in open(sys.argv[1]):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    if all(str(ev.get(k)).lower() == v.lower() for k, v in want.items()):
        sys.exit(0)
sys.exit(1)
PYEOF
}
running_is() {
	[ "$(running)" = "$1" ]
}

check_eq "version 1 runs s1" "1 s1" "$(running) $(servers)"

spawn sub "$PY" "$T_PEERS/ctl.py" --subscribe 25 "$SOCK"
SUB_PID=$SPAWNED_PID
wait_log "$T_DIR/sub.log" '"id":"sub","ok":true' 5 || die "subscribe was not acknowledged"

# at_fraction LO HI: wait (at most 2 s) until the wall clock's fraction of a
# second is within [LO, HI) (in ms).  The engine counts the confirm time in
# whole seconds, so where in a second a commit lands matters.
at_fraction() {
	local end=$(($(date +%s%N) / 1000000 + 2000)) ms
	while :; do
		ms=$((10#$(date +%N) / 1000000))
		[ "$ms" -ge "$1" ] && [ "$ms" -lt "$2" ] && return 0
		[ $(($(date +%s%N) / 1000000)) -ge "$end" ] && return 1
		sleep 0.005
	done
}

# --- confirmed 3, no confirm: the engine reverts ----------------------------
# Committed early in a second, so the revert time does not depend on the
# engine's rounding (see the last test).
at_fraction 0 200
t0=$(now)
out=$($CTL --commit "$T_DIR/two.json" --comment "add s2, on probation" --confirmed 3 "$SOCK")
check "commit confirmed 3 acknowledged as version 2, pending" \
	eval "[[ \$out == *'\"result\":{\"version\":2,\"pending\":true'* ]]"
check_eq "version 2 runs s1 s2" "2 s1 s2" "$(running) $(servers)"
pending=$($CTL -p result.pending "$SOCK" '{"id":1,"cmd":"history"}')
check_eq "history shows a pending confirm" true "$pending"
# Half the confirm time in which nothing may happen: the thing under test.
check "nothing reverted after 1.5 s" eval 'sleep 1.5; running_is 2'

if wait_until 5 running_is 3; then
	dt=$(fsub "$(now)" "$t0")
	ok "reverted by the engine as version 3 (after $dt s)"
	check "the revert came after 2.8-4.5 s ($dt)" eval 'fcmp "$dt" ">=" 2.8 && fcmp "$dt" "<=" 4.5'
else
	fail "reverted by the engine as version 3" "running is $(running) after $(fsub "$(now)" "$t0") s"
fi
check_eq "get shows the previous config again (s1)" "s1" "$(servers)"
check "version 3's config is version 1's" same_config 1 3
names=$($CTL -p result.farms.0.servers "$SOCK" '{"id":1,"cmd":"stats"}' |
	$PY -c 'import json,sys; print(" ".join(s["name"] for s in json.load(sys.stdin)))')
check_eq "stats: the farm is back to s1 alone" s1 "$names"
check "engine logged the revert" log_has "$ENGINE_LOG" " revert zone=confirm version=1 .*version 2 was not confirmed"
$CTL "$SOCK" '{"id":1,"cmd":"history"}' >"$T_DIR/history1.json"
v3=$($PY -c 'import json,sys
r = json.load(open(sys.argv[1]))["result"]
v = r["versions"][-1]
print(v["version"], v["user"], r["pending"], "|", v["comment"])' "$T_DIR/history1.json")
check "history: version 3 by mxlbd, nothing pending, says revert ($v3)" \
	eval "[[ \$v3 == '3 mxlbd False | '*revert* ]]"
check "subscriber saw the commit of version 2 (pending)" \
	has_event event=commit version=2 pending=true user=root
check "subscriber saw the revert event (2 -> 1, as version 3)" \
	has_event event=revert version=3 reverted=2 to=1 zone=confirm

# --- stale base ---------------------------------------------------------------
out=$($CTL -p error "$SOCK" "{\"id\":1,\"cmd\":\"commit\",\"base\":2,\"config\":$(cat "$T_DIR/two.json")}")
code=$($PY -c 'import json,sys; print(json.loads(sys.argv[1])["code"])' "$out" 2>/dev/null)
check_eq "commit on version 2 while 3 runs: refused stale" stale "$code"
check "the refusal names who committed since (mxlbd, version 3): $out" \
	eval "[[ \$out == *'version 3 is running (committed by mxlbd'* ]]"
check "the stale commit changed nothing" running_is 3

# --- confirmed 3, confirmed in time: it stays ------------------------------
out=$($CTL --commit "$T_DIR/two.json" --comment "add s2 again" --confirmed 3 "$SOCK")
check "commit confirmed 3 acknowledged as version 4, pending" \
	eval "[[ \$out == *'\"result\":{\"version\":4,\"pending\":true'* ]]"
sleep 1		# the confirm comes 1 s into the 3: the timing under test
out=$($CTL "$SOCK" '{"id":7,"cmd":"confirm"}')
check_eq "confirm within the time" '{"id":7,"ok":true,"result":{"version":4}}' "$out"
# Past the confirm time, in which nothing may happen: the thing under test.
check "still version 4 with s1 s2 after 5 s" eval 'sleep 5; [ "$(running) $(servers)" = "4 s1 s2" ]'
check_eq "history: nothing pending" false "$($CTL -p result.pending "$SOCK" '{"id":1,"cmd":"history"}')"
check "subscriber saw the confirm event" has_event event=confirm version=4 user=root
check_eq "subscriber saw exactly one revert" 1 "$(log_count "$T_DIR/sub.log" '"event":"revert"')"
check_eq "engine logged exactly one revert" 1 "$(log_count "$ENGINE_LOG" " revert zone=")"

code=$($CTL -p error.code "$SOCK" '{"id":8,"cmd":"confirm"}')
check_eq "confirm with nothing pending: no-pending" no-pending "$code"

# A stale base now names root and the comment of version 4.
out=$($CTL -p error "$SOCK" "{\"id\":1,\"cmd\":\"commit\",\"base\":3,\"config\":$(cat "$T_DIR/confirm.json")}")
check "stale commit on 3 names root and 'add s2 again': $out" \
	eval "[[ \$out == *'\"code\":\"stale\"'* && \$out == *'version 4 is running (committed by root'*'add s2 again'* ]]"

# --- confirmed 3, confirmed after 2.5 s: still in time -----------------------
# Committed late in a second: "confirmed 3" must still mean 3 seconds, not
# "until the wall clock's second count has moved by 3".
at_fraction 750 850
out=$($CTL --commit "$T_DIR/confirm.json" --comment "late in a second" --confirmed 3 "$SOCK")
t1=$(now)
check "commit confirmed 3 acknowledged as version 5, pending" \
	eval "[[ \$out == *'\"result\":{\"version\":5,\"pending\":true'* ]]"
# The confirm comes 2.4 s after the commit: the timing under test.
sleep "$(fsub 2.4 "$(fsub "$(now)" "$t1")")"
out=$($CTL "$SOCK" '{"id":9,"cmd":"confirm"}')
dt=$(fsub "$(now)" "$t1")
check_eq "confirm 2.5 s after a 'confirmed 3' commit is in time (at $dt s)" \
	'{"id":9,"ok":true,"result":{"version":5}}' "$out"
check_eq "version 5 still runs" 5 "$(running)"
# Version 5 was confirmed in time: the one revert is still version 2's.
check_eq "engine logged still exactly one revert (version 2's): $(grep " revert zone=" "$ENGINE_LOG" | tail -1)" \
	1 "$(log_count "$ENGINE_LOG" " revert zone=")"
check_eq "subscriber saw still exactly one revert" 1 "$(log_count "$T_DIR/sub.log" '"event":"revert"')"

check "engine still running" alive "$ENGINE_PID"
stop_pid "$SUB_PID"

finish
