#!/bin/bash
# XCLIENT (issue 14): the engine reads the server's greeting, says EHLO,
# sends XCLIENT and hands the client the server's new 220, nothing of the
# exchange before it.
#  1. A real Postfix with smtpd_authorized_xclient_hosts = 127.0.0.1 and a
#     relay restriction that lets only 127.0.0.2 relay: swaks from
#     127.0.0.2 through the engine relays a message, Postfix logs
#     client=...[127.0.0.2], swaks sees one 220 (Postfix's) and no XCLIENT.
#  2. A Postfix port without the authorization (it does not offer XCLIENT;
#     asked anyway, it answers 550): the probe shows it down with the 550
#     text; sessions go to the other server.  A server that knows nothing of
#     XCLIENT (502): sessions redispatched, the log says why.
#  3. A server that refuses XCLIENT (550 5.7.0 insufficient authorization,
#     tests/peers/badmx.py): sessions redispatched, the log says why, the
#     probe marks it down with the 550 as its last check.
#  4. The exact command (ADDR, PORT, DESTADDR, DESTPORT, NAME; IPV6: for an
#     IPv6 client), and the transport in stats, the session log, `show
#     servers`, `show sessions` and the metrics.
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/postfix.sh"

free_port; FE_OK=$PORT		# -> Postfix, authorised
free_port; FE_NO=$PORT		# -> Postfix, not authorised; sink
free_port; FE_REF=$PORT		# -> badmx refusing XCLIENT; sink
free_port; FE_X=$PORT		# -> badmx accepting XCLIENT
free_port; SMTPD=$PORT		# PROXY port of postfix.sh (unused here)
free_port; PX=$PORT		# smtpd, XCLIENT authorised for 127.0.0.1
free_port; PN=$PORT		# smtpd, no XCLIENT authorisation
free_port; PREF=$PORT
free_port; PBX=$PORT
free_port; PNOX=$PORT		# badmx without XCLIENT
free_port; FE_NOX=$PORT
free_port; PSINK=$PORT
PF=$T_DIR/postfix
ZONE=xc
SOCK=$MXLB_RUNDIR/$ZONE.sock
CTL=("$T_PY" "$T_PEERS/ctl.py" -t 5)

export PF_MASTER_EXTRA="127.0.0.1:$PX inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=127.0.0.1 -o mynetworks=127.0.0.2/32 -o smtpd_relay_restrictions=permit_mynetworks,reject_unauth_destination
127.0.0.1:$PN inet n - n - - smtpd"

probe='"probe": "smtp", "probe-interval": 1, "probe-timeout": 3, "probe-rise": 2, "probe-fall": 2, "probe-helo": "probe.mxlb.test", "greeting-timeout": 5'
cat >"$T_DIR/xc.json" <<EOF
{ "zone": "$ZONE",
  "farms": [
    { "name": "ok", $probe,
      "servers": [ { "address": "127.0.0.1", "port": $PX, "name": "pfx", "xclient": true } ] },
    { "name": "no", $probe,
      "servers": [ { "address": "127.0.0.1", "port": $PN, "name": "pfn", "xclient": true },
                   { "address": "127.0.0.1", "port": $PSINK, "name": "sink" } ] },
    { "name": "ref", "probe": "none", "greeting-timeout": 5,
      "servers": [ { "address": "127.0.0.1", "port": $PREF, "name": "refuser", "xclient": true },
                   { "address": "127.0.0.1", "port": $PSINK, "name": "sink" } ] },
    { "name": "refp", $probe,
      "servers": [ { "address": "127.0.0.1", "port": $PREF, "name": "refuser", "xclient": true } ] },
    { "name": "nox", "probe": "none",
      "servers": [ { "address": "127.0.0.1", "port": $PNOX, "name": "nox", "xclient": true },
                   { "address": "127.0.0.1", "port": $PSINK, "name": "sink" } ] },
    { "name": "bx", "probe": "none",
      "servers": [ { "address": "127.0.0.1", "port": $PBX, "name": "bx", "xclient": true } ] } ],
  "frontends": [
    { "name": "in-ok", "bind": "$FE_OK", "address": ["127.0.0.1"], "farm": "ok" },
    { "name": "in-no", "bind": "$FE_NO", "address": ["127.0.0.1"], "farm": "no" },
    { "name": "in-ref", "bind": "$FE_REF", "address": ["127.0.0.1"], "farm": "ref" },
    { "name": "in-nox", "bind": "$FE_NOX", "address": ["127.0.0.1"], "farm": "nox" },
    { "name": "in-x", "bind": "$FE_X", "address": ["127.0.0.1", "::1"], "farm": "bx" } ] }
