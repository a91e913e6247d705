// SPDX-License-Identifier: Apache-2.0
/*
 * Unit: the kernel's BTF as vigil hands it to libbpf (kernel/vmlinux_btf.c). The definition of
 * btf__load_vmlinux_btf() in the executable is the one the process's global scope finds first
 * (so libbpf's own calls, through its PLT, reach it), and the BTF it returns is the kernel's
 * whole: as many types as libbpf's own parse of the file, a tracepoint's typedef at the same
 * id. Where the kernel has no /sys/kernel/btf/vmlinux the test says so and checks only the
 * first.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/btf.h>

static void test_interposed(void **state)
{
	void *found = dlsym(RTLD_DEFAULT, "btf__load_vmlinux_btf");
	Dl_info info = {0};

	(void)state;
	assert_ptr_equal(found, (void *)btf__load_vmlinux_btf);
	/* In the executable, not in libbpf. */
	assert_true(dladdr(found, &info));
	assert_null(strstr(info.dli_fname, "libbpf"));
}

static void test_same_btf(void **state)
{
	const char *tp = "btf_trace_sched_process_exit";
	struct btf *ours, *theirs;

	(void)state;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		printf("test_same_btf: skipped: no /sys/kernel/btf/vmlinux on this kernel\n");
		skip();
	}
	ours = btf__load_vmlinux_btf();
	theirs = btf__parse("/sys/kernel/btf/vmlinux", NULL);
	assert_non_null(ours);
	assert_non_null(theirs);
	assert_int_equal(btf__type_cnt(ours), btf__type_cnt(theirs));
	assert_true(btf__find_by_name_kind(ours, tp, BTF_KIND_TYPEDEF) > 0);
	assert_int_equal(btf__find_by_name_kind(ours, tp, BTF_KIND_TYPEDEF),
			 btf__find_by_name_kind(theirs, tp, BTF_KIND_TYPEDEF));
	btf__free(ours);
	btf__free(theirs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_interposed),
	    cmocka_unit_test(test_same_btf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
