#!/bin/bash
# run: alone (it adds a user to the system)
# Issue 11: the shell's one peer layer tells the truth about the engines.
#
# Zone z1 (a farm mx of one smtp-sink) and, as each case needs it:
#  1. `mxlb show servers` equals `mxlb -c 'show servers'` (words after the
#     options are one command); `mxlb server drain mx mx1 wait 5` runs;
#     --version and --help of mxlb and mxlbd on stdout, exit 0.
#  2. each error kind, with the zone and the socket path:
#     no socket (`mxlb bridge`, `mxlb check` of a zone never started);
#     permission denied, as a user this suite makes (named with $$), who
#     is not in the socket's group: the message names the group;
#     another protocol version, and a reply with the wrong id, from a tiny
#     fake engine in python speaking JSON lines.
#  3. SIGSTOP: `mxlb --timeout 2 show zones` answers within the timeout,
#     z1 down "not answering"; `show running` exits non-zero, no script.
#  4. batch Ctrl-C: SIGINT to a batch mxlb waiting on a drain exits 130,
#     says where it stopped, and the `zone apply` after it is not run.
#  5. kill -9: `show running` exits non-zero, prints no script, and the
#     reason names the zone and its socket ("engine not running").
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

sink_zone z1
SOCK=$MXLB_RUNDIR/z1.sock

# mx ARGS...: mxlb, bounded; OUT stdout, ERR stderr, RC status.
mx() {
	OUT=$(timeout -k 5 30 "$MXLB" "$@" 2>"$T_DIR/mx.err" </dev/null)
	RC=$?
	ERR=$(cat "$T_DIR/mx.err")
}

# --- 1. words as a command; --version, --help --------------------------------

mx -c 'show servers'
want=$OUT
mx show servers
check_eq "mxlb show servers: exit 0" 0 "$RC"
check_eq "mxlb show servers = mxlb -c 'show servers'" "$want" "$OUT"
check "show servers lists mx1" eval '[[ "$OUT" == *mx1* ]]'
mx server drain mx mx1 wait 5
check_eq "mxlb server drain mx mx1 wait 5: exit 0" 0 "$RC"
check "drain ... wait: no session left" eval '[[ "$OUT" == *"no session left"* ]]'
mx server ready mx mx1
check_eq "mxlb server ready mx mx1: exit 0" 0 "$RC"
mx show bogus
check "mxlb show bogus: exit 1, an error on stderr" eval '[ $RC -eq 1 ] && [ -n "$ERR" ]'

VERSION=$(sed -n 's/^VERSION *= *//p' "$T_TOP/sources.mk")
mx --version
check_eq "mxlb --version: exit 0" 0 "$RC"
check_eq "mxlb --version on stdout: the Makefile's VERSION" "mxlb $VERSION" "$OUT"
mx --help
check "mxlb --help: exit 0, usage on stdout, stderr empty" \
	eval '[ $RC -eq 0 ] && [[ "$OUT" == "usage: mxlb"* ]] && [ -z "$ERR" ]'
check "mxlb --help names --timeout" eval '[[ "$OUT" == *--timeout* ]]'
OUT=$("$MXLBD" --version 2>/dev/null); RC=$?
check_eq "mxlbd --version: exit 0" 0 "$RC"
check_eq "mxlbd --version on stdout: the Makefile's VERSION" "mxlbd $VERSION" "$OUT"
OUT=$("$MXLBD" --help 2>/dev/null); RC=$?
check "mxlbd --help: exit 0, usage on stdout" eval '[ $RC -eq 0 ] && [[ "$OUT" == "usage: mxlbd"* ]]'
"$MXLBD" --bogus >/dev/null 2>&1
check_eq "mxlbd --bogus: exit 2" 2 "$?"

# --- 2. the error kinds ---------------------------------------------------------

mx bridge z9
check "no socket (bridge z9): exit 1" test "$RC" -eq 1
check "no socket: 'zone z9: no engine', the socket's path" \
	eval '[[ "$ERR" == *"zone z9: no engine: no socket at $MXLB_RUNDIR/z9.sock"* ]]'

