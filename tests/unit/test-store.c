/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the SQLite store: file and directory modes, connection
 * settings, schema versions and migration, the round trip of every field of
 * every object kind, transactions, deletes and the next-id rule. Each test
 * works in its own temporary directory. The database is also inspected
 * directly with SQLite, to see what the store's own API cannot show.
 */

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "util/strutil.h"

#define LOCAL_NAME "iqn.2024-01.org.example:local"

typedef struct Fixture {
        char *tmp;              /* removed at teardown */
        char *dir;              /* the state directory inside tmp */
        char *db_path;
        Store *store;
} Fixture;

static void rm_rf(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                GDir *d = g_dir_open(path, 0, NULL);
                const char *name;

                g_assert_nonnull(d);
                while ((name = g_dir_read_name(d))) {
                        g_autofree char *child = g_build_filename(path, name, NULL);

                        rm_rf(child);
                }
                g_dir_close(d);
                g_assert_cmpint(g_rmdir(path), ==, 0);
        } else
                g_assert_cmpint(g_unlink(path), ==, 0);
}

static void fixture_set_dir(Fixture *f, const char *relative) {
        g_free(f->dir);
        g_free(f->db_path);
        f->dir = g_build_filename(f->tmp, relative, NULL);
        f->db_path = g_build_filename(f->dir, STORE_DATABASE_NAME, NULL);
}

static void setup_tmp(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;

        *f = (Fixture) {};
        f->tmp = g_dir_make_tmp("test-store-XXXXXX", &error);
        g_assert_no_error(error);
        fixture_set_dir(f, "state");
}

static void setup_open(Fixture *f, gconstpointer data) {
        setup_tmp(f, data);
        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_nonnull(f->store);
}

static void teardown(Fixture *f, gconstpointer data) {
        store_close(f->store);
        rm_rf(f->tmp);
        g_free(f->tmp);
        g_free(f->dir);
        g_free(f->db_path);
}

static void reopen(Fixture *f) {
        f->store = store_close(f->store);
        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
}

static Model *load(Fixture *f) {
        Model *m = model_new(LOCAL_NAME);

        g_assert_nonnull(m);
        g_assert_cmpint(store_load(f->store, m), ==, 0);
        return m;
}

/* A second connection, as an administrator's sqlite3 shell would have. */
static sqlite3 *raw_open(const char *path) {
        sqlite3 *db = NULL;

        g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), ==, SQLITE_OK);
        return db;
}

static void raw_exec(const char *path, const char *sql) {
        sqlite3 *db = raw_open(path);

        g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
}

static int64_t raw_int(const char *path, const char *sql) {
        sqlite3 *db = raw_open(path);
        sqlite3_stmt *st = NULL;
        int64_t v;

        g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
        return v;
}

static char *raw_text(const char *path, const char *sql) {
        sqlite3 *db = raw_open(path);
        sqlite3_stmt *st = NULL;
        char *v;

        g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        v = g_strdup((const char *) sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
        return v;
}

static mode_t file_mode(const char *path) {
        struct stat st;

        g_assert_cmpint(stat(path, &st), ==, 0);
        return st.st_mode & 07777;
}

static void set_string(char **p, const char *v) {
        g_assert_cmpint(free_and_strdup(p, v), ==, 0);
}

static System *make_system(uint64_t id) {
        System *x = system_new();

        g_assert_nonnull(x);
        x->id = id;
        set_string(&x->name, "iqn.2001-04.com.example:peer-ü");
        set_string(&x->element_name, "Pëer — 東京 🚀");
        x->reachable = REACHABLE_NO;
        x->last_verified = UINT64_MAX;  /* every bit of an unsigned value survives */
        return x;
}

static void assert_system_equal(const System *a, const System *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->name, ==, b->name);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpint(a->reachable, ==, b->reachable);
        g_assert_cmpuint(a->last_verified, ==, b->last_verified);
}

