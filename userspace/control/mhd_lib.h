/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mhd_lib: libmicrohttpd, opened at run time (core/dynlib.h) by the HTTP endpoint (endpoint.c),
 * its only user, when metrics.listen is set. Each member is the function of the same name
 * without its "MHD_" prefix. The table is the one static of this file, filled once; users keep
 * the pointer load gives them.
 */
#ifndef VIGIL_MHD_LIB_H
#define VIGIL_MHD_LIB_H

#include <stddef.h>

#include <microhttpd.h>

#define VIGIL_MHD_SONAME "libmicrohttpd.so.12"

struct vigil_mhd {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
};

/*
 * libmicrohttpd's table: opened on the first call that succeeds, the same table after.
 * Thread-safe. Returns 0 with *out, or -ENOENT (not installed) or -ENOSYS (a function missing)
 * with err naming the library and what is missing.
 */
int vigil_mhd_load(const struct vigil_mhd **out, char *err, size_t errlen);

#endif /* VIGIL_MHD_LIB_H */
