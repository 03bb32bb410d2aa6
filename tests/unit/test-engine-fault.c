/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: a change the store could not take changes nothing. Every kind of
 * change is made while the store fails each of the change's row writes in
 * turn, its group's commit, and the log sync of that commit
 * (store_fault_arm(), the hook of the store that ships). A row write that
 * fails fails the call at once with -EIO; a commit or sync that fails fails
 * the group at engine_flush(), and the call's engine_when_stored() learns
 * it. Either way the model is as before, nothing is announced, and the
 * store holds what it held, also after a restart of the engine. A job whose
 * final commit fails ends in Exception with its result not applied; a
 * retention removal that cannot be stored leaves the job listed.
 *
 * Jobs probe a listening socket on 127.0.0.2; nothing leaves 127.0.0.0/8.
 * Waits run the event loop under a watchdog and never sleep.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/reason.h"
#include "unit-util.h"
#include "engine/engine.h"
#include "util/strutil.h"

#define LOCAL_NAME "iqn.2024-01.org.example:host"
#define PEER_NAME "iqn.2024-01.org.example:peer"
#define LISTEN_ADDRESS "127.0.0.2"
#define SECRET "0123456789ab"

typedef struct Fixture {
        char *dir;
        sd_event *event;
        ServiceConfig config;
        Engine *engine;
        GString *notes;         /* what the bus layer would have announced, one line each */
        Caller caller;
        ReplError err;
        int listen_fd;
        uint16_t listen_port;

        uint64_t local1, local2, peer, remote, secret, collection, job;
} Fixture;

/* ---- what was announced ---- */

static void on_added(ObjectKind kind, uint64_t id, void *userdata) {
        g_string_append_printf(((Fixture *) userdata)->notes, "added %d %" G_GUINT64_FORMAT "\n", kind, id);
}

static void on_removed(ObjectKind kind, uint64_t id, void *userdata) {
        g_string_append_printf(((Fixture *) userdata)->notes, "removed %d %" G_GUINT64_FORMAT "\n", kind, id);
}

static void on_changed(ObjectKind kind, uint64_t id, const char * const *properties, void *userdata) {
        g_autofree char *names = g_strjoinv(",", (char **) properties);

        g_string_append_printf(((Fixture *) userdata)->notes, "changed %d %" G_GUINT64_FORMAT " %s\n", kind, id,
                               names);
}

static void on_completed(const Job *j, void *userdata) {
        g_string_append_printf(((Fixture *) userdata)->notes, "completed %" G_GUINT64_FORMAT "\n", j->id);
}

static const EngineObserver observer = {
        .object_added = on_added,
        .object_removed = on_removed,
        .properties_changed = on_changed,
        .job_completed = on_completed,
};

/* ---- the state, as callers see it and as the next start would load it ---- */

static void dump_ids(GString *s, const IdSet *ids) {
        for (size_t i = 0; i < ids->n; i++)
                g_string_append_printf(s, "%s%" G_GUINT64_FORMAT, i ? "," : "", ids->ids[i]);
        g_string_append(s, "]");
}

static char *model_dump(const Model *m) {
        GString *s = g_string_new(NULL);

        MODEL_FOREACH(System, x, m->systems)
                if (x->id != LOCAL_SYSTEM_ID)
                        g_string_append_printf(s, "system %" G_GUINT64_FORMAT " %s %s reachable=%d/%" G_GUINT64_FORMAT
                                               "\n", x->id, x->name, x->element_name, x->reachable, x->last_verified);
        MODEL_FOREACH(AccessPoint, x, m->access_points)
                g_string_append_printf(s, "ap %" G_GUINT64_FORMAT " system=%" G_GUINT64_FORMAT " %s:%u secret=%"
                                       G_GUINT64_FORMAT " %s reachable=%d/%" G_GUINT64_FORMAT "/%s\n", x->id,
                                       x->system_id, x->address, x->port, x->secret_id, x->element_name, x->reachable,
                                       x->last_verified, x->last_error);
        MODEL_FOREACH(SharedSecret, x, m->secrets)
                g_string_append_printf(s, "secret %" G_GUINT64_FORMAT " ap=%" G_GUINT64_FORMAT " %s %s\n", x->id,
                                       x->access_point_id, x->username, x->secret);
        MODEL_FOREACH(Collection, x, m->collections) {
                g_string_append_printf(s, "collection %" G_GUINT64_FORMAT " %s active=%d doa=%d local=[", x->id,
                                       x->element_name, x->active, x->delete_on_unassociated);
                dump_ids(s, &x->local_access_points);
                g_string_append(s, " remote=[");
                dump_ids(s, &x->remote_access_points);
                g_string_append(s, " systems=[");
                dump_ids(s, &x->remote_systems);
                g_string_append(s, "\n");
        }
        MODEL_FOREACH(Job, x, m->jobs)
                g_string_append_printf(s, "job %" G_GUINT64_FORMAT " %s state=%d code=%u doc=%d tbr=%" G_GUINT64_FORMAT
                                       "\n", x->id, x->name, x->state, x->error_code, x->delete_on_completion,
                                       x->time_before_removal);
        return g_string_free(s, FALSE);
}

