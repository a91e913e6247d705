// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sock_empty: the floor of TCP state observation. An empty program on each of the five
 * tracepoints vigil's sockets family hooks (bpf/sockets.bpf.c), attached the same way
 * (tp_btf). Every TCP state change of the host then calls into BPF, which is all any tracer
 * on these hooks pays before its program does anything. The sockets bench compares vigil's
 * socket programs against these.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/inet_sock_set_state")
int empty_state(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int empty_rst_rcvd(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int empty_rst_sent(void *ctx)
{
	return 0;
}

SEC("tp_btf/inet_sk_error_report")
int empty_error(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int empty_retrans(void *ctx)
{
	return 0;
}
