#!/usr/bin/env python3
"""Badly behaved SMTP clients, for the hostile-peer suites.

  hostile.py MODE HOST PORT [--repeat N] [--secs S] [--source ADDR]

MODE:
  garbage   send binary junk, a 1 MiB line with no CRLF and NUL bytes,
            read whatever comes back, close
  noread    send commands as fast as the socket takes them for S seconds
            and never read a reply (the peer's send buffer fills up)
  middata   EHLO, MAIL, RCPT, DATA, half a message, then drop the
            connection (a RST every other time, a FIN otherwise)
  hold      read the greeting and keep the connection open S seconds
  idle      connect and send nothing for S seconds

Prints one line: "MODE sessions=N" plus what it saw; exit 0 unless it could
never connect.
"""
import argparse
import os
import socket
import struct
import sys
import time


def connect(a):
    return socket.create_connection((a.host, a.port), 5, (a.source, 0) if a.source else None)


def read_line(f):
    while True:
        line = f.readline(4096)
        if not line or line[3:4] != b"-":
            return line


def garbage(a, i):
    s = connect(a)
    s.settimeout(2)
    junk = [os.urandom(4096), b"\x00" * 1024, b"A" * (1 << 20), b"\r\n\xff\xfe\r\n",
            b"EHLO " + b"x" * 10000 + b"\r\n", b"MAIL FROM:<\x00>\r\n"]
    got = 0
    try:
        for j in junk:
            s.sendall(j)
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
    except OSError:
        pass
    s.close()
    return got


def noread(a, i):
    s = connect(a)
    s.setblocking(False)
    sent = 0
    end = time.time() + a.secs
    chunk = b"NOOP\r\n" * 2000
    while time.time() < end:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:
            break
    s.close()
    return sent


def middata(a, i):
    s = connect(a)
    s.settimeout(5)
    f = s.makefile("rb")
    read_line(f)
    for cmd in (b"EHLO hostile.test", b"MAIL FROM:<h@hostile.test>",
                b"RCPT TO:<sink@mxlb.test>", b"DATA"):
        s.sendall(cmd + b"\r\n")
        read_line(f)
    s.sendall(b"Subject: never finished\r\n\r\n" + b"half a message\r\n" * 500)
    if i % 2:
        # SO_LINGER 0: close() sends a RST.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    return 0


def hold(a, i):
    s = connect(a)
    s.settimeout(a.secs + 5)
    line = read_line(s.makefile("rb"))
    time.sleep(a.secs)
    s.close()
    return len(line)


def idle(a, i):
    s = connect(a)
    time.sleep(a.secs)
    s.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["garbage", "noread", "middata", "hold", "idle"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--secs", type=float, default=3)
    ap.add_argument("--source")
    a = ap.parse_args()
    fn = globals()[a.mode]
    done = errors = total = 0
    for i in range(a.repeat):
        try:
            total += fn(a, i)
            done += 1
        except OSError as e:
            errors += 1
            last = e
    print("%s sessions=%d errors=%d bytes=%d" % (a.mode, done, errors, total))
    sys.exit(0 if done else 1)


if __name__ == "__main__":
    main()
