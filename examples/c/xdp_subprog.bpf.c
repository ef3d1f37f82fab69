/* A bpf-to-bpf call: the verdict comes from a non-inlined function in .text. */
#include "bpf_defs.h"

/* Drops IPv4 UDP to port 9 (discard); passes the rest; drops runts. */
static __noinline int classify(unsigned char *data, unsigned char *end)
{
	if (data + 14 + 20 + 4 > end)
		return XDP_DROP;
	if (data[12] != 0x08 || data[13] != 0x00 || data[14 + 9] != 17)
		return XDP_PASS;
	if ((data[14] & 0x0f) != 5)
		return XDP_PASS;
	if (data[14 + 20 + 2] == 0 && data[14 + 20 + 3] == 9)
		return XDP_DROP;
	return XDP_PASS;
}

static __noinline int twice(int v)
{
	return v + v;
}

SEC("xdp/classify")
int xdp_subprog(struct xdp_md *ctx)
{
	unsigned char *data = (unsigned char *)(long)ctx->data;
	unsigned char *end = (unsigned char *)(long)ctx->data_end;
	int verdict = classify(data, end);
	/* A second call, so .text holds two functions. */
	return (unsigned int)twice(verdict) >> 1;
}

char LICENSE[] SEC("license") = "GPL";
