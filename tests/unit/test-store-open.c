/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SQLite store's file, before any object: the modes of the directory
 * and of the files whatever the umask, what it refuses to open (a link, a
 * file that is no directory or no database, a newer schema), the connection
 * settings, and the migration of every older schema version.
 */

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-fixture.h"

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
#undef ADD

        return g_test_run();
}
