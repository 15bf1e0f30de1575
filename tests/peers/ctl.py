#!/usr/bin/env python3
"""A small client for mxlbd's control socket (engine/proto.h), for tests.

  ctl.py [-t SECS] [-p PATH] SOCK REQUEST...
      Send each REQUEST (a JSON object, one line) in turn and wait for the
      reply that echoes its id (events in between are skipped).  Prints each
      reply as one line, or with -p only the value at PATH of the last one
      (dotted, numbers index arrays: result.version, error.code,
      result.versions.-1.comment).  A reply with "id": null (the engine's
      refusal of a connection, a line it could not parse) answers the
      request being waited for.
  ctl.py --subscribe SECS SOCK
      Subscribe; print the subscribe reply, then every event as it comes
      (line-buffered), for SECS seconds.
  ctl.py --commit FILE [--comment C] [--confirmed N] [--base N] SOCK
      Commit the config in FILE on the running version (read with "get",
      or --base N), print the reply.
  ctl.py --raw TEXT [--no-close] SOCK
      Send TEXT (Python escapes: \\n, \\x00...), then print every line the
      engine sends until it closes or -t passes; the last line is
      "# end=eof|reset|timeout".
  ctl.py --bigline MB SOCK
      Send MB megabytes without a newline while reading; print the lines
      received, then "# sent=BYTES end=eof|reset|timeout".
  ctl.py --noread N SOCK
      Send N "stats" requests without reading any reply, then hold the
      socket open until the engine closes it or -t passes; prints
      "# sent=N end=closed|timeout".
  ctl.py --poll SECS SOCK
      For SECS seconds, send "hello" every 0.1 s on one connection and wait
      for each reply (at most -t); prints "# asked=N answered=N max_ms=N".
  ctl.py --many N SOCK
      N clients connect at once, each sends hello and reads its reply;
      prints "# ok=N failed=N" and the first failures.

Exit status: 0 every reply ok, 1 an error reply, 2 the connection closed or
timed out before a reply, 3 the connect itself failed (the message, e.g.
"connect-error: [Errno 13] Permission denied", is printed on stdout).
"""
import argparse
import codecs
import json
import socket
import sys
import threading
import time


def unix_connect(path, timeout):
    """Connect as a blocking client would, but bounded: with a timeout set,
    a UNIX socket whose listen queue is full fails at once with EAGAIN
    instead of waiting for the engine to accept, so retry until then."""
    deadline = time.time() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.time() >= deadline:
                raise socket.timeout("listen queue full for %.0f s" % timeout)
            time.sleep(0.01)


def connect(path, timeout):
    try:
        return unix_connect(path, timeout)
    except OSError as e:
        print("connect-error: %s" % e, flush=True)
        sys.exit(3)


