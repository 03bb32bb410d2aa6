/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/model: the reverse associations and the indexes that answer them. */

#include <glib.h>

#include "model-fixture.h"
#include "util/strutil.h"

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

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/model/collections-of-access-point", test_collections_of_access_point);
        g_test_add_func("/model/collections-of-system", test_collections_of_system);
        g_test_add_func("/model/access-points-of-system", test_access_points_of_system);
        g_test_add_func("/model/index/follows-collections", test_index_follows_collections);
        g_test_add_func("/model/index/rebuild", test_index_rebuild);
        g_test_add_func("/model/index/peer-by-name", test_index_peer_by_name);
        g_test_add_func("/model/index/access-point-by-portal", test_index_access_point_by_portal);

        return g_test_run();
}
