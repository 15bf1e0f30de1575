#!/bin/bash
# A full state disk (a small tmpfs the suite mounts as the state directory,
# filled with dd).  Server s2 is in maint.  A commit without s2 cannot be
# saved: it is refused ("state"), logged at err, and nothing changes: s2
# stays maint in stats, in `show servers` and on disk, and takes no mail.
# An admin change that cannot be saved is answered "state" and not made.
# A confirmed commit without s2 (disk not full) keeps s2's maint on disk;
# its revert under a full disk is not done and is retried with a back-off
# (a few err lines, not five a second), the unconfirmed version running
# and on disk meanwhile; with room again the revert happens and brings s2
# back in maint.  Plain commits that remove s2 and bring it back keep its
# state too; "admin ... ready" on a removed server forgets it.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || die "this suite runs as root (mount)"
PY=$(python3 -c 'import sys; print(sys.executable)')
CTL="$PY $T_PEERS/ctl.py"
MXLB=${MXLB:-$T_TOP/build/mxlb}
ZONE=full
FS=$T_DIR/fs
mkdir -p "$FS"
mount -t tmpfs -o size=256k,mode=0755 "mxlbt-full-$$" "$FS" || die "mount tmpfs on $FS failed"
at_exit "umount $FS"
export MXLB_STATEDIR=$FS
STATE=$FS/$ZONE
SOCK=$MXLB_RUNDIR/$ZONE.sock

free_ports FE P1 P2
FARM=(farm mx probe=smtp probe-interval=1 probe-timeout=2 probe-rise=1 connect-timeout=2)
zone_config "$T_DIR/$ZONE.json" "$ZONE" "${FARM[@]}" server s1 "$P1" server s2 "$P2" frontend in "$FE"
zone_config "$T_DIR/s1.json" "$ZONE" "${FARM[@]}" server s1 "$P1" frontend in "$FE"
# s1 only, and a second frontend on a new port.
free_port; FE2=$PORT
$PY -c 'import json,sys; c=json.load(open(sys.argv[1])); f=dict(c["frontends"][0]); f.update(name="in2", bind=sys.argv[3]); c["frontends"].append(f); json.dump(c, open(sys.argv[2], "w"))' \
	"$T_DIR/s1.json" "$T_DIR/s1-fe2.json" "$FE2"

fill() {	# fill the tmpfs to the last block
	dd if=/dev/zero of="$FS/fill" bs=4k >/dev/null 2>&1
	[ "$(df --output=avail -k "$FS" | tail -1 | tr -d ' ')" -eq 0 ]
}
unfill() {
	rm -f "$FS/fill"
}
# admin_of SERVER: its admin state in stats, or "absent".
admin_of() {
	$CTL -p result.farms.0.servers "$SOCK" '{"id":1,"cmd":"stats"}' |
		$PY -c 'import json,sys; s=[s["admin"] for s in json.load(sys.stdin) if s["name"] == sys.argv[1]]; print(s[0] if s else "absent")' "$1"
}
# disk_admin SERVER: its admin state in state.json (ready if not listed).
disk_admin() {
	$PY -c 'import json,sys; a=[e["state"] for e in json.load(open(sys.argv[1]))["admin"] if e["farm"] == "mx" and e["server"] == sys.argv[2]]; print(a[0] if a else "ready")' \
		"$STATE/state.json" "$2"
}
disk_running() {
	$PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["running"], "pending" if "pending" in j else "-")' "$STATE/state.json"
}
running() {
	$CTL -p result.running "$SOCK" '{"id":1,"cmd":"get"}'
}
# mail_to_s2 N: send N messages, print "delivered=D s2=M" (M: reached s2).
mail_to_s2() {
	local b2 r
	b2=$(sink_count "$P2")
	r=$(smtpload 127.0.0.1 "$FE" -n "$1" -c 2 --timeout 10)
	echo "delivered=$(kv delivered "$r") s2=$(($(sink_count "$P2") - b2))"
}

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/$ZONE.json" || die "engine did not start"
wait_port 127.0.0.1 "$FE" 5 || die "frontend not listening"
out=$($CTL "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s2","state":"maint"}')
check "admin mx s2 maint acknowledged" eval "[[ \$out == *'\"ok\":true'* ]]"

