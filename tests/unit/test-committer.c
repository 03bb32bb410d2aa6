/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The committer (engine/change.h): group commit seen from the engine's API.
 * Changes made in one turn of the event loop share one transaction; a row
 * that cannot be written fails its own change only; the model, the
 * announcements and the replies (engine_when_stored()) follow the commit, in
 * the order the changes were made, and a failed commit shows nothing; a call
 * that reads what a pending change writes commits that change first; a group
 * has at most COMMITTER_GROUP_MAX changes; stopping commits what is pending.
 *
 * One log records, in order, what the observer announced, each reply and
 * each end of a group, so a test compares sequences. Commits are counted by
 * the store's fault hook: a commit or log sync armed to fail takes down
 * exactly the changes that shared it. The store is read from outside only
 * when no group is pending (a pending group holds the write lock). Nothing
 * touches the network; waits run the loop under a watchdog and never sleep.
 */

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "engine/committer.h"
#include "engine/engine.h"
#include "util/log.h"

#define WATCHDOG_USEC (10 * USEC_PER_SEC)
#define LOCAL_NAME "iqn.2024-01.org.example:host"
#define SECRET "0123456789ab"

#define PATH(kind, id) object_path_format((char[OBJECT_PATH_MAX]) {}, (kind), (id))
#define STRV(...) ((const char * const[]) { __VA_ARGS__, NULL })

typedef struct Fixture {
        char *dir;
        sd_event *event;
        ServiceConfig config;
        Engine *engine;
        GString *log;           /* announcements, replies and group ends, one line each, in order */
        unsigned groups;        /* group ends seen */
        Caller caller;
        ReplError err;
        bool watchdog_fired;

        uint64_t local1, local2, local3;
        uint64_t c1;            /* holds local1 */
        uint64_t c2;            /* empty */
} Fixture;

/* One caller waiting for its change to be stored: what it was told, and whether the row was durable then. */
typedef struct Reply {
        Fixture *f;
        const char *name;
        ObjectKind kind;
        uint64_t id;
        bool called;
        int error;
        bool durable;
} Reply;

/* ---- the state as the next start would load it ---- */

static bool model_has(const Model *m, ObjectKind kind, uint64_t id) {
        switch (kind) {
        case OBJECT_SYSTEM:
                return model_get_system(m, id);
        case OBJECT_ACCESS_POINT:
                return model_get_access_point(m, id);
        case OBJECT_SECRET:
                return model_get_secret(m, id);
        case OBJECT_COLLECTION:
                return model_get_collection(m, id);
        case OBJECT_JOB:
                return model_get_job(m, id);
        default:
                g_assert_not_reached();
        }
}

static Model *stored_model(Fixture *f) {
        Store *store = NULL;
        Model *m = model_new(LOCAL_NAME);

        g_assert_nonnull(m);
        g_assert_cmpint(store_open(f->dir, &store), ==, 0);
        g_assert_cmpint(store_load(store, m), ==, 0);
        store_close(store);
        return m;
}

static bool stored_has(Fixture *f, ObjectKind kind, uint64_t id) {
        Model *m = stored_model(f);
        bool b = model_has(m, kind, id);

        model_free(m);
        return b;
}

