/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store tests' fixture and objects (store-fixture.h). */

#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include "store-fixture.h"
#include "util/strutil.h"

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

void fixture_set_dir(Fixture *f, const char *relative) {
        g_free(f->dir);
        g_free(f->db_path);
        f->dir = g_build_filename(f->tmp, relative, NULL);
        f->db_path = g_build_filename(f->dir, STORE_DATABASE_NAME, NULL);
}

void setup_tmp(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;

        *f = (Fixture) {};
        f->tmp = g_dir_make_tmp("test-store-XXXXXX", &error);
        g_assert_no_error(error);
        fixture_set_dir(f, "state");
}

void setup_open(Fixture *f, gconstpointer data) {
        setup_tmp(f, data);
        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_nonnull(f->store);
}

void teardown(Fixture *f, gconstpointer data) {
        store_close(f->store);
        rm_rf(f->tmp);
        g_free(f->tmp);
        g_free(f->dir);
        g_free(f->db_path);
}

void reopen(Fixture *f) {
        f->store = store_close(f->store);
        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
}

Model *load(Fixture *f) {
        Model *m = model_new(LOCAL_NAME);

        g_assert_nonnull(m);
        g_assert_cmpint(store_load(f->store, m), ==, 0);
        return m;
}

/* A second connection, as an administrator's sqlite3 shell would have. */
sqlite3 *raw_open(const char *path) {
        sqlite3 *db = NULL;

        g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), ==, SQLITE_OK);
        return db;
}

void raw_exec(const char *path, const char *sql) {
        sqlite3 *db = raw_open(path);

        g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
}

int64_t raw_int(const char *path, const char *sql) {
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

char *raw_text(const char *path, const char *sql) {
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

mode_t file_mode(const char *path) {
        struct stat st;

        g_assert_cmpint(stat(path, &st), ==, 0);
        return st.st_mode & 07777;
}

void set_string(char **p, const char *v) {
        g_assert_cmpint(free_and_strdup(p, v), ==, 0);
}

System *make_system(uint64_t id) {
        System *x = system_new();

        g_assert_nonnull(x);
        x->id = id;
        set_string(&x->name, "iqn.2001-04.com.example:peer-ü");
        set_string(&x->element_name, "Pëer — 東京 🚀");
        x->reachable = REACHABLE_NO;
        x->last_verified = UINT64_MAX;  /* every bit of an unsigned value survives */
        return x;
}

int save_peer_system(Store *s, uint64_t id) {
        System *x = system_new();
        int r;

        g_assert_nonnull(x);
        x->id = id;
        set_string(&x->name, "iqn.2024-01.org.example:peer");
        r = store_save_system(s, x);
        system_free(x);
        return r;
}

void assert_system_equal(const System *a, const System *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->name, ==, b->name);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpint(a->reachable, ==, b->reachable);
        g_assert_cmpuint(a->last_verified, ==, b->last_verified);
}

AccessPoint *make_access_point(uint64_t id, uint64_t system_id) {
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

void assert_access_point_equal(const AccessPoint *a, const AccessPoint *b) {
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

SharedSecret *make_secret(uint64_t id, uint64_t access_point_id) {
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

void assert_secret_equal(const SharedSecret *a, const SharedSecret *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpuint(a->access_point_id, ==, b->access_point_id);
        g_assert_cmpstr(a->username, ==, b->username);
        g_assert_cmpstr(a->secret, ==, b->secret);
        g_assert_cmpstr(a->mutual_username, ==, b->mutual_username);
        g_assert_cmpstr(a->mutual_secret, ==, b->mutual_secret);
}

Collection *make_collection(uint64_t id) {
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

void assert_collection_equal(const Collection *a, const Collection *b) {
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpint(a->active, ==, b->active);
        g_assert_cmpint(a->delete_on_unassociated, ==, b->delete_on_unassociated);
        g_assert_true(idset_equal(&a->local_access_points, &b->local_access_points));
        g_assert_true(idset_equal(&a->remote_access_points, &b->remote_access_points));
        g_assert_true(idset_equal(&a->remote_systems, &b->remote_systems));
}

Job *make_job(uint64_t id) {
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

void assert_job_equal(const Job *a, const Job *b) {
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

Objects make_objects(void) {
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

void objects_free(Objects *o) {
        system_free(o->system);
        access_point_free(o->local_ap);
        access_point_free(o->remote_ap);
        secret_free(o->secret);
        collection_free(o->collection);
        job_free(o->job);
}

void save_objects(Store *s, const Objects *o) {
        g_assert_cmpint(store_save_system(s, o->system), ==, 0);
        g_assert_cmpint(store_save_access_point(s, o->local_ap), ==, 0);
        g_assert_cmpint(store_save_access_point(s, o->remote_ap), ==, 0);
        g_assert_cmpint(store_save_secret(s, o->secret), ==, 0);
        g_assert_cmpint(store_save_collection(s, o->collection), ==, 0);
        g_assert_cmpint(store_save_job(s, o->job), ==, 0);
        g_assert_cmpint(store_save_next_id(s, 8), ==, 0);
}

void assert_objects_loaded(const Model *m, const Objects *o) {
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

void assert_model_empty(const Model *m) {
        g_assert_cmpuint(m->systems.n, ==, 1);
        g_assert_cmpuint(m->access_points.n, ==, 0);
        g_assert_cmpuint(m->secrets.n, ==, 0);
        g_assert_cmpuint(m->collections.n, ==, 0);
        g_assert_cmpuint(m->jobs.n, ==, 0);
        g_assert_cmpuint(m->next_id, ==, 1);
}

/* Whether SQLite's program for writing a member row builds a temporary table (OpenEphemeral). */
bool member_insert_builds_temporary_table(const char *path) {
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