U=mxlbt$$
# as_user CMD...: mxlb as the suite's user; OUT, ERR, RC.
as_user() {
	OUT=$(timeout -k 5 30 runuser -u "$U" -- env MXLB_RUNDIR="$MXLB_RUNDIR" \
		MXLB_ZONES=/dev/null "$MXLB" "$@" 2>"$T_DIR/mx.err")
	RC=$?
	ERR=$(cat "$T_DIR/mx.err")
	note "as $U: mxlb $*: $RC $ERR"
}
if useradd -M -N -d /nonexistent -s /bin/false "$U" 2>/dev/null; then
	at_exit "userdel '$U' 2>/dev/null"
	# A run directory closed to the user (0750: the engine makes it 0755,
	# an admin may close it): the directory says no.
	chmod 750 "$MXLB_RUNDIR"
	GRP=$(stat -c %G "$MXLB_RUNDIR")
	as_user -c 'show running'
	check "run directory closed: show running exits non-zero, no script" \
		eval '[ $RC -ne 0 ] && [ -z "$OUT" ]'
	check "run directory closed: names it and the group ($GRP)" \
		eval '[[ "$ERR" == *"permission denied on $MXLB_RUNDIR: user $U is not in group $GRP"* ]]'
	# Open directory, socket 0660: the socket says no.
	chmod 755 "$MXLB_RUNDIR"
	GRP=$(stat -c %G "$SOCK")
	as_user -c 'show running'
	check "socket closed: show running exits non-zero, no script" \
		eval '[ $RC -ne 0 ] && [ -z "$OUT" ]'
	check "socket closed: names the zone, the socket, the group ($GRP)" \
		eval '[[ "$ERR" == *"zone z1: permission denied on $SOCK: user $U is not in group $GRP"* ]]'
	as_user show zones
	check "socket closed: show zones has z1 down, with the reason" \
		eval '[[ "$(grep -w z1 <<<"$OUT")" == *down*"permission denied"* ]]'
else
	fail "a user for the permission test" "useradd $U failed"
fi

# A fake engine: hello answers protocol $1, or an answer with the wrong id.
cat >"$T_DIR/fake.py" <<'EOF'
import json, os, socket, sys
path, mode = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    for line in f:
        req = json.loads(line)
        if mode == "version":
            rep = {"id": req["id"], "ok": True, "result": {"protocol": 99, "zone": "fake"}}
        else:
            rep = {"id": req["id"] + 7, "ok": True, "result": {"protocol": 1}}
        f.write((json.dumps(rep) + "\n").encode())
        f.flush()
    c.close()
EOF
for mode in version id; do
	spawn "fake-$mode" "$T_PY" "$T_DIR/fake.py" "$MXLB_RUNDIR/fake$mode.sock" "$mode"
	wait_until 5 test -S "$MXLB_RUNDIR/fake$mode.sock" || fail "fake engine ($mode)" "no socket"
done
mx check fakeversion
note "$OUT"
check "another protocol version: check exit 2, says so with the socket" \
	eval '[ $RC -eq 2 ] && [[ "$OUT" == *"zone fakeversion: the engine at $MXLB_RUNDIR/fakeversion.sock speaks protocol version 99, this mxlb speaks 1"* ]]'
mx -c 'show running fakeversion'
check "another protocol version: show running exits non-zero, no script" \
	eval '[ $RC -ne 0 ] && [ -z "$OUT" ] && [[ "$ERR" == *"protocol version 99"* ]]'
mx check fakeid
note "$OUT"
check "a reply with another id: refused as not the protocol" \
	eval '[ $RC -eq 2 ] && [[ "$OUT" == *"zone fakeid: the engine at $MXLB_RUNDIR/fakeid.sock answered request 1 with id another: not the protocol"* ]]'
rm -f "$MXLB_RUNDIR"/fake*.sock	# not zones for what follows

# --- 3. a hung engine ------------------------------------------------------------

kill -STOP "$ENGINE_PID"
at_exit "kill -CONT $ENGINE_PID 2>/dev/null"
t0=$(date +%s%N)
mx --timeout 2 show zones
ms=$((($(date +%s%N) - t0) / 1000000))
note "$OUT"
check_eq "SIGSTOP: show zones exits 0" 0 "$RC"
check "SIGSTOP: show zones answers within the timeout (2 s, took $ms ms)" test "$ms" -lt 3500
check "SIGSTOP: show zones has z1 down, not answering, with the socket" \
	eval '[[ "$(grep -w z1 <<<"$OUT")" == *" down "*"zone z1: engine not answering within 2 s at $SOCK"* ]]'
