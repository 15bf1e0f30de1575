#!/bin/bash
# Issue 6, test 3: Prometheus exposition under load.
#
# Zone pm1: an engine with `--metrics 127.0.0.1:PORT`, a frontend in front
# of two smtp-sinks (SMTP probe), loaded by smtp-source; zone pm2: a second,
# idle engine, so the shell's output covers two zones.
#  1. `mxlb -c 'show stats prometheus'` passes `promtool check metrics`
#     (Debian's prometheus package): exit 0 and nothing printed (promtool
#     exits 1 on a parse error and 3 with lint lines on stderr); each family
#     has one HELP and one TYPE, before its samples; no series twice; every
#     sample carries the zone label, frontend/farm/server ones where they
#     belong.
#  2. The HTTP endpoint answers GET /metrics with 200 and text/plain, passes
#     promtool too, and serves the same metric names and series as the
#     shell for its zone; other paths get 404.
#  3. After the load: sessions_total is non-zero for both servers, the
#     servers' sum equals the farm's and the frontend's, which equal the
#     sessions smtp-source made; the counters agree between the shell, the
#     endpoint and `show stats json`.
#  4. Issue 13: mxlb_build_info's version is `mxlbd --version`'s;
#     mxlb_start_time_seconds falls between the test's clock before the
#     engine started and after it was ready; mxlb_frontend_maxconn and
#     mxlb_server_maxconn equal the config where it sets one, and there is
#     no series where it does not; a server has refused_total series only
#     for the reasons that can be a server's (queue-timeout, shutdown,
#     fd-limit), the frontend has them all.
#  5. Issue 13: s2's sink stops: s2's mxlb_server_checks_total{result="fail"}
#     rises from 0 and its mxlb_server_state_changes_total goes from 0 to 1,
#     s1's stays 0; its ok checks counted while it was up; `show stats json`
#     agrees.
. "$(dirname "$0")/../lib.sh"

MXLB=${MXLB:-$T_TOP/build/mxlb}
export MXLB_ZONES=/dev/null	# no zone of this machine's files
[ -x "$MXLB" ] || die "no shell at $MXLB (run make)"
[ -x "$MXLBD" ] || die "no engine at $MXLBD (run make)"
command -v promtool >/dev/null || die "promtool is not installed (share/install-deps installs prometheus)"

MSGS=40
free_ports FE P1 P2 METRICS FE2 P3

zone_config "$T_DIR/pm1.json" pm1 \
	farm mx balance=roundrobin probe=smtp probe-interval=0.5 probe-timeout=1 probe-rise=1 probe-fall=1 \
		server s1 "$P1" maxconn=50 \
		server s2 "$P2" \
	frontend in "$FE" maxconn=500 source-maxconn=100 source-rate=1000000
zone_config "$T_DIR/pm2.json" pm2 \
	farm relay probe=tcp probe-interval=0.5 \
		server r1 "$P3" \
	frontend out "$FE2"

start_sink "$P1" || die "smtp-sink on $P1 did not start"
start_sink "$P2" || die "smtp-sink on $P2 did not start"
start_sink "$P3" || die "smtp-sink on $P3 did not start"

T_BEFORE=$(date +%s)
start_engine "$T_DIR/pm2.json" engine-pm2 || die "engine pm2 not ready in 10 s"
start_engine "$T_DIR/pm1.json" engine --metrics "127.0.0.1:$METRICS" || die "engine pm1 not ready in 10 s"
T_READY=$(date +%s)
wait_port 127.0.0.1 "$METRICS" 5 || die "nothing listens on the metrics port $METRICS"

# ups ZONE: the names of the zone's servers whose probe state is up.
ups() {
	timeout -k 5 30 "$MXLB" -c 'show stats json' 2>/dev/null | "$T_PY" -c '
import json, sys
for z in json.load(sys.stdin):
    if z["zone"] == sys.argv[1]:
        print(" ".join(s["name"] for f in z["farms"] for s in f["servers"] if s["state"] == "up"))
' "$1"
}
wait_until 5 eval '[ "$(ups pm1)" = "s1 s2" ]' || die "s1 and s2 not both up in 5 s: $(ups pm1)"

