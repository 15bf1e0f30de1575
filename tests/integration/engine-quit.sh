#!/bin/bash
# A session whose client sent QUIT and got the server's 221 is logged
# end=closed, even when the client then resets the connection before the
# server has closed its side (smtp-source does; Postfix's smtpd closes a
# moment after its 221).  smtp-source -d sends several messages on each
# of its connections; every session line must say end=closed.
. "$(dirname "$0")/../lib.sh"

free_ports FE SINK SLOW

# An SMTP server that, like smtpd, closes a moment after its 221.
cat >"$T_DIR/slowclose.py" <<'PY'
import socket, sys, threading, time
port, delay = int(sys.argv[1]), float(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
def serve(c):
    f = c.makefile("rb")
    c.sendall(b"220 slow-close ESMTP\r\n")
    data = False
    for line in f:
        if data:
            if line in (b".\r\n", b".\n"):
                data = False
                with open(sys.argv[3], "a") as o:
                    o.write("delivered\n")
                c.sendall(b"250 2.0.0 queued\r\n")
            continue
        cmd = line[:4].upper()
        if cmd == b"QUIT":
            c.sendall(b"221 2.0.0 Bye\r\n")
            time.sleep(delay)
            break
        if cmd == b"EHLO":
            c.sendall(b"250-slow-close\r\n250 PIPELINING\r\n")
        elif cmd == b"DATA":
            data = True
            c.sendall(b"354 go\r\n")
        else:
            c.sendall(b"250 ok\r\n")
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
: >"$T_DIR/slow.count"
spawn slowclose "$T_PY" "$T_DIR/slowclose.py" "$SLOW" 0.5 "$T_DIR/slow.count"
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
