#!/bin/bash
# Issue 4, test 5: two shells edit the same zone.
#
# Shell B is one `mxlb --continue` reading its script from a FIFO that this
# suite feeds line by line, so that B reads the running config (version 0)
# before shell A commits and applies after it:
#   B: show zones                      (B's candidate is based on version 0)
#   A: mxlb -c 'farm add a zone z1; zone apply'        -> version 1
#   B: farm add b zone z1; zone apply  -> refused as stale: "line 3:", names
#                                         version 1 and root, who committed it
#   B: update; zone apply              -> version 2, farms a and b running
#   B: EOF                             -> exit 1 (--continue, one error)
# Then a shell C without --continue stops at its stale apply with exit 1,
# its stdin still open and its next lines unread.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
ME=$(id -un)

# mxc CMDS: one-shot, bounded; stdout only.
mxc() {
	timeout -k 5 30 "$MXLB" -c "$1" </dev/null 2>>"$T_DIR/mxc.err"
}

zone_version() {
	mxc 'show zones' | awk -v z="$1" '$1 == z { print $3 }'
}

# fifo_shell NAME [ARGS...]: mxlb ARGS reading $T_DIR/NAME.fifo, stdout
# line-buffered (stdbuf) to NAME.out, stderr to NAME.err; FD 3 is the
# suite's end of the FIFO (opened read-write: never blocks, and closing it
# is B's EOF).  Sets SH_PID; the PID goes to lib.sh's list for the cleanup.
fifo_shell() {
	local name=$1 fifo=$T_DIR/$1.fifo
	shift
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	exec 3<>"$fifo"
	# 3>&-: the shell must not hold a write end of its own FIFO, or it
	# would never see EOF.
	stdbuf -oL "$MXLB" "$@" <"$fifo" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" 3>&- &
	SH_PID=$!
	T_PIDS+=("$SH_PID")
}

# feed LINE: one line to the FIFO shell.
feed() {
	printf '%s\n' "$1" >&3
}

# shell_status PID: SH_RC, its exit status once it has ended (bounded:
# 10 s; "timeout" if it has not).  Not in $(...): only this shell, its
# parent, can wait for it.
shell_status() {
	SH_RC=timeout
	wait_until 10 t_gone "$1" || return 0
	wait "$1"
	SH_RC=$?
}

start_engine -z z1 || die "engine for zone z1 not ready"
check_eq "zone z1 runs version 0" 0 "$(zone_version z1)"

# --- B reads, A applies, B applies ------------------------------------------

fifo_shell B --continue || die "mkfifo failed"
feed 'show zones'
check "B read the running config: its show zones has z1 up at version 0" \
	wait_log "$T_DIR/B.out" '^z1 +up +0 +0$' 5

mxc 'farm add a zone z1; zone apply' >"$T_DIR/A.out"
check_eq "A: farm add a, zone apply -> version 1" "zone z1: version 1 running" "$(cat "$T_DIR/A.out")"

feed 'farm add b zone z1'
feed 'zone apply'
check "B: zone apply refused, 'line 3:' on stderr" wait_log "$T_DIR/B.err" '^line 3: ' 5
err=$(grep '^line 3: ' "$T_DIR/B.err")
note "B: $err"
check "B: refused as stale: based on version 0, version 1 running" \
	eval '[[ $err == *"version 0"* && $err == *"version 1 is running"* ]]'
check "B: the refusal names who committed since ($ME)" eval '[[ $err == *"committed by $ME"* ]]'
check "B: the refusal says to run update" eval '[[ $err == *update* ]]'
check "B: still running after the error (--continue)" alive "$SH_PID"
check_eq "after the refusal: z1 still at version 1" 1 "$(zone_version z1)"
check_eq "after the refusal: only farm a runs" "farm add a zone z1" \
	"$(mxc 'show running z1' | grep '^farm add' | paste -sd'|')"

feed 'update'
check "B: update replays its edit on version 1" \
	wait_log "$T_DIR/B.out" '^zone z1: version 1, 1 edit replayed, 1 change pending$' 5
feed 'show diff'
feed 'zone apply'
check "B: zone apply after update -> version 2" \
	wait_log "$T_DIR/B.out" '^zone z1: version 2 running$' 5
check_eq "B: its show diff after update is farm b only" "+ farm add b zone z1" \
	"$(grep -E '^[-+] ' "$T_DIR/B.out")"
exec 3>&-
shell_status "$SH_PID"
check_eq "B: at EOF, exit 1 (--continue, one error)" 1 "$SH_RC"
check_eq "B: one error on stderr, the stale apply" 1 "$(grep -c . "$T_DIR/B.err")"

check_eq "z1 at version 2" 2 "$(zone_version z1)"
check_eq "show running z1: farms a and b" "farm add a zone z1|farm add b zone z1" \
	"$(mxc 'show running z1' | grep '^farm add' | sort | paste -sd'|')"
check_eq "show history z1: versions 1 and 2, both by $ME" "1 $ME|2 $ME" \
	"$(mxc 'show history z1' | awk '$1 ~ /^[0-9]+$/ { print $1, $4 } $1 == "*" { print $2, $5 }' | sort -n | paste -sd'|')"

# --- without --continue: the stale apply ends the script --------------------

fifo_shell C || die "mkfifo failed"
feed 'show zones'
check "C read the running config (version 2)" wait_log "$T_DIR/C.out" '^z1 +up +2 +0$' 5
mxc 'farm add a2 zone z1; zone apply' >"$T_DIR/A2.out"
check_eq "A: farm add a2 -> version 3" "zone z1: version 3 running" "$(cat "$T_DIR/A2.out")"
feed 'farm add c zone z1'
feed 'zone apply'
shell_status "$SH_PID"
check_eq "C: stale apply, exit 1 with its stdin still open" 1 "$SH_RC"
feed 'zone apply' 2>/dev/null	# nobody reads it: C has stopped
exec 3>&-
check "C: stderr names line 3 and the stale version" \
	grep -q '^line 3: .*version 2 but version 3 is running' "$T_DIR/C.err"
check_eq "z1 at version 3: farms a, a2, b; not c" "3|farm add a zone z1|farm add a2 zone z1|farm add b zone z1" \
	"$(zone_version z1)|$(mxc 'show running z1' | grep '^farm add' | sort | paste -sd'|')"
check "engine still running" alive "$ENGINE_PID"
check_eq "no shell error besides the checked ones" "" "$(cat "$T_DIR/mxc.err")"

finish
