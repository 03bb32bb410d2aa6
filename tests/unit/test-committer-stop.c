/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The committer (engine/change.h): stopping the engine, by freeing it, by
 * engine_shutdown() or when its loop ends, commits what is pending, and what
 * that commit sets off. The world and its helpers: committer-fixture.h.
 */

#include <glib.h>
#include <string.h>

#include "committer-fixture.h"
#include "util/log.h"

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
        ADD("/committer/stop/free-flushes", test_free_flushes);
        ADD("/committer/stop/shutdown-flushes", test_shutdown_flushes);
        ADD("/committer/stop/loop-finished", test_loop_finished);
#undef ADD
        g_test_add("/committer/stop/free-flushes-follow-up", Fixture, GUINT_TO_POINTER(1), setup,
                   test_free_flushes_follow_up, teardown);
        return g_test_run();
}
