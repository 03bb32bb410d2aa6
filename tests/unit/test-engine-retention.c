/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: jobs after they end: how many finished jobs are kept, when they
 * are removed, Delete, and what a shutdown or a crash leaves of a running
 * job. The world and its helpers: engine-fixture.h.
 */

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "engine-fixture.h"
#include "util/log.h"

/* Starts Verify of a listening peer's access point, to be kept after it ends. */
static uint64_t run_kept_verify_job(Fixture *f, uint64_t ap) {
        uint64_t id = start_job(f, &f->caller, ap);

        g_assert_cmpint(engine_job_set_delete_on_completion(f->engine, &f->caller, id, false, &f->err), ==, 0);
        flush(f);
        g_assert_cmpstr(only_change(f, OBJECT_JOB, id), ==, "DeleteOnCompletion");
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        return id;
}

static void test_job_retention(Fixture *f, gconstpointer data) {
        uint64_t ap = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t first, second;
        Model *stored;

        notes_clear(f);
        first = run_kept_verify_job(f, ap);
        g_assert_nonnull(model_get_job(f->engine->model, first));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, ANY_ID), ==, 0);

        notes_clear(f);
        second = run_kept_verify_job(f, ap);
        /* The completion queued the removal of the oldest; it commits with the next group. */
        flush(f);
        /* Beyond the limit, the oldest goes, whatever DeleteOnCompletion says. */
        g_assert_null(model_get_job(f->engine->model, first));
        g_assert_nonnull(model_get_job(f->engine->model, second));
        g_assert_cmpuint(f->engine->model->jobs.n, ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, first), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, ANY_ID), ==, 1);
        /* Removed after the newest job's completion was announced. */
        g_assert_cmpuint(notes_index(f, notes_find(f, NOTE_COMPLETED, OBJECT_JOB, second, 0)), <,
                         notes_index(f, notes_find(f, NOTE_REMOVED, OBJECT_JOB, first, 0)));

        stored = stored_model(f);
        g_assert_cmpuint(stored->jobs.n, ==, 1);
        g_assert_nonnull(model_get_job(stored, second));
        model_free(stored);
        assert_model_is_stored(f);
}

/*
 * Two jobs end in one group while the limit is one finished job: the oldest
 * finished jobs go, the newest stays. The removals commit after the group
 * that set them off, so a job whose removal is pending must not count.
 */
static void test_job_retention_same_group(Fixture *f, gconstpointer data) {
        uint64_t local2 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.5", 3260);
        uint64_t first, second, third;

        first = run_kept_verify_job(f, f->local1);
        /* Verify of this host's access points ends on the job's first run: both in one turn. */
        second = start_job(f, &f->caller, f->local1);
        third = start_job(f, &f->caller, local2);
        notes_clear(f);
        run_until(f, job_has_completed, third, "job completion");
        g_assert_true(job_has_completed(f, second));
        flush(f);

        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, first), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, second), ==, 1);
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, third), ==, 0);
        g_assert_nonnull(model_get_job(f->engine->model, third));
        g_assert_cmpuint(f->engine->model->jobs.n, ==, 1);
        assert_model_is_stored(f);
}

static void test_job_time_before_removal(Fixture *f, gconstpointer data) {
        uint64_t ap = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        const Note *done, *removed;
        uint64_t id = start_job(f, &f->caller, ap);
        Job *j = job(f, id);
        Model *stored;

        g_assert_true(j->delete_on_completion);
        g_assert_cmpuint(j->time_before_removal, ==, 100 * USEC_PER_MSEC);
        wait_completed(f, id);
        g_assert_nonnull(model_get_job(f->engine->model, id));
        done = notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0);

        run_until(f, job_was_removed, id, "job removal");
        removed = notes_find(f, NOTE_REMOVED, OBJECT_JOB, id, 0);
        /* TimeBeforeRemoval counts from the end of the job. */
        g_assert_cmpuint(removed->realtime, >=, done->time_of_last_state_change + 100 * USEC_PER_MSEC);
        g_assert_null(model_get_job(f->engine->model, id));
        stored = stored_model(f);
        g_assert_null(model_get_job(stored, id));
        model_free(stored);
}

