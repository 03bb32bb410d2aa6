/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When replica cycles run: one timer for the earliest NextSyncTime of the
 * synchronizations that wait for their next cycle, the limit of cycles
 * running at once (a scheduled cycle due while every slot is taken waits
 * Dormant without a job, so that waiting cycles never fill the job limits;
 * a cycle a caller asked for waits as a queued job), and what a start of the
 * service finds: a synchronization left mid-cycle by a stop or a crash
 * comes back Broken with LastErrorID Interrupted — its resume point and the
 * hashes confirmed so far are kept, so Resync continues where it stopped —
 * and the schedule of the others is armed again.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "change.h"
#include "replica-internal.h"
#include "util/log.h"
#include "util/strutil.h"

#define INTERRUPTED_CYCLE_MESSAGE "Interrupted: the service stopped during the cycle; Resync continues it."

/* Waits for its next cycle at next_sync_time, no job holding it yet. */
static bool is_scheduled(const Synchronization *s) {
        return s->job_id == 0 && s->next_sync_time != 0 && s->copy_state != COPY_STATE_SUSPENDED &&
               s->copy_state != COPY_STATE_BROKEN && s->copy_state != COPY_STATE_FRACTURED;
}

/* Due while every cycle slot is taken: Dormant, no job (a job would count against the job limits). */
static void mark_waiting(Engine *e, const Synchronization *s) {
        ReplError err = REPL_ERROR_INIT;
        Synchronization *u;
        Change *ch;

        if (s->progress_status == PROGRESS_STATUS_DORMANT)
                return;
        u = synchronization_copy(s);
        if (!u || change_begin(e, NULL, &ch, &err) < 0) {
                synchronization_free(u);
                return;
        }
        u->progress_status = PROGRESS_STATUS_DORMANT;
        replica_change_sync(ch, e, u);
        (void) change_submit(ch, &err);
}

static bool slots_taken(Engine *e) {
        return replica_count_cycle_jobs(e) >= e->config.max_running_cycles;
}

static int on_replica_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        Engine *e = userdata;
        uint64_t now = now_usec(CLOCK_REALTIME);

        e->replica_timer = sd_event_source_disable_unref(e->replica_timer);
        for (size_t i = 0; i < e->model->synchronizations.n; i++) {
                Synchronization *s = e->model->synchronizations.items[i];
                ReplError err = REPL_ERROR_INIT;
                uint64_t job;

                engine_settle(e, s->id);
                if (!is_scheduled(s) || s->next_sync_time > now)
                        continue;
                if (slots_taken(e))
                        mark_waiting(e, s);
                else if (replica_start_cycle(e, NULL, s, "ScheduledCycle", &job, &err) < 0)
                        log_warning("Failed to start the scheduled cycle of synchronization %" PRIu64 ": %s", s->id,
                                    err.message);
        }
        /* The started cycles are in the model once committed, so that the timer looks past them. */
        (void) engine_flush(e);
        replica_schedule_update(e);
        return 0;
}

void replica_schedule_update(Engine *e) {
        uint64_t next = UINT64_MAX;

        if (e->shutting_down)
                return;
        /* While every slot is taken, the end of a cycle (replica_after_cycle()) looks again. */
        if (!slots_taken(e))
                MODEL_FOREACH(Synchronization, s, e->model->synchronizations)
                        if (is_scheduled(s))
                                next = MIN(next, s->next_sync_time);
        if (next == UINT64_MAX) {
                e->replica_timer = sd_event_source_disable_unref(e->replica_timer);
                return;
        }
        if (e->replica_timer) {
                if (sd_event_source_set_time(e->replica_timer, next) >= 0 &&
                    sd_event_source_set_enabled(e->replica_timer, SD_EVENT_ONESHOT) >= 0)
                        return;
                e->replica_timer = sd_event_source_disable_unref(e->replica_timer);
        }
        if (sd_event_add_time(e->event, &e->replica_timer, CLOCK_REALTIME, next, 0, on_replica_timer, e) < 0)
                log_warning("Failed to arm the replica schedule; cycles run on Resync only until the next change");
}

void replica_after_cycle(Engine *e, void *data) {
        replica_schedule_update(e);
        jobs_start_queued(e);
}

static bool was_mid_cycle(const Synchronization *s) {
        return s->progress_status == PROGRESS_STATUS_INITIALIZING || s->progress_status == PROGRESS_STATUS_SYNCHRONIZING ||
               s->progress_status == PROGRESS_STATUS_RESYNCING;
}

int replica_recover(Engine *e) {
        ReplError err = REPL_ERROR_INIT;
        Change *ch;
        int r;

        r = change_begin(e, NULL, &ch, &err);
        if (r < 0)
                return log_error_errno(r, "Failed to recover the synchronizations of the previous run: %s", err.message);
        MODEL_FOREACH(Synchronization, s, e->model->synchronizations) {
                if (!was_mid_cycle(s))
                        continue;
                /* Nothing observes the model yet: the stored row and the model change together. */
                s->copy_state = COPY_STATE_BROKEN;
                s->progress_status = PROGRESS_STATUS_DORMANT;
                s->next_sync_time = 0;
                s->last_error_reason = REASON_INTERRUPTED;
                if (free_and_strdup(&s->last_error, INTERRUPTED_CYCLE_MESSAGE) < 0)
                        change_fail(ch, -ENOMEM);
                change_save(ch, OBJECT_SYNCHRONIZATION, s);
                log_info("synchronization %" PRIu64 " was mid-cycle when the service stopped; it is Broken until Resync "
                         "(resumes at chunk %" PRIu64 ")", s->id, s->resume_chunk);
        }
        r = change_submit(ch, &err);
        if (r >= 0)
                r = engine_flush(e);
        if (r < 0)
                return log_error_errno(r, "Failed to recover the synchronizations of the previous run");
        replica_schedule_update(e);
        return 0;
}