static bool stored_member(Fixture *f, uint64_t collection, uint64_t local) {
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

static void on_stored(int error, void *userdata) {
        Reply *r = userdata;

        g_assert_false(r->called);
        r->called = true;
        r->error = error;
        /* A reply that says stored means a restart would load the object. */
        if (error == 0 && r->kind != OBJECT_NONE)
                r->durable = stored_has(r->f, r->kind, r->id);
        g_string_append_printf(r->f->log, "stored %s %d\n", r->name, error);
}

static Reply reply_new(Fixture *f, const char *name, ObjectKind kind, uint64_t id) {
        return (Reply) { .f = f, .name = name, .kind = kind, .id = id, .error = 1 };
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        ((Fixture *) userdata)->watchdog_fired = true;
        return 0;
}

/* Runs the loop until the reply came. */
static void wait_for(Fixture *f, Reply *r) {
        sd_event_source *watchdog = NULL;

        f->watchdog_fired = false;
        g_assert_cmpint(sd_event_add_time_relative(f->event, &watchdog, CLOCK_MONOTONIC, WATCHDOG_USEC, 0,
                                                   on_watchdog, f), >=, 0);
        while (!r->called) {
                g_assert_cmpint(sd_event_run(f->event, UINT64_MAX), >=, 0);
                if (f->watchdog_fired)
                        g_error("watchdog: the reply %s did not come", r->name);
        }
        sd_event_source_disable_unref(watchdog);
}

/* ---- changes ---- */

/* Each helper makes one change, which must be accepted, and waits for it with reply (may be NULL). */
static uint64_t add_peer(Fixture *f, const char *name, Reply *reply) {
        uint64_t id = 0;

        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, name, "", &id, &f->err), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        if (reply) {
                *reply = reply_new(f, name, OBJECT_SYSTEM, id);
                g_assert_cmpint(engine_when_stored(f->engine, on_stored, reply), ==, 0);
        }
        return id;
}

static int try_add_secret(Fixture *f, uint64_t *ret_id) {
        SecretSpec spec = { .username = "user", .secret = SECRET };

        return engine_add_secret(f->engine, &f->caller, NULL_PATH, &spec, ret_id, &f->err);
}

/* A secret bound to no access point: its call reads no system, so it does not commit a pending peer. */
static uint64_t add_secret(Fixture *f, const char *name, Reply *reply) {
        uint64_t id = 0;

        g_assert_cmpint(try_add_secret(f, &id), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        if (reply) {
                *reply = reply_new(f, name, OBJECT_SECRET, id);
                g_assert_cmpint(engine_when_stored(f->engine, on_stored, reply), ==, 0);
        }
        return id;
}

static uint64_t add_local(Fixture *f, uint16_t port) {
        AccessPointSpec spec = { .address = "127.0.0.1", .port = port, .target_name = "", .element_name = "" };
        uint64_t id = 0;

        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, LOCAL_SYSTEM_PATH, &spec, &id, &f->err), ==, 0);
        return id;
}

static void add_to(Fixture *f, uint64_t collection, uint64_t local, const char *name, Reply *reply) {
        MemberArgs a = { .local_paths = STRV(PATH(OBJECT_ACCESS_POINT, local)), .n_local = 1,
                         .system_path = NULL_PATH };
        uint64_t job = UINT64_MAX;

        g_assert_cmpint(engine_add_to_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, collection), &a, &job,
                                                 &f->err), ==, 0);
        g_assert_cmpuint(job, ==, 0);
        *reply = reply_new(f, name, OBJECT_NONE, 0);
        g_assert_cmpint(engine_when_stored(f->engine, on_stored, reply), ==, 0);
}

static bool is_member(Fixture *f, uint64_t collection, uint64_t local) {
        return idset_contains(&model_get_collection(f->engine->model, collection)->local_access_points, local);
}

/* ---- fixture ---- */

static void engine_open(Fixture *f) {
        g_assert_cmpint(engine_new(f->event, f->dir, LOCAL_NAME, &f->config, &f->engine), ==, 0);
        engine_set_observer(f->engine, &observer, f);
        g_assert_cmpint(engine_recover(f->engine), ==, 0);
}

/* This host with three access points; c1 holds the first, c2 is empty. No change is pending after it. */
static void setup(Fixture *f, gconstpointer data) {
        g_autoptr(GError) error = NULL;
        MemberArgs a = { .local_paths = NULL, .system_path = NULL_PATH };
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
        a = (MemberArgs) { .local_paths = STRV(PATH(OBJECT_ACCESS_POINT, f->local1)), .n_local = 1,
                           .system_path = NULL_PATH };
        g_assert_cmpint(engine_create_collection(f->engine, &f->caller, "c1", &a, true, false, &f->c1, &job, &f->err),
                        ==, 0);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_nonnull(model_get_collection(f->engine->model, f->c1));
        g_assert_nonnull(model_get_collection(f->engine->model, f->c2));
        g_string_truncate(f->log, 0);
        f->groups = 0;
}

