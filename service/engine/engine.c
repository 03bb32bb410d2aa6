/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Synchronous changes: peers, access points, secrets and collections. Each
 * one validates, writes one transaction, and only after the commit changes
 * the model and announces it, so a failing call leaves everything as it was.
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

static int storage_error(ReplError *err, int r) {
        return repl_error_set(err, r == -ENOMEM ? -ENOMEM : -EIO,
                              "The change could not be stored; nothing was changed.");
}

/*
 * Ends the transaction the caller began and filled while r stayed >= 0:
 * commits it, or rolls it back and reports that nothing changed.
 */
static int engine_end_transaction(Engine *e, int r, ReplError *err) {
        if (r >= 0)
                r = store_commit(e->store);
        if (r < 0) {
                store_rollback(e->store);
                return storage_error(err, r);
        }
        return 0;
}

int engine_new(sd_event *event, const char *state_directory, const char *local_name, const ServiceConfig *config,
               Engine **ret) {
        Engine *e;
        int r;

        e = calloc(1, sizeof(Engine));
        if (!e)
                return -ENOMEM;
        e->event = sd_event_ref(event);
        e->config = *config;
        e->model = model_new(local_name);
        if (!e->model) {
                engine_free(e);
                return -ENOMEM;
        }
        r = store_open(state_directory, &e->store);
        if (r < 0) {
                engine_free(e);
                return log_error_errno(r, "Failed to open the state store in %s", state_directory);
        }
        r = store_load(e->store, e->model);
        if (r < 0) {
                engine_free(e);
                return log_error_errno(r, "Failed to load the state store in %s", state_directory);
        }
        *ret = e;
        return 0;
}

Engine *engine_free(Engine *e) {
        if (!e)
                return NULL;
        if (e->model)
                MODEL_FOREACH(Job, j, e->model->jobs)
                        jobs_free_runtime(j);
        model_free(e->model);
        store_close(e->store);
        sd_event_unref(e->event);
        free(e);
        return NULL;
}

void engine_set_observer(Engine *e, const EngineObserver *o, void *userdata) {
        e->observer = o;
        e->observer_userdata = userdata;
}

int engine_recover(Engine *e) {
        return jobs_recover(e);
}

void engine_shutdown(Engine *e) {
        e->shutting_down = true;
        jobs_shutdown(e);
}

bool engine_has_running_jobs(Engine *e) {
        return model_count_running_jobs(e->model, false, 0) > 0;
}

void engine_notify_added(Engine *e, ObjectKind kind, uint64_t id) {
        if (e->observer && e->observer->object_added)
                e->observer->object_added(kind, id, e->observer_userdata);
}

void engine_notify_removed(Engine *e, ObjectKind kind, uint64_t id) {
        if (e->observer && e->observer->object_removed)
                e->observer->object_removed(kind, id, e->observer_userdata);
}

void engine_notify_changed_strv(Engine *e, ObjectKind kind, uint64_t id, const char * const *props) {
        if (props && props[0] && e->observer && e->observer->properties_changed)
                e->observer->properties_changed(kind, id, props, e->observer_userdata);
}

void engine_notify_job_completed(Engine *e, const Job *j) {
        if (e->observer && e->observer->job_completed)
                e->observer->job_completed(j, e->observer_userdata);
}

bool engine_object_busy(Engine *e, ObjectKind kind, uint64_t id) {
        return jobs_uses_object(e, kind, id);
}

static char *path_of(char buf[static OBJECT_PATH_MAX], ObjectKind kind, uint64_t id) {
        return object_path_format(buf, kind, id);
}

/* Object limits (API.md section 8) are checked before anything else about a call. */
static int check_object_limit(size_t n, size_t max, const char *what, ReplError *err) {
        if (n < max)
                return 0;
        return repl_error_set(err, -EDQUOT, "There are %zu %s already, the most the service allows.", n, what);
}

static int check_member_limit(Engine *e, const Collection *c, ReplError *err) {
        size_t n = c->local_access_points.n + c->remote_access_points.n + c->remote_systems.n;

        if (n <= e->config.max_collection_members)
                return 0;
        return repl_error_set(err, -EDQUOT, "The collection would have %zu members; at most %zu are allowed.", n,
                              e->config.max_collection_members);
}

