/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/model-replica: the tables of volumes and synchronizations and their indexes; core/replica: the objects. */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/model.h"
#include "util/strutil.h"

typedef struct Fixture {
        Model *m;
} Fixture;

static AccessPoint *add_access_point(Model *m, uint64_t id, uint64_t system_id) {
        AccessPoint *a = access_point_new();

        g_assert_nonnull(a);
        a->id = id;
        a->system_id = system_id;
        g_assert_cmpint(model_add_access_point(m, a), ==, 0);
        return a;
}

static Volume *new_volume(uint64_t id, uint64_t access_point_id, const char *target, uint16_t lun) {
        Volume *v = volume_new();

        g_assert_nonnull(v);
        v->id = id;
        v->access_point_id = access_point_id;
        g_assert_cmpint(free_and_strdup(&v->target_name, target), ==, 0);
        v->lun = lun;
        v->block_size = 512;
        v->n_blocks = 2048;
        return v;
}

static Synchronization *new_sync(uint64_t id, uint64_t source, uint64_t copy, uint64_t collection) {
        Synchronization *s = synchronization_new();

        g_assert_nonnull(s);
        s->id = id;
        s->source_volume_id = source;
        s->copy_volume_id = copy;
        s->collection_id = collection;
        return s;
}

static void assert_ids(const IdSet *s, const uint64_t *expected, size_t n) {
        g_assert_cmpuint(s->n, ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpuint(s->ids[i], ==, expected[i]);
}

#define ASSERT_IDS(set, ...)                                                            \
        do {                                                                            \
                const uint64_t _e[] = { __VA_ARGS__ };                                  \
                assert_ids(set, _e, G_N_ELEMENTS(_e));                                  \
        } while (0)

/* Local access point 2 (target T1), remote 3 on peer 1; volumes 10, 11 behind 2 and 12 behind 3. */
static void setup(Fixture *f, gconstpointer data) {
        System *peer = system_new();

        f->m = model_new("iqn.2024-01.org.example:local");
        g_assert_nonnull(f->m);
        g_assert_nonnull(peer);
        peer->id = 1;
        g_assert_cmpint(free_and_strdup(&peer->name, "iqn.2024-01.org.example:peer"), ==, 0);
        g_assert_cmpint(model_add_system(f->m, peer), ==, 0);
        add_access_point(f->m, 2, LOCAL_SYSTEM_ID);
        add_access_point(f->m, 3, 1);
        g_assert_cmpint(model_add_volume(f->m, new_volume(10, 2, "iqn.2024-01.org.example:t1", 0)), ==, 0);
        g_assert_cmpint(model_add_volume(f->m, new_volume(11, 2, "iqn.2024-01.org.example:t1", 1)), ==, 0);
        g_assert_cmpint(model_add_volume(f->m, new_volume(12, 3, "iqn.2024-01.org.example:t2", 0)), ==, 0);
}

static void teardown(Fixture *f, gconstpointer data) {
        model_free(f->m);
}

static void test_defaults(void) {
        _cleanup_(volume_freep) Volume *v = volume_new();
        _cleanup_(synchronization_freep) Synchronization *s = synchronization_new();

        g_assert_nonnull(v);
        g_assert_cmpstr(v->element_name, ==, "");
        g_assert_cmpstr(v->target_name, ==, "");
        g_assert_cmpuint(v->synchronizations.n, ==, 0);
        g_assert_nonnull(s);
        g_assert_cmpint(s->sync_type, ==, SYNC_TYPE_MIRROR);
        g_assert_cmpint(s->mode, ==, SYNC_MODE_ASYNCHRONOUS);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_INITIALIZED);
        g_assert_cmpint(s->progress_status, ==, PROGRESS_STATUS_INITIALIZING);
        g_assert_cmpuint(s->chunk_size, ==, 1024 * 1024);
        g_assert_cmpuint(s->cycle_interval, ==, 300 * G_USEC_PER_SEC);
        g_assert_cmpuint(s->bandwidth_limit, ==, 0);
        g_assert_cmpstr(s->last_error, ==, "");
        g_assert_cmpint(s->last_error_reason, ==, REASON_NONE);
}

