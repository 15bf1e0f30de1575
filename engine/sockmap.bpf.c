/*
 * The kernel relay of `forward kernel` (see sockmap.c): what a client
 * sends goes out of its server's socket without crossing into mxlbd.
 *
 * Clients are in `clients`, a sockhash with this verdict program, keyed
 * by their own socket cookie; the server of each is in `servers` under
 * the same key (no program there: the server's replies stay in user
 * space, where the session sees its 221).  `flows` counts the bytes of
 * each client and the time of the last ones, for counters, `show
 * sessions`, the idle timeout and the log line.
 *
 * Built with clang -target bpf and embedded in mxlbd.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sockmap-flow.h"

#define SESSIONS	65536

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SESSIONS);
	__type(key, __u64);
	__type(value, __u64);
} clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, SESSIONS);
	__type(key, __u64);
	__type(value, __u64);
} servers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SESSIONS);
	__type(key, __u64);
	__type(value, struct sockmap_flow);
} flows SEC(".maps");

/* Attached as BPF_SK_SKB_VERDICT (sockmap.c): no stream parser.  libbpf
 * 1.1 (Debian 12) knows no "sk_skb/verdict" section. */
SEC("sk_skb")
int
relay(struct __sk_buff *skb)
{
	__u64 key = bpf_get_socket_cookie(skb);
	struct sockmap_flow *f;

	f = bpf_map_lookup_elem(&flows, &key);
	/* mxlbd puts the flow in before the socket: not reached. */
	if (f == NULL)
		return SK_DROP;
	__sync_fetch_and_add(&f->bytes, skb->len);
	f->last_ns = bpf_ktime_get_ns();
	return bpf_sk_redirect_hash(skb, &servers, &key, 0);
}

char LICENSE[] SEC("license") = "GPL";
