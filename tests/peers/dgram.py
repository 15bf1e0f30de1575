#!/usr/bin/env python3
"""A receiver of AF_UNIX datagrams, for tests: systemd's NOTIFY_SOCKET, or a
private /dev/log standing in for a syslog daemon.

  dgram.py [--port P] [--mode MODE] PATH OUT

Binds a SOCK_DGRAM socket at PATH (mode MODE, octal, default 666: the
engine may run as another user), then appends each datagram it receives to
OUT as one line, its newlines written as "|" and bytes that are not UTF-8
as \\xNN.  With --port, a datagram with a READY=1 line gets
" #listening=yes" (or "no") appended: whether something was listening on
TCP port P (IPv4 or IPv6) at the moment the datagram arrived, read from
/proc/net/tcp{,6}, so that no connection is made.  Runs until killed;
removes PATH when it ends on SIGTERM, if PATH is still its socket.
"""
import argparse
import os
import signal
import socket
import sys


def listening(port):
    want = ":%04X" % port
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    # local_address ends in :PORT (hex), st 0A is LISTEN
                    if cols[1].endswith(want) and cols[3] == "0A":
                        return True
        except OSError:
            pass
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int)
    ap.add_argument("--mode", default="666")
    ap.add_argument("path")
    ap.add_argument("out")
    a = ap.parse_args()

    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.path)
    os.chmod(a.path, int(a.mode, 8))
    ino = os.stat(a.path).st_ino

    def bye(signum, frame):
        # Only our own socket: someone may have put another in its place.
        try:
            if os.stat(a.path).st_ino == ino:
                os.unlink(a.path)
        except OSError:
            pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    with open(a.out, "a", buffering=1) as out:
        out.write("")
        while True:
            data = s.recv(65536)
            text = data.decode("utf-8", "backslashreplace").replace("\n", "|")
            if a.port is not None and "READY=1" in data.decode("utf-8", "replace").split("\n"):
                text += " #listening=%s" % ("yes" if listening(a.port) else "no")
            out.write(text + "\n")


if __name__ == "__main__":
    main()
