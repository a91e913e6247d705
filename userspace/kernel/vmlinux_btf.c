// SPDX-License-Identifier: Apache-2.0
/*
 * vmlinux_btf: the kernel's BTF handed to libbpf with one copy in memory instead of two.
 *
 * libbpf needs the kernel's BTF (/sys/kernel/btf/vmlinux, 5.5 MB here) for every BPF object it
 * loads that has tp_btf programs or CO-RE relocations: it loads it at the object's load and
 * frees it after. libbpf 1.1 (Debian 12) reads the file into a malloc'd buffer, then btf__new()
 * copies that into a second one and indexes its types: 5.5 + 5.5 + 0.6 MB of heap live at
 * once, which made the daemon's peak RSS (VmHWM) twice its steady RSS.
 *
 * Since Linux 6.16 the file can be mmap'd read-only. Its pages are the kernel's own (mapped
 * with remap_pfn_range: not counted in the process's RSS), so btf__new() on the mapping makes
 * the one copy that counts. libbpf 1.6 does the same itself (btf_parse_raw_mmap()).
 *
 * libbpf calls btf__load_vmlinux_btf() through its PLT, so the definition below, in the
 * executable, is the one it calls (ELF symbol interposition, as an executable's own malloc
 * replaces libc's for libc's callers too); vigil's own callers (loader.c) bind to it as well.
 * It returns what libbpf's would: a struct btf the caller frees with btf__free(), or NULL with
 * errno set. Where the file cannot be mapped (a kernel before 6.16, no /sys/kernel/btf), the
 * call goes on to libbpf's own, which also looks in /boot and reads the file.
 *
 * This file is taken from libvigil.a into vigil because loader.c calls the function (an archive
 * member is linked only for a symbol the executable's own objects need); `nm -D build/vigil`
 * lists it as defined (T) when it is in.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/btf.h>

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* libbpf's own btf__load_vmlinux_btf(): the next definition after the executable's. */
static struct btf *libbpf_load_vmlinux_btf(void)
{
	struct btf *(*next)(void);
	void *sym = dlsym(RTLD_NEXT, "btf__load_vmlinux_btf");

	if (!sym) {
		errno = ENOSYS;
		return NULL;
	}
	/* POSIX: dlsym's object pointer converts to a function pointer of the same size. */
	memcpy(&next, &sym, sizeof(next));
	return next();
}

struct btf *btf__load_vmlinux_btf(void)
{
	struct btf *btf;
	struct stat st;
	void *data;
	int fd, err;

	fd = open(VMLINUX_BTF, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return libbpf_load_vmlinux_btf();
	if (fstat(fd, &st) || st.st_size <= 0) {
		close(fd);
		return libbpf_load_vmlinux_btf();
	}
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED)
		return libbpf_load_vmlinux_btf();
	btf = btf__new(data, (__u32)st.st_size);
	err = btf ? 0 : errno;
	munmap(data, (size_t)st.st_size);
	errno = err;
	return btf;
}
