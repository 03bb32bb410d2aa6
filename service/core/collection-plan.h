/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The membership rules of Create/AddTo/RemoveFromRemoteReplicationCollection
 * (API.md section 3): resolving the references, checking local/remote and
 * system ownership, and computing the collection as it will be after the call
 * together with what is new, what left and which remote access points need
 * verifying. Planning never changes the model; committing a plan is the
 * engine's job.
 */

#include <stdbool.h>

#include "model.h"
#include "util/error.h"

typedef struct MemberArgs {
        const char * const *local_paths;
        size_t n_local;
        const char * const *remote_paths;
        size_t n_remote;
        const char *system_path;        /* "/" for none */
} MemberArgs;

typedef struct CollectionPlan {
        Collection *result;             /* the collection after the change (owned) */
        IdSet added_local, added_remote, added_systems;
        IdSet removed_local, removed_remote, removed_systems;
        bool delete_collection;         /* removal left it empty and DeleteOnUnassociated */
} CollectionPlan;

#define COLLECTION_PLAN_INIT ((CollectionPlan) {})

void collection_plan_done(CollectionPlan *p);
bool collection_plan_changes_membership(const CollectionPlan *p);

/*
 * Plans an addition. c is the current collection; for Create it is a fresh
 * collection that is not in the model yet, and all three arguments may be
 * NULL. Errors: -EINVAL (with a sentence naming the argument) for any
 * reference that names no object, the wrong kind, local where remote is
 * required or the reverse.
 */
int collection_plan_add(const Model *m, const Collection *c, const MemberArgs *a, bool create,
                        CollectionPlan *ret, ReplError *e);

int collection_plan_remove(const Model *m, const Collection *c, const MemberArgs *a,
                           CollectionPlan *ret, ReplError *e);

/* Reference resolution shared with the other methods. arg names the argument in messages. */
int model_resolve_system(const Model *m, const char *path, const char *arg, System **ret, ReplError *e);
int model_resolve_access_point(const Model *m, const char *path, const char *arg, AccessPoint **ret, ReplError *e);
int model_resolve_collection(const Model *m, const char *path, const char *arg, Collection **ret, ReplError *e);
