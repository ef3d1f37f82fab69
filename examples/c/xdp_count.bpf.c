/* Counts IPv4 packets per IP protocol in a hash map; drops runt frames. */
#include "bpf_defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 256);
} counts SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;

	if (data + 14 > end)
		return XDP_DROP;
	/* EtherType 0x0800, big endian on the wire. */
	if (data[12] != 0x08 || data[13] != 0x00)
		return XDP_PASS;
	if (data + 14 + 20 > end)
		return XDP_DROP;

	__u32 proto = data[14 + 9];
	__u64 *n = bpf_map_lookup_elem(&counts, &proto);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &proto, &one, BPF_ANY);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
