/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: jobs while they run: verification against listening, refusing and
 * hanging peers, what a job commits and announces when it ends, state
 * changes, limits, progress, GetPeerSystems. The world and its helpers:
 * engine-fixture.h.
 */

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine-fixture.h"
#include "util/log.h"
#include "util/strutil.h"

static void test_job_verified_add(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        g_autofree char *affected = NULL;
        const Note *done, *final;
        uint64_t id;
        Model *stored;
        Job *j;

        notes_clear(f);
        id = start_add_job(f, f->collection, remote);
        j = job(f, id);
        g_assert_cmpstr(j->name, ==, "AddToRemoteReplicationCollection");
        g_assert_cmpuint(j->started_by_uid, ==, 1000);
        g_assert_cmpstr(j->owner, ==, f->caller.owner);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_JOB, id), ==, 1);
        g_assert_cmpstr(only_change(f, OBJECT_COLLECTION, f->collection), ==, "Job");
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, id);
        /* Nothing of the call is in place yet, and the job is on record. */
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        stored = stored_model(f);
        g_assert_nonnull(model_get_job(stored, id));
        g_assert_cmpint(model_get_job(stored, id)->state, ==, JOB_STATE_NEW);
        g_assert_false(idset_contains(&model_get_collection(stored, f->collection)->remote_access_points, remote));
        model_free(stored);

        /* While it runs, the collection is not to be changed by anyone else. */
        g_assert_cmpint(remove_from(f, f->collection, (const char * const[]) { PATH(OBJECT_ACCESS_POINT, f->local1), NULL },
                                    NULL, NULL), ==, -EBUSY);
        repl_error_clear(&f->err);
        assert_failed(f, engine_delete_collection(f->engine, &f->caller, f->collection, &f->err), -EBUSY);
        assert_failed(f, engine_delete_access_point(f->engine, &f->caller, remote, &f->err), -EBUSY);
        assert_failed(f, engine_delete_system(f->engine, &f->caller, f->peer, &f->err), -EBUSY);

        notes_clear(f);
        wait_completed(f, id);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(j->error_code, ==, 0);
        g_assert_cmpuint(j->percent_complete, ==, 100);
        affected = g_strjoinv(",", j->affected_elements);
        g_assert_cmpstr(affected, ==, PATH(OBJECT_COLLECTION, f->collection));

        /* The completion is announced after the job's last change, which carries the state. */
        done = notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0);
        g_assert_cmpint(done->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpstr(done->affected, ==, PATH(OBJECT_COLLECTION, f->collection));
        final = notes_find(f, NOTE_CHANGED, OBJECT_JOB, id, notes_count(f, NOTE_CHANGED, OBJECT_JOB, id) - 1);
        g_assert_nonnull(strstr(final->properties, "JobState"));
        g_assert_nonnull(strstr(final->properties, "AffectedElements"));
        g_assert_cmpuint(notes_index(f, final), <, notes_index(f, done));

        /* The change is in place and announced: membership once, then the job slot. */
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_systems, f->peer));
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, 0);
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection), ==, 2);
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 0)->properties, ==,
                        "RemoteAccessPoints,RemoteSystems");
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 1)->properties, ==, "Job");
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_SYSTEM, f->peer), >=, 1);
        g_assert_nonnull(strstr(notes_find(f, NOTE_CHANGED, OBJECT_ACCESS_POINT, remote, 0)->properties, "Reachable"));
        g_assert_cmpint(model_get_access_point(f->engine->model, remote)->reachable, ==, REACHABLE_YES);

        /* Committed: a restart would load the membership and the finished job. */
        stored = stored_model(f);
        g_assert_true(idset_contains(&model_get_collection(stored, f->collection)->remote_access_points, remote));
        g_assert_true(idset_contains(&model_get_collection(stored, f->collection)->remote_systems, f->peer));
        g_assert_cmpint(model_get_job(stored, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(model_get_access_point(stored, remote)->reachable, ==, REACHABLE_YES);
        model_free(stored);
        assert_model_is_stored(f);

        /* A finished job accepts no state change. */
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 4, &f->err), -EBADRQC);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 2, &f->err), -EBADRQC);
}