static void teardown(Fixture *f, gconstpointer data) {
        g_autoptr(GDir) d = NULL;
        const char *name;

        f->engine = engine_free(f->engine);
        g_string_free(f->log, TRUE);
        sd_event_unref(f->event);
        repl_error_clear(&f->err);
        d = g_dir_open(f->dir, 0, NULL);
        while ((name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(f->dir, name, NULL);

                g_assert_cmpint(g_unlink(p), ==, 0);
        }
        g_assert_cmpint(g_rmdir(f->dir), ==, 0);
        g_free(f->dir);
}

/* ---- one turn, one transaction ---- */

typedef struct TurnWork {
        Fixture *f;
        Reply *peer, *secret;
        uint64_t peer_id, secret_id;
} TurnWork;

static int on_make_peer(sd_event_source *s, void *userdata) {
        TurnWork *w = userdata;

        w->peer_id = add_peer(w->f, "iqn.2024-01.org.example:a", w->peer);
        return 0;
}

static int on_make_secret(sd_event_source *s, void *userdata) {
        TurnWork *w = userdata;

        w->secret_id = add_secret(w->f, "s", w->secret);
        return 0;
}

/*
 * Two calls handled in one turn of the loop (two event sources ready at
 * once): one group, one commit, then both replies. With the first commit
 * from now armed to fail, both fail: had each change its own commit, the
 * second would have been stored.
 */
static void run_turn(Fixture *f, StoreFault fault, Reply *peer, Reply *secret, TurnWork *w) {
        sd_event_source *a = NULL, *b = NULL;

        *w = (TurnWork) { .f = f, .peer = peer, .secret = secret };
        /* Not called yet: the sources fill them in. */
        *peer = *secret = reply_new(f, "", OBJECT_NONE, 0);
        g_assert_cmpint(sd_event_add_defer(f->event, &a, on_make_peer, w), >=, 0);
        g_assert_cmpint(sd_event_add_defer(f->event, &b, on_make_secret, w), >=, 0);
        if (fault != STORE_FAULT_NONE)
                g_assert_cmpint(store_fault_arm(f->engine->store, fault, 1), ==, 0);
        wait_for(f, secret);
        sd_event_source_disable_unref(a);
        sd_event_source_disable_unref(b);
}

static void test_one_turn_one_commit(Fixture *f, gconstpointer data) {
        Reply peer, secret;
        TurnWork w;

        run_turn(f, STORE_FAULT_NONE, &peer, &secret, &w);
        g_assert_cmpuint(f->groups, ==, 1);
        g_assert_true(peer.called && secret.called);
        g_assert_cmpint(peer.error, ==, 0);
        g_assert_cmpint(secret.error, ==, 0);
        g_assert_true(peer.durable);
        g_assert_true(secret.durable);
}

static void test_one_turn_commit_fails_all(Fixture *f, gconstpointer data) {
        static const StoreFault faults[] = { STORE_FAULT_COMMIT, STORE_FAULT_SYNC };

        for (size_t i = 0; i < G_N_ELEMENTS(faults); i++) {
                Reply peer, secret;
                TurnWork w;

                g_test_message("fault %s", faults[i] == STORE_FAULT_COMMIT ? "commit" : "sync");
                g_string_truncate(f->log, 0);
                f->groups = 0;
                run_turn(f, faults[i], &peer, &secret, &w);
                g_assert_cmpuint(f->groups, ==, 1);
                g_assert_cmpint(peer.error, <, 0);
                g_assert_cmpint(secret.error, ==, peer.error);
                /* Nothing announced, the model and the store untouched. */
                g_assert_cmpstr(f->log->str, ==, "group\nstored iqn.2024-01.org.example:a -5\nstored s -5\n");
                g_assert_null(model_get_system(f->engine->model, w.peer_id));
                g_assert_null(model_get_secret(f->engine->model, w.secret_id));
                g_assert_false(stored_has(f, OBJECT_SYSTEM, w.peer_id));
                g_assert_false(stored_has(f, OBJECT_SECRET, w.secret_id));
        }
}

/* A row write that fails fails its own change at once; the group's other changes, before and after, commit. */
static void test_write_fault_fails_one(Fixture *f, gconstpointer data) {
        g_autofree char *line = NULL;
        uint64_t peer_id, failed = 0, after;
        Reply peer, secret;

        peer_id = add_peer(f, "iqn.2024-01.org.example:a", &peer);
        /* The secret's own row is written; the next (the id counter) fails: the row must be undone. */
        g_assert_cmpint(store_fault_arm(f->engine->store, STORE_FAULT_WRITE, 2), ==, 0);
        g_assert_cmpint(try_add_secret(f, &failed), ==, -EIO);
        g_assert_cmpint(f->err.error, ==, -EIO);
        g_assert_nonnull(strstr(f->err.message, "nothing was changed"));
        repl_error_clear(&f->err);
        /* The failure did not end the group. */
        g_assert_false(peer.called);
        g_assert_cmpuint(f->groups, ==, 0);
        after = add_secret(f, "s", &secret);

        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpuint(f->groups, ==, 1);
        g_assert_cmpint(peer.error, ==, 0);
        g_assert_cmpint(secret.error, ==, 0);
        g_assert_true(peer.durable);
        g_assert_true(secret.durable);
        g_assert_nonnull(model_get_system(f->engine->model, peer_id));
        g_assert_nonnull(model_get_secret(f->engine->model, after));
        g_assert_null(model_get_secret(f->engine->model, failed));
        g_assert_false(stored_has(f, OBJECT_SECRET, failed));
        /* Announced: the peer and the later secret, not the failed one. */
        line = g_strdup_printf("added system %" G_GUINT64_FORMAT "\nadded secret %" G_GUINT64_FORMAT "\ngroup\n"
                               "stored iqn.2024-01.org.example:a 0\nstored s 0\n", peer_id, after);
        g_assert_cmpstr(f->log->str, ==, line);
}

/* ---- after the commit, in order ---- */

static void test_order_after_commit(Fixture *f, gconstpointer data) {
        g_autofree char *expected = NULL;
        uint64_t peer_id, secret_id, local_id;
        Reply peer, secret, local;

        peer_id = add_peer(f, "p", &peer);
        secret_id = add_secret(f, "s", &secret);
        /* Adding an access point reads the systems: the peer's group commits first. */
        local_id = add_local(f, 3263);
        local = reply_new(f, "ap", OBJECT_ACCESS_POINT, local_id);
        g_assert_cmpint(engine_when_stored(f->engine, on_stored, &local), ==, 0);
        g_assert_cmpuint(f->groups, ==, 1);
        g_assert_null(model_get_access_point(f->engine->model, local_id));

        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpuint(f->groups, ==, 2);
        /*
         * Each group: its changes applied and announced in the order made, the group's end (where the bus
         * sends its signals), then the replies, in the same order.
         */
        expected = g_strdup_printf("added system %" G_GUINT64_FORMAT "\n"
                                   "added secret %" G_GUINT64_FORMAT "\n"
                                   "group\nstored p 0\nstored s 0\n"
                                   "added access_point %" G_GUINT64_FORMAT "\n"
                                   "changed system 0 AccessPoints\n"
                                   "group\nstored ap 0\n", peer_id, secret_id, local_id);
        g_assert_cmpstr(f->log->str, ==, expected);
        g_assert_true(peer.durable && secret.durable && local.durable);
}

/* Until the commit, nothing of a change shows: not in the model, not announced, not replied. */
static void test_nothing_before_commit(Fixture *f, gconstpointer data) {
        uint64_t peer_id, secret_id;
        Reply peer, secret;

        peer_id = add_peer(f, "p", &peer);
        secret_id = add_secret(f, "s", &secret);
        g_assert_null(model_get_system(f->engine->model, peer_id));
        g_assert_null(model_get_secret(f->engine->model, secret_id));
        g_assert_cmpstr(f->log->str, ==, "");
        g_assert_false(peer.called || secret.called);

        /* The loop commits it when it has nothing else to do. */
        wait_for(f, &secret);
        g_assert_cmpint(peer.error, ==, 0);
        g_assert_nonnull(model_get_system(f->engine->model, peer_id));
        g_assert_cmpuint(f->groups, ==, 1);
}

static void test_when_stored_idle(Fixture *f, gconstpointer data) {
        Reply r = reply_new(f, "idle", OBJECT_NONE, 0);

        /* Nothing pending: the answer comes at once, and no group ends for it. */
        g_assert_cmpint(engine_when_stored(f->engine, on_stored, &r), ==, 0);
        g_assert_true(r.called);
        g_assert_cmpint(r.error, ==, 0);
        g_assert_cmpuint(f->groups, ==, 0);
}

/* ---- settling ---- */

/* A call about a collection with a pending change commits that change first and sees its result. */
static void test_settle_same_collection(Fixture *f, gconstpointer data) {
        MemberArgs a = { .local_paths = STRV(PATH(OBJECT_ACCESS_POINT, f->local2)), .n_local = 1,
                         .system_path = NULL_PATH };
        Reply first, second;

        add_to(f, f->c1, f->local2, "first", &first);
        g_assert_false(is_member(f, f->c1, f->local2));
        add_to(f, f->c1, f->local3, "second", &second);
        /* The first group was committed inside the second call. */
        g_assert_cmpuint(f->groups, ==, 1);
        g_assert_true(first.called);
        g_assert_cmpint(first.error, ==, 0);
        g_assert_true(is_member(f, f->c1, f->local2));
        g_assert_false(is_member(f, f->c1, f->local3));
        g_assert_false(second.called);

        /* Taking out what a pending change put in sees it there. */
        g_assert_cmpint(engine_remove_from_collection(f->engine, &f->caller, PATH(OBJECT_COLLECTION, f->c1), &a,
                                                      &f->err), ==, 0);
        g_assert_cmpuint(f->groups, ==, 2);
        g_assert_true(is_member(f, f->c1, f->local3));
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_false(is_member(f, f->c1, f->local2));
        g_assert_true(is_member(f, f->c1, f->local3));
        g_assert_false(stored_member(f, f->c1, f->local2));
        g_assert_true(stored_member(f, f->c1, f->local3));
}

/* Changes to different collections do not wait for each other: one group. */
static void test_no_settle_other_collection(Fixture *f, gconstpointer data) {
        Reply first, second;

        add_to(f, f->c1, f->local2, "first", &first);
        add_to(f, f->c2, f->local3, "second", &second);
        g_assert_cmpuint(f->groups, ==, 0);
        g_assert_false(first.called);
        g_assert_false(is_member(f, f->c1, f->local2));

        /* One commit carries both: armed to fail, it fails both. */
        g_assert_cmpint(store_fault_arm(f->engine->store, STORE_FAULT_COMMIT, 1), ==, 0);
        g_assert_cmpint(engine_flush(f->engine), <, 0);
        g_assert_cmpuint(f->groups, ==, 1);
        g_assert_cmpint(first.error, <, 0);
        g_assert_cmpint(second.error, <, 0);
        g_assert_false(is_member(f, f->c1, f->local2));
        g_assert_false(is_member(f, f->c2, f->local3));

        add_to(f, f->c1, f->local2, "first", &first);
        add_to(f, f->c2, f->local3, "second", &second);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpuint(f->groups, ==, 2);
        g_assert_true(is_member(f, f->c1, f->local2));
        g_assert_true(is_member(f, f->c2, f->local3));
        g_assert_true(stored_member(f, f->c1, f->local2));
        g_assert_true(stored_member(f, f->c2, f->local3));
}

/* Deleting an access point that a pending AddTo puts into a collection: it is a member, so it stays. */
static void test_settle_delete_member(Fixture *f, gconstpointer data) {
        Reply added;

        add_to(f, f->c2, f->local2, "added", &added);
        g_assert_cmpint(engine_delete_access_point(f->engine, &f->caller, f->local2, &f->err), ==, -EBUSY);
        repl_error_clear(&f->err);
        g_assert_cmpint(added.error, ==, 0);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_nonnull(model_get_access_point(f->engine->model, f->local2));
        g_assert_true(is_member(f, f->c2, f->local2));
        g_assert_true(stored_has(f, OBJECT_ACCESS_POINT, f->local2));
        g_assert_true(stored_member(f, f->c2, f->local2));
}

/* The same name twice in one turn: the second call sees the first peer and is refused. */
static void test_settle_same_name(Fixture *f, gconstpointer data) {
        uint64_t id = 0;
        Reply first;

        add_peer(f, "iqn.2024-01.org.example:a", &first);
        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, "iqn.2024-01.org.example:a", "", &id, &f->err),
                        ==, -EEXIST);
        repl_error_clear(&f->err);
        g_assert_cmpint(first.error, ==, 0);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpuint(f->engine->model->systems.n, ==, 2);
}