static AccessPoint *make_access_point(uint64_t id, uint64_t system_id) {
        AccessPoint *x = access_point_new();

        g_assert_nonnull(x);
        x->id = id;
        x->system_id = system_id;
        set_string(&x->element_name, "Portal « ünïcode »");
        set_string(&x->address, "fd00::1");
        x->port = 65535;
        set_string(&x->target_name, "iqn.2001-04.com.example:target-0");
        x->portal_group_tag = 7;
        x->secret_id = 42;
        x->reachable = REACHABLE_YES;
        x->last_verified = UINT64_C(1700000000123456);
        set_string(&x->last_error, "Connection refused — ошибка");
        x->last_error_reason = REASON_REFUSED;
        return x;
}

static void assert_access_point_equal(const AccessPoint *a, const AccessPoint *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpuint(a->system_id, ==, b->system_id);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpstr(a->address, ==, b->address);
        g_assert_cmpuint(a->port, ==, b->port);
        g_assert_cmpstr(a->target_name, ==, b->target_name);
        g_assert_cmpuint(a->portal_group_tag, ==, b->portal_group_tag);
        g_assert_cmpuint(a->secret_id, ==, b->secret_id);
        g_assert_cmpint(a->reachable, ==, b->reachable);
        g_assert_cmpuint(a->last_verified, ==, b->last_verified);
        g_assert_cmpstr(a->last_error, ==, b->last_error);
        g_assert_cmpint(a->last_error_reason, ==, b->last_error_reason);
}

static SharedSecret *make_secret(uint64_t id, uint64_t access_point_id) {
        SharedSecret *x = secret_new();

        g_assert_nonnull(x);
        x->id = id;
        x->access_point_id = access_point_id;
        set_string(&x->username, "chap-üser");
        set_string(&x->secret, "s3cr3t-ß-0123456789");
        set_string(&x->mutual_username, "target-user");
        set_string(&x->mutual_secret, "mutual-秘密-secret");
        return x;
}

static void assert_secret_equal(const SharedSecret *a, const SharedSecret *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpuint(a->access_point_id, ==, b->access_point_id);
        g_assert_cmpstr(a->username, ==, b->username);
        g_assert_cmpstr(a->secret, ==, b->secret);
        g_assert_cmpstr(a->mutual_username, ==, b->mutual_username);
        g_assert_cmpstr(a->mutual_secret, ==, b->mutual_secret);
}

static Collection *make_collection(uint64_t id) {
        Collection *x = collection_new();

        g_assert_nonnull(x);
        x->id = id;
        set_string(&x->element_name, "Réplication 🗄");
        x->active = true;
        x->delete_on_unassociated = true;
        x->job_id = 99;
        g_assert_cmpint(idset_add(&x->local_access_points, 3), ==, 1);
        g_assert_cmpint(idset_add(&x->local_access_points, 4), ==, 1);
        g_assert_cmpint(idset_add(&x->remote_access_points, 5), ==, 1);
        g_assert_cmpint(idset_add(&x->remote_systems, 2), ==, 1);
        g_assert_cmpint(idset_add(&x->remote_systems, 6), ==, 1);
        return x;
}

static void assert_collection_equal(const Collection *a, const Collection *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpint(a->active, ==, b->active);
        g_assert_cmpint(a->delete_on_unassociated, ==, b->delete_on_unassociated);
        g_assert_true(idset_equal(&a->local_access_points, &b->local_access_points));
        g_assert_true(idset_equal(&a->remote_access_points, &b->remote_access_points));
        g_assert_true(idset_equal(&a->remote_systems, &b->remote_systems));
}

static Job *make_job(uint64_t id) {
        Job *x = job_new();

        g_assert_nonnull(x);
        x->id = id;
        set_string(&x->name, "AddToRemoteReplicationCollection");
        x->state = JOB_STATE_EXCEPTION;
        set_string(&x->status, "Verifying fd00::1:3260 — étape 2");
        x->percent_complete = 57;
        x->expected_end_time = UINT64_C(1700000000000001);
        x->time_submitted = UINT64_C(1700000000000002);
        x->start_time = UINT64_C(1700000000000003);
        x->time_of_last_state_change = UINT64_C(1700000000000004);
        x->delete_on_completion = false;
        x->time_before_removal = UINT64_C(600000000);
        x->error_code = CIM_TIMEOUT;
        set_string(&x->error_description, "No answer from fd00::1:3260 — délai dépassé.");
        set_string(&x->error_source, SERVICE_ROOT_PATH "/access_point/5");
        x->error_type = CIM_ERROR_TYPE_COMMUNICATIONS;
        x->error_reason = REASON_TIMEOUT;
        x->started_by_uid = UINT32_MAX;
        set_string(&x->owner, ":1.42 (uid 1000)");
        g_assert_cmpint(strv_extend(&x->affected_elements, SERVICE_ROOT_PATH "/collection/4"), ==, 0);
        g_assert_cmpint(strv_extend(&x->affected_elements, SERVICE_ROOT_PATH "/access_point/5"), ==, 0);
        g_assert_cmpint(strv_extend(&x->affected_elements, SERVICE_ROOT_PATH "/system/6"), ==, 0);
        x->collection_id = 4;
        x->runtime = x;         /* any non-NULL pointer: it must not come back */
        return x;
}

