#!/usr/bin/env python3
"""A client that connects every INTERVAL seconds until FILE exists: what a
restart must not refuse.

  greetloop.py HOST PORT --stop FILE [--interval 0.02] [--max S]

Each connection reads the greeting (up to its last line), sends QUIT and
reads the reply.  A connection refused, reset or timed out, or a first reply
that is not 220, counts.  Prints "started" once the first client was
greeted, then at the end:
  tries=N greeted=N refused=N not_greeted=N [first failure]
Exit status 0 when every try was greeted.
"""
import argparse
import os
import socket
import sys
import time


def reply(f):
    while True:
        line = f.readline(4096)
        if not line:
            raise OSError("connection closed before a reply")
        if line[3:4] != b"-":
            return line.decode("latin-1").rstrip("\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--stop", required=True)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--max", type=float, default=60)
    a = ap.parse_args()
    st = {"tries": 0, "greeted": 0, "refused": 0, "not_greeted": 0}
    first = ""
    end = time.time() + a.max
    nxt = time.time()
    while not os.path.exists(a.stop) and time.time() < end:
        st["tries"] += 1
        try:
            s = socket.create_connection((a.host, a.port), 5)
        except ConnectionRefusedError as e:
            st["refused"] += 1
            first = first or "try %d: refused: %s" % (st["tries"], e)
        except OSError as e:
            st["not_greeted"] += 1
            first = first or "try %d: connect: %s" % (st["tries"], e)
        else:
            try:
                s.settimeout(5)
                f = s.makefile("rb")
                line = reply(f)
                if not line.startswith("220"):
                    raise OSError("greeting: %s" % line)
                s.sendall(b"QUIT\r\n")
                reply(f)
                st["greeted"] += 1
                if st["greeted"] == 1:
                    print("started", flush=True)
            except OSError as e:
                st["not_greeted"] += 1
                first = first or "try %d: %s" % (st["tries"], e)
            finally:
                s.close()
        nxt += a.interval
        time.sleep(max(0, nxt - time.time()))
    print("tries=%d greeted=%d refused=%d not_greeted=%d %s" % (
        st["tries"], st["greeted"], st["refused"], st["not_greeted"], first),
        flush=True)
    return 0 if st["greeted"] == st["tries"] else 1


if __name__ == "__main__":
    sys.exit(main())
