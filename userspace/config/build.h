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

#endif /* VIGIL_CONFIG_BUILD_H */
