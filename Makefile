# SPDX-License-Identifier: Apache-2.0
#
# vigil: one entry point.
#   make          build build/vigil (BPF objects embedded through their skeletons)
#   make test     unit tests (cmocka) + integration tests on the real BPF programs (root)
#   make run      build and run the agent on the embedded default config (root)
#   make bench    overhead and throughput benchmarks (ratios, printed)
#   make deps     install the Debian packages the build and tests need, if missing
#   make npm-deps the npm packages test_otlp's receiver needs (tests/lib/npm), into build/npm
#   make format-check  every C file in kernel style (.clang-format); make format fixes them
#   make vmlinux  regenerate vmlinux/$(ARCH)/vmlinux.h from this host's BTF
#   make valgrind-scenarios  the scenario suite with vigil under valgrind (root)
#   make test-kernel KERNEL=6.1  the integration and scenario suites in a qemu VM on Debian's
#                 6.1 kernel (root; tests/vm/README.md)
#   make fuzz     every libFuzzer target of tests/fuzz/run.sh for FUZZ_SECS each (clang)
#   SAN=1         any of the above built with ASan and UBSan into build-san/ (the BPF programs
#                 as usual): make test SAN=1, make unit SAN=1
#
# Every output goes under build/. Dependency files (-MMD -MP) make an edit of any header,
# include/vigil/*.h included, rebuild every BPF and userspace object that includes it.

# SAN=1: vigil, its library and its tests with AddressSanitizer (LeakSanitizer included) and
# UndefinedBehaviorSanitizer, any report fatal, into their own folder so that a normal build is
# not clobbered. The test helpers stay plain: they crash, abort and run out of memory on purpose.
ifeq ($(SAN),1)
OUT ?= build-san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# gcc links ASan's runtime as a shared library, which must come first of all: tests/run-tests
# runs each test under stdbuf, whose LD_PRELOAD would come before it. Linked in, as clang does.
SAN_LDFLAGS := $(SAN_FLAGS) $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,\
	-static-libasan)
# glibc's dlopen() leaks when a malloc fails inside it, as the fail-alloc sweeps make happen:
# the loader's leak, not vigil's (tests/lsan.supp says which).
export LSAN_OPTIONS := suppressions=$(abspath tests/lsan.supp)
endif
OUT ?= build
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
CC ?= gcc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# The packages `make deps` installs (Debian 12 names).
DEB_PKGS := clang llvm clang-format make gcc pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev \
	libcyaml-dev libyaml-dev libcmocka-dev libjansson-dev libhiredis-dev redis-server redis-tools \
	iproute2 procps postgresql runit supervisor curl libcurl4-openssl-dev libpq-dev libclang-rt-dev valgrind \
	libmicrohttpd-dev prometheus prometheus-alertmanager nodejs qemu-system-x86 busybox-static kmod
# npm: Debian's package, unless the nodejs installed already brings npm (NodeSource's nodejs
# provides npm and conflicts with Debian's): checked as a command, not as a package.

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-D_GNU_SOURCE -DVIGIL_VERSION='"$(VERSION)"' -Iinclude -Iuserspace -I$(OUT) -MMD -MP \
	$(SAN_FLAGS)
LDFLAGS += $(SAN_LDFLAGS)
LDLIBS := -lbpf -lelf -lz -lcyaml -lyaml -ljansson -lhiredis -lpthread -ldl
# The optional client libraries are not linked into vigil: it opens them at run time, when the
# config uses them (core/dynlib.h): libcurl for the otlp sink and the http heal action
# (core/curl_lib.c), libpq for the PostgreSQL sink (output/pq_lib.c), libmicrohttpd for the
# metrics and alerts endpoint (control/mhd_lib.c). Only their headers are needed to build it.
# The tests link them, for the clients and servers of their own that call them directly.
CURL_LIBS := $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
OPT_LIBS := $(CURL_LIBS) -lpq -lmicrohttpd
# libpq's headers live in /usr/include/postgresql on Debian.
CFLAGS += -I/usr/include/postgresql

