#!/bin/bash
# A frontend on "address": ["::"] listens dual-stack, as an admin expects
# from "::": a client from 127.0.0.1 is served, matched against
# allowed-source as IPv4, logged as 127.0.0.1 (not ::ffff:127.0.0.1), and
# a PROXY v1 server reads "PROXY TCP4 127.0.0.1 127.0.0.1 ..."; a client
# from ::1 still arrives as IPv6.
. "$(dirname "$0")/../lib.sh"

free_ports FE PS

# A PROXY v1 server: appends the header line of each connection to a file,
# then speaks enough SMTP for a client to QUIT.
cat >"$T_DIR/proxymx.py" <<'PY'
import socket, sys, threading
port, out = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(16)
def serve(c):
    f = c.makefile("rb")
    with open(out, "ab") as o:
        o.write(f.readline())
    c.sendall(b"220 proxy-mx ESMTP\r\n")
    for line in f:
        if line.upper().startswith(b"QUIT"):
            c.sendall(b"221 2.0.0 Bye\r\n")
            break
        c.sendall(b"250 ok\r\n")
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
spawn proxymx "$T_PY" "$T_DIR/proxymx.py" "$PS" "$T_DIR/headers"
wait_port 127.0.0.1 "$PS" 5 || die "PROXY server did not start"

zone_config "$T_DIR/ds.json" dualstack \
	farm mx probe=none connect-timeout=2 \
		server p1 "$PS" proxyprotocol=v1 \
	frontend in "$FE" address=:: allowed-source=127.0.0.0/8,::1
start_engine "$T_DIR/ds.json" || die "engine did not start"

how=$(tcp_read 127.0.0.1 "$FE" 5 "$T_DIR/v4.out" "" 'QUIT\r\n')
check "an IPv4 client (127.0.0.1) of frontend :: is served" \
	grep -q '^220 proxy-mx' "$T_DIR/v4.out"
check_eq "and its session ends normally" eof "$how"
wait_log "$ENGINE_LOG" ' session client=127\.0\.0\.1:' 3
check "the session log shows client=127.0.0.1 (not ::ffff:)" \
	log_has "$ENGINE_LOG" " session client=127\.0\.0\.1:[0-9]+ frontend=in .*end=closed"
check "no mapped address in the log" eval '! log_has "$ENGINE_LOG" "ffff:"'
check "the PROXY v1 server read PROXY TCP4 127.0.0.1 127.0.0.1 PORT $FE" \
	log_has "$T_DIR/headers" "^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 [0-9]+ $FE"$'\r'"?$"

how=$(tcp_read ::1 "$FE" 5 "$T_DIR/v6.out" "" 'QUIT\r\n')
check "an IPv6 client (::1) is served too" grep -q '^220 proxy-mx' "$T_DIR/v6.out"
check "its PROXY header is TCP6 ::1 ::1" \
	log_has "$T_DIR/headers" "^PROXY TCP6 ::1 ::1 [0-9]+ $FE"$'\r'"?$"
[ "$T_FAIL" -gt 0 ] && od -c "$T_DIR/headers" | head -5 | sed 's/^/# headers: /'

finish
