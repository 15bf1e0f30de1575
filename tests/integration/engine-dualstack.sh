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
spawn proxymx "$T_PY" "$T_PEERS/badmx.py" "$PS" --proxy-log "$T_DIR/headers" --name proxy-mx
wait_port 127.0.0.1 "$PS" 5 || die "PROXY server did not start"

zone_config "$T_DIR/ds.json" dualstack \
	farm mx probe=none connect-timeout=2 \
		server p1 "$PS" proxyprotocol=v1 \
	frontend in "$FE" address=:: allowed-source=127.0.0.0/8,::1
start_engine "$T_DIR/ds.json" || die "engine did not start"

how=$(tcp_read 127.0.0.1 "$FE" 5 "$T_DIR/v4.out" "" 'QUIT\r\n')
check "an IPv4 client (127.0.0.1) of frontend :: is served" \
	grep -q '^220 proxy-mx ' "$T_DIR/v4.out"
check_eq "and its session ends normally" eof "$how"
wait_log "$ENGINE_LOG" ' session client=127\.0\.0\.1:' 3
check "the session log shows client=127.0.0.1 (not ::ffff:)" \
	log_has "$ENGINE_LOG" " session client=127\.0\.0\.1:[0-9]+ frontend=in .*end=closed"
check "no mapped address in the log" eval '! log_has "$ENGINE_LOG" "ffff:"'
check "the PROXY v1 server read PROXY TCP4 127.0.0.1 127.0.0.1 PORT $FE" \
	log_has "$T_DIR/headers" "^PROXY TCP4 127\.0\.0\.1 127\.0\.0\.1 [0-9]+ $FE"$'\r'"?$"

how=$(tcp_read ::1 "$FE" 5 "$T_DIR/v6.out" "" 'QUIT\r\n')
check "an IPv6 client (::1) is served too" grep -q '^220 proxy-mx ' "$T_DIR/v6.out"
check "its PROXY header is TCP6 ::1 ::1" \
	log_has "$T_DIR/headers" "^PROXY TCP6 ::1 ::1 [0-9]+ $FE"$'\r'"?$"
[ "$T_FAIL" -gt 0 ] && od -c "$T_DIR/headers" | head -5 | sed 's/^/# headers: /'

finish
