/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_policy: a workload's policy built, and each heal rule held to it at load (internal to
 * config*.c; see struct vigil_policy).
 */
#ifndef VIGIL_CONFIG_POLICY_H
#define VIGIL_CONFIG_POLICY_H

#include "config/config.h"
#include "config/schema.h"
#include "config/yaml.h"

/* policy: (r may be NULL: an empty policy) into w->policy. Returns 0, -EINVAL (message
 * written) or -ENOMEM. */
int cfg_build_policy(struct parse_ctx *pc, const char *base, const struct raw_policy *r,
		     struct vigil_workload *w);

/* The rule at base (built, its action resolved): its name not forbidden, and everything its
 * action touches allowed by w's policy. Returns 0 or -EINVAL (message written). */
int cfg_check_rule_policy(struct parse_ctx *pc, const char *base, const struct vigil_workload *w,
			  const struct vigil_heal_rule *h);

#endif /* VIGIL_CONFIG_POLICY_H */
