#!/bin/bash
# run: alone (it counts system calls and measures memory)
# What the engine asks of the kernel per session, as strace shows it
# (issue 16): in SMTP the server speaks first, so its greeting proves the
# connect.  Over 200 one-message sessions through the engine, the floor:
# one accept (and none that finds nothing), socket, connect and
# TCP_NODELAY, the dialogue's reads and writes, two closes, two
# registrations (each socket once, for reading: no EPOLLOUT round trip on
# a connect, no re-registration between the handshake and the relay, no
# EPOLL_CTL_DEL: a closed socket leaves the epoll set by itself), and the
# waits.  No getsockopt(SO_ERROR), no
# shutdown, no SO_REUSEADDR (the server closes first, after its 221), no
# read that returns EAGAIN, a read for each write (a FIN that comes with
# the 221 needs no read of its own).  At concurrency 16, as issue 16
# counts them.  A refused server is still found out at once (the session goes to the other
# one), and a connect that never completes is caught by connect-timeout.
# At rest, before any session: one copy of libevent's core in memory (the
# engine links libevent_core, libevent_extra and libevent_pthreads; with
# libevent, which holds core and extra, libevent_pthreads brought in a
# second core: 112 kB more RSS), and no libbpf (opened by forward kernel).
# Skipped when strace is not installed (share/install-deps has it).
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null; then
	note "skipped: strace is not installed"
	finish
fi

N=200
free_ports FE SINK DEAD HOLE BIG

start_sink "$SINK" || die "smtp-sink on $SINK did not start"
zone_config "$T_DIR/sys.json" sys \
	farm mx probe=none connect-timeout=2 \
		server sink "$SINK" \
	frontend in "$FE"
start_engine "$T_DIR/sys.json" || die "engine did not start"
libs=$(awk '{ print $6 }' "/proc/$ENGINE_PID/maps" | sort -u)
check_eq "one copy of libevent's core mapped (libevent or libevent_core, not both)" 1 \
	"$(grep -cE '/libevent(_core)?-2\.' <<<"$libs")"
check_eq "no libbpf mapped at rest" 0 "$(grep -c libbpf <<<"$libs")"
# 8 sessions held open throughout: the sessions counted always find the
# engine busy enough for its own epoll set (below 8, a socket is
# libevent's, and leaves with a DEL).
spawn idle8 "$T_PY" "$T_PEERS/idleconns.py" 127.0.0.1 "$FE" --conns 8 --hold 120
IDLE8_PID=$SPAWNED_PID
wait_until 10 grep -q '^ready greeted=8 ' "$T_DIR/idle8.log" ||
	die "8 idle sessions were not greeted"

spawn strace strace -f -qq -o "$T_DIR/trace" -p "$ENGINE_PID"
STRACE_PID=$SPAWNED_PID
# strace -qq says nothing when attached: a first syscall in the trace is
# the sign (a session that waits for it).
attached() { [ -s "$T_DIR/trace" ]; }
timeout 10 smtp-source -s 1 -m 1 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >/dev/null 2>&1 &
SRC=$!
wait_until 10 attached || die "strace did not attach to the engine"
wait "$SRC"
wait_until 5 eval '[ "$(log_count "$ENGINE_LOG" " session ")" -ge 1 ]'
: >"$T_DIR/trace"

# One client at a time: each readiness of the listener holds one client,
# so a second accept per readiness would find nothing, every time.
timeout 30 smtp-source -s 1 -m 20 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >/dev/null 2>&1
wait_until 10 eval '[ "$(log_count "$ENGINE_LOG" " session ")" -ge 21 ]'
check_eq "one client at a time: 20 accepts, none that found the queue empty (EAGAIN)" \
	"20 0" "$(grep -aEc 'accept4\(.* = [0-9]+$' "$T_DIR/trace") $(grep -aEc 'accept4\(.*EAGAIN' "$T_DIR/trace")"
: >"$T_DIR/trace"	# from here on: the sessions counted

timeout 60 smtp-source -s 16 -m "$N" -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >"$T_DIR/source.log" 2>&1
check_eq "smtp-source sent its $N messages (exit 0)" 0 $?
wait_until 10 eval '[ "$(log_count "$ENGINE_LOG" " session ")" -ge $((N + 21)) ]'
check_eq "$N more sessions logged end=closed" $((N + 21)) \
	"$(log_count "$ENGINE_LOG" ' session .* end=closed$')"