EOF

check "mxlbd -n refuses xclient with proxyprotocol" eval \
	'sed "s/\"name\": \"pfx\", \"xclient\": true/\"name\": \"pfx\", \"xclient\": true, \"proxyprotocol\": \"v2\"/" "$T_DIR/xc.json" >"$T_DIR/bad.json" &&
	 ! "$MXLBD" -n -z $ZONE -c "$T_DIR/bad.json" >"$T_DIR/bad.out" 2>&1 &&
	 grep -q "farm ok: server pfx: xclient and proxyprotocol v2 exclude each other" "$T_DIR/bad.out"'

postfix_start "$PF" "$SMTPD" || die "private Postfix did not start"
MAILLOG=$PF_MAILLOG
wait_port 127.0.0.1 "$PX" 5 || die "Postfix not listening on $PX"
wait_port 127.0.0.1 "$PN" 5 || die "Postfix not listening on $PN"
start_sink "$PSINK" || die "smtp-sink did not start"
spawn refuser "$T_PY" "$T_PEERS/badmx.py" "$PREF" --xclient refuse
spawn bx "$T_PY" "$T_PEERS/badmx.py" "$PBX" --xclient
wait_port 127.0.0.1 "$PREF" 5 || die "badmx (refuse) did not start"
wait_port 127.0.0.1 "$PBX" 5 || die "badmx (xclient) did not start"
spawn nox "$T_PY" "$T_PEERS/badmx.py" "$PNOX"
wait_port 127.0.0.1 "$PNOX" 5 || die "badmx (no xclient) did not start"
start_engine "$T_DIR/xc.json" || die "engine did not start"

# stat FARM SERVER KEY: a server's field in the engine's stats.
stat() {
	"${CTL[@]}" "$SOCK" '{"id":1,"cmd":"stats"}' | "$T_PY" -c '
import json, sys
farm, srv, key = sys.argv[1:4]
r = json.loads(sys.stdin.readline())["result"]
for f in r["farms"]:
    for s in f["servers"]:
        if f["name"] == farm and s["name"] == srv:
            v = s
            for k in key.split("."):
                v = v[k]
            print(v)' "$@"
}

# --- 1. Postfix, authorised -------------------------------------------------
check "probe: the authorised Postfix is up" \
	wait_until 10 eval '[ "$(stat ok pfx state)" = up ]'
out=$T_DIR/swaks-ok.out
if swaks --server "127.0.0.1:$FE_OK" --local-interface 127.0.0.2 --timeout 20 \
	--from x@mxlb.test --to "user@elsewhere.example" --helo client.mxlb.test >"$out" 2>&1; then
	ok "swaks from 127.0.0.2 relays through the engine and XCLIENT"
else
	fail "swaks from 127.0.0.2 relays through the engine and XCLIENT" \
	    "$(grep -E '^(<\*\*|\*\*\*)' "$out" | head -2 | tr '\n' ' ')"
