#!/bin/bash
# A real, private Postfix behind the engine.  One smtpd port that expects a
# PROXY header, reached through a v1 server and a v2 server (two farms, two
# frontends), and a postscreen port (multi-line pre-greet, 3 s greet wait)
# reached through a third.  swaks from 127.0.0.2 delivers through each, and
# Postfix logs the client as 127.0.0.2; the SMTP probe keeps every server up
# over several intervals, postscreen included.
. "$(dirname "$0")/../lib.sh"
. "$T_PEERS/postfix.sh"

# FE1: -> v1 -> smtpd
# FE2: -> v2 -> smtpd
# FE3: -> v1 -> postscreen
free_ports FE1 FE2 FE3 SMTPD PSCREEN
PF=$T_DIR/postfix

zone_config "$T_DIR/postfix.json" pf \
	farm pv1 probe=smtp probe-interval=1 probe-timeout=2 probe-rise=2 probe-fall=2 probe-helo=probe.mxlb.test \
		server smtpd-v1 "$SMTPD" proxyprotocol=v1 \
	farm pv2 probe=smtp probe-interval=1 probe-timeout=2 probe-rise=2 probe-fall=2 probe-helo=probe.mxlb.test \
		server smtpd-v2 "$SMTPD" proxyprotocol=v2 \
	farm pscreen probe=smtp probe-interval=1 probe-timeout=5 probe-rise=2 probe-fall=2 probe-helo=probe.mxlb.test \
		server postscreen "$PSCREEN" proxyprotocol=v1 \
	frontend in-v1 "$FE1" farm=pv1 \
	frontend in-v2 "$FE2" farm=pv2 \
	frontend in-ps "$FE3"

postfix_start "$PF" "$SMTPD" "$PSCREEN" || die "private Postfix did not start"
MAILLOG=$PF_MAILLOG
start_engine "$T_DIR/postfix.json" || die "engine did not start"

