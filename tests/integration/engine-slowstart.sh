#!/bin/bash
# Slow start: a server back in service (from maint, or its probe up again)
# takes a share of new sessions that grows from near 0 to its weight over
# the farm's slowstart (4 s here).  Sessions come at a steady rate; the
# returning server's share is counted per 1-second window and must start
# low and rise to about its weight's share.  `show servers` shows the
# weight in use while it ramps.  With priority tiers, the primary tier
# coming back takes its traffic back gradually from the backup tier.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
RATE=40
free_port; FE=$PORT
free_port; FE2=$PORT
free_port; P1=$PORT
free_port; P2=$PORT

cat >"$T_DIR/ss.json" <<EOF2
{ "zone": "ss",
  "farms": [
    { "name": "mx", "slowstart": 4, "probe": "smtp", "probe-interval": 0.3,
      "probe-timeout": 1, "probe-rise": 1, "probe-fall": 1,
      "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "s1", "weight": 10 },
                   { "address": "127.0.0.1", "port": $P2, "name": "s2", "weight": 10 } ] },
    { "name": "tier", "slowstart": 4, "probe": "none",
      "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "t1", "priority": 10 },
                   { "address": "127.0.0.1", "port": $P2, "name": "t2", "priority": 20 } ] } ],
  "frontends": [
    { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx" },
    { "name": "in2", "bind": "$FE2", "address": ["127.0.0.1"], "farm": "tier" } ] }
EOF2

start_sink "$P1" -h s1.test || die "smtp-sink on $P1 did not start"
start_sink "$P2" -h s2.test || die "smtp-sink on $P2 did not start"
start_engine "$T_DIR/ss.json" || die "engine did not start"

sh_() { timeout 10 "$MXLB" -c "$1" 2>&1; }
# weight_of FARM SERVER: the WEIGHT column of show servers.
weight_of() {
	sh_ "show servers $1" | awk -v s="$2" 'NR > 1 && $2 == s { print $4 }'
}
both_up() {
	[ "$(sh_ 'show servers mx' | awk 'NR > 1 && $7 == "up"' | wc -l)" = 2 ]
}
check "both servers up" wait_until 10 both_up
check_eq "no ramp at start: s1's weight is 10" 10 "$(weight_of mx s1)"

# load FRONTEND-PORT SECONDS OUT: RATE sessions/s; per-window counts in OUT.
load() {
	"$T_PY" "$T_PEERS/rampload.py" 127.0.0.1 "$1" "$2" "$RATE" >"$3"
}
# shares OUT NAME: NAME's share (%) in each window, space-separated.
shares() {
	awk -v n="$2" '{ tot[$1] += $3; if ($2 == n) got[$1] += $3; if ($1 > m) m = $1 }
		END { for (w = 0; w <= m; w++) printf "%s%d", (w ? " " : ""), \
			(tot[w] ? 100 * got[w] / tot[w] : -1); print "" }' "$1"
}
# rising "A B C ...": starts below LO, ends above HI, never falls by more
# than 15 points from one window to the next.
rising() {	# rising LO HI SHARES...
	local lo=$1 hi=$2
	shift 2
	awk -v lo="$lo" -v hi="$hi" -v s="$*" 'BEGIN { n = split(s, v, " ");
		if (n < 5 || v[1] >= lo || v[n] <= hi) exit 1
		for (i = 2; i <= n; i++) if (v[i] < v[i - 1] - 15) exit 1 }'
}

# The monitor, in tmux, shows the weight in use too.
TMUX_SOCK=mxlb-slowstart-$$
tm() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
tm_cleanup() {
	local pid c
	for pid in $(tm list-panes -a -F '#{pane_pid}' 2>/dev/null); do
		for c in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
			stop_pid "$c" TERM 3
		done
		stop_pid "$pid" TERM 3
	done
	tm kill-server 2>/dev/null
}
screen_has() {
	tm capture-pane -p -t "$1" >"$T_DIR/$1.screen" 2>/dev/null &&
		grep -Eq -- "$2" "$T_DIR/$1.screen"
}
MON=0
if command -v tmux >/dev/null; then
	at_exit tm_cleanup
	tm new-session -d -s mon -x 200 -y 30 \
		"env MXLB_RUNDIR=$MXLB_RUNDIR $MXLB monitor" && MON=1