# --- a commit that cannot be saved ---------------------------------------------
check "the state disk is full" fill
out=$($CTL --commit "$T_DIR/s1-fe2.json" --comment "without s2, with in2" "$SOCK")
code=$(printf '%s' "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("error", {}).get("code"))')
check_eq "commit without s2 on a full disk: refused (state)" state "$code"
check "the reply says version 1 stays running" eval "[[ \$out == *'version 1 stays running'* ]]"
check "the refused commit is logged at err" log_has "$ENGINE_LOG" "err: commit refused zone=$ZONE .*code=state"
check "the failed save is logged at err, with why" log_has "$ENGINE_LOG" "err: state zone=$ZONE: could not save: .*No space left on device"
check_eq "version 1 runs" 1 "$(running)"
check "the new frontend's port $FE2 is not left open" t_not_listening 127.0.0.1 "$FE2"
check_eq "stats: s2 still maint" maint "$(admin_of s2)"
check_eq "on disk: s2 still maint, version 1" "maint 1 -" "$(disk_admin mx s2) $(disk_running)"
if [ -x "$MXLB" ]; then
	"$MXLB" -c 'show servers' >"$T_DIR/show.out" 2>&1
	check "show servers: s2 maint ($(grep -m1 s2 "$T_DIR/show.out"))" log_has "$T_DIR/show.out" "s2.*maint"
fi
check "s1 is up" wait_until 5 eval "$CTL -p result.farms.0.servers.0.available '$SOCK' '{\"id\":1,\"cmd\":\"stats\"}' | grep -q true"
check_eq "10 messages: all delivered, none to s2" "delivered=10 s2=0" "$(mail_to_s2 10)"

# --- an admin change that cannot be saved --------------------------------------
out=$($CTL "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s1","state":"drain"}')
code=$(printf '%s' "$out" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("error", {}).get("code"))')
check_eq "admin s1 drain on a full disk: answered state" state "$code"
check "the reply says s1 stays ready ($(printf '%s' "$out" | cut -c1-160))" eval "[[ \$out == *'stays ready'* ]]"
check_eq "stats: s1 still ready, on disk too" "ready ready" "$(admin_of s1) $(disk_admin mx s1)"
check "the refused admin change is logged at err" log_has "$ENGINE_LOG" "err: admin refused zone=$ZONE"

# --- a confirmed commit, reverted under a full disk ------------------------------
unfill
out=$($CTL --commit "$T_DIR/s1.json" --comment "without s2, confirmed" --confirmed 2 "$SOCK")
check "confirmed commit without s2 acknowledged as version 2" eval "[[ \$out == *'\"version\":2,'* ]]"
check_eq "stats: s2 gone" absent "$(admin_of s2)"
check_eq "on disk: s2's maint kept, version 2 pending" "maint 2 pending" "$(disk_admin mx s2) $(disk_running)"
check "the state disk is full again" fill
wait_log "$ENGINE_LOG" "revert zone=$ZONE failed" 6 || fail "the revert is tried" "no 'revert ... failed' line in 6 s"
t0=$(date +%s.%N)
# A window of 6 s from the first failure: with a back-off of 1, 2, 4 s
# that is 3 attempts (4 at a second's edge); at every tick it was 30.
past() { fcmp "$(date +%s.%N)" '>=' "$1"; }
wait_until 7 past "$(awk -v t="$t0" 'BEGIN { printf "%.3f", t + 6 }')"
n=$(log_count "$ENGINE_LOG" "revert zone=$ZONE failed")
check "revert retried with a back-off: $n log lines in 6 s (2-4)" test "$n" -ge 2 -a "$n" -le 4
check "the retry line says when the next attempt is" log_has "$ENGINE_LOG" "err: revert zone=$ZONE failed: .*next attempt in [0-9]+ s"
check_eq "meanwhile version 2 runs without s2" "2 absent" "$(running) $(admin_of s2)"
check_eq "meanwhile on disk: version 2 pending, s2 maint" "2 pending maint" "$(disk_running) $(disk_admin mx s2)"

unfill
check "with room again the revert happens (<= 10 s)" wait_log "$ENGINE_LOG" " revert zone=$ZONE version=1 " 10
check_eq "version 3 runs, s2 back in maint" "3 maint" "$(running) $(admin_of s2)"
check_eq "on disk: version 3, s2 maint" "3 - maint" "$(disk_running) $(disk_admin mx s2)"
check_eq "10 messages: all delivered, none to s2" "delivered=10 s2=0" "$(mail_to_s2 10)"

# --- removed and brought back by plain commits -------------------------------------
out=$($CTL --commit "$T_DIR/s1.json" --comment "s2 out" "$SOCK")
check "commit without s2: version 4" eval "[[ \$out == *'\"version\":4,'* ]]"
check_eq "s2 gone from stats, its maint kept on disk" "absent maint" "$(admin_of s2) $(disk_admin mx s2)"
out=$($CTL --commit "$T_DIR/$ZONE.json" --comment "s2 back" "$SOCK")
check "commit with s2: version 5" eval "[[ \$out == *'\"version\":5,'* ]]"
check_eq "s2 is back in maint (stats and disk)" "maint maint" "$(admin_of s2) $(disk_admin mx s2)"
check_eq "10 messages: all delivered, none to s2" "delivered=10 s2=0" "$(mail_to_s2 10)"
# A removed server's remembered state: only "ready" (forget it) is taken.
$CTL --commit "$T_DIR/s1.json" --comment "s2 out again" "$SOCK" >/dev/null
code=$($CTL -p error.code "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s2","state":"drain"}')
check_eq "removed s2: admin drain is not-found" not-found "$code"
out=$($CTL "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s2","state":"ready"}')
check "removed s2: admin ready forgets its maint" eval "[[ \$out == *'\"ok\":true'* ]]"
check_eq "on disk: s2 no longer listed" ready "$(disk_admin mx s2)"
$CTL --commit "$T_DIR/$ZONE.json" --comment "s2 back, ready" "$SOCK" >/dev/null
check_eq "s2 back: ready" ready "$(admin_of s2)"

finish