check "smtp-source: $MSGS messages through the frontend" \
	timeout 60 smtp-source -s 4 -m "$MSGS" "127.0.0.1:$FE"
wait_until 5 eval '[ $(( $(sink_count "$P1") + $(sink_count "$P2") )) -ge $MSGS ]'
check_eq "the sinks got every message" "$MSGS" $(( $(sink_count "$P1") + $(sink_count "$P2") ))
# Sessions end at the client's QUIT; the counters settle at once, but give
# the engine a moment to see both closes.
wait_until 5 eval '! timeout 10 "$MXLB" -c "show stats json" 2>/dev/null | grep -Eq "\"sessions_cur\": [1-9]"'

# --- 1. the shell's exposition ------------------------------------------------

timeout -k 5 30 "$MXLB" -c 'show stats prometheus' >"$T_DIR/shell.prom" 2>"$T_DIR/shell.err"
check_eq "mxlb -c 'show stats prometheus' exits 0" 0 "$?"
check_eq "show stats prometheus: nothing on stderr" "" "$(cat "$T_DIR/shell.err")"
check "show stats prometheus prints samples" grep -q '^mxlb_' "$T_DIR/shell.prom"

# promcheck TAG FILE: promtool check metrics; status 0 and nothing printed.
promcheck() {
	timeout -k 5 30 promtool check metrics <"$2" >"$T_DIR/$1.promtool" 2>&1
	local rc=$?
	check_eq "promtool check metrics ($1): exit 0" 0 "$rc"
	check_eq "promtool check metrics ($1): no error, no lint" "" "$(head -5 "$T_DIR/$1.promtool")"
}
promcheck shell "$T_DIR/shell.prom"

# The structure promtool does not check: one HELP and TYPE per family,
# before its samples; no series twice; labels; both zones present.  Prints
# the problems, one a line; also writes FILE.series ("name{labels} value",
# sorted) and FILE.names.
structure() {
	"$T_PY" - "$1" <<'PY'
import re, sys
path = sys.argv[1]
help_, type_, seen, series, probs = {}, {}, set(), {}, []
want = {"frontend": ["zone", "frontend", "farm"], "farm": ["zone", "farm"],
        "server": ["zone", "farm", "server"]}
for n, line in enumerate(open(path), 1):
    line = line.rstrip("\n")
    if not line:
        continue
    m = re.match(r"# (HELP|TYPE) (\S+) (.*)$", line)
    if m:
        d = help_ if m.group(1) == "HELP" else type_
        if m.group(2) in d:
            probs.append("line %d: second %s for %s" % (n, m.group(1), m.group(2)))
        if m.group(2) in seen:
            probs.append("line %d: %s for %s after its samples" % (n, m.group(1), m.group(2)))
        d[m.group(2)] = m.group(3)
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
    if not m:
        probs.append("line %d: not a sample: %r" % (n, line))
        continue
    name, labels, value = m.group(1), m.group(3) or "", m.group(4)
    seen.add(name)
    if name not in type_ or name not in help_:
        probs.append("line %d: %s has no HELP or TYPE before it" % (n, name))
    keys = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"', labels)
    if "zone" not in keys:
        probs.append("line %d: %s has no zone label" % (n, name))
    for kind, ks in want.items():
        if name.startswith("mxlb_%s_" % kind) and not all(k in keys for k in ks):
            probs.append("line %d: %s lacks one of the labels %s" % (n, name, ",".join(ks)))
    key = name + "{" + labels + "}"
    if key in series:
        probs.append("line %d: series %s twice" % (n, key))
    series[key] = value
with open(path + ".series", "w") as f:
    for k in sorted(series):
        f.write("%s %s\n" % (k, series[k]))
with open(path + ".names", "w") as f:
    for k in sorted(set(help_) | seen):
        f.write(k + "\n")
for p in probs[:10]:
    print(p)
PY
}
check_eq "shell exposition: HELP/TYPE once per family, no duplicate series, labels" "" \
	"$(structure "$T_DIR/shell.prom")"