/* ---- limits ---- */

static void test_group_max(Fixture *f, gconstpointer data) {
        enum { N = COMMITTER_GROUP_MAX + 3 };
        uint64_t ids[N];
        Reply first, last;
        Model *stored;

        for (size_t i = 0; i < N; i++) {
                ids[i] = add_secret(f, i == 0 ? "first" : "last", i == 0 ? &first : i == N - 1 ? &last : NULL);
                /* The change after the most a group holds commits the full group first. */
                g_assert_cmpuint(f->groups, ==, i < COMMITTER_GROUP_MAX ? 0 : 1);
        }
        g_assert_cmpint(first.error, ==, 0);
        g_assert_false(last.called);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpuint(f->groups, ==, 2);
        g_assert_cmpint(last.error, ==, 0);

        /* Nothing lost. */
        stored = stored_model(f);
        g_assert_cmpuint(f->engine->model->secrets.n, ==, N);
        g_assert_cmpuint(stored->secrets.n, ==, N);
        for (size_t i = 0; i < N; i++) {
                g_assert_nonnull(model_get_secret(f->engine->model, ids[i]));
                g_assert_nonnull(model_get_secret(stored, ids[i]));
        }
        model_free(stored);
}

/* ---- stopping ---- */

static void test_free_flushes(Fixture *f, gconstpointer data) {
        uint64_t peer_id, secret_id;
        Reply peer, secret;

        peer_id = add_peer(f, "p", &peer);
        secret_id = add_secret(f, "s", &secret);
        f->engine = engine_free(f->engine);
        g_assert_cmpint(peer.error, ==, 0);
        g_assert_cmpint(secret.error, ==, 0);
        g_assert_true(peer.durable && secret.durable);

        engine_open(f);
        g_assert_nonnull(model_get_system(f->engine->model, peer_id));
        g_assert_nonnull(model_get_secret(f->engine->model, secret_id));
}

