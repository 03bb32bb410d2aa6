/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* core/replica-validate: the argument rules of API.md section 10 that need no I/O. */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "core/replica-validate.h"
#include "util/strutil.h"

#define ROOT SERVICE_ROOT_PATH
#define T_LOCAL "iqn.2024-01.org.example:local-target"
#define T_REMOTE "iqn.2024-01.org.example:remote-target"
#define MIB (UINT32_C(1024) * 1024)

/*
 * Peer 1; local access points 2 and 4, remote 3 and 5 (on peer 1); a
 * collection 6 holding local 2 and remote 3. Volumes: 10 local behind 2
 * (1 GiB, 512-byte blocks), 11 remote behind 3 (1 GiB, 4096-byte blocks),
 * 12 remote behind 3 but smaller, 13 remote behind 5, 14 local behind 4.
 */
typedef struct Fixture {
        Model *m;
        ReplError e;
} Fixture;

static AccessPoint *add_access_point(Model *m, uint64_t id, uint64_t system_id, const char *target) {
        AccessPoint *a = access_point_new();

        g_assert_nonnull(a);
        a->id = id;
        a->system_id = system_id;
        g_assert_cmpint(free_and_strdup(&a->target_name, target), ==, 0);
        g_assert_cmpint(model_add_access_point(m, a), ==, 0);
        return a;
}

static void add_volume(Model *m, uint64_t id, uint64_t ap, uint16_t lun, uint32_t block_size, uint64_t bytes) {
        Volume *v = volume_new();

        g_assert_nonnull(v);
        v->id = id;
        v->access_point_id = ap;
        g_assert_cmpint(free_and_strdup(&v->target_name, model_get_access_point(m, ap)->target_name), ==, 0);
        v->lun = lun;
        v->block_size = block_size;
        v->n_blocks = bytes / block_size;
        g_assert_cmpint(model_add_volume(m, v), ==, 0);
}

static void setup(Fixture *f, gconstpointer data) {
        System *peer = system_new();
        Collection *c = collection_new();

        f->e = REPL_ERROR_INIT;
        f->m = model_new("iqn.2024-01.org.example:local");
        peer->id = 1;
        g_assert_cmpint(free_and_strdup(&peer->name, "iqn.2024-01.org.example:peer"), ==, 0);
        g_assert_cmpint(model_add_system(f->m, peer), ==, 0);
        add_access_point(f->m, 2, LOCAL_SYSTEM_ID, T_LOCAL);
        add_access_point(f->m, 3, 1, T_REMOTE);
        add_access_point(f->m, 4, LOCAL_SYSTEM_ID, "");
        add_access_point(f->m, 5, 1, T_REMOTE);
        c->id = 6;
        g_assert_cmpint(idset_add(&c->local_access_points, 2), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_access_points, 3), ==, 1);
        g_assert_cmpint(idset_add(&c->remote_systems, 1), ==, 1);
        g_assert_cmpint(model_add_collection(f->m, c), ==, 0);
        add_volume(f->m, 10, 2, 0, 512, 1024 * MIB);
        add_volume(f->m, 11, 3, 0, 4096, 1024 * MIB);
        add_volume(f->m, 12, 3, 1, 512, 1024 * MIB - 512);
        add_volume(f->m, 13, 5, 0, 512, 1024 * MIB);
        add_volume(f->m, 14, 4, 0, 512, 1024 * MIB);
}

static void teardown(Fixture *f, gconstpointer data) {
        model_free(f->m);
}

static ReplicaSpec good_spec(void) {
        return (ReplicaSpec) {
                .element_name = "nightly",
                .sync_type = SYNC_TYPE_MIRROR,
                .mode = SYNC_MODE_ASYNCHRONOUS,
                .source_path = ROOT "/volume/10",
                .target_path = ROOT "/volume/11",
                .collection_path = ROOT "/collection/6",
        };
}

