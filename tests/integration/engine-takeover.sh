#!/bin/bash
# run: alone (it adds a group to the system)
# A restart or an upgrade refuses nobody: `mxlbd -z ZONE --takeover`.
#
# Today's way first: SIGTERM with one idle session open closes the port
# (clients are refused until the session ends) and a second engine refuses
# to start while the first still runs.
#
# Then a zone in front of two smtp-sinks, s2 in drain, one long session
# (slowmail) open on the running engine, and a client connecting every 20 ms
# (greetloop: reads the 220, sends QUIT).  A new engine started with
# --takeover takes the listening and control sockets: no client is refused
# or left without a 220; the old engine refuses commits from then on (over a
# control connection it had before), the new one accepts them; the version
# and the drain carry over (mxlb show zones, show servers); the long session
# delivers through the old engine, which ends after it.
#
# A takeover that fails leaves the running engine serving: a new engine
# that dies holding the sockets (--takeover-die), and a user who may only
# read asking for them (denied, by SO_PEERCRED).  Descriptors that are not
# the listening sockets they are said to be are refused by the new engine.
. "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || die "this suite runs as root (groupadd, setpriv)"
command -v setpriv >/dev/null || die "setpriv (util-linux) is missing"
SYSPY=/usr/bin/python3
[ -x "$SYSPY" ] || die "$SYSPY is missing"
MXLB=${MXLB:-$T_TOP/build/mxlb}
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
ZONE=takeover
SOCK=$MXLB_RUNDIR/$ZONE.sock
CONF=$T_DIR/$ZONE.json
two_sink_config "$ZONE" "$CONF"
chmod 644 "$CONF"
start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
G_READ=mxlbt-tkro-$$
getent group "$G_READ" >/dev/null && die "group $G_READ already exists"
groupadd "$G_READ" || die "groupadd $G_READ failed"
at_exit "groupdel $G_READ"

ctl() { "$T_PY" "$T_PEERS/ctl.py" "$@"; }
engine_pid() { ctl -p result.pid "$SOCK" '{"id":1,"cmd":"hello"}' 2>/dev/null; }
# greeting: the first reply line a client gets on the frontend, or how the
# connection ended.
greeting() {
	local how
	how=$(tcp_read 127.0.0.1 "$FE" 3 "$T_DIR/greet.out" "" 'QUIT\r\n')
	[ "$how" = connect-error ] && { echo "refused"; return; }
	head -1 "$T_DIR/greet.out" | cut -c1-3
}
# zone_version: the VERSION column of `mxlb show zones`.
zone_version() {
	timeout 10 "$MXLB" -c 'show zones' 2>/dev/null | awk -v z="$ZONE" '$1 == z { print $3 }'
}
# admin_of SERVER: the ADMIN column of `mxlb show servers`.
admin_of() {
	timeout 10 "$MXLB" -c 'show servers' 2>/dev/null | awk -v s="$1" '$2 == s { print $6 }'
}

# --- today: SIGTERM with one idle session refuses, a second engine too ----------
start_engine "$CONF" engine0 || die "engine not ready"
OLD0=$ENGINE_PID
spawn idle0 "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$FE" --go "$T_DIR/go0" --wait 20
IDLE0=$SPAWNED_PID
wait_log "$T_DIR/idle0.log" '^ready 1$' 10 || die "no session opened: $(cat "$T_DIR/idle0.log")"
kill -TERM "$OLD0"
wait_log "$ENGINE_LOG" 'stop: signal 15' 5
check_eq "SIGTERM with one idle session: the next client is refused" refused "$(greeting)"
spawn second0 "$MXLBD" -z "$ZONE" -f
wait_until 5 t_gone "$SPAWNED_PID"
check "SIGTERM with one idle session: a second engine refuses to start (already running)" \
	log_has "$T_DIR/second0.log" "already running"
touch "$T_DIR/go0"
wait_until 10 t_gone "$IDLE0"
wait_until 10 t_gone "$OLD0" || die "the old engine did not end after its session"

# --- the takeover ------------------------------------------------------------
free_port; MP=$PORT
spawn engine "$MXLBD" -z "$ZONE" -c "$CONF" -f --read-group "$G_READ" --metrics "127.0.0.1:$MP"
OLD=$SPAWNED_PID ENGINE_LOG=$T_DIR/engine.log
wait_log "$ENGINE_LOG" " ready zone=$ZONE " 10 || die "engine not ready: $(tail -3 "$ENGINE_LOG")"
ctl "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s2","state":"drain"}' >/dev/null
sed 's/"name": "s1" }/"name": "s1", "weight": 2 }/' "$CONF" >"$T_DIR/w2.json"
ctl --commit "$T_DIR/w2.json" --comment "before the takeover" "$SOCK" >/dev/null
VERSION=$(zone_version)
check_eq "before: version 2 running, s2 in drain" "2 drain" "$VERSION $(admin_of s2)"