static char *stored_dump(Fixture *f) {
        Model *m = stored_model_of(f->dir, LOCAL_NAME);
        char *s = model_dump(m);

        model_free(m);
        return s;
}

/* ---- engine and loop ---- */

static void engine_open(Fixture *f) {
        g_assert_cmpint(engine_new(f->event, f->dir, LOCAL_NAME, &f->config, &f->engine), ==, 0);
        engine_set_observer(f->engine, &observer, f);
        g_assert_cmpint(engine_recover(f->engine), ==, 0);
}

static void engine_restart(Fixture *f) {
        f->engine = engine_free(f->engine);
        engine_open(f);
}

/* The job's completion was announced: its end is committed, or it failed and says so. */
static bool job_completed(void *userdata, uint64_t id) {
        const GString *notes = ((Fixture *) userdata)->notes;
        g_autofree char *line = g_strdup_printf("completed %" G_GUINT64_FORMAT "\n", id);
        const char *p = strstr(notes->str, line);

        return p && (p == notes->str || p[-1] == '\n');
}

static void wait_finished(Fixture *f, uint64_t id) {
        loop_run_until(f->event, job_completed, f, id, "the job's completion");
}

/* The call succeeded; its group is committed before the test goes on. */
static void assert_ok(Fixture *f, int r) {
        if (r < 0)
                g_error("%s", f->err.message);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
}

static uint64_t add_access_point(Fixture *f, uint64_t system, const char *address, uint16_t port) {
        AccessPointSpec spec = { .address = address, .port = port, .target_name = "", .element_name = "" };
        uint64_t id = 0;

        assert_ok(f, engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, system), &spec, &id, &f->err));
        g_assert_nonnull(model_get_access_point(f->engine->model, id));
        return id;
}

/* A job adding the peer's access point to the collection; verification is on for it. */
static uint64_t start_add_job(Fixture *f) {
        MemberArgs a = members(NULL, STRV(PATH(OBJECT_ACCESS_POINT, f->remote)), PATH(OBJECT_SYSTEM, f->peer));
        uint64_t id = 0;

        f->engine->config.verify_access_points = true;
        assert_ok(f, engine_add_to_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, f->collection), &a, &id,
                                              &f->err));
        f->engine->config.verify_access_points = false;
        g_assert_nonnull(model_get_job(f->engine->model, id));
        return id;
}

static uint64_t start_verify(Fixture *f) {
        uint64_t id = 0;

        assert_ok(f, engine_verify_access_point(f->engine, &f->caller, f->remote, &id, &f->err));
        g_assert_nonnull(model_get_job(f->engine->model, id));
        return id;
}

static uint64_t run_verify_job(Fixture *f) {
        uint64_t id = start_verify(f);

        assert_ok(f, engine_job_set_delete_on_completion(f->engine, &f->caller, id, false, &f->err));
        wait_finished(f, id);
        return id;
}

/*
 * This host with two access points; a peer with an access point that has a
 * secret; a collection holding the first local access point; a finished job.
 * Verification of new access points is off, so that only the calls that
 * start jobs start them.
 */