/* Runs the spec, expects error and a message containing fragment, and that no plan was written. */
static void assert_create_fails(Fixture *f, const ReplicaSpec *spec, int error, const char *fragment) {
        ReplicaPlan plan = { .chunk_size = 7 };
        ReplError e = REPL_ERROR_INIT;

        g_assert_cmpint(replica_validate_create(f->m, spec, &plan, &e), ==, error);
        g_assert_cmpint(e.error, ==, error);
        if (!strstr(e.message, fragment))
                g_error("message \"%s\" lacks \"%s\"", e.message, fragment);
        g_assert_cmpuint(plan.chunk_size, ==, 7);
        g_assert_null(plan.source);
}

static void test_sync_type(Fixture *f, gconstpointer data) {
        g_assert_cmpint(replica_validate_sync_type(6, &f->e), ==, 0);
        g_assert_cmpint(replica_validate_sync_type(8, &f->e), ==, 0);
        g_assert_cmpint(f->e.error, ==, 0);
        for (unsigned v = 0; v < 20; v++) {
                ReplError e = REPL_ERROR_INIT;

                if (v == 6 || v == 8)
                        continue;
                g_assert_cmpint(replica_validate_sync_type(v, &e), ==, -EOPNOTSUPP);
                g_assert_nonnull(strstr(e.message, "SyncType"));
        }
}