static void test_shutdown_flushes(Fixture *f, gconstpointer data) {
        uint64_t peer_id;
        Reply peer;

        peer_id = add_peer(f, "p", &peer);
        engine_shutdown(f->engine);
        g_assert_cmpint(peer.error, ==, 0);
        g_assert_true(peer.durable);
        g_assert_nonnull(model_get_system(f->engine->model, peer_id));
}

/*
 * After the loop has finished (a stopping daemon) nothing commits on its
 * own: a change still made is accepted, its caller still waits, and the
 * engine's end commits it and answers.
 */
static void test_loop_finished(Fixture *f, gconstpointer data) {
        uint64_t peer_id = 0;
        Reply peer;

        g_assert_cmpint(sd_event_exit(f->event, 0), >=, 0);
        g_assert_cmpint(sd_event_loop(f->event), ==, 0);
        g_assert_cmpint(sd_event_get_state(f->event), ==, SD_EVENT_FINISHED);

        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, "p", "", &peer_id, &f->err), ==, 0);
        peer = reply_new(f, "p", OBJECT_SYSTEM, peer_id);
        g_assert_cmpint(engine_when_stored(f->engine, on_stored, &peer), ==, 0);
        g_assert_false(peer.called);
        f->engine = engine_free(f->engine);
        g_assert_true(peer.called);
        g_assert_cmpint(peer.error, ==, 0);
        g_assert_true(peer.durable);
}