check "shell exposition covers zone pm1 and zone pm2" eval \
	'grep -q "^mxlb_up{zone=\"pm1\"} 1$" "$T_DIR/shell.prom" && grep -q "^mxlb_up{zone=\"pm2\"} 1$" "$T_DIR/shell.prom"'
check "shell exposition has frontend, farm and server series" eval \
	'grep -q "^mxlb_frontend_sessions_total{zone=\"pm1\",frontend=\"in\",farm=\"mx\"}" "$T_DIR/shell.prom" &&
	 grep -q "^mxlb_farm_sessions_total{zone=\"pm1\",farm=\"mx\"}" "$T_DIR/shell.prom" &&
	 grep -q "^mxlb_server_sessions_total{zone=\"pm2\",farm=\"relay\",server=\"r1\"}" "$T_DIR/shell.prom"'

# --- 2. the HTTP endpoint -------------------------------------------------------

# http_get PATH OUT: GET http://127.0.0.1:METRICS/PATH; prints
# "STATUS CONTENT-TYPE", the body in OUT.
http_get() {
	"$T_PY" - "127.0.0.1" "$METRICS" "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
host, port, path, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
try:
    r = urllib.request.urlopen("http://%s:%s%s" % (host, port, path), timeout=10)
    status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
except urllib.error.HTTPError as e:
    status, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
except OSError as e:
    status, ctype, body = 0, "error:%s" % e, b""
open(out, "wb").write(body)
print(status, ctype)
PY
}
got=$(http_get /metrics "$T_DIR/http.prom")
note "GET /metrics: $got"
check_eq "GET /metrics: status 200" 200 "${got%% *}"
check "GET /metrics: Content-Type text/plain" eval '[[ "${got#* }" == text/plain* ]]'
promcheck http "$T_DIR/http.prom"
check_eq "HTTP exposition: HELP/TYPE once per family, no duplicate series, labels" "" \
	"$(structure "$T_DIR/http.prom")"
check_eq "HTTP serves the same metric names as the shell" \
	"$(cat "$T_DIR/shell.prom.names")" "$(cat "$T_DIR/http.prom.names")"
# The same series for zone pm1 (the endpoint is one engine's), by name and
# labels; values may move between the two reads (uptime, probe latency).
check_eq "HTTP serves the same series as the shell for zone pm1" \
	"$(grep 'zone="pm1"' "$T_DIR/shell.prom.series" | cut -d' ' -f1)" \
	"$(cut -d' ' -f1 "$T_DIR/http.prom.series")"
check "HTTP exposition is zone pm1's only" eval '! grep -q "zone=\"pm2\"" "$T_DIR/http.prom"'
got=$(http_get /nothing-here "$T_DIR/http-404.out")
check_eq "GET /nothing-here: 404" 404 "${got%% *}"

# --- 3. the counters after the load -----------------------------------------------

