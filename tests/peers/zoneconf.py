#!/usr/bin/env python3
"""Writes a zone config (JSON) from a compact description, for tests.

  zoneconf.py FILE ZONE [ITEM...]

ITEM is one of
  farm NAME [KEY=VALUE...]            a farm; the servers after it are its own
  server NAME PORT [KEY=VALUE...]     a server of the last farm, on 127.0.0.1
                                      unless address=... says otherwise; PORT
                                      - for none (the frontend's)
  frontend NAME BIND [KEY=VALUE...]   a frontend on 127.0.0.1 (address=A,B for
                                      others) in front of the last farm (farm=
                                      for another)

A VALUE that reads as JSON (1, true, [..]) is that; any other is a string;
a frontend's address, allowed-source and denied-source are lists, comma
separated (or JSON, [..]); KEY= (no value) leaves the key out.  KEY order
is kept, so a file reads as if written by hand:

  zoneconf.py z.json z1 farm mx probe=smtp server s1 2525 weight=2 \\
      frontend in 2500 maxconn=100
"""
import json
import sys

LISTS = ("address", "allowed-source", "denied-source")


def value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def keys(words, obj, lists=()):
    for w in words:
        if "=" not in w:
            sys.exit("zoneconf.py: '%s': KEY=VALUE expected" % w)
        k, v = w.split("=", 1)
        if not v:
            obj.pop(k, None)
            continue
        if k in lists and not v.startswith("["):
            obj[k] = [a for a in v.split(",") if a]
        else:
            obj[k] = value(v)
    return obj


def build(zone, args):
    conf = {"zone": zone}
    farms, frontends = [], []
    items, cur = [], None
    for a in args:
        if a in ("farm", "server", "frontend"):
            cur = [a]
            items.append(cur)
        elif cur is None:
            sys.exit("zoneconf.py: '%s': farm, server or frontend expected" % a)
        else:
            cur.append(a)
    for kind, *words in items:
        need = 1 if kind == "farm" else 2
        if len(words) < need:
            sys.exit("zoneconf.py: %s: %s" % (kind, "NAME" if need == 1 else "NAME and a port"))
        if kind == "farm":
            farms.append(keys(words[1:], {"name": words[0]}))
        elif kind == "server":
            if not farms:
                sys.exit("zoneconf.py: server %s: no farm before it" % words[0])
            s = {"address": "127.0.0.1", "port": value(words[1]), "name": words[0]}
            if words[1] == "-":
                del s["port"]
            keys(words[2:], s)
            farms[-1].setdefault("servers", []).append(s)
        else:
            f = {"name": words[0], "bind": words[1], "address": ["127.0.0.1"]}
            if farms:
                f["farm"] = farms[-1]["name"]
            frontends.append(keys(words[2:], f, LISTS))
    if farms:
        conf["farms"] = farms
    if frontends:
        conf["frontends"] = frontends
    return conf


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    conf = build(sys.argv[2], sys.argv[3:])
    with open(sys.argv[1], "w") as f:
        json.dump(conf, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