/* Only 3 Asynchronous is made here; every other Mode, CIM's or not, is NotSupported, naming the value. */
static void test_mode(Fixture *f, gconstpointer data) {
        static const struct {
                uint16_t mode;
                int error;
                const char *fragment;
        } cases[] = {
                { 3, 0, NULL },
                { 2, -EOPNOTSUPP, "Mode 2 (Synchronous) is not supported" },
                { 0, -EOPNOTSUPP, "Mode 0 is not supported" },
                { 1, -EOPNOTSUPP, "Mode 1 is not supported" },
                { 4, -EOPNOTSUPP, "Mode 4 is not supported" },
                { 32768, -EOPNOTSUPP, "Mode 32768 is not supported" },
                { UINT16_MAX, -EOPNOTSUPP, "Mode 65535 is not supported" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                ReplError e = REPL_ERROR_INIT;

                g_assert_cmpint(replica_validate_mode(cases[i].mode, &e), ==, cases[i].error);
                g_assert_cmpint(e.error, ==, cases[i].error);
                if (cases[i].fragment && !strstr(e.message, cases[i].fragment))
                        g_error("Mode %u: message \"%s\" lacks \"%s\"", cases[i].mode, e.message, cases[i].fragment);
                repl_error_clear(&e);
        }
}

static void test_chunk_size(Fixture *f, gconstpointer data) {
        static const uint32_t good[] = { 64 * 1024, 128 * 1024, MIB, 8 * MIB, 16 * MIB };
        static const uint32_t bad[] = { 0, 1, 4096, 32 * 1024, 64 * 1024 - 1, 64 * 1024 + 512, 3 * MIB,
                                        MIB + 4096, 32 * MIB, UINT32_MAX, UINT32_C(1) << 31 };

        for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
                g_assert_cmpint(replica_validate_chunk_size(good[i], 512, 4096, &f->e), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                ReplError e = REPL_ERROR_INIT;

                g_assert_cmpint(replica_validate_chunk_size(bad[i], 512, 512, &e), ==, -EINVAL);
                g_assert_nonnull(strstr(e.message, "ChunkSize"));
        }
        /* A multiple of both block sizes: an unusual block size of either side rules a chunk out. */
        g_assert_cmpint(replica_validate_chunk_size(64 * 1024, 128 * 1024, 512, &f->e), ==, -EINVAL);
        g_assert_nonnull(strstr(f->e.message, "source's block size 131072"));
        repl_error_clear(&f->e);
        g_assert_cmpint(replica_validate_chunk_size(64 * 1024, 512, 520, &f->e), ==, -EINVAL);
        g_assert_nonnull(strstr(f->e.message, "copy's block size 520"));
        repl_error_clear(&f->e);
        g_assert_cmpint(replica_validate_chunk_size(64 * 1024, 0, 512, &f->e), ==, -EINVAL);
}

static void test_create_good(Fixture *f, gconstpointer data) {
        ReplicaSpec spec = good_spec();
        ReplicaPlan plan = {};

        g_assert_cmpint(replica_validate_create(f->m, &spec, &plan, &f->e), ==, 0);
        g_assert_cmpint(f->e.error, ==, 0);
        g_assert_true(plan.source == model_get_volume(f->m, 10));
        g_assert_true(plan.target == model_get_volume(f->m, 11));
        g_assert_true(plan.source_access_point == model_get_access_point(f->m, 2));
        g_assert_true(plan.target_access_point == model_get_access_point(f->m, 3));
        g_assert_true(plan.collection == model_get_collection(f->m, 6));
        g_assert_cmpuint(plan.chunk_size, ==, MIB);

        spec.sync_type = SYNC_TYPE_CLONE;
        spec.chunk_size = 64 * 1024;
        spec.element_name = NULL;
        g_assert_cmpint(replica_validate_create(f->m, &spec, &plan, &f->e), ==, 0);
        g_assert_cmpuint(plan.chunk_size, ==, 64 * 1024);
}

/* The values come before any reference is looked up: a NULL source does not hide an unsupported value. */
static void test_create_not_supported(Fixture *f, gconstpointer data) {
        static const struct {
                uint16_t sync_type, mode;
                const char *fragment;
        } cases[] = {
                { SYNC_TYPE_SNAPSHOT, SYNC_MODE_ASYNCHRONOUS, "SyncType 7" },
                { 0, SYNC_MODE_ASYNCHRONOUS, "SyncType 0" },
                { 5, SYNC_MODE_ASYNCHRONOUS, "SyncType 5" },
                { SYNC_TYPE_MIRROR, SYNC_MODE_SYNCHRONOUS, "Mode 2" },
                { SYNC_TYPE_MIRROR, 4, "Mode 4" },
                { SYNC_TYPE_CLONE, 0, "Mode 0" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                ReplicaSpec spec = good_spec();

                spec.sync_type = cases[i].sync_type;
                spec.mode = cases[i].mode;
                spec.source_path = "/";
                assert_create_fails(f, &spec, -EOPNOTSUPP, cases[i].fragment);
        }
}

/* ChunkSize: absent is the default; given, it must be a valid size — 0 too is refused, not read as "absent". */
static void test_create_chunk_size(Fixture *f, gconstpointer data) {
        static const struct {
                uint32_t chunk_size;
                bool set;
                int error;
                uint32_t expected;
        } cases[] = {
                { 0, false, 0, MIB },
                { 0, true, -EINVAL, 0 },
                { 64 * 1024, true, 0, 64 * 1024 },
                { 64 * 1024, false, 0, 64 * 1024 },
                { 16 * MIB, true, 0, 16 * MIB },
                { 32 * 1024, true, -EINVAL, 0 },
                { 32 * MIB, true, -EINVAL, 0 },
                { 96 * 1024, true, -EINVAL, 0 },
                { 1, true, -EINVAL, 0 },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                ReplicaSpec spec = good_spec();
                ReplicaPlan plan = {};
                ReplError e = REPL_ERROR_INIT;

                spec.chunk_size = cases[i].chunk_size;
                spec.set_chunk_size = cases[i].set;
                if (cases[i].error < 0) {
                        g_autofree char *fragment = g_strdup_printf("ChunkSize %u ", cases[i].chunk_size);

                        assert_create_fails(f, &spec, cases[i].error, fragment);
                        continue;
                }
                g_assert_cmpint(replica_validate_create(f->m, &spec, &plan, &e), ==, 0);
                g_assert_cmpuint(plan.chunk_size, ==, cases[i].expected);
        }
}

static void test_create_references(Fixture *f, gconstpointer data) {
        ReplicaSpec spec = good_spec();

        spec.source_path = ROOT "/access_point/2";
        assert_create_fails(f, &spec, -EINVAL, "SourceElement does not name a storage volume");
        spec.source_path = "/";
        assert_create_fails(f, &spec, -EINVAL, "SourceElement does not name a storage volume");
        spec.source_path = ROOT "/volume/99";
        assert_create_fails(f, &spec, -ENOENT, "SourceElement " ROOT "/volume/99 does not exist");
        spec = good_spec();
        spec.target_path = ROOT "/collection/6";
        assert_create_fails(f, &spec, -EINVAL, "TargetElement does not name a storage volume");
        spec = good_spec();
        spec.collection_path = ROOT "/volume/10";
        assert_create_fails(f, &spec, -EINVAL, "ConnectivityCollection does not name a collection");
        spec.collection_path = ROOT "/collection/7";
        assert_create_fails(f, &spec, -ENOENT, "ConnectivityCollection " ROOT "/collection/7 does not exist");
        spec = good_spec();
        spec.element_name = "bad\nname";
        assert_create_fails(f, &spec, -EINVAL, "ElementName");
}

static void test_create_sides_and_sizes(Fixture *f, gconstpointer data) {
        ReplicaSpec spec = good_spec();

        spec.source_path = ROOT "/volume/13";
        assert_create_fails(f, &spec, -EINVAL, "SourceElement " ROOT "/volume/13 is a remote volume");
        spec = good_spec();
        spec.target_path = ROOT "/volume/14";
        assert_create_fails(f, &spec, -EINVAL, "TargetElement " ROOT "/volume/14 is a local volume");
        spec = good_spec();
        spec.target_path = ROOT "/volume/12";
        assert_create_fails(f, &spec, -EINVAL, "fewer than the 1073741824 of SourceElement");
        /* ChunkSize against the copy's 4096-byte blocks. */
        spec = good_spec();
        spec.chunk_size = 3 * MIB;
        assert_create_fails(f, &spec, -EINVAL, "ChunkSize 3145728");
}

static void test_create_collection_paths(Fixture *f, gconstpointer data) {
        ReplicaSpec spec = good_spec();
        Collection *c = model_get_collection(f->m, 6);

        /* 5 is remote but not in the collection. */
        spec.target_path = ROOT "/volume/13";
        assert_create_fails(f, &spec, -EINVAL, "does not hold the copy's access point " ROOT "/access_point/5");
        /* 4 is local but not in the collection. */
        idset_remove(&c->local_access_points, 2);
        spec = good_spec();
        assert_create_fails(f, &spec, -EINVAL, "does not hold the source's access point " ROOT "/access_point/2");
}

static void test_create_roles(Fixture *f, gconstpointer data) {
        ReplicaSpec spec = good_spec();
        Synchronization *s = synchronization_new();

        s->id = 20;
        s->source_volume_id = 14;
        s->copy_volume_id = 11;
        s->collection_id = 6;
        g_assert_cmpint(model_add_synchronization(f->m, s), ==, 0);
        assert_create_fails(f, &spec, -EBUSY, "TargetElement " ROOT "/volume/11 is the copy of synchronization "
                                              ROOT "/synchronization/20");
        synchronization_free(model_remove_synchronization(f->m, 20));

        /* A volume that is a source cannot become a copy. */
        s = synchronization_new();
        s->id = 21;
        s->source_volume_id = 11;
        s->copy_volume_id = 13;
        s->collection_id = 6;
        g_assert_cmpint(model_add_synchronization(f->m, s), ==, 0);
        assert_create_fails(f, &spec, -EBUSY, "is the source of synchronization " ROOT "/synchronization/21");
}

static void test_volume(Fixture *f, gconstpointer data) {
        VolumeSpec spec = { .access_point_path = ROOT "/access_point/2", .lun = 1, .element_name = "data" };
        const AccessPoint *a = NULL;
        const char *target = NULL;
        ReplError e = REPL_ERROR_INIT;

        /* The access point's target by default. */
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &f->e), ==, 0);
        g_assert_true(a == model_get_access_point(f->m, 2));
        g_assert_cmpstr(target, ==, T_LOCAL);
        spec.target_name = "iqn.2024-01.org.example:other";
        spec.lun = 0;
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &f->e), ==, 0);
        g_assert_cmpstr(target, ==, "iqn.2024-01.org.example:other");

        /* The same access point, target (in any case) and LUN twice. */
        spec.target_name = "IQN.2024-01.ORG.EXAMPLE:LOCAL-TARGET";
        a = NULL;
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &e), ==, -EEXIST);
        g_assert_null(a);
        g_assert_nonnull(strstr(e.message, "LUN 0"));

        repl_error_clear(&e);
        spec.target_name = "not an iscsi name";
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e.message, "TargetName"));

        repl_error_clear(&e);
        spec = (VolumeSpec) { .access_point_path = ROOT "/access_point/4" };
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e.message, "TargetName is required"));

        repl_error_clear(&e);
        spec = (VolumeSpec) { .access_point_path = ROOT "/volume/10" };
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &e), ==, -EINVAL);
        repl_error_clear(&e);
        spec = (VolumeSpec) { .access_point_path = ROOT "/access_point/9" };
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &e), ==, -ENOENT);
        repl_error_clear(&e);
        spec = (VolumeSpec) { .access_point_path = "/", .element_name = "\x01" };
        g_assert_cmpint(replica_validate_volume(f->m, &spec, &a, &target, &e), ==, -EINVAL);
        g_assert_nonnull(strstr(e.message, "ElementName"));
}