static void assert_job_equal(const Job *a, const Job *b) {
        size_t n = strv_length(a->affected_elements);

        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->name, ==, b->name);
        g_assert_cmpint(a->state, ==, b->state);
        g_assert_cmpstr(a->status, ==, b->status);
        g_assert_cmpuint(a->percent_complete, ==, b->percent_complete);
        g_assert_cmpuint(a->expected_end_time, ==, b->expected_end_time);
        g_assert_cmpuint(a->time_submitted, ==, b->time_submitted);
        g_assert_cmpuint(a->start_time, ==, b->start_time);
        g_assert_cmpuint(a->time_of_last_state_change, ==, b->time_of_last_state_change);
        g_assert_cmpint(a->delete_on_completion, ==, b->delete_on_completion);
        g_assert_cmpuint(a->time_before_removal, ==, b->time_before_removal);
        g_assert_cmpuint(a->error_code, ==, b->error_code);
        g_assert_cmpstr(a->error_description, ==, b->error_description);
        g_assert_cmpstr(a->error_source, ==, b->error_source);
        g_assert_cmpuint(a->error_type, ==, b->error_type);
        g_assert_cmpint(a->error_reason, ==, b->error_reason);
        g_assert_cmpuint(a->started_by_uid, ==, b->started_by_uid);
        g_assert_cmpstr(a->owner, ==, b->owner);
        g_assert_cmpuint(a->collection_id, ==, b->collection_id);
        g_assert_nonnull(b->affected_elements);
        g_assert_cmpuint(strv_length(b->affected_elements), ==, n);
        for (size_t i = 0; i < n; i++)
                g_assert_cmpstr(a->affected_elements[i], ==, b->affected_elements[i]);
}

/* One object of every kind, ids 2 to 6, saved in one transaction. */
typedef struct Objects {
        System *system;
        AccessPoint *local_ap, *remote_ap;
        SharedSecret *secret;
        Collection *collection;
        Job *job;
} Objects;

static Objects make_objects(void) {
        Objects o = {
                .system = make_system(2),
                .local_ap = make_access_point(3, LOCAL_SYSTEM_ID),
                .remote_ap = make_access_point(5, 2),
                .secret = make_secret(7, 5),
                .collection = make_collection(4),
                .job = make_job(6),
        };

        set_string(&o.local_ap->address, "192.0.2.1");
        set_string(&o.local_ap->target_name, "");
        o.local_ap->secret_id = 0;
        o.local_ap->reachable = REACHABLE_UNKNOWN;
        return o;
}

static void objects_free(Objects *o) {
        system_free(o->system);
        access_point_free(o->local_ap);
        access_point_free(o->remote_ap);
        secret_free(o->secret);
        collection_free(o->collection);
        job_free(o->job);
}

static void save_objects(Store *s, const Objects *o) {
        g_assert_cmpint(store_save_system(s, o->system), ==, 0);
        g_assert_cmpint(store_save_access_point(s, o->local_ap), ==, 0);
        g_assert_cmpint(store_save_access_point(s, o->remote_ap), ==, 0);
        g_assert_cmpint(store_save_secret(s, o->secret), ==, 0);
        g_assert_cmpint(store_save_collection(s, o->collection), ==, 0);
        g_assert_cmpint(store_save_job(s, o->job), ==, 0);
        g_assert_cmpint(store_save_next_id(s, 8), ==, 0);
}

