/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/model: tables, ids, reverse associations, job states. */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/model.h"
#include "util/strutil.h"

static System *new_system(uint64_t id, const char *name) {
        System *s = system_new();

        g_assert_nonnull(s);
        s->id = id;
        g_assert_cmpint(free_and_strdup(&s->name, name), ==, 0);
        return s;
}

static AccessPoint *new_access_point(uint64_t id, uint64_t system_id) {
        AccessPoint *a = access_point_new();

        g_assert_nonnull(a);
        a->id = id;
        a->system_id = system_id;
        return a;
}

static Collection *new_collection(uint64_t id) {
        Collection *c = collection_new();

        g_assert_nonnull(c);
        c->id = id;
        return c;
}

static Job *new_job(uint64_t id, JobState state, uint32_t uid) {
        Job *j = job_new();

        g_assert_nonnull(j);
        j->id = id;
        j->state = state;
        j->started_by_uid = uid;
        return j;
}

static void assert_idset(const IdSet *s, const uint64_t *expected, size_t n) {
        g_assert_cmpuint(s->n, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(s->ids[i], ==, expected[i]);
}

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

/* ---- reverse associations ---- */

static Model *association_model(void) {
        Model *m = model_new("local");
        Collection *c;

        /* Local access points 1, 2; peer systems 10, 11 with access points 12, 13 (on 10) and 14 (on 11). */
        g_assert_cmpint(model_add_access_point(m, new_access_point(1, LOCAL_SYSTEM_ID)), ==, 0);
        g_assert_cmpint(model_add_access_point(m, new_access_point(2, LOCAL_SYSTEM_ID)), ==, 0);
        g_assert_cmpint(model_add_system(m, new_system(10, "peer-a")), ==, 0);
        g_assert_cmpint(model_add_system(m, new_system(11, "peer-b")), ==, 0);
        g_assert_cmpint(model_add_access_point(m, new_access_point(14, 11)), ==, 0);
        g_assert_cmpint(model_add_access_point(m, new_access_point(13, 10)), ==, 0);
        g_assert_cmpint(model_add_access_point(m, new_access_point(12, 10)), ==, 0);

        /* Collection 30: 1 ↔ 12 on peer-a. */
        c = new_collection(30);
        g_assert_cmpint(idset_add(&c->local_access_points, 1), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_access_points, 12), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_systems, 10), ==, 1);
        g_assert_cmpint(model_add_collection(m, c), ==, 0);

        /* Collection 20: 1, 2 ↔ 13, 14 on both peers. */
        c = new_collection(20);
        g_assert_cmpint(idset_add(&c->local_access_points, 2), ==, 1);
        g_assert_cmpint(idset_add(&c->local_access_points, 1), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_access_points, 14), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_access_points, 13), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_systems, 11), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_systems, 10), ==, 1);
        g_assert_cmpint(model_add_collection(m, c), ==, 0);

        /* Collection 25: empty. */
        g_assert_cmpint(model_add_collection(m, new_collection(25)), ==, 0);
        return m;
}

