// SPDX-License-Identifier: Apache-2.0
/* actions: the table of action kinds this vigil can run (action.h). One line per kind. */
#include <string.h>

#include "heal/action.h"
#include "heal/cache_clear.h"
#include "heal/http.h"
#include "heal/publish.h"
#include "heal/restart.h"
#include "heal/rollback.h"
#include "heal/set_flag.h"

static const struct vigil_action_ops *const kinds[] = {
    &vigil_restart_ops, &vigil_cache_clear_ops, &vigil_set_flag_ops,
    &vigil_publish_ops, &vigil_http_ops,	&vigil_rollback_ops,
};

const struct vigil_action_ops *vigil_action_find(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i]->kind, kind))
			return kinds[i];
	return NULL;
}

const struct vigil_action_ops *vigil_action_kind_at(unsigned int i)
{
	return i < sizeof(kinds) / sizeof(kinds[0]) ? kinds[i] : NULL;
}
