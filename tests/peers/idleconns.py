#!/usr/bin/env python3
"""Many idle SMTP sessions held open, for the scale benchmark.

  idleconns.py HOST PORT --conns N [--source A,B,...] [--rate R]
               [--timeout T] [--hold S]

Opens N connections at about R a second (round-robin over the source
addresses, so that no address runs out of ephemeral ports), reads each one's
greeting, then holds them all, silent, for S seconds or until SIGTERM or
SIGINT.  Progress lines on stdout:

  opened=N greeted=N failed=N secs=S      every second while opening
  ready greeted=N failed=N secs=S         once every connection is settled
  closed held=N                           after the hold (all closed by us)

Exit status 0 when every connection was greeted.
"""
import argparse
import asyncio
import signal
import sys
import time


async def main_async(a):
    st = {"opened": 0, "greeted": 0, "failed": 0, "lost": 0}
    conns = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sources = [x for x in a.source.split(",") if x] or [None]

    async def one(i):
        src = sources[i % len(sources)]
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                a.host, a.port, local_addr=(src, 0) if src else None), a.timeout)
        except (OSError, asyncio.TimeoutError):
            st["failed"] += 1
            return
        st["opened"] += 1
        try:
            line = await asyncio.wait_for(r.readline(), a.timeout)
        except (OSError, asyncio.TimeoutError):
            line = b""
        if line.startswith(b"220"):
            st["greeted"] += 1
            conns.append((r, w))
        else:
            st["failed"] += 1
            w.close()

    t0 = time.time()
    tasks = []
    last = t0
    for i in range(a.conns):
        tasks.append(asyncio.ensure_future(one(i)))
        # Pace the opening: R connections a second.
        due = t0 + (i + 1) / a.rate
        now = time.time()
        if due > now:
            await asyncio.sleep(due - now)
        if time.time() - last >= 1:
            last = time.time()
            print("opened=%d greeted=%d failed=%d secs=%.1f" % (
                st["opened"], st["greeted"], st["failed"], last - t0), flush=True)
    await asyncio.gather(*tasks)
    print("ready greeted=%d failed=%d secs=%.1f" % (st["greeted"], st["failed"],
                                                    time.time() - t0), flush=True)
    try:
        await asyncio.wait_for(stop.wait(), a.hold)
    except asyncio.TimeoutError:
        pass
    for r, w in conns:
        w.close()
    await asyncio.sleep(0.5)
    print("closed held=%d" % len(conns), flush=True)
    return 0 if st["greeted"] == a.conns else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--conns", type=int, default=1000)
    ap.add_argument("--source", default="")
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--hold", type=float, default=3600)
    a = ap.parse_args()
    return asyncio.run(main_async(a))


if __name__ == "__main__":
    sys.exit(main())
