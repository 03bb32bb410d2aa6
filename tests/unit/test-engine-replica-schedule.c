/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: when replica cycles run and what a stop leaves (API.md section
 * 10), against two real targets (engine-replica-fixture.h): a crash or a
 * stop mid-cycle, the running-cycle limit, the CycleInterval schedule.
 * Skipped without root or tgt.
 */

#include <glib.h>
#include <string.h>

#include "engine-replica-fixture.h"

/* A crash mid-cycle (the engine freed without a shutdown), a restart, Resync: the copy ends equal, sending less. */
static void test_restart_mid_cycle(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_bandwidth_limit = true, .bandwidth_limit = 4 * 1024 * 1024 };
        uint64_t id, job = 0, resume;
        Synchronization *s;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        run_until(f, sync_has_confirmed, id, "a first confirmation");
        (void) engine_flush(f->engine);
        resume = model_get_synchronization(f->engine->model, id)->resume_chunk;
        f->engine = engine_free(f->engine);
        g_hash_table_remove_all(f->completed);

        engine_start(f);
        s = sync_of(f, id);
        g_assert_nonnull(s);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpint(s->last_error_reason, ==, REASON_INTERRUPTED);
        g_assert_cmpuint(s->resume_chunk, >=, resume);
        g_assert_cmpint(model_get_job(f->engine->model, job)->state, ==, JOB_STATE_EXCEPTION);
        resume = s->resume_chunk;

        SyncSettings lift = { .set_bandwidth_limit = true, .bandwidth_limit = 0 };
        g_assert_cmpint(engine_modify_synchronization(f->engine, &f->caller, id, &lift, &f->err), ==, 0);
        g_assert_cmpint(wait_job(f, operate(f, id, REPLICA_OPERATION_RESYNC, 0))->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->bytes_transferred, <, VOLUME_SIZE);
        g_assert_cmpuint(s->bytes_transferred, ==, VOLUME_SIZE - resume * CHUNK);
        g_assert_true(files_equal(f));
}


/* More cycles than the limit wait, Dormant with NextSyncTime set, and start when one ends. */
static void test_cycle_limit(Fixture *f, gconstpointer data) {
        SyncSettings slow = { .set_bandwidth_limit = true, .bandwidth_limit = 8 * 1024 * 1024 };
        uint64_t a, b, ja = 0, jb = 0, source2, copy2;
        Synchronization *s;
        Job *j;

        SKIP_WITHOUT_TGTD();
        tgtd_add_target(f->local, SOURCE_TARGET "2");
        tgtd_add_target(f->remote, COPY_TARGET "2");
        source2 = add_volume(f, f->local_ap, SOURCE_TARGET "2", 1, &j);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        copy2 = add_volume(f, f->remote_ap, COPY_TARGET "2", 1, &j);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        f->engine->config.max_running_cycles = 1;

        a = create_replica(f, SYNC_TYPE_MIRROR, &slow, &ja);
        run_until(f, job_is_running, ja, "the first cycle running");
        b = create_replica_of(f, SYNC_TYPE_MIRROR, NULL, source2, copy2, &jb);
        run_until(f, sync_has_confirmed, a, "a confirmation of the first cycle");
        s = sync_of(f, b);
        g_assert_cmpint(model_get_job(f->engine->model, jb)->state, ==, JOB_STATE_NEW);
        g_assert_cmpint(s->progress_status, ==, PROGRESS_STATUS_DORMANT);
        g_assert_cmpuint(s->next_sync_time, >, 0);
        g_assert_cmpuint(s->job_id, ==, jb);

        g_assert_cmpint(wait_job(f, ja)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(wait_job(f, jb)->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, b);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->next_sync_time, ==, s->last_sync_time + s->cycle_interval);
        g_assert_cmpint(sync_of(f, a)->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_true(files_equal(f));
}

/* A Mirror's next cycle runs CycleInterval after the last one ended. */
static void test_schedule(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_cycle_interval = true, .cycle_interval = 50 * USEC_PER_MSEC };
        uint64_t id, job = 0, next;
        Synchronization *s;
        Job *j;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpuint(s->next_sync_time, ==, s->last_sync_time + 50 * USEC_PER_MSEC);
        scribble(f->local->backing_file, 17);
        f->watched_sync = id;
        run_until(f, sync_has_other_job, job, "a scheduled cycle");
        next = sync_of(f, id)->job_id;
        j = wait_job(f, next);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpstr(j->name, ==, "ScheduledCycle");
        g_assert_cmpuint(sync_of(f, id)->bytes_transferred, ==, CHUNK);
        g_assert_true(files_equal(f));
        /* Suspended: no more scheduled cycles. */
        operate(f, id, REPLICA_OPERATION_SUSPEND, 0);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SUSPENDED);
        g_assert_cmpuint(s->job_id, ==, 0);
        g_assert_null(f->engine->replica_timer);
}