static void setup(Fixture *f, gconstpointer data) {
        SecretSpec secret = { .username = "user", .secret = SECRET };
        g_autoptr(GError) error = NULL;
        uint64_t job_id = UINT64_MAX;
        MemberArgs a;

        f->dir = g_dir_make_tmp("test-engine-fault-XXXXXX", &error);
        g_assert_no_error(error);
        g_assert_cmpint(sd_event_new(&f->event), >=, 0);
        f->config = SERVICE_CONFIG_INIT;
        f->config.verify_access_points = false;
        if (data)
                f->config.max_finished_jobs = GPOINTER_TO_UINT(data);
        f->notes = g_string_new(NULL);
        f->caller = (Caller) { .uid = 1000, .owner = ":1.42 (uid 1000)" };
        f->err = REPL_ERROR_INIT;

        f->listen_fd = socket_on(LISTEN_ADDRESS, &f->listen_port);
        g_assert_cmpint(listen(f->listen_fd, 64), ==, 0);

        engine_open(f);
        f->local1 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.1", 3260);
        f->local2 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.1", 3261);
        assert_ok(f, engine_add_peer_system(f->engine, &f->caller, PEER_NAME, "", &f->peer, &f->err));
        f->remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        assert_ok(f, engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, f->remote), &secret,
                                       &f->secret, &f->err));
        a = members(STRV(PATH(OBJECT_ACCESS_POINT, f->local1)), NULL, NULL);
        assert_ok(f, engine_create_collection(f->engine, &f->caller, "c", &a, true, false, &f->collection, &job_id,
                                              &f->err));
        g_assert_cmpuint(job_id, ==, 0);
        g_assert_nonnull(model_get_system(f->engine->model, f->peer));
        g_assert_nonnull(model_get_secret(f->engine->model, f->secret));
        g_assert_nonnull(model_get_collection(f->engine->model, f->collection));
        f->job = run_verify_job(f);
        g_assert_cmpint(model_get_job(f->engine->model, f->job)->state, ==, JOB_STATE_COMPLETED);
        g_string_truncate(f->notes, 0);
}

static void teardown(Fixture *f, gconstpointer data) {
        f->engine = engine_free(f->engine);
        close(f->listen_fd);
        g_string_free(f->notes, TRUE);
        sd_event_unref(f->event);
        repl_error_clear(&f->err);
        state_dir_remove(f->dir);
        g_free(f->dir);
}

/* ---- every change under every fault ---- */

typedef int (*change_fn)(Fixture *f);

static void on_stored(int error, void *userdata) {
        *(int *) userdata = error;
}

/* The change left everything as it was: nothing announced, model and store as before, also after a restart. */
static void assert_nothing_changed(Fixture *f, const char *model_before, const char *store_before) {
        g_autofree char *model_now = model_dump(f->engine->model);
        g_autofree char *store_now = stored_dump(f);
        g_autofree char *model_restarted = NULL;

        g_assert_cmpstr(f->notes->str, ==, "");
        g_assert_cmpstr(model_now, ==, model_before);
        g_assert_cmpstr(store_now, ==, store_before);
        engine_restart(f);
        model_restarted = model_dump(f->engine->model);
        g_assert_cmpstr(model_restarted, ==, model_before);
        g_string_truncate(f->notes, 0);
}

/* A row write failed: the call fails at once, in the service's words, and its group takes none of its rows. */
static void assert_write_failed(Fixture *f, int r, const char *model_before, const char *store_before) {
        g_assert_cmpint(r, ==, -EIO);
        g_assert_cmpint(f->err.error, ==, -EIO);
        /* Said in the service's words, never SQLite's. */
        g_assert_nonnull(strstr(f->err.message, "store"));
        g_assert_null(strstr(f->err.message, "I/O"));
        g_assert_null(strstr(f->err.message, "constraint"));
        repl_error_clear(&f->err);
        /* Its savepoint was undone: committing the group it was in stores none of the rows it wrote before the fault. */
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        assert_nothing_changed(f, model_before, store_before);
}

/*
 * The group's commit or its log sync fails: the call was accepted, nothing
 * of it shows before the commit, and the commit's failure reaches the
 * caller through engine_when_stored().
 */
static void check_commit_fault(Fixture *f, change_fn change, StoreFault kind, const char *model_before,
                               const char *store_before) {
        g_autofree char *model_pending = NULL;
        int stored = 1, r;

        g_test_message("fault %s:1", kind == STORE_FAULT_SYNC ? "sync" : "commit");
        g_assert_cmpint(store_fault_arm(f->engine->store, kind, 1), ==, 0);
        g_assert_cmpint(change(f), ==, 0);
        g_assert_cmpint(f->err.error, ==, 0);
        g_assert_cmpint(engine_when_stored(f->engine, on_stored, &stored), ==, 0);
        g_assert_cmpint(stored, ==, 1);
        model_pending = model_dump(f->engine->model);
        g_assert_cmpstr(model_pending, ==, model_before);
        g_assert_cmpstr(f->notes->str, ==, "");

        r = engine_flush(f->engine);
        g_assert_cmpint(r, <, 0);
        g_assert_cmpint(stored, ==, r);
        assert_nothing_changed(f, model_before, store_before);
}

