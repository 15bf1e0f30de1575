#!/bin/bash
# `mxlb monitor` in tmux against a real zone (m1) with two smtp-sinks behind
# one frontend, read from the screen as an operator reads it: both servers
# up, their TOTAL counting under load; a sink killed shows down (and an
# event) within the probe time; `d` + `y` on the other drains it and its
# sessions fall to 0 once the load stops; a resize to 80x24 and back keeps
# the header, the titles and the rows in place; `q` (and SIGTERM) leave the
# terminal as it was; TERM=vt100 works.
. "$(dirname "$0")/../lib.sh"

INTERVAL=1
FALL=2
SLACK=3		# seconds beyond interval x fall: a probe in flight, one
		# monitor refresh (1 s), capture polling
MXLB=$T_TOP/build/mxlb
free_ports FE P1 P2

[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

# --- tmux on a private socket ----------------------------------------------

tmux_server

screen_lacks() {
	! tm_has "$@"
}

# pane_fmt SESSION FORMAT: a tmux format of the session's pane.
pane_fmt() {
	tm display-message -p -t "$1" "$2" 2>/dev/null
}

# coloured SESSION: the screen has a cell with a foreground colour (SGR
# 30-37) in it.
coloured() {
	tm capture-pane -e -p -t "$1" 2>/dev/null |
		grep -Eq $'\e\\[([0-9]+;)*3[0-7](;[0-9]+)*m'
}

pane_dead() {
	[ "$(pane_fmt "$1" '#{pane_dead}')" = 1 ]
}

# monitor_cmd SESSION [ENV...]: the pane's command, `mxlb monitor` whose
# exit status lands in $T_DIR/SESSION.rc (tmux's #{pane_dead_status} is
# sometimes never set).
monitor_cmd() {
	local s=$1
	shift
	printf "sh -c 'env MXLB_RUNDIR=%s %s %s monitor; echo \$? >%s/%s.rc'" \
		"$MXLB_RUNDIR" "$*" "$MXLB" "$T_DIR" "$s"
}

rc_of() {
	cat "$T_DIR/$1.rc" 2>/dev/null
}

# A server's row: "    NAME  ..." or ">   NAME  ..." when selected.
srv_re() {
	printf '^[ >]   %s +' "$1"
}

# cell FILE ROW-ERE TITLE: the number the first row matching ROW-ERE shows
# under a right-aligned column title (the word that ends where it ends).
cell() {
	awk -v row="$2" -v title="$3" '
	NR == 2 { i = index($0 " ", " " title " "); end = i + length(title) }
	NR > 2 && i && $0 ~ row {
		n = split(substr($0, 1, end), w, " "); print w[n]; exit }' "$1"
}

# The table is whole: header, titles, and between them and the event pane
# only zone, frontend, farm and server rows, nothing wider than the pane.
table_sane() {
	local s=$1 w=$2 h=$3 f=$T_DIR/$1.screen
	tm_screen "$s" >/dev/null || return 1
	[ "$(wc -l <"$f")" -eq "$h" ] || return 1
	awk -v w="$w" 'length($0) > w { exit 1 }' "$f" || return 1
	sed -n 1p "$f" | grep -Eq '^mxlb monitor  zones 1/1 up  sessions [0-9]+' || return 1
	sed -n 2p "$f" | grep -Eq '^  NAME +ADMIN STATE +W +TIER +CUR .*TOTAL .*LAST CHECK' || return 1
	awk 'NR > 2 && /^events/ { exit } NR > 2 && length($0) > 0 &&
	    $0 !~ /^zone m1  engine / && $0 !~ /^  frontend in > mx / &&
	    $0 !~ /^  farm mx / && $0 !~ /^[ >]   s[12] +(ready|drain|maint) +(up|down|nolb) / {
		bad = 1 }
	    END { exit bad }' "$f" || return 1
	# The event pane and the status line at the bottom of this size.
	sed -n "$((h - 6))p" "$f" | grep -q '^events' || return 1
	sed -n "${h}p" "$f" | grep -Eq '^(q quit|mx/s2: )' || return 1
	grep -Eq "$(srv_re s1)ready +down " "$f" &&
		grep -Eq "$(srv_re s2)drain +up " "$f"
}

# --- the zone ---------------------------------------------------------------

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
zone_config "$T_DIR/m1.json" m1
start_engine "$T_DIR/m1.json" || die "engine did not start"
if "$MXLB" -c "farm add mx zone m1 balance roundrobin probe smtp \
	probe-interval $INTERVAL probe-timeout 1 probe-rise 1 probe-fall $FALL \
	connect-timeout 2 queue-timeout 2; \
	server add mx 127.0.0.1 name s1 port $P1; \
	server add mx 127.0.0.1 name s2 port $P2; \
	frontend add in zone m1 bind $FE address 127.0.0.1 farm mx; \
	zone apply m1 comment 'monitor test'" >"$T_DIR/apply.out" 2>&1; then
	ok "config applied with mxlb -c"
else
	die "mxlb -c did not apply the config: $(tr '\n' ' ' <"$T_DIR/apply.out")"
fi
wait_port 127.0.0.1 "$FE" 5 || die "frontend not listening on $FE"

# --- the monitor ------------------------------------------------------------

# A holder session keeps the server up and sets remain-on-exit before the
# monitor starts, so the monitor's pane stays to report how it ended.
tm new-session -d -s hold -x 80 -y 24 "sleep 3600" || die "tmux did not start"
tm set-option -g remain-on-exit on
tm new-session -d -s mon -x 120 -y 40 "$(monitor_cmd mon)" ||
	die "tmux session mon"

if wait_until 10 tm_has mon "$(srv_re s1)ready +up " &&
	wait_until 3 tm_has mon "$(srv_re s2)ready +up "; then
	ok "both servers shown ready and up"
else
	fail "both servers shown ready and up" "screen: $(tm_screen mon | sed -n 1,12p)"
fi
check "header: zone m1 reached" tm_has mon '^mxlb monitor  zones 1/1 up '
check "column titles on the second line" tm_has mon '^  NAME +ADMIN STATE '
check "on a colour terminal (tmux's TERM) the states are coloured" coloured mon
check "the monitor runs in the alternate screen" \
	eval '[ "$(pane_fmt mon "#{alternate_on}")" = 1 ]'

# --- sessions counting under load ---------------------------------------------

spawn load "$T_PY" "$T_PEERS/smtpload.py" 127.0.0.1 "$FE" -d 14 -c 4 \
	--pause 0.05 --timeout 10
LOAD_PID=$SPAWNED_PID
# load_shot FILE [BEFORE]: the screen into FILE; true once both servers'
# TOTAL is above 0 (above BEFORE's, a screen taken earlier) and the farm and
# frontend rows show a rate.
load_shot() {
	local s r a
	tm_screen mon >/dev/null && cp "$T_DIR/mon.screen" "$1" || return 1
	for s in s1 s2; do
		a=0
		[ -n "${2:-}" ] && a=$(cell "$2" "$(srv_re "$s")" TOTAL)
		[ "$(cell "$1" "$(srv_re "$s")" TOTAL)" -gt "${a:-0}" ] 2>/dev/null || return 1
	done
	for r in farm frontend; do
		fcmp "$(cell "$1" "^  $r " /S)" ">" 0 || return 1
	done
}
wait_until 5 load_shot "$T_DIR/load-1.screen"
wait_until 5 load_shot "$T_DIR/load-2.screen" "$T_DIR/load-1.screen"
for s in s1 s2; do
	a=$(cell "$T_DIR/load-1.screen" "$(srv_re "$s")" TOTAL)
	b=$(cell "$T_DIR/load-2.screen" "$(srv_re "$s")" TOTAL)
	note "$s TOTAL: $a then $b"
	check "$s: TOTAL counts up under load ($a -> $b)" \
		eval '[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ]'
done
note "header under load: $(sed -n 1p "$T_DIR/load-2.screen")"
# Sessions per second, for the farm and for the frontend that feeds it.
for r in farm frontend; do
	v=$(cell "$T_DIR/load-2.screen" "^  $r " /S)
	check "$r row: /S above 0 under load (got '$v')" fcmp "${v:-0}" ">" 0
done

# --- a sink dies ---------------------------------------------------------------

t_kill=$(now)
stop_sink "$P1" KILL
if wait_until $((INTERVAL * FALL + SLACK)) tm_has mon "$(srv_re s1)ready +down "; then
	ok "s1 shown down $(fsub "$(now)" "$t_kill")s after its sink was killed (<= $INTERVAL x $FALL + $SLACK)"
else
	fail "s1 shown down within $((INTERVAL * FALL + SLACK)) s" \
		"$(grep -E "$(srv_re s1)" "$T_DIR/mon.screen")"
fi
check "an event line says s1 went down" \
	wait_until 2 tm_has mon 'm1 probe mx/s1 .*-> down'
check "s2 still up" tm_has mon "$(srv_re s2)ready +up "
if [ -f "$T_DIR/mon.screen" ]; then
	check "s1's last check says why it is down" eval \
		'grep -E "$(srv_re s1)" "$T_DIR/mon.screen" | grep -Eiq "refused|connect|timeout|closed"'
fi

# --- drain from the monitor ---------------------------------------------------

# One session held open on s2 (the only server up): drain progress has
# something to count down, whatever the load's short sessions do.
spawn hold "$T_PY" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
print(s.recv(512).decode(errors="replace").strip(), flush=True)
time.sleep(120)' "$FE"
HOLD_PID=$SPAWNED_PID
wait_log "$T_DIR/hold.log" '^220 ' 5 || fail "held session greeted" "$(cat "$T_DIR/hold.log")"

# The selection starts on the first server row (s1); one Down moves it.
tm send-keys -t mon Down
check "Down selects s2" wait_until 3 tm_has mon '^>   s2 '
tm send-keys -t mon d
if wait_until 3 tm_has mon 'drain mx/s2 in zone m1\? \[y/N\]'; then
	ok "d asks first: drain mx/s2 in zone m1? [y/N]"
else
	fail "d asks first" "last line: $(tail -1 "$T_DIR/mon.screen")"
fi
check "nothing drained before the answer" tm_has mon "$(srv_re s2)ready "
tm send-keys -t mon y Enter
check "after y: s2 shows drain" wait_until 4 tm_has mon '^>   s2 +drain +up '
check "an event line records the drain" \
	wait_until 3 tm_has mon 'm1 admin mx/s2 .*-> drain'
check "the engine has s2 in drain" eval \
	'"$MXLB" -c "show servers" | grep -Eq "^mx +s2 .* drain "'

wait_until 30 t_gone "$LOAD_PID" || fail "load client finished" "still running after 30 s"
note "load: $(tail -1 "$T_DIR/load.log")"
if wait_until 4 tm_has mon 'mx/s2: draining, 1 session left'; then
	ok "drain progress: the status line counts the held session"
else
	fail "drain progress counts the held session" "status line: $(tail -1 "$T_DIR/mon.screen")"
fi
# s1 down and s2 drained: the load's new sessions were refused.
check "farm row: the refusals, as 421 no-server N" \
	tm_has mon '^  farm mx .* 421 no-server [1-9][0-9]*'
check_eq "s2's CUR column shows the held session" 1 "$(cell "$T_DIR/mon.screen" "$(srv_re s2)" CUR)"
stop_pid "$HOLD_PID"
if wait_until 5 tm_has mon 'mx/s2: drained, no session left'; then
	ok "drain progress reaches 0: the status line says drained"
else
	fail "drain progress reaches 0" "status line: $(tail -1 "$T_DIR/mon.screen")"
fi
check_eq "s2's CUR column shows 0" 0 "$(cell "$T_DIR/mon.screen" "$(srv_re s2)" CUR)"
check "header: sessions 0 once the load stopped" tm_has mon '^mxlb monitor .* sessions 0 '
cp "$T_DIR/mon.screen" "$T_DIR/idle.screen"

# --- resize ---------------------------------------------------------------------

# resized W H NAME: after a resize to WxH, the table is whole.
resized() {
	tm resize-window -t mon -x "$1" -y "$2"
	if wait_until 4 table_sane mon "$1" "$2"; then
		ok "$3: header, titles and rows intact"
	else
		fail "$3: header, titles and rows intact" "screen:
$(sed 's/^/#   |/' "$T_DIR/mon.screen")"
	fi
}
resized 80 24 "at 80x24"
check "at 80x24: s2 still selected" tm_has mon '^>   s2 +drain '
resized 120 40 "back at 120x40"
check "at 120 columns the wider columns are back (MAX)" \
	tm_has mon '^  NAME .* CUR +MAX +TOTAL '
check_eq "s1's TOTAL the same as before the resize" \
	"$(cell "$T_DIR/idle.screen" "$(srv_re s1)" TOTAL)" "$(cell "$T_DIR/mon.screen" "$(srv_re s1)" TOTAL)"

# --- q --------------------------------------------------------------------------

tm send-keys -t mon q
if wait_until 3 pane_dead mon; then
	ok "q ends the monitor"
	check_eq "its exit status" 0 "$(rc_of mon)"
else
	fail "q ends the monitor" "still running"
fi

# --- a clean shell afterwards ----------------------------------------------------

# In a bash of its own: the terminal modes (stty), the alternate screen and
# the cursor are as they were before the monitor, and the prompt is back.
tm new-session -d -s sh -x 100 -y 30 \
	"env -i PATH=$PATH HOME=$T_DIR TERM=screen MXLB_RUNDIR=$MXLB_RUNDIR PS1='ready\$ ' bash --norc --noprofile -i"
wait_until 5 tm_has sh '^ready\$' || fail "bash in tmux" "no prompt"
tm send-keys -t sh "stty -g >$T_DIR/stty.before; clear" Enter
wait_until 3 test -s "$T_DIR/stty.before"
tm send-keys -t sh "$MXLB monitor; echo monitor-exit=\$?" Enter
check "monitor in bash: drawn" wait_until 8 tm_has sh '^mxlb monitor  zones 1/1 up '
tm send-keys -t sh q
check "after q: the monitor's exit and the prompt are on the screen" \
	wait_until 4 tm_has sh '^monitor-exit=0$'
check "after q: no monitor text left" wait_until 2 screen_lacks sh '^mxlb monitor  zones|LAST CHECK|^q quit'
check_eq "after q: not in the alternate screen" 0 "$(pane_fmt sh '#{alternate_on}')"
check_eq "after q: cursor visible" 1 "$(pane_fmt sh '#{cursor_flag}')"
tm send-keys -t sh "stty -g >$T_DIR/stty.after; echo typed-\$((6 * 7))" Enter
check "after q: what is typed is echoed and run" wait_until 3 tm_has sh '^typed-42$'
check_eq "after q: terminal modes as before (stty -g)" \
	"$(cat "$T_DIR/stty.before" 2>/dev/null)" "$(cat "$T_DIR/stty.after" 2>/dev/null)"

# The same after SIGTERM instead of q.
tm send-keys -t sh "clear; $MXLB monitor; echo monitor-exit=\$?" Enter
wait_until 8 tm_has sh '^mxlb monitor  zones 1/1 up '
bash_pid=$(pane_fmt sh '#{pane_pid}')
mon_pid=$(ps -o pid= --ppid "$bash_pid" | tr -d ' ' | head -1)
if [ -n "$mon_pid" ]; then
	kill -TERM "$mon_pid"
	check "SIGTERM ends the monitor" wait_until 3 t_gone "$mon_pid"
	check "after SIGTERM: the prompt is back" wait_until 3 tm_has sh '^monitor-exit=[0-9]+$'
	check_eq "after SIGTERM: not in the alternate screen" 0 "$(pane_fmt sh '#{alternate_on}')"
	check_eq "after SIGTERM: cursor visible" 1 "$(pane_fmt sh '#{cursor_flag}')"
	tm send-keys -t sh "stty -g >$T_DIR/stty.term" Enter
	wait_until 3 test -s "$T_DIR/stty.term"
	check_eq "after SIGTERM: terminal modes as before" \
		"$(cat "$T_DIR/stty.before" 2>/dev/null)" "$(cat "$T_DIR/stty.term" 2>/dev/null)"
else
	fail "monitor running in bash" "no child of bash ($bash_pid)"
fi

# --- TERM=vt100 --------------------------------------------------------------------

tm new-session -d -s vt -x 80 -y 24 "$(monitor_cmd vt TERM=vt100)"
if wait_until 8 tm_has vt "$(srv_re s1)ready +down " &&
	tm_has vt "$(srv_re s2)drain +up "; then
	ok "TERM=vt100: the states read as words"
else
	fail "TERM=vt100: the states read as words" "screen: $(tm_screen vt | head -12)"
fi
check "TERM=vt100: no colour, the words carry the states" eval '! coloured vt'
check "TERM=vt100: header and titles" eval \
	'tm_has vt "^mxlb monitor  zones 1/1 up " && tm_has vt "^  NAME +ADMIN STATE "'
tm send-keys -t vt q
check "TERM=vt100: q ends it" wait_until 3 pane_dead vt
check_eq "TERM=vt100: exit status" 0 "$(rc_of vt)"


# --- the engine goes away and comes back -------------------------------------------

tm new-session -d -s re -x 100 -y 30 "env MXLB_RUNDIR=$MXLB_RUNDIR $MXLB monitor"
wait_until 8 tm_has re "$(srv_re s2)drain +up " || fail "monitor re drawn" "$(tm_screen re | head -8)"
check "engine still running" alive "$ENGINE_PID"
stop_pid "$ENGINE_PID"
check "engine stopped: the zone shows ENGINE NOT REACHED" \
	wait_until 5 tm_has re '^zone m1  ENGINE NOT REACHED'
check "engine stopped: an event says so" \
	wait_until 2 tm_has re 'engine of zone m1 went away'
check "engine stopped: no stale server rows" screen_lacks re "$(srv_re s2)"
# Restarted without -c: it runs the config it kept (s2 still drained).
start_engine -z m1 engine2 || fail "engine restarted" "$(tail -3 "$ENGINE_LOG")"
check "engine back: the monitor reconnects on its own" \
	wait_until 5 tm_has re '^zone m1  engine '
check "engine back: s2 shown drain again" wait_until 3 tm_has re "$(srv_re s2)drain "
tm send-keys -t re q
check "q ends it" wait_until 3 pane_dead re

check "engine still running" alive "$ENGINE_PID"
finish
