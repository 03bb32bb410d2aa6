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

#include "change.h"
#include "core/validate.h"
#include "engine-internal.h"
#include "util/log.h"
#include "util/strutil.h"

/* Submits the plan as one change; it is logged once it is stored, never before. */
static int commit_plan(Engine *e, const Caller *c, const char *what, CollectionPlan *p, bool created,
                       bool save_next_id, ReplError *err) {
        Change *ch;
        int r;

        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        engine_log_plan(ch, what, p);
        engine_change_plan(ch, p, created);
        if (save_next_id)
                change_save_next_id(ch);
        return change_submit(ch, err);
}

/* What a membership change reads besides its collection: the members it names. */
static void settle_members(Engine *e) {
        engine_settle_kind(e, OBJECT_SYSTEM);
        engine_settle_kind(e, OBJECT_ACCESS_POINT);
}

static void settle_collection_path(Engine *e, const char *path) {
        ObjectKind k;
        uint64_t id;

        if (path && object_path_parse(path, &k, &id) >= 0 && k == OBJECT_COLLECTION)
                engine_settle(e, id);
}

static bool plan_needs_verification(Engine *e, const CollectionPlan *p) {
        return e->config.verify_access_points && p->added_remote.n > 0;
}


int engine_create_collection(Engine *e, const Caller *c, const char *element_name, const MemberArgs *a,
                             bool active, bool delete_on_unassociated,
                             uint64_t *ret_collection_id, uint64_t *ret_job_id, ReplError *err) {
        _cleanup_(collection_freep) Collection *n = NULL;
        _cleanup_(collection_plan_done) CollectionPlan p = COLLECTION_PLAN_INIT;
        uint64_t id;
        int r;

        settle_members(e);
        engine_settle_kind(e, OBJECT_COLLECTION);
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

        *ret_collection_id = 0;
        *ret_job_id = 0;
        if (plan_needs_verification(e, &p))
                return jobs_start(e, c, "CreateRemoteReplicationCollection", JOB_WORK_COLLECTION, &p, true, 0,
                                  ret_job_id, err);

        r = commit_plan(e, c, "created collection", &p, true, true, err);
        if (r < 0)
                return r;
        *ret_collection_id = id;
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

        settle_members(e);
        settle_collection_path(e, path);
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
        Collection *col;

        engine_settle(e, id);
        col = model_get_collection(e->model, id);

        if (!col)
                return repl_error_set(err, -ENOENT, "Collection %s does not exist.", path_of(q, OBJECT_COLLECTION, id));
        if (col->job_id)
                return collection_busy_error(col, err);
        *ret = col;
        return 0;
}

int engine_add_to_collection(Engine *e, const Caller *c, const char *collection_path, const MemberArgs *a,
                             uint64_t *ret_job_id, ReplError *err) {
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
        *ret_job_id = 0;
        if (!collection_plan_changes_membership(&p))
                return 0;       /* everything named is a member already */

        if (plan_needs_verification(e, &p))
                return jobs_start(e, c, "AddToRemoteReplicationCollection", JOB_WORK_COLLECTION, &p, false, col->id,
                                  ret_job_id, err);

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
        Change *ch;
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

        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        /* Member sets stay as they are; only the settings change. */
        change_save(ch, OBJECT_COLLECTION, n);
        change_log(ch, "modified collection %s", path_of(q, OBJECT_COLLECTION, id));
        change_replace(ch, OBJECT_COLLECTION, TAKE_PTR(n));
        change_notify_strv(ch, OBJECT_COLLECTION, id, props);
        return change_submit(ch, err);
}

/* A synchronization copies over the collection's paths: it must be detached first. */
static int check_no_synchronizations(Engine *e, uint64_t id, ReplError *err) {
        _cleanup_(idset_clear) IdSet syncs = IDSET_INIT;
        char p[OBJECT_PATH_MAX], q[OBJECT_PATH_MAX];

        engine_settle_kind(e, OBJECT_SYNCHRONIZATION);
        if (model_synchronizations_of_collection(e->model, id, &syncs) < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        if (syncs.n == 0)
                return 0;
        return repl_error_set(err, -EBUSY, "Collection %s carries synchronization %s.", path_of(p, OBJECT_COLLECTION, id),
                              path_of(q, OBJECT_SYNCHRONIZATION, syncs.ids[0]));
}

int engine_delete_collection(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Collection *col = NULL;
        Change *ch;
        int r;

        r = collection_by_id_for_change(e, id, &col, err);
        if (r >= 0)
                r = check_no_synchronizations(e, id, err);
        if (r >= 0)
                r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_log(ch, "deleted collection %s", path_of(q, OBJECT_COLLECTION, id));
        change_delete(ch, OBJECT_COLLECTION, id);
        change_remove(ch, OBJECT_COLLECTION, id);
        engine_notify_members(ch, OBJECT_ACCESS_POINT, &col->local_access_points);
        engine_notify_members(ch, OBJECT_ACCESS_POINT, &col->remote_access_points);
        engine_notify_members(ch, OBJECT_SYSTEM, &col->remote_systems);
        return change_submit(ch, err);
}