/*
 * The log sync and the commit fail, then the first, second, … row write
 * until the change has more writes than that; then it succeeds, is
 * announced once its group is committed, and is stored.
 */
static void check_change(Fixture *f, change_fn change) {
        g_autofree char *model_before = model_dump(f->engine->model);
        g_autofree char *store_before = stored_dump(f);
        g_autofree char *model_after = NULL, *store_after = NULL;
        unsigned nth;
        int r;

        g_assert_cmpstr(model_before, ==, store_before);
        check_commit_fault(f, change, STORE_FAULT_SYNC, model_before, store_before);
        check_commit_fault(f, change, STORE_FAULT_COMMIT, model_before, store_before);
        for (nth = 1;; nth++) {
                g_test_message("fault write:%u", nth);
                g_assert_cmpint(store_fault_arm(f->engine->store, STORE_FAULT_WRITE, nth), ==, 0);
                r = change(f);
                if (r >= 0)
                        break;
                assert_write_failed(f, r, model_before, store_before);
        }
        g_assert_cmpint(store_fault_arm(f->engine->store, STORE_FAULT_NONE, 0), ==, 0);
        g_test_message("the change has %u row writes", nth - 1);
        g_assert_cmpuint(nth, >, 1);
        g_assert_cmpstr(f->notes->str, ==, "");
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpstr(f->notes->str, !=, "");
        model_after = model_dump(f->engine->model);
        store_after = stored_dump(f);
        g_assert_cmpstr(model_after, !=, model_before);
        g_assert_cmpstr(model_after, ==, store_after);
}

static int add_peer(Fixture *f) {
        uint64_t id;

        return engine_add_peer_system(f->engine, &f->caller, "iqn.2024-01.org.example:other", "Other", &id, &f->err);
}

static int add_access_point_change(Fixture *f) {
        AccessPointSpec spec = { .address = "127.0.0.9", .port = 3260, .target_name = "", .element_name = "x" };
        uint64_t id;

        return engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, f->peer), &spec, &id, &f->err);
}

static int add_secret_unattached(Fixture *f) {
        SecretSpec spec = { .username = "someone", .secret = SECRET };
        uint64_t id;

        return engine_add_secret(f->engine, &f->caller, NULL_PATH, &spec, &id, &f->err);
}

/* Replaces the access point's secret: one row saved, one deleted, the access point saved. */
static int add_secret_replacing(Fixture *f) {
        SecretSpec spec = { .username = "someone", .secret = SECRET, .mutual_username = "m", .mutual_secret = SECRET };
        uint64_t id;

        return engine_add_secret(f->engine, &f->caller, PATH(OBJECT_ACCESS_POINT, f->remote), &spec, &id, &f->err);
}

static int create_collection(Fixture *f) {
        MemberArgs a = members(STRV(PATH(OBJECT_ACCESS_POINT, f->local2)), NULL, NULL);
        uint64_t c, j;

        return engine_create_collection(f->engine, &f->caller, "new", &a, true, true, &c, &j, &f->err);
}

static int add_to_collection(Fixture *f) {
        MemberArgs a = members(STRV(PATH(OBJECT_ACCESS_POINT, f->local2)), STRV(PATH(OBJECT_ACCESS_POINT, f->remote)),
                               PATH(OBJECT_SYSTEM, f->peer));
        uint64_t j;

        return engine_add_to_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, f->collection), &a, &j, &f->err);
}

static int remove_from_collection(Fixture *f) {
        MemberArgs a = members(STRV(PATH(OBJECT_ACCESS_POINT, f->local1)), NULL, NULL);

        return engine_remove_from_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, f->collection), &a,
                                             &f->err);
}

static int modify_collection(Fixture *f) {
        CollectionSettings s = {
                .set_element_name = true, .element_name = "renamed",
                .set_active = true, .active = false,
                .set_delete_on_unassociated = true, .delete_on_unassociated = true,
        };

        return engine_modify_collection(f->engine, &f->caller, f->collection, &s, &f->err);
}

static int delete_system(Fixture *f) {
        return engine_delete_system(f->engine, &f->caller, f->peer, &f->err);
}

