#!/bin/bash
# A session whose client sent QUIT and got the server's 221 is logged
# end=closed, even when the client then resets the connection before the
# server has closed its side (smtp-source does; Postfix's smtpd closes a
# moment after its 221).  smtp-source -d sends several messages on each
# of its connections; every session line must say end=closed.
. "$(dirname "$0")/../lib.sh"

free_ports FE SINK SLOW

# An SMTP server that, like smtpd, closes a moment after its 221.
: >"$T_DIR/slow.count"
spawn slowclose "$T_PY" "$T_PEERS/badmx.py" "$SLOW" --quit-delay 0.5 --count "$T_DIR/slow.count"
wait_port 127.0.0.1 "$SLOW" 5 || die "slow-close server did not start"
start_sink "$SINK" || die "smtp-sink on $SINK did not start"

zone_config "$T_DIR/quit.json" quit \
	farm mx probe=none connect-timeout=2 \
		server sink "$SINK" \
		server slow "$SLOW" \
	frontend in "$FE"
start_engine "$T_DIR/quit.json" || die "engine did not start"

# 4 connections at once, 200 messages, each connection sending until the
# messages are gone, then QUIT.
timeout 30 smtp-source -d -s 4 -m 200 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >"$T_DIR/source.log" 2>&1
check_eq "smtp-source -d sent all its messages (exit 0)" 0 $?
got=$(( $(sink_count "$SINK") + $(wc -l <"$T_DIR/slow.count") ))
check_eq "200 messages delivered" 200 "$got"
wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session ")" -ge 4 ]'
check_eq "4 sessions logged" 4 "$(log_count "$ENGINE_LOG" ' session ')"
check_eq "every session ended end=closed" 4 "$(log_count "$ENGINE_LOG" ' session .* end=closed$')"
check "the slow-closing server had sessions too" \
	log_has "$ENGINE_LOG" ' session .* server=slow .*end=closed'
[ "$T_FAIL" -gt 0 ] && grep ' session ' "$ENGINE_LOG" | sed 's/^/# /'

finish
