/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The committer (engine/change.h): changes made in one turn of the event
 * loop share one transaction; a row that cannot be written fails its own
 * change only; the model, the announcements and the replies follow the
 * commit, in order; a call that reads what a pending change writes commits
 * that change first; a group has at most COMMITTER_GROUP_MAX changes. The
 * world and its helpers: committer-fixture.h.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "committer-fixture.h"
#include "engine/committer.h"
#include "util/log.h"

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
#undef ADD
        return g_test_run();
}
