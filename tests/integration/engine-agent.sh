#!/bin/bash
# The agent check with a real Postfix queue.  MX s1 is a private Postfix
# whose relayhost answers 4xx (smtp-sink -r RCPT), so the mail it takes
# stays in its deferred queue; `mxlb agent --listen` on the MX reports the
# queue's depth.  As the queue fills, the agent's weight falls, then above
# --drain-above it says drain and new sessions all go to s2 (an
# smtp-sink); show servers, the stats and the metrics carry the queue
# depth.  Once the queue is emptied (postsuper -d ALL), the agent says
# ready again and s1 comes back through slow start.  An agent that stops
# answering changes nothing (HAProxy's rule), and says so.
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/postfix.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
free_port; FE=$PORT
free_port; SMTPD=$PORT
free_port; RELAY=$PORT
free_port; S2=$PORT
free_port; AGENT=$PORT
free_port; BADAGENT=$PORT
PF=$T_DIR/postfix

cat >"$T_DIR/agent.json" <<EOF
{ "zone": "ag",
  "farms": [
    { "name": "mx", "slowstart": 3, "probe": "smtp", "probe-interval": 1,
      "probe-timeout": 2, "probe-rise": 1, "probe-fall": 2,
      "servers": [ { "address": "127.0.0.1", "port": $SMTPD, "name": "s1", "weight": 10,
                     "proxyprotocol": "v1", "agent-port": $AGENT, "agent-interval": 0.3 },
                   { "address": "127.0.0.1", "port": $S2, "name": "s2", "weight": 10 } ] },
    { "name": "hostile", "probe": "none",
      "servers": [ { "address": "127.0.0.1", "port": $S2, "name": "h1",
                     "agent-port": $BADAGENT, "agent-interval": 0.2 } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF

start_sink "$RELAY" -h relay.test -r RCPT || die "relay smtp-sink did not start"
start_sink "$S2" -h s2.test || die "smtp-sink s2 did not start"
postfix_start "$PF" "$SMTPD" || die "private Postfix did not start"
# Mail for elsewhere goes to the relay, which defers it.
postconf -c "$PF/conf" -e "default_transport = smtp" "relay_transport = smtp" \
	"relayhost = [127.0.0.1]:$RELAY" "smtp_helo_name = mx.test.invalid" || die "postconf"
postfix -c "$PF/conf" reload >/dev/null 2>&1 || die "postfix reload"
spawn agent "$MXLB" agent --listen "127.0.0.1:$AGENT" --queue-dir "$PF/queue" \
	--drain-above 10 --ramp 2:10
AGENT_PID=$SPAWNED_PID
wait_port 127.0.0.1 "$AGENT" 5 || die "mxlb agent did not listen"
check_eq "mxlb agent on an empty queue" "ready 100% #queue=0 active=0 deferred=0" \
	"$(timeout 5 "$T_PY" -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])));print(s.makefile().readline().strip())' "$AGENT")"
start_engine "$T_DIR/agent.json" || die "engine did not start"

sh_() { timeout 10 "$MXLB" -c "$1" 2>&1; }
# stat FIELD: s1's FIELD in the engine's stats (via show servers json).
stat() {
	sh_ 'show servers mx json' | "$T_PY" -c 'import json,sys
for s in json.load(sys.stdin):
    if s["server"] == "s1": print((s["engine"] or {}).get(sys.argv[1], ""))' "$1"
}
queued() {	# queued N: s1's agent reported at least N messages
	local q
	q=$(stat mx_queue)
	[ -n "$q" ] && [ "$q" -ge "$1" ]
}
inject() {	# inject N: N messages for the relay, straight into s1's queue
	local i
	for ((i = 0; i < $1; i++)); do
		printf 'Subject: agent test %s\n\nbody\n' "$i" |
			sendmail -C "$PF/conf" -f sender@mx.test.invalid rcpt@remote.example ||
			return 1
	done
}
s1_up() { [ "$(stat state)" = up ] && [ "$(stat agent_text)" != "" ]; }
check "s1 up, its agent answered" wait_until 10 s1_up
check_eq "empty queue: s1's agent weight 100 %" 100 "$(stat agent_weight_pct)"
check_eq "empty queue: mx_queue 0" 0 "$(stat mx_queue)"

# --- the queue fills: the weight falls ---------------------------------------
inject 6 || die "sendmail into the private Postfix failed"
check "6 messages deferred: the agent reports them" wait_until 20 queued 6
check "the relay refused them with 4xx (status=deferred)" \
	wait_log "$PF_MAILLOG" "relay=127\.0\.0\.1\[127\.0\.0\.1\]:$RELAY.*status=deferred" 10
pct=$(stat agent_weight_pct)
check "6 queued: s1's weight falls below 100 % ($pct %)" eval "[ '$pct' -lt 100 ] && [ '$pct' -gt 0 ]"
line=$(sh_ 'show servers mx' | awk '$2 == "s1"')
note "$line"
check "show servers: s1's weight in use is below 10" eval "[[ '$(echo "$line" | awk '{print $4}')' =~ ^[0-9]+/10$ ]]"
check "show servers: s1's agent reply and mx queue beside the check" \
	eval "[[ \"\$line\" == *'| agent: ready '*'#queue='*'| mx queue '* ]]"

if command -v tmux >/dev/null; then
	TMUX_SOCK=mxlb-agent-$$
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
	at_exit tm_cleanup
	tm new-session -d -s mon -x 280 -y 30 "env MXLB_RUNDIR=$MXLB_RUNDIR $MXLB monitor"
	check "monitor: s1's agent reply with its queue beside the check" \
		wait_until 10 screen_has mon '^[ >]   s1 .*\([0-9]+ms\)  agent: ready [0-9]+% #queue=[0-9]+ '
	check "monitor: s1's mx queue after its agent's reply" \
		screen_has mon '^[ >]   s1 .*  agent: ready .* \| mx queue [0-9]+ *$'
	check "monitor: s1's weight in use below 10" \
		screen_has mon '^[ >]   s1 .* ready +up +[0-9] '
fi

# --- past --drain-above: drain, sessions go to s2 ----------------------------
inject 8 || die "sendmail into the private Postfix failed"
check "14 queued (> 10): the agent drains s1" wait_until 20 eval '[ "$(stat agent_state)" = drain ]'
check_eq "s1 not available" False "$(stat available)"
check "engine logs the agent's drain" log_has "$ENGINE_LOG" " agent farm=mx server=s1 state=drain .*reply=\"drain "
sh_ 'show stats prometheus' >"$T_DIR/metrics.txt"
check "metrics: mxlb_server_mx_queue_messages for s1 above 10" \
	awk '/^mxlb_server_mx_queue_messages\{.*server="s1"/ { f = $2 > 10 } END { exit !f }' "$T_DIR/metrics.txt"
check "metrics: s1's effective weight 0" \
	awk '/^mxlb_server_effective_weight\{.*server="s1"/ { f = $2 == 0 } END { exit !f }' "$T_DIR/metrics.txt"
if command -v promtool >/dev/null; then
	check "promtool check metrics: clean" eval "promtool check metrics <'$T_DIR/metrics.txt' >'$T_DIR/promtool.out' 2>&1 && [ ! -s '$T_DIR/promtool.out' ]"
fi
"$T_PY" "$T_PEERS/rampload.py" 127.0.0.1 "$FE" 2 20 >"$T_DIR/drained.out"
check_eq "drained: every new session went to s2" "40" \
	"$(awk '$2 == "s2.test" { n += $3 } END { print n + 0 }' "$T_DIR/drained.out")"

# --- the queue empties: ready again, back through slow start -----------------
postsuper -c "$PF/conf" -d ALL >/dev/null 2>&1
check "queue empty: the agent says ready" wait_until 10 eval '[ "$(stat agent_state)" = ready ] && [ "$(stat mx_queue)" = 0 ]'
w=$(sh_ 'show servers mx' | awk '$2 == "s1" { print $4 }')
check "back: s1 ramps up (show servers weight $w)" eval "[[ '$w' =~ ^[0-9]+/10$ ]]"
"$T_PY" "$T_PEERS/rampload.py" 127.0.0.1 "$FE" 4 20 >"$T_DIR/back.out"
shares=$(awk '{ tot[$1] += $3; if ($2 == "mx.test.invalid") got[$1] += $3 }
	END { for (w = 0; w < 4; w++) printf "%s%d", (w ? " " : ""), (tot[w] ? 100 * got[w] / tot[w] : -1); print "" }' "$T_DIR/back.out")
note "s1's share per second once back: $shares"
check "s1 takes sessions again, more in the last second than the first" \
	awk -v s="$shares" 'BEGIN { split(s, v, " "); exit !(v[4] > v[1] && v[4] >= 30) }'
check "no session failed" eval "! grep -q ' error ' '$T_DIR/back.out' '$T_DIR/drained.out'"

# --- a hostile agent: oversized, garbage, binary, silent ---------------------
# Each reply is served to 4 connections in a row, then the next; the last,
# valid one stays.  None of the bad ones may change anything.
cat >"$T_DIR/badagent.py" <<'PY'
import socket, sys, time
replies = [b"u" * 2000, b"hello world\n", b"down#nospace\n", b"up \x00\x01\xff\n",
           b"", b"ready 50%", b"drain #hostile test\n"]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(8)
n = 0
while True:
    c, _ = ls.accept()
    r = replies[min(n // 4, len(replies) - 1)]
    n += 1
    try:
        c.sendall(r)
    except OSError:
        pass
    c.close()
PY
hstat() {	# hstat FIELD: h1's FIELD
	sh_ 'show servers hostile json' | "$T_PY" -c 'import json,sys
for s in json.load(sys.stdin):
    if s["server"] == "h1": print((s["engine"] or {}).get(sys.argv[1], ""))' "$1"
}
: >"$T_DIR/hostile.texts"
spawn badagent "$T_PY" "$T_DIR/badagent.py" "$BADAGENT"
wait_port 127.0.0.1 "$BADAGENT" 5 || die "the hostile agent did not listen"
hostile_done() {
	hstat agent_text >>"$T_DIR/hostile.texts"
	[ "$(hstat agent_state)" = drain ]
}
check "hostile agent: its last, valid reply drains h1" wait_until 20 hostile_done
check "an oversized reply is refused whole" grep -q '^(bad reply: longer than 512 bytes)$' "$T_DIR/hostile.texts"
check "an unknown word is refused" grep -q '^(bad reply: unknown word "hello")$' "$T_DIR/hostile.texts"
check "a reply without a newline before the close still counts (ready 50%)" \
	grep -qx 'ready 50%' "$T_DIR/hostile.texts"
check "h1's reason kept as said" eval '[ "$(hstat agent_text)" = "drain #hostile test" ]'
check "no bad reply changed h1's state before the drain" \
	eval '[ "$(log_count "$ENGINE_LOG" " agent farm=hostile server=h1 ")" = 1 ]'
note "h1's replies as seen: $(sort -u "$T_DIR/hostile.texts" | tr '\n' '|')"

# --- the agent stops answering: nothing changes ------------------------------
stop_pid "$AGENT_PID"
check "agent gone: its text says so" wait_until 5 eval '[[ "$(stat agent_text)" == "(no reply: "* ]]'
check_eq "agent gone: s1 stays available" True "$(stat available)"
check "engine still running" alive "$ENGINE_PID"

finish