# val FILE SERIES: a sample's value ("" if absent).
val() {
	awk -v k="$2" '$1 == k { print $2 }' "$1"
}
S1='mxlb_server_sessions_total{zone="pm1",farm="mx",server="s1"}'
S2='mxlb_server_sessions_total{zone="pm1",farm="mx",server="s2"}'
FA='mxlb_farm_sessions_total{zone="pm1",farm="mx"}'
FR='mxlb_frontend_sessions_total{zone="pm1",frontend="in",farm="mx"}'
for src in shell http; do
	f=$T_DIR/$src.prom.series
	s1=$(val "$f" "$S1")
	s2=$(val "$f" "$S2")
	note "$src: s1=$s1 s2=$s2 farm=$(val "$f" "$FA") frontend=$(val "$f" "$FR")"
	check "$src: mxlb_server_sessions_total non-zero for s1 and s2" \
		eval '[ "${s1:-0}" -gt 0 ] && [ "${s2:-0}" -gt 0 ]'
	check_eq "$src: servers' sessions add up to the farm's" "$(val "$f" "$FA")" $(( ${s1:-0} + ${s2:-0} ))
	check_eq "$src: the farm's sessions are the frontend's" "$(val "$f" "$FR")" "$(val "$f" "$FA")"
	check_eq "$src: the frontend counted the $MSGS sessions of smtp-source" "$MSGS" "$(val "$f" "$FR")"
	for s in s1 s2; do
		b=$(val "$f" "mxlb_server_bytes_in_total{zone=\"pm1\",farm=\"mx\",server=\"$s\"}")
		check "$src: bytes_in_total of $s non-zero" test "${b:-0}" -gt 0
		check_eq "$src: $s probe state up" 1 \
			"$(val "$f" "mxlb_server_probe_state{zone=\"pm1\",farm=\"mx\",server=\"$s\",state=\"up\"}")"
	done
done

# The same counters as the engine's JSON.
timeout -k 5 30 "$MXLB" -c 'show stats json' >"$T_DIR/stats.json" 2>/dev/null
json=$("$T_PY" - "$T_DIR/stats.json" <<'PY'
import json, sys
for z in json.load(open(sys.argv[1])):
    if z["zone"] != "pm1":
        continue
    for f in z["farms"]:
        for s in f["servers"]:
            print(s["name"], s["counters"]["sessions_total"], s["counters"]["bytes_in"], s["counters"]["bytes_out"])
PY
)
prom=$(for s in s1 s2; do
	f=$T_DIR/shell.prom.series
	echo "$s $(val "$f" "mxlb_server_sessions_total{zone=\"pm1\",farm=\"mx\",server=\"$s\"}")" \
		"$(val "$f" "mxlb_server_bytes_in_total{zone=\"pm1\",farm=\"mx\",server=\"$s\"}")" \
		"$(val "$f" "mxlb_server_bytes_out_total{zone=\"pm1\",farm=\"mx\",server=\"$s\"}")"
done)
check_eq "Prometheus counters = show stats json (sessions, bytes in, bytes out)" "$json" "$prom"

# --- 4. build, start, limits, refusal reasons by object ---------------------------

VERSION=$("$MXLBD" --version | awk '{ print $2 }')
note "mxlbd --version: $VERSION; test window $T_BEFORE..$T_READY"
for src in shell http; do
	f=$T_DIR/$src.prom.series
	check_eq "$src: mxlb_build_info of pm1 has mxlbd --version's version, value 1" \
		"mxlb_build_info{zone=\"pm1\",version=\"$VERSION\"} 1" \
		"$(grep '^mxlb_build_info{zone="pm1"' "$f")"
	st=$(val "$f" 'mxlb_start_time_seconds{zone="pm1"}')
	check "$src: mxlb_start_time_seconds ($st) within $T_BEFORE..$T_READY" \
		eval '[ -n "$st" ] && [ "$st" -ge "$T_BEFORE" ] && [ "$st" -le "$T_READY" ]'
	check_eq "$src: mxlb_frontend_maxconn of in is the config's 500" 500 \
		"$(val "$f" 'mxlb_frontend_maxconn{zone="pm1",frontend="in",farm="mx"}')"
	check_eq "$src: mxlb_server_maxconn of s1 is the config's 50" 50 \
		"$(val "$f" 'mxlb_server_maxconn{zone="pm1",farm="mx",server="s1"}')"
	check_eq "$src: no maxconn series where the config sets none" "" \
		"$(grep -E '^mxlb_(server_maxconn\{.*server="(s2|r1)"|frontend_maxconn\{zone="pm2")' "$f")"
	check_eq "$src: the server refusal reasons are queue-timeout, shutdown, fd-limit" \
		"fd-limit queue-timeout shutdown" \
		"$(grep '^mxlb_server_refused_total{zone="pm1",farm="mx",server="s1"' "$f" |
		   sed 's/.*reason="\([^"]*\)".*/\1/' | sort | xargs)"
	check_eq "$src: no server has a refused_total series for a frontend-only reason" "" \
		"$(grep -E '^mxlb_server_refused_total\{.*reason="(no-server|frontend-maxconn|source-maxconn|source-rate|denied-source)"' "$f")"
	check_eq "$src: the frontend has refused_total for every reason" \
		"denied-source fd-limit frontend-maxconn no-server queue-timeout shutdown source-maxconn source-rate" \
		"$(grep '^mxlb_frontend_refused_total{zone="pm1",frontend="in"' "$f" |
		   sed 's/.*reason="\([^"]*\)".*/\1/' | sort | xargs)"
