#!/bin/bash
# run: alone (it adds users and groups to the system)
# Issue 10: nobody without the admin group gets in the way of one who has it.
#
# A user made for the test, whose only group is the zone's read-only group,
# opens 1,100 idle connections to the control socket (tests/peers/
# ctlflood.py).  The engine lets one uid that is not an admin hold at most
# 32 and refuses the others with "busy" (refusals logged at most once a
# second), keeps its last slots for the admin group, so meanwhile root's
# `mxlb -c 'show servers'` shows both servers, `mxlb check` exits 0, `server
# drain` works and mail flows.  The engine runs with --control-idle 10: the
# idle connections are closed after about 10 s.  The same user's 5,000-byte
# line without a newline is refused (the read-only group's lines are at most
# 4 KB).  Then 31 more such users open 32 connections each: the read-only
# group gets 960 slots in all, the last 64 stay the admin group's, and root
# still gets in.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || die "this suite runs as root (useradd, setpriv)"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
# The test user cannot use root's Python (a version manager under /root).
SYSPY=/usr/bin/python3
[ -x "$SYSPY" ] || die "$SYSPY is missing"
IDLE=10
ZONE=lockout
SOCK=$MXLB_RUNDIR/$ZONE.sock

G_READ=mxlbt-lo-$$
U_READ=mxlbt-lo-$$
getent group "$G_READ" >/dev/null && die "group $G_READ already exists"
getent passwd "$U_READ" >/dev/null && die "user $U_READ already exists"
groupadd "$G_READ" || die "groupadd $G_READ failed"
at_exit "groupdel $G_READ"
useradd -M -N -g "$G_READ" -d /nonexistent -s /usr/sbin/nologin "$U_READ" ||
	die "useradd $U_READ failed"
at_exit "userdel $U_READ"

as_reader() {	# as_reader CMD...: CMD as the test user, its group only
	setpriv --reuid="$U_READ" --regid="$G_READ" --clear-groups "$@"
}

two_sink_config "$ZONE" "$T_DIR/$ZONE.json"
chmod 644 "$T_DIR/$ZONE.json"
start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
spawn engine "$MXLBD" -z "$ZONE" -c "$T_DIR/$ZONE.json" -f --read-group "$G_READ" \
	--control-idle "$IDLE"
ENGINE_PID=$SPAWNED_PID ENGINE_LOG=$T_DIR/engine.log
wait_log "$ENGINE_LOG" " ready zone=$ZONE " 10 || die "engine not ready; $(tail -3 "$ENGINE_LOG")"
wait_until 10 eval '"$MXLB" check >/dev/null 2>&1' || note "servers not up yet"

# --- the flood ------------------------------------------------------------------
spawn flood as_reader "$SYSPY" "$T_PEERS/ctlflood.py" idle "$SOCK" --conns 1100 --secs 40
FLOOD_PID=$SPAWNED_PID
wait_log "$T_DIR/flood.log" "^ready " 30 || die "the flood did not settle: $(tail -3 "$T_DIR/flood.log")"
t_flood=$(now)
r=$(grep "^ready " "$T_DIR/flood.log")
note "1,100 idle read-only connections: $r"
held=$(kv held "$r")
check "the read-only user got some connections (${held:-?})" test "${held:-0}" -ge 1
check "... at most 32 of them (one uid that is not an admin)" test "${held:-9999}" -le 32
check "the others were refused as busy ($(kv codes "$r"))" eval '[[ "$(kv codes "$r")" == *busy:* ]]'

# --- root meanwhile --------------------------------------------------------------
out=$(timeout -k 5 20 "$MXLB" -c 'show servers' 2>&1)
rc=$?
check_eq "show servers during the flood: exit 0" 0 "$rc"
check "show servers lists s1 and s2" eval 'grep -qw s1 <<<"$out" && grep -qw s2 <<<"$out"'
[ "$rc" = 0 ] || note "show servers: $out"
out=$(timeout -k 5 20 "$MXLB" check 2>&1)
check_eq "mxlb check during the flood: exit 0 ($out)" 0 "$?"
check "server drain mx s1 during the flood" eval 'timeout -k 5 20 "$MXLB" -c "server drain mx s1" >/dev/null'
check "show servers says s1 is draining" eval \
	'timeout -k 5 20 "$MXLB" -c "show servers" 2>&1 | grep -w s1 | grep -qw drain'
