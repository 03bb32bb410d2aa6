/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the tests of core/model (test-model-*.c) share: bare objects made by hand, and a look at an id set. */

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

System *new_system(uint64_t id, const char *name);
AccessPoint *new_access_point(uint64_t id, uint64_t system_id);
Collection *new_collection(uint64_t id);
Job *new_job(uint64_t id, JobState state, uint32_t uid);
/* s holds exactly the n ids of expected, in that order. */
void assert_idset(const IdSet *s, const uint64_t *expected, size_t n);
