/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The committer tests' world (committer-fixture.h). */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "committer-fixture.h"

/* ---- the state as the next start would load it ---- */

Model *stored_model(Fixture *f) {
        return stored_model_of(f->dir, LOCAL_NAME);
}

bool stored_has(Fixture *f, ObjectKind kind, uint64_t id) {
        Model *m = stored_model(f);
        bool b = model_has(m, kind, id);

        model_free(m);
        return b;
}

bool stored_member(Fixture *f, uint64_t collection, uint64_t local) {
        Model *m = stored_model(f);
        bool b = idset_contains(&model_get_collection(m, collection)->local_access_points, local);

        model_free(m);
        return b;
}

/* ---- what was announced and replied ---- */

static void on_added(ObjectKind kind, uint64_t id, void *userdata) {
        Fixture *f = userdata;

        /* Announced objects are in the model already. */
        g_assert_true(model_has(f->engine->model, kind, id));
        g_string_append_printf(f->log, "added %s %" G_GUINT64_FORMAT "\n", object_kind_to_string(kind), id);
}

static void on_removed(ObjectKind kind, uint64_t id, void *userdata) {
        g_string_append_printf(((Fixture *) userdata)->log, "removed %s %" G_GUINT64_FORMAT "\n",
                               object_kind_to_string(kind), id);
}

static void on_changed(ObjectKind kind, uint64_t id, const char * const *properties, void *userdata) {
        g_autofree char *names = g_strjoinv(",", (char **) properties);

        g_string_append_printf(((Fixture *) userdata)->log, "changed %s %" G_GUINT64_FORMAT " %s\n",
                               object_kind_to_string(kind), id, names);
}

static void on_completed(const Job *j, void *userdata) {
        g_string_append_printf(((Fixture *) userdata)->log, "completed %" G_GUINT64_FORMAT "\n", j->id);
}

static void on_group_end(void *userdata) {
        Fixture *f = userdata;

        f->groups++;
        g_string_append(f->log, "group\n");
}

static const EngineObserver observer = {
        .object_added = on_added,
        .object_removed = on_removed,
        .properties_changed = on_changed,
        .job_completed = on_completed,
        .group_end = on_group_end,
};

void on_stored(int error, void *userdata) {
        Reply *r = userdata;

        g_assert_false(r->called);
        r->called = true;
        r->error = error;
        /* A reply that says stored means a restart would load the object. */
        if (error == 0 && r->kind != OBJECT_NONE)
                r->durable = stored_has(r->f, r->kind, r->id);
        g_string_append_printf(r->f->log, "stored %s %d\n", r->name, error);
}

Reply reply_new(Fixture *f, const char *name, ObjectKind kind, uint64_t id) {
        return (Reply) { .f = f, .name = name, .kind = kind, .id = id, .error = 1 };
}

/* Runs the loop until the reply came. */
static bool reply_came(void *userdata, uint64_t arg) {
        return ((Reply *) userdata)->called;
}

void wait_for(Fixture *f, Reply *r) {
        loop_run_until(f->event, reply_came, r, 0, r->name);
}

/* ---- changes ---- */

/* Each helper makes one change, which must be accepted, and waits for it with reply (may be NULL). */
uint64_t add_peer(Fixture *f, const char *name, Reply *reply) {
        uint64_t id = 0;

        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, name, "", &id, &f->err), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        if (reply) {
                *reply = reply_new(f, name, OBJECT_SYSTEM, id);
                g_assert_cmpint(engine_when_stored(f->engine, on_stored, reply), ==, 0);
        }
        return id;
}

int try_add_secret(Fixture *f, uint64_t *ret_id) {
        SecretSpec spec = { .username = "user", .secret = SECRET };

        return engine_add_secret(f->engine, &f->caller, NULL_PATH, &spec, ret_id, &f->err);
}

