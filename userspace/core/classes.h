/* SPDX-License-Identifier: Apache-2.0 */
/* classes: fault class names <-> enum vigil_class ("crash", "oom_kill", ...). */
#ifndef VIGIL_CORE_CLASSES_H
#define VIGIL_CORE_CLASSES_H

#include "vigil/classes.h"

/* The class's name, or NULL for an unknown value. */
const char *vigil_class_name(enum vigil_class c);
/* The class of a name, or VIGIL_CLASS_NONE for an unknown name. */
enum vigil_class vigil_class_parse(const char *name);

#endif /* VIGIL_CORE_CLASSES_H */
