#!/bin/bash
# The monitor's keys in tmux, as an operator uses them during an incident.
# Zone mk: farm mx, server s1 (maxconn 1) behind smtp-sink, held by one
# slow client from 127.0.0.2 while a second, from 127.0.0.3, waits in its
# queue.
#   - ADDRESS shows the port; LAST CHECK shows the whole check at 160 cols.
#   - l shows the selected server's sessions: the queued client by its
#     address, the connected one; l again goes back; ? lists l.
#   - d asks; the screen keeps refreshing (the clock moves) while it asks;
#     y alone (no Enter) answers it; another key answers no.
#   - / filters as it is typed, and the screen keeps refreshing meanwhile;
#     Escape puts back the filter before, Enter keeps the new one.
. "$(dirname "$0")/../lib.sh"

MXLB=$T_TOP/build/mxlb
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

tmux_server

clock() {
	tm_screen mon | sed -n 1p | grep -Eo '[0-9]{2}:[0-9]{2}:[0-9]{2} *$' | tr -d ' '
}
mxc() {
	timeout -k 5 30 "$MXLB" -c "$1" </dev/null 2>>"$T_DIR/mxc.err"
}

free_ports FE P1
start_sink "$P1" || die "smtp-sink on $P1 did not start"
zone_config "$T_DIR/mk.json" mk
start_engine "$T_DIR/mk.json" || die "engine did not start"
out=$(mxc "farm add mx zone mk probe smtp probe-interval 1 queue-timeout 60;
	server add mx 127.0.0.1 name s1 port $P1 maxconn 1;
	frontend add in zone mk bind $FE address 127.0.0.1 farm mx;
	zone apply mk")
check_eq "config applied" "zone mk: version 2 running" "$out"
wait_port 127.0.0.1 "$FE" 5 || die "frontend not listening"

spawn holder "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$FE" --conns 1 \
	--go "$T_DIR/go" --wait 50 --source 127.0.0.2
wait_log "$T_DIR/holder.log" "^ready 1$" 10 || fail "the holder reached RCPT TO" "$(cat "$T_DIR/holder.log")"
spawn waiter "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$FE" --conns 1 \
	--go "$T_DIR/go" --wait 50 --timeout 50 --source 127.0.0.3

tm new-session -d -s hold -x 80 -y 24 "sleep 3600" || die "tmux did not start"
tm new-session -d -s mon -x 160 -y 40 \
	"env MXLB_RUNDIR=$MXLB_RUNDIR $MXLB monitor" || die "tmux session mon"
check "s1 shown ready and up" wait_until 10 tm_has mon '^[ >]   s1 .* ready +up '
check "s1's queue has the waiting client (Q 1)" wait_until 10 tm_has mon '^[ >]   s1 .* 1 +- |^[ >]   s1 .* 1 +[0-9.]+s '
row=$(grep -E '^[ >]   s1 ' "$T_DIR/mon.screen")
note "s1: $row"
check "ADDRESS shows the port: 127.0.0.1:$P1" eval '[[ $row == *" 127.0.0.1:$P1 "* ]]'
check "LAST CHECK whole at 160 columns: the reply and its latency" \
	eval '[[ $row =~ \ 2[0-9][0-9]\ .*\([0-9]+ms\)\ *$ ]]'

# --- l: the server's sessions --------------------------------------------------

tm send-keys -t mon l
check "l: the sessions of mx/s1, 2 now" \
	wait_until 4 tm_has mon '^sessions of mx/s1 in zone mk: 2 now'
check "l: the title says how s1 learns the client's address (transport plain, source -)" \
	tm_has mon '^sessions of mx/s1 in zone mk: 2 now, transport plain, source - '
check "the client from 127.0.0.3 is listed as queued" \
	tm_has mon '^127\.0\.0\.3:[0-9]+ +in +queued '
check "the client from 127.0.0.2 is listed as connected" \
	tm_has mon '^127\.0\.0\.2:[0-9]+ +in +connected '
tm send-keys -t mon l
check "l again: back to the table" wait_until 3 tm_has mon '^[ >]   s1 .* ready '
tm send-keys -t mon '?'
check "? help lists l" wait_until 3 tm_has mon "^  l +the server's sessions"
tm send-keys -t mon Escape
wait_until 3 tm_has mon '^[ >]   s1 ' || fail "any key closes the help" "$(tm_screen mon | sed -n 3p)"
# --- d asks, the screen keeps refreshing, y alone answers ---------------------

tm send-keys -t mon d
check "d asks: drain mx/s1 in zone mk? [y/N]" \
	wait_until 3 tm_has mon 'drain mx/s1 in zone mk\? \[y/N\]'
c1=$(clock)
moved() { c2=$(clock); [ -n "$c2" ] && [ "$c2" != "$c1" ]; }
check "while it asks the screen refreshes (clock $c1 moves)" wait_until 4 moved
check "still asking after the refresh" tm_has mon 'drain mx/s1 in zone mk\? \[y/N\]'
check "nothing drained before the answer" tm_has mon '^[ >]   s1 .* ready '
tm send-keys -t mon y
check "y alone (no Enter): s1 drains" wait_until 4 tm_has mon '^>   s1 .* drain '
check "the engine has s1 in drain" eval 'mxc "show servers" | grep -Eq "^mx +s1 .* drain "'
tm send-keys -t mon r
wait_until 3 tm_has mon 'ready mx/s1 in zone mk\? \[y/N\]' || fail "r asks" "$(tail -1 "$T_DIR/mon.screen")"
tm send-keys -t mon n
check "another key answers no: nothing done" wait_until 3 tm_has mon 'nothing done'
check "s1 still drains" tm_has mon '^>   s1 .* drain '
tm send-keys -t mon r
wait_until 3 tm_has mon 'ready mx/s1 in zone mk\? \[y/N\]'
tm send-keys -t mon Y
check "Y: s1 ready again" wait_until 4 tm_has mon '^>   s1 .* ready '

# --- / filters as it is typed, the screen refreshing meanwhile ------------------

tm send-keys -t mon /
check "/ opens the filter on the status line" wait_until 3 tm_has mon '^filter: *$'
tm send-keys -t mon -l zzz
check "the filter applies as it is typed: 'zzz' hides s1" \
	wait_until 3 eval '! tm_has mon "^[ >]   s1 " && tm_has mon "^filter: zzz *$"'
c1=$(clock)
check "while the filter is typed the screen refreshes (clock $c1 moves)" wait_until 4 moved
tm send-keys -t mon BSpace BSpace BSpace
tm send-keys -t mon -l s1
check "Backspace edits it: 's1' shows s1" \
	wait_until 3 eval 'tm_has mon "^[ >]   s1 " && tm_has mon "^filter: s1 *$"'
tm send-keys -t mon Enter
check "Enter keeps it: the footer names the filter" wait_until 3 tm_has mon '^filter s1  q quit'
tm send-keys -t mon / ; tm send-keys -t mon -l zzz
wait_until 3 eval '! tm_has mon "^[ >]   s1 "' || fail "a second filter applies as typed" "$(tail -1 "$T_DIR/mon.screen")"
tm send-keys -t mon Escape
check "Escape puts back the filter before (s1): s1 shown, footer says so" \
	wait_until 3 eval 'tm_has mon "^[ >]   s1 " && tm_has mon "^filter s1  q quit"'

touch "$T_DIR/go"
check "monitor-keys: q ends the monitor" eval 'tm send-keys -t mon q; wait_until 3 eval "! tm has-session -t mon 2>/dev/null"'
check "engine still running" alive "$ENGINE_PID"
finish
