/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A collection plan as part of a change: its rows, its model update and the
 * announcements of the members whose Collections change. Used by the
 * synchronous collection calls (engine-collections.c) and by a collection
 * job's end (jobs-end.c), which both build on it and not on each other.
 */

#include <inttypes.h>

#include "change.h"
#include "engine-internal.h"

void engine_notify_members(Change *ch, ObjectKind kind, const IdSet *s) {
        for (size_t i = 0; i < s->n; i++)
                change_notify(ch, kind, s->ids[i], "Collections");
}

/* The member lists a plan changes, for PropertiesChanged of the collection. */
static void notify_member_lists(Change *ch, uint64_t id, const CollectionPlan *p) {
        const char *props[4];
        size_t k = 0;

        if (p->added_local.n || p->removed_local.n)
                props[k++] = "LocalAccessPoints";
        if (p->added_remote.n || p->removed_remote.n)
                props[k++] = "RemoteAccessPoints";
        if (p->added_systems.n || p->removed_systems.n)
                props[k++] = "RemoteSystems";
        props[k] = NULL;
        change_notify_strv(ch, OBJECT_COLLECTION, id, props);
}

void engine_change_plan(Change *ch, CollectionPlan *p, bool created) {
        Collection *n = TAKE_PTR(p->result);
        uint64_t id = n->id;

        if (p->delete_collection) {
                change_delete(ch, OBJECT_COLLECTION, id);
                change_remove(ch, OBJECT_COLLECTION, id);
                /* Systems the collection still held lose it too, though the plan did not remove them. */
                engine_notify_members(ch, OBJECT_SYSTEM, &n->remote_systems);
                collection_free(n);
        } else if (created) {
                change_save(ch, OBJECT_COLLECTION, n);
                n->job_id = 0;
                change_add(ch, OBJECT_COLLECTION, n);
        } else {
                change_save_members(ch, id, p);
                change_replace(ch, OBJECT_COLLECTION, n);
                notify_member_lists(ch, id, p);
        }
        engine_notify_members(ch, OBJECT_ACCESS_POINT, &p->added_local);
        engine_notify_members(ch, OBJECT_ACCESS_POINT, &p->added_remote);
        engine_notify_members(ch, OBJECT_SYSTEM, &p->added_systems);
        engine_notify_members(ch, OBJECT_ACCESS_POINT, &p->removed_local);
        engine_notify_members(ch, OBJECT_ACCESS_POINT, &p->removed_remote);
        engine_notify_members(ch, OBJECT_SYSTEM, &p->removed_systems);
}

void engine_log_plan(Change *ch, const char *what, const CollectionPlan *p) {
        char q[OBJECT_PATH_MAX];

        change_log(ch, "%s %s: +%zu/-%zu local, +%zu/-%zu remote access points, +%zu/-%zu systems%s",
                   what, path_of(q, OBJECT_COLLECTION, p->result->id), p->added_local.n, p->removed_local.n,
                   p->added_remote.n, p->removed_remote.n, p->added_systems.n, p->removed_systems.n,
                   p->delete_collection ? ", collection deleted" : "");
}

