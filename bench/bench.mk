# SPDX-License-Identifier: Apache-2.0
#
# bench/bench.mk: the benchmarks. Run from the top-level Makefile (`make bench`), which first
# builds $(OUT)/vigil and with it the collector and loop objects flood links:
#   $(MAKE) -f bench/bench.mk OUT=build ARCH=x86 run
# Every output goes under $(OUT)/bench.

OUT ?= build
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
B := $(OUT)/bench

BENCH_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-D_GNU_SOURCE -Iinclude -Iuserspace -I$(B) -MMD -MP
BENCH_BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	-Wno-unused-parameter -Iinclude -Ibpf -Ivmlinux/$(ARCH) -MMD -MP
BENCH_LIBS := -lbpf -lelf -lz -lcyaml -lyaml -ljansson -lhiredis -lcurl -lpthread -lpq -lmicrohttpd

.PHONY: all run syscount
.DELETE_ON_ERROR:
.SECONDARY:

all: $(B)/overhead $(B)/sockets $(B)/flood $(B)/rss $(B)/redis_sink $(B)/json_read \
	$(B)/exit_flood $(B)/trace_http

$(B):
	mkdir -p $@

$(B)/%.bpf.o: bench/%.bpf.c | $(B)
	$(CLANG) $(BENCH_BPF_CFLAGS) -c $< -o $@

$(B)/%.skel.h: $(B)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# Each driver includes its skeleton: generate it before the first compile.
$(B)/overhead.o: $(B)/empty.skel.h
$(B)/flood.o: $(B)/flood.skel.h
$(B)/sockets.o: $(B)/sock_empty.skel.h

$(B)/%.o: bench/%.c | $(B)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(B)/overhead: $(B)/overhead.o $(B)/proc.o $(B)/rounds.o
	$(CC) $^ $(BENCH_LIBS) -o $@

# The TCP state hooks (issue 15): a loopback connection loop under the floor's empty programs
# and under vigil's socket programs.
$(B)/sockets: $(B)/sockets.o $(B)/proc.o $(B)/rounds.o
	$(CC) $^ $(BENCH_LIBS) -o $@

$(B)/rss: $(B)/rss.o $(B)/proc.o
	$(CC) $^ $(BENCH_LIBS) -o $@

# trace.http on vs off (issue 13): vigil and the tests' faulty (httpd).
$(B)/trace_http: $(B)/trace_http.o $(B)/proc.o
	$(CC) $^ $(BENCH_LIBS) -o $@

# The flood of issue 12 needs the tests' faulty (comm-flood) and vigil itself.
$(B)/exit_flood: $(B)/exit_flood.o $(B)/proc.o
	$(CC) $^ $(BENCH_LIBS) -o $@

# The daemon's own collector and loop, as built for $(OUT)/vigil.
$(B)/flood: $(B)/flood.o $(OUT)/libvigil.a
	$(CC) $^ $(BENCH_LIBS) -lpthread -o $@

# The daemon's own Redis sink and spool, against redis-benchmark.
$(B)/redis_sink: $(B)/redis_sink.o $(B)/proc.o $(OUT)/libvigil.a
	$(CC) $^ $(BENCH_LIBS) -lhiredis -lpthread -o $@

# vigil's JSON scanner against jansson, on records built by vigil's own builders.
$(B)/json_read: $(B)/json_read.o $(OUT)/libvigil.a
	$(CC) $^ $(BENCH_LIBS) -o $@

# The peer of (e): Debian's libbpf-tools. Missing and not installable, (e) says so and the
# rest still runs.
syscount:
	@dpkg -s libbpf-tools >/dev/null 2>&1 || { \
		echo "bench: installing libbpf-tools (syscount, the peer of figure (e))"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq libbpf-tools >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq libbpf-tools >/dev/null; } || \
		echo "bench: could not install libbpf-tools: figure (e) will be n/a"; }

# Each bench runs even if one before it could not; any that could not run fails the target.
run: all syscount
	@rc=0; \
	$(B)/overhead --vigil $(OUT)/vigil --out $(B) \
		--syscount "$$(dpkg -L libbpf-tools 2>/dev/null | grep '/syscount$$' | head -n1)" \
		|| rc=1; \
	echo; $(B)/sockets --vigil $(OUT)/vigil --sockets-obj $(OUT)/bpf/sockets.bpf.o \
		--out $(B) || rc=1; \
	echo; $(B)/flood || rc=1; \
	echo; $(B)/rss $(OUT)/vigil $(B) || rc=1; \
	echo; $(B)/redis_sink || rc=1; \
	echo; $(B)/json_read || rc=1; \
	echo; $(B)/exit_flood $(OUT)/vigil $(OUT)/tests/helpers/faulty $(B) || rc=1; \
	echo; $(B)/trace_http $(OUT)/vigil $(OUT)/tests/helpers/faulty $(B) || rc=1; \
	exit $$rc

-include $(wildcard $(B)/*.d)
