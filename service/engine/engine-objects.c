/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changes to peers, access points and secrets: adding them within the object
 * limits, and deleting them only when no collection holds them and no
 * running job works on them (a system goes with its access points and
 * secrets). Each builds one Change (change.h).
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

static int out_of_memory(ReplError *err) {
        return repl_error_set(err, -ENOMEM, "Out of memory.");
}

static int check_peer_system(Engine *e, const char *name, const char *element_name, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        NameFormat f;
        int r;

        /* The local system is not a peer. */
        r = engine_check_object_limit(e->model->systems.n - 1, e->config.max_peer_systems, "peer systems", err);
        if (r >= 0)
                r = validate_peer_system(name, element_name, &f, err);
        if (r < 0)
                return r;
        System *x = model_find_peer_by_name(e->model, name);
        if (x)
                return repl_error_set(err, -EEXIST, "A peer system named '%s' exists already: %s.", name,
                                      path_of(p, OBJECT_SYSTEM, x->id));
        return 0;
}

int engine_add_peer_system(Engine *e, const Caller *c, const char *name, const char *element_name,
                           uint64_t *ret_id, ReplError *err) {
        _cleanup_(system_freep) System *s = NULL;
        _cleanup_(change_abandonp) Change *ch = NULL;
        char p[OBJECT_PATH_MAX];
        int r;

        engine_settle_kind(e, OBJECT_SYSTEM);
        r = check_peer_system(e, name, element_name, err);
        if (r < 0)
                return r;
        s = system_new();
        if (!s || free_and_strdup(&s->name, name) < 0 || free_and_strdup(&s->element_name, element_name) < 0)
                return out_of_memory(err);
        s->id = model_allocate_id(e->model);

        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_save(ch, OBJECT_SYSTEM, s);
        change_save_next_id(ch);
        change_log(ch, "added peer system %s (%s)", path_of(p, OBJECT_SYSTEM, s->id), name);
        *ret_id = s->id;
        change_add(ch, OBJECT_SYSTEM, TAKE_PTR(s));
        return change_submit(TAKE_PTR(ch), err);
}

static int new_access_point(Engine *e, const char *system_path, const AccessPointSpec *spec, AccessPoint **ret,
                            ReplError *err) {
        _cleanup_(access_point_freep) AccessPoint *a = NULL;
        _cleanup_free_ char *address = NULL;
        char p[OBJECT_PATH_MAX], portal[PORTAL_NAME_MAX];
        System *s;
        int r;

        r = engine_check_object_limit(e->model->access_points.n, e->config.max_access_points, "access points", err);
        if (r >= 0)
                r = model_resolve_system(e->model, system_path, "System", &s, err);
        if (r >= 0)
                r = validate_access_point_spec(spec, s->id == LOCAL_SYSTEM_ID, NULL, err);
        if (r < 0)
                return r;
        if (address_normalize(spec->address, &address) < 0)
                return out_of_memory(err);
        AccessPoint *x = model_find_access_point_by_portal(e->model, s->id, address, spec->port, spec->target_name);
        if (x)
                return repl_error_set(err, -EEXIST, "%s has an access point %s with this target already: %s.",
                                      system_path, portal_name_format(portal, address, spec->port),
                                      path_of(p, OBJECT_ACCESS_POINT, x->id));

        a = access_point_new();
        if (!a || free_and_strdup(&a->target_name, spec->target_name) < 0 ||
            free_and_strdup(&a->element_name, spec->element_name) < 0)
                return out_of_memory(err);
        free(a->address);
        a->address = TAKE_PTR(address);
        a->system_id = s->id;
        a->port = spec->port;
        a->portal_group_tag = spec->portal_group_tag;
        *ret = TAKE_PTR(a);
        return 0;
}

int engine_add_access_point(Engine *e, const Caller *c, const char *system_path, const AccessPointSpec *spec,
                            uint64_t *ret_id, ReplError *err) {
        _cleanup_(access_point_freep) AccessPoint *a = NULL;
        _cleanup_(change_abandonp) Change *ch = NULL;
        char p[OBJECT_PATH_MAX], portal[PORTAL_NAME_MAX];
        int r;

        engine_settle_kind(e, OBJECT_SYSTEM);
        engine_settle_kind(e, OBJECT_ACCESS_POINT);
        r = new_access_point(e, system_path, spec, &a, err);
        if (r < 0)
                return r;
        a->id = model_allocate_id(e->model);

        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_save(ch, OBJECT_ACCESS_POINT, a);
        change_save_next_id(ch);
        change_log(ch, "added access point %s (%s) to %s", path_of(p, OBJECT_ACCESS_POINT, a->id),
                   portal_name_format(portal, a->address, a->port), system_path);
        *ret_id = a->id;
        uint64_t system_id = a->system_id;
        change_add(ch, OBJECT_ACCESS_POINT, TAKE_PTR(a));
        change_notify(ch, OBJECT_SYSTEM, system_id, "AccessPoints");
        return change_submit(TAKE_PTR(ch), err);
}

