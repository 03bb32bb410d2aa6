/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The round trip through the SQLite store of every field of every object
 * kind, replacing an object and a collection's member rows, and that a
 * replaced or deleted secret is left in no file.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "store-fixture.h"
#include "util/strutil.h"

static void test_load_empty(Fixture *f, gconstpointer data) {
        Model *m = load(f);

        assert_model_empty(m);
        g_assert_cmpstr(model_get_system(m, LOCAL_SYSTEM_ID)->name, ==, LOCAL_NAME);
        model_free(m);
}

static void test_system_roundtrip(Fixture *f, gconstpointer data) {
        System *x = make_system(2);
        Model *m;

        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->systems.n, ==, 2);
        assert_system_equal(x, model_get_system(m, 2));
        g_assert_cmpuint(m->next_id, ==, 3);
        model_free(m);
        system_free(x);
}

static void test_system_local_not_stored(Fixture *f, gconstpointer data) {
        System *x = make_system(LOCAL_SYSTEM_ID);
        Model *m;

        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM systems"), ==, 0);
        g_assert_cmpint(store_delete_system(f->store, LOCAL_SYSTEM_ID), ==, -EINVAL);

        m = load(f);
        assert_model_empty(m);
        g_assert_cmpstr(model_get_system(m, LOCAL_SYSTEM_ID)->name, ==, LOCAL_NAME);
        model_free(m);
        system_free(x);
}

static void test_system_replace(Fixture *f, gconstpointer data) {
        System *x = make_system(2);
        Model *m;

        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        set_string(&x->element_name, "renamed");
        x->reachable = REACHABLE_YES;
        x->last_verified = 5;
        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM systems"), ==, 1);

        m = load(f);
        assert_system_equal(x, model_get_system(m, 2));
        model_free(m);
        system_free(x);
}

static void test_access_point_roundtrip(Fixture *f, gconstpointer data) {
        AccessPoint *remote = make_access_point(5, 2);
        AccessPoint *local = make_access_point(3, LOCAL_SYSTEM_ID);
        Model *m;

        /* The fields' defaults: no target name, no secret, no error, port 3260. */
        access_point_free(local);
        local = access_point_new();
        local->id = 3;
        set_string(&local->address, "192.0.2.1");

        g_assert_cmpint(store_save_access_point(f->store, remote), ==, 0);
        g_assert_cmpint(store_save_access_point(f->store, local), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->access_points.n, ==, 2);
        assert_access_point_equal(remote, model_get_access_point(m, 5));
        assert_access_point_equal(local, model_get_access_point(m, 3));
        g_assert_cmpuint(model_get_access_point(m, 3)->port, ==, 3260);
        g_assert_true(access_point_is_local(model_get_access_point(m, 3)));
        g_assert_cmpuint(m->next_id, ==, 6);
        model_free(m);
        access_point_free(remote);
        access_point_free(local);
}

static void test_secret_roundtrip(Fixture *f, gconstpointer data) {
        SharedSecret *bound = make_secret(7, 5);
        SharedSecret *unbound = secret_new();
        Model *m;

        unbound->id = 8;
        set_string(&unbound->username, "one-way");
        set_string(&unbound->secret, "0123456789ab");

        g_assert_cmpint(store_save_secret(f->store, bound), ==, 0);
        g_assert_cmpint(store_save_secret(f->store, unbound), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->secrets.n, ==, 2);
        assert_secret_equal(bound, model_get_secret(m, 7));
        assert_secret_equal(unbound, model_get_secret(m, 8));
        model_free(m);
        secret_free(bound);
        secret_free(unbound);
}

static bool file_contains(const char *path, const char *needle) {
        g_autofree char *contents = NULL;
        gsize length = 0;

        if (!g_file_test(path, G_FILE_TEST_EXISTS))
                return false;
        g_assert_true(g_file_get_contents(path, &contents, &length, NULL));
        return memmem(contents, length, needle, strlen(needle)) != NULL;
}

static void test_secret_erased_from_file(Fixture *f, gconstpointer data) {
        g_autofree char *wal = g_strconcat(f->db_path, "-wal", NULL);
        SharedSecret *x = make_secret(7, 5);

        set_string(&x->secret, "first-secret-AAAAAAAA");
        g_assert_cmpint(store_save_secret(f->store, x), ==, 0);
        set_string(&x->secret, "second-secret-BBBBBBBB");
        g_assert_cmpint(store_save_secret(f->store, x), ==, 0);
        x->id = 8;
        set_string(&x->secret, "third-secret-CCCCCCCC");
        g_assert_cmpint(store_save_secret(f->store, x), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 8), ==, 0);
        f->store = store_close(f->store);

        /* Closing checkpoints the WAL into the file; replaced and deleted values are overwritten. */
        g_assert_false(file_contains(wal, "secret-"));
        g_assert_false(file_contains(f->db_path, "first-secret-AAAAAAAA"));
        g_assert_false(file_contains(f->db_path, "third-secret-CCCCCCCC"));
        g_assert_true(file_contains(f->db_path, "second-secret-BBBBBBBB"));
        secret_free(x);
}

