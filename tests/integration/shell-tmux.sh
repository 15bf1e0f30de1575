#!/bin/bash
# The interactive shell on a terminal, as an operator types it: build/mxlb
# in a detached tmux session (private socket, 120x40) against a real engine
# with a small config applied.  `farm ?` lists add and set with their help;
# `s` + TAB lists server and show; `sh` + TAB completes to `show `; `sh zo`
# runs show zones; an error prints a `%` line and the prompt stays; an edit
# puts `*` in the prompt; Ctrl-D then asks "Leave anyway? [y/N]", `n` keeps
# the shell; `zone apply` clears the `*` and the engine runs the edit;
# Ctrl-D leaves (the process ends, status 0); started again, Up recalls the
# lines typed before.  Every step clears the screen first (Ctrl-L) and waits,
# at most a few seconds, for what the operator would see.
. "$(dirname "$0")/../lib.sh"

MXLB=$T_TOP/build/mxlb
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
command -v tmux >/dev/null || die "tmux is not installed"
free_ports FE SRV

start_engine -z z1 || die "engine z1 not ready in 10 s"
out=$("$MXLB" -c "farm add mx zone z1 probe none;
	server add mx 127.0.0.1 name mx1 port $SRV;
	server add mx 127.0.0.2 name mx2 port $SRV;
	frontend add in zone z1 bind $FE address 127.0.0.1 farm mx;
	zone apply z1" 2>&1)
check_eq "the config applies through mxlb -c" "zone z1: version 1 running" "$out"

# --- the terminal -----------------------------------------------------------

# mxlb in a private tmux, 120 x 40; the pane stays after mxlb ends, so that
# its end can be seen.  HOME: the history file and ~/.editrc are the
# suite's, not the user's.
tmux_mxlb 120 || die "tmux did not start"

pane_dead() {
	[ "$(tm display-message -p -t shell '#{pane_dead}' 2>/dev/null)" = 1 ]
}

P='mxlb(z1)# '
PSTAR='mxlb(z1)*# '

step "the shell starts with its banner and the prompt $P" \
	wait_screen "^mxlb 1 zone; 'help' lists the commands, '\?' what may come next\.\$"
step "the prompt is '$P'" wait_last "$P"

# --- ? and TAB ---------------------------------------------------------------

fresh
input 'farm ?'
step "farm ? lists add with its help" \
	wait_screen '^  add +create a farm: a pool of mail servers and how to use them$'
step "farm ? lists set with its help" \
	screen_has "^  set +change a farm's attributes \(no ATTRIBUTE resets one\)\$"
step "farm ? lists nothing else" eval '[ "$(screen | grep -c "^  ")" -eq 2 ]'
step "after ?, the line typed is still there to go on with" wait_last "${P}farm "
keys C-u

fresh
input 's'
keys Tab
step "s + TAB lists server and show, with their help" \
	wait_screen '^  show +show configs, state and counters$'
step "s + TAB: server is listed" screen_has '^  server +servers of a farm$'
step "s + TAB keeps the line as typed" wait_last "${P}s"
keys C-u

fresh
input 'sh'
keys Tab
step "sh + TAB completes to 'show '" wait_last "${P}show "
input 'zo'
keys Tab
step "show zo + TAB completes to 'show zones '" wait_last "${P}show zones "
keys C-u

# --- commands -----------------------------------------------------------------

fresh
input 'sh zo'
keys Enter
step "sh zo runs show zones: the header" \
	wait_screen '^ZONE +ENGINE +VERSION +PENDING$'
step "sh zo runs show zones: zone z1, engine up, version 1, nothing pending" \
	wait_screen '^z1 +up +1 +0$'
step "the prompt comes back" wait_last "$P"

fresh
input 'farm set mx weight 5'
keys Enter
step "an error prints a % line saying what is wrong" \
	wait_screen '^% unknown or repeated option "weight" \(expected: zone, balance, .*probe-helo.*\)$'
step "after the error the prompt stays, without *: nothing changed" wait_last "$P"

fresh
input 'farm set mx balance leastconn'
keys Enter
step "an edit puts * in the prompt" wait_last "$PSTAR"

# --- leaving with edits not applied ------------------------------------------

fresh
keys C-d
step "Ctrl-D with edits not applied asks first" \
	wait_screen '^Edits are not applied \(show diff\)\. Leave anyway\? \[y/N\] ?$'
input 'n'
keys Enter
step "answering n keeps the shell, edits pending" wait_last "$PSTAR"
step "answering n keeps the shell running" eval '! pane_dead'

fresh
input 'zone apply'
keys Enter
step "zone apply shows the new version" wait_screen '^zone z1: version 2 running$'
step "zone apply clears the * from the prompt" wait_last "$P"
check_eq "the engine runs the edit (mxlb -c 'show running')" \
	"farm add mx zone z1 balance leastconn probe none" \
	"$("$MXLB" -c 'show running' 2>&1 | grep '^farm add mx ')"

fresh
keys C-d
step "Ctrl-D with nothing pending leaves: the process ends" wait_until 5 pane_dead
check_eq "mxlb exits with status 0" 0 "$(cat "$STATUS" 2>/dev/null)"
step "the prompt did not ask again" eval '! screen_has "Leave anyway"'

# --- history ------------------------------------------------------------------

# The next session recalls the lines typed in this one (~/.mxlb_history).
check "the history file is written" test -s "$T_DIR/.mxlb_history"
rm -f "$STATUS"
tm respawn-pane -t shell "$T_DIR/run-mxlb" ||
	fail "mxlb starts again" "tmux respawn-pane failed"
step "mxlb starts again" wait_last "$P"
keys Up
step "Up recalls the last line of the previous session" \
	wait_last "${P}zone apply"
keys Up
step "Up again recalls the one before" \
	wait_last "${P}farm set mx balance leastconn"
keys C-u C-d
step "Ctrl-D on an empty line leaves" wait_until 5 pane_dead
check_eq "mxlb exits with status 0 again" 0 "$(cat "$STATUS" 2>/dev/null)"

finish