static void assert_objects_loaded(const Model *m, const Objects *o) {
        g_assert_cmpuint(m->systems.n, ==, 2);
        g_assert_cmpuint(m->access_points.n, ==, 2);
        g_assert_cmpuint(m->secrets.n, ==, 1);
        g_assert_cmpuint(m->collections.n, ==, 1);
        g_assert_cmpuint(m->jobs.n, ==, 1);
        g_assert_cmpstr(model_get_system(m, LOCAL_SYSTEM_ID)->name, ==, LOCAL_NAME);
        assert_system_equal(o->system, model_get_system(m, 2));
        assert_access_point_equal(o->local_ap, model_get_access_point(m, 3));
        assert_access_point_equal(o->remote_ap, model_get_access_point(m, 5));
        assert_secret_equal(o->secret, model_get_secret(m, 7));
        assert_collection_equal(o->collection, model_get_collection(m, 4));
        assert_job_equal(o->job, model_get_job(m, 6));
        g_assert_cmpuint(m->next_id, ==, 8);
}

static void assert_model_empty(const Model *m) {
        g_assert_cmpuint(m->systems.n, ==, 1);
        g_assert_cmpuint(m->access_points.n, ==, 0);
        g_assert_cmpuint(m->secrets.n, ==, 0);
        g_assert_cmpuint(m->collections.n, ==, 0);
        g_assert_cmpuint(m->jobs.n, ==, 0);
        g_assert_cmpuint(m->next_id, ==, 1);
}

static void test_open_creates_directory(Fixture *f, gconstpointer data) {
        g_autofree char *parent = g_build_filename(f->tmp, "a", NULL);

        fixture_set_dir(f, "a/b/state");
        g_assert_false(g_file_test(parent, G_FILE_TEST_EXISTS));

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_true(g_file_test(f->dir, G_FILE_TEST_IS_DIR));
        g_assert_cmpuint(file_mode(parent), ==, 0700);
        g_assert_cmpuint(file_mode(f->dir), ==, 0700);
        g_assert_cmpuint(file_mode(f->db_path), ==, 0600);
}

static void test_open_existing_directory(Fixture *f, gconstpointer data) {
        g_assert_cmpint(g_mkdir(f->dir, 0750), ==, 0);
        g_assert_cmpint(g_chmod(f->dir, 0750), ==, 0);   /* whatever the umask */

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        /* A directory that exists (say, from StateDirectory=) is left as it is. */
        g_assert_cmpuint(file_mode(f->dir), ==, 0750);
        g_assert_cmpuint(file_mode(f->db_path), ==, 0600);
}

static void test_open_file_modes_ignore_umask(Fixture *f, gconstpointer data) {
        g_autofree char *wal = g_strconcat(f->db_path, "-wal", NULL);
        g_autofree char *shm = g_strconcat(f->db_path, "-shm", NULL);
        System *x = make_system(2);
        mode_t old = umask(0);

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        umask(old);

        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        g_assert_cmpuint(file_mode(f->dir), ==, 0700);
        g_assert_cmpuint(file_mode(f->db_path), ==, 0600);
        g_assert_cmpuint(file_mode(wal), ==, 0600);
        g_assert_cmpuint(file_mode(shm), ==, 0600);
        system_free(x);
}

static void test_open_tightens_file_mode(Fixture *f, gconstpointer data) {
        int fd;

        g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
        fd = open(f->db_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fchmod(fd, 0644), ==, 0);
        close(fd);

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_cmpuint(file_mode(f->db_path), ==, 0600);
}

static void test_open_refuses_symlink(Fixture *f, gconstpointer data) {
        g_autofree char *target = g_build_filename(f->tmp, "elsewhere.db", NULL);
        Store *s = (Store *) 0x1;

        g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
        g_assert_cmpint(symlink(target, f->db_path), ==, 0);

        g_assert_cmpint(store_open(f->dir, &s), ==, -ELOOP);
        g_assert_true(s == (Store *) 0x1);
        g_assert_false(g_file_test(target, G_FILE_TEST_EXISTS));
}