static int delete_access_point(Fixture *f) {
        return engine_delete_access_point(f->engine, &f->caller, f->remote, &f->err);
}

static int delete_secret(Fixture *f) {
        return engine_delete_secret(f->engine, &f->caller, f->secret, &f->err);
}

static int delete_collection(Fixture *f) {
        return engine_delete_collection(f->engine, &f->caller, f->collection, &f->err);
}

static int delete_job(Fixture *f) {
        return engine_job_delete(f->engine, &f->caller, f->job, &f->err);
}

static int set_delete_on_completion(Fixture *f) {
        return engine_job_set_delete_on_completion(f->engine, &f->caller, f->job, true, &f->err);
}

static int set_time_before_removal(Fixture *f) {
        return engine_job_set_time_before_removal(f->engine, &f->caller, f->job, 3600 * USEC_PER_SEC, &f->err);
}

/* Starting a job stores it: that too is a change. */
static int start_verify_job(Fixture *f) {
        uint64_t j;

        return engine_verify_access_point(f->engine, &f->caller, f->remote, &j, &f->err);
}

/* With verification on, adding a remote access point starts a job: storing the job is the change. */
static int add_to_collection_with_job(Fixture *f) {
        MemberArgs a = members(NULL, STRV(PATH(OBJECT_ACCESS_POINT, f->remote)), PATH(OBJECT_SYSTEM, f->peer));
        uint64_t j;
        int r;

        f->engine->config.verify_access_points = true;
        r = engine_add_to_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, f->collection), &a, &j, &f->err);
        f->engine->config.verify_access_points = false;
        return r;
}

static int create_collection_with_job(Fixture *f) {
        MemberArgs a = members(STRV(PATH(OBJECT_ACCESS_POINT, f->local2)), STRV(PATH(OBJECT_ACCESS_POINT, f->remote)),
                               PATH(OBJECT_SYSTEM, f->peer));
        uint64_t c, j;
        int r;

        f->engine->config.verify_access_points = true;
        r = engine_create_collection(f->engine, &f->caller, "new", &a, true, false, &c, &j, &f->err);
        f->engine->config.verify_access_points = false;
        return r;
}

static const struct {
        const char *path;
        change_fn change;
} changes[] = {
        { "/engine/fault/add-peer", add_peer },
        { "/engine/fault/add-access-point", add_access_point_change },
        { "/engine/fault/add-secret", add_secret_unattached },
        { "/engine/fault/add-secret-replacing", add_secret_replacing },
        { "/engine/fault/create-collection", create_collection },
        { "/engine/fault/add-to-collection", add_to_collection },
        { "/engine/fault/remove-from-collection", remove_from_collection },
        { "/engine/fault/modify-collection", modify_collection },
        { "/engine/fault/delete-system", delete_system },
        { "/engine/fault/delete-access-point", delete_access_point },
        { "/engine/fault/delete-secret", delete_secret },
        { "/engine/fault/delete-collection", delete_collection },
        { "/engine/fault/delete-job", delete_job },
        { "/engine/fault/job-delete-on-completion", set_delete_on_completion },
        { "/engine/fault/job-time-before-removal", set_time_before_removal },
        { "/engine/fault/start-job", start_verify_job },
        { "/engine/fault/add-to-collection-job", add_to_collection_with_job },
        { "/engine/fault/create-collection-job", create_collection_with_job },
};

static void test_change(Fixture *f, gconstpointer data) {
        for (size_t i = 0; i < G_N_ELEMENTS(changes); i++)
                if (g_str_equal(changes[i].path, g_test_get_path()))
                        return check_change(f, changes[i].change);
        g_assert_not_reached();
}

/* ---- a job's final commit ---- */

typedef uint64_t (*job_start_fn)(Fixture *f);

/*
 * The job's last transaction fails: the job ends in Exception, its result is
 * not applied (a collection keeps its members), and what the model shows is
 * what a restart loads. Returns false once the fault was not reached and the
 * job completed.
 */
