#!/usr/bin/env python3
"""rampload.py HOST PORT SECONDS RATE: open RATE SMTP sessions a second for
SECONDS seconds (each: read the greeting, QUIT), and print, per 1-second
window from the start, how many sessions each server took, as
"WINDOW NAME COUNT" lines; the server is the greeting's host name
(smtp-sink -h NAME).  Sessions that fail are counted as "error"."""
import collections, socket, sys, threading, time

host, port, secs, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
counts = collections.Counter()
lock = threading.Lock()

def one(window):
    name = "error"
    try:
        s = socket.create_connection((host, port), 5)
        s.settimeout(5)
        data = b""
        while not data.endswith(b"\n"):
            b = s.recv(1024)
            if not b:
                break
            data += b
        if data.startswith(b"220 "):
            name = data.split()[1].decode("ascii", "replace")
        s.sendall(b"QUIT\r\n")
        s.recv(1024)
        s.close()
    except OSError:
        pass
    with lock:
        counts[(window, name)] += 1

t0 = time.monotonic()
threads = []
n = int(secs * rate)
for k in range(n):
    due = t0 + k / rate
    d = due - time.monotonic()
    if d > 0:
        time.sleep(d)
    t = threading.Thread(target=one, args=(int((time.monotonic() - t0)),))
    t.start()
    threads.append(t)
for t in threads:
    t.join(10)
for (w, name), c in sorted(counts.items()):
    print(w, name, c)
