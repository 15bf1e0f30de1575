#!/bin/bash
# Issue 14: transparent mode (farm source client) across real routing.
#
# Three namespaces of this run (tests/peers/tproxy-net.sh): a client
# 192.0.2.10, the balancer (192.0.2.1 to the client, 198.51.100.1 to the
# server, policy routing that delivers the server's replies locally, no
# forwarding) and a server 198.51.100.10 whose default route is the
# balancer.  A real Postfix in the server namespace, with no PROXY and no
# XCLIENT, behind the engine in the balancer namespace.
#
#  1. The SMTP probe brings the server up, from the balancer's own address:
#     Postfix logs its connects from 198.51.100.1.
#  2. swaks in the client namespace: the mail is delivered, and Postfix
#     logs the client as 192.0.2.10 (client=unknown[192.0.2.10]).
#  3. Sessions held open: the server's socket has the client's own
#     address and port as its peer; a second session from the same port
#     (to another frontend) still gets through, from the client's address
#     and another port; `show sessions` says source client; the session
#     line says source=client.
#  4. The same farm without source: Postfix sees 198.51.100.1 (what the
#     test would see without the feature).
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/postfix.sh"
. "$T_PEERS/tproxy-net.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
command -v swaks >/dev/null || die "swaks is not installed"
command -v postfix >/dev/null || die "postfix is not installed"

if ! tp_net_up; then
	if [ -z "$TP_WHY" ] || [ "$TP_WHY" = "needs root for network namespaces" ] ||
		[ "${TP_WHY#ip netns does not work}" != "$TP_WHY" ]; then
		note "skipped: $TP_WHY"
		finish
	fi
	die "namespaces: $TP_WHY"
fi

free_port; FE=$PORT
free_port; FE2=$PORT
free_port; SMTPD=$PORT
PF=$T_DIR/postfix

# --- Postfix in the server namespace --------------------------------------------

# The private instance of tests/peers/postfix.sh, listening on the server's
# address with no PROXY.  mynetworks is the client's network: the test mail
# is for a local domain anyway, so nothing depends on relay rights.
mkdir -p "$PF/conf" "$PF/queue" "$PF/data"
chmod 755 "$PF" "$PF/conf"
chown postfix "$PF/data"
pf_main_cf "$PF" | sed -e 's/^inet_interfaces = .*/inet_interfaces = all/' \
	-e '/^postscreen_/d' >"$PF/conf/main.cf"
{
	echo "$TP_SERVER:$SMTPD inet n - n - - smtpd"
	pf_master_cf "$SMTPD" | tail -n +2
} >"$PF/conf/master.cf"
MAILLOG=$PF/maillog
at_exit postfix_stop "$PF"
tp_nsx "$TP_NS_S" postfix -c "$PF/conf" start >>"$PF/postfix.out" 2>&1 ||
	die "postfix did not start: $(tail -3 "$PF/postfix.out" "$MAILLOG" 2>/dev/null | tr '\n' ' ')"
pf_up() {
	[ -n "$(tp_nsx "$TP_NS_S" ss -Hltn "src $TP_SERVER:$SMTPD")" ]
}
wait_until 10 pf_up || die "postfix does not listen on $TP_SERVER:$SMTPD"
ok "Postfix listens on $TP_SERVER:$SMTPD in the server namespace (no PROXY, no XCLIENT)"

# --- the engine in the balancer namespace -------------------------------------------

