#!/bin/bash
# Issue 11, on a terminal: the interactive shell follows its zone's events,
# Ctrl-C never leaves it, and the monitor says a hung engine is not
# answering.  build/mxlb in a detached tmux session (private socket)
# against zone z1 (farm mx, server mx1 behind an smtp-sink):
#  1. an edit, then a line typed and Ctrl-C: the line is gone, the prompt
#     stays, the shell runs, `show diff` still has the edit;
#  2. `server drain mx mx1 wait 30` with a session held open, Ctrl-C:
#     the wait stops, the prompt comes back, `show diff` has the edit;
#  3. `zone apply z1 confirmed 2` left to revert: the shell says so while
#     it waits for input, and its `show zones` has the engine's version;
#  4. a commit by another operator (mxlb -c): a notice with the version;
#  5. the engine stopped, then started again: a notice for each;
#  6. `mxlb --timeout 2 monitor`, the engine stopped by SIGSTOP: the
#     monitor says "not answering" within a few seconds.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
command -v tmux >/dev/null || die "tmux is not installed"
export MXLB_ZONES=/dev/null
sink_zone z1

tmux_mxlb 150 MXLB_ZONES=/dev/null || die "tmux did not start"

alive_shell() {
	[ ! -s "$STATUS" ] && [ "$(tm display-message -p -t shell '#{pane_dead}')" = 0 ]
}
P='mxlb(z1)# '
PSTAR='mxlb(z1)*# '

step "the shell starts: prompt $P" wait_until 5 last_is "$P"

# --- 1. Ctrl-C at the prompt ----------------------------------------------------

input 'farm add keep zone z1'
keys Enter
step "an edit: the prompt has a *" wait_until 5 last_is "$PSTAR"
fresh
input 'farm add junk zone'
keys C-c
step "Ctrl-C at the prompt: the line is dropped, a fresh prompt" wait_until 5 last_is "$PSTAR"
step "Ctrl-C at the prompt: the shell is still running" alive_shell
fresh
input 'show diff'
keys Enter
step "after Ctrl-C, show diff still has the edit" wait_screen '^\+ farm add keep zone z1'
step "after Ctrl-C, the line typed was not run" eval '! screen_has junk'

# --- 2. Ctrl-C during a wait ----------------------------------------------------

exec 5<>"/dev/tcp/127.0.0.1/$FE" || fail "a session through the frontend" "connect"
read -r -t 5 greeting <&5
note "held session: $greeting"
fresh
input 'server drain mx mx1 wait 30'
keys Enter
step "drain ... wait: waiting" wait_screen '^server mx/mx1: drain$'
keys C-c
step "Ctrl-C during the wait: it stops with a % line" wait_screen '^% .*interrupted'
step "Ctrl-C during the wait: the prompt is back" wait_until 5 last_is "$PSTAR"
step "Ctrl-C during the wait: the shell is still running" alive_shell
fresh
input 'show diff'
keys Enter
step "after Ctrl-C in a wait, show diff still has the edit" wait_screen '^\+ farm add keep zone z1'
exec 5>&-
fresh
input 'server ready mx mx1'
keys Enter
step "the shell still talks to the engine" wait_screen '^server mx/mx1: ready$'

# --- 3. a confirmed commit the engine reverts -----------------------------------

fresh
input 'zone apply z1 confirmed 2'
keys Enter
step "zone apply confirmed 2: version 2 running" wait_screen 'version 2 running; reverted in 2 s'
step "the revert is told while the shell waits for input" \
	wait_screen '^% zone z1: version 2 was not confirmed: the engine reverted to version 1' 10
step "after the notice, the prompt is there again" wait_until 5 last_is "$P"
v=$("$MXLB" show zones | awk '$1 == "z1" { print $3 }')
note "the engine runs version $v"
fresh
input 'show zones'
keys Enter
step "show zones has the engine's version ($v), nothing pending" \
	wait_screen "^z1 +up +$v +0\$"
fresh
input 'show running'
keys Enter
step "show running no longer has the reverted farm" eval 'wait_screen "^zone apply z1" && ! screen_has "farm add keep"'

# --- 4. another operator's commit -----------------------------------------------

fresh
"$MXLB" -c 'farm add other zone z1; zone apply z1 comment hello' >"$T_DIR/other.out" 2>&1 ||
	fail "another operator's commit" "$(cat "$T_DIR/other.out")"
v=$("$MXLB" show zones | awk '$1 == "z1" { print $3 }')
step "another operator's commit is told: version $v, by whom, the comment" \
	wait_screen "^% zone z1: version $v committed by $(id -un) \\(hello\\)"
fresh
input 'show candidate'
keys Enter
step "the candidate follows: it has farm other" wait_screen '^farm add other zone z1'

# --- 5. the engine stopped, started again ---------------------------------------

stop_pid "$ENGINE_PID" TERM 10
step "the engine stopped: told" wait_screen '^% zone z1: .*(closed the connection|no engine)' 10
fresh
input 'show zones'
keys Enter
step "show zones has z1 down" wait_screen '^z1 +down '
fresh
input 'show servers'
keys Enter
step "show servers: mx1 with the engine down, not '(not applied)'" \
	wait_screen '^mx +mx1 .*\(engine down\)$'
start_engine -z z1 engine2 || fail "engine restarted" "not ready"
fresh
keys Enter
step "the engine back: told at the next prompt" wait_screen '^% zone z1: engine running \(pid [0-9]+\)'
fresh
input 'show zones'
keys Enter
step "show zones has z1 up again" wait_screen '^z1 +up '

keys C-d
wait_until 5 test -s "$STATUS" || { keys n; }
wait_until 5 test -s "$STATUS" || keys y
step "Ctrl-D leaves (status 0)" eval 'wait_until 5 test -s "$STATUS" && [ "$(cat "$STATUS")" = 0 ]'

# --- 6. the monitor and a hung engine -------------------------------------------

tm new-session -d -s mon -x 150 -y 40 \
	"env MXLB_RUNDIR='$MXLB_RUNDIR' MXLB_ZONES=/dev/null TERM=screen '$MXLB' --timeout 2 monitor" ||
	fail "the monitor starts" "tmux"
step "the monitor shows zone z1 up" wait_until 8 eval 'screen mon | grep -Eq "zones 1/1 up"'
kill -STOP "$ENGINE_PID"
at_exit "kill -CONT $ENGINE_PID 2>/dev/null"
t0=$(date +%s)
step "SIGSTOP: the monitor says z1 is not answering" \
	wait_until 8 eval 'screen mon | grep -q "zone z1: engine not answering within 2 s"'
note "said after $(($(date +%s) - t0)) s"
step "SIGSTOP: the monitor counts the zone down" eval 'screen mon | grep -Eq "zones 0/1 up"'
kill -CONT "$ENGINE_PID"
step "SIGCONT: the monitor has z1 up again" wait_until 8 eval 'screen mon | grep -Eq "zones 1/1 up"'
tm send-keys -t mon q

finish