static void test_copy(void) {
        _cleanup_(volume_freep) Volume *v = new_volume(5, 2, "iqn.2024-01.org.example:t", 7);
        _cleanup_(volume_freep) Volume *vc = NULL;
        _cleanup_(synchronization_freep) Synchronization *s = new_sync(6, 5, 8, 9);
        _cleanup_(synchronization_freep) Synchronization *sc = NULL;

        g_assert_cmpint(free_and_strdup(&v->element_name, "disk"), ==, 0);
        v->last_verified = 77;
        g_assert_cmpint(idset_add(&v->synchronizations, 6), ==, 1);
        vc = volume_copy(v);
        g_assert_nonnull(vc);
        g_assert_true(vc->element_name != v->element_name);
        g_assert_cmpstr(vc->element_name, ==, "disk");
        g_assert_cmpstr(vc->target_name, ==, v->target_name);
        g_assert_cmpuint(vc->lun, ==, 7);
        g_assert_cmpuint(vc->block_size, ==, 512);
        g_assert_cmpuint(vc->n_blocks, ==, 2048);
        g_assert_cmpuint(vc->last_verified, ==, 77);
        g_assert_true(idset_equal(&vc->synchronizations, &v->synchronizations));

        g_assert_cmpint(free_and_strdup(&s->element_name, "mirror"), ==, 0);
        g_assert_cmpint(free_and_strdup(&s->last_error, "lost"), ==, 0);
        s->copy_state = COPY_STATE_BROKEN;
        s->resume_chunk = 42;
        s->job_id = 3;
        sc = synchronization_copy(s);
        g_assert_nonnull(sc);
        g_assert_true(sc->element_name != s->element_name && sc->last_error != s->last_error);
        g_assert_cmpstr(sc->element_name, ==, "mirror");
        g_assert_cmpstr(sc->last_error, ==, "lost");
        g_assert_cmpint(sc->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpuint(sc->resume_chunk, ==, 42);
        g_assert_cmpuint(sc->job_id, ==, 3);
        g_assert_cmpuint(sc->copy_volume_id, ==, 8);
}

static void test_values(void) {
        const int copy_states[] = { 2, 3, 4, 5, 6, 9 };
        const int progress[] = { 2, 3, 4, 6, 7 };

        for (int v = -1; v < 20; v++) {
                bool cs = false, ps = false;

                for (size_t i = 0; i < G_N_ELEMENTS(copy_states); i++)
                        cs = cs || copy_states[i] == v;
                for (size_t i = 0; i < G_N_ELEMENTS(progress); i++)
                        ps = ps || progress[i] == v;
                g_assert_cmpint(copy_state_is_valid(v), ==, cs);
                g_assert_cmpint(progress_status_is_valid(v), ==, ps);
        }
        g_assert_cmpstr(copy_state_to_string(COPY_STATE_SUSPENDED), ==, "Suspended");
        g_assert_cmpstr(copy_state_to_string(7), ==, "Unknown");
        g_assert_cmpstr(sync_type_to_string(SYNC_TYPE_CLONE), ==, "Clone");
        g_assert_cmpstr(sync_type_to_string(9), ==, "Unknown");
}

static void test_volume_chunks(void) {
        _cleanup_(volume_freep) Volume *v = new_volume(5, 2, "", 0);

        v->block_size = 4096;
        v->n_blocks = 256;              /* 1 MiB */
        g_assert_cmpuint(volume_size_bytes(v), ==, 1024 * 1024);
        g_assert_cmpuint(volume_n_chunks(v, 64 * 1024), ==, 16);
        v->n_blocks = 257;              /* the last chunk is short */
        g_assert_cmpuint(volume_n_chunks(v, 64 * 1024), ==, 17);
        v->n_blocks = UINT64_C(1) << 28;        /* 1 TiB: blocks times size does not overflow */
        g_assert_cmpuint(volume_n_chunks(v, 1024 * 1024), ==, UINT64_C(1) << 20);
}

static void test_volume_table(Fixture *f, gconstpointer data) {
        _cleanup_(volume_freep) Volume *dup = NULL;
        IdSet s = IDSET_INIT;

        g_assert_cmpuint(f->m->volumes.n, ==, 3);
        g_assert_cmpuint(model_get_volume(f->m, 11)->lun, ==, 1);
        g_assert_null(model_get_volume(f->m, 2));
        /* Volumes take ids from the same counter as everything else. */
        g_assert_cmpuint(model_allocate_id(f->m), ==, 13);

        dup = new_volume(11, 2, "x", 9);
        g_assert_cmpint(model_add_volume(f->m, dup), ==, -EEXIST);
        g_assert_cmpuint(f->m->volumes.n, ==, 3);

        g_assert_cmpint(model_volumes_of_access_point(f->m, 2, &s), ==, 0);
        ASSERT_IDS(&s, 10, 11);
        g_assert_cmpint(model_volumes_of_access_point(f->m, 3, &s), ==, 0);
        ASSERT_IDS(&s, 12);
        g_assert_cmpint(model_volumes_of_access_point(f->m, 99, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);

        volume_free(model_remove_volume(f->m, 10));
        g_assert_null(model_get_volume(f->m, 10));
        g_assert_null(model_remove_volume(f->m, 10));
        g_assert_cmpint(model_volumes_of_access_point(f->m, 2, &s), ==, 0);
        ASSERT_IDS(&s, 11);
        idset_clear(&s);
}

static void test_volume_by_lun(Fixture *f, gconstpointer data) {
        Volume *v;

        v = model_find_volume_by_lun(f->m, 2, "iqn.2024-01.org.example:t1", 1);
        g_assert_nonnull(v);
        g_assert_cmpuint(v->id, ==, 11);
        /* iSCSI names compare without ASCII case. */
        v = model_find_volume_by_lun(f->m, 2, "IQN.2024-01.ORG.EXAMPLE:T1", 0);
        g_assert_nonnull(v);
        g_assert_cmpuint(v->id, ==, 10);
        g_assert_null(model_find_volume_by_lun(f->m, 2, "iqn.2024-01.org.example:t1", 2));
        g_assert_null(model_find_volume_by_lun(f->m, 3, "iqn.2024-01.org.example:t1", 0));
        g_assert_null(model_find_volume_by_lun(f->m, 2, "iqn.2024-01.org.example:t2", 0));
        g_assert_null(model_find_volume_by_lun(f->m, 2, NULL, 0));

        volume_free(model_remove_volume(f->m, 11));
        g_assert_null(model_find_volume_by_lun(f->m, 2, "iqn.2024-01.org.example:t1", 1));
        g_assert_nonnull(model_find_volume_by_lun(f->m, 2, "iqn.2024-01.org.example:t1", 0));
}

static void test_sync_indexes(Fixture *f, gconstpointer data) {
        _cleanup_(synchronization_freep) Synchronization *dup = NULL;
        IdSet s = IDSET_INIT;

        g_assert_cmpint(model_add_synchronization(f->m, new_sync(20, 10, 12, 30)), ==, 0);
        g_assert_cmpint(model_add_synchronization(f->m, new_sync(21, 11, 12, 30)), ==, 0);
        g_assert_cmpint(model_add_synchronization(f->m, new_sync(22, 11, 99, 31)), ==, 0);
        dup = new_sync(21, 11, 12, 30);
        g_assert_cmpint(model_add_synchronization(f->m, dup), ==, -EEXIST);
        g_assert_cmpuint(f->m->synchronizations.n, ==, 3);
        g_assert_cmpuint(f->m->next_id, ==, 23);

        g_assert_cmpint(model_synchronizations_of_volume(f->m, 12, &s), ==, 0);
        ASSERT_IDS(&s, 20, 21);
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 11, &s), ==, 0);
        ASSERT_IDS(&s, 21, 22);
        g_assert_cmpint(model_synchronizations_of_collection(f->m, 30, &s), ==, 0);
        ASSERT_IDS(&s, 20, 21);
        g_assert_cmpint(model_synchronizations_of_collection(f->m, 31, &s), ==, 0);
        ASSERT_IDS(&s, 22);
        g_assert_cmpint(model_synchronizations_of_collection(f->m, 32, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);

        g_assert_cmpuint(model_find_synchronization_of_volume(f->m, 12, false)->id, ==, 20);
        g_assert_null(model_find_synchronization_of_volume(f->m, 12, true));
        g_assert_cmpuint(model_find_synchronization_of_volume(f->m, 10, true)->id, ==, 20);
        g_assert_null(model_find_synchronization_of_volume(f->m, 10, false));
        g_assert_null(model_find_synchronization_of_volume(f->m, 77, true));

        synchronization_free(model_remove_synchronization(f->m, 20));
        synchronization_free(model_remove_synchronization(f->m, 22));
        g_assert_null(model_remove_synchronization(f->m, 22));
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 12, &s), ==, 0);
        ASSERT_IDS(&s, 21);
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 10, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);
        g_assert_cmpint(model_synchronizations_of_collection(f->m, 31, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);
        g_assert_cmpuint(f->m->synchronizations_by_collection.n, ==, 1);
        g_assert_cmpuint(model_find_synchronization_of_volume(f->m, 12, false)->id, ==, 21);
        idset_clear(&s);
}

