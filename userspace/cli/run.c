// SPDX-License-Identifier: Apache-2.0
/* run: `vigil run` — its options, then the daemon (daemon/daemon.c). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cli/commands.h"
#include "daemon/daemon.h"

/* --verbose: libbpf's own messages on stderr (its print hook takes no context). */
static bool verbose;

/* libbpf's messages only with --verbose: vigil's own errors already say what failed, and a
 * refused tp_btf load before the fallback is expected, not alarming. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

int vigil_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"journal", required_argument, NULL, 'j'},
	    {"json", no_argument, NULL, 'J'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"probes", required_argument, NULL, 'p'},
	    {"ctl", required_argument, NULL, 'C'},
	    {"ringbuf-kib", required_argument, NULL, 'R'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct vigil_run_opts o = {};
	int c;

	while ((c = getopt_long(argc, argv, "c:j:Jqp:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config = optarg;
			break;
		case 'j':
			o.journal = optarg;
			break;
		case 'J':
			o.json = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'p':
			if (!strcmp(optarg, "tracepoint")) {
				o.force_classic = true;
			} else if (strcmp(optarg, "tp_btf")) {
				fprintf(
				    stderr,
				    "vigil run: --probes takes tp_btf or tracepoint, not '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case 'C':
			o.ctl = optarg;
			break;
		case 'R': {
			char *end;
			unsigned long kib = strtoul(optarg, &end, 10);
			long page_kib = sysconf(_SC_PAGESIZE) / 1024;

			/* The kernel wants a power of two, a whole number of pages. */
			if (*end || !kib || (kib & (kib - 1)) || kib < (unsigned long)page_kib ||
			    kib > 1024 * 1024) {
				fprintf(stderr,
					"vigil run: --ringbuf-kib takes a power of two from %ld to "
					"1048576, not '%s'\n",
					page_kib, optarg);
				return 2;
			}
			o.ringbuf_kib = kib;
			break;
		}
		case 'v':
			vigil_cli_libbpf_log(true);
			break;
		case 'h':
			fputs(vigil_usage, stdout);
			return 0;
		default:
			fputs(vigil_usage, stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vigil run: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return vigil_daemon_run(&o) ? 1 : 0;
}

void vigil_cli_libbpf_log(bool on)
{
	verbose = on;
	libbpf_set_print(libbpf_log);
}