fi
[ "$MON" = 1 ] && check "monitor: s1 up at weight 10" \
	wait_until 10 screen_has mon '^[ >]   s1 .* ready +up +10 '

# --- back from maint, same tier: 0 -> half -----------------------------------
sh_ 'server maint mx s1' >/dev/null
check_eq "s1 in maint" maint "$(sh_ 'show servers mx' | awk 'NR > 1 && $2 == "s1" { print $6 }')"
sh_ 'server ready mx s1' >/dev/null
load "$FE" 5.5 "$T_DIR/maint.out" &
LPID=$!
# Halfway through the ramp the weight in use is below the configured one.
wait_until 3 eval '[ "$(weight_of mx s1)" != 10 ]'
w=$(weight_of mx s1)
check "show servers shows s1 ramping (weight $w)" eval "[[ '$w' =~ ^[0-9]+/10$ ]]"
[ "$MON" = 1 ] && check "monitor: s1's weight in use below 10 while it ramps" \
	wait_until 4 screen_has mon '^[ >]   s1 .* ready +up +[0-9] '
wait "$LPID"
sh1=$(shares "$T_DIR/maint.out" s1.test)
note "s1's share per second after maint -> ready: $sh1"
check "errors: none" eval "! grep -q ' error ' '$T_DIR/maint.out'"
check "s1's share rises from below 30 % to above 38 % (of 50 %)" rising 30 38 $sh1
check_eq "after the ramp: s1 at full weight" 10 "$(weight_of mx s1)"

# --- probe down, then up again ----------------------------------------------
stop_sink "$P1"
check "s1 down" wait_until 5 eval "sh_ 'show servers mx' | awk 'NR > 1 && \$2 == \"s1\" && \$7 == \"down\"' | grep -q ."
start_sink "$P1" -h s1.test || die "smtp-sink on $P1 did not restart"
wait_until 5 eval "sh_ 'show servers mx' | awk 'NR > 1 && \$2 == \"s1\" && \$7 == \"up\"' | grep -q ."
load "$FE" 5.5 "$T_DIR/probe.out"
sh2=$(shares "$T_DIR/probe.out" s1.test)
note "s1's share per second after its probe came up: $sh2"
check "after the probe: s1's share rises from below 30 % to above 38 %" rising 30 38 $sh2

# --- tiers: the primary tier takes its traffic back gradually ---------------
sh_ 'server maint tier t1' >/dev/null
load "$FE2" 1 "$T_DIR/backup.out"
check_eq "t1 in maint: the backup tier takes everything" "0" "$(shares "$T_DIR/backup.out" s1.test)"
sh_ 'server ready tier t1' >/dev/null
load "$FE2" 5.5 "$T_DIR/tier.out"
sh3=$(shares "$T_DIR/tier.out" s1.test)
note "the primary tier's share per second after maint -> ready: $sh3"
check "primary tier's share rises from below 30 % to above 85 %" rising 30 85 $sh3
load "$FE2" 1 "$T_DIR/after.out"
check_eq "after the ramp the primary tier takes everything" "100" "$(shares "$T_DIR/after.out" s1.test)"
# --- the shell: slowstart and agent-port are config fields like the others ---
out=$(sh_ 'farm set mx slowstart 7; server set mx s2 agent-port 8025 agent-interval 2; zone apply ss; show running' )
check "show running has the farm's slowstart 7" eval "grep -Eq 'slowstart 7( |\$)' <<<\"\$out\""
check "show running has s2's agent-port and agent-interval" eval "grep -Eq 'agent-port 8025.*agent-interval 2|agent-interval 2.*agent-port 8025' <<<\"\$out\""
out=$(sh_ 'farm set mx slowstart 5000' )
check "slowstart out of range: a clear error" eval "grep -q 'slowstart 5000 is out of range' <<<\"\$out\""
check "engine still running" alive "$ENGINE_PID"

finish