/* After the commit: the access point points at its new secret (0: none). */
typedef struct SecretBinding {
        uint64_t access_point_id;
        uint64_t secret_id;
} SecretBinding;

static void apply_secret_binding(Engine *e, void *data) {
        SecretBinding *b = data;
        AccessPoint *a = model_get_access_point(e->model, b->access_point_id);

        if (a)
                a->secret_id = b->secret_id;
}

static void change_bind_secret(Change *ch, const AccessPoint *a, uint64_t secret_id) {
        AccessPoint updated = *a;
        SecretBinding *b = malloc(sizeof(SecretBinding));

        updated.secret_id = secret_id;
        change_save(ch, OBJECT_ACCESS_POINT, &updated);
        if (!b) {
                change_fail(ch, -ENOMEM);
                return;
        }
        *b = (SecretBinding) { a->id, secret_id };
        change_call(ch, a->id, apply_secret_binding, b, free);
        change_notify(ch, OBJECT_ACCESS_POINT, a->id, "SharedSecret");
}

static int new_secret(const SecretSpec *spec, uint64_t access_point_id, SharedSecret **ret, ReplError *err) {
        _cleanup_(secret_freep) SharedSecret *s = secret_new();

        if (!s || free_and_strdup(&s->username, spec->username) < 0 ||
            free_and_strdup(&s->mutual_username, spec->mutual_username) < 0)
                return out_of_memory(err);
        erase_and_free(s->secret);
        s->secret = strdup(spec->secret);
        erase_and_free(s->mutual_secret);
        s->mutual_secret = strdup(spec->mutual_secret ? spec->mutual_secret : "");
        if (!s->secret || !s->mutual_secret)
                return out_of_memory(err);
        s->access_point_id = access_point_id;
        *ret = TAKE_PTR(s);
        return 0;
}

int engine_add_secret(Engine *e, const Caller *c, const char *access_point_path, const SecretSpec *spec,
                      uint64_t *ret_id, ReplError *err) {
        _cleanup_(secret_freep) SharedSecret *s = NULL;
        _cleanup_(change_abandonp) Change *ch = NULL;
        char p[OBJECT_PATH_MAX];
        AccessPoint *a = NULL;
        int r;

        engine_settle_kind(e, OBJECT_ACCESS_POINT);
        if (access_point_path && strcmp(access_point_path, NULL_PATH) != 0) {
                r = model_resolve_access_point(e->model, access_point_path, "ServiceAccessPoint", &a, err);
                if (r < 0)
                        return r;
                engine_settle(e, a->id);
                r = validate_secret_access_point(access_point_path, access_point_is_local(a), err);
                if (r < 0)
                        return r;
        }
        r = validate_secret_spec(spec, err);
        if (r >= 0)
                r = new_secret(spec, a ? a->id : 0, &s, err);
        if (r < 0)
                return r;
        s->id = model_allocate_id(e->model);

        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_save(ch, OBJECT_SECRET, s);
        if (a && a->secret_id) {
                change_delete(ch, OBJECT_SECRET, a->secret_id);
                change_remove(ch, OBJECT_SECRET, a->secret_id);
        }
        change_save_next_id(ch);
        /* The username is not secret; the secret bytes are never logged. */
        change_log(ch, "added shared secret %s for user '%s' on %s", path_of(p, OBJECT_SECRET, s->id), s->username,
                   a ? access_point_path : "no access point");
        *ret_id = s->id;
        change_add(ch, OBJECT_SECRET, TAKE_PTR(s));
        if (a)
                change_bind_secret(ch, a, *ret_id);
        return change_submit(TAKE_PTR(ch), err);
}

static int check_access_point_deletable(Engine *e, const AccessPoint *a, ReplError *err) {
        char p[OBJECT_PATH_MAX], q[OBJECT_PATH_MAX];

        if (a->collections.n > 0)
                return repl_error_set(err, -EBUSY, "Access point %s is a member of collection %s.",
                                      path_of(p, OBJECT_ACCESS_POINT, a->id),
                                      path_of(q, OBJECT_COLLECTION, a->collections.ids[0]));
        if (a->volumes.n > 0)
                return repl_error_set(err, -EBUSY, "Volume %s is behind access point %s.",
                                      path_of(q, OBJECT_VOLUME, a->volumes.ids[0]), path_of(p, OBJECT_ACCESS_POINT, a->id));
        if (engine_object_busy(e, OBJECT_ACCESS_POINT, a->id))
                return repl_error_set(err, -EBUSY, "Access point %s is being worked on by a running job.",
                                      path_of(p, OBJECT_ACCESS_POINT, a->id));
        return 0;
}

