/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/model: a new model and new objects, the tables, ids, copies and the strings of values. */

#include <errno.h>
#include <glib.h>

#include "model-fixture.h"
#include "util/strutil.h"

/* ---- construction ---- */

static void test_new(void) {
        Model *m = model_new("iqn.2024-01.org.example:local");
        System *local;

        g_assert_nonnull(m);
        g_assert_cmpuint(m->systems.n, ==, 1);
        local = model_get_system(m, LOCAL_SYSTEM_ID);
        g_assert_nonnull(local);
        g_assert_true(m->systems.items[0] == local);
        g_assert_cmpstr(local->name, ==, "iqn.2024-01.org.example:local");
        g_assert_cmpstr(local->element_name, ==, "iqn.2024-01.org.example:local");
        g_assert_cmpint(local->reachable, ==, REACHABLE_YES);
        g_assert_cmpuint(m->next_id, ==, 1);
        g_assert_cmpuint(m->access_points.n + m->secrets.n + m->collections.n + m->jobs.n, ==, 0);

        g_assert_null(model_free(m));
        g_assert_null(model_free(NULL));

        m = model_new(NULL);
        g_assert_nonnull(m);
        g_assert_cmpstr(model_get_system(m, LOCAL_SYSTEM_ID)->name, ==, "");
        model_free(m);
}

static void test_object_defaults(void) {
        System *s = system_new();
        AccessPoint *a = access_point_new();
        SharedSecret *k = secret_new();
        Collection *c = collection_new();
        Job *j = job_new();

        g_assert_cmpstr(s->name, ==, "");
        g_assert_cmpstr(s->element_name, ==, "");
        g_assert_cmpint(s->reachable, ==, REACHABLE_UNKNOWN);
        g_assert_cmpuint(s->last_verified, ==, 0);

        g_assert_cmpuint(a->port, ==, 3260);
        g_assert_cmpstr(a->address, ==, "");
        g_assert_cmpstr(a->target_name, ==, "");
        g_assert_cmpstr(a->last_error, ==, "");
        g_assert_cmpuint(a->secret_id, ==, 0);
        g_assert_cmpint(a->reachable, ==, REACHABLE_UNKNOWN);
        g_assert_true(access_point_is_local(a));
        a->system_id = 3;
        g_assert_false(access_point_is_local(a));

        g_assert_cmpstr(k->username, ==, "");
        g_assert_cmpstr(k->secret, ==, "");
        g_assert_cmpstr(k->mutual_username, ==, "");
        g_assert_cmpstr(k->mutual_secret, ==, "");
        g_assert_cmpuint(k->access_point_id, ==, 0);

        g_assert_cmpstr(c->element_name, ==, "");
        g_assert_false(c->active);
        g_assert_false(c->delete_on_unassociated);
        g_assert_cmpuint(c->local_access_points.n + c->remote_access_points.n + c->remote_systems.n, ==, 0);
        g_assert_cmpuint(c->job_id, ==, 0);

        g_assert_cmpint(j->state, ==, JOB_STATE_NEW);
        g_assert_true(j->delete_on_completion);
        g_assert_cmpuint(j->time_before_removal, ==, 300 * USEC_PER_SEC);
        g_assert_cmpstr(j->error_source, ==, "/");
        g_assert_cmpstr(j->error_description, ==, "");
        g_assert_nonnull(j->affected_elements);
        g_assert_null(j->affected_elements[0]);
        g_assert_cmpuint(j->error_code, ==, CIM_OK);

        g_assert_null(system_free(s));
        g_assert_null(access_point_free(a));
        g_assert_null(secret_free(k));
        g_assert_null(collection_free(c));
        g_assert_null(job_free(j));

        g_assert_null(system_free(NULL));
        g_assert_null(access_point_free(NULL));
        g_assert_null(secret_free(NULL));
        g_assert_null(collection_free(NULL));
        g_assert_null(job_free(NULL));
}

/* ---- tables ---- */