class Lines:
    """Lines from a socket, each bounded by a deadline."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def next(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise socket.timeout()
            self.s.settimeout(left)
            b = self.s.recv(1 << 20)
            if not b:
                raise EOFError()
            self.buf += b
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")


def pick(obj, path):
    for k in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(k)]
        elif isinstance(obj, dict):
            obj = obj.get(k)
        else:
            return None
    return obj


def show(v):
    if isinstance(v, str):
        return v
    return json.dumps(v, separators=(",", ":"))


def request(s, lines, req, timeout):
    """Send one request, return its reply (a dict)."""
    s.sendall((json.dumps(req, separators=(",", ":")) + "\n").encode())
    deadline = time.time() + timeout
    while True:
        msg = json.loads(lines.next(deadline))
        if "event" in msg and "id" not in msg:
            continue
        if msg.get("id") in (req.get("id"), None):
            return msg


def do_requests(a):
    s = connect(a.sock, a.timeout)
    lines, last, rc = Lines(s), None, 0
    for text in a.requests:
        req = json.loads(text)
        try:
            last = request(s, lines, req, a.timeout)
        except socket.timeout:
            print("# timeout waiting for the reply to %s" % text, flush=True)
            return 2
        except (EOFError, ConnectionResetError, BrokenPipeError) as e:
            print("# closed before the reply to %s (%s)" % (text, type(e).__name__),
                  flush=True)
            return 2
        if not last.get("ok"):
            rc = 1
        if not a.print:
            print(show(last), flush=True)
        if last.get("id") is None:
            break	# a connection-level error: nothing more will come
    if a.print and last is not None:
        print(show(pick(last, a.print)), flush=True)
    return rc


def do_subscribe(a):
    s = connect(a.sock, a.timeout)
    lines = Lines(s)
    end = time.time() + a.subscribe
    try:
        print(show(request(s, lines, {"id": "sub", "cmd": "subscribe"}, a.timeout)),
              flush=True)
        while True:
            print(lines.next(end), flush=True)
    except socket.timeout:
        return 0
    except (EOFError, OSError):
        print("# closed", flush=True)
        return 2


def do_commit(a):
    s = connect(a.sock, a.timeout)
    lines = Lines(s)
    cfg = json.load(open(a.commit))
    base = a.base
    if base is None:
        got = request(s, lines, {"id": 1, "cmd": "get"}, a.timeout)
        if not got.get("ok"):
            print(show(got), flush=True)
            return 1
        base = got["result"]["running"]
    req = {"id": 2, "cmd": "commit", "base": base, "config": cfg}
    if a.comment is not None:
        req["comment"] = a.comment
    if a.confirmed is not None:
        req["confirmed"] = a.confirmed
    reply = request(s, lines, req, a.timeout)
    print(show(pick(reply, a.print) if a.print else reply), flush=True)
    return 0 if reply.get("ok") else 1


def read_to_end(lines, deadline):
    """Print lines until EOF, a reset or the deadline; return how it ended."""
    try:
        while True:
            print(lines.next(deadline), flush=True)
    except EOFError:
        return "eof"
    except socket.timeout:
        return "timeout"
    except ConnectionResetError:
        return "reset"


def do_raw(a):
    s = connect(a.sock, a.timeout)
    data = codecs.decode(a.raw, "unicode_escape").encode("latin-1")
    s.sendall(data)
    if not a.no_close:
        s.shutdown(socket.SHUT_WR)
    print("# end=%s" % read_to_end(Lines(s), time.time() + a.timeout), flush=True)
    return 0


def do_bigline(a):
    s = connect(a.sock, a.timeout)
    total = a.bigline * 1024 * 1024
    chunk = b"x" * 65536
    state = {"sent": 0}
    end = time.time() + a.timeout
    how = {}

    def reader():
        how["end"] = read_to_end(Lines(s), end)

    t = threading.Thread(target=reader)
    t.start()
    try:
        while state["sent"] < total and time.time() < end:
            s.settimeout(max(0.01, end - time.time()))
            state["sent"] += s.send(chunk[: total - state["sent"]])
    except OSError:
        pass	# the engine closed: expected past its line limit
    t.join(max(0.01, end - time.time()) + 1)
    print("# sent=%d end=%s" % (state["sent"], how.get("end", "timeout")), flush=True)
    return 0


def do_noread(a):
    s = connect(a.sock, a.timeout)
    end = time.time() + a.timeout
    sent = 0
    line = b'{"id":%d,"cmd":"stats"}\n'
    try:
        while sent < a.noread and time.time() < end:
            s.settimeout(max(0.01, end - time.time()))
            s.sendall(line % sent)
            sent += 1
    except OSError:
        pass
    # Hold the socket, still not reading, until the engine drops us.  EOF
    # cannot be seen without reading, so probe with a byte now and then: once
    # the engine has closed its end the send fails (EPIPE).
    how = "timeout"
    while time.time() < end:
        try:
            s.settimeout(0.2)
            s.send(b" ")
        except socket.timeout:
            continue
        except OSError:
            how = "closed"
            break
        time.sleep(0.2)
    print("# sent=%d end=%s" % (sent, how), flush=True)
    return 0


def do_poll(a):
    s = connect(a.sock, a.timeout)
    lines = Lines(s)
    end = time.time() + a.poll
    asked = answered = 0
    worst = 0.0
    while time.time() < end:
        asked += 1
        t0 = time.time()
        try:
            r = request(s, lines, {"id": asked, "cmd": "hello"}, a.timeout)
        except (socket.timeout, EOFError, OSError) as e:
            print("# request %d: %s" % (asked, type(e).__name__), flush=True)
            break
        dt = (time.time() - t0) * 1000
        worst = max(worst, dt)
        if r.get("ok") and r.get("id") == asked:
            answered += 1
        time.sleep(0.1)
    print("# asked=%d answered=%d max_ms=%d" % (asked, answered, worst), flush=True)
    return 0 if asked == answered else 1


def do_many(a):
    n = a.many
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        try:
            barrier.wait(a.timeout)
            s = unix_connect(a.sock, a.timeout)
            r = request(s, Lines(s), {"id": i, "cmd": "hello"}, a.timeout)
            results[i] = "ok" if r.get("ok") and r.get("id") == i else show(r)
            s.close()
        except Exception as e:	# noqa: BLE001 -- reported, not raised
            results[i] = "%s: %s" % (type(e).__name__, e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.timeout * 3)
    bad = [r for r in results if r != "ok"]
    print("# ok=%d failed=%d" % (n - len(bad), len(bad)), flush=True)
    for r in bad[:5]:
        print("# %s" % r, flush=True)
    return 0 if not bad else 1


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("-t", "--timeout", type=float, default=10)
    ap.add_argument("-p", "--print")
    ap.add_argument("--subscribe", type=float)
    ap.add_argument("--commit")
    ap.add_argument("--comment")
    ap.add_argument("--confirmed", type=int)
    ap.add_argument("--base", type=int)
    ap.add_argument("--raw")
    ap.add_argument("--no-close", action="store_true")
    ap.add_argument("--bigline", type=int)
    ap.add_argument("--noread", type=int)
    ap.add_argument("--many", type=int)
    ap.add_argument("--poll", type=float)
    ap.add_argument("sock")
    ap.add_argument("requests", nargs="*")
    a = ap.parse_args()
    for mode in ("subscribe", "commit", "raw", "bigline", "noread", "poll", "many"):
        if getattr(a, mode) is not None:
            return globals()["do_" + mode](a)
    return do_requests(a)


if __name__ == "__main__":
    sys.exit(main())