# An admin's control connection to the old engine, kept across the takeover.
spawn hold "$T_PY" -c '
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rb")
s.sendall(b"{\"id\":1,\"cmd\":\"hello\"}\n"); print(f.readline().decode().strip(), flush=True)
end = time.time() + 30
while not os.path.exists(sys.argv[2]) and time.time() < end: time.sleep(0.05)
s.sendall(b"{\"id\":2,\"cmd\":\"admin\",\"farm\":\"mx\",\"server\":\"s1\",\"state\":\"drain\"}\n")
print(f.readline().decode().strip(), flush=True)' "$SOCK" "$T_DIR/holdgo"
HOLD=$SPAWNED_PID
wait_log "$T_DIR/hold.log" '"id":1,"ok":true' 5

spawn slow "$T_PY" "$T_PEERS/slowmail.py" 127.0.0.1 "$FE" --go "$T_DIR/go1" --wait 30
SLOW=$SPAWNED_PID
wait_log "$T_DIR/slow.log" '^ready 1$' 10 || die "no long session: $(cat "$T_DIR/slow.log")"
delivered_before=$(sink_count "$P1")
spawn loop "$T_PY" "$T_PEERS/greetloop.py" 127.0.0.1 "$FE" --stop "$T_DIR/stop1" --max 40
LOOP=$SPAWNED_PID
wait_log "$T_DIR/loop.log" '^started$' 5 || die "client loop not greeted: $(cat "$T_DIR/loop.log")"

spawn engine2 "$MXLBD" -z "$ZONE" --takeover -f --read-group "$G_READ" --metrics "127.0.0.1:$MP"
NEW=$SPAWNED_PID
wait_log "$T_DIR/engine2.log" "takeover zone=$ZONE done" 10 ||
	die "takeover not done: $(tail -5 "$T_DIR/engine2.log")"
check "the old engine handed the zone over to the new one (its log)" \
	log_has "$ENGINE_LOG" "handover zone=$ZONE to pid=$NEW: no new sessions, [0-9]+ open"
check_eq "the control socket answers with the new engine" "$NEW" "$(engine_pid)"
check "the old engine still runs: its long session is open" alive "$OLD"
check_eq "the metrics port (--metrics) passed over too: it answers" 200 \
	"$("$T_PY" -c 'import sys, urllib.request; print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).status)' "$MP" 2>&1 | tail -1)"
check_eq "the version carries over (mxlb show zones)" "$VERSION" "$(zone_version)"
check_eq "the drain carries over (mxlb show servers)" drain "$(admin_of s2)"
check "the new engine runs the version the old one ran (a file older than the commit is not imported over it)" \
	wait_log "$T_DIR/engine2.log" " ready zone=$ZONE .*running=$VERSION( |$)" 5

touch "$T_DIR/holdgo"
wait_log "$T_DIR/hold.log" '"id":2' 5
check "the old engine refuses changes after the handover, and says why" \
	log_has "$T_DIR/hold.log" '"id":2,"ok":false,"error":\{"code":"state","message":"admin: zone takeover was handed over to a new engine'
kill -HUP "$OLD"
wait_log "$ENGINE_LOG" "reload: zone $ZONE is handed over" 5
check "  nor does a SIGHUP make it import its -c file into the new engine's state" \
	log_has "$ENGINE_LOG" "reload: zone $ZONE is handed over to pid $NEW: ignored"
out=$(ctl --commit "$CONF" --comment "after the takeover" "$SOCK")
check_eq "the new engine accepts commits" "true $((VERSION + 1))" \
	"$("$T_PY" -c 'import json,sys; r = json.loads(sys.argv[1]); print(str(r["ok"]).lower(), r["result"]["version"])' "$out" 2>/dev/null)"

touch "$T_DIR/go1"
wait_until 10 t_gone "$SLOW"
check "the long session opened before the takeover delivers after it" \
	log_has "$T_DIR/slow.log" "delivered=1 failed=0"
check_eq "its message reached the sink" "$((delivered_before + 1))" \
	"$(wait_until 5 eval '[ "$(sink_count "$P1")" -gt "$delivered_before" ]'; sink_count "$P1")"
check "the old engine ends after its last session" wait_until 5 t_gone "$OLD"
check "  and logs so" log_has "$ENGINE_LOG" "stopped zone=$ZONE"