static void test_job_verified_create(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, f->local1), NULL };
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, remote), NULL };
        MemberArgs a = members(locals, remotes, PATH(OBJECT_SYSTEM, f->peer));
        size_t n_collections = f->engine->model->collections.n;
        uint64_t c = UINT64_MAX, id = 0;
        const char *created;
        Job *j;

        g_assert_cmpint(engine_create_collection(f->engine, &f->caller, "", &a, true, false, &c, &id, &f->err), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        /* With a job, the collection gets its id only when the job commits it. */
        g_assert_cmpuint(c, ==, 0);
        flush(f);
        j = job(f, id);
        g_assert_cmpstr(j->name, ==, "CreateRemoteReplicationCollection");
        /* The collection does not exist until the job has verified its peer. */
        g_assert_cmpuint(f->engine->model->collections.n, ==, n_collections);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_COLLECTION, ANY_ID), ==, 0);

        wait_completed(f, id);
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(f->engine->model->collections.n, ==, n_collections + 1);
        g_assert_cmpuint(strv_length(j->affected_elements), ==, 1);
        created = j->affected_elements[0];
        MODEL_FOREACH(Collection, x, f->engine->model->collections)
                if (x->id != f->collection) {
                        g_assert_cmpstr(created, ==, PATH(OBJECT_COLLECTION, x->id));
                        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_COLLECTION, x->id), ==, 1);
                        g_assert_true(idset_contains(&x->remote_access_points, remote));
                        g_assert_true(idset_contains(&x->local_access_points, f->local1));
                        g_assert_cmpuint(x->job_id, ==, 0);
                        g_autofree char *name = g_strdup_printf("collection-%" PRIu64, x->id);

                        g_assert_cmpstr(x->element_name, ==, name);
                }
        assert_model_is_stored(f);
}

static void assert_job_failed_nothing_committed(Fixture *f, uint64_t id, uint64_t remote, const Snapshot *before) {
        Collection *c = collection(f, f->collection);

        g_assert_false(idset_contains(&c->remote_access_points, remote));
        g_assert_false(idset_contains(&c->remote_systems, f->peer));
        g_assert_cmpuint(c->job_id, ==, 0);
        /* The collection as it was, in memory and in the store; the job's record agrees. */
        assert_unchanged(f, before, false);
        assert_model_is_stored(f);
        /* Taken by the job and given back; its membership was never announced as changed. */
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection), ==, 2);
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 0)->properties, ==, "Job");
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 1)->properties, ==, "Job");
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_ACCESS_POINT, f->local1), ==, 0);
        g_assert_cmpuint(notes_count(f, NOTE_ADDED, OBJECT_COLLECTION, ANY_ID), ==, 0);
}

static void test_job_refused(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, REFUSE_ADDRESS, f->refuse_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Job *j;

        notes_clear(f);
        id = start_add_job(f, f->collection, remote);
        wait_completed(f, id);

        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(j->error_code, ==, CIM_FAILED);
        g_assert_cmpuint(j->error_type, ==, CIM_ERROR_TYPE_COMMUNICATIONS);
        g_assert_cmpstr(j->error_source, ==, PATH(OBJECT_ACCESS_POINT, remote));
        /* The description names the pair that failed. */
        g_assert_nonnull(strstr(j->error_description, PATH(OBJECT_ACCESS_POINT, remote)));
        g_assert_nonnull(strstr(j->error_description, PATH(OBJECT_ACCESS_POINT, f->local1)));
        g_assert_nonnull(strstr(j->error_description, "refused"));
        g_assert_cmpuint(notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0)->error_code, ==, CIM_FAILED);

        /* The verdict is recorded on the access point, but the membership is not. */
        g_assert_cmpint(model_get_access_point(f->engine->model, remote)->reachable, ==, REACHABLE_NO);
        assert_job_failed_nothing_committed(f, id, remote, &before);
        snapshot_done(&before);
}