/* ---- peers ---- */

int engine_add_peer_system(Engine *e, const Caller *c, const char *name, const char *element_name,
                           System **ret, ReplError *err) {
        _cleanup_(system_freep) System *s = NULL;
        char p[OBJECT_PATH_MAX];
        NameFormat f;
        int r;

        /* The local system is not a peer. */
        r = check_object_limit(e->model->systems.n - 1, e->config.max_peer_systems, "peer systems", err);
        if (r < 0)
                return r;
        r = validate_string_property(name, "Name", err);
        if (r < 0)
                return r;
        r = name_format_from_name(name, "Name", &f, err);
        if (r < 0)
                return r;
        r = validate_string_property(element_name, "ElementName", err);
        if (r < 0)
                return r;
        System *x = model_find_peer_by_name(e->model, name);
        if (x)
                return repl_error_set(err, -EEXIST, "A peer system named '%s' exists already: %s.", name,
                                      path_of(p, OBJECT_SYSTEM, x->id));

        s = system_new();
        if (!s || free_and_strdup(&s->name, name) < 0 || free_and_strdup(&s->element_name, element_name) < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        s->id = model_allocate_id(e->model);

        r = store_begin(e->store);
        if (r >= 0)
                r = store_save_system(e->store, s);
        if (r >= 0)
                r = store_save_next_id(e->store, e->model->next_id);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        r = model_add_system(e->model, s);
        if (r < 0)
                return repl_error_set(err, r, "Out of memory.");
        System *added = TAKE_PTR(s);
        log_info("uid=%" PRIu32 " added peer system %s (%s)", c->uid, path_of(p, OBJECT_SYSTEM, added->id), name);
        engine_notify_added(e, OBJECT_SYSTEM, added->id);
        if (ret)
                *ret = added;
        return 0;
}

int engine_add_access_point(Engine *e, const Caller *c, const char *system_path, const AccessPointSpec *spec,
                            AccessPoint **ret, ReplError *err) {
        _cleanup_(access_point_freep) AccessPoint *a = NULL;
        _cleanup_free_ char *address = NULL;
        char p[OBJECT_PATH_MAX], portal[PORTAL_NAME_MAX];
        System *s;
        int r;

        r = check_object_limit(e->model->access_points.n, e->config.max_access_points, "access points", err);
        if (r < 0)
                return r;
        r = model_resolve_system(e->model, system_path, "System", &s, err);
        if (r < 0)
                return r;
        r = validate_access_point_spec(spec, s->id == LOCAL_SYSTEM_ID, NULL, err);
        if (r < 0)
                return r;
        r = address_normalize(spec->address, &address);
        if (r < 0)
                return repl_error_set(err, r, "Out of memory.");

        AccessPoint *x = model_find_access_point_by_portal(e->model, s->id, address, spec->port, spec->target_name);
        if (x)
                return repl_error_set(err, -EEXIST, "%s has an access point %s with this target already: %s.",
                                      system_path, portal_name_format(portal, address, spec->port),
                                      path_of(p, OBJECT_ACCESS_POINT, x->id));

        a = access_point_new();
        if (!a || free_and_strdup(&a->address, address) < 0 ||
            free_and_strdup(&a->target_name, spec->target_name) < 0 ||
            free_and_strdup(&a->element_name, spec->element_name) < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        a->id = model_allocate_id(e->model);
        a->system_id = s->id;
        a->port = spec->port;
        a->portal_group_tag = spec->portal_group_tag;

        r = store_begin(e->store);
        if (r >= 0)
                r = store_save_access_point(e->store, a);
        if (r >= 0)
                r = store_save_next_id(e->store, e->model->next_id);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        r = model_add_access_point(e->model, a);
        if (r < 0)
                return repl_error_set(err, r, "Out of memory.");
        AccessPoint *added = TAKE_PTR(a);
        log_info("uid=%" PRIu32 " added access point %s (%s) to %s", c->uid,
                 path_of(p, OBJECT_ACCESS_POINT, added->id), portal_name_format(portal, added->address, added->port),
                 system_path);
        engine_notify_added(e, OBJECT_ACCESS_POINT, added->id);
        engine_notify_changed(e, OBJECT_SYSTEM, s->id, "AccessPoints");
        if (ret)
                *ret = added;
        return 0;
}

int engine_add_secret(Engine *e, const Caller *c, const char *access_point_path, const SecretSpec *spec,
                      SharedSecret **ret, ReplError *err) {
        _cleanup_(secret_freep) SharedSecret *s = NULL;
        char p[OBJECT_PATH_MAX];
        AccessPoint *a = NULL;
        SharedSecret *old = NULL;
        int r;

        if (access_point_path && strcmp(access_point_path, NULL_PATH) != 0) {
                r = model_resolve_access_point(e->model, access_point_path, "ServiceAccessPoint", &a, err);
                if (r < 0)
                        return r;
                r = validate_secret_access_point(access_point_path, access_point_is_local(a), err);
                if (r < 0)
                        return r;
        }
        r = validate_secret_spec(spec, err);
        if (r < 0)
                return r;

        s = secret_new();
        if (!s || free_and_strdup(&s->username, spec->username) < 0 ||
            free_and_strdup(&s->mutual_username, spec->mutual_username) < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        erase_and_free(s->secret);
        s->secret = strdup(spec->secret);
        erase_and_free(s->mutual_secret);
        s->mutual_secret = strdup(spec->mutual_secret ? spec->mutual_secret : "");
        if (!s->secret || !s->mutual_secret)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        s->id = model_allocate_id(e->model);
        s->access_point_id = a ? a->id : 0;
        if (a && a->secret_id)
                old = model_get_secret(e->model, a->secret_id);

        AccessPoint updated;
        r = store_begin(e->store);
        if (r >= 0)
                r = store_save_secret(e->store, s);
        if (r >= 0 && old)
                r = store_delete_secret(e->store, old->id);
        if (r >= 0 && a) {
                updated = *a;
                updated.secret_id = s->id;
                r = store_save_access_point(e->store, &updated);
        }
        if (r >= 0)
                r = store_save_next_id(e->store, e->model->next_id);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        r = model_add_secret(e->model, s);
        if (r < 0)
                return repl_error_set(err, r, "Out of memory.");
        SharedSecret *added = TAKE_PTR(s);
        if (old) {
                engine_notify_removed(e, OBJECT_SECRET, old->id);
                secret_free(model_remove_secret(e->model, old->id));
        }
        if (a)
                a->secret_id = added->id;
        /* The username is not secret; the secret bytes are never logged. */
        log_info("uid=%" PRIu32 " added shared secret %s for user '%s' on %s", c->uid,
                 path_of(p, OBJECT_SECRET, added->id), added->username, a ? access_point_path : "no access point");
        engine_notify_added(e, OBJECT_SECRET, added->id);
        if (a)
                engine_notify_changed(e, OBJECT_ACCESS_POINT, a->id, "SharedSecret");
        if (ret)
                *ret = added;
        return 0;
}

static int check_access_point_deletable(Engine *e, const AccessPoint *a, ReplError *err) {
        _cleanup_(idset_clear) IdSet cols = IDSET_INIT;
        char p[OBJECT_PATH_MAX], q[OBJECT_PATH_MAX];

        if (model_collections_of_access_point(e->model, a->id, &cols) < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        if (cols.n > 0)
                return repl_error_set(err, -EBUSY, "Access point %s is a member of collection %s.",
                                      path_of(p, OBJECT_ACCESS_POINT, a->id),
                                      path_of(q, OBJECT_COLLECTION, cols.ids[0]));
        if (engine_object_busy(e, OBJECT_ACCESS_POINT, a->id))
                return repl_error_set(err, -EBUSY, "Access point %s is being worked on by a running job.",
                                      path_of(p, OBJECT_ACCESS_POINT, a->id));
        return 0;
}

/* Removes an access point (and its secret) from the model, announcing both. */
static void drop_access_point(Engine *e, uint64_t id) {
        AccessPoint *a = model_get_access_point(e->model, id);

        if (!a)
                return;
        if (a->secret_id && model_get_secret(e->model, a->secret_id)) {
                engine_notify_removed(e, OBJECT_SECRET, a->secret_id);
                secret_free(model_remove_secret(e->model, a->secret_id));
        }
        engine_notify_removed(e, OBJECT_ACCESS_POINT, id);
        access_point_free(model_remove_access_point(e->model, id));
}

int engine_delete_access_point(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        AccessPoint *a = model_get_access_point(e->model, id);
        uint64_t system_id;
        int r;

        if (!a)
                return repl_error_set(err, -ENOENT, "Access point %s does not exist.", path_of(p, OBJECT_ACCESS_POINT, id));
        r = check_access_point_deletable(e, a, err);
        if (r < 0)
                return r;

        r = store_begin(e->store);
        if (r >= 0 && a->secret_id)
                r = store_delete_secret(e->store, a->secret_id);
        if (r >= 0)
                r = store_delete_access_point(e->store, id);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        system_id = a->system_id;
        log_info("uid=%" PRIu32 " deleted access point %s", c->uid, path_of(p, OBJECT_ACCESS_POINT, id));
        drop_access_point(e, id);
        engine_notify_changed(e, OBJECT_SYSTEM, system_id, "AccessPoints");
        return 0;
}

int engine_delete_system(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        _cleanup_(idset_clear) IdSet cols = IDSET_INIT, aps = IDSET_INIT;
        char p[OBJECT_PATH_MAX], q[OBJECT_PATH_MAX];
        System *s = model_get_system(e->model, id);
        int r;

        if (!s)
                return repl_error_set(err, -ENOENT, "Computer system %s does not exist.", path_of(p, OBJECT_SYSTEM, id));
        if (id == LOCAL_SYSTEM_ID)
                return repl_error_set(err, -EINVAL, "%s is this host and cannot be deleted.", LOCAL_SYSTEM_PATH);
        if (model_collections_of_system(e->model, id, &cols) < 0 ||
            model_access_points_of_system(e->model, id, &aps) < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        if (cols.n > 0)
                return repl_error_set(err, -EBUSY, "Computer system %s is a member of collection %s.",
                                      path_of(p, OBJECT_SYSTEM, id), path_of(q, OBJECT_COLLECTION, cols.ids[0]));
        if (engine_object_busy(e, OBJECT_SYSTEM, id))
                return repl_error_set(err, -EBUSY, "Computer system %s is being worked on by a running job.",
                                      path_of(p, OBJECT_SYSTEM, id));
        for (size_t i = 0; i < aps.n; i++) {
                r = check_access_point_deletable(e, model_get_access_point(e->model, aps.ids[i]), err);
                if (r < 0)
                        return r;
        }

        r = store_begin(e->store);
        for (size_t i = 0; r >= 0 && i < aps.n; i++) {
                AccessPoint *a = model_get_access_point(e->model, aps.ids[i]);

                if (a->secret_id)
                        r = store_delete_secret(e->store, a->secret_id);
                if (r >= 0)
                        r = store_delete_access_point(e->store, a->id);
        }
        if (r >= 0)
                r = store_delete_system(e->store, id);
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        log_info("uid=%" PRIu32 " deleted peer system %s and its %zu access points", c->uid,
                 path_of(p, OBJECT_SYSTEM, id), aps.n);
        for (size_t i = 0; i < aps.n; i++)
                drop_access_point(e, aps.ids[i]);
        engine_notify_removed(e, OBJECT_SYSTEM, id);
        system_free(model_remove_system(e->model, id));
        return 0;
}

int engine_delete_secret(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        SharedSecret *s = model_get_secret(e->model, id);
        AccessPoint *a, updated;
        int r;

        if (!s)
                return repl_error_set(err, -ENOENT, "Shared secret %s does not exist.", path_of(p, OBJECT_SECRET, id));
        a = s->access_point_id ? model_get_access_point(e->model, s->access_point_id) : NULL;

        r = store_begin(e->store);
        if (r >= 0)
                r = store_delete_secret(e->store, id);
        if (r >= 0 && a) {
                updated = *a;
                updated.secret_id = 0;
                r = store_save_access_point(e->store, &updated);
        }
        r = engine_end_transaction(e, r, err);
        if (r < 0)
                return r;

        log_info("uid=%" PRIu32 " deleted shared secret %s", c->uid, path_of(p, OBJECT_SECRET, id));
        engine_notify_removed(e, OBJECT_SECRET, id);
        secret_free(model_remove_secret(e->model, id));
        if (a) {
                a->secret_id = 0;
                engine_notify_changed(e, OBJECT_ACCESS_POINT, a->id, "SharedSecret");
        }
        return 0;
}

/* ---- collections ---- */

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

        r = check_object_limit(e->model->collections.n, e->config.max_collections, "collections", err);
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
        r = check_member_limit(e, p.result, err);
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

static int collection_for_change(Engine *e, const char *path, Collection **ret, ReplError *err) {
        int r;

        r = model_resolve_collection(e->model, path, "ConnectivityCollection", ret, err);
        if (r < 0)
                return r;
        if ((*ret)->job_id)
                return collection_busy_error(*ret, err);
        return 0;
}

int engine_add_to_collection(Engine *e, const Caller *c, const char *collection_path, const MemberArgs *a,
                             Job **ret_job, ReplError *err) {
        _cleanup_(collection_plan_done) CollectionPlan p = COLLECTION_PLAN_INIT;
        Collection *col;
        int r;

        r = collection_for_change(e, collection_path, &col, err);
        if (r < 0)
                return r;
        r = collection_plan_add(e->model, col, a, false, &p, err);
        if (r < 0)
                return r;
        r = check_member_limit(e, p.result, err);
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
        Collection *col;
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
        Collection *col = model_get_collection(e->model, id);
        const char *props[4];
        size_t k = 0;
        int r;

        if (!col)
                return repl_error_set(err, -ENOENT, "Collection %s does not exist.", path_of(q, OBJECT_COLLECTION, id));
        if (col->job_id)
                return collection_busy_error(col, err);
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
        Collection *col = model_get_collection(e->model, id);
        IdSet l, rm, sy;
        int r;

        if (!col)
                return repl_error_set(err, -ENOENT, "Collection %s does not exist.", path_of(q, OBJECT_COLLECTION, id));
        if (col->job_id)
                return collection_busy_error(col, err);

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

/* ---- probing ---- */

int engine_verify_access_point(Engine *e, const Caller *c, uint64_t id, Job **ret_job, ReplError *err) {
        char q[OBJECT_PATH_MAX];

        if (!model_get_access_point(e->model, id))
                return repl_error_set(err, -ENOENT, "Access point %s does not exist.", path_of(q, OBJECT_ACCESS_POINT, id));
        return jobs_start(e, c, "Verify", JOB_WORK_VERIFY, NULL, false, id, ret_job, err);
}

int engine_probe_peer_systems(Engine *e, const Caller *c, Job **ret_job, ReplError *err) {
        return jobs_start(e, c, "GetPeerSystems", JOB_WORK_PEERS, NULL, false, 0, ret_job, err);
}

/* ---- jobs ---- */

static int job_for_control(Engine *e, const Caller *c, uint64_t id, Job **ret, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Job *j = model_get_job(e->model, id);

        if (!j)
                return repl_error_set(err, -ENOENT, "Job %s does not exist.", path_of(q, OBJECT_JOB, id));
        *ret = j;
        return 0;
}

int engine_job_request_state_change(Engine *e, const Caller *c, uint64_t id, uint16_t requested, ReplError *err) {
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        return r < 0 ? r : jobs_request_state_change(e, c, j, requested, err);
}

int engine_job_delete(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        if (r < 0)
                return r;
        r = jobs_delete(e, j, err);
        if (r >= 0)
                log_info("uid=%" PRIu32 " deleted job %s", c->uid, path_of(q, OBJECT_JOB, id));
        return r;
}

int engine_job_set_delete_on_completion(Engine *e, const Caller *c, uint64_t id, bool b, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        if (r < 0 || j->delete_on_completion == b)
                return r;
        r = jobs_set_removal(e, j, true, b, false, 0, err);
        if (r >= 0)
                log_info("uid=%" PRIu32 " set DeleteOnCompletion of job %s to %s", c->uid,
                         path_of(q, OBJECT_JOB, id), b ? "true" : "false");
        return r;
}

int engine_job_set_time_before_removal(Engine *e, const Caller *c, uint64_t id, uint64_t usec, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        if (r < 0 || j->time_before_removal == usec)
                return r;
        r = jobs_set_removal(e, j, false, false, true, usec, err);
        if (r >= 0)
                log_info("uid=%" PRIu32 " set TimeBeforeRemoval of job %s to %" PRIu64 " us", c->uid,
                         path_of(q, OBJECT_JOB, id), usec);
        return r;
}