static void test_table_order(void) {
        const uint64_t ids[] = { 5, 2, 9, 3, 7 };
        const uint64_t sorted[] = { LOCAL_SYSTEM_ID, 2, 3, 5, 7, 9 };
        Model *m = model_new("local");
        size_t n = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
                g_autofree char *name = g_strdup_printf("peer%" G_GUINT64_FORMAT, ids[i]);

                g_assert_cmpint(model_add_system(m, new_system(ids[i], name)), ==, 0);
        }
        g_assert_cmpuint(m->systems.n, ==, G_N_ELEMENTS(sorted));

        MODEL_FOREACH(System, s, m->systems) {
                g_assert_cmpuint(s->id, ==, sorted[n]);
                n++;
        }
        g_assert_cmpuint(n, ==, G_N_ELEMENTS(sorted));

        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
                g_autofree char *name = g_strdup_printf("peer%" G_GUINT64_FORMAT, ids[i]);
                System *s = model_get_system(m, ids[i]);

                g_assert_nonnull(s);
                g_assert_cmpuint(s->id, ==, ids[i]);
                g_assert_cmpstr(s->name, ==, name);
        }
        g_assert_null(model_get_system(m, 1));
        g_assert_null(model_get_system(m, 4));
        g_assert_null(model_get_system(m, 10));
        g_assert_null(model_get_system(m, UINT64_MAX));

        model_free(m);
}

static void test_table_duplicate(void) {
        Model *m = model_new("local");
        System *dup = new_system(4, "second");
        System *local_dup = new_system(LOCAL_SYSTEM_ID, "impostor");

        g_assert_cmpint(model_add_system(m, new_system(4, "first")), ==, 0);
        g_assert_cmpint(model_add_system(m, dup), ==, -EEXIST);
        g_assert_cmpint(model_add_system(m, local_dup), ==, -EEXIST);
        g_assert_cmpuint(m->systems.n, ==, 2);
        g_assert_cmpstr(model_get_system(m, 4)->name, ==, "first");
        g_assert_cmpstr(model_get_system(m, LOCAL_SYSTEM_ID)->name, ==, "local");

        /* Refused objects stay the caller's. */
        system_free(dup);
        system_free(local_dup);
        model_free(m);
}

static void test_table_remove(void) {
        Model *m = model_new("local");
        Collection *c;

        for (uint64_t id = 1; id <= 5; id++)
                g_assert_cmpint(model_add_collection(m, new_collection(id)), ==, 0);

        c = model_remove_collection(m, 3);
        g_assert_nonnull(c);
        g_assert_cmpuint(c->id, ==, 3);
        collection_free(c);
        g_assert_null(model_get_collection(m, 3));
        g_assert_null(model_remove_collection(m, 3));
        g_assert_null(model_remove_collection(m, 99));
        g_assert_cmpuint(m->collections.n, ==, 4);

        /* Neighbours are still found after the gap closed. */
        for (uint64_t id = 1; id <= 5; id++)
                g_assert_true((model_get_collection(m, id) != NULL) == (id != 3));

        collection_free(model_remove_collection(m, 1));
        collection_free(model_remove_collection(m, 5));
        g_assert_cmpuint(m->collections.n, ==, 2);
        g_assert_nonnull(model_get_collection(m, 2));
        g_assert_nonnull(model_get_collection(m, 4));

        /* The local system can be taken out of the table like any other. */
        system_free(model_remove_system(m, LOCAL_SYSTEM_ID));
        g_assert_cmpuint(m->systems.n, ==, 0);
        g_assert_null(model_get_system(m, LOCAL_SYSTEM_ID));

        model_free(m);
}

static void test_table_many(void) {
        Model *m = model_new("local");

        /* 37 is coprime to 101, so this visits every id 1..100 once, out of order. */
        for (uint64_t i = 1; i <= 100; i++) {
                uint64_t id = (i * 37) % 101;

                g_assert_cmpint(model_add_access_point(m, new_access_point(id, i % 3)), ==, 0);
        }
        g_assert_cmpuint(m->access_points.n, ==, 100);
        for (size_t i = 0; i < m->access_points.n; i++)
                g_assert_cmpuint(((AccessPoint *) m->access_points.items[i])->id, ==, i + 1);
        for (uint64_t id = 1; id <= 100; id++)
                g_assert_cmpuint(model_get_access_point(m, id)->id, ==, id);
        g_assert_null(model_get_access_point(m, 0));
        g_assert_null(model_get_access_point(m, 101));

        for (uint64_t id = 2; id <= 100; id += 2)
                access_point_free(model_remove_access_point(m, id));
        g_assert_cmpuint(m->access_points.n, ==, 50);
        for (uint64_t id = 1; id <= 100; id++)
                g_assert_true((model_get_access_point(m, id) != NULL) == (id % 2 == 1));

        model_free(m);
}

