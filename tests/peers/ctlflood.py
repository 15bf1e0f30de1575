#!/usr/bin/env python3
"""Abusive clients of mxlbd's control socket (engine/proto.h), for tests.

  ctlflood.py idle SOCK --conns N [--secs S]
      Open N connections as fast as possible and send nothing.  A
      connection the engine answers at once (a refusal: busy, denied) and
      closes counts as refused, with the error code.  Prints
      "ready opened=N held=N refused=N codes=CODE:N,..." once every
      connection is settled, then "closed=N held=N secs=T" each time the
      engine closes held ones, for S seconds or until every held one is
      closed; the last line is "# end held=N closed=N".
  ctlflood.py bigline SOCK --conns N (--mb M | --kb K) [--secs S]
      N connections each send M MB (K KB) with no newline, reading
      meanwhile.
      Prints "ready" once every one has sent what the engine took, then
      "# conns=N too_long=N closed=N max_sent=BYTES" once the engine has
      closed them, or S seconds passed.  The connections are held open
      until then.
  ctlflood.py waits SOCK --n N --farm F --server S [--secs T]
      On one connection, send N `wait` requests (no timeout) while reading
      the replies; prints "# sent=N ok=N busy=N other=N unanswered=N" when
      every request is answered except the waits the engine keeps, or T
      seconds passed.

Exit status 0 unless a connect failed for another reason than a refusal.
"""
import argparse
import json
import resource
import selectors
import socket
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Blocking: a full listen queue makes a non-blocking connect fail with
    # EAGAIN; a real client waits its turn.
    s.connect(path)
    s.setblocking(False)
    return s


def first_code(data):
    for line in data.split(b"\n"):
        try:
            return json.loads(line)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            continue
    return "eof"


def do_idle(a):
    raise_nofile()
    held, codes, errors = [], {}, 0
    for _ in range(a.conns):
        try:
            held.append(connect(a.sock))
        except OSError as e:
            errors += 1
            codes["connect:" + (e.strerror or str(e))] = codes.get(
                "connect:" + (e.strerror or str(e)), 0) + 1
    # A refusal comes at once: an error line, then the close.
    sel = selectors.DefaultSelector()
    for s in held:
        sel.register(s, selectors.EVENT_READ)
    bufs = {s: b"" for s in held}
    deadline = time.monotonic() + 2
    live = set(held)
    while time.monotonic() < deadline:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if d:
                bufs[s] += d
                continue
            sel.unregister(s)
            live.discard(s)
            c = first_code(bufs[s])
            codes[c] = codes.get(c, 0) + 1
            s.close()
    refused = len(held) - len(live)
    print("ready opened=%d held=%d refused=%d codes=%s" % (
        len(held), len(live), refused + errors,
        ",".join("%s:%d" % kv for kv in sorted(codes.items()))), flush=True)
    start = time.monotonic()
    deadline = start + a.secs
    nheld = len(live)
    closed = 0
    while live and time.monotonic() < deadline:
        n = 0
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if d:
                continue
            sel.unregister(s)
            live.discard(s)
            s.close()
            n += 1
        if n:
            closed += n
            print("closed=%d held=%d secs=%.1f" % (
                closed, len(live), time.monotonic() - start), flush=True)
    print("# end held=%d closed=%d" % (nheld, closed), flush=True)
    for s in live:
        s.close()
    return 0


def do_bigline(a):
    raise_nofile()
    chunk = b"x" * 65536
    total = a.kb * 1024 if a.kb else a.mb * 1024 * 1024
    conns = [connect(a.sock) for _ in range(a.conns)]
    sent = {s: 0 for s in conns}
    got = {s: b"" for s in conns}
    done = set()
    sel = selectors.DefaultSelector()
    for s in conns:
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    deadline = time.monotonic() + a.secs
    ready = False
    stuck_since = time.monotonic()
    while len(done) < len(conns) and time.monotonic() < deadline:
        progress = False
        for key, ev in sel.select(0.2):
            s = key.fileobj
            if ev & selectors.EVENT_READ:
                try:
                    d = s.recv(65536)
                except OSError:
                    d = b""
                if d:
                    got[s] += d
                else:
                    sel.unregister(s)
                    done.add(s)
                    continue
            if ev & selectors.EVENT_WRITE and sent[s] < total:
                try:
                    n = s.send(chunk[:min(len(chunk), total - sent[s])])
                    sent[s] += n
                    progress = True
                except BlockingIOError:
                    pass
                except OSError:
                    sel.unregister(s)
                    done.add(s)
                    continue
                if sent[s] >= total:
                    sel.modify(s, selectors.EVENT_READ)
        if progress:
            stuck_since = time.monotonic()
        elif not ready and time.monotonic() - stuck_since > 1:
            ready = True
            print("ready", flush=True)
    too_long = sum(1 for s in conns if b'"too-long"' in got[s])
    print("# conns=%d too_long=%d closed=%d max_sent=%d" % (
        len(conns), too_long, len(done), max(sent.values())), flush=True)
    for s in conns:
        s.close()
    return 0


def do_waits(a):
    s = connect(a.sock)
    out = b"".join(b'{"id":%d,"cmd":"wait","farm":"%s","server":"%s"}\n' % (
        i, a.farm.encode(), a.server.encode()) for i in range(a.n))
    off = 0
    buf = b""
    counts = {"ok": 0, "busy": 0, "other": 0}
    deadline = time.monotonic() + a.secs
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    answered = 0
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        events = sel.select(0.2)
        for key, ev in events:
            if ev & selectors.EVENT_WRITE and off < len(out):
                try:
                    off += s.send(out[off:off + 65536])
                except BlockingIOError:
                    pass
                if off >= len(out):
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                d = s.recv(1 << 20)
                if not d:
                    deadline = 0
                    break
                buf += d
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    r = json.loads(line)
                    answered += 1
                    quiet_since = time.monotonic()
                    if r.get("ok"):
                        counts["ok"] += 1
                    elif r.get("error", {}).get("code") == "busy":
                        counts["busy"] += 1
                    else:
                        counts["other"] += 1
        # Everything sent, and nothing more to come for a second: the rest
        # are the waits the engine holds.
        if off >= len(out) and time.monotonic() - quiet_since > 1:
            break
    print("# sent=%d ok=%d busy=%d other=%d unanswered=%d" % (
        out[:off].count(b"\n"), counts["ok"], counts["busy"],
        counts["other"], a.n - answered), flush=True)
    s.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["idle", "bigline", "waits"])
    ap.add_argument("sock")
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--secs", type=float, default=30)
    ap.add_argument("--mb", type=int, default=16)
    ap.add_argument("--kb", type=int)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--farm", default="mx")
    ap.add_argument("--server", default="s1")
    a = ap.parse_args()
    return {"idle": do_idle, "bigline": do_bigline, "waits": do_waits}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
