/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer harness for the spool as vigil finds it on disk (output/spool.c): the input is the
 * whole file — after a crash, a full disk or another hand — written into a tmpfs directory,
 * opened (recovered), and walked frame by frame with peek and consume as the sink replays it.
 * Built and run by tests/fuzz/run.sh with ASan, UBSan and LeakSanitizer.
 *
 * The contract: open succeeds (a file that is no spool is set aside and a new one made); the
 * walk ends in -ENOENT with nothing pending, each frame handing records that lie within what
 * peek returned, and a frame that cannot be inflated skipped (-EBADMSG), never a read past a
 * buffer; and the file it leaves is a good spool: a record appended to it is the one found
 * after the next open.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output/spool.h"
#include "scratch.h"

#define CHECK(cond, what)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_spool: %s (%s:%d)\n", what, __FILE__, __LINE__);     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static volatile uint8_t sink; /* every byte of every record is read into it */

/* Walk every frame from the cursor, as the sink replays them. */
static void walk(struct vigil_spool *s)
{
	struct vigil_spool_stats st;
	int ret;

	for (;;) {
		const void *const *recs;
		const size_t *lens;
		unsigned int n;

		ret = vigil_spool_peek(s, &recs, &lens, &n);
		if (ret == -EBADMSG)
			continue; /* skipped as if consumed */
		if (ret)
			break;
		CHECK(n > 0, "a frame of no records");
		for (unsigned int i = 0; i < n; i++)
			for (size_t b = 0; b < lens[i]; b++)
				sink += ((const uint8_t *)recs[i])[b]; /* ASan: within the buffer */
		CHECK(vigil_spool_consume(s) == 0, "consume failed");
	}
	vigil_spool_stats(s, &st);
	CHECK(ret == -ENOENT, "the walk ended in an error");
	CHECK(st.pending == 0, "records pending after the walk");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char rec[] = "after the walk";
	const void *recs[] = {rec};
	const void *const *got;
	const size_t lens[] = {sizeof(rec)}, *glens;
	struct vigil_spool *s;
	char err[512], path[128];
	unsigned int n;

	scratch_file("spool", data, size, path, sizeof(path));
	CHECK(vigil_spool_open(path, 0, false, &s, err, sizeof(err)) == 0, err);
	if (vigil_spool_aside(s))
		unlink(vigil_spool_aside(s)); /* or the next runs fill .bad.1 to .9 */
	walk(s);
	CHECK(vigil_spool_append(s, recs, lens, 1) == 0, "append after the walk failed");
	vigil_spool_close(s);

	CHECK(vigil_spool_open(path, 0, false, &s, err, sizeof(err)) == 0, err);
	CHECK(!vigil_spool_aside(s), "the spool vigil left is no spool");
	CHECK(vigil_spool_peek(s, &got, &glens, &n) == 0 && n == 1 && glens[0] == sizeof(rec) &&
		  !memcmp(got[0], rec, sizeof(rec)),
	      "the record appended is not what the next open finds");
	vigil_spool_close(s);
	return 0;
}
