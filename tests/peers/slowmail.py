#!/usr/bin/env python3
"""SMTP sessions opened now and finished later: the "current sessions" of
the resource-exhaustion suites.

  slowmail.py HOST PORT --go FILE [--conns N] [--wait S] [--source ADDR]
              [--timeout T]

Opens N sessions (one thread each) and takes each through the greeting,
EHLO, MAIL FROM and RCPT TO; prints "ready N" once all have got there (or
"ready K" with the number that did, after T seconds).  Then each waits until
FILE exists (at most S seconds), sends DATA, a small message, ".", QUIT.

Prints one line at the end:
  sessions=N ready=N delivered=N failed=N [first failure]
Exit status 0 when every session delivered its message.
"""
import argparse
import os
import socket
import sys
import threading
import time


def reply(f):
    while True:
        line = f.readline(4096)
        if not line:
            raise OSError("connection closed")
        if line[3:4] != b"-":
            return line.decode("latin-1").rstrip("\r\n")


def expect(f, code):
    line = reply(f)
    if not line.startswith(code):
        raise OSError("unexpected reply: %s" % line)
    return line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--go", required=True)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--wait", type=float, default=60)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--source")
    a = ap.parse_args()
    lock = threading.Lock()
    st = {"ready": 0, "delivered": 0, "failed": 0, "why": ""}
    all_ready = threading.Event()

    def one(i):
        stage = "connect"
        try:
            s = socket.create_connection((a.host, a.port), a.timeout,
                                         (a.source, 0) if a.source else None)
            s.settimeout(a.timeout)
            f = s.makefile("rb")
            stage = "greeting"
            expect(f, "220")
            for stage, cmd, code in (("ehlo", b"EHLO slowmail.test", "250"),
                                     ("mail", b"MAIL FROM:<slow@mxlb.test>", "250"),
                                     ("rcpt", b"RCPT TO:<sink@mxlb.test>", "250")):
                s.sendall(cmd + b"\r\n")
                expect(f, code)
            with lock:
                st["ready"] += 1
                if st["ready"] == a.conns:
                    all_ready.set()
            stage = "wait"
            end = time.time() + a.wait
            while not os.path.exists(a.go):
                if time.time() > end:
                    raise OSError("no go file after %.0f s" % a.wait)
                time.sleep(0.05)
            stage = "data"
            s.sendall(b"DATA\r\n")
            expect(f, "354")
            stage = "dot"
            s.sendall(b"Subject: slowmail %d\r\n\r\nstarted before, finished during\r\n.\r\n" % i)
            expect(f, "250")
            with lock:
                st["delivered"] += 1
            try:
                s.sendall(b"QUIT\r\n")
                reply(f)
            except OSError:
                pass
            s.close()
        except OSError as e:
            with lock:
                st["failed"] += 1
                if not st["why"]:
                    st["why"] = "%s: %s" % (stage, e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(a.conns)]
    for t in threads:
        t.start()
    all_ready.wait(a.timeout)
    print("ready %d" % st["ready"], flush=True)
    for t in threads:
        t.join()
    print("sessions=%d ready=%d delivered=%d failed=%d %s" % (
        a.conns, st["ready"], st["delivered"], st["failed"], st["why"]), flush=True)
    return 0 if st["delivered"] == a.conns else 1


if __name__ == "__main__":
    sys.exit(main())