static void test_open_not_a_directory(Fixture *f, gconstpointer data) {
        Store *s = (Store *) 0x1;

        g_assert_true(g_file_set_contents(f->dir, "", 0, NULL));
        g_assert_cmpint(store_open(f->dir, &s), ==, -ENOTDIR);
        g_assert_true(s == (Store *) 0x1);
}

static void test_open_not_a_database(Fixture *f, gconstpointer data) {
        g_autofree char *garbage = g_strnfill(4096, 'x');
        Store *s = (Store *) 0x1;

        g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
        g_assert_true(g_file_set_contents(f->db_path, garbage, 4096, NULL));
        g_assert_cmpint(store_open(f->dir, &s), ==, -EIO);
        g_assert_true(s == (Store *) 0x1);
}

static void test_open_settings(Fixture *f, gconstpointer data) {
        StoreSettings settings;

        g_assert_cmpint(store_get_settings(f->store, &settings), ==, 0);
        g_assert_cmpstr(settings.journal_mode, ==, "wal");
        g_assert_cmpint(settings.synchronous, ==, 2);
        g_assert_true(settings.foreign_keys);
        g_assert_true(settings.secure_delete);
}

static void test_open_schema_version(Fixture *f, gconstpointer data) {
        int version = -1;

        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
        g_assert_cmpint(raw_int(f->db_path, "PRAGMA user_version"), ==, STORE_SCHEMA_VERSION);
}

static void test_open_refuses_newer_version(Fixture *f, gconstpointer data) {
        g_autofree char *sql = g_strdup_printf("CREATE TABLE future (x); PRAGMA user_version = %d;",
                                               STORE_SCHEMA_VERSION + 1);
        g_autofree char *journal = NULL;
        Store *s = (Store *) 0x1;

        g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
        raw_exec(f->db_path, sql);

        g_assert_cmpint(store_open(f->dir, &s), ==, -EPROTONOSUPPORT);
        g_assert_true(s == (Store *) 0x1);

        /* Refused before anything was written: still the newer version, not switched to WAL. */
        g_assert_cmpint(raw_int(f->db_path, "PRAGMA user_version"), ==, STORE_SCHEMA_VERSION + 1);
        journal = raw_text(f->db_path, "PRAGMA journal_mode");
        g_assert_cmpstr(journal, ==, "delete");
}

static void test_open_migrates_version_0(Fixture *f, gconstpointer data) {
        System *x = make_system(2);
        Model *m;
        int version = -1;

        g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
        /* A real database file with a header, but no schema of ours yet. */
        raw_exec(f->db_path, "CREATE TABLE scratch (x); DROP TABLE scratch;");
        g_assert_cmpint(raw_int(f->db_path, "PRAGMA user_version"), ==, 0);

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
        g_assert_cmpint(raw_int(f->db_path, "SELECT next_id FROM meta"), ==, 1);

        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        m = load(f);
        assert_system_equal(x, model_get_system(m, 2));
        model_free(m);
        system_free(x);
}

/* Inserts a finished job row of a version-1 database. */
static void raw_insert_v1_job(const char *path, uint64_t id, int state, int error_code, const char *description) {
        g_autofree char *sql = g_strdup_printf(
                "INSERT INTO jobs (id, name, state, status, percent_complete, expected_end_time, time_submitted, "
                "start_time, time_of_last_state_change, delete_on_completion, time_before_removal, error_code, "
                "error_description, error_source, error_type, started_by_uid, owner, affected_elements, "
                "collection_id) VALUES (%" G_GUINT64_FORMAT ", 'Verify', %d, '', 0, 0, 1, 1, 1, 0, 0, %d, '%s', "
                "'/', 0, 0, '', '', 0);", id, state, error_code, description);

        raw_exec(path, sql);
}

