#!/usr/bin/env python3
"""A fake MX server whose behaviour can be switched while it runs, for the
backend-fault suites.

  badmx.py PORT [--mode-file FILE] [--mode MODE] [--count FILE] [--host H]
           [--greeting TEXT] [--proxy-log FILE] [--quit-delay SECS]

The mode is read from FILE (first word) at each new connection, so a test
switches a running server by rewriting the file; without FILE, --mode.

  ok          a minimal, correct SMTP server: 220 greeting, multi-line 250
              to EHLO, 250 to MAIL/RCPT/RSET/NOOP, 354 to DATA, 250 to the
              final ".", 221 to QUIT.  Each accepted message appends a line
              to the --count file.
  silent      accept, read and discard whatever comes, never answer; the
              connection stays open until the peer closes it.
  reset-data  like ok up to DATA's 354, then read part of the message and
              close with a RST (SO_LINGER 0): a server dying mid-DATA.
              Sessions that never send DATA (the SMTP probe) see a correct
              server.
  tempfail    answer "421 4.3.2 <name> Too busy, try later" to the greeting
              and to every command, close after QUIT or 30 s.
  busy        as tempfail, with postscreen's words: "421 4.7.0 <name> busy".
  refuse      as tempfail, with "554 5.7.1 <name> No SMTP service here".
  reset       accept and reset (RST) at once, before any greeting.
  pregreet    like ok, but the greeting is "220-<name> wait" then, after
              --pregreet seconds, "220 <name> ESMTP ...".

--xclient offers XCLIENT (NAME ADDR PROTO HELO PORT DESTADDR DESTPORT) in
the EHLO reply and answers XCLIENT with a new 220 ("... after XCLIENT");
--xclient refuse answers it "550 5.7.0 Error: insufficient authorization".
Every XCLIENT line is logged: "xclient LINE".

--proxy-log: every connection starts with a PROXY v1 header line, appended
to FILE as read, before the mode's dialogue.  --quit-delay: ok closes SECS
after its 221 to QUIT (a server slow to close).

Every connection is logged on stdout: "conn MODE PEER", and how it ended.
"""
import argparse
import socket
import socketserver
import struct
import sys
import threading
import time

A = None
LOCK = threading.Lock()


def mode_now():
    if A.mode_file:
        try:
            with open(A.mode_file) as f:
                w = f.read().split()
                if w:
                    return w[0]
        except OSError:
            pass
    return A.mode


def log(*words):
    with LOCK:
        print(*words, flush=True)


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        mode = mode_now()
        peer = "%s:%d" % self.client_address[:2]
        log("conn", mode, peer)
        try:
            end = getattr(self, "mode_" + mode.replace("-", "_"))(s)
        except (OSError, ValueError) as e:
            end = "error %s" % e
        log("end", mode, peer, end)

    def lines(self, s, timeout=60):
        s.settimeout(timeout)
        f = self.f = s.makefile("rb")
        while True:
            line = f.readline(65536)
            if not line:
                return
            yield line

    def mode_silent(self, s):
        s.settimeout(None)
        n = 0
        while True:
            b = s.recv(65536)
            if not b:
                return "peer-closed after %d bytes" % n
            n += len(b)

    def mode_tempfail(self, s):
        text = b"421 4.3.2 %s Too busy, try later\r\n" % A.name.encode()
        s.sendall(text)
        for line in self.lines(s, 30):
            s.sendall(text)
            if line.strip().upper() == b"QUIT":
                return "quit"
        return "peer-closed"

    def mode_busy(self, s):
        return self.refusing(s, b"421 4.7.0 %s busy\r\n")

    def mode_refuse(self, s):
        return self.refusing(s, b"554 5.7.1 %s No SMTP service here\r\n")

    def refusing(self, s, fmt):
        text = fmt % A.name.encode()
        s.sendall(text)
        for line in self.lines(s, 30):
            s.sendall(text)
            if line.strip().upper() == b"QUIT":
                return "quit"
        return "peer-closed"

    def mode_reset(self, s):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        return "reset before greeting"

    def mode_pregreet(self, s):
        s.sendall(b"220-%s wait\r\n" % A.name.encode())
        time.sleep(A.pregreet)
        return self.dialogue(s, reset=False)

    def mode_ok(self, s):
        return self.dialogue(s, reset=False)

    def mode_reset_data(self, s):
        return self.dialogue(s, reset=True)

    def dialogue(self, s, reset):
        lines = self.lines(s)
        if A.proxy_log:
            first = next(lines, b"")
            with LOCK, open(A.proxy_log, "ab") as f:
                f.write(first)
        s.sendall(b"220 %s ESMTP %s\r\n" % (A.name.encode(), A.greeting.encode()))
        data = False
        got = 0
        for line in lines:
            if data:
                got += len(line)
                if reset and got >= 512:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    # The file from makefile() holds the descriptor too.
                    self.f.close()
                    s.close()
                    return "reset mid-DATA after %d bytes" % got
                if line == b".\r\n":
                    data = False
                    if A.count:
                        with LOCK, open(A.count, "a") as f:
                            f.write("delivered\n")
                    s.sendall(b"250 2.0.0 Ok: queued\r\n")
                continue
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO") and A.xclient:
                s.sendall(b"250-%s\r\n250-PIPELINING\r\n250-XCLIENT NAME ADDR PROTO HELO PORT DESTADDR DESTPORT\r\n250 8BITMIME\r\n" % A.name.encode())
            elif cmd.startswith(b"EHLO"):
                s.sendall(b"250-%s\r\n250-PIPELINING\r\n250 8BITMIME\r\n" % A.name.encode())
            elif cmd.startswith(b"XCLIENT") and A.xclient:
                log("xclient", line.decode("latin-1").rstrip("\r\n"))
                if A.xclient == "refuse":
                    s.sendall(b"550 5.7.0 Error: insufficient authorization\r\n")
                else:
                    s.sendall(b"220 %s ESMTP after XCLIENT\r\n" % A.name.encode())
            elif cmd.startswith(b"HELO") or cmd.startswith(b"MAIL") or \
                    cmd.startswith(b"RCPT") or cmd.startswith(b"RSET") or cmd.startswith(b"NOOP"):
                s.sendall(b"250 2.0.0 Ok\r\n")
            elif cmd == b"DATA":
                s.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                data = True
                got = 0
            elif cmd == b"QUIT":
                s.sendall(b"221 2.0.0 Bye\r\n")
                time.sleep(A.quit_delay)
                return "quit"
            else:
                s.sendall(b"502 5.5.2 Error: command not recognized\r\n")
        return "peer-closed"


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--mode", default="ok", choices=["ok", "silent", "reset-data", "tempfail",
                                                     "busy", "refuse", "reset", "pregreet"])
    ap.add_argument("--pregreet", type=float, default=1.0)
    ap.add_argument("--xclient", nargs="?", const="ok", choices=["ok", "refuse"])
    ap.add_argument("--mode-file")
    ap.add_argument("--count", help="append a line per accepted message")
    ap.add_argument("--name", default="badmx.test")
    ap.add_argument("--greeting", default="badmx")
    ap.add_argument("--proxy-log", help="append each connection's PROXY header line")
    ap.add_argument("--quit-delay", type=float, default=0, help="seconds from 221 to the close")
    A = ap.parse_args()
    srv = Server((A.host, A.port), Handler)
    log("listening %s:%d" % (A.host, A.port))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