/* A stop of the service mid-cycle: the job ends Interrupted and the synchronization is stored Broken. */
static void test_shutdown_mid_cycle(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_bandwidth_limit = true, .bandwidth_limit = 4 * 1024 * 1024 };
        uint64_t id, job = 0, resume;
        Synchronization *s;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        run_until(f, sync_has_confirmed, id, "a first confirmation");
        engine_shutdown(f->engine);
        g_assert_cmpint(model_get_job(f->engine->model, job)->state, ==, JOB_STATE_EXCEPTION);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpint(s->last_error_reason, ==, REASON_INTERRUPTED);
        resume = s->resume_chunk;
        g_assert_cmpuint(resume, >, 0);
        f->engine = engine_free(f->engine);

        engine_start(f);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpuint(s->resume_chunk, ==, resume);
        g_assert_cmpint(s->last_error_reason, ==, REASON_INTERRUPTED);
}

static bool sync_waits_dormant(Fixture *f, uint64_t id) {
        Synchronization *s = model_get_synchronization(f->engine->model, id);

        return s && s->progress_status == PROGRESS_STATUS_DORMANT && s->job_id == 0 && s->next_sync_time != 0;
}

/* A scheduled cycle due while every slot is taken waits Dormant without a job, and runs when the slot frees. */
static void test_schedule_waits(Fixture *f, gconstpointer data) {
        SyncSettings often = { .set_cycle_interval = true, .cycle_interval = 50 * USEC_PER_MSEC };
        SyncSettings slow = { .set_bandwidth_limit = true, .bandwidth_limit = 8 * 1024 * 1024 };
        uint64_t a, b, ja = 0, jb = 0, source2, copy2;
        Job *j;

        SKIP_WITHOUT_TGTD();
        tgtd_add_target(f->local, SOURCE_TARGET "2");
        tgtd_add_target(f->remote, COPY_TARGET "2");
        source2 = add_volume(f, f->local_ap, SOURCE_TARGET "2", 1, &j);
        copy2 = add_volume(f, f->remote_ap, COPY_TARGET "2", 1, &j);
        f->engine->config.max_running_cycles = 1;

        b = create_replica_of(f, SYNC_TYPE_MIRROR, &often, source2, copy2, &jb);
        g_assert_cmpint(wait_job(f, jb)->state, ==, JOB_STATE_COMPLETED);
        a = create_replica(f, SYNC_TYPE_MIRROR, &slow, &ja);
        run_until(f, job_is_running, ja, "the slow cycle running");
        run_until(f, sync_waits_dormant, b, "the scheduled cycle waiting");
        g_assert_cmpuint(model_count_running_jobs(f->engine->model, false, 0), ==, 1);
        g_assert_null(f->engine->replica_timer);

        g_assert_cmpint(wait_job(f, ja)->state, ==, JOB_STATE_COMPLETED);
        f->watched_sync = b;
        run_until(f, sync_has_other_job, jb, "the waiting cycle starting");
        g_assert_cmpint(wait_job(f, sync_of(f, b)->job_id)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(sync_of(f, a)->copy_state, ==, COPY_STATE_SYNCHRONIZED);
}

/* A start of the service arms the schedule again: the timer fires at the stored NextSyncTime. */
static void test_schedule_rearmed(Fixture *f, gconstpointer data) {
        SyncSettings hourly = { .set_cycle_interval = true, .cycle_interval = 3600 * USEC_PER_SEC };
        uint64_t id, job = 0, next, when = 0;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &hourly, &job);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        next = sync_of(f, id)->next_sync_time;
        g_assert_cmpuint(next, ==, sync_of(f, id)->last_sync_time + 3600 * USEC_PER_SEC);
        g_assert_nonnull(f->engine->replica_timer);
        f->engine = engine_free(f->engine);

        engine_start(f);
        g_assert_cmpuint(sync_of(f, id)->next_sync_time, ==, next);
        g_assert_nonnull(f->engine->replica_timer);
        g_assert_cmpint(sd_event_source_get_time(f->engine->replica_timer, &when), >=, 0);
        g_assert_cmpuint(when, ==, next);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/engine-replica/restart-mid-cycle", test_restart_mid_cycle);
        ADD("/engine-replica/shutdown-mid-cycle", test_shutdown_mid_cycle);
        ADD("/engine-replica/cycle-limit", test_cycle_limit);
        ADD("/engine-replica/schedule", test_schedule);
        ADD("/engine-replica/schedule-waits", test_schedule_waits);
        ADD("/engine-replica/schedule-rearmed", test_schedule_rearmed);
        return g_test_run();
}