static void test_every_table(void) {
        Model *m = model_new("local");
        SharedSecret *k = secret_new();
        Job *j = new_job(8, JOB_STATE_RUNNING, 0);

        k->id = 6;
        g_assert_cmpint(model_add_access_point(m, new_access_point(2, LOCAL_SYSTEM_ID)), ==, 0);
        g_assert_cmpint(model_add_secret(m, k), ==, 0);
        g_assert_cmpint(model_add_collection(m, new_collection(4)), ==, 0);
        g_assert_cmpint(model_add_job(m, j), ==, 0);

        g_assert_nonnull(model_get_access_point(m, 2));
        g_assert_true(model_get_secret(m, 6) == k);
        g_assert_nonnull(model_get_collection(m, 4));
        g_assert_true(model_get_job(m, 8) == j);

        /* Each kind has its own table: an id in one is not found in another. */
        g_assert_null(model_get_secret(m, 2));
        g_assert_null(model_get_job(m, 4));
        g_assert_null(model_get_collection(m, 6));
        g_assert_null(model_get_access_point(m, 8));

        g_assert_true(model_remove_secret(m, 6) == k);
        secret_free(k);
        g_assert_true(model_remove_job(m, 8) == j);
        job_free(j);
        access_point_free(model_remove_access_point(m, 2));
        collection_free(model_remove_collection(m, 4));
        g_assert_cmpuint(m->access_points.n + m->secrets.n + m->collections.n + m->jobs.n, ==, 0);

        model_free(m);
}

static void test_next_id(void) {
        Model *m = model_new("local");

        g_assert_cmpuint(model_allocate_id(m), ==, 1);
        g_assert_cmpuint(model_allocate_id(m), ==, 2);
        g_assert_cmpuint(m->next_id, ==, 3);

        /* Loaded objects push next_id past the largest id of any kind. */
        g_assert_cmpint(model_add_collection(m, new_collection(10)), ==, 0);
        g_assert_cmpuint(m->next_id, ==, 11);
        g_assert_cmpint(model_add_job(m, new_job(20, JOB_STATE_COMPLETED, 0)), ==, 0);
        g_assert_cmpuint(m->next_id, ==, 21);
        g_assert_cmpint(model_add_system(m, new_system(15, "peer")), ==, 0);
        g_assert_cmpuint(m->next_id, ==, 21);

        /* A lower id, or a refused one, changes nothing. */
        g_assert_cmpint(model_add_access_point(m, new_access_point(5, LOCAL_SYSTEM_ID)), ==, 0);
        g_assert_cmpuint(m->next_id, ==, 21);

        g_assert_cmpuint(model_allocate_id(m), ==, 21);

        /* Ids are never reused, also after the largest is removed. */
        job_free(model_remove_job(m, 20));
        g_assert_cmpuint(model_allocate_id(m), ==, 22);

        model_free(m);
}

/* ---- copies and strings ---- */

static void test_collection_copy(void) {
        Collection *c = new_collection(9), *copy;

        g_assert_cmpint(free_and_strdup(&c->element_name, "backup pair"), ==, 0);
        c->active = true;
        c->delete_on_unassociated = true;
        c->job_id = 44;
        g_assert_cmpint(idset_add(&c->local_access_points, 1), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_access_points, 12), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_access_points, 13), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_systems, 10), ==, 1);

        copy = collection_copy(c);
        g_assert_nonnull(copy);
        g_assert_cmpuint(copy->id, ==, 9);
        g_assert_cmpstr(copy->element_name, ==, "backup pair");
        g_assert_true(copy->element_name != c->element_name);
        g_assert_true(copy->active);
        g_assert_true(copy->delete_on_unassociated);
        g_assert_cmpuint(copy->job_id, ==, 44);
        g_assert_true(idset_equal(&copy->local_access_points, &c->local_access_points));
        g_assert_true(idset_equal(&copy->remote_access_points, &c->remote_access_points));
        g_assert_true(idset_equal(&copy->remote_systems, &c->remote_systems));
        g_assert_true(copy->remote_access_points.ids != c->remote_access_points.ids);

        /* Changing the copy leaves the original as it was. */
        g_assert_cmpint(idset_add(&copy->local_access_points, 2), ==, 1);
        g_assert_cmpint(idset_remove(&copy->remote_access_points, 12), ==, 1);
        idset_clear(&copy->remote_systems);
        g_assert_cmpint(free_and_strdup(&copy->element_name, "renamed"), ==, 0);
        copy->active = false;

        assert_idset(&c->local_access_points, (const uint64_t[]) { 1 }, 1);
        assert_idset(&c->remote_access_points, (const uint64_t[]) { 12, 13 }, 2);
        assert_idset(&c->remote_systems, (const uint64_t[]) { 10 }, 1);
        g_assert_cmpstr(c->element_name, ==, "backup pair");
        g_assert_true(c->active);

        collection_free(copy);

        /* An empty collection copies to an empty one. */
        collection_free(c);
        c = new_collection(3);
        copy = collection_copy(c);
        g_assert_nonnull(copy);
        g_assert_cmpuint(copy->local_access_points.n + copy->remote_access_points.n + copy->remote_systems.n, ==, 0);
        collection_free(copy);
        collection_free(c);
}

