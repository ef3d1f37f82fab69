/* Minimal stand-ins for libbpf's bpf_helpers.h, so the examples build with
 * nothing but the kernel uapi headers:
 *   clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c X.bpf.c -o X.o */
#ifndef LUABPF_BPF_DEFS_H
#define LUABPF_BPF_DEFS_H

#include <linux/bpf.h>

#define SEC(name) __attribute__((section(name), used))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __noinline __attribute__((noinline))

/* Helper ids from enum bpf_func_id. */
static void *(*bpf_map_lookup_elem)(void *map, const void *key) = (void *)BPF_FUNC_map_lookup_elem;
static long (*bpf_map_update_elem)(void *map, const void *key, const void *value,
                                   __u64 flags) = (void *)BPF_FUNC_map_update_elem;

#endif