static void test_collections_of_access_point(void) {
        Model *m = association_model();
        IdSet s = IDSET_INIT;

        g_assert_cmpint(model_collections_of_access_point(m, 1, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20, 30 }, 2);
        g_assert_cmpint(model_collections_of_access_point(m, 2, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20 }, 1);
        g_assert_cmpint(model_collections_of_access_point(m, 12, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 30 }, 1);
        g_assert_cmpint(model_collections_of_access_point(m, 13, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20 }, 1);

        /* A system id is not an access point id, and the result replaces what ret held. */
        g_assert_cmpint(model_collections_of_access_point(m, 10, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);
        g_assert_cmpint(model_collections_of_access_point(m, 999, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);

        idset_clear(&s);
        model_free(m);
}

static void test_collections_of_system(void) {
        Model *m = association_model();
        IdSet s = IDSET_INIT;

        g_assert_cmpint(idset_add(&s, 77), ==, 1);
        g_assert_cmpint(model_collections_of_system(m, 10, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20, 30 }, 2);
        g_assert_cmpint(model_collections_of_system(m, 11, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20 }, 1);
        /* The local system is never a member; its access points are. */
        g_assert_cmpint(model_collections_of_system(m, LOCAL_SYSTEM_ID, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);
        g_assert_cmpint(model_collections_of_system(m, 12, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);

        idset_clear(&s);
        model_free(m);
}

static void test_access_points_of_system(void) {
        Model *m = association_model();
        IdSet s = IDSET_INIT;

        g_assert_cmpint(model_access_points_of_system(m, LOCAL_SYSTEM_ID, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 1, 2 }, 2);
        g_assert_cmpint(model_access_points_of_system(m, 10, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 12, 13 }, 2);
        g_assert_cmpint(model_access_points_of_system(m, 11, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 14 }, 1);
        g_assert_cmpint(model_access_points_of_system(m, 42, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);

        idset_clear(&s);
        model_free(m);
}

/* ---- indexes ---- */

static void test_index_follows_collections(void) {
        Model *m = association_model();
        IdSet s = IDSET_INIT;
        Collection *c;

        /* Replacing collection 20 by a copy without access point 1 moves the index with it. */
        c = model_remove_collection(m, 20);
        g_assert_nonnull(c);
        g_assert_cmpint(model_collections_of_access_point(m, 1, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 30 }, 1);
        g_assert_cmpint(model_collections_of_system(m, 11, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);
        g_assert_cmpint(idset_remove(&c->local_access_points, 1), ==, 1);
        g_assert_cmpint(model_add_collection(m, c), ==, 0);
        g_assert_cmpint(model_collections_of_access_point(m, 1, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 30 }, 1);
        g_assert_cmpint(model_collections_of_access_point(m, 2, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20 }, 1);
        g_assert_cmpint(model_collections_of_system(m, 11, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20 }, 1);

        /* An access point that leaves takes its system's index entry with it. */
        access_point_free(model_remove_access_point(m, 13));
        g_assert_cmpint(model_access_points_of_system(m, 10, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 12 }, 1);

        idset_clear(&s);
        model_free(m);
}

static void test_index_rebuild(void) {
        Model *m = association_model();
        IdSet s = IDSET_INIT;
        Collection *c = model_get_collection(m, 25);

        /* What the loader does: fill members of a collection already in the model, then rebuild. */
        g_assert_cmpint(idset_add(&c->remote_access_points, 14), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_systems, 11), ==, 1);
        g_assert_cmpint(model_rebuild_indexes(m), ==, 0);
        g_assert_cmpint(model_collections_of_access_point(m, 14, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20, 25 }, 2);
        g_assert_cmpint(model_collections_of_system(m, 11, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20, 25 }, 2);
        /* Rebuilding twice files nothing twice. */
        g_assert_cmpint(model_rebuild_indexes(m), ==, 0);
        g_assert_cmpint(model_collections_of_access_point(m, 1, &s), ==, 0);
        assert_idset(&s, (const uint64_t[]) { 20, 30 }, 2);

        idset_clear(&s);
        model_free(m);
}

static void test_index_peer_by_name(void) {
        Model *m = model_new("iqn.2024-01.org.example:local");

        g_assert_cmpint(model_add_system(m, new_system(5, "Peer.Example.ORG")), ==, 0);
        g_assert_cmpint(model_add_system(m, new_system(6, "iqn.2024-01.org.example:b")), ==, 0);
        g_assert_cmpuint(model_find_peer_by_name(m, "peer.example.org")->id, ==, 5);
        g_assert_cmpuint(model_find_peer_by_name(m, "IQN.2024-01.ORG.EXAMPLE:B")->id, ==, 6);
        /* This host is not a peer. */
        g_assert_null(model_find_peer_by_name(m, "iqn.2024-01.org.example:local"));
        system_free(model_remove_system(m, 5));
        g_assert_null(model_find_peer_by_name(m, "peer.example.org"));
        g_assert_cmpuint(model_find_peer_by_name(m, "iqn.2024-01.org.example:b")->id, ==, 6);
        model_free(m);
}

static void test_index_access_point_by_portal(void) {
        Model *m = model_new("local");
        AccessPoint *a = new_access_point(7, LOCAL_SYSTEM_ID), *b = new_access_point(8, LOCAL_SYSTEM_ID);

        g_assert_cmpint(free_and_strdup(&a->address, "127.0.0.1"), ==, 0);
        g_assert_cmpint(free_and_strdup(&b->address, "127.0.0.1"), ==, 0);
        g_assert_cmpint(free_and_strdup(&b->target_name, "iqn.2024-01.org.example:t"), ==, 0);
        g_assert_cmpint(model_add_access_point(m, a), ==, 0);
        g_assert_cmpint(model_add_access_point(m, b), ==, 0);

        g_assert_true(model_find_access_point_by_portal(m, LOCAL_SYSTEM_ID, "127.0.0.1", 3260, NULL) == a);
        g_assert_true(model_find_access_point_by_portal(m, LOCAL_SYSTEM_ID, "127.0.0.1", 3260, "") == a);
        g_assert_true(model_find_access_point_by_portal(m, LOCAL_SYSTEM_ID, "127.0.0.1", 3260,
                                                        "iqn.2024-01.org.example:t") == b);
        g_assert_null(model_find_access_point_by_portal(m, LOCAL_SYSTEM_ID, "127.0.0.1", 3261, NULL));
        g_assert_null(model_find_access_point_by_portal(m, 99, "127.0.0.1", 3260, NULL));
        access_point_free(model_remove_access_point(m, 7));
        g_assert_null(model_find_access_point_by_portal(m, LOCAL_SYSTEM_ID, "127.0.0.1", 3260, NULL));
        model_free(m);
}

/* ---- jobs ---- */

static void test_count_running_jobs(void) {
        Model *m = model_new("local");
        const struct {
                JobState state;
                uint32_t uid;
        } jobs[] = {
                { JOB_STATE_NEW, 1000 },
                { JOB_STATE_RUNNING, 1000 },
                { JOB_STATE_SUSPENDED, 1001 },
                { JOB_STATE_RUNNING, 0 },
                { JOB_STATE_COMPLETED, 1000 },
                { JOB_STATE_TERMINATED, 1000 },
                { JOB_STATE_KILLED, 1001 },
                { JOB_STATE_EXCEPTION, 0 },
        };

        g_assert_cmpuint(model_count_running_jobs(m, false, 0), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(jobs); i++)
                g_assert_cmpint(model_add_job(m, new_job(i + 1, jobs[i].state, jobs[i].uid)), ==, 0);

        g_assert_cmpuint(model_count_running_jobs(m, false, 0), ==, 4);
        g_assert_cmpuint(model_count_running_jobs(m, false, 4242), ==, 4);
        g_assert_cmpuint(model_count_running_jobs(m, true, 1000), ==, 2);
        g_assert_cmpuint(model_count_running_jobs(m, true, 1001), ==, 1);
        g_assert_cmpuint(model_count_running_jobs(m, true, 0), ==, 1);
        g_assert_cmpuint(model_count_running_jobs(m, true, 4242), ==, 0);

        model_get_job(m, 2)->state = JOB_STATE_COMPLETED;
        g_assert_cmpuint(model_count_running_jobs(m, false, 0), ==, 3);
        g_assert_cmpuint(model_count_running_jobs(m, true, 1000), ==, 1);

        model_free(m);
}

static const JobState all_states[] = {
        JOB_STATE_NEW, JOB_STATE_RUNNING, JOB_STATE_SUSPENDED, JOB_STATE_COMPLETED,
        JOB_STATE_TERMINATED, JOB_STATE_KILLED, JOB_STATE_EXCEPTION,
};

static void test_job_state_names(void) {
        g_assert_false(job_state_is_finished(JOB_STATE_NEW));
        g_assert_false(job_state_is_finished(JOB_STATE_RUNNING));
        g_assert_false(job_state_is_finished(JOB_STATE_SUSPENDED));
        g_assert_true(job_state_is_finished(JOB_STATE_COMPLETED));
        g_assert_true(job_state_is_finished(JOB_STATE_TERMINATED));
        g_assert_true(job_state_is_finished(JOB_STATE_KILLED));
        g_assert_true(job_state_is_finished(JOB_STATE_EXCEPTION));

        g_assert_cmpstr(job_state_to_string(JOB_STATE_NEW), ==, "new");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_RUNNING), ==, "running");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_SUSPENDED), ==, "suspended");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_COMPLETED), ==, "completed");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_TERMINATED), ==, "terminated");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_KILLED), ==, "killed");
        g_assert_cmpstr(job_state_to_string(JOB_STATE_EXCEPTION), ==, "exception");
        g_assert_cmpstr(job_state_to_string((JobState) 3), ==, "unknown");
}

