/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Membership planning for remote replication collections. Every rule that
 * decides whether a Create/AddTo/RemoveFrom call is valid lives here, so the
 * bus layer only reads arguments and the engine only commits.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "collection-plan.h"

/* The messages are read by people: "an access point", not "a access point". */
static const char *article(const char *noun) {
        return noun[0] && strchr("aeiou", noun[0]) ? "an" : "a";
}

static int resolve(const Model *m, const char *path, const char *arg, ObjectKind want, void **ret, ReplError *e) {
        ObjectKind kind;
        uint64_t id;
        void *p = NULL;

        if (object_path_parse(path, &kind, &id) < 0)
                return repl_error_set(e, -EINVAL, "%s %s names no object of this service.", arg, path);
        if (kind == OBJECT_NONE)
                return repl_error_set(e, -EINVAL, "%s is required; \"/\" is not allowed here.", arg);
        if (kind != want)
                return repl_error_set(e, -EINVAL, "%s %s is %s %s, not %s %s.", arg, path,
                                      article(object_kind_to_noun(kind)), object_kind_to_noun(kind),
                                      article(object_kind_to_noun(want)), object_kind_to_noun(want));

        switch (want) {
        case OBJECT_SYSTEM:
                p = model_get_system(m, id);
                break;
        case OBJECT_ACCESS_POINT:
                p = model_get_access_point(m, id);
                break;
        case OBJECT_COLLECTION:
                p = model_get_collection(m, id);
                break;
        default:
                break;
        }
        if (!p)
                return repl_error_set(e, -EINVAL, "%s %s names no existing %s.", arg, path, object_kind_to_noun(want));
        *ret = p;
        return 0;
}

int model_resolve_system(const Model *m, const char *path, const char *arg, System **ret, ReplError *e) {
        return resolve(m, path, arg, OBJECT_SYSTEM, (void **) ret, e);
}

int model_resolve_access_point(const Model *m, const char *path, const char *arg, AccessPoint **ret, ReplError *e) {
        return resolve(m, path, arg, OBJECT_ACCESS_POINT, (void **) ret, e);
}

int model_resolve_collection(const Model *m, const char *path, const char *arg, Collection **ret, ReplError *e) {
        return resolve(m, path, arg, OBJECT_COLLECTION, (void **) ret, e);
}

void collection_plan_done(CollectionPlan *p) {
        collection_free(p->result);
        idset_clear(&p->added_local);
        idset_clear(&p->added_remote);
        idset_clear(&p->added_systems);
        idset_clear(&p->removed_local);
        idset_clear(&p->removed_remote);
        idset_clear(&p->removed_systems);
        *p = COLLECTION_PLAN_INIT;
}

bool collection_plan_changes_membership(const CollectionPlan *p) {
        return p->added_local.n || p->added_remote.n || p->added_systems.n || p->removed_local.n ||
               p->removed_remote.n || p->removed_systems.n || p->delete_collection;
}

/* The system named by RemoteComputerSystem: NULL for "/", never the local one. */
static int resolve_remote_system(const Model *m, const char *path, System **ret, ReplError *e) {
        System *s;
        int r;

        if (!path || strcmp(path, NULL_PATH) == 0) {
                *ret = NULL;
                return 0;
        }
        r = model_resolve_system(m, path, "RemoteComputerSystem", &s, e);
        if (r < 0)
                return r;
        if (s->id == LOCAL_SYSTEM_ID)
                return repl_error_set(e, -EINVAL,
                                      "RemoteComputerSystem %s is this host; a peer system is required.", path);
        *ret = s;
        return 0;
}

static int resolve_local_list(const Model *m, const MemberArgs *a, IdSet *ret, ReplError *e) {
        for (size_t i = 0; i < a->n_local; i++) {
                char arg[64];
                AccessPoint *ap;
                int r;

                snprintf(arg, sizeof(arg), "LocalAccessPoints[%zu]", i);
                r = model_resolve_access_point(m, a->local_paths[i], arg, &ap, e);
                if (r < 0)
                        return r;
                if (!access_point_is_local(ap))
                        return repl_error_set(e, -EINVAL,
                                              "%s %s is an access point of a peer system; one of this host is required.",
                                              arg, a->local_paths[i]);
                if (idset_add(ret, ap->id) < 0)
                        return repl_error_set(e, -ENOMEM, "Out of memory.");
        }
        return 0;
}

/*
 * Remote access points must be hosted by the given system, or when none is
 * given by one the collection holds (require_held). Removal does not require
 * it: a non-member is a no-op there.
 */
static int resolve_remote_list(const Model *m, const Collection *c, const MemberArgs *a, const System *sys,
                               bool require_held, IdSet *ret, ReplError *e) {
        for (size_t i = 0; i < a->n_remote; i++) {
                char arg[64], sp[OBJECT_PATH_MAX];
                AccessPoint *ap;
                int r;

                snprintf(arg, sizeof(arg), "RemoteAccessPoints[%zu]", i);
                r = model_resolve_access_point(m, a->remote_paths[i], arg, &ap, e);
                if (r < 0)
                        return r;
                if (access_point_is_local(ap))
                        return repl_error_set(e, -EINVAL,
                                              "%s %s is an access point of this host; one of a peer system is required.",
                                              arg, a->remote_paths[i]);
                if (sys && ap->system_id != sys->id)
                        return repl_error_set(e, -EINVAL,
                                              "%s %s is hosted by %s, not by RemoteComputerSystem %s.", arg,
                                              a->remote_paths[i], object_path_format(sp, OBJECT_SYSTEM, ap->system_id),
                                              a->system_path);
                if (!sys && require_held && !idset_contains(&c->remote_systems, ap->system_id))
                        return repl_error_set(e, -EINVAL,
                                              "%s %s is hosted by %s, which the collection does not hold; name it in RemoteComputerSystem.",
                                              arg, a->remote_paths[i],
                                              object_path_format(sp, OBJECT_SYSTEM, ap->system_id));
                if (idset_add(ret, ap->id) < 0)
                        return repl_error_set(e, -ENOMEM, "Out of memory.");
        }
        return 0;
}