/* A secret bound to no access point: its call reads no system, so it does not commit a pending peer. */
uint64_t add_secret(Fixture *f, const char *name, Reply *reply) {
        uint64_t id = 0;

        g_assert_cmpint(try_add_secret(f, &id), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        if (reply) {
                *reply = reply_new(f, name, OBJECT_SECRET, id);
                g_assert_cmpint(engine_when_stored(f->engine, on_stored, reply), ==, 0);
        }
        return id;
}

uint64_t add_local(Fixture *f, uint16_t port) {
        AccessPointSpec spec = { .address = "127.0.0.1", .port = port, .target_name = "", .element_name = "" };
        uint64_t id = 0;

        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, &id, &f->err), ==, 0);
        return id;
}

void add_to(Fixture *f, uint64_t collection, uint64_t local, const char *name, Reply *reply) {
        MemberArgs a = members(STRV(PATH(OBJECT_ACCESS_POINT, local)), NULL, NULL);
        uint64_t job = UINT64_MAX;

        g_assert_cmpint(engine_add_to_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, collection), &a, &job,
                                                 &f->err), ==, 0);
        g_assert_cmpuint(job, ==, 0);
        *reply = reply_new(f, name, OBJECT_NONE, 0);
        g_assert_cmpint(engine_when_stored(f->engine, on_stored, reply), ==, 0);
}

bool is_member(Fixture *f, uint64_t collection, uint64_t local) {
        return idset_contains(&model_get_collection(f->engine->model, collection)->local_access_points, local);
}

/* ---- fixture ---- */

void engine_open(Fixture *f) {
        g_assert_cmpint(engine_new(f->event, f->dir, LOCAL_NAME, &f->config, &f->engine), ==, 0);
        engine_set_observer(f->engine, &observer, f);
        g_assert_cmpint(engine_recover(f->engine), ==, 0);
}

/* This host with three access points; c1 holds the first, c2 is empty. No change is pending after it. */
void setup(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        MemberArgs a = members(NULL, NULL, NULL);
        uint64_t job = 0;

        f->dir = g_dir_make_tmp("test-committer-XXXXXX", &error);
        g_assert_no_error(error);
        g_assert_cmpint(sd_event_new(&f->event), >=, 0);
        f->config = SERVICE_CONFIG_INIT;
        f->config.verify_access_points = false;
        if (data)
                f->config.max_finished_jobs = GPOINTER_TO_UINT(data);
        f->log = g_string_new(NULL);
        f->caller = (Caller) { .uid = 1000, .owner = ":1.42 (uid 1000)" };
        f->err = REPL_ERROR_INIT;
        engine_open(f);

        f->local1 = add_local(f, 3260);
        f->local2 = add_local(f, 3261);
        f->local3 = add_local(f, 3262);
        g_assert_cmpint(engine_create_collection(f->engine, &f->caller, "c2", &a, true, false, &f->c2, &job, &f->err),
                        ==, 0);
        a = members(STRV(PATH(OBJECT_ACCESS_POINT, f->local1)), NULL, NULL);
        g_assert_cmpint(engine_create_collection(f->engine, &f->caller, "c1", &a, true, false, &f->c1, &job, &f->err),
                        ==, 0);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_nonnull(model_get_collection(f->engine->model, f->c1));
        g_assert_nonnull(model_get_collection(f->engine->model, f->c2));
        g_string_truncate(f->log, 0);
        f->groups = 0;
}

void teardown(Fixture *f, gconstpointer data) {
        f->engine = engine_free(f->engine);
        g_string_free(f->log, TRUE);
        sd_event_unref(f->event);
        repl_error_clear(&f->err);
        state_dir_remove(f->dir);
        g_free(f->dir);
}

static bool job_is_finished(void *userdata, uint64_t id) {
        Job *j = model_get_job(((Fixture *) userdata)->engine->model, id);

        return j && job_state_is_finished(j->state);
}

/* Runs the loop until the job has ended; its end may still be waiting for its group's commit. */
void wait_job_ended(Fixture *f, uint64_t id) {
        loop_run_until(f->event, job_is_finished, f, id, "the job's end");
}