/* Version 1 had no reasons: version 2 adds them, recovering what the old rows tell. */
static void test_open_migrates_version_1(Fixture *f, gconstpointer data) {
        AccessPoint *ap = make_access_point(20, 2);
        Model *m;
        int version = -1;

        /* A version-1 database: today's schema without the reason columns. */
        g_assert_cmpint(store_save_access_point(f->store, ap), ==, 0);
        f->store = store_close(f->store);
        raw_exec(f->db_path, "DROP TABLE chunk_hashes; DROP TABLE synchronizations; DROP TABLE volumes;"
                             "ALTER TABLE jobs DROP COLUMN message_id;"
                             "ALTER TABLE access_points DROP COLUMN last_error_id;"
                             "PRAGMA user_version = 1;");
        raw_insert_v1_job(f->db_path, 30, JOB_STATE_COMPLETED, 0, "");
        raw_insert_v1_job(f->db_path, 31, JOB_STATE_TERMINATED, 0, "Terminated at the request of uid 0.");
        raw_insert_v1_job(f->db_path, 32, JOB_STATE_KILLED, 0, "Killed at the request of uid 0.");
        raw_insert_v1_job(f->db_path, 33, JOB_STATE_EXCEPTION, 4, "Interrupted: the service stopped.");
        raw_insert_v1_job(f->db_path, 34, JOB_STATE_EXCEPTION, 3, "No answer.");
        raw_insert_v1_job(f->db_path, 35, JOB_STATE_EXCEPTION, 4, "Connection refused.");

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
        m = load(f);
        g_assert_cmpint(model_get_access_point(m, 20)->last_error_reason, ==, REASON_NONE);
        g_assert_cmpstr(model_get_access_point(m, 20)->last_error, ==, ap->last_error);
        g_assert_cmpint(model_get_job(m, 30)->error_reason, ==, REASON_NONE);
        g_assert_cmpint(model_get_job(m, 31)->error_reason, ==, REASON_TERMINATED);
        g_assert_cmpint(model_get_job(m, 32)->error_reason, ==, REASON_KILLED);
        g_assert_cmpint(model_get_job(m, 33)->error_reason, ==, REASON_INTERRUPTED);
        g_assert_cmpint(model_get_job(m, 34)->error_reason, ==, REASON_TIMEOUT);
        g_assert_cmpint(model_get_job(m, 35)->error_reason, ==, REASON_NONE);
        model_free(m);

        /* And the new columns take what is saved from now on. */
        ap->last_error_reason = REASON_SYSTEM_NOT_OFFERED;
        g_assert_cmpint(store_save_access_point(f->store, ap), ==, 0);
        m = load(f);
        assert_access_point_equal(ap, model_get_access_point(m, 20));
        model_free(m);
        access_point_free(ap);
}

/* Whether SQLite's program for writing a member row builds a temporary table (OpenEphemeral). */
static bool member_insert_builds_temporary_table(const char *path) {
        sqlite3 *db = raw_open(path);
        sqlite3_stmt *st = NULL;
        bool found = false;

        g_assert_cmpint(sqlite3_prepare_v2(db, "EXPLAIN INSERT OR IGNORE INTO collection_members "
                                               "(collection_id, kind, member_id) VALUES (?1, ?2, ?3)",
                                           -1, &st, NULL), ==, SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW)
                found = found || g_strcmp0((const char *) sqlite3_column_text(st, 1), "OpenEphemeral") == 0;
        sqlite3_finalize(st);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
        return found;
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

/* Version 3 checked a member's kind with IN; version 4 keeps the rows and drops the temporary table. */
static void test_open_migrates_version_3(Fixture *f, gconstpointer data) {
        Collection *x = make_collection(4);
        int version = -1;
        Model *m;

        g_assert_cmpint(store_save_collection(f->store, x), ==, 0);
        f->store = store_close(f->store);
        raw_exec(f->db_path,
                 "CREATE TABLE members_v3 ("
                 "        collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,"
                 "        kind TEXT NOT NULL CHECK (kind IN ('local', 'remote', 'system')),"
                 "        member_id INTEGER NOT NULL,"
                 "        PRIMARY KEY (collection_id, kind, member_id)"
                 ") WITHOUT ROWID;"
                 "INSERT INTO members_v3 SELECT * FROM collection_members;"
                 "DROP TABLE collection_members;"
                 "ALTER TABLE members_v3 RENAME TO collection_members;"
                 "PRAGMA user_version = 3;");
        g_assert_true(member_insert_builds_temporary_table(f->db_path));

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
        g_assert_false(member_insert_builds_temporary_table(f->db_path));
        m = load(f);
        assert_collection_equal(x, model_get_collection(m, 4));
        model_free(m);

        /* Deleting the collection still takes its member rows along. */
        g_assert_cmpint(store_delete_collection(f->store, 4), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 0);
        collection_free(x);
}

static void test_open_migrates_empty_file(Fixture *f, gconstpointer data) {
        int version = -1;

        g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
        g_assert_true(g_file_set_contents(f->db_path, "", 0, NULL));

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
}

static void test_open_reopen_keeps_version(Fixture *f, gconstpointer data) {
        int version = -1;

        reopen(f);
        reopen(f);
        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
}

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

static void test_delete_every_kind(Fixture *f, gconstpointer data) {
        Objects o = make_objects();
        Model *m;

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_delete_system(f->store, 2), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 3), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 5), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 7), ==, 0);
        g_assert_cmpint(store_delete_collection(f->store, 4), ==, 0);
        g_assert_cmpint(store_delete_job(f->store, 6), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        /* Absent rows: nothing to do, and no error. */
        g_assert_cmpint(store_delete_system(f->store, 2), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 1000), ==, 0);
        g_assert_cmpint(store_delete_secret(f->store, 1000), ==, 0);
        g_assert_cmpint(store_delete_collection(f->store, 1000), ==, 0);
        g_assert_cmpint(store_delete_job(f->store, 1000), ==, 0);

        reopen(f);
        m = load(f);
        g_assert_cmpuint(m->systems.n, ==, 1);
        g_assert_cmpuint(m->access_points.n, ==, 0);
        g_assert_cmpuint(m->secrets.n, ==, 0);
        g_assert_cmpuint(m->collections.n, ==, 0);
        g_assert_cmpuint(m->jobs.n, ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 0);
        /* Ids of deleted objects are not handed out again. */
        g_assert_cmpuint(m->next_id, ==, 8);
        model_free(m);
        objects_free(&o);
}