static void test_job_kept_without_delete_on_completion(Fixture *f, gconstpointer data) {
        uint64_t ap = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t id = run_kept_verify_job(f, ap);

        /* Past its time it stays, until deleted. */
        g_assert_cmpint(engine_job_set_time_before_removal(f->engine, &f->caller, id, 0, &f->err), ==, 0);
        flush(f);
        run_pending(f);
        g_assert_nonnull(model_get_job(f->engine->model, id));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, id), ==, 0);

        /* Setting the flag again lets the elapsed time count at once. */
        g_assert_cmpint(engine_job_set_delete_on_completion(f->engine, &f->caller, id, true, &f->err), ==, 0);
        flush(f);
        run_until(f, job_was_removed, id, "job removal");
        g_assert_null(model_get_job(f->engine->model, id));
        assert_model_is_stored(f);
}

static void test_job_delete(Fixture *f, gconstpointer data) {
        uint64_t hanging = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t id = start_add_job(f, f->collection, hanging);

        assert_failed(f, engine_job_delete(f->engine, &f->caller, id, &f->err), -EBADRQC);
        request_state(f, id, 4);
        notes_clear(f);
        g_assert_cmpint(engine_job_delete(f->engine, &f->caller, id, &f->err), ==, 0);
        flush(f);
        g_assert_null(model_get_job(f->engine->model, id));
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, id), ==, 1);
        assert_failed(f, engine_job_delete(f->engine, &f->caller, id, &f->err), -ENOENT);
        assert_model_is_stored(f);
}

static void test_job_shutdown(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Job *j;

        id = start_add_job(f, f->collection, remote);
        run_until(f, job_is_running, id, "job start");
        run_pending(f);

        notes_clear(f);
        engine_shutdown(f->engine);
        g_assert_true(job_has_completed(f, id));
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_nonnull(strstr(j->error_description, "Interrupted"));
        g_assert_false(engine_has_running_jobs(f->engine));
        /* Stopping removes nothing; a restart still lists it. */
        g_assert_cmpuint(notes_count(f, NOTE_REMOVED, OBJECT_JOB, ANY_ID), ==, 0);
        assert_unchanged(f, &before, false);
        engine_close(f);

        notes_clear(f);
        engine_open(f);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(j->error_code, ==, CIM_FAILED);
        g_assert_nonnull(strstr(j->error_description, "Interrupted"));
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, 0);
        g_assert_false(engine_has_running_jobs(f->engine));
        assert_unchanged(f, &before, false);
        assert_model_is_stored(f);
        snapshot_done(&before);
}

/* A service that died with a job running finds it running in the store; recovery closes it. */
static void test_job_recover_after_crash(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Model *stored;
        Job *j;

        id = start_add_job(f, f->collection, remote);
        run_until(f, job_is_running, id, "job start");
        engine_close(f);

        stored = stored_model(f);
        g_assert_false(job_state_is_finished(model_get_job(stored, id)->state));
        model_free(stored);

        notes_clear(f);
        engine_open(f);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_nonnull(strstr(j->error_description, "Interrupted"));
        g_assert_false(engine_has_running_jobs(f->engine));
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 4, &f->err), -EBADRQC);
        assert_unchanged(f, &before, false);
        assert_model_is_stored(f);
        snapshot_done(&before);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        /* The engine logs every change at info; keep the TAP output readable. */
        log_set_max_level(g_getenv("TEST_ENGINE_DEBUG") ? LOG_DEBUG : LOG_WARNING);

#define ADD(path, setup_fn, fn) g_test_add(path, Fixture, NULL, setup_fn, fn, teardown)
        ADD("/engine/jobs/retention", setup_one_finished_job, test_job_retention);
        ADD("/engine/jobs/retention-same-group", setup_one_finished_job, test_job_retention_same_group);
        ADD("/engine/jobs/time-before-removal", setup_quick_removal, test_job_time_before_removal);
        ADD("/engine/jobs/kept-without-delete-on-completion", setup_world, test_job_kept_without_delete_on_completion);
        ADD("/engine/jobs/delete", setup_world, test_job_delete);
        ADD("/engine/jobs/shutdown", setup_world, test_job_shutdown);
        ADD("/engine/jobs/recover-after-crash", setup_world, test_job_recover_after_crash);
#undef ADD

        return g_test_run();
}
