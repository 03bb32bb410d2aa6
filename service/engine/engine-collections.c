/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Synchronous changes to collections, and the plan a collection job commits:
 * create, add to, remove from, modify and delete, refused with InUse while a
 * job holds the collection. A change whose remote members need verifying is
 * handed to a job instead (jobs.c), which commits the same plan later.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/validate.h"
#include "engine-internal.h"
#include "util/log.h"
#include "util/strutil.h"

int engine_stage_plan(Engine *e, const CollectionPlan *p) {
        if (p->delete_collection)
                return store_delete_collection(e->store, p->result->id);
        return store_save_collection(e->store, p->result);
}

static void notify_members(Engine *e, ObjectKind kind, const IdSet *s) {
        for (size_t i = 0; i < s->n; i++)
                engine_notify_changed(e, kind, s->ids[i], "Collections");
}

void engine_apply_plan(Engine *e, CollectionPlan *p, bool created) {
        Collection *n = TAKE_PTR(p->result);
        uint64_t id = n->id;

        if (created) {
                n->job_id = 0;
                if (model_add_collection(e->model, n) < 0) {
                        /* Only on allocation failure; the store has it and the next start loads it. */
                        log_error("Out of memory while adding collection %" PRIu64 " to the model.", id);
                        collection_free(n);
                        return;
                }
                engine_notify_added(e, OBJECT_COLLECTION, id);
        } else if (p->delete_collection) {
                engine_notify_removed(e, OBJECT_COLLECTION, id);
                collection_free(model_remove_collection(e->model, id));
                /* Systems the collection still held lose it too, though the plan did not remove them. */
                for (size_t i = 0; i < n->remote_systems.n; i++)
                        engine_notify_changed(e, OBJECT_SYSTEM, n->remote_systems.ids[i], "Collections");
                collection_free(n);
        } else {
                const char *props[4];
                size_t k = 0;
                Collection *old = model_remove_collection(e->model, id);

                n->job_id = old ? old->job_id : 0;
                collection_free(old);
                if (model_add_collection(e->model, n) < 0) {
                        /* Only on allocation failure; the store has it and the next start loads it. */
                        log_error("Out of memory while updating collection %" PRIu64 " in the model.", id);
                        engine_notify_removed(e, OBJECT_COLLECTION, id);
                        collection_free(n);
                        return;
                }
                if (p->added_local.n || p->removed_local.n)
                        props[k++] = "LocalAccessPoints";
                if (p->added_remote.n || p->removed_remote.n)
                        props[k++] = "RemoteAccessPoints";
                if (p->added_systems.n || p->removed_systems.n)
                        props[k++] = "RemoteSystems";
                props[k] = NULL;
                engine_notify_changed_strv(e, OBJECT_COLLECTION, id, props);
        }

        notify_members(e, OBJECT_ACCESS_POINT, &p->added_local);
        notify_members(e, OBJECT_ACCESS_POINT, &p->added_remote);
        notify_members(e, OBJECT_SYSTEM, &p->added_systems);
        notify_members(e, OBJECT_ACCESS_POINT, &p->removed_local);
        notify_members(e, OBJECT_ACCESS_POINT, &p->removed_remote);
        notify_members(e, OBJECT_SYSTEM, &p->removed_systems);
}

static void log_plan(const Caller *c, const char *what, const CollectionPlan *p) {
        char q[OBJECT_PATH_MAX];

        log_info("uid=%" PRIu32 " %s %s: +%zu/-%zu local, +%zu/-%zu remote access points, +%zu/-%zu systems%s",
                 c->uid, what, path_of(q, OBJECT_COLLECTION, p->result->id), p->added_local.n, p->removed_local.n,
                 p->added_remote.n, p->removed_remote.n, p->added_systems.n, p->removed_systems.n,
                 p->delete_collection ? ", collection deleted" : "");
}