static void test_operation(Fixture *f, gconstpointer data) {
        static const struct {
                CopyState state;
                bool running;
                int suspend, resume, resync, detach;
        } cases[] = {
                { COPY_STATE_INITIALIZED, true, 0, -EBADRQC, -EBADRQC, 0 },
                { COPY_STATE_SYNCHRONIZED, false, 0, -EBADRQC, 0, 0 },
                { COPY_STATE_SYNCHRONIZED, true, 0, -EBADRQC, -EBADRQC, 0 },
                { COPY_STATE_UNSYNCHRONIZED, false, 0, -EBADRQC, 0, 0 },
                { COPY_STATE_BROKEN, false, -EBADRQC, -EBADRQC, 0, 0 },
                { COPY_STATE_FRACTURED, false, -EBADRQC, -EBADRQC, 0, 0 },
                { COPY_STATE_SUSPENDED, false, -EBADRQC, 0, 0, 0 },
        };
        _cleanup_(synchronization_freep) Synchronization *s = synchronization_new();
        ReplError e = REPL_ERROR_INIT;

        s->id = 20;
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                s->copy_state = cases[i].state;
                s->job_id = cases[i].running ? 30 : 0;
                g_assert_cmpint(replica_validate_operation(s, 22, &e), ==, cases[i].suspend);
                repl_error_clear(&e);
                g_assert_cmpint(replica_validate_operation(s, 16, &e), ==, cases[i].resume);
                repl_error_clear(&e);
                g_assert_cmpint(replica_validate_operation(s, 14, &e), ==, cases[i].resync);
                repl_error_clear(&e);
                g_assert_cmpint(replica_validate_operation(s, 8, &e), ==, cases[i].detach);
                repl_error_clear(&e);
        }

        s->copy_state = COPY_STATE_BROKEN;
        g_assert_cmpint(replica_validate_operation(s, 22, &e), ==, -EBADRQC);
        g_assert_cmpstr(e.message, ==, "Synchronization " ROOT "/synchronization/20 is Broken and cannot be suspended.");
        for (unsigned op = 0; op < 40; op++) {
                if (op == 8 || op == 14 || op == 16 || op == 22)
                        continue;
                repl_error_clear(&e);
                g_assert_cmpint(replica_validate_operation(s, op, &e), ==, -EOPNOTSUPP);
        }
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        ADD("/replica-validate/sync-type", test_sync_type);
        ADD("/replica-validate/mode", test_mode);
        ADD("/replica-validate/chunk-size", test_chunk_size);
        ADD("/replica-validate/create/good", test_create_good);
        ADD("/replica-validate/create/not-supported", test_create_not_supported);
        ADD("/replica-validate/create/chunk-size", test_create_chunk_size);
        ADD("/replica-validate/create/references", test_create_references);
        ADD("/replica-validate/create/sides-and-sizes", test_create_sides_and_sizes);
        ADD("/replica-validate/create/collection-paths", test_create_collection_paths);
        ADD("/replica-validate/create/roles", test_create_roles);
        ADD("/replica-validate/volume", test_volume);
        ADD("/replica-validate/operation", test_operation);
        return g_test_run();
}