# -mcpu=v3: atomic and/or (watched_bits) and 32-bit jumps; kernels >= 5.12 have both.
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	-Wno-unused-parameter -Iinclude -Ibpf -Ivmlinux/$(ARCH) -MMD -MP

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

# userspace/<stage>/*.c: every object but cli/main.o goes into one static library, which the
# binary, the tests and the benchmarks link (the linker takes the objects each one needs).
US_SRCS := $(wildcard userspace/*/*.c)
US_OBJS := $(patsubst userspace/%.c,$(OUT)/userspace/%.o,$(US_SRCS))
LIB_OBJS := $(filter-out $(OUT)/userspace/cli/main.o,$(US_OBJS))
LIB := $(OUT)/libvigil.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%,$(UNIT_SRCS))
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(patsubst tests/integration/%.c,$(OUT)/tests/integration/%,$(INTEG_SRCS))
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(patsubst tests/helpers/%.c,$(OUT)/tests/helpers/%,$(HELPER_SRCS))

.PHONY: all test unit integration run bench deps vmlinux clean doctor bpf-other-arch \
	format format-check
.DELETE_ON_ERROR:
# Test objects are intermediate files of a pattern chain: keep them, so that a second
# `make test` rebuilds nothing.
.SECONDARY: $(UNIT_BINS:=.o) $(INTEG_BINS:=.o)

all: $(OUT)/vigil

# --- kernel side ---------------------------------------------------------------------------

# -g is for BTF (CO-RE relocations, and line info in .BTF.ext); the DWARF clang writes with it
# is of no use to libbpf, and the skeleton would embed it in vigil (four fifths of each object,
# some 2.5 MB of the binary): stripped, as libbpf-bootstrap does.
$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c | $(OUT)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(LLVM_STRIP) -g $@

$(OUT)/%.skel.h: $(OUT)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h

# Both committed CO-RE headers must keep compiling every BPF program: `make test` checks the
# other architecture too (compile only: nothing here can run it).
OTHER_ARCH := $(if $(filter x86,$(ARCH)),arm64,x86)
OTHER_BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf-$(OTHER_ARCH)/%.bpf.o,$(BPF_SRCS))

$(OUT)/bpf-$(OTHER_ARCH)/%.bpf.o: bpf/%.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(subst $(ARCH),$(OTHER_ARCH),$(BPF_CFLAGS)) -c $< -o $@

bpf-other-arch: $(OTHER_BPF_OBJS)

# --- userspace -----------------------------------------------------------------------------

# Skeletons must exist before any userspace object is compiled; after the first build the
# dependency files track which object includes which skeleton.
$(OUT)/userspace/%.o: userspace/%.c | $(SKELS) $(OUT)/syscall_names.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

# Syscall names of this architecture, from the C library's own SYS_* list.
$(OUT)/syscall_names.h:
	@mkdir -p $(@D)
	echo '#include <sys/syscall.h>' | $(CC) -E -dM -x c - | \
		sed -n 's/^#define SYS_\([a-z0-9_]*\) .*/VIGIL_SYSCALL(\1)/p' | sort > $@

# The BPF objects are named here so that make treats them as real targets (not intermediate
# files of the skeleton chain): deleted or stale, they are rebuilt, with their .d files.
$(LIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(OUT)/vigil: $(OUT)/userspace/cli/main.o $(LIB) | $(BPF_OBJS) $(SKELS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# --- tests ---------------------------------------------------------------------------------

# Each unit test links the library (the linker takes the modules it uses and nothing more) and
# the shared test helpers of tests/lib/ (an archive too). The allocator that fails on demand
# replaces malloc for a whole binary, so only the tests that ask for it link it.
TESTLIB := $(OUT)/tests/libvigiltest.a
TESTLIB_OBJS := $(patsubst tests/lib/%.c,$(OUT)/tests/lib/%.o,\
	$(filter-out tests/lib/failalloc.c,$(wildcard tests/lib/*.c)))
FAILALLOC := $(OUT)/tests/lib/failalloc.o
FAILALLOC_TESTS := test_config test_json
TEST_CFLAGS := $(CFLAGS) -Itests/lib

$(OUT)/tests/lib/%.o: tests/lib/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(TESTLIB): $(TESTLIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(OUT)/tests/unit/%.o: tests/unit/%.c | $(SKELS) $(OUT)/tests/unit
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(addprefix $(OUT)/tests/unit/,$(FAILALLOC_TESTS)): $(FAILALLOC)

$(OUT)/tests/unit/%: $(OUT)/tests/unit/%.o $(TESTLIB) $(LIB)
	$(CC) $(LDFLAGS) $(filter %.o,$^) $(TESTLIB) $(LIB) $(LDLIBS) $(OPT_LIBS) -lcmocka -o $@

$(OUT)/tests/integration/%.o: tests/integration/%.c | $(OUT)/tests/integration
	$(CC) $(TEST_CFLAGS) -c $< -o $@

$(OUT)/tests/integration/%: $(OUT)/tests/integration/%.o $(OUT)/tests/integration/harness.o \
		$(TESTLIB) $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) $(OPT_LIBS) -lcmocka -o $@

$(OUT)/tests/integration/harness.o: tests/integration/harness.c | $(OUT)/tests/integration
	$(CC) $(TEST_CFLAGS) -c $< -o $@

# The restart tests under real supervisors share tests/integration/supervise.c.
$(OUT)/tests/integration/test_supervisors $(OUT)/tests/integration/test_supervisord: \
		$(OUT)/tests/integration/supervise.o

$(OUT)/tests/helpers/%: tests/helpers/%.c | $(OUT)/tests/helpers
	$(CC) $(filter-out $(SAN_FLAGS),$(CFLAGS)) $< -o $@

unit: $(UNIT_BINS)
	@tests/run-tests $(UNIT_BINS)

# The OTLP receiver of test_otlp (tests/lib/otlp_receiver.js) decodes with the official OTLP
# protobuf definitions from npm, at the versions tests/lib/npm/package-lock.json pins, into
# build/npm/ (whatever OUT is: the SAN build's tests use it too). No install scripts run.
NPM_DIR := build/npm
NPM_STAMP := $(NPM_DIR)/node_modules/.package-lock.json

$(NPM_STAMP): tests/lib/npm/package.json tests/lib/npm/package-lock.json
	@mkdir -p $(NPM_DIR)
	cp tests/lib/npm/package.json tests/lib/npm/package-lock.json $(NPM_DIR)/
	cd $(NPM_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

.PHONY: npm-deps
npm-deps: $(NPM_STAMP)

integration: $(OUT)/vigil $(INTEG_BINS) $(HELPER_BINS) $(NPM_STAMP)
	@tests/run-tests $(INTEG_BINS)

# The fault scenario suite (tests/scenarios/README.md): one vigil, real faults, a report of
# recall, false positives and detection time. Loads BPF programs: run as root.
SCEN_BIN := $(OUT)/tests/scenarios/scenarios
SCEN_OBJS := $(OUT)/tests/scenarios/scenarios.o $(OUT)/tests/scenarios/faults.o

.PHONY: scenarios
scenarios: $(OUT)/vigil $(HELPER_BINS) $(SCEN_BIN)
	@tests/run-tests $(SCEN_BIN)

# libFuzzer targets (tests/fuzz/run.sh, clang): each of FUZZ_TARGETS (default: all but oom)
# for FUZZ_SECS, into build/fuzz/ (not with SAN=1: they have their own sanitizers); a crash, a
# leak, a timeout or a broken contract fails.
FUZZ_SECS ?= 60
FUZZ_TARGETS ?=

.PHONY: fuzz
fuzz: $(LIB)
	CLANG=$(CLANG) tests/fuzz/run.sh $(FUZZ_SECS) $(FUZZ_TARGETS)

# The scenario suite with vigil under valgrind (tests/integration/harness.c: VIGIL_TEST_WRAPPER):
# an invalid read or write, a use of uninitialised memory or a block definitely lost makes vigil
# exit 99, which fails the suite. Each vigil's whole report is $(OUT)/valgrind/vigil.PID.log;
# their summaries are printed at the end. Not with SAN=1 (ASan and valgrind exclude each other).
VALGRIND ?= valgrind
VALGRIND_OPTS := --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--error-exitcode=99 --track-origins=yes \
	--suppressions=$(abspath tests/valgrind/libbpf.supp)

.PHONY: valgrind-scenarios
valgrind-scenarios: $(OUT)/vigil $(HELPER_BINS) $(SCEN_BIN)
	@rm -rf $(OUT)/valgrind && mkdir -p $(OUT)/valgrind
	@VIGIL_TEST_WRAPPER="$(VALGRIND) $(VALGRIND_OPTS) \
		--log-file=$(abspath $(OUT))/valgrind/vigil.%p.log" tests/run-tests $(SCEN_BIN); \
	status=$$?; grep -H 'ERROR SUMMARY\|definitely lost\|All heap blocks' $(OUT)/valgrind/*.log; \
	if grep -L 'ERROR SUMMARY: 0 errors' $(OUT)/valgrind/*.log | grep .; then status=1; fi; \
	exit $$status

$(OUT)/tests/scenarios/%.o: tests/scenarios/%.c | $(OUT)/tests/scenarios
	$(CC) $(CFLAGS) -Itests/integration -c $< -o $@

$(SCEN_BIN): $(SCEN_OBJS) $(OUT)/tests/integration/harness.o
	$(CC) $(LDFLAGS) $^ -lcmocka -ljansson -o $@

$(OUT)/tests/scenarios:
	mkdir -p $@

# The README's test command. Integration tests load real BPF programs: run as root.
test: deps $(OUT)/vigil bpf-other-arch $(UNIT_BINS) $(INTEG_BINS) $(HELPER_BINS) $(SCEN_BIN) \
		$(NPM_STAMP)
	@tests/run-tests $(UNIT_BINS) $(INTEG_BINS) $(SCEN_BIN)

# The integration and scenario suites inside a qemu VM booted on a Debian kernel of the series
# KERNEL (downloaded with apt-get once, cached under $(OUT)/vm/): tests/vm/README.md. Its last
# line is tests/run-tests' summary, from the guest. VM_TESTS narrows the binaries it runs.
KERNEL ?= 6.1
VM_TESTS ?= $(INTEG_BINS) $(SCEN_BIN)

.PHONY: test-kernel
test-kernel: deps $(OUT)/vigil $(INTEG_BINS) $(HELPER_BINS) $(SCEN_BIN) $(NPM_STAMP)
	@tests/vm/run-kernel.sh $(KERNEL) $(OUT) $(VM_TESTS)

# Each regression test of tests/mutations/*/tests.list fails with the defect it guards put back
# (tests/mutations/run.sh: a scratch worktree of HEAD, a rebuild a patch). Not part of `test`.
.PHONY: mutations
mutations: deps
	@tests/mutations/run.sh

# --- running -------------------------------------------------------------------------------

run: deps $(OUT)/vigil
	$(OUT)/vigil run $(VIGIL_ARGS)

doctor: $(OUT)/vigil
	$(OUT)/vigil doctor

bench: $(OUT)/vigil $(OUT)/tests/helpers/faulty
	@$(MAKE) --no-print-directory -f bench/bench.mk OUT=$(OUT) ARCH=$(ARCH) CLANG=$(CLANG) \
		BPFTOOL=$(BPFTOOL) CC=$(CC) run

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: need root to install:$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(OUT)/bpf $(OUT)/tests/unit $(OUT)/tests/integration $(OUT)/tests/helpers:
	mkdir -p $@

# Kernel style (.clang-format): every C file of ours, the committed vmlinux headers aside.
FORMAT_SRCS := $(shell git ls-files '*.c' '*.h' 2>/dev/null | grep -v '^vmlinux/')
CLANG_FORMAT ?= clang-format

format:
	$(CLANG_FORMAT) -i $(FORMAT_SRCS)

format-check:
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRCS) && \
		echo "format-check: $(words $(FORMAT_SRCS)) files in kernel style"

clean:
	rm -rf $(OUT)

-include $(wildcard $(OUT)/bpf/*.d $(OUT)/bpf-*/*.d $(OUT)/userspace/*/*.d $(OUT)/tests/*/*.d)