static bool store_files_contain(Fixture *f, const char *needle) {
        g_autofree char *wal = g_strconcat(f->db_path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(f->db_path, "-shm", NULL);

        return file_contains(f->db_path, needle) || file_contains(wal, needle) || file_contains(shm, needle);
}

/* Without closing: a committed deletion leaves the secret in no file, in a transaction or outside one. */
static void test_secret_erased_at_commit(Fixture *f, gconstpointer data) {
        SharedSecret *x = make_secret(7, 5);

        set_string(&x->secret, "in-transaction-DDDDDDDD");
        g_assert_cmpint(store_save_secret(f->store, x), ==, 0);
        g_assert_true(store_files_contain(f, "in-transaction-DDDDDDDD"));
        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 7), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        g_assert_false(store_files_contain(f, "in-transaction-DDDDDDDD"));

        x->id = 8;
        set_string(&x->secret, "autocommit-EEEEEEEE");
        g_assert_cmpint(store_save_secret(f->store, x), ==, 0);
        g_assert_true(store_files_contain(f, "autocommit-EEEEEEEE"));
        g_assert_cmpint(store_delete_secret(f->store, 8), ==, 0);
        g_assert_false(store_files_contain(f, "autocommit-EEEEEEEE"));
        g_assert_false(store_files_contain(f, "mutual-"));

        /* A rolled-back deletion keeps the secret, and the next commit does not count it. */
        x->id = 9;
        set_string(&x->secret, "kept-FFFFFFFF");
        g_assert_cmpint(store_save_secret(f->store, x), ==, 0);
        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 9), ==, 0);
        store_rollback(f->store);
        g_assert_true(store_files_contain(f, "kept-FFFFFFFF"));
        Model *m = load(f);
        g_assert_nonnull(model_get_secret(m, 9));
        model_free(m);
        secret_free(x);
}

static void test_collection_roundtrip(Fixture *f, gconstpointer data) {
        Collection *full = make_collection(4);
        Collection *empty = collection_new();
        Model *m;

        empty->id = 9;

        g_assert_cmpint(store_save_collection(f->store, full), ==, 0);
        g_assert_cmpint(store_save_collection(f->store, empty), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 5);

        m = load(f);
        g_assert_cmpuint(m->collections.n, ==, 2);
        assert_collection_equal(full, model_get_collection(m, 4));
        assert_collection_equal(empty, model_get_collection(m, 9));
        /* The running job is the daemon's state, not stored. */
        g_assert_cmpuint(model_get_collection(m, 4)->job_id, ==, 0);
        g_assert_cmpuint(m->next_id, ==, 10);
        model_free(m);
        collection_free(full);
        collection_free(empty);
}

static void test_collection_rewrites_members(Fixture *f, gconstpointer data) {
        Collection *x = make_collection(4);
        Collection *other = make_collection(8);
        Model *m;

        g_assert_cmpint(store_save_collection(f->store, x), ==, 0);
        g_assert_cmpint(store_save_collection(f->store, other), ==, 0);

        g_assert_cmpint(idset_remove(&x->local_access_points, 3), ==, 1);
        g_assert_cmpint(idset_add(&x->local_access_points, 10), ==, 1);
        idset_clear(&x->remote_access_points);
        g_assert_cmpint(idset_add(&x->remote_systems, 11), ==, 1);
        x->active = false;
        set_string(&x->element_name, "");
        g_assert_cmpint(store_save_collection(f->store, x), ==, 0);

        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members WHERE collection_id = 4"), ==, 5);
        m = load(f);
        assert_collection_equal(x, model_get_collection(m, 4));
        /* Another collection's members are untouched. */
        assert_collection_equal(other, model_get_collection(m, 8));
        model_free(m);
        collection_free(x);
        collection_free(other);
}

static void test_collection_delete_removes_members(Fixture *f, gconstpointer data) {
        Collection *x = make_collection(4);
        Collection *other = make_collection(8);
        Model *m;

        g_assert_cmpint(store_save_collection(f->store, x), ==, 0);
        g_assert_cmpint(store_save_collection(f->store, other), ==, 0);
        g_assert_cmpint(store_delete_collection(f->store, 4), ==, 0);

        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members WHERE collection_id = 4"), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 5);
        m = load(f);
        g_assert_null(model_get_collection(m, 4));
        assert_collection_equal(other, model_get_collection(m, 8));
        model_free(m);
        collection_free(x);
        collection_free(other);
}

