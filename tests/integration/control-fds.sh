#!/bin/bash
# Issue 10: the control socket when the engine is out of descriptors.
#
# The engine runs under a hard limit of 64 descriptors (as in attack-fds,
# whose parity trick makes accept() itself fail), and silent SMTP clients
# take every descriptor it may have.  Then:
#  1. root's `mxlb -c 'show servers'` is answered: the engine keeps two
#     descriptors on /dev/null for the control socket and gives them to an
#     admin (today the listener spins on EMFILE instead).
#  2. A root subscriber takes the reserve and holds it, and another root
#     client says hello (accepted when a descriptor frees: the engine tries
#     every 250 ms).  Over 3 s the engine uses less than 50 % of one CPU and
#     writes a bounded number of log lines (today: a spinning listener and
#     millions of "Error from accept() call" lines).
#  3. The silent clients leave: the hello is answered (if it was not
#     already), root's `mxlb check` and mail work again.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
command -v prlimit >/dev/null || die "prlimit (util-linux) is not installed"
LIMIT=64
TICK=$(getconf CLK_TCK)

two_sink_config cfds "$T_DIR/cfds.json"
SOCK=$MXLB_RUNDIR/cfds.sock

mxlbd_lowfd "$LIMIT"

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/cfds.json" || die "engine did not start under ulimit -n $LIMIT"
wait_until 10 eval 'timeout 5 "$MXLB" check >/dev/null 2>&1' || note "servers not up yet"

in_use() {
	ls "/proc/$ENGINE_PID/fd" 2>/dev/null | awk -v l="$LIMIT" '$1 < l' | wc -l
}
rest_fds() {
	local i n min=999999
	for i in 1 2 3 4 5; do
		n=$(in_use)
		[ "$n" -lt "$min" ] && min=$n
		sleep 0.1
	done
	echo "$min"
}
cpu_ticks() {
	local rest
	rest=$(sed 's/.*) //' "/proc/$1/stat") || return 1
	set -- $rest
	echo $((${12} + ${13}))
}
log_bytes() {
	stat -c %s "$ENGINE_LOG"
}

# Even parity: the last descriptor goes to accept(), which then fails.
REST=$(rest_fds)
if [ $(((LIMIT - REST) % 2)) = 1 ]; then
	prlimit --pid "$ENGINE_PID" --nofile=$((LIMIT - 1)):$((LIMIT - 1)) && LIMIT=$((LIMIT - 1)) ||
		die "prlimit --pid could not lower the engine's limit"
fi
note "engine holds $REST descriptors at rest (two of them the control reserve); limit $LIMIT"

spawn holders "$T_PY" "$T_PEERS/slowloris.py" silent 127.0.0.1 "$FE" --conns 40 \
	--secs 60 --source 127.0.0.5 --out "$T_DIR/holders.out"
HOLD_PID=$SPAWNED_PID
check "the engine is out of descriptors (frontend pauses accepting)" \
	wait_until 10 log_has "$ENGINE_LOG" " accept: Too many open files: pausing for 250 ms$"
check "every descriptor it may have is in use ($LIMIT)" \
	wait_until 5 eval '[ "$(in_use)" -eq "$LIMIT" ]'

# --- 1. an admin gets in -----------------------------------------------------------
out=$(timeout -k 2 10 "$MXLB" -c 'show servers' 2>&1)
rc=$?
check_eq "root's show servers during the shortage: exit 0" 0 "$rc"
check "... and it lists s1 and s2" eval 'grep -qw s1 <<<"$out" && grep -qw s2 <<<"$out"'
[ "$rc" = 0 ] || note "show servers: $out"

# --- 2. one more while the reserve is taken: the engine does not spin --------------
spawn sub "$T_PY" "$T_PEERS/ctl.py" --subscribe 40 "$SOCK"
SUB_PID=$SPAWNED_PID
check "a root subscriber got in during the shortage" wait_log "$T_DIR/sub.log" '"id":"sub","ok":true' 10
spawn late "$T_PY" "$T_PEERS/ctl.py" -t 30 -p result.access "$SOCK" '{"id":1,"cmd":"hello"}'
LATE_PID=$SPAWNED_PID
sleep 0.5
b0=$(log_bytes)
c0=$(cpu_ticks "$ENGINE_PID")
t0=$(now)
sleep 3
c1=$(cpu_ticks "$ENGINE_PID")
secs=$(fsub "$(now)" "$t0")
b1=$(log_bytes)
cpu_pct=$(awk -v d=$((c1 - c0)) -v t="$TICK" -v s="$secs" 'BEGIN { printf "%.1f", d / t / s * 100 }')
note "engine during the shortage, a subscriber holding the reserve: $((c1 - c0)) ticks in $secs s = $cpu_pct % CPU, $((b1 - b0)) bytes of log, $(in_use) descriptors in use, the hello $(t_gone "$LATE_PID" && echo answered || echo waiting)"
check "no spin: engine CPU under 50 % of one CPU ($cpu_pct %)" fcmp "$cpu_pct" "<" 50
check "log bounded: under 8 KB in 3 s ($((b1 - b0)) bytes)" test $((b1 - b0)) -lt 8192
check "no 'Error from accept() call' lines" eval '! log_has "$ENGINE_LOG" "Error from accept"'
check "the control socket's pause is logged at most a few times" \
	test "$(log_count "$ENGINE_LOG" "control: cannot accept")" -le 3

# --- 3. descriptors free up ------------------------------------------------------------
stop_pid "$HOLD_PID" TERM 5
check "the hello is answered (at the latest once descriptors are free)" wait_until 15 t_gone "$LATE_PID"
check_eq "... as an admin" admin "$(tail -1 "$T_DIR/late.log")"
check "root's mxlb check works again" eval 'timeout -k 2 10 "$MXLB" check >/dev/null'
s=$(smtpload 127.0.0.1 "$FE" -n 5 -c 1 --timeout 5 2>&1 | tail -1)
check_eq "mail flows again: 5 of 5 delivered ($s)" 5 "$(kv delivered "$s")"
stop_pid "$SUB_PID"
check "engine alive" alive "$ENGINE_PID"

finish