static void test_transaction_commit_reopen(Fixture *f, gconstpointer data) {
        Objects o = make_objects();
        Model *m;

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        reopen(f);
        m = load(f);
        assert_objects_loaded(m, &o);
        model_free(m);
        objects_free(&o);
}

static void test_transaction_rollback(Fixture *f, gconstpointer data) {
        Objects o = make_objects();
        Model *m;

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_save_next_id(f->store, 500), ==, 0);
        store_rollback(f->store);

        m = load(f);
        assert_model_empty(m);
        model_free(m);

        reopen(f);
        m = load(f);
        assert_model_empty(m);
        model_free(m);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM collection_members"), ==, 0);
        objects_free(&o);
}

static void test_transaction_rollback_of_changes(Fixture *f, gconstpointer data) {
        Objects o = make_objects();
        Model *m;

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        g_assert_cmpint(store_commit(f->store), ==, 0);

        /* Replacing, deleting and rewriting members, then changing one's mind. */
        g_assert_cmpint(store_begin(f->store), ==, 0);
        set_string(&o.system->element_name, "changed");
        g_assert_cmpint(store_save_system(f->store, o.system), ==, 0);
        g_assert_cmpint(store_delete_access_point(f->store, 3), ==, 0);
        g_assert_cmpint(store_delete_job(f->store, 6), ==, 0);
        idset_clear(&o.collection->remote_systems);
        g_assert_cmpint(store_save_collection(f->store, o.collection), ==, 0);
        store_rollback(f->store);

        objects_free(&o);
        o = make_objects();
        m = load(f);
        assert_objects_loaded(m, &o);
        model_free(m);
        objects_free(&o);
}

static void test_transaction_lost_on_close(Fixture *f, gconstpointer data) {
        Objects o = make_objects();
        Model *m;

        g_assert_cmpint(store_begin(f->store), ==, 0);
        save_objects(f->store, &o);
        reopen(f);

        m = load(f);
        assert_model_empty(m);
        model_free(m);
        objects_free(&o);
}

static void test_transaction_nested_begin(Fixture *f, gconstpointer data) {
        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_begin(f->store), ==, -EBUSY);
        store_rollback(f->store);
        /* Rolling back with nothing open is harmless. */
        store_rollback(f->store);
        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, -EIO);
}

static void test_transaction_visible_to_others_only_after_commit(Fixture *f, gconstpointer data) {
        System *x = make_system(2);

        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM systems"), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT COUNT(*) FROM systems"), ==, 1);
        system_free(x);
}

