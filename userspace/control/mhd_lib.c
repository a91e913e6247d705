// SPDX-License-Identifier: Apache-2.0
/* mhd_lib: libmicrohttpd's table, opened on first use (see mhd_lib.h). */
#include <pthread.h>
#include <stdbool.h>

#include "control/mhd_lib.h"
#include "core/dynlib.h"

#define SYM(m) VIGIL_DYNSYM(struct vigil_mhd, "MHD_", m)

static const struct vigil_dynsym syms[] = {
    SYM(start_daemon),
    SYM(stop_daemon),
    SYM(get_daemon_info),
    SYM(run),
    SYM(get_timeout),
    SYM(get_connection_info),
    SYM(lookup_connection_value),
    SYM(create_response_from_buffer),
    SYM(add_response_header),
    SYM(queue_response),
    SYM(destroy_response),
};

/* The process's one libmicrohttpd: filled once under lock, read-only after. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vigil_mhd table;
static bool ready;

int vigil_mhd_load(const struct vigil_mhd **out, char *err, size_t errlen)
{
	int ret = 0;

	pthread_mutex_lock(&lock);
	if (!ready)
		ret = vigil_dynlib_open(VIGIL_MHD_SONAME, syms, sizeof(syms) / sizeof(syms[0]),
					&table, err, errlen);
	ready = !ret;
	pthread_mutex_unlock(&lock);
	*out = ret ? NULL : &table;
	return ret;
}