static bool job_is_finished(Fixture *f, uint64_t id) {
        Job *j = model_get_job(f->engine->model, id);

        return j && job_state_is_finished(j->state);
}

/* Runs the loop until the job has ended; its end may still be waiting for its group's commit. */
static void wait_job_ended(Fixture *f, uint64_t id) {
        sd_event_source *watchdog = NULL;

        f->watchdog_fired = false;
        g_assert_cmpint(sd_event_add_time_relative(f->event, &watchdog, CLOCK_MONOTONIC, WATCHDOG_USEC, 0,
                                                   on_watchdog, f), >=, 0);
        while (!job_is_finished(f, id)) {
                g_assert_cmpint(sd_event_run(f->event, UINT64_MAX), >=, 0);
                if (f->watchdog_fired)
                        g_error("watchdog: job %" G_GUINT64_FORMAT " did not end", id);
        }
        sd_event_source_disable_unref(watchdog);
}

/* Verify of this host's first access point (a bind to 127.0.0.1), kept when it ends. */
static uint64_t start_verify(Fixture *f) {
        uint64_t id = 0;

        g_assert_cmpint(engine_verify_access_point(f->engine, &f->caller, f->local1, &id, &f->err), ==, 0);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpint(engine_job_set_delete_on_completion(f->engine, &f->caller, id, false, &f->err), ==, 0);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        return id;
}