static void test_next_id_fresh(Fixture *f, gconstpointer data) {
        Model *m = load(f);

        g_assert_cmpuint(m->next_id, ==, 1);
        model_free(m);
}

static void test_next_id_max_rule(Fixture *f, gconstpointer data) {
        Job *x = job_new();
        Model *m;

        /* Stored next id below the largest id: the ids win. */
        x->id = 20;
        g_assert_cmpint(store_save_job(f->store, x), ==, 0);
        g_assert_cmpint(store_save_next_id(f->store, 10), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->next_id, ==, 21);
        model_free(m);

        /* Stored next id above: it wins, also after a reopen. */
        g_assert_cmpint(store_save_next_id(f->store, 100), ==, 0);
        reopen(f);
        m = load(f);
        g_assert_cmpuint(m->next_id, ==, 100);
        model_free(m);

        /* A stale, smaller value never takes the stored one back. */
        g_assert_cmpint(store_save_next_id(f->store, 50), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->next_id, ==, 100);
        model_free(m);

        g_assert_cmpint(store_save_next_id(f->store, (uint64_t) INT64_MAX + 1), ==, -ERANGE);
        job_free(x);
}

static void test_next_id_load_into_used_model(Fixture *f, gconstpointer data) {
        System *x = make_system(2);
        Model *m = model_new(LOCAL_NAME);

        g_assert_cmpint(store_save_system(f->store, x), ==, 0);
        /* A model that already holds that id: the clash is reported, not papered over. */
        g_assert_cmpint(model_add_system(m, make_system(2)), ==, 0);
        g_assert_cmpint(store_load(f->store, m), ==, -EEXIST);
        model_free(m);
        system_free(x);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define ADD(path, setup, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/store/open/creates-directory", setup_tmp, test_open_creates_directory);
        ADD("/store/open/existing-directory", setup_tmp, test_open_existing_directory);
        ADD("/store/open/file-modes-ignore-umask", setup_tmp, test_open_file_modes_ignore_umask);
        ADD("/store/open/tightens-file-mode", setup_tmp, test_open_tightens_file_mode);
        ADD("/store/open/refuses-symlink", setup_tmp, test_open_refuses_symlink);
        ADD("/store/open/not-a-directory", setup_tmp, test_open_not_a_directory);
        ADD("/store/open/not-a-database", setup_tmp, test_open_not_a_database);
        ADD("/store/open/settings", setup_open, test_open_settings);
        ADD("/store/open/schema-version", setup_open, test_open_schema_version);
        ADD("/store/open/refuses-newer-version", setup_tmp, test_open_refuses_newer_version);
        ADD("/store/open/migrates-version-0", setup_tmp, test_open_migrates_version_0);
        ADD("/store/open/migrates-empty-file", setup_tmp, test_open_migrates_empty_file);
        ADD("/store/open/migrates-version-1", setup_open, test_open_migrates_version_1);
        ADD("/store/open/migrates-version-3", setup_open, test_open_migrates_version_3);
        ADD("/store/open/reopen-keeps-version", setup_open, test_open_reopen_keeps_version);
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
        ADD("/store/delete/every-kind", setup_open, test_delete_every_kind);
        ADD("/store/transaction/commit-reopen", setup_open, test_transaction_commit_reopen);
        ADD("/store/transaction/rollback", setup_open, test_transaction_rollback);
        ADD("/store/transaction/rollback-of-changes", setup_open, test_transaction_rollback_of_changes);
        ADD("/store/transaction/lost-on-close", setup_open, test_transaction_lost_on_close);
        ADD("/store/transaction/nested-begin", setup_open, test_transaction_nested_begin);
        ADD("/store/transaction/isolated-until-commit", setup_open,
            test_transaction_visible_to_others_only_after_commit);
        ADD("/store/secret/erased-at-commit", setup_open, test_secret_erased_at_commit);
        ADD("/store/next-id/fresh", setup_open, test_next_id_fresh);
        ADD("/store/next-id/max-rule", setup_open, test_next_id_max_rule);
        ADD("/store/load/id-clash", setup_open, test_next_id_load_into_used_model);
#undef ADD

        return g_test_run();
}
