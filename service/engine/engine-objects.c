/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Synchronous changes to peers, access points and secrets: adding them within
 * the object limits, and deleting them only when no collection holds them and
 * no running job works on them (a system goes with its access points and
 * secrets).
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

int engine_add_peer_system(Engine *e, const Caller *c, const char *name, const char *element_name,
                           System **ret, ReplError *err) {
        _cleanup_(system_freep) System *s = NULL;
        char p[OBJECT_PATH_MAX];
        NameFormat f;
        int r;

        /* The local system is not a peer. */
        r = engine_check_object_limit(e->model->systems.n - 1, e->config.max_peer_systems, "peer systems", err);
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

        r = engine_check_object_limit(e->model->access_points.n, e->config.max_access_points, "access points", err);
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