done

# --- 5. a probe failure, in the probe counters ---------------------------------

CK='mxlb_server_checks_total{zone="pm1",farm="mx",server="%s",result="%s"}'
SC='mxlb_server_state_changes_total{zone="pm1",farm="mx",server="%s"}'
# shellcheck disable=SC2059
ck() { val "$1" "$(printf "$CK" "$2" "$3")"; }
# shellcheck disable=SC2059
sc() { val "$1" "$(printf "$SC" "$2")"; }
f=$T_DIR/http.prom.series
note "before: s2 ok=$(ck "$f" s2 ok) nolb=$(ck "$f" s2 nolb) fail=$(ck "$f" s2 fail) changes=$(sc "$f" s2)"
check "before: s2's ok checks counted (probed up)" test "$(ck "$f" s2 ok)" -gt 0
check_eq "before: s2 no failed check" 0 "$(ck "$f" s2 fail)"
check_eq "before: s2 no nolb check" 0 "$(ck "$f" s2 nolb)"
check_eq "before: s2 no state change (found up at its first check)" 0 "$(sc "$f" s2)"
stop_sink "$P2"
wait_until 5 eval '[ "$(ups pm1)" = "s1" ]' || fail "s2 not down in 5 s: up: $(ups pm1)"
got=$(http_get /metrics "$T_DIR/after.prom")
check_eq "GET /metrics after the failure: 200" 200 "${got%% *}"
promcheck after "$T_DIR/after.prom"
check_eq "after: HELP/TYPE once per family, no duplicate series, labels" "" \
	"$(structure "$T_DIR/after.prom")"
f=$T_DIR/after.prom.series
note "after: s2 ok=$(ck "$f" s2 ok) fail=$(ck "$f" s2 fail) changes=$(sc "$f" s2); s1 changes=$(sc "$f" s1)"
check "after: s2's checks_total{result=\"fail\"} rose" test "$(ck "$f" s2 fail)" -gt 0
check_eq "after: s2's state_changes_total is 1 (up to down)" 1 "$(sc "$f" s2)"
check_eq "after: s1's state_changes_total stays 0" 0 "$(sc "$f" s1)"
check_eq "after: no farm or frontend checks_total series" "" \
	"$(grep -E '^mxlb_(farm|frontend)_(checks|state_changes)_total' "$f")"
timeout -k 5 30 "$MXLB" -c 'show stats json' >"$T_DIR/stats2.json" 2>/dev/null
json=$("$T_PY" - "$T_DIR/stats2.json" <<'PY'
import json, sys
for z in json.load(open(sys.argv[1])):
    if z["zone"] == "pm1":
        for f in z["farms"]:
            for s in f["servers"]:
                if s["name"] == "s2":
                    print(s["counters"]["state_changes"], s["counters"]["checks"]["fail"] > 0)
PY
)
check_eq "show stats json: s2 state_changes 1, failed checks counted" "1 True" "$json"

check "engine pm1 still running" alive "$ENGINE_PID"
finish