cat >"$T_DIR/tp.json" <<EOF
{ "zone": "tp",
  "farms": [ { "name": "pf", "source": "client", "probe": "smtp",
               "probe-interval": 1, "probe-timeout": 3, "probe-rise": 1,
               "probe-fall": 2, "probe-helo": "probe.mxlb.test", "connect-timeout": 3,
               "servers": [ { "address": "$TP_SERVER", "port": $SMTPD, "name": "mx1" } ] },
             { "name": "plain", "probe": "none",
               "servers": [ { "address": "$TP_SERVER", "port": $SMTPD, "name": "mx1" } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "address": ["$TP_FRONT"], "farm": "pf" },
                 { "name": "in2", "bind": "$FE2", "address": ["$TP_FRONT"], "farm": "pf" } ] }
EOF
spawn engine ip netns exec "$TP_NS_B" "$MXLBD" -z tp -c "$T_DIR/tp.json" -f
ENGINE_PID=$SPAWNED_PID
ENGINE_LOG=$T_DIR/engine.log
wait_log "$ENGINE_LOG" " ready zone=tp( |$)" 10 || die "engine not ready in 10 s"

mxc() {
	timeout -k 5 60 "$MXLB" -c "$1" </dev/null >"$T_DIR/mxc.out" 2>"$T_DIR/mxc.err"
}
server_up() {
	mxc 'show servers pf' && grep -qE '^pf +mx1 .* up ' "$T_DIR/mxc.out"
}

# --- 1. the probe ----------------------------------------------------------------------

check "the probe brings mx1 up" wait_until 10 server_up
[ -s "$T_DIR/mxc.out" ] && sed 's/^/#   /' "$T_DIR/mxc.out"
check "Postfix saw the probe from the balancer's own address (connect from unknown[$TP_BACK])" \
	wait_log "$MAILLOG" "smtpd\[[0-9]+\]: connect from [^ ]*\[198\.51\.100\.1\]" 5

# --- 2. mail from the client namespace -------------------------------------------------

out=$T_DIR/swaks.out
if tp_nsx "$TP_NS_C" swaks --server "$TP_FRONT:$FE" --timeout 20 --from c@mxlb.test \
	--to user@mx.test.invalid --helo client.mxlb.test >"$out" 2>&1; then
	ok "swaks in the client namespace: the mail is accepted"
else
	fail "swaks in the client namespace: the mail is accepted" "$(grep -E '^(<\*\*|\*\*\*)' "$out" | head -2 | tr '\n' ' ')"
fi
qid=$(sed -n 's/.*250 2.0.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$out" | head -1)
check "Postfix logs the client's own address ($qid: client=unknown[$TP_CLIENT])" \
	wait_log "$MAILLOG" "postfix/smtpd\[[0-9]+\]: ${qid:-none}: client=[^ ]*\[192\.0\.2\.10\]" 5
check "Postfix delivered it (status=sent)" \
	wait_log "$MAILLOG" ": ${qid:-none}: to=<user@mx.test.invalid>.* status=sent" 5
check "session line: client $TP_CLIENT, server mx1, source=client" \
	wait_log "$ENGINE_LOG" " session client=192\.0\.2\.10:[0-9]+ frontend=in farm=pf server=mx1 .* source=client .* end=closed$" 5

# --- 3. the client's address and port ----------------------------------------------------

# A client that holds two sessions from one address and port, to the two
# frontends (a client may reuse a port towards another destination): prints
# the port once both got the server's greeting, then waits (30 s at most)
# for the file "release".  The engine cannot use that port twice towards
# the same server: the second session takes another port, but still the
# client's address.
spawn hold ip netns exec "$TP_NS_C" "$T_PY" -c '
import os, socket, sys, time
def conn(port, lport):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("", lport))
    s.settimeout(15)
    s.connect((sys.argv[1], port))
    return s
a = conn(int(sys.argv[2]), 0)
p = a.getsockname()[1]
b = conn(int(sys.argv[3]), p)
print("port %d %s %s" % (p, a.recv(512)[:3].decode(), b.recv(512)[:3].decode()), flush=True)
end = time.time() + 30
while not os.path.exists(sys.argv[4]) and time.time() < end:
    time.sleep(0.05)
' "$TP_FRONT" "$FE" "$FE2" "$T_DIR/release"
HOLD_PID=$SPAWNED_PID
wait_log "$T_DIR/hold.log" "^port [0-9]+ [0-9]+ [0-9]+$" 10
cport=$(awk '/^port/ { print $2 }' "$T_DIR/hold.log")
check_eq "both held sessions from port ${cport:-?} got Postfix's 220" "220 220" \
	"$(awk '/^port/ { print $3, $4 }' "$T_DIR/hold.log")"
peers=$(tp_nsx "$TP_NS_S" ss -Htn state established "sport = :$SMTPD" | awk '{ print $4 }')
note "server's peers: $(echo $peers)"
check_eq "the server's socket has the client's own address and port as its peer" \
	"$TP_CLIENT:$cport" "$(echo "$peers" | grep -Fx "$TP_CLIENT:$cport")"
check_eq "the other session: the client's address too, another port" 2 \
	"$(echo "$peers" | grep -c "^192\.0\.2\.10:")"
mxc 'show sessions'
sed 's/^/#   /' "$T_DIR/mxc.out"
check "show sessions: the held sessions, source client" \
	eval '[ "$(grep -cE "^192\.0\.2\.10:$cport +in2? +pf +mx1 .* client$" "$T_DIR/mxc.out")" = 2 ]'
touch "$T_DIR/release"
check "the held client ends when told" wait_until 10 t_gone "$HOLD_PID"

# --- 4. the same without source -----------------------------------------------------

mxc 'frontend set in farm plain; zone apply tp'
check_eq "frontend in to farm plain (no source): exit 0" 0 "$?"
mark=$(log_count "$MAILLOG" "connect from [^ ]*\[198\.51\.100\.1\]")
tp_nsx "$TP_NS_C" swaks --server "$TP_FRONT:$FE" --timeout 20 --from c@mxlb.test \
	--to user@mx.test.invalid --helo client.mxlb.test >"$out" 2>&1
check "without source, Postfix sees the balancer ($TP_BACK), not the client" \
	wait_until 5 eval '[ "$(log_count "$MAILLOG" "connect from [^ ]*\[198\.51\.100\.1\]")" -gt "$mark" ]'
check "session line: source=-" \
	wait_log "$ENGINE_LOG" " session client=192\.0\.2\.10:[0-9]+ frontend=in farm=plain .* source=- .* end=closed$" 5
check_eq "client connects from $TP_CLIENT: the 3 transparent sessions, not the plain one" 3 \
	"$(log_count "$MAILLOG" "smtpd\[[0-9]+\]: connect from [^ ]*\[192\.0\.2\.10\]")"

finish