/*
 * What the last group's commit sets off is committed too: a job's end,
 * pending when the engine is freed, queues the removal of the oldest
 * finished job beyond the limit (one here) as it is applied.
 */
static void test_free_flushes_follow_up(Fixture *f, gconstpointer data) {
        uint64_t first, second;

        first = start_verify(f);
        wait_job_ended(f, first);
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_nonnull(model_get_job(f->engine->model, first));

        second = start_verify(f);
        wait_job_ended(f, second);
        g_assert_null(strstr(f->log->str, "removed"));
        f->engine = engine_free(f->engine);
        g_assert_false(stored_has(f, OBJECT_JOB, first));
        g_assert_true(stored_has(f, OBJECT_JOB, second));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        log_set_max_level(g_getenv("TEST_ENGINE_DEBUG") ? LOG_DEBUG : LOG_WARNING);

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
        ADD("/committer/group/one-turn-one-commit", test_one_turn_one_commit);
        ADD("/committer/group/commit-fault-fails-all", test_one_turn_commit_fails_all);
        ADD("/committer/group/write-fault-fails-one", test_write_fault_fails_one);
        ADD("/committer/order/after-commit", test_order_after_commit);
        ADD("/committer/order/nothing-before-commit", test_nothing_before_commit);
        ADD("/committer/order/when-stored-idle", test_when_stored_idle);
        ADD("/committer/settle/same-collection", test_settle_same_collection);
        ADD("/committer/settle/other-collection", test_no_settle_other_collection);
        ADD("/committer/settle/delete-member", test_settle_delete_member);
        ADD("/committer/settle/same-name", test_settle_same_name);
        ADD("/committer/group-max", test_group_max);
        ADD("/committer/stop/free-flushes", test_free_flushes);
        ADD("/committer/stop/shutdown-flushes", test_shutdown_flushes);
        ADD("/committer/stop/loop-finished", test_loop_finished);
#undef ADD
        g_test_add("/committer/stop/free-flushes-follow-up", Fixture, GUINT_TO_POINTER(1), setup,
                   test_free_flushes_follow_up, teardown);
        return g_test_run();
}
