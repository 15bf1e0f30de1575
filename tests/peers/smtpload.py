#!/usr/bin/env python3
"""SMTP load client that accounts for every message: one message per
connection, COUNT messages (or as many as fit in
DURATION seconds) over CONC parallel sessions.

smtp-source(1) stops the whole run at the first lost connection (even with
-A), so it cannot tell which messages were refused when a server dies under
it.  This client records, for each message, how it ended:

  delivered   the "." got a 2xx reply
  tempfail    a 4xx reply at any stage (421 greeting included)
  permfail    a 5xx reply
  lost        the connection closed or was reset before the final reply
  timeout     no reply within --timeout
  connect     the connection itself failed

and prints one summary line:
  sent=N delivered=N tempfail=N permfail=N lost=N timeout=N connect=N
With --log FILE it writes one line per message:
  START END OUTCOME STAGE REPLY    (times as epoch seconds)
Exit status 0 when every message was delivered, 1 otherwise.
"""
import argparse
import socket
import sys
import threading
import time


class Reply(Exception):
    def __init__(self, outcome, stage, text):
        super().__init__(text)
        self.outcome, self.stage, self.text = outcome, stage, text


def read_reply(f, stage):
    """Read a (multi-line) reply; return (code, last line)."""
    while True:
        try:
            line = f.readline(4096)
        except socket.timeout:
            raise Reply("timeout", stage, "")
        except OSError as e:
            raise Reply("lost", stage, str(e))
        if not line:
            raise Reply("lost", stage, "connection closed")
        if len(line) < 4 or not line[:3].isdigit():
            raise Reply("lost", stage, "garbage: %r" % line[:60])
        if line[3:4] != b"-":
            return int(line[:3]), line.decode("latin-1").rstrip("\r\n")


def expect(f, stage, want):
    code, text = read_reply(f, stage)
    if code // 100 == 4:
        raise Reply("tempfail", stage, text)
    if code // 100 == 5 or code // 100 != want:
        raise Reply("permfail", stage, text)
    return text


def send(s, stage, data):
    try:
        s.sendall(data)
    except socket.timeout:
        raise Reply("timeout", stage, "")
    except OSError as e:
        raise Reply("lost", stage, str(e))


def message(args, seq):
    lines = [
        "From: <%s>" % args.sender,
        "To: <%s>" % args.rcpt,
        "Subject: mxlb test %d" % seq,
        "Message-Id: <%d.%d@mxlb.test>" % (seq, int(time.time() * 1e6)),
        "",
    ]
    body = "\r\n".join(lines) + "\r\n"
    left = args.size
    n = 0
    while left > 0:
        n += 1
        chunk = ("%d" % n + "X" * 78)[: min(78, left)]
        body += chunk + "\r\n"
        left -= len(chunk) + 2
    return body.encode() + b".\r\n"


def one(args, seq):
    """One session, one message; returns (outcome, stage, text)."""
    stage = "connect"
    try:
        src = (args.source, 0) if args.source else None
        s = socket.create_connection((args.host, args.port), args.timeout, src)
    except socket.timeout:
        return "timeout", stage, ""
    except OSError as e:
        return "connect", stage, str(e)
    try:
        s.settimeout(args.timeout)
        f = s.makefile("rb")
        expect(f, "greeting", 2)
        send(s, "helo", b"EHLO %s\r\n" % args.helo.encode())
        expect(f, "helo", 2)
        send(s, "mail", b"MAIL FROM:<%s>\r\n" % args.sender.encode())
        expect(f, "mail", 2)
        send(s, "rcpt", b"RCPT TO:<%s>\r\n" % args.rcpt.encode())
        expect(f, "rcpt", 2)
        send(s, "data", b"DATA\r\n")
        expect(f, "data", 3)
        send(s, "dot", message(args, seq))
        text = expect(f, "dot", 2)
        # Delivered: QUIT is a courtesy, its failure changes nothing.
        try:
            s.sendall(b"QUIT\r\n")
            read_reply(f, "quit")
        except (Reply, OSError):
            pass
        return "delivered", "dot", text
    except Reply as r:
        return r.outcome, r.stage, r.text
    finally:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", "--count", type=int, default=1)
    ap.add_argument("-d", "--duration", type=float, default=0,
                    help="send until this many seconds have passed (then -n is ignored)")
    ap.add_argument("-c", "--conc", type=int, default=1)
    ap.add_argument("-s", "--size", type=int, default=1024, help="body bytes")
    ap.add_argument("--source", help="local address to bind")
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--pause", type=float, default=0, help="seconds between a worker's messages")
    ap.add_argument("--helo", default="load.mxlb.test")
    ap.add_argument("--from", dest="sender", default="load@mxlb.test")
    ap.add_argument("--to", dest="rcpt", default="sink@mxlb.test")
    ap.add_argument("--log")
    args = ap.parse_args()

    lock = threading.Lock()
    state = {"next": 0}
    stop_at = time.time() + args.duration if args.duration else None
    records = []
    totals = dict.fromkeys(
        ["delivered", "tempfail", "permfail", "lost", "timeout", "connect"], 0)

    def worker():
        while True:
            with lock:
                if stop_at is not None:
                    if time.time() >= stop_at:
                        return
                elif state["next"] >= args.count:
                    return
                state["next"] += 1
                seq = state["next"]
            t0 = time.time()
            outcome, stage, text = one(args, seq)
            t1 = time.time()
            with lock:
                totals[outcome] += 1
                records.append((t0, t1, outcome, stage, text))
            if args.pause:
                time.sleep(args.pause)

    threads = [threading.Thread(target=worker) for _ in range(max(1, args.conc))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if args.log:
        with open(args.log, "w") as out:
            for r in sorted(records):
                out.write("%.3f %.3f %s %s %s\n" % r)
    print("sent=%d " % len(records) + " ".join("%s=%d" % kv for kv in totals.items()))
    sys.exit(0 if totals["delivered"] == len(records) else 1)


if __name__ == "__main__":
    main()