static void test_job_timeout(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id, started, elapsed;
        Job *j;

        notes_clear(f);
        started = now_usec(CLOCK_MONOTONIC);
        id = start_add_job(f, f->collection, remote);
        wait_completed(f, id);
        elapsed = notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0)->monotonic - started;

        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(j->error_code, ==, CIM_TIMEOUT);
        g_assert_nonnull(strstr(j->error_description, PATH(OBJECT_ACCESS_POINT, remote)));
        g_assert_cmpuint(elapsed, >=, 300 * USEC_PER_MSEC);
        g_assert_cmpuint(elapsed, <, 1300 * USEC_PER_MSEC);
        assert_job_failed_nothing_committed(f, id, remote, &before);
        snapshot_done(&before);
}

static void test_job_terminate(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        Snapshot before = snapshot(f, false);
        uint64_t id;
        Job *j;

        notes_clear(f);
        id = start_add_job(f, f->collection, remote);
        run_until(f, job_is_running, id, "job start");
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_RUNNING);
        /* The probe is out: the hanging peer answers nothing, so only the request ends the job. */
        run_pending(f);
        g_assert_false(job_has_completed(f, id));

        request_state(f, id, 4);
        /* Ends at once, not at the probe's deadline. */
        g_assert_true(job_has_completed(f, id));
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_TERMINATED);
        g_assert_cmpint(notes_find(f, NOTE_COMPLETED, OBJECT_JOB, id, 0)->state, ==, JOB_STATE_TERMINATED);
        g_assert_nonnull(strstr(j->error_description, "Terminated"));
        assert_job_failed_nothing_committed(f, id, remote, &before);
        g_assert_cmpint(model_get_job(f->engine->model, id)->state, ==, JOB_STATE_TERMINATED);

        /* Nothing of the probe fires later. */
        notes_clear(f);
        run_pending(f);
        g_assert_cmpuint(f->notes->len, ==, 0);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 4, &f->err), -EBADRQC);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 5, &f->err), -EBADRQC);
        snapshot_done(&before);
}

static void test_job_kill(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t id = start_add_job(f, f->collection, remote);

        /* Even before it ran. */
        request_state(f, id, 5);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_KILLED);
        g_assert_true(job_has_completed(f, id));
        run_pending(f);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_KILLED);
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        assert_model_is_stored(f);
}

static void test_job_suspend_resume(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t id = start_add_job(f, f->collection, remote);
        Model *stored;

        /* Suspended before it started, it does not start. */
        notes_clear(f);
        request_state(f, id, 3);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        g_assert_nonnull(strstr(only_change(f, OBJECT_JOB, id), "JobState"));
        run_pending(f);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        g_assert_false(job_has_completed(f, id));
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));

        /* A suspended job is neither suspended again nor does it block on a second resume. */
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 3, &f->err), -EBADRQC);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 6, &f->err), -EOPNOTSUPP);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 99, &f->err), -EINVAL);
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, 999, 2, &f->err), -ENOENT);

        notes_clear(f);
        request_state(f, id, 2);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_RUNNING);
        /* It never ran before, so this is its start. */
        g_assert_cmpuint(job(f, id)->start_time, >, 0);
        g_assert_nonnull(strstr(notes_find(f, NOTE_CHANGED, OBJECT_JOB, id, 0)->properties, "StartTime"));
        assert_failed(f, engine_job_request_state_change(f->engine, &f->caller, id, 2, &f->err), -EBADRQC);
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        stored = stored_model(f);
        g_assert_true(idset_contains(&model_get_collection(stored, f->collection)->remote_access_points, remote));
        model_free(stored);
}

static void on_stored(int error, void *userdata) {
        *(int *) userdata = error;
}

/* A state request whose group does not commit fails its caller and leaves the job as it was. */
static void request_state_unstored(Fixture *f, uint64_t id, uint16_t requested) {
        int stored = 1;

        g_assert_cmpint(store_fault_arm(f->engine->store, STORE_FAULT_COMMIT, 1), ==, 0);
        g_assert_cmpint(engine_job_request_state_change(f->engine, &f->caller, id, requested, &f->err), ==, 0);
        g_assert_cmpint(engine_when_stored(f->engine, on_stored, &stored), ==, 0);
        g_assert_cmpint(engine_flush(f->engine), <, 0);
        g_assert_cmpint(stored, <, 0);
}

