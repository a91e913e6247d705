// SPDX-License-Identifier: Apache-2.0
/* dynlib: an optional library opened at run time and its functions resolved (see dynlib.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dynlib.h"

int vigil_dynlib_open(const char *soname, const struct vigil_dynsym *syms, size_t n, void *table,
		      char *err, size_t errlen)
{
	void *h, **fn;
	const char *why;
	size_t i;

	h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		why = dlerror();
		snprintf(err, errlen, "%s", why ? why : soname);
		return -ENOENT;
	}
	/* Every function first, the table after: a library that lacks one leaves it as it was. */
	fn = calloc(n ? n : 1, sizeof(*fn));
	if (!fn) {
		dlclose(h);
		snprintf(err, errlen, "%s: %s", soname, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		dlerror();
		fn[i] = dlsym(h, syms[i].name);
		if (!fn[i]) {
			snprintf(err, errlen, "%s has no function %s (a version too old?)", soname,
				 syms[i].name);
			free(fn);
			dlclose(h);
			return -ENOSYS;
		}
	}
	/* POSIX: dlsym's object pointer converts to a function pointer of the same size. */
	for (i = 0; i < n; i++)
		memcpy((char *)table + syms[i].off, &fn[i], sizeof(fn[i]));
	free(fn);
	return 0;
}