stop_pid "$STRACE_PID" INT 10
T="$T_DIR/trace"

calls() { grep -aEc -- "$1" "$T"; }
adds=$(calls 'epoll_ctl\(.*EPOLL_CTL_ADD')
reads=$(calls 'recvfrom\(') writes=$(calls 'sendto\(')
note "per $N sessions: epoll_ctl ADD=$adds MOD=$(calls EPOLL_CTL_MOD) DEL=$(calls EPOLL_CTL_DEL) getsockopt=$(calls 'getsockopt\(') setsockopt=$(calls 'setsockopt\(') shutdown=$(calls 'shutdown\(') recvfrom=$reads sendto=$writes epoll_wait=$(calls 'epoll_wait\(') EAGAIN=$(calls EAGAIN)"
note "system calls per session: $(awk -v n="$N" '/[0-9] +[a-z_0-9]+\(/ { c++ } END { printf "%.1f", c / n }' "$T") (the waits depend on timing)"
check_eq "one accept per session" "$N" "$(calls 'accept4\(.* = [0-9]+$')"
check_eq "no accept that found the queue empty (EAGAIN): one accept per readiness" \
	0 "$(calls 'accept4\(.*EAGAIN')"
check_eq "one socket and one connect per session" "$N $N" "$(calls '[0-9] +socket\(') $(calls '[0-9] +connect\(')"
check_eq "two closes per session" $((N * 2)) "$(calls '[0-9] +close\(')"
check_eq "two registrations per session (client, server)" $((N * 2)) "$adds"
check_eq "no registration changed (EPOLL_CTL_MOD)" 0 "$(calls 'EPOLL_CTL_MOD')"
check_eq "no registration removed (EPOLL_CTL_DEL): a closed socket leaves the epoll set by itself" \
	0 "$(calls 'EPOLL_CTL_DEL')"
check_eq "TCP_NODELAY on each server socket" "$N" "$(calls 'setsockopt\(.*TCP_NODELAY')"
# The server closes first, after its 221; where the client's FIN or reset
# comes first, the engine closes first and the TIME_WAIT is its own.
reuse=$(calls 'setsockopt\(.*SO_REUSEADDR')
check "SO_REUSEADDR only where the engine closed first ($reuse), no other setsockopt" \
	[ "$reuse" -lt $((N / 2)) -a "$(calls 'setsockopt\(')" -eq $((N + reuse)) ]
# A read returns 0 only when a FIN comes after the last bytes were read.
eofs=$(calls 'recvfrom\(.* = 0$') errs=$(calls 'recvfrom\(.* = -1 ')
check "a read for each write ($reads, $writes; $eofs returned 0, $errs an error)" \
	[ "$((reads - eofs - errs))" -eq "$writes" -a "$((eofs + errs))" -lt $((N / 2)) ]
check_eq "no socket watched for writing (EPOLLOUT)" 0 "$(calls 'epoll_ctl\(.*EPOLLOUT')"
check_eq "no getsockopt (SO_ERROR) after the connects" 0 "$(calls 'getsockopt\(')"
check_eq "no shutdown" 0 "$(calls 'shutdown\(')"
check_eq "no read that returned EAGAIN" 0 "$(calls 'recvfrom\(.*EAGAIN')"

stop_pid "$IDLE8_PID"
wait_until 10 eval '[ "$(log_count "$ENGINE_LOG" " session ")" -ge $((N + 29)) ]'

# A refused server, watched only for reading: the refusal is reported as
# an error at once, and the session goes to the sink.
stop_pid "$ENGINE_PID"
zone_config "$T_DIR/dead.json" sys2 \
	farm mx probe=none connect-timeout=20 balance=roundrobin \
		server dead "$DEAD" \
		server sink "$SINK" \
	frontend in "$FE"
start_engine "$T_DIR/dead.json" engine2 || die "engine did not start"
timeout 10 smtp-source -s 2 -m 4 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >"$T_DIR/source2.log" 2>&1
check_eq "with a refused server, smtp-source sent its 4 messages (exit 0)" 0 $?
check "the refused connect is logged" \
	wait_log "$ENGINE_LOG" 'connect farm=mx server=dead error="Connection refused"' 5
check "sessions went to the sink after the refusal (redispatch=1)" \
	wait_log "$ENGINE_LOG" ' session .* server=sink .*redispatch=1 .*end=closed$' 5