static void test_job_suspend_resume_unstored(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t id = start_add_job(f, f->collection, remote);
        JobState before = job(f, id)->state;

        /* The suspend is not on record: the job is not suspended, announces nothing and goes on. */
        notes_clear(f);
        request_state_unstored(f, id, 3);
        g_assert_cmpint(job(f, id)->state, ==, before);
        g_assert_null(notes_find(f, NOTE_CHANGED, OBJECT_JOB, id, 0));
        assert_model_is_stored(f);

        /* Suspended for real; then a resume that is not on record leaves it suspended. */
        request_state(f, id, 3);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        request_state_unstored(f, id, 2);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        run_pending(f);
        g_assert_false(job_has_completed(f, id));
        assert_model_is_stored(f);

        request_state(f, id, 2);
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        assert_model_is_stored(f);
}

static void test_job_suspend_running_probe(Fixture *f, gconstpointer data) {
        uint64_t remote = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t id = start_add_job(f, f->collection, remote);
        const Note *change;
        uint64_t start_time;

        run_until(f, job_is_running, id, "job start");
        run_pending(f);

        /* Suspending drops the probe in flight; the job holds its collection still. */
        request_state(f, id, 3);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_SUSPENDED);
        g_assert_cmpuint(collection(f, f->collection)->job_id, ==, id);
        g_assert_true(engine_has_running_jobs(f->engine));
        run_pending(f);
        g_assert_false(job_has_completed(f, id));

        notes_clear(f);
        start_time = job(f, id)->start_time;
        g_assert_cmpuint(start_time, >, 0);
        request_state(f, id, 2);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_RUNNING);
        /* Resuming is not starting: StartTime stays, and is not announced. */
        g_assert_cmpuint(job(f, id)->start_time, ==, start_time);
        change = notes_find(f, NOTE_CHANGED, OBJECT_JOB, id, 0);
        g_assert_nonnull(change);
        g_assert_nonnull(strstr(change->properties, "JobState"));
        g_assert_null(strstr(change->properties, "StartTime"));
        run_pending(f);
        g_assert_false(job_has_completed(f, id));

        request_state(f, id, 4);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_TERMINATED);
        g_assert_false(engine_has_running_jobs(f->engine));
        g_assert_false(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        assert_model_is_stored(f);
}

static void test_job_limit_total(Fixture *f, gconstpointer data) {
        uint64_t hanging = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t listening = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        uint64_t second = create_collection(f, "second", NULL, false);
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, listening), NULL };
        uint64_t first_job, j = 0, c = 0;
        Snapshot before;
        MemberArgs a;

        first_job = start_add_job(f, f->collection, hanging);

        notes_clear(f);
        before = snapshot(f, true);
        assert_failed(f, add_to(f, second, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), -EDQUOT);
        assert_failed(f, engine_verify_access_point(f->engine, &f->caller, listening, &j, &f->err), -EDQUOT);
        assert_failed(f, engine_probe_peer_systems(f->engine, &f->caller, &j, &f->err), -EDQUOT);
        a = members(NULL, remotes, PATH(OBJECT_SYSTEM, f->peer));
        assert_failed(f, engine_create_collection(f->engine, &f->caller, "third", &a, true, false, &c, &j, &f->err),
                      -EDQUOT);
        /* The collection of the running job is busy before any limit counts. */
        assert_failed(f, add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), -EBUSY);
        assert_unchanged(f, &before, true);
        g_assert_cmpuint(f->notes->len, ==, 0);
        snapshot_done(&before);

        /* Changes that need no job are not limited. */
        g_assert_cmpint(add_to(f, second, (const char * const[]) { PATH(OBJECT_ACCESS_POINT, f->local1), NULL }, NULL,
                               NULL, &j), ==, 0);
        g_assert_cmpuint(j, ==, 0);

        /* Once the first has ended, the next may start. */
        request_state(f, first_job, 4);
        g_assert_cmpint(add_to(f, second, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &j), ==, 0);
        g_assert_cmpuint(j, !=, 0);
        wait_completed(f, j);
        g_assert_true(idset_contains(&collection(f, second)->remote_access_points, listening));
}

