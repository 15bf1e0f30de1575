#!/usr/bin/env python3
"""Both ends of a byte-exact relay check (tests/integration/engine-sockmap.sh).

  relaycheck.py server PORT [--delay SECS]
      On 127.0.0.1:PORT, one connection after another: greet ("220
      relaycheck ESMTP"), (with --delay: wait SECS, reading nothing, so
      that what the client sends piles up on the way), read everything the client sends until its
      half-close, then answer "250 BYTES SHA256" and close.  It says nothing
      before the client's EOF, so only the client's bytes show activity.

  relaycheck.py client PORT SIZE [--every SECS] [--silent]
      Connect, read the greeting line, send SIZE random bytes (with
      --every: one byte every SECS seconds instead), half-close, read the
      answer to the end; print "sent BYTES SHA256" then "got ANSWER" and
      exit 0 when the server got exactly the bytes sent.  --silent: read
      the greeting, send nothing, and print "closed" when the engine ends
      the session (eof or reset), within 30 s.
"""
import argparse
import hashlib
import os
import socket
import sys
import time


def serve(port, delay):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    print("listening", flush=True)
    while True:
        c, _ = ls.accept()
        c.settimeout(60)
        h, n = hashlib.sha256(), 0
        try:
            c.sendall(b"220 relaycheck ESMTP\r\n")
            time.sleep(delay)
            while True:
                b = c.recv(65536)
                if not b:
                    break
                h.update(b)
                n += len(b)
            c.sendall(b"250 %d %s\r\n" % (n, h.hexdigest().encode()))
        except OSError:
            pass
        c.close()


def greeting(s):
    got = b""
    while not got.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            raise SystemExit("closed before the greeting")
        got += b
    return got


def client(a):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=30)
    greeting(s)
    if a.silent:
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        print("closed")
        return 0
    h = hashlib.sha256()
    if a.every:
        for _ in range(a.size):
            b = os.urandom(1)
            s.sendall(b)
            h.update(b)
            time.sleep(a.every)
    else:
        data = os.urandom(a.size)
        s.sendall(data)
        h.update(data)
    s.shutdown(socket.SHUT_WR)
    ans = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        ans += b
    want = "250 %d %s" % (a.size, h.hexdigest())
    got = ans.decode(errors="replace").strip()
    print("sent %d %s" % (a.size, h.hexdigest()))
    print("got " + got)
    return 0 if got == want else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("port", type=int)
    p.add_argument("size", type=int, nargs="?", default=0)
    p.add_argument("--every", type=float, default=0)
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--silent", action="store_true")
    a = p.parse_args()
    if a.mode == "server":
        serve(a.port, a.delay)
        return 0
    return client(a)


if __name__ == "__main__":
    sys.exit(main())