static void test_reachability_strings(void) {
        g_assert_cmpstr(reachability_to_string(REACHABLE_UNKNOWN), ==, "unknown");
        g_assert_cmpstr(reachability_to_string(REACHABLE_YES), ==, "yes");
        g_assert_cmpstr(reachability_to_string(REACHABLE_NO), ==, "no");
        g_assert_cmpstr(reachability_to_string(_REACHABLE_MAX), ==, "unknown");
        g_assert_cmpstr(reachability_to_string((Reachability) 100), ==, "unknown");

        for (Reachability r = REACHABLE_UNKNOWN; r < _REACHABLE_MAX; r++)
                g_assert_cmpint(reachability_from_string(reachability_to_string(r)), ==, r);

        g_assert_cmpint(reachability_from_string("YES"), ==, -EINVAL);
        g_assert_cmpint(reachability_from_string("maybe"), ==, -EINVAL);
        g_assert_cmpint(reachability_from_string(""), ==, -EINVAL);
        g_assert_cmpint(reachability_from_string(NULL), ==, -EINVAL);
}

/* The contract's MessageIDs, spelled as API.md sections 6 and 7 spell them. */
static void test_reason_strings(void) {
        static const char *const names[] = {
                "", "Timeout", "NameNotResolved", "Unreachable", "Refused", "ConnectionLost",
                "AuthenticationFailed", "MutualAuthenticationFailed", "LoginRejected", "TargetNotOffered",
                "SystemNotOffered", "ProtocolError", "Interrupted", "Terminated", "Killed", "StorageFailed",
                "VolumeUnsuitable", "IOFailed", "SourceLost", "CopyTargetLost", "VolumeChanged", "Suspended",
                "ReplicaDiffers",
        };

        g_assert_cmpuint(G_N_ELEMENTS(names), ==, _REASON_MAX);
        for (int r = 0; r < _REASON_MAX; r++) {
                g_assert_cmpstr(reason_to_string(r), ==, names[r]);
                g_assert_cmpint(reason_from_string(names[r]), ==, r);
        }
        g_assert_cmpstr(reason_to_string(_REASON_MAX), ==, "");
        g_assert_cmpint(reason_from_string("timeout"), ==, -EINVAL);
        g_assert_cmpint(reason_from_string(NULL), ==, -EINVAL);
        g_assert_cmpuint(reason_probe_cim_code(REASON_TIMEOUT), ==, CIM_TIMEOUT);
        g_assert_cmpuint(reason_probe_cim_code(REASON_REFUSED), ==, CIM_FAILED);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/model/new", test_new);
        g_test_add_func("/model/reason-strings", test_reason_strings);
        g_test_add_func("/model/object-defaults", test_object_defaults);
        g_test_add_func("/model/table/order", test_table_order);
        g_test_add_func("/model/table/duplicate", test_table_duplicate);
        g_test_add_func("/model/table/remove", test_table_remove);
        g_test_add_func("/model/table/many", test_table_many);
        g_test_add_func("/model/table/every-kind", test_every_table);
        g_test_add_func("/model/next-id", test_next_id);
        g_test_add_func("/model/collection-copy", test_collection_copy);
        g_test_add_func("/model/reachability-strings", test_reachability_strings);

        return g_test_run();
}