static bool check_final_commit(Fixture *f, job_start_fn start, StoreFault kind, unsigned nth) {
        g_autofree char *collection_before = NULL, *model_now = NULL, *store_now = NULL, *model_restarted = NULL;
        Job *j;
        uint64_t id;

        g_test_message("fault %d:%u", kind, nth);
        id = start(f);
        collection_before = model_dump(f->engine->model);
        g_string_truncate(f->notes, 0);
        g_assert_cmpint(store_fault_arm(f->engine->store, kind, nth), ==, 0);
        wait_finished(f, id);
        /* Nothing of the job's end is left to commit. */
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        j = model_get_job(f->engine->model, id);
        if (j->state == JOB_STATE_COMPLETED) {
                g_assert_cmpint(kind, ==, STORE_FAULT_WRITE);
                g_assert_cmpint(store_fault_arm(f->engine->store, STORE_FAULT_NONE, 0), ==, 0);
                return false;
        }
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(j->error_code, ==, CIM_FAILED);
        g_assert_cmpint(j->error_reason, ==, REASON_STORAGE_FAILED);
        g_assert_cmpstr(reason_to_string(j->error_reason), ==, "StorageFailed");
        g_assert_cmpstr(j->error_description, ==, "The result could not be stored; nothing was committed.");
        g_assert_null(strstr(f->notes->str, "RemoteAccessPoints"));
        g_assert_false(idset_contains(&model_get_collection(f->engine->model, f->collection)->remote_access_points,
                                      f->remote));
        g_assert_nonnull(strstr(f->notes->str, "JobState"));
        g_assert_nonnull(strstr(f->notes->str, "completed"));

        model_now = model_dump(f->engine->model);
        store_now = stored_dump(f);
        g_assert_cmpstr(model_now, ==, store_now);
        engine_restart(f);
        model_restarted = model_dump(f->engine->model);
        g_assert_cmpstr(model_restarted, ==, model_now);
        return true;
}

static void check_final_commits(Fixture *f, job_start_fn start) {
        unsigned nth = 1;

        g_assert_true(check_final_commit(f, start, STORE_FAULT_SYNC, 1));
        g_assert_true(check_final_commit(f, start, STORE_FAULT_COMMIT, 1));
        while (check_final_commit(f, start, STORE_FAULT_WRITE, nth))
                nth++;
        g_test_message("the final commit has %u row writes", nth - 1);
        g_assert_cmpuint(nth, >, 1);
}

static void test_job_final_commit_collection(Fixture *f, gconstpointer data) {
        g_autofree char *stored = NULL, *now = NULL;

        check_final_commits(f, start_add_job);
        /* The last run's fault was never reached: its change is in place and stored. */
        g_assert_true(idset_contains(&model_get_collection(f->engine->model, f->collection)->remote_access_points,
                                     f->remote));
        g_assert_nonnull(strstr(f->notes->str, "RemoteAccessPoints"));
        stored = stored_dump(f);
        now = model_dump(f->engine->model);
        g_assert_cmpstr(now, ==, stored);
}

static void test_job_final_commit_verify(Fixture *f, gconstpointer data) {
        check_final_commits(f, start_verify);
}

/* ---- retention ---- */

static void test_retention_removal(Fixture *f, gconstpointer data) {
        g_autofree char *model_now = NULL, *store_now = NULL;
        uint64_t second;

        /* The limit is one finished job, and f->job is one. */
        second = start_verify(f);
        assert_ok(f, engine_job_set_delete_on_completion(f->engine, &f->caller, second, false, &f->err));
        g_string_truncate(f->notes, 0);
        /* The first commit is the job's end, the second removes the oldest finished job. */
        g_assert_cmpint(store_fault_arm(f->engine->store, STORE_FAULT_COMMIT, 2), ==, 0);
        wait_finished(f, second);
        /* The completion queued the removal; its group's commit is the one that fails. */
        g_assert_cmpint(engine_flush(f->engine), <, 0);
        g_assert_cmpint(model_get_job(f->engine->model, second)->state, ==, JOB_STATE_COMPLETED);
        g_assert_nonnull(model_get_job(f->engine->model, f->job));
        g_assert_null(strstr(f->notes->str, "removed"));
        model_now = model_dump(f->engine->model);
        store_now = stored_dump(f);
        g_assert_cmpstr(model_now, ==, store_now);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(changes); i++)
                g_test_add(changes[i].path, Fixture, NULL, setup, test_change, teardown);
        g_test_add("/engine/fault/job-final-commit/collection", Fixture, NULL, setup, test_job_final_commit_collection,
                   teardown);
        g_test_add("/engine/fault/job-final-commit/verify", Fixture, NULL, setup, test_job_final_commit_verify,
                   teardown);
        g_test_add("/engine/fault/retention-removal", Fixture, GUINT_TO_POINTER(1), setup, test_retention_removal,
                   teardown);
        return g_test_run();
}
