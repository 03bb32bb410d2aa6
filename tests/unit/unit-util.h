/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the unit tests of the service library share whatever their fixture
 * (engine-fixture.h, committer-fixture.h, test-engine-fault.c, the store
 * tests): looking into a model and into the store as the next start would
 * load it, removing a state directory, the members of a collection call,
 * running the loop until something happened under a watchdog (never
 * sleeping), and a bound socket on loopback.
 */

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"

/* A hung wait fails after this long instead of blocking the whole run. */
#define WATCHDOG_USEC (10 * USEC_PER_SEC)

#define PATH(kind, id) object_path_format((char[OBJECT_PATH_MAX]) {}, (kind), (id))
#define STRV(...) ((const char * const[]) { __VA_ARGS__, NULL })

bool model_has(const Model *m, ObjectKind kind, uint64_t id);
Model *stored_model_of(const char *dir, const char *local_name);
void state_dir_remove(const char *dir);

MemberArgs members(const char * const *locals, const char * const *remotes, const char *system);

typedef bool (*loop_condition_t)(void *userdata, uint64_t arg);
void loop_run_until(sd_event *event, loop_condition_t done, void *userdata, uint64_t arg, const char *what);

int socket_on(const char *address, uint16_t *ret_port);