# swaks_via NAME FRONTEND SENDER: one message from 127.0.0.2 through the
# engine; checks Postfix queued it, saw 127.0.0.2 and delivered it.
swaks_via() {
	local name=$1 fe=$2 from=$3 out=$T_DIR/swaks-$1.out qid
	if swaks --server "127.0.0.1:$fe" --local-interface 127.0.0.2 --timeout 20 \
		--from "$from" --to "user@mx.test.invalid" --helo client.mxlb.test >"$out" 2>&1; then
		ok "$name: swaks from 127.0.0.2 delivered"
	else
		fail "$name: swaks from 127.0.0.2 delivered" "swaks: $(grep -E '^(<\*\*|\*\*\*)' "$out" | head -2 | tr '\n' ' ')"
		return
	fi
	qid=$(sed -n 's/.*250 2.0.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$out" | head -1)
	[ -n "$qid" ] || { fail "$name: queue id in swaks output" "none"; return; }
	check "$name: Postfix logs the client as 127.0.0.2 ($qid: client=unknown[127.0.0.2])" \
		wait_log "$MAILLOG" "postfix/smtpd\[[0-9]+\]: $qid: client=[^ ]*\[127\.0\.0\.2\]" 5
	check "$name: Postfix delivered it ($qid: ... status=sent)" \
		wait_log "$MAILLOG" ": $qid: to=<user@mx.test.invalid>.* status=sent" 5
	check "$name: engine logs the session from 127.0.0.2" \
		wait_log "$ENGINE_LOG" " session client=127\.0\.0\.2:[0-9]+ .*frontend=$fe_name " 3
}

fe_name=in-v1 swaks_via "PROXY v1" "$FE1" v1@mxlb.test
fe_name=in-v2 swaks_via "PROXY v2" "$FE2" v2@mxlb.test
check "both reached Postfix as 'connect from ...[127.0.0.2]'" \
	eval '[ "$(log_count "$MAILLOG" "smtpd\[[0-9]+\]: connect from [^ ]*\[127\.0\.0\.2\]")" -ge 2 ]'

fe_name=in-ps swaks_via "postscreen" "$FE3" ps@mxlb.test
# The v1 header's destination is the frontend the client connected to.
check "postscreen saw 127.0.0.2 connect to the frontend 127.0.0.1:$FE3" \
	log_has "$MAILLOG" "postscreen\[[0-9]+\]: CONNECT from \[127\.0\.0\.2\]:[0-9]+ to \[127\.0\.0\.1\]:$FE3$"
check "postscreen passed 127.0.0.2 (PASS NEW)" \
	log_has "$MAILLOG" "postscreen\[[0-9]+\]: PASS (NEW|OLD) \[127\.0\.0\.2\]"

# What the probes did, as Postfix saw it: full EHLO/QUIT dialogues (the v1
# probe carries its real addresses, the v2 one is LOCAL: both 127.0.0.1).
smtpd_probes() {
	log_count "$MAILLOG" "smtpd\[[0-9]+\]: disconnect from [^ ]*\[127\.0\.0\.1\] ehlo=1 quit=1 commands=2"
}
# A probe that waited out the pre-greet: postscreen's PASS comes >= 2 s
# after its CONNECT (the greet wait is 3 s; PASS OLD at once means the pass
# cache had not expired yet).
pscreen_passes() {
	awk '
	function secs(t,  a) { split(t, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
	/postscreen\[[0-9]+\]: CONNECT from \[127\.0\.0\.1\]:/ {
		split($8, p, "]:"); start[p[2]] = secs($3) }
	/postscreen\[[0-9]+\]: PASS (NEW|OLD) \[127\.0\.0\.1\]:/ {
		split($8, p, "]:"); if ((p[2] in start) && secs($3) - start[p[2]] >= 2) n++ }
	END { print n + 0 }' "$MAILLOG"
}
# Several probe intervals: at least two full postscreen probes (3 s greet
# wait each, the pass cache expires after 1 s, so each one sees the 220-
# pre-greet), and 8 on smtpd.
wait_until 20 eval '[ "$(smtpd_probes)" -ge 8 ] && [ "$(pscreen_passes)" -ge 2 ]'

for s in smtpd-v1 smtpd-v2 postscreen; do
	if log_has "$ENGINE_LOG" " probe .*server=$s .*state=(down|nolb)"; then
		fail "probe keeps $s up" "$(grep -E " probe .*server=$s .*state=" "$ENGINE_LOG" | head -2)"
	else
		ok "probe keeps $s up"
	fi
done
probes=$(smtpd_probes)
check "Postfix saw >= 8 clean probe dialogues (EHLO, QUIT) on smtpd (got $probes)" \
	eval '[ "$probes" -ge 8 ]'
check "no Postfix warning about the probes' connections" \
	eval '! log_has "$MAILLOG" "warning: .*\[127\.0\.0\.1\]"'
ppass=$(pscreen_passes)
check "postscreen: >= 2 probes waited out the 220- pre-greet and passed (got $ppass)" \
	eval '[ "$ppass" -ge 2 ]'
check "no probe talked before postscreen's final 220 (no PREGREET)" \
	eval '! log_has "$MAILLOG" "postscreen\[[0-9]+\]: PREGREET .*\[127\.0\.0\.1\]"'
check "no probe hung up during the greet wait (no HANGUP)" \
	eval '! log_has "$MAILLOG" "postscreen\[[0-9]+\]: HANGUP .*\[127\.0\.0\.1\]"'
check "no PROXY header errors in Postfix's log" \
	eval '! log_has "$MAILLOG" "haproxy read|(lost connection|timeout) .*proxy"'
check "engine still running" alive "$ENGINE_PID"

stop_pid "$ENGINE_PID"
master=$(pf_master_pid "$PF")
procs="$master $(ps -o pid= --ppid "$master" | tr '\n' ' ')"
postfix_stop "$PF"
left=""
for p in $procs; do alive "$p" && left="$left $p"; done
check_eq "Postfix stopped: none of its processes ($procs) left" "" "$left"

finish