/* A collection replaced by a change keeps its synchronizations: the index is not in the object. */
static void test_sync_index_survives_collection_replace(Fixture *f, gconstpointer data) {
        Collection *c = collection_new(), *old;
        IdSet s = IDSET_INIT;

        c->id = 30;
        g_assert_cmpint(model_add_collection(f->m, c), ==, 0);
        g_assert_cmpint(model_add_synchronization(f->m, new_sync(20, 10, 12, 30)), ==, 0);
        /* A change builds the new collection from scratch as well as by copying: neither carries the index. */
        old = model_remove_collection(f->m, 30);
        c = collection_new();
        c->id = old->id;
        collection_free(old);
        g_assert_cmpint(model_add_collection(f->m, c), ==, 0);
        g_assert_cmpint(model_synchronizations_of_collection(f->m, 30, &s), ==, 0);
        ASSERT_IDS(&s, 20);
        idset_clear(&s);
}

/* A volume that was replaced with volume_copy() keeps its synchronizations. */
static void test_volume_replace(Fixture *f, gconstpointer data) {
        Volume *old, *n;
        IdSet s = IDSET_INIT;

        g_assert_cmpint(model_add_synchronization(f->m, new_sync(20, 10, 12, 30)), ==, 0);
        old = model_remove_volume(f->m, 12);
        n = volume_copy(old);
        volume_free(old);
        n->last_verified = 5;
        g_assert_cmpint(model_add_volume(f->m, n), ==, 0);
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 12, &s), ==, 0);
        ASSERT_IDS(&s, 20);
        g_assert_true(model_find_volume_by_lun(f->m, 3, "iqn.2024-01.org.example:t2", 0) == n);
        idset_clear(&s);
}

