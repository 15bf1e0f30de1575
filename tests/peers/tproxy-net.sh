#!/bin/bash
# Three network namespaces of this run for transparent mode (farm source
# client), sourced by tests/integration/engine-transparent.sh and
# tests/bench/transparent.sh after tests/lib.sh:
#
#   client   TP_NS_C   eth0 192.0.2.10/24, default via 192.0.2.1
#   balancer TP_NS_B   eth0 192.0.2.1/24 (to the client),
#                      eth1 198.51.100.1/24 (to the server)
#   server   TP_NS_S   eth0 198.51.100.10/24, default via 198.51.100.1
#
# (TEST-NET-1 and -2, only inside these namespaces.)  The balancer does not
# forward (ip_forward stays 0): the server's replies to 192.0.2.10 come back
# to it by the server's default route, and its policy routing delivers
# them locally, to the engine's transparent sockets -- the iif form of the
# routing mxlbd(8) documents, which needs only iproute2:
#
#   ip rule add iif eth1 lookup 100 priority 100
#   ip route add local 0.0.0.0/0 dev lo table 100
#
#   tp_net_up        make them (removed at exit); 1 if namespaces cannot be
#                    made here (TP_WHY says why)
#   tp_nsx NS CMD... CMD in namespace NS (ip netns exec: the PID is CMD's)

TP_NS_C=mxtpc$$
TP_NS_B=mxtpb$$
TP_NS_S=mxtps$$
TP_CLIENT=192.0.2.10
TP_FRONT=192.0.2.1
TP_BACK=198.51.100.1
TP_SERVER=198.51.100.10
TP_TABLE=100

tp_nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

tp_net_up() {
	local ns
	TP_WHY=""
	[ "$(id -u)" = 0 ] || { TP_WHY="needs root for network namespaces"; return 1; }
	if ! ip netns add "$TP_NS_C" 2>"$T_DIR/netns.err"; then
		TP_WHY="ip netns does not work here: $(head -1 "$T_DIR/netns.err")"
		return 1
	fi
	at_exit "ip netns del $TP_NS_C"
	for ns in "$TP_NS_B" "$TP_NS_S"; do
		ip netns add "$ns" || { TP_WHY="ip netns add $ns failed"; return 1; }
		at_exit "ip netns del $ns"
	done
	for ns in "$TP_NS_C" "$TP_NS_B" "$TP_NS_S"; do
		ip -n "$ns" link set lo up
	done
	ip link add eth0 netns "$TP_NS_C" type veth peer name eth0 netns "$TP_NS_B" &&
		ip link add eth1 netns "$TP_NS_B" type veth peer name eth0 netns "$TP_NS_S" ||
		{ TP_WHY="no veth pairs"; return 1; }
	ip -n "$TP_NS_C" addr add "$TP_CLIENT/24" dev eth0
	ip -n "$TP_NS_B" addr add "$TP_FRONT/24" dev eth0
	ip -n "$TP_NS_B" addr add "$TP_BACK/24" dev eth1
	ip -n "$TP_NS_S" addr add "$TP_SERVER/24" dev eth0
	ip -n "$TP_NS_C" link set eth0 up
	ip -n "$TP_NS_B" link set eth0 up
	ip -n "$TP_NS_B" link set eth1 up
	ip -n "$TP_NS_S" link set eth0 up
	ip -n "$TP_NS_C" route add default via "$TP_FRONT"
	ip -n "$TP_NS_S" route add default via "$TP_BACK"
	# The balancer's side of transparent mode: what comes back from the
	# servers is for this host, whatever its destination.
	ip -n "$TP_NS_B" rule add iif eth1 lookup "$TP_TABLE" priority 100 &&
		ip -n "$TP_NS_B" route add local 0.0.0.0/0 dev lo table "$TP_TABLE" ||
		{ TP_WHY="policy routing failed"; return 1; }
	return 0
}