static int plan_begin(const Collection *c, CollectionPlan *p, ReplError *e) {
        *p = COLLECTION_PLAN_INIT;
        p->result = collection_copy(c);
        if (!p->result)
                return repl_error_set(e, -ENOMEM, "Out of memory.");
        return 0;
}

static int add_all(IdSet *target, const IdSet *items, IdSet *added) {
        for (size_t i = 0; i < items->n; i++) {
                int r = idset_add(target, items->ids[i]);

                if (r < 0)
                        return r;
                if (r > 0 && idset_add(added, items->ids[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int remove_all(IdSet *target, const IdSet *items, IdSet *removed) {
        for (size_t i = 0; i < items->n; i++)
                if (idset_remove(target, items->ids[i]) > 0 && idset_add(removed, items->ids[i]) < 0)
                        return -ENOMEM;
        return 0;
}

int collection_plan_add(const Model *m, const Collection *c, const MemberArgs *a, bool create,
                        CollectionPlan *ret, ReplError *e) {
        _cleanup_(idset_clear) IdSet locals = IDSET_INIT, remotes = IDSET_INIT, systems = IDSET_INIT;
        CollectionPlan p;
        System *sys = NULL;
        int r;

        r = resolve_remote_system(m, a->system_path, &sys, e);
        if (r < 0)
                return r;
        if (!create && a->n_local == 0 && a->n_remote == 0 && !sys)
                return repl_error_set(e, -EINVAL,
                                      "LocalAccessPoints, RemoteAccessPoints and RemoteComputerSystem are all NULL; name at least one member to add.");
        r = resolve_local_list(m, a, &locals, e);
        if (r < 0)
                return r;
        r = resolve_remote_list(m, c, a, sys, true, &remotes, e);
        if (r < 0)
                return r;
        if (sys && idset_add(&systems, sys->id) < 0)
                return repl_error_set(e, -ENOMEM, "Out of memory.");

        r = plan_begin(c, &p, e);
        if (r < 0)
                return r;
        if (add_all(&p.result->local_access_points, &locals, &p.added_local) < 0 ||
            add_all(&p.result->remote_access_points, &remotes, &p.added_remote) < 0 ||
            add_all(&p.result->remote_systems, &systems, &p.added_systems) < 0) {
                collection_plan_done(&p);
                return repl_error_set(e, -ENOMEM, "Out of memory.");
        }

        *ret = p;
        return 0;
}

int collection_plan_remove(const Model *m, const Collection *c, const MemberArgs *a,
                           CollectionPlan *ret, ReplError *e) {
        _cleanup_(idset_clear) IdSet locals = IDSET_INIT, remotes = IDSET_INIT, systems = IDSET_INIT;
        CollectionPlan p;
        System *sys = NULL;
        int r;

        r = resolve_remote_system(m, a->system_path, &sys, e);
        if (r < 0)
                return r;
        if (a->n_local == 0 && a->n_remote == 0 && !sys)
                return repl_error_set(e, -EINVAL,
                                      "LocalAccessPoints, RemoteAccessPoints and RemoteComputerSystem are all NULL; name at least one member to remove.");
        r = resolve_local_list(m, a, &locals, e);
        if (r < 0)
                return r;
        r = resolve_remote_list(m, c, a, sys, false, &remotes, e);
        if (r < 0)
                return r;
        if (sys) {
                /* Removing a system takes its access points out of the collection too. */
                if (idset_add(&systems, sys->id) < 0)
                        return repl_error_set(e, -ENOMEM, "Out of memory.");
                for (size_t i = 0; i < c->remote_access_points.n; i++) {
                        AccessPoint *ap = model_get_access_point(m, c->remote_access_points.ids[i]);

                        if (ap && ap->system_id == sys->id && idset_add(&remotes, ap->id) < 0)
                                return repl_error_set(e, -ENOMEM, "Out of memory.");
                }
        }

        r = plan_begin(c, &p, e);
        if (r < 0)
                return r;
        if (remove_all(&p.result->local_access_points, &locals, &p.removed_local) < 0 ||
            remove_all(&p.result->remote_access_points, &remotes, &p.removed_remote) < 0 ||
            remove_all(&p.result->remote_systems, &systems, &p.removed_systems) < 0) {
                collection_plan_done(&p);
                return repl_error_set(e, -ENOMEM, "Out of memory.");
        }
        /* The flag acts when the last access point leaves; a call that takes none out of a
         * collection without access points is a no-op and must not delete it. */
        p.delete_collection = c->delete_on_unassociated &&
                              (p.removed_local.n > 0 || p.removed_remote.n > 0) &&
                              p.result->local_access_points.n == 0 && p.result->remote_access_points.n == 0;

        *ret = p;
        return 0;
}
