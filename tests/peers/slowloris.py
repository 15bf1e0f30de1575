#!/usr/bin/env python3
"""Slowloris clients: many connections that say nothing, or next to nothing,
for the idle-timeout suites.

  slowloris.py MODE HOST PORT [--conns N] [--every S] [--first S]
               [--secs MAX] [--source ADDR[,ADDR...]] [--out FILE]

MODE:
  silent   connect and send nothing; read whatever comes (an SMTP server's
           greeting is forwarded) until the peer closes or MAX passes
  drip     the same, but send one byte of "EHLO slowloris.test\\r\\n" at
           --first seconds after the connect, then every S seconds

All N connections are opened at once (round-robin over the source
addresses).  Each one ends as:
  eof      the peer closed (FIN)
  reset    the peer reset the connection
  open     still open after MAX seconds (then closed by us)
  connect  the connection failed

Prints one line:
  MODE conns=N eof=N reset=N open=N connect=N greeted=N
       close_min=S close_max=S quiet_min=S quiet_max=S
close_*: seconds from connect to the close; quiet_*: seconds from the last
byte either way (the greeting read or a byte sent) to the close, which is
what an idle timeout measures.  With --out FILE, one line per connection:
  OUTCOME CLOSE_SECS QUIET_SECS BYTES_READ BYTES_SENT FIRST_LINE
Exit status 0 unless no connection could be made.
"""
import argparse
import asyncio
import socket
import sys
import time

DRIP = b"EHLO slowloris.test\r\n"


async def one(a, i, res):
    src = a.sources[i % len(a.sources)] if a.sources else None
    t0 = time.monotonic()
    last = t0
    got = b""
    sent = 0
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(
            a.host, a.port, local_addr=(src, 0) if src else None), 10)
    except (OSError, asyncio.TimeoutError) as e:
        res.append(("connect", 0, 0, 0, 0, str(e).replace(" ", "_")[:60]))
        return
    end = t0 + a.secs
    next_send = t0 + a.first if a.mode == "drip" else None
    outcome = "open"
    while True:
        now = time.monotonic()
        if now >= end:
            break
        until = end
        if next_send is not None:
            until = min(until, next_send)
        if next_send is not None and now >= next_send:
            try:
                w.write(DRIP[sent % len(DRIP):sent % len(DRIP) + 1])
                await w.drain()
                sent += 1
                last = time.monotonic()
            except OSError:
                outcome = "reset"
                break
            next_send += a.every
            continue
        try:
            b = await asyncio.wait_for(r.read(4096), max(0.01, until - now))
        except asyncio.TimeoutError:
            continue
        except ConnectionResetError:
            outcome = "reset"
            break
        except OSError:
            outcome = "reset"
            break
        if not b:
            outcome = "eof"
            break
        got += b
        last = time.monotonic()
    t1 = time.monotonic()
    try:
        w.close()
    except OSError:
        pass
    first = got.split(b"\r\n", 1)[0].decode("latin-1").replace(" ", "_")[:60] or "-"
    res.append((outcome, t1 - t0, t1 - last, len(got), sent, first))


async def run(a):
    res = []
    await asyncio.gather(*(one(a, i, res) for i in range(a.conns)))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["silent", "drip"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--every", type=float, default=60)
    ap.add_argument("--first", type=float, default=1)
    ap.add_argument("--secs", type=float, default=30)
    ap.add_argument("--source", default="")
    ap.add_argument("--out")
    a = ap.parse_args()
    a.sources = [x for x in a.source.split(",") if x]
    res = asyncio.run(run(a))
    count = {k: 0 for k in ("eof", "reset", "open", "connect")}
    for r in res:
        count[r[0]] += 1
    closed = [r for r in res if r[0] in ("eof", "reset")]
    greeted = sum(1 for r in res if r[5].startswith("220"))

    def mm(vals):
        return ("%.2f" % min(vals), "%.2f" % max(vals)) if vals else ("-", "-")
    cmin, cmax = mm([r[1] for r in closed])
    qmin, qmax = mm([r[2] for r in closed])
    print("%s conns=%d eof=%d reset=%d open=%d connect=%d greeted=%d "
          "close_min=%s close_max=%s quiet_min=%s quiet_max=%s" % (
              a.mode, a.conns, count["eof"], count["reset"], count["open"],
              count["connect"], greeted, cmin, cmax, qmin, qmax), flush=True)
    if a.out:
        with open(a.out, "w") as f:
            for r in res:
                f.write("%s %.3f %.3f %d %d %s\n" % r)
    return 0 if count["connect"] < a.conns else 1


if __name__ == "__main__":
    sys.exit(main())