static void test_job_limit_per_user(Fixture *f, gconstpointer data) {
        uint64_t hanging = add_access_point(f, f->peer, HANG_ADDRESS, f->hang_port);
        uint64_t listening = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        Caller other = { .uid = 1001, .owner = ":1.43 (uid 1001)" };
        uint64_t j = 0;

        start_add_job(f, f->collection, hanging);
        assert_failed(f, engine_verify_access_point(f->engine, &f->caller, listening, &j, &f->err), -EDQUOT);
        j = start_job(f, &other, listening);
        g_assert_cmpuint(job(f, j)->started_by_uid, ==, 1001);
        wait_completed(f, j);
        g_assert_cmpint(job(f, j)->state, ==, JOB_STATE_COMPLETED);
}

static void test_job_verified_from_each_local(Fixture *f, gconstpointer data) {
        uint64_t local2 = add_access_point(f, LOCAL_SYSTEM_ID, "127.0.0.5", 3260);
        uint64_t remote = add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        const char *locals[] = { PATH(OBJECT_ACCESS_POINT, local2), NULL };
        const char *remotes[] = { PATH(OBJECT_ACCESS_POINT, remote), NULL };
        uint64_t id;

        /* The new local access point is part of the same call: the probe runs from both. */
        g_assert_cmpint(add_to(f, f->collection, locals, remotes, PATH(OBJECT_SYSTEM, f->peer), &id), ==, 0);
        g_assert_cmpuint(id, !=, 0);
        g_assert_nonnull(job(f, id));
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_true(idset_contains(&collection(f, f->collection)->local_access_points, local2));
        g_assert_true(idset_contains(&collection(f, f->collection)->remote_access_points, remote));
        g_assert_cmpstr(notes_find(f, NOTE_CHANGED, OBJECT_COLLECTION, f->collection, 1)->properties, ==,
                        "LocalAccessPoints,RemoteAccessPoints,RemoteSystems");
        /* Two probes, each verdict recorded. */
        g_assert_cmpuint(notes_count(f, NOTE_CHANGED, OBJECT_ACCESS_POINT, remote), >=, 2);
        assert_model_is_stored(f);
}

static bool note_is_progress(const Note *n) {
        return n->type == NOTE_CHANGED && n->kind == OBJECT_JOB &&
               (strstr(n->properties, "PercentComplete") || strstr(n->properties, "ExpectedEndTime"));
}

/*
 * Many probes that all succeed at once: between the announcement of the start
 * and the final one, PercentComplete and ExpectedEndTime are sent at most once
 * per progress interval, and the final announcement carries 100.
 */