/* Deletes an access point's rows and drops it (and its secret) from the model after the commit. */
static void change_drop_access_point(Change *ch, const AccessPoint *a) {
        if (a->secret_id) {
                change_delete(ch, OBJECT_SECRET, a->secret_id);
                change_remove(ch, OBJECT_SECRET, a->secret_id);
        }
        change_delete(ch, OBJECT_ACCESS_POINT, a->id);
        change_remove(ch, OBJECT_ACCESS_POINT, a->id);
}

/* What a delete reads: memberships and running jobs, besides the object. */
static void settle_for_delete(Engine *e, uint64_t id) {
        engine_settle(e, id);
        engine_settle_kind(e, OBJECT_COLLECTION);
        engine_settle_kind(e, OBJECT_JOB);
}

int engine_delete_access_point(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        _cleanup_(change_abandonp) Change *ch = NULL;
        char p[OBJECT_PATH_MAX];
        AccessPoint *a;
        int r;

        settle_for_delete(e, id);
        a = model_get_access_point(e->model, id);
        if (!a)
                return repl_error_set(err, -ENOENT, "Access point %s does not exist.", path_of(p, OBJECT_ACCESS_POINT, id));
        r = check_access_point_deletable(e, a, err);
        if (r >= 0)
                r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_log(ch, "deleted access point %s", path_of(p, OBJECT_ACCESS_POINT, id));
        change_drop_access_point(ch, a);
        change_notify(ch, OBJECT_SYSTEM, a->system_id, "AccessPoints");
        return change_submit(TAKE_PTR(ch), err);
}

static int check_system_deletable(Engine *e, const System *s, ReplError *err) {
        char p[OBJECT_PATH_MAX], q[OBJECT_PATH_MAX];
        int r;

        if (s->id == LOCAL_SYSTEM_ID)
                return repl_error_set(err, -EINVAL, "%s is this host and cannot be deleted.", LOCAL_SYSTEM_PATH);
        if (s->collections.n > 0)
                return repl_error_set(err, -EBUSY, "Computer system %s is a member of collection %s.",
                                      path_of(p, OBJECT_SYSTEM, s->id),
                                      path_of(q, OBJECT_COLLECTION, s->collections.ids[0]));
        if (engine_object_busy(e, OBJECT_SYSTEM, s->id))
                return repl_error_set(err, -EBUSY, "Computer system %s is being worked on by a running job.",
                                      path_of(p, OBJECT_SYSTEM, s->id));
        for (size_t i = 0; i < s->access_points.n; i++) {
                r = check_access_point_deletable(e, model_get_access_point(e->model, s->access_points.ids[i]), err);
                if (r < 0)
                        return r;
        }
        return 0;
}

int engine_delete_system(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        _cleanup_(change_abandonp) Change *ch = NULL;
        char p[OBJECT_PATH_MAX];
        System *s;
        int r;

        settle_for_delete(e, id);
        engine_settle_kind(e, OBJECT_ACCESS_POINT);
        s = model_get_system(e->model, id);
        if (!s)
                return repl_error_set(err, -ENOENT, "Computer system %s does not exist.", path_of(p, OBJECT_SYSTEM, id));
        r = check_system_deletable(e, s, err);
        if (r >= 0)
                r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_log(ch, "deleted peer system %s and its %zu access points", path_of(p, OBJECT_SYSTEM, id),
                   s->access_points.n);
        for (size_t i = 0; i < s->access_points.n; i++)
                change_drop_access_point(ch, model_get_access_point(e->model, s->access_points.ids[i]));
        change_delete(ch, OBJECT_SYSTEM, id);
        change_remove(ch, OBJECT_SYSTEM, id);
        return change_submit(TAKE_PTR(ch), err);
}

int engine_delete_secret(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        _cleanup_(change_abandonp) Change *ch = NULL;
        char p[OBJECT_PATH_MAX];
        SharedSecret *s;
        AccessPoint *a;
        int r;

        engine_settle(e, id);
        engine_settle_kind(e, OBJECT_SECRET);
        s = model_get_secret(e->model, id);
        if (!s)
                return repl_error_set(err, -ENOENT, "Shared secret %s does not exist.", path_of(p, OBJECT_SECRET, id));
        a = s->access_point_id ? model_get_access_point(e->model, s->access_point_id) : NULL;
        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_log(ch, "deleted shared secret %s", path_of(p, OBJECT_SECRET, id));
        change_delete(ch, OBJECT_SECRET, id);
        change_remove(ch, OBJECT_SECRET, id);
        if (a)
                change_bind_secret(ch, a, 0);
        return change_submit(TAKE_PTR(ch), err);
}