check "server ready mx s1" eval 'timeout -k 5 20 "$MXLB" -c "server ready mx s1" >/dev/null'
s=$(smtpload 127.0.0.1 "$FE" -n 20 -c 2 --timeout 5 2>&1 | tail -1)
check_eq "mail flows during the flood: 20 of 20 delivered ($s)" 20 "$(kv delivered "$s")"
since=$(fsub "$(now)" "$t_flood")
check "all of that while the flood held its connections (${since} s; idle timeout $IDLE s)" \
	eval '! grep -q "^closed=" "$T_DIR/flood.log"'

refusals=$(log_count "$ENGINE_LOG" "control: refused $U_READ ")
check "refusals logged at most once a second ($refusals lines)" test "$refusals" -le 10
check "... with a count of the others" log_has "$ENGINE_LOG" "control: refused $U_READ .* more refusals in the last"

# --- idle connections are closed ---------------------------------------------------
check "the engine closes the idle connections (all $held within $((IDLE + 10)) s)" \
	wait_log "$T_DIR/flood.log" "^# end held=$held closed=$held$" $((IDLE + 10))
first=$(sed -n 's/^closed=[0-9]* held=[0-9]* secs=\([0-9.]*\)$/\1/p' "$T_DIR/flood.log" | head -1)
check "... not before the idle timeout (first closed ${first:-?} s after settling; the flood settles in 2 s)" \
	fcmp "${first:-0}" ">=" $((IDLE - 3))
check "engine logged the idle closes" log_has "$ENGINE_LOG" "control: closed [0-9]+ clients? idle for $IDLE s"
# --- a long line from the read-only group (its slots are free again) -------------
out=$(as_reader "$SYSPY" "$T_PEERS/ctlflood.py" bigline "$SOCK" --conns 1 --kb 5 --secs 10 2>&1 | tail -1)
check_eq "a read-only 5 KB line without newline: answered too-long, closed ($out)" \
	"1 1" "$(kv too_long "$out") $(kv closed "$out")"

check "root still gets in after" eval 'timeout -k 5 20 "$MXLB" check >/dev/null'

# --- many read-only users: the admin group's slots stay free ------------------------
# 31 more users of the read group, 32 idle connections each: 992, more than
# the 960 slots (1024 - 64) the read-only group may take.
NU=31
pids=()
for i in $(seq 1 $NU); do
	u=mxlbt-lo$i-$$
	getent passwd "$u" >/dev/null && die "user $u already exists"
	useradd -M -N -g "$G_READ" -d /nonexistent -s /usr/sbin/nologin "$u" || die "useradd $u failed"
	at_exit "userdel $u"
done
for i in $(seq 1 $NU); do
	spawn "many$i" setpriv --reuid="mxlbt-lo$i-$$" --regid="$G_READ" --clear-groups \
		"$SYSPY" "$T_PEERS/ctlflood.py" idle "$SOCK" --conns 32 --secs 30
	pids+=("$SPAWNED_PID")
done
all_ready() {
	local i
	for i in $(seq 1 $NU); do
		grep -q "^ready " "$T_DIR/many$i.log" 2>/dev/null || return 1
	done
}
check "$NU users x 32 connections settled" wait_until 30 all_ready
total=$(cat "$T_DIR"/many*.log | sed -n 's/^ready opened=[0-9]* held=\([0-9]*\) .*/\1/p' | awk '{ n += $1 } END { print n + 0 }')
check_eq "the read-only group holds at most 960 of the 1024 slots" 960 "$total"
check "the others were told why" log_has "$ENGINE_LOG" "the last slots are kept for the admin group"
check "root's mxlb check meanwhile: exit 0" eval 'timeout -k 5 20 "$MXLB" check >/dev/null'
check "root's server drain meanwhile" eval 'timeout -k 5 20 "$MXLB" -c "server drain mx s2; server ready mx s2" >/dev/null'
for p in "${pids[@]}"; do stop_pid "$p"; done
check "engine alive" alive "$ENGINE_PID"

finish