stop_pid "$ENGINE_PID"

# A connect that never completes: a listener whose accept queue is full
# (never accepting) drops the SYNs.
spawn hole "$T_PY" -c '
import socket, sys, time
port = int(sys.argv[1])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(0)
held = []
for _ in range(3):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(("127.0.0.1", port))
    held.append(c)
time.sleep(120)
' "$HOLE"
wait_port 127.0.0.1 "$HOLE" 5 || die "the full listener did not start"
zone_config "$T_DIR/hole.json" sys3 \
	farm mx probe=none connect-timeout=1 balance=roundrobin \
		server hole "$HOLE" \
		server sink "$SINK" \
	frontend in "$FE"
start_engine "$T_DIR/hole.json" engine3 || die "engine did not start"
timeout 20 smtp-source -s 2 -m 2 -f a@example.com -t b@example.com \
	127.0.0.1:"$FE" >"$T_DIR/source3.log" 2>&1
check_eq "with a server that never answers the SYN, smtp-source sent its 2 messages (exit 0)" 0 $?
check "the connect timeout is logged" \
	wait_log "$ENGINE_LOG" 'connect farm=mx server=hole error="connect timeout"' 5
check "that session went to the sink (redispatch=1)" \
	wait_log "$ENGINE_LOG" ' session .* server=sink .*redispatch=1 .*end=closed$' 5

stop_pid "$ENGINE_PID"

# A reader paused in the engine's own epoll set: with 10 sessions held
# open (20 sockets), a new session's sockets are the set's.  Its server
# answers EHLO with 16 MiB that the client does not read at first: the
# engine's write to the client blocks, reading from the server pauses
# (the socket leaves the set), then resumes once the client reads.  Every
# byte arrives, and QUIT still gets its 221.
spawn bigmx "$T_PY" -c '
import socket, sys, threading
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(64)
def serve(c):
    c.sendall(b"220 big ESMTP\r\n")
    f = c.makefile("rb")
    for line in f:
        if line.upper().startswith(b"EHLO"):
            c.sendall((b"250-" + b"x" * 1018 + b"\r\n") * 16384 + b"250 OK\r\n")
        elif line.upper().startswith(b"QUIT"):
            c.sendall(b"221 Bye\r\n")
            break
    c.close()
while True:
    threading.Thread(target=serve, args=(ls.accept()[0],), daemon=True).start()
' "$BIG"
wait_port 127.0.0.1 "$BIG" 5 || die "the big server did not start"
zone_config "$T_DIR/big.json" sys4 \
	farm mx probe=none \
		server big "$BIG" \
	frontend in "$FE"
start_engine "$T_DIR/big.json" engine4 || die "engine did not start"
spawn idle "$T_PY" "$T_PEERS/idleconns.py" 127.0.0.1 "$FE" --conns 10 --hold 60
IDLE_PID=$SPAWNED_PID
wait_until 10 grep -q '^ready greeted=10 ' "$T_DIR/idle.log"
check "10 idle sessions held" grep -q '^ready greeted=10 ' "$T_DIR/idle.log"
timeout 30 "$T_PY" - "$FE" "$T_DIR/big.out" <<'PY'
import socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
c.settimeout(10)
f = c.makefile("rb")
out = open(sys.argv[2], "w")
out.write("greeting %s\n" % f.readline().decode().strip())
c.sendall(b"EHLO client\r\n")
# Not read until the client's receive buffer is full and the engine's
# send to it blocks: bounded, 10 s.
end = time.time() + 10
while time.time() < end:
    try:
        if len(c.recv(1 << 22, socket.MSG_PEEK | socket.MSG_DONTWAIT)) >= 64 << 10:
            break
    except BlockingIOError:
        pass
    time.sleep(0.05)
n = 0
while True:
    line = f.readline()
    n += len(line)
    if not line.startswith(b"250-"):
        break
out.write("ehlo %d bytes, last %s\n" % (n, line.decode().strip()))
c.sendall(b"QUIT\r\n")
out.write("quit %s\n" % f.readline().decode().strip())
PY
check "the session with the paused reader got every byte of the 16 MiB reply" \
	grep -qx 'ehlo 16777224 bytes, last 250 OK' "$T_DIR/big.out"
check "and QUIT its 221" grep -qx 'quit 221 Bye' "$T_DIR/big.out"
stop_pid "$IDLE_PID"
finish