fi
qid=$(sed -n 's/.*250 2.0.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$out" | head -1)
check "Postfix logs the client as 127.0.0.2 ($qid: client=...[127.0.0.2])" \
	wait_log "$MAILLOG" "postfix/smtpd\[[0-9]+\]: ${qid:-none}: client=[^ ]*\[127\.0\.0\.2\]" 5
check "Postfix relayed it (status=sent)" \
	wait_log "$MAILLOG" ": ${qid:-none}: to=<user@elsewhere.example>.* status=sent" 5
check_eq "the client saw one greeting, Postfix's 220" 1 \
	"$(grep -c '^<- *220 mx.test.invalid ESMTP Postfix' "$out")"
check "... and nothing of the XCLIENT exchange" eval '! grep -qi xclient "$out"'
check "the session log says transport=xclient" \
	wait_log "$ENGINE_LOG" " session client=127\.0\.0\.2:[0-9]+ frontend=in-ok .*transport=xclient .*end=closed" 3
# Another client through the engine may not relay: Postfix judges the
# address XCLIENT gave, and the client's own EHLO set HELO and PROTO.
swaks --server "127.0.0.1:$FE_OK" --local-interface 127.0.0.3 --timeout 20 \
	--from x@mxlb.test --to "user@elsewhere.example" --helo other.mxlb.test \
	>"$T_DIR/swaks-other.out" 2>&1
check "127.0.0.3 through the engine: Relay access denied, logged with its EHLO and ESMTP" \
	wait_log "$MAILLOG" "NOQUEUE: reject: RCPT from [^ ]*\[127\.0\.0\.3\]: 554 5\.7\.1 .*Relay access denied.* proto=ESMTP helo=<other\.mxlb\.test>" 5
# Direct, without the engine, 127.0.0.1 may not relay: the restriction is real.
swaks --server "127.0.0.1:$PX" --timeout 10 --from x@mxlb.test \
	--to user@elsewhere.example >"$T_DIR/swaks-direct.out" 2>&1
check "without XCLIENT the same relay is refused (Relay access denied)" \
	grep -q "Relay access denied" "$T_DIR/swaks-direct.out"

# --- 2. Postfix, not authorised ---------------------------------------------
check "probe: the unauthorised Postfix goes down" \
	wait_until 10 eval '[ "$(stat no pfn state)" = down ]'
check_eq "... its last check: not offered, and Postfix's refusal" \
	"XCLIENT not offered: 550 5.7.0 Error: insufficient authorization" "$(stat no pfn check_text)"
check "... the probe line says so too" \
	wait_log "$ENGINE_LOG" " probe farm=no server=pfn state=down .*check=\"XCLIENT not offered: 550 5\.7\.0 Error: insufficient authorization\"" 3
sum=$(smtpload 127.0.0.1 "$FE_NO" -n 4 -c 2 --timeout 10 | tail -1)
check_eq "sessions go to the other server: 4 delivered" "sent=4 delivered=4" \
	"sent=$(kv sent "$sum") delivered=$(kv delivered "$sum")"

sum=$(smtpload 127.0.0.1 "$FE_NOX" -n 4 -c 4 --timeout 10 | tail -1)
check_eq "a server without XCLIENT: 4 delivered by the other, no 4xx/5xx" \
	"sent=4 delivered=4 tempfail=0 permfail=0" \
	"sent=$(kv sent "$sum") delivered=$(kv delivered "$sum") tempfail=$(kv tempfail "$sum") permfail=$(kv permfail "$sum")"
check "... the log says why (not offered, and its 502)" \
	wait_log "$ENGINE_LOG" " greeting farm=nox server=nox transport=xclient error=\"XCLIENT not offered: 502 5\.5\.2 Error: command not recognized\"" 3

# --- 3. a server that refuses XCLIENT ---------------------------------------
sum=$(smtpload 127.0.0.1 "$FE_REF" -n 6 -c 6 --timeout 10 | tail -1)
check_eq "XCLIENT refused: every session redispatched, 6 delivered, no 4xx/5xx" \
	"sent=6 delivered=6 tempfail=0 permfail=0" \
	"sent=$(kv sent "$sum") delivered=$(kv delivered "$sum") tempfail=$(kv tempfail "$sum") permfail=$(kv permfail "$sum")"
check "the log says why" \
	wait_log "$ENGINE_LOG" " greeting farm=ref server=refuser transport=xclient error=\"XCLIENT: 550 5.7.0 Error: insufficient authorization\"" 3
check "xclient_fail counts it" eval '[ "$(stat ref refuser counters.xclient_fail)" -ge 1 ]'
check "probe: the refusing server goes down" \
	wait_until 10 eval '[ "$(stat refp refuser state)" = down ]'
check_eq "... with the 550 as its last check" \
	"550 5.7.0 Error: insufficient authorization" "$(stat refp refuser check_text)"

# --- 4. the command itself, IPv4 and IPv6 -----------------------------------
how=$(tcp_read 127.0.0.1 "$FE_X" 5 "$T_DIR/x4.out" 127.0.0.2 'QUIT\r\n')
check_eq "IPv4: the client sees the 220 after XCLIENT, then 221" \
	"220 badmx.test ESMTP after XCLIENT|221 2.0.0 Bye" "$(tr -d '\r' <"$T_DIR/x4.out" | paste -sd'|')"
check "IPv4: XCLIENT PORT=... DESTADDR=127.0.0.1 DESTPORT=$FE_X NAME=[UNAVAILABLE] ADDR=127.0.0.2" \
	wait_log "$T_DIR/bx.log" "^xclient XCLIENT PORT=[0-9]+ DESTADDR=127\.0\.0\.1 DESTPORT=$FE_X NAME=\[UNAVAILABLE\] ADDR=127\.0\.0\.2$" 3
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	tcp_read ::1 "$FE_X" 5 "$T_DIR/x6.out" "" 'QUIT\r\n' >/dev/null
	check "IPv6: ADDR=IPV6:::1 DESTADDR=IPV6:::1" \
		wait_log "$T_DIR/bx.log" "^xclient XCLIENT PORT=[0-9]+ DESTADDR=IPV6:::1 DESTPORT=$FE_X NAME=\[UNAVAILABLE\] ADDR=IPV6:::1$" 3
else
	note "no ::1 on this machine: IPv6 case skipped"
fi

# --- the transport, everywhere a server shows -------------------------------
check_eq "stats: transport of pfx and sink" "xclient plain" \
	"$(stat ok pfx transport) $(stat no sink transport)"
MXLB=${MXLB:-$T_TOP/build/mxlb}
"$MXLB" -c 'show servers' >"$T_DIR/show.out" 2>&1
check "show servers: a TRANSPORT column" grep -Eq '^FARM +SERVER +ADDRESS .* STATE +TRANSPORT +SESS' "$T_DIR/show.out"
check "show servers: pfx is xclient, sink plain" eval \
	'grep -Eq "^ok +pfx .* xclient " "$T_DIR/show.out" && grep -Eq "^no +sink .* plain " "$T_DIR/show.out"'
spawn hold tcp_read 127.0.0.1 "$FE_X" 5 "$T_DIR/hold.out"
HOLD=$SPAWNED_PID
wait_until 3 eval '"${CTL[@]}" "$SOCK" "{\"id\":1,\"cmd\":\"sessions\",\"farm\":\"bx\"}" | grep -q "\"transport\": *\"xclient\""'
check "show sessions: the session's transport is xclient" eval \
	'"$MXLB" -c "show sessions bx" 2>&1 | grep -q xclient || "${CTL[@]}" "$SOCK" "{\"id\":1,\"cmd\":\"sessions\",\"farm\":\"bx\"}" | grep -q "\"transport\": *\"xclient\""'
"$MXLB" -c 'show stats prometheus' >"$T_DIR/metrics.out" 2>&1
check "metrics: mxlb_server_transport{...server=\"pfx\",transport=\"xclient\"} 1" \
	grep -Eq '^mxlb_server_transport\{.*server="pfx",transport="xclient"\} 1$' "$T_DIR/metrics.out"

stop_pid "$HOLD"
check "engine still running" alive "$ENGINE_PID"
finish