/* Every AddTo and RemoveFrom writes member rows: their check must not cost a temporary table each. */
static void test_collection_member_check_is_cheap(Fixture *f, gconstpointer data) {
        Collection *x = make_collection(4);
        sqlite3 *db;

        g_assert_cmpint(store_save_collection(f->store, x), ==, 0);
        g_assert_false(member_insert_builds_temporary_table(f->db_path));

        /* The rule itself still holds. */
        db = raw_open(f->db_path);
        g_assert_cmpint(sqlite3_exec(db, "INSERT INTO collection_members (collection_id, kind, member_id) "
                                         "VALUES (4, 'elsewhere', 7)", NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);
        g_assert_cmpint(sqlite3_extended_errcode(db), ==, SQLITE_CONSTRAINT_CHECK);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 5);
        collection_free(x);
}

static void test_job_roundtrip(Fixture *f, gconstpointer data) {
        Job *finished = make_job(6);
        Job *running = job_new();
        Model *m;

        /* A job that was running when the service stopped comes back as it was stored. */
        running->id = 12;
        running->state = JOB_STATE_RUNNING;
        set_string(&running->name, "GetPeerSystems");
        g_assert_cmpint(strv_extend(&running->affected_elements, SERVICE_ROOT_PATH "/system/2"), ==, 0);

        g_assert_cmpint(store_save_job(f->store, finished), ==, 0);
        g_assert_cmpint(store_save_job(f->store, running), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->jobs.n, ==, 2);
        assert_job_equal(finished, model_get_job(m, 6));
        assert_job_equal(running, model_get_job(m, 12));
        g_assert_null(model_get_job(m, 6)->runtime);
        g_assert_cmpuint(m->next_id, ==, 13);
        model_free(m);
        job_free(finished);
        job_free(running);
}

static void test_job_no_affected_elements(Fixture *f, gconstpointer data) {
        Job *x = job_new();
        Job *loaded;
        Model *m;

        x->id = 3;
        g_assert_cmpint(store_save_job(f->store, x), ==, 0);
        m = load(f);
        loaded = model_get_job(m, 3);
        assert_job_equal(x, loaded);
        g_assert_cmpstr(loaded->error_source, ==, NULL_PATH);
        g_assert_nonnull(loaded->affected_elements);
        g_assert_null(loaded->affected_elements[0]);
        model_free(m);
        job_free(x);
}

static void test_job_rejects_unstorable_path(Fixture *f, gconstpointer data) {
        Job *x = job_new();

        x->id = 3;
        g_assert_cmpint(strv_extend(&x->affected_elements, SERVICE_ROOT_PATH "/system/2\n/x"), ==, 0);
        g_assert_cmpint(store_save_job(f->store, x), ==, -EINVAL);

        strv_free(x->affected_elements);
        x->affected_elements = NULL;
        g_assert_cmpint(strv_extend(&x->affected_elements, ""), ==, 0);
        g_assert_cmpint(store_save_job(f->store, x), ==, -EINVAL);

        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM jobs"), ==, 0);
        job_free(x);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, setup, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/store/load/empty", setup_open, test_load_empty);
        ADD("/store/system/roundtrip", setup_open, test_system_roundtrip);
        ADD("/store/system/local-not-stored", setup_open, test_system_local_not_stored);
        ADD("/store/system/replace", setup_open, test_system_replace);
        ADD("/store/access-point/roundtrip", setup_open, test_access_point_roundtrip);
        ADD("/store/secret/roundtrip", setup_open, test_secret_roundtrip);
        ADD("/store/secret/erased-from-file", setup_open, test_secret_erased_from_file);
        ADD("/store/collection/roundtrip", setup_open, test_collection_roundtrip);
        ADD("/store/collection/rewrites-members", setup_open, test_collection_rewrites_members);
        ADD("/store/collection/delete-removes-members", setup_open, test_collection_delete_removes_members);
        ADD("/store/collection/member-check-is-cheap", setup_open, test_collection_member_check_is_cheap);
        ADD("/store/job/roundtrip", setup_open, test_job_roundtrip);
        ADD("/store/job/no-affected-elements", setup_open, test_job_no_affected_elements);
        ADD("/store/job/rejects-unstorable-path", setup_open, test_job_rejects_unstorable_path);
        ADD("/store/secret/erased-at-commit", setup_open, test_secret_erased_at_commit);
#undef ADD

        return g_test_run();
}
