#!/bin/bash
# Issue 14: a farm's `source`, on loopback (no namespace).
#
#  1. source ADDRESS: farm mx connects from 127.0.0.1 by default; after
#     `farm set mx source 127.0.0.2; zone apply` the server (badmx.py, which
#     logs every peer) sees every new connection, sessions and probes, come
#     from 127.0.0.2, mail is delivered, and the session line and
#     `show sessions` say source=127.0.0.2.  `show running` gives it back.
#  2. What cannot work is refused at commit with the reason, and the
#     engine keeps its version: an address this host does not have
#     (checked by the engine), an address of the other family than the
#     servers (checked by the shell too), a word that is neither.
#  3. source client, engine as root: the server sees the client's own
#     address (127.0.0.3, which is local here, so the routing is trivial;
#     engine-transparent.sh does it across namespaces), the probe still
#     comes from the balancer's own address.
#  4. An engine run with --user nobody (no capability left): a commit of
#     source client is refused with the reason (CAP_NET_ADMIN), nothing
#     changes; and a root-started engine whose running config has source
#     client does not start with --user nobody, saying why.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
command -v swaks >/dev/null || die "swaks is not installed"

free_port; FE=$PORT
free_port; P1=$PORT
cat >"$T_DIR/src.json" <<EOF
{ "zone": "src",
  "farms": [ { "name": "mx", "probe": "smtp", "probe-interval": 0.5,
               "probe-timeout": 2, "probe-rise": 1, "probe-fall": 2,
               "servers": [ { "address": "127.0.0.1", "port": $P1, "name": "s1" } ] } ],
  "frontends": [ { "name": "in", "bind": "$FE", "address": ["127.0.0.1"], "farm": "mx" } ] }
EOF

spawn badmx "$T_PY" "$T_PEERS/badmx.py" "$P1" --mode ok --count "$T_DIR/count"
BADMX_LOG=$T_DIR/badmx.log
wait_port 127.0.0.1 "$P1" 5 || die "badmx.py did not listen on $P1"
start_engine "$T_DIR/src.json" || die "engine did not start"

mxc() {
	timeout -k 5 60 "$MXLB" -c "$1" </dev/null >"$T_DIR/mxc.out" 2>"$T_DIR/mxc.err"
}
# peers_since N: the peers (addresses) of badmx's connections after line N.
peers_since() {
	tail -n +"$(($1 + 1))" "$BADMX_LOG" | awk '$1 == "conn" { sub(/:[0-9]+$/, "", $3); print $3 }' | sort -u | tr '\n' ' '
}
lines() {
	wc -l <"$BADMX_LOG"
}
# swaks_from ADDR: one message from ADDR through the frontend.
swaks_from() {
	swaks --server "127.0.0.1:$FE" --local-interface "$1" --timeout 15 \
		--from "a@mxlb.test" --to "b@mxlb.test" --helo client.mxlb.test \
		>"$T_DIR/swaks.out" 2>&1
}
version() {
	mxc 'show zones'
	awk '$1 == "src" { print $3 }' "$T_DIR/mxc.out"
}

# --- 1. source ADDRESS -------------------------------------------------------------

check "probe up before any source (from 127.0.0.1)" wait_until 5 eval '[ "$(peers_since 0)" = "127.0.0.1 " ]'
mxc 'farm set mx source 127.0.0.2; zone apply src comment "source address"'
check_eq "farm set mx source 127.0.0.2; zone apply: exit 0" 0 "$?"
check "the commit is logged" wait_log "$ENGINE_LOG" " commit zone=src version=2 " 3
mark=$(lines)
check "swaks from 127.0.0.3 delivered" swaks_from 127.0.0.3
check "the probe ran again since" wait_until 5 eval '[ $(grep -c "^conn" <(tail -n +$((mark + 1)) "$BADMX_LOG")) -ge 3 ]'
check_eq "the server saw every connection since come from 127.0.0.2" "127.0.0.2 " "$(peers_since "$mark")"
check "session line: client 127.0.0.3, source=127.0.0.2" \
	wait_log "$ENGINE_LOG" " session client=127\.0\.0\.3:[0-9]+ .* source=127\.0\.0\.2 .* end=closed$" 3
mxc 'show running'
check "show running has 'source 127.0.0.2'" grep -q "farm add mx .*source 127\.0\.0\.2" "$T_DIR/mxc.out"
mxc 'show running json'
check "show running json has \"source\": \"127.0.0.2\"" grep -q '"source": "127\.0\.0\.2"' "$T_DIR/mxc.out"

# A session held open: show sessions names its source.
exec 7<>"/dev/tcp/127.0.0.1/$FE"
read -r -t 5 greeting <&7
check "a held session got the server's greeting" test "${greeting:0:3}" = 220
mxc 'show sessions'
check "show sessions: a SOURCE column" grep -q ' SOURCE$' "$T_DIR/mxc.out"
check "show sessions: the held session's source is 127.0.0.2" \
	grep -qE '^127\.0\.0\.1:[0-9]+ +in +mx +s1 .* 127\.0\.0\.2$' "$T_DIR/mxc.out"