static void test_job_progress_rate_limited(Fixture *f, gconstpointer data) {
        enum { N_PORTALS = 24 };
        const uint64_t interval = f->engine->config.progress_interval_usec;
        const char *remotes[N_PORTALS + 1] = {};
        int fds[N_PORTALS];
        uint64_t id, last_emit = 0;
        unsigned intermediate = 0;
        const Note *final = NULL;

        for (size_t i = 0; i < N_PORTALS; i++) {
                uint16_t port;

                fds[i] = socket_on(LISTEN_ADDRESS, &port);
                g_assert_cmpint(listen(fds[i], 8), ==, 0);
                remotes[i] = g_strdup(PATH(OBJECT_ACCESS_POINT, add_access_point(f, f->peer, LISTEN_ADDRESS, port)));
        }
        notes_clear(f);
        g_assert_cmpint(add_to(f, f->collection, NULL, remotes, PATH(OBJECT_SYSTEM, f->peer), &id), ==, 0);
        g_assert_nonnull(job(f, id));
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(job(f, id)->percent_complete, ==, 100);

        for (guint i = 0; i < f->notes->len; i++) {
                const Note *n = f->notes->pdata[i];

                if (n->type != NOTE_CHANGED || n->kind != OBJECT_JOB || n->id != id)
                        continue;
                if (strstr(n->properties, "JobState")) {
                        /* The start and the end are state changes and carry the progress as it is then. */
                        if (note_is_progress(n))
                                final = n;
                } else if (note_is_progress(n)) {
                        g_test_message("progress %s at %" PRIu64 " us", n->properties, n->monotonic);
                        g_assert_cmpuint(n->monotonic, >=, last_emit + interval);
                        intermediate++;
                } else
                        continue;
                last_emit = n->monotonic;
        }
        g_assert_nonnull(final);
        g_assert_nonnull(strstr(final->properties, "PercentComplete"));
        g_assert_nonnull(strstr(final->properties, "JobState"));
        g_assert_true(final == notes_find(f, NOTE_CHANGED, OBJECT_JOB, id,
                                          notes_count(f, NOTE_CHANGED, OBJECT_JOB, id) - 1));
        /* The job took less than one interval, so nothing came between start and end. */
        g_assert_cmpuint(intermediate, ==, 0);

        for (size_t i = 0; i < N_PORTALS; i++) {
                g_free((char *) remotes[i]);
                close(fds[i]);
        }
}

static void test_job_verify_access_points(Fixture *f, gconstpointer data) {
        uint64_t refusing = add_access_point(f, f->peer, REFUSE_ADDRESS, f->refuse_port);
        Model *stored;
        uint64_t id;

        /* An access point of this host is verified by binding to its address. */
        id = start_job(f, &f->caller, f->local1);
        g_assert_cmpstr(job(f, id)->name, ==, "Verify");
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_COMPLETED);

        /* A failed verification is a finding: recorded on the access point and stored. */
        id = start_job(f, &f->caller, refusing);
        wait_completed(f, id);
        g_assert_cmpint(job(f, id)->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpuint(job(f, id)->error_code, ==, CIM_FAILED);
        g_assert_cmpint(model_get_access_point(f->engine->model, refusing)->reachable, ==, REACHABLE_NO);
        g_assert_cmpstr(model_get_access_point(f->engine->model, refusing)->last_error, !=, "");
        g_assert_cmpint(model_get_system(f->engine->model, f->peer)->reachable, ==, REACHABLE_NO);
        stored = stored_model(f);
        g_assert_cmpint(model_get_access_point(stored, refusing)->reachable, ==, REACHABLE_NO);
        g_assert_cmpstr(model_get_access_point(stored, refusing)->last_error, ==,
                        model_get_access_point(f->engine->model, refusing)->last_error);
        g_assert_cmpint(model_get_system(stored, f->peer)->reachable, ==, REACHABLE_NO);
        model_free(stored);

        assert_failed(f, engine_verify_access_point(f->engine, &f->caller, 999, &id, &f->err), -ENOENT);
}

static void test_job_probe_peers(Fixture *f, gconstpointer data) {
        uint64_t silent = add_peer(f, "iqn.2024-01.org.example:silent");
        uint64_t idle = add_peer(f, "iqn.2024-01.org.example:idle");
        g_autofree char *affected = NULL;
        uint64_t id;
        Job *j;

        add_access_point(f, f->peer, REFUSE_ADDRESS, f->refuse_port);
        add_access_point(f, f->peer, LISTEN_ADDRESS, f->listen_port);
        add_access_point(f, silent, REFUSE_ADDRESS, f->refuse_port);
        (void) idle;            /* no access point: nothing to ask */

        id = start_job(f, &f->caller, 0);
        g_assert_cmpstr(job(f, id)->name, ==, "GetPeerSystems");
        wait_completed(f, id);

        /* A peer answers when any of its access points does; a refusal is a finding, not a failure. */
        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        affected = g_strjoinv(",", j->affected_elements);
        g_assert_cmpstr(affected, ==, PATH(OBJECT_SYSTEM, f->peer));
        g_assert_cmpint(model_get_system(f->engine->model, f->peer)->reachable, ==, REACHABLE_YES);
        g_assert_cmpint(model_get_system(f->engine->model, silent)->reachable, ==, REACHABLE_NO);
        g_assert_cmpint(model_get_system(f->engine->model, idle)->reachable, ==, REACHABLE_UNKNOWN);
        assert_model_is_stored(f);
}