touch "$T_DIR/stop1"
wait_until 10 t_gone "$LOOP"
res=$(tail -1 "$T_DIR/loop.log")
note "client loop: $res"
check_eq "every 20 ms client through the takeover: none refused, none without a 220" \
	"refused=0 not_greeted=0" "$(kv refused "$res" | sed 's/^/refused=/') $(kv not_greeted "$res" | sed 's/^/not_greeted=/')"
check "  and the loop ran through it (at least 25 clients)" [ "$(kv tries "$res")" -ge 25 ]
stop_pid "$HOLD"

# --- a takeover that fails leaves the running engine serving ------------------
ENGINE_LOG=$T_DIR/engine2.log
rm -f "$T_DIR/stop2"
spawn loop2 "$T_PY" "$T_PEERS/greetloop.py" 127.0.0.1 "$FE" --stop "$T_DIR/stop2" --max 40
LOOP2=$SPAWNED_PID
wait_log "$T_DIR/loop2.log" '^started$' 5
spawn engine3 "$MXLBD" -z "$ZONE" --takeover --takeover-die -f
DIE=$SPAWNED_PID
wait_until 10 t_gone "$DIE"
check "a new engine dies holding the sockets: the running one takes the zone back" \
	wait_log "$ENGINE_LOG" "takeover zone=$ZONE by pid $DIE failed: it went away" 5
check_eq "  it still answers on the control socket" "$NEW" "$(engine_pid)"
check_eq "  it still greets clients" 220 "$(greeting)"
out=$(ctl "$SOCK" '{"id":1,"cmd":"admin","farm":"mx","server":"s2","state":"ready"}')
check "  it accepts changes again" log_has <(echo "$out") '"ok":true'
check_eq "  (mxlb show servers)" ready "$(admin_of s2)"

out=$(setpriv --reuid=nobody --regid="$G_READ" --clear-groups "$SYSPY" "$T_PEERS/ctl.py" "$SOCK" '{"id":1,"cmd":"takeover"}')
check "a user who may only read asks for the sockets: denied" \
	log_has <(echo "$out") '"code":"denied"'
check "  and the engine logs the refusal" log_has "$ENGINE_LOG" "refused takeover to nobody"
check_eq "  it still greets clients" 220 "$(greeting)"
check "  it accepts changes" eval "ctl '$SOCK' '{\"id\":1,\"cmd\":\"admin\",\"farm\":\"mx\",\"server\":\"s1\",\"state\":\"ready\"}' >/dev/null"

# A peer on the control socket that sends descriptors that are not what it
# says: the new engine refuses each, says why, and does not start.
FAKE=$T_DIR/fake
mkdir -p "$FAKE"
free_port; FP=$PORT
free_port; OTHER=$PORT
for kind in udp not-listening other-port not-tcp; do
	rm -f "$FAKE/fake.sock"
	spawn "fake-$kind" "$T_PY" -c '
import json, os, socket, sys
path, kind, port, other = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(1)
if kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", port))
elif kind == "not-tcp":
    s = socket.socket(socket.AF_UNIX); s.bind(path + ".2"); s.listen(1)
else:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", other if kind == "other-port" else port))
    if kind == "other-port": s.listen(1)
c, _ = srv.accept(); c.recv(4096)
r = {"id": 1, "ok": True, "result": {"listeners": [{"address": "127.0.0.1", "port": port,
     "frontend": "in"}], "pid": os.getpid(), "running": 1, "version": "fake"}}
c.sendall(json.dumps(r).encode() + b"\n")
socket.send_fds(c, [b"F"], [s.fileno(), srv.fileno()])
c.settimeout(10); c.recv(1)' "$FAKE/fake.sock" "$kind" "$FP" "$OTHER"
	wait_until 5 test -S "$FAKE/fake.sock"
	spawn "takeover-$kind" "$MXLBD" -z fake --takeover -f --rundir "$FAKE" --statedir "$FAKE/state"
	wait_until 10 t_gone "$SPAWNED_PID"
	check "a $kind socket sent for a frontend is refused, and the engine does not start" \
		eval "log_has '$T_DIR/takeover-$kind.log' 'the socket sent for 127.0.0.1:$FP is refused: ' &&
		log_has '$T_DIR/takeover-$kind.log' 'zone fake not started'"
done
note "$(grep -ho 'is refused: .*' "$T_DIR"/takeover-*.log | tr '\n' ';')"

touch "$T_DIR/stop2"
wait_until 10 t_gone "$LOOP2"
res=$(tail -1 "$T_DIR/loop2.log")
note "client loop: $res"
check_eq "every 20 ms client through the failed takeovers: none refused, none without a 220" \
	"0 0" "$(kv refused "$res") $(kv not_greeted "$res")"
check "the new engine is still running" alive "$NEW"

finish