/* Commits the plan in one transaction; the change is logged once it is stored, never before. */
static int commit_plan(Engine *e, const Caller *c, const char *what, CollectionPlan *p, bool created,
                       bool save_next_id, ReplError *err) {
        int r;

        r = store_begin(e->store);
        if (r >= 0)
                r = engine_stage_plan(e, p);
        if (r >= 0 && save_next_id)
                r = store_save_next_id(e->store, e->model->next_id);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;
        log_plan(c, what, p);
        engine_apply_plan(e, p, created);
        return 0;
}

static bool plan_needs_verification(Engine *e, const CollectionPlan *p) {
        return e->config.verify_access_points && p->added_remote.n > 0;
}


int engine_create_collection(Engine *e, const Caller *c, const char *element_name, const MemberArgs *a,
                             bool active, bool delete_on_unassociated,
                             Collection **ret_collection, Job **ret_job, ReplError *err) {
        _cleanup_(collection_freep) Collection *n = NULL;
        _cleanup_(collection_plan_done) CollectionPlan p = COLLECTION_PLAN_INIT;
        uint64_t id;
        int r;

        r = engine_check_object_limit(e->model->collections.n, e->config.max_collections, "collections", err);
        if (r < 0)
                return r;
        r = validate_string_property(element_name, "ElementName", err);
        if (r < 0)
                return r;
        n = collection_new();
        if (!n)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        n->active = active;
        n->delete_on_unassociated = delete_on_unassociated;
        r = collection_plan_add(e->model, n, a, true, &p, err);
        if (r < 0)
                return r;
        r = engine_check_member_limit(e, p.result, err);
        if (r < 0)
                return r;

        id = model_allocate_id(e->model);
        p.result->id = id;
        if (isempty(element_name)) {
                char buf[64];

                snprintf(buf, sizeof(buf), "collection-%" PRIu64, id);
                r = free_and_strdup(&p.result->element_name, buf);
        } else
                r = free_and_strdup(&p.result->element_name, element_name);
        if (r < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");

        if (plan_needs_verification(e, &p))
                return jobs_start(e, c, "CreateRemoteReplicationCollection", JOB_WORK_COLLECTION, &p, true, 0,
                                  ret_job, err);

        r = commit_plan(e, c, "created collection", &p, true, true, err);
        if (r < 0)
                return r;
        *ret_collection = model_get_collection(e->model, id);
        *ret_job = NULL;
        return 0;
}

/* One wording for "a job holds this collection"; two buffers, since both paths go into one message. */
static int collection_busy_error(const Collection *col, ReplError *err) {
        char cp[OBJECT_PATH_MAX], jp[OBJECT_PATH_MAX];

        return repl_error_set(err, -EBUSY, "Collection %s is being changed by job %s.",
                              path_of(cp, OBJECT_COLLECTION, col->id), path_of(jp, OBJECT_JOB, col->job_id));
}

/* The collection a membership call names by path; InUse while a job holds it. */
static int collection_for_change(Engine *e, const char *path, Collection **ret, ReplError *err) {
        int r;

        r = model_resolve_collection(e->model, path, "ConnectivityCollection", ret, err);
        if (r < 0)
                return r;
        if ((*ret)->job_id)
                return collection_busy_error(*ret, err);
        return 0;
}

/* The same for a collection's own methods, which name it by id. */
static int collection_by_id_for_change(Engine *e, uint64_t id, Collection **ret, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Collection *col = model_get_collection(e->model, id);

        if (!col)
                return repl_error_set(err, -ENOENT, "Collection %s does not exist.", path_of(q, OBJECT_COLLECTION, id));
        if (col->job_id)
                return collection_busy_error(col, err);
        *ret = col;
        return 0;
}

int engine_add_to_collection(Engine *e, const Caller *c, const char *collection_path, const MemberArgs *a,
                             Job **ret_job, ReplError *err) {
        _cleanup_(collection_plan_done) CollectionPlan p = COLLECTION_PLAN_INIT;
        Collection *col = NULL;
        int r;

        r = collection_for_change(e, collection_path, &col, err);
        if (r < 0)
                return r;
        r = collection_plan_add(e->model, col, a, false, &p, err);
        if (r < 0)
                return r;
        r = engine_check_member_limit(e, p.result, err);
        if (r < 0)
                return r;
        *ret_job = NULL;
        if (!collection_plan_changes_membership(&p))
                return 0;       /* everything named is a member already */

        if (plan_needs_verification(e, &p))
                return jobs_start(e, c, "AddToRemoteReplicationCollection", JOB_WORK_COLLECTION, &p, false, col->id,
                                  ret_job, err);

        return commit_plan(e, c, "added to collection", &p, false, false, err);
}

int engine_remove_from_collection(Engine *e, const Caller *c, const char *collection_path, const MemberArgs *a,
                                  ReplError *err) {
        _cleanup_(collection_plan_done) CollectionPlan p = COLLECTION_PLAN_INIT;
        Collection *col = NULL;
        int r;

        r = collection_for_change(e, collection_path, &col, err);
        if (r < 0)
                return r;
        r = collection_plan_remove(e->model, col, a, &p, err);
        if (r < 0)
                return r;
        if (!collection_plan_changes_membership(&p))
                return 0;

        return commit_plan(e, c, "removed from collection", &p, false, false, err);
}

int engine_modify_collection(Engine *e, const Caller *c, uint64_t id, const CollectionSettings *s, ReplError *err) {
        _cleanup_(collection_freep) Collection *n = NULL;
        char q[OBJECT_PATH_MAX];
        Collection *col = NULL;
        const char *props[4];
        size_t k = 0;
        int r;

        r = collection_by_id_for_change(e, id, &col, err);
        if (r < 0)
                return r;
        if (s->set_element_name) {
                r = validate_string_property(s->element_name, "ElementName", err);
                if (r < 0)
                        return r;
        }

        n = collection_copy(col);
        if (!n)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        if (s->set_element_name && strcmp(n->element_name, s->element_name) != 0) {
                if (free_and_strdup(&n->element_name, s->element_name) < 0)
                        return repl_error_set(err, -ENOMEM, "Out of memory.");
                props[k++] = "ElementName";
        }
        if (s->set_active && n->active != s->active) {
                n->active = s->active;
                props[k++] = "Active";
        }
        if (s->set_delete_on_unassociated && n->delete_on_unassociated != s->delete_on_unassociated) {
                n->delete_on_unassociated = s->delete_on_unassociated;
                props[k++] = "DeleteOnUnassociated";
        }
        props[k] = NULL;
        if (k == 0)
                return 0;

        r = store_begin(e->store);
        if (r >= 0)
                r = store_save_collection(e->store, n);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        /* Swap the fields rather than the object, so nothing else has to be re-pointed. */
        free(col->element_name);
        col->element_name = TAKE_PTR(n->element_name);
        col->active = n->active;
        col->delete_on_unassociated = n->delete_on_unassociated;
        log_info("uid=%" PRIu32 " modified collection %s", c->uid, path_of(q, OBJECT_COLLECTION, id));
        engine_notify_changed_strv(e, OBJECT_COLLECTION, id, props);
        return 0;
}

int engine_delete_collection(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Collection *col = NULL;
        IdSet l, rm, sy;
        int r;

        r = collection_by_id_for_change(e, id, &col, err);
        if (r < 0)
                return r;

        r = store_begin(e->store);
        if (r >= 0)
                r = store_delete_collection(e->store, id);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        log_info("uid=%" PRIu32 " deleted collection %s", c->uid, path_of(q, OBJECT_COLLECTION, id));
        engine_notify_removed(e, OBJECT_COLLECTION, id);
        col = model_remove_collection(e->model, id);
        l = col->local_access_points;
        rm = col->remote_access_points;
        sy = col->remote_systems;
        notify_members(e, OBJECT_ACCESS_POINT, &l);
        notify_members(e, OBJECT_ACCESS_POINT, &rm);
        notify_members(e, OBJECT_SYSTEM, &sy);
        collection_free(col);
        return 0;
}

