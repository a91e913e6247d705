/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_build: from the raw structures libcyaml loaded to a validated struct vigil_config
 * (internal to config*.c).
 */
#ifndef VIGIL_CONFIG_BUILD_H
#define VIGIL_CONFIG_BUILD_H

#include "config/config.h"
#include "config/schema.h"
#include "config/yaml.h"

/*
 * Validates @r and copies it into @cfg, which must be zeroed. Returns 0, -EINVAL (the message
 * written through @pc) or -ENOMEM. On failure @cfg holds what was copied so far: free it with
 * vigil_config_free().
 */
int cfg_build(struct parse_ctx *pc, const struct raw_config *r, struct vigil_config *cfg);

/* Copies n strings into a NULL-terminated array. Returns 0 or -ENOMEM (nothing is kept). */
int cfg_dup_strv(char *const *v, unsigned int n, char ***out);

/* The boolean s at base.key (key may be NULL); absent is false. Returns 0 or -EINVAL. */
int cfg_bool(struct parse_ctx *pc, const char *base, const char *key, const char *s, bool *out);

#endif /* VIGIL_CONFIG_BUILD_H */