/* What RequestStateChange(requested) does to a job in state: the new state, or the error. */
static int expected_transition(JobState state, uint16_t requested, JobState *ret) {
        bool finished = job_state_is_finished(state);

        switch (requested) {
        case 2:
                if (state != JOB_STATE_SUSPENDED)
                        return -EBADRQC;
                *ret = JOB_STATE_RUNNING;
                return 0;
        case 3:
                if (state != JOB_STATE_RUNNING && state != JOB_STATE_NEW)
                        return -EBADRQC;
                *ret = JOB_STATE_SUSPENDED;
                return 0;
        case 4:
                if (finished)
                        return -EBADRQC;
                *ret = JOB_STATE_TERMINATED;
                return 0;
        case 5:
                if (finished)
                        return -EBADRQC;
                *ret = JOB_STATE_KILLED;
                return 0;
        case 6:
                return -EOPNOTSUPP;
        default:
                return -EINVAL;
        }
}

static void test_job_plan_state_change(void) {
        const uint16_t requests[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 32767, 32768, 65535 };

        for (size_t s = 0; s < G_N_ELEMENTS(all_states); s++)
                for (size_t r = 0; r < G_N_ELEMENTS(requests); r++) {
                        Job *j = new_job(7, all_states[s], 0);
                        ReplError e = REPL_ERROR_INIT;
                        JobState want = (JobState) 0, got = (JobState) 0;
                        int expected = expected_transition(all_states[s], requests[r], &want);
                        int ret = job_plan_state_change(j, requests[r], &got, &e);

                        if (ret != expected)
                                g_error("state %d, request %u: got %d, expected %d",
                                        all_states[s], requests[r], ret, expected);
                        g_assert_cmpint(e.error, ==, ret);
                        if (ret == 0) {
                                g_assert_cmpint(got, ==, want);
                                g_assert_cmpstr(e.message, ==, "");
                        } else {
                                g_assert_cmpint(got, ==, 0);       /* untouched */
                                g_assert_cmpuint(strlen(e.message), >, 0);
                        }
                        /* Planning does not change the job. */
                        g_assert_cmpint(j->state, ==, all_states[s]);
                        job_free(j);
                }
}

