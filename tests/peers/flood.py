#!/usr/bin/env python3
"""A connection flood from one source address, for the per-source limit
suites.

  flood.py HOST PORT [--source ADDR] [--conns N] [--conc C] [--hold S]
           [--timeout T] [--expect LINE] [--out FILE]

Opens N connections, at most C at a time.  Each reads the first reply line
(at most T seconds).  A 220 greeting is held S seconds (the session counts
against the per-source concurrency meanwhile), then QUIT and close.
Anything else is read until the peer closes.  Each connection ends as:

  greeted   a 220 greeting
  refused   a 4xx line, then the peer closed; "exact" counts those whose
            whole output was --expect followed by CRLF
  other     anything else (5xx, garbage, nothing then a close)
  timeout   no line in T seconds
  connect   the connection failed

Prints one line:
  conns=N greeted=N refused=N exact=N other=N timeout=N connect=N secs=S
With --out FILE, one line per connection: OUTCOME FIRST-LINE.
Exit status 0 unless no connection could be made.
"""
import argparse
import asyncio
import sys
import time


async def one(a, sem, res):
    async with sem:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                a.host, a.port, local_addr=(a.source, 0) if a.source else None), a.timeout)
        except (OSError, asyncio.TimeoutError) as e:
            res.append(("connect", str(e)[:80]))
            return
        data = b""
        outcome = "other"
        try:
            line = await asyncio.wait_for(r.readline(), a.timeout)
            data = line
            if line.startswith(b"220"):
                outcome = "greeted"
                await asyncio.sleep(a.hold)
                w.write(b"QUIT\r\n")
                await w.drain()
                await asyncio.wait_for(r.read(), a.timeout)
            else:
                rest = await asyncio.wait_for(r.read(), a.timeout)
                data += rest
                if line[:1] == b"4" and line.endswith(b"\r\n"):
                    outcome = "refused"
        except asyncio.TimeoutError:
            outcome = "timeout" if not data else outcome
        except OSError:
            pass
        try:
            w.close()
        except OSError:
            pass
        exact = a.expect is not None and data == a.expect.encode() + b"\r\n"
        first = data.split(b"\r\n", 1)[0].decode("latin-1")
        res.append((outcome + ("+exact" if exact else ""), first))


async def run(a):
    res = []
    sem = asyncio.Semaphore(max(1, a.conc))
    await asyncio.gather(*(one(a, sem, res) for _ in range(a.conns)))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--source")
    ap.add_argument("--conns", type=int, default=100)
    ap.add_argument("--conc", type=int, default=100)
    ap.add_argument("--hold", type=float, default=0)
    ap.add_argument("--timeout", type=float, default=10)
    ap.add_argument("--expect")
    ap.add_argument("--out")
    a = ap.parse_args()
    t0 = time.time()
    res = asyncio.run(run(a))
    secs = time.time() - t0
    c = dict.fromkeys(["greeted", "refused", "exact", "other", "timeout", "connect"], 0)
    for outcome, _ in res:
        base = outcome.split("+")[0]
        c[base] += 1
        if outcome.endswith("+exact"):
            c["exact"] += 1
    print("conns=%d " % len(res) + " ".join("%s=%d" % kv for kv in c.items()) +
          " secs=%.2f" % secs, flush=True)
    if a.out:
        with open(a.out, "w") as f:
            for outcome, first in res:
                f.write("%s %s\n" % (outcome, first))
    return 0 if c["connect"] < len(res) else 1


if __name__ == "__main__":
    sys.exit(main())