mxc 'show sessions json'
check "show sessions json: \"source\": \"127.0.0.2\"" grep -q '"source": "127\.0\.0\.2"' "$T_DIR/mxc.out"
exec 7>&-

# --- 2. refusals ---------------------------------------------------------------------

mxc 'farm set mx source 203.0.113.7; zone apply src'
rc=$?
check "source 203.0.113.7 (not this host's): commit refused" test "$rc" -ne 0
note "$(tr '\n' ' ' <"$T_DIR/mxc.err")"
check "the refusal names the farm and the address" \
	grep -q 'farm mx: source 203\.0\.113\.7 is not an address this host can connect from' "$T_DIR/mxc.err"
check_eq "the engine still runs version 2" 2 "$(version)"

mxc 'farm set mx source ::1; zone apply src'
rc=$?
check "source ::1 with an IPv4 server: refused" test "$rc" -ne 0
check "the refusal says why (family)" grep -q 'source ::1 is IPv6, server s1 is not' "$T_DIR/mxc.err"
mxc 'farm set mx source nowhere'
rc=$?
check "source nowhere: refused" test "$rc" -ne 0
check "the error says what is allowed" grep -q 'source: "nowhere" is neither client nor an IPv4 or IPv6 address' "$T_DIR/mxc.err"
check_eq "the engine still runs version 2" 2 "$(version)"

# --- 3. source client, as root ------------------------------------------------------

mxc 'farm set mx source client; zone apply src comment transparent'
check_eq "farm set mx source client; zone apply (root engine): exit 0" 0 "$?"
mark=$(lines)
check "swaks from 127.0.0.3 delivered" swaks_from 127.0.0.3
check "the probe ran again since" wait_until 5 eval '[ $(grep -c "^conn" <(tail -n +$((mark + 1)) "$BADMX_LOG")) -ge 3 ]'
check_eq "the server saw the session from 127.0.0.3, probes from 127.0.0.1" \
	"127.0.0.1 127.0.0.3 " "$(peers_since "$mark")"
check "session line: source=client" \
	wait_log "$ENGINE_LOG" " session client=127\.0\.0\.3:[0-9]+ .* source=client .* end=closed$" 3
check_eq "badmx got both messages" 2 "$(wc -l <"$T_DIR/count")"

# --- 4. without the capability ----------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	note "skipped: --user needs a root start"
	finish
fi
stop_pid "$ENGINE_PID" TERM 10
spawn nouser "$MXLBD" -z src -f --user nobody
pid=$SPAWNED_PID
check "restarted with --user nobody on a config with source client: exits" wait_until 10 t_gone "$pid"
check "it says why (CAP_NET_ADMIN, farm mx)" \
	log_has "$T_DIR/nouser.log" "farm mx: source client needs CAP_NET_ADMIN"
spawn engine-root "$MXLBD" -z src -f
wait_log "$T_DIR/engine-root.log" " ready zone=src( |$)" 10 || die "engine did not restart as root"
ENGINE_PID=$SPAWNED_PID ENGINE_LOG=$T_DIR/engine-root.log
mxc 'farm set mx no source; zone apply src'
check_eq "farm set mx no source; zone apply: exit 0" 0 "$?"
stop_pid "$ENGINE_PID" TERM 10

spawn engine-nobody "$MXLBD" -z src -f --user nobody
ENGINE_PID=$SPAWNED_PID ENGINE_LOG=$T_DIR/engine-nobody.log
wait_log "$ENGINE_LOG" " ready zone=src( |$)" 10 || die "engine --user nobody not ready"
check_eq "the engine runs as nobody, no capability" 0000000000000000 \
	"$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$ENGINE_PID/status")"
before=$(version)
mxc 'farm set mx source client; zone apply src'
rc=$?
check "--user nobody: source client commit refused" test "$rc" -ne 0
note "$(tr '\n' ' ' <"$T_DIR/mxc.err")"
check "the refusal says CAP_NET_ADMIN and what to do" \
	grep -q 'farm mx: source client needs CAP_NET_ADMIN (or CAP_NET_RAW), which this engine (uid [0-9]*) does not have.*AmbientCapabilities=CAP_NET_ADMIN' "$T_DIR/mxc.err"
check_eq "the version did not change" "$before" "$(version)"
check "mail still flows through the engine as nobody" swaks_from 127.0.0.3
check "... from the balancer's address (no source)" \
	wait_log "$ENGINE_LOG" " session client=127\.0\.0\.3:[0-9]+ .* source=- .* end=closed$" 3
mxc 'farm set mx source 127.0.0.2; zone apply src'
check_eq "--user nobody: source 127.0.0.2 needs no capability: exit 0" 0 "$?"

finish