/*
 * Many peers in four kinds: a listening and a refusing access point, only a
 * refusing one, two listening ones, none. The answer lists each peer with a
 * listening access point once, in the model's order, and nothing else.
 */
static void test_job_probe_many_peers(Fixture *f, gconstpointer data) {
        enum { N_PEERS = 60 };
        g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *affected = NULL, *want = NULL;
        uint16_t second_port;
        int second_fd;
        uint64_t id;
        Job *j;

        second_fd = socket_on(LISTEN_ADDRESS, &second_port);
        g_assert_cmpint(listen(second_fd, 64), ==, 0);
        for (unsigned i = 0; i < N_PEERS; i++) {
                g_autofree char *name = g_strdup_printf("iqn.2024-01.org.example:peer%u", i);
                uint64_t peer = add_peer(f, name);

                switch (i % 4) {
                case 0:
                        add_access_point(f, peer, REFUSE_ADDRESS, f->refuse_port);
                        add_access_point(f, peer, LISTEN_ADDRESS, f->listen_port);
                        break;
                case 1:
                        add_access_point(f, peer, REFUSE_ADDRESS, f->refuse_port);
                        break;
                case 2:
                        add_access_point(f, peer, LISTEN_ADDRESS, second_port);
                        add_access_point(f, peer, LISTEN_ADDRESS, f->listen_port);
                        break;
                default:
                        break;
                }
                if (i % 2 == 0)
                        g_ptr_array_add(expected, g_strdup(PATH(OBJECT_SYSTEM, peer)));
        }
        g_ptr_array_add(expected, NULL);

        id = start_job(f, &f->caller, 0);
        wait_completed(f, id);

        j = job(f, id);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        affected = g_strjoinv(",", j->affected_elements);
        want = g_strjoinv(",", (char **) expected->pdata);
        g_assert_cmpstr(affected, ==, want);
        assert_model_is_stored(f);
        close(second_fd);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        /* The engine logs every change at info; keep the TAP output readable. */
        log_set_max_level(g_getenv("TEST_ENGINE_DEBUG") ? LOG_DEBUG : LOG_WARNING);

#define ADD(path, setup_fn, fn) g_test_add(path, Fixture, NULL, setup_fn, fn, teardown)
        ADD("/engine/jobs/verified-add", setup_world, test_job_verified_add);
        ADD("/engine/jobs/verified-create", setup_world, test_job_verified_create);
        ADD("/engine/jobs/verified-from-each-local", setup_world, test_job_verified_from_each_local);
        ADD("/engine/jobs/verify-access-points", setup_world, test_job_verify_access_points);
        ADD("/engine/jobs/progress-rate-limited", setup_slow_progress, test_job_progress_rate_limited);
        ADD("/engine/jobs/probe-peers", setup_world, test_job_probe_peers);
        ADD("/engine/jobs/probe-many-peers", setup_world, test_job_probe_many_peers);
        ADD("/engine/jobs/refused", setup_world, test_job_refused);
        ADD("/engine/jobs/timeout", setup_short_probes, test_job_timeout);
        ADD("/engine/jobs/terminate", setup_world, test_job_terminate);
        ADD("/engine/jobs/kill", setup_world, test_job_kill);
        ADD("/engine/jobs/suspend-resume", setup_world, test_job_suspend_resume);
        ADD("/engine/jobs/suspend-running-probe", setup_world, test_job_suspend_running_probe);
        ADD("/engine/jobs/suspend-resume-unstored", setup_world, test_job_suspend_resume_unstored);
        ADD("/engine/jobs/limit-total", setup_one_running_job, test_job_limit_total);
        ADD("/engine/jobs/limit-per-user", setup_one_job_per_user, test_job_limit_per_user);
#undef ADD

        return g_test_run();
}