static void test_job_plan_state_change_messages(void) {
        Job *j = new_job(7, JOB_STATE_COMPLETED, 0);
        ReplError e = REPL_ERROR_INIT;
        JobState st;

        g_assert_cmpint(job_plan_state_change(j, 2, &st, &e), ==, -EBADRQC);
        g_assert_cmpstr(e.message, ==, "Job 7 is completed and cannot be started.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 3, &st, &e), ==, -EBADRQC);
        g_assert_cmpstr(e.message, ==, "Job 7 is completed and cannot be suspended.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 4, &st, &e), ==, -EBADRQC);
        g_assert_cmpstr(e.message, ==, "Job 7 is completed already.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 6, &st, &e), ==, -EOPNOTSUPP);
        g_assert_cmpstr(e.message, ==, "RequestedState 6 (Service) is not supported.");
        repl_error_clear(&e);
        g_assert_cmpint(job_plan_state_change(j, 7, &st, &e), ==, -EINVAL);
        g_assert_cmpstr(e.message, ==, "RequestedState 7 is not a job state that can be requested.");

        /* Without an error to fill, only the code comes back. */
        g_assert_cmpint(job_plan_state_change(j, 0, &st, NULL), ==, -EINVAL);
        job_free(j);
}

static void test_job_operational_status(void) {
        const struct {
                JobState state;
                size_t n;
                uint16_t values[2];
        } cases[] = {
                { JOB_STATE_NEW, 1, { 8 } },            /* Starting */
                { JOB_STATE_RUNNING, 1, { 2 } },        /* OK */
                { JOB_STATE_SUSPENDED, 2, { 2, 10 } },  /* OK, Stopped */
                { JOB_STATE_COMPLETED, 2, { 2, 17 } },  /* OK, Completed */
                { JOB_STATE_TERMINATED, 2, { 6, 17 } }, /* Error, Completed */
                { JOB_STATE_KILLED, 2, { 6, 17 } },
                { JOB_STATE_EXCEPTION, 2, { 6, 17 } },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                Job *j = new_job(1, cases[i].state, 0);
                uint16_t v[2] = { 0xffff, 0xffff };
                size_t n = job_operational_status(j, v);

                g_assert_cmpuint(n, ==, cases[i].n);
                for (size_t k = 0; k < n; k++)
                        g_assert_cmpuint(v[k], ==, cases[i].values[k]);
                /* Every finished job reports 17 Completed. */
                g_assert_true(job_state_is_finished(cases[i].state) == (n == 2 && v[1] == 17));
                job_free(j);
        }
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
        g_test_add_func("/model/collections-of-access-point", test_collections_of_access_point);
        g_test_add_func("/model/collections-of-system", test_collections_of_system);
        g_test_add_func("/model/access-points-of-system", test_access_points_of_system);
        g_test_add_func("/model/index/follows-collections", test_index_follows_collections);
        g_test_add_func("/model/index/rebuild", test_index_rebuild);
        g_test_add_func("/model/index/peer-by-name", test_index_peer_by_name);
        g_test_add_func("/model/index/access-point-by-portal", test_index_access_point_by_portal);
        g_test_add_func("/model/job/count-running", test_count_running_jobs);
        g_test_add_func("/model/job/state-names", test_job_state_names);
        g_test_add_func("/model/job/plan-state-change", test_job_plan_state_change);
        g_test_add_func("/model/job/plan-state-change-messages", test_job_plan_state_change_messages);
        g_test_add_func("/model/job/operational-status", test_job_operational_status);
        g_test_add_func("/model/collection-copy", test_collection_copy);
        g_test_add_func("/model/reachability-strings", test_reachability_strings);

        return g_test_run();
}
