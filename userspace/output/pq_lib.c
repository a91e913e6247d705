// SPDX-License-Identifier: Apache-2.0
/* pq_lib: libpq's table, opened on first use (see pq_lib.h). */
#include <pthread.h>
#include <stdbool.h>

#include "core/dynlib.h"
#include "output/pq_lib.h"

#define SYM(m) VIGIL_DYNSYM(struct vigil_pq, "PQ", m)

static const struct vigil_dynsym syms[] = {
    SYM(connectdbParams),  SYM(status),	      SYM(errorMessage), SYM(setNoticeProcessor),
    SYM(finish),	   SYM(socket),	      SYM(sendQuery),	 SYM(sendQueryParams),
    SYM(isBusy),	   SYM(consumeInput), SYM(getResult),	 SYM(resultStatus),
    SYM(resultErrorField), SYM(cmdTuples),    SYM(clear),
};

/* The process's one libpq: filled once under lock, read-only after. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vigil_pq table;
static bool ready;

int vigil_pq_load(const struct vigil_pq **out, char *err, size_t errlen)
{
	int ret = 0;

	pthread_mutex_lock(&lock);
	if (!ready)
		ret = vigil_dynlib_open(VIGIL_PQ_SONAME, syms, sizeof(syms) / sizeof(syms[0]),
					&table, err, errlen);
	ready = !ret;
	pthread_mutex_unlock(&lock);
	*out = ret ? NULL : &table;
	return ret;
}