/* Loading fills sets in place and then rebuilds; the rebuild gives the same indexes. */
static void test_rebuild(Fixture *f, gconstpointer data) {
        IdSet s = IDSET_INIT;

        /* The synchronization arrives before its copy volume, as a hand-edited store could have it. */
        volume_free(model_remove_volume(f->m, 12));
        g_assert_cmpint(model_add_synchronization(f->m, new_sync(20, 10, 12, 30)), ==, 0);
        g_assert_cmpint(model_add_volume(f->m, new_volume(12, 3, "iqn.2024-01.org.example:t2", 0)), ==, 0);
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 12, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);

        idset_clear(&model_get_access_point(f->m, 2)->volumes);
        g_assert_cmpint(model_rebuild_indexes(f->m), ==, 0);
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 12, &s), ==, 0);
        ASSERT_IDS(&s, 20);
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 10, &s), ==, 0);
        ASSERT_IDS(&s, 20);
        g_assert_cmpint(model_volumes_of_access_point(f->m, 2, &s), ==, 0);
        ASSERT_IDS(&s, 10, 11);
        g_assert_cmpint(model_synchronizations_of_collection(f->m, 30, &s), ==, 0);
        ASSERT_IDS(&s, 20);
        idset_clear(&s);
}

/* The engine's changes add and remove objects by kind: replicas go through the same indexes. */
static void test_by_kind(Fixture *f, gconstpointer data) {
        IdSet s = IDSET_INIT;

        g_assert_cmpint(model_add_object(f->m, OBJECT_VOLUME, new_volume(13, 2, "iqn.2024-01.org.example:t1", 5)),
                        ==, 0);
        g_assert_nonnull(model_find_volume_by_lun(f->m, 2, "iqn.2024-01.org.example:t1", 5));
        g_assert_cmpint(model_add_object(f->m, OBJECT_SYNCHRONIZATION, new_sync(20, 13, 12, 30)), ==, 0);
        g_assert_cmpint(model_synchronizations_of_collection(f->m, 30, &s), ==, 0);
        ASSERT_IDS(&s, 20);

        synchronization_free(model_remove_object(f->m, OBJECT_SYNCHRONIZATION, 20));
        g_assert_null(model_get_synchronization(f->m, 20));
        g_assert_cmpint(model_synchronizations_of_volume(f->m, 13, &s), ==, 0);
        g_assert_cmpuint(s.n, ==, 0);
        volume_free(model_remove_object(f->m, OBJECT_VOLUME, 13));
        g_assert_null(model_find_volume_by_lun(f->m, 2, "iqn.2024-01.org.example:t1", 5));
        g_assert_null(model_get_volume(f->m, 13));
        idset_clear(&s);
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/model/replica/defaults", test_defaults);
        g_test_add_func("/model/replica/copy", test_copy);
        g_test_add_func("/model/replica/values", test_values);
        g_test_add_func("/model/replica/volume-chunks", test_volume_chunks);
        ADD("/model/replica/volume-table", test_volume_table);
        ADD("/model/replica/volume-by-lun", test_volume_by_lun);
        ADD("/model/replica/sync-indexes", test_sync_indexes);
        ADD("/model/replica/sync-index-survives-collection-replace", test_sync_index_survives_collection_replace);
        ADD("/model/replica/volume-replace", test_volume_replace);
        ADD("/model/replica/rebuild", test_rebuild);
        ADD("/model/replica/by-kind", test_by_kind);
        return g_test_run();
}