mx --timeout 2 -c 'show running'
check "SIGSTOP: show running exits non-zero, prints no script" eval '[ $RC -ne 0 ] && [ -z "$OUT" ]'
check "SIGSTOP: show running says not answering" eval '[[ "$ERR" == *"zone z1: engine not answering"* ]]'
# Its backlog full too: a connect that would block is not waited for.
cat >"$T_DIR/fill.py" <<'EOF'
import socket, sys, time
held = []
while True:
    s = socket.socket(socket.AF_UNIX)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
    except BlockingIOError:
        break
    held.append(s)
print("full after", len(held), flush=True)
time.sleep(60)
EOF
spawn fill "$T_PY" "$T_DIR/fill.py" "$SOCK"
FILL_PID=$SPAWNED_PID
wait_until 5 grep -q full "$T_DIR/fill.log" || fail "the backlog fills" "$(cat "$T_DIR/fill.log")"
t0=$(date +%s%N)
mx --timeout 2 show zones
ms=$((($(date +%s%N) - t0) / 1000000))
check "SIGSTOP, backlog full: show zones answers within the timeout ($ms ms)" test "$ms" -lt 3500
check "SIGSTOP, backlog full: z1 down, not answering" \
	eval '[[ "$(grep -w z1 <<<"$OUT")" == *" down "*"zone z1: engine not answering"* ]]'
stop_pid "$FILL_PID"
kill -CONT "$ENGINE_PID"
# The resumed engine first works through the backlog the filler left.
z1_up() {
	mx show zones
	[[ "$(grep -w z1 <<<"$OUT")" == *" up "* ]]
}
check "SIGCONT: show zones has z1 up again (within 10 s)" wait_until 10 z1_up

# --- 4. batch Ctrl-C -------------------------------------------------------------

# A session held open: the drain waits for it.
exec 5<>"/dev/tcp/127.0.0.1/$FE" || fail "a session through the frontend" "connect"
read -r -t 5 greeting <&5
note "held session: $greeting"
v0=$("$MXLB" show zones | awk '$1 == "z1" { print $3 }')
printf '%s\n' 'farm add b zone z1' 'server drain mx mx1 wait 30' 'zone apply z1' \
	>"$T_DIR/batch.mxlb"
"$MXLB" <"$T_DIR/batch.mxlb" >"$T_DIR/batch.out" 2>"$T_DIR/batch.err" &
BPID=$!
T_PIDS+=("$BPID")
wait_until 5 grep -q "mx1: drain" "$T_DIR/batch.out" || fail "batch reached the drain" "$(cat "$T_DIR/batch.out")"
kill -INT "$BPID"
wait_until 5 t_gone "$BPID"
wait "$BPID"
check_eq "batch SIGINT during a wait: exit 130" 130 "$?"
check "batch SIGINT: says it stopped at line 2" grep -q "interrupted at line 2" "$T_DIR/batch.err"
check_eq "batch SIGINT: nothing applied (z1 still at version $v0)" "$v0" \
	"$("$MXLB" show zones | awk '$1 == "z1" { print $3 }')"
check "batch SIGINT: farm b is not running" eval '! "$MXLB" show running | grep -q "farm add b"'
exec 5>&-
"$MXLB" server ready mx mx1 >/dev/null

# --- 5. kill -9 ------------------------------------------------------------------

stop_pid "$ENGINE_PID" KILL
check "kill -9: the socket is left behind" test -S "$SOCK"
mx -c 'show running z1'
check "kill -9: show running z1 exits non-zero" test "$RC" -ne 0
check_eq "kill -9: show running prints no script" "" "$OUT"
check "kill -9: the reason names the zone, the crash and the socket" \
	eval '[[ "$ERR" == *"zone z1: engine not running (socket left by a crash?)"*"$SOCK"* ]]'
mx -c 'show running'
check "kill -9: show running (every zone) exits non-zero, no script" eval '[ $RC -ne 0 ] && [ -z "$OUT" ]'
mx -c 'show zones'
check "kill -9: show zones has z1 down" eval '[[ "$(grep -w z1 <<<"$OUT")" == *" down "*"engine not running"* ]]'

finish
