#!/bin/bash
# Text from peers never reaches the operator's terminal raw, and a server
# not yet probed says so.
#   1. A backend whose 220 greeting carries an xterm title sequence
#      (ESC ] 0 ; x BEL) and a screen clear (ESC [ 2 J): show servers
#      prints them escaped (\x1b...), and not one ESC byte.
#   2. A commit comment with the same bytes: show history escapes them.
#   3. A new server whose probe is slow (the backend accepts and says
#      nothing): show servers and show stats json say "unchecked" until
#      the probe ends, not "up" with an empty last check; a farm without
#      probe is simply "up".
. "$(dirname "$0")/../lib.sh"

MXLB=$T_TOP/build/mxlb
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"

mxc() {
	timeout -k 5 30 "$MXLB" -c "$1" </dev/null 2>>"$T_DIR/mxc.err"
}

ESC=$'\e'
BAD=$'evil\e]0;x\a\e[2J'

free_ports FE P1 P2 P3
spawn badmx "$T_PY" "$T_PEERS/badmx.py" "$P1" --mode ok --greeting "$BAD"
spawn silent "$T_PY" "$T_PEERS/badmx.py" "$P2" --mode silent
spawn plain "$T_PY" "$T_PEERS/badmx.py" "$P3" --mode ok
wait_port 127.0.0.1 "$P1" 5 && wait_port 127.0.0.1 "$P2" 5 &&
	wait_port 127.0.0.1 "$P3" 5 || die "the fake MX servers did not start"
start_engine -z ze || die "engine for zone ze not ready"

# --- 1. a banner with escape sequences ------------------------------------

out=$(mxc "farm add mx zone ze probe smtp probe-interval 1 probe-timeout 10;
	server add mx 127.0.0.1 name s1 port $P1;
	farm add plain zone ze probe none;
	server add plain 127.0.0.1 name p1 port $P3;
	frontend add in zone ze bind $FE address 127.0.0.1 farm mx;
	zone apply ze")
check_eq "the config applies" "zone ze: version 1 running" "$out"

probed() {
	mxc 'show servers mx' >"$T_DIR/servers.out"
	grep -Eq '^mx +s1 .* up ' "$T_DIR/servers.out"
}
check "s1 is probed up" wait_until 10 probed
note "$(cat -v "$T_DIR/servers.out")"
check "show servers: no raw ESC byte from s1's banner" \
	eval '! grep -q "$ESC" "$T_DIR/servers.out"'
check "show servers: the banner's title sequence shown escaped" \
	grep -qF 'evil\x1b]0;x\x07\x1b[2J' "$T_DIR/servers.out"
check "show servers: a farm without probe is up, not unchecked" \
	grep -Eq '^plain +p1 .* up .*not probed' <(mxc 'show servers plain')

# --- 2. a comment with escape sequences -----------------------------------

printf 'farm set plain balance leastconn\nzone apply ze comment "%s"\n' "$BAD" |
	timeout -k 5 30 "$MXLB" >"$T_DIR/apply.out" 2>&1
check_eq "a commit with that comment applies" "zone ze: version 2 running" \
	"$(cat "$T_DIR/apply.out")"
mxc 'show history ze' >"$T_DIR/history.out"
note "$(cat -v "$T_DIR/history.out")"
check "show history: no raw ESC byte from the comment" \
	eval '! grep -q "$ESC" "$T_DIR/history.out"'
check "show history: the comment shown escaped" \
	grep -qF 'evil\x1b]0;x\x07\x1b[2J' "$T_DIR/history.out"
check "show stats: no raw ESC byte" eval '! mxc "show stats" | grep -q "$ESC"'

# --- 3. a new server, not yet probed --------------------------------------

out=$(mxc "server add mx 127.0.0.1 name slow port $P2; zone apply ze")
check_eq "server slow (accepts, never greets) added" "zone ze: version 3 running" "$out"
mxc 'show servers mx' >"$T_DIR/slow.out"
note "$(grep slow "$T_DIR/slow.out")"
check "show servers: slow is unchecked before its first probe ends" \
	grep -Eq '^mx +slow .* unchecked ' "$T_DIR/slow.out"
check_eq "show stats json: slow's state is unchecked" "unchecked" \
	"$(mxc 'show stats json' | "$T_PY" -c 'import json,sys
for f in json.load(sys.stdin)[0]["farms"]:
    for s in f["servers"]:
        if s["name"] == "slow": print(s["state"])')"
check "metrics: mxlb_server_probe_state unchecked 1 for slow" \
	eval 'mxc "show stats prometheus" | grep -Eq "^mxlb_server_probe_state\{.*server=\"slow\".*state=\"unchecked\"\} 1$"'
down() { mxc 'show servers mx' | grep -Eq '^mx +slow .* down '; }
check "after the probe times out (10 s): slow is down" wait_until 15 down
check "the engine logged the first result as was=unchecked" \
	log_has "$ENGINE_LOG" 'probe farm=mx server=slow state=down was=unchecked'
check "engine still running" alive "$ENGINE_PID"
finish
