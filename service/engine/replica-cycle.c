/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The job work of a replica cycle and of a comparison (API.md section 10):
 * net/copy.c does the I/O; this file gives it the endpoints and the hash
 * table's callbacks (replica-hashes.c), announces progress rate-limited,
 * and adds the cycle's outcome to the job's final change.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "change.h"
#include "net/copy.h"
#include "replica-internal.h"
#include "util/log.h"
#include "util/strutil.h"

void *replica_work_new(Engine *e, uint64_t sync_id, bool compare) {
        ReplicaWork *w = calloc(1, sizeof(ReplicaWork));

        if (!w)
                return NULL;
        *w = (ReplicaWork) { .engine = e, .sync_id = sync_id, .compare = compare };
        return w;
}

static void work_halt(ReplicaWork *w) {
        if (w->copy) {
                copy_get_progress(w->copy, &w->progress);
                w->copy = copy_free(w->copy);
        }
        w->tick = sd_event_source_disable_unref(w->tick);
}

static void work_free(void *data) {
        ReplicaWork *w = data;

        if (!w)
                return;
        work_halt(w);
        free(w->block);
        free(w);
}

JobRuntime *replica_find_job(Engine *e, uint64_t sync_id, bool compare) {
        const JobWorkOps *ops = compare ? &replica_compare_ops : &replica_cycle_ops;

        MODEL_FOREACH(Job, j, e->model->jobs) {
                JobRuntime *rt = j->runtime;

                if (rt && rt->running && rt->work_ops == ops && work_of(rt)->sync_id == sync_id)
                        return rt;
        }
        return NULL;
}

size_t replica_count_running_cycles(Engine *e) {
        size_t n = 0;

        MODEL_FOREACH(Job, j, e->model->jobs) {
                JobRuntime *rt = j->runtime;

                if (rt && rt->running && rt->work_ops == &replica_cycle_ops && j->state == JOB_STATE_RUNNING)
                        n++;
        }
        return n;
}

size_t replica_count_cycle_jobs(Engine *e) {
        size_t n = 0;

        MODEL_FOREACH(Job, j, e->model->jobs) {
                JobRuntime *rt = j->runtime;

                if (rt && rt->running && rt->work_ops == &replica_cycle_ops)
                        n++;
        }
        return n;
}

void replica_work_set_bandwidth_limit(JobRuntime *rt, uint64_t bytes_per_second) {
        ReplicaWork *w = work_of(rt);

        if (w->copy)
                copy_set_bandwidth_limit(w->copy, bytes_per_second);
}

void replica_stop_job(JobRuntime *rt, bool detach, const Caller *c) {
        ReplicaWork *w = work_of(rt);
        char desc[256];

        if (detach) {
                w->detached = true;
                snprintf(desc, sizeof(desc), "Terminated: uid %" PRIu32 " detached the synchronization.", c ? c->uid : 0);
                job_finish(rt, JOB_STATE_TERMINATED, REASON_TERMINATED, CIM_OK, desc, NULL_PATH);
                return;
        }
        w->suspended = true;
        snprintf(desc, sizeof(desc), "Suspended by uid %" PRIu32 "; Resume or Resync continues the cycle.", c ? c->uid : 0);
        job_finish(rt, JOB_STATE_TERMINATED, REASON_SUSPENDED, CIM_OK, desc, NULL_PATH);
}

/* ---- the copy's end ---- */

void replica_progress_into(const ReplicaWork *w, Synchronization *s) {
        s->bytes_scanned = w->progress.bytes_scanned;
        s->bytes_transferred = w->progress.bytes_transferred;
}

static void on_copy_done(Copy *c, int error, Reason reason, const char *message, void *userdata) {
        JobRuntime *rt = userdata;
        ReplicaWork *w = work_of(rt);
        char p[OBJECT_PATH_MAX], desc[1024];

        /* The message lives in the copy: keep it before the copy goes. */
        copy_get_progress(c, &w->progress);
        if (w->compare && error >= 0)
                snprintf(desc, sizeof(desc), "%" PRIu64 " chunks differ: %s", w->progress.chunks_differing, message);
        else
                snprintf(desc, sizeof(desc), "%s", message);
        w->copy = copy_free(w->copy);
        path_of(p, OBJECT_SYNCHRONIZATION, w->sync_id);
        if (error < 0) {
                job_finish(rt, JOB_STATE_EXCEPTION, reason, CIM_FAILED, desc, p);
                return;
        }
        if (w->compare && w->progress.chunks_differing > 0) {
                job_finish(rt, JOB_STATE_EXCEPTION, REASON_REPLICA_DIFFERS, CIM_FAILED, desc, p);
                return;
        }
        job_finish(rt, JOB_STATE_COMPLETED, REASON_NONE, CIM_OK, "", NULL_PATH);
}

/* ---- progress ---- */

static void report_progress(JobRuntime *rt) {
        ReplicaWork *w = work_of(rt);
        Synchronization *s = model_get_synchronization(w->engine->model, w->sync_id);
        const CopyProgress *g = &w->progress;
        const char *props[6];
        uint64_t n_chunks = MAX(g->n_chunks, 1), done_chunks, total_mib, done_mib, end = 0, now;
        unsigned percent;
        char status[160];
        size_t k = 0;

        if (!s || g->n_chunks == 0)
                return;
        total_mib = (w->first_chunk * (uint64_t) s->chunk_size + g->bytes_total) >> 20;
        done_mib = (w->first_chunk * (uint64_t) s->chunk_size + g->bytes_scanned) >> 20;
        done_chunks = w->first_chunk + (g->bytes_scanned + s->chunk_size - 1) / s->chunk_size;
        percent = (unsigned) (MIN(done_chunks, n_chunks) * 100 / n_chunks);
        now = now_usec(CLOCK_REALTIME);
        if (g->bytes_scanned > 0 && rt->job->start_time && now > rt->job->start_time)
                end = now + (uint64_t) ((double) (now - rt->job->start_time) * (double) (g->bytes_total - g->bytes_scanned) /
                                        (double) g->bytes_scanned);
        if (w->compare)
                snprintf(status, sizeof(status), "Compared %" PRIu64 " of %" PRIu64 " MiB; %" PRIu64 " chunks differ.",
                         done_mib, total_mib, g->chunks_differing);
        else
                snprintf(status, sizeof(status), "Copied %" PRIu64 " of %" PRIu64 " MiB at %" PRIu64 " MiB/s.", done_mib,
                         total_mib, g->rate >> 20);
        job_report_progress(rt, percent, end, status);
        if (w->compare)
                return;
        /* Not stored on every tick: stored at confirmations and at the end. */
        if (s->percent != percent) {
                s->percent = (uint16_t) percent;
                props[k++] = "PercentSynced";
        }
        if (s->bytes_scanned != g->bytes_scanned) {
                s->bytes_scanned = g->bytes_scanned;
                props[k++] = "BytesScanned";
        }
        if (s->bytes_transferred != g->bytes_transferred) {
                s->bytes_transferred = g->bytes_transferred;
                props[k++] = "BytesTransferred";
        }
        if (s->rate != g->rate) {
                s->rate = g->rate;
                props[k++] = "Rate";
        }
        props[k] = NULL;
        engine_notify_changed_strv(w->engine, OBJECT_SYNCHRONIZATION, s->id, props);
}

static int on_tick(sd_event_source *src, uint64_t usec, void *userdata) {
        JobRuntime *rt = userdata;
        ReplicaWork *w = work_of(rt);

        if (w->copy) {
                copy_get_progress(w->copy, &w->progress);
                report_progress(rt);
        }
        (void) sd_event_source_set_time_relative(src, MAX(rt->engine->config.progress_interval_usec, USEC_PER_MSEC));
        (void) sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
        return 0;
}

/* ---- the work ---- */

void replica_set_running_state(Synchronization *u) {
        if (u->copy_state == COPY_STATE_INITIALIZED)
                u->progress_status = PROGRESS_STATUS_INITIALIZING;
        else if (u->copy_state == COPY_STATE_SYNCHRONIZED)
                u->progress_status = PROGRESS_STATUS_SYNCHRONIZING;
        else {
                u->copy_state = COPY_STATE_UNSYNCHRONIZED;
                u->progress_status = PROGRESS_STATUS_RESYNCING;
        }
}

/* The synchronization is marked as running this cycle: ProgressStatus, Job, no next time; a resync leaves Broken, Fractured or Suspended. */
static void mark_running(JobRuntime *rt, const Synchronization *s) {
        Engine *e = rt->engine;
        ReplError err = REPL_ERROR_INIT;
        Synchronization *u = synchronization_copy(s);
        Change *ch;

        if (!u || change_begin(e, NULL, &ch, &err) < 0) {
                synchronization_free(u);
                log_warning("Failed to store the start of a cycle of synchronization %" PRIu64, s->id);
                return;
        }
        replica_set_running_state(u);
        u->next_sync_time = 0;
        u->job_id = rt->job->id;
        u->bytes_scanned = u->bytes_transferred = 0;
        replica_change_sync(ch, e, u);
        (void) change_submit(ch, &err);
}

static int start_copy(JobRuntime *rt, const Synchronization *s, char desc[static 512], char source_path[static OBJECT_PATH_MAX]) {
        ReplicaWork *w = work_of(rt);
        Engine *e = w->engine;
        const Volume *src = model_get_volume(e->model, s->source_volume_id), *dst = model_get_volume(e->model, s->copy_volume_id);
        const AccessPoint *sap = src ? model_get_access_point(e->model, src->access_point_id) : NULL;
        const AccessPoint *dap = dst ? model_get_access_point(e->model, dst->access_point_id) : NULL;
        VolumeEndpoint source, target;
        CopyParameters p;
        int r;

        if (!sap || !dap) {
                snprintf(desc, 512, "A volume or access point of the synchronization is gone.");
                return -ENOENT;
        }
        if (!w->block) {
                w->block = malloc(sizeof(ChunkHashBlock));
                if (!w->block) {
                        snprintf(desc, 512, "Out of memory.");
                        return -ENOMEM;
                }
        }
        w->block_loaded = false;        /* confirmations may have changed it since */
        w->run++;                       /* a gate's ticket from an earlier run is not this copy's */
        w->first_chunk = w->compare || s->resume_chunk > volume_n_chunks(src, s->chunk_size) ? 0 : s->resume_chunk;
        /* The source through its local access point, the copy through its remote one, both from the local address. */
        source = replica_endpoint(e, src, sap, sap->address);
        target = replica_endpoint(e, dst, dap, sap->address);
        p = (CopyParameters) {
                .chunk_size = s->chunk_size,
                .first_chunk = w->first_chunk,
                .compare = w->compare,
                .bandwidth_limit = w->compare ? 0 : s->bandwidth_limit,
                .login_timeout_usec = e->config.probe_timeout_usec,
                .previous_hash = w->compare ? NULL : replica_previous_hash,
                .unconfirm = w->compare ? NULL : replica_unconfirm,
                .confirmed = w->compare ? NULL : replica_confirmed,
                .done = on_copy_done,
                .userdata = rt,
        };
        w->progress = (CopyProgress) { .resume_chunk = w->first_chunk };
        r = copy_start(e->event, &source, &target, &p, &w->copy);
        if (r < 0) {
                snprintf(desc, 512, "The cycle could not be started: %s.", strerror(-r));
                path_of(source_path, OBJECT_VOLUME, src->id);
                return r;
        }
        w->started = true;
        return 0;
}

static void work_start(JobRuntime *rt) {
        ReplicaWork *w = work_of(rt);
        Engine *e = w->engine;
        char desc[512], p[OBJECT_PATH_MAX];
        const Synchronization *s;
        int r;

        engine_settle(e, w->sync_id);
        s = model_get_synchronization(e->model, w->sync_id);
        strcpy(p, NULL_PATH);
        r = s ? start_copy(rt, s, desc, p) : -ENOENT;
        if (r < 0) {
                job_finish(rt, JOB_STATE_EXCEPTION, REASON_NONE, CIM_FAILED, s ? desc : "The synchronization is gone.", p);
                return;
        }
        if (sd_event_add_time_relative(e->event, &w->tick, CLOCK_MONOTONIC,
                                       MAX(e->config.progress_interval_usec, USEC_PER_MSEC), 0, on_tick, rt) < 0)
                log_warning("Failed to arm the progress timer of job %" PRIu64 "; its progress is not announced", rt->job->id);
        if (!w->compare)
                mark_running(rt, s);
        report_progress(rt);
}

static void work_stop(JobRuntime *rt) {
        ReplicaWork *w = work_of(rt);

        work_halt(w);
        /* The end change is built from the model: let the confirmations pending reach it first. */
        engine_settle(w->engine, w->sync_id);
}

/* What a cycle's end leaves on the synchronization: Synchronized or Fractured, Suspended, or Broken. */
static void cycle_outcome(JobRuntime *rt, Synchronization *u) {
        const Job *j = rt->job;
        ReplicaWork *w = work_of(rt);
        uint64_t now = now_usec(CLOCK_REALTIME);

        if (j->state == JOB_STATE_COMPLETED) {
                u->last_sync_time = now;
                u->resume_chunk = 0;
                u->progress_status = PROGRESS_STATUS_COMPLETED;
                (void) free_and_strdup(&u->last_error, "");
                u->last_error_reason = REASON_NONE;
                if (u->sync_type == SYNC_TYPE_CLONE) {
                        u->copy_state = COPY_STATE_FRACTURED;
                        u->next_sync_time = 0;
                } else {
                        u->copy_state = COPY_STATE_SYNCHRONIZED;
                        u->next_sync_time = u->cycle_interval ? now + u->cycle_interval : 0;
                }
                return;
        }
        /* The resume point stays where the last confirmation put it, so Resync continues. */
        u->progress_status = PROGRESS_STATUS_DORMANT;
        u->next_sync_time = 0;
        if (w->suspended) {
                u->copy_state = COPY_STATE_SUSPENDED;
                return;
        }
        u->copy_state = COPY_STATE_BROKEN;
        (void) free_and_strdup(&u->last_error, j->error_description);
        u->last_error_reason = j->error_reason;
}

static void cycle_end(JobRuntime *rt, Change *ch) {
        ReplicaWork *w = work_of(rt);
        Engine *e = w->engine;
        const Synchronization *s = model_get_synchronization(e->model, w->sync_id);
        Synchronization *u;

        if (!s || w->detached)
                return;
        u = synchronization_copy(s);
        if (!u) {
                change_fail(ch, -ENOMEM);
                return;
        }
        u->job_id = 0;
        u->rate = 0;
        if (w->started)
                replica_progress_into(w, u);
        cycle_outcome(rt, u);
        if (rt->job->state == JOB_STATE_COMPLETED) {
                u->percent = 100;
                /* Both LUNs were reached and their sizes read for the cycle. */
                replica_change_volume_verified(ch, e, u->source_volume_id, u->last_sync_time);
                replica_change_volume_verified(ch, e, u->copy_volume_id, u->last_sync_time);
        }
        replica_change_sync(ch, e, u);
        change_call(ch, 0, replica_after_cycle, NULL, NULL);
}

/* More cycles than the limit wait, Dormant, with NextSyncTime saying since when they are due. */
static bool cycle_may_start(JobRuntime *rt) {
        ReplicaWork *w = work_of(rt);
        Engine *e = w->engine;
        ReplError err = REPL_ERROR_INIT;
        const Synchronization *s;
        Synchronization *u;
        Change *ch;

        if (replica_count_running_cycles(e) < e->config.max_running_cycles)
                return true;
        engine_settle(e, w->sync_id);
        s = model_get_synchronization(e->model, w->sync_id);
        if (!s || (s->progress_status == PROGRESS_STATUS_DORMANT && s->next_sync_time != 0))
                return false;
        u = synchronization_copy(s);
        if (!u || change_begin(e, NULL, &ch, &err) < 0) {
                synchronization_free(u);
                return false;
        }
        u->progress_status = PROGRESS_STATUS_DORMANT;
        u->next_sync_time = u->next_sync_time ?: now_usec(CLOCK_REALTIME);
        job_set_status(rt->job, "Waiting for another cycle to end.");
        replica_change_sync(ch, e, u);
        (void) change_submit(ch, &err);
        return false;
}

static bool work_uses(JobRuntime *rt, ObjectKind kind, uint64_t id) {
        ReplicaWork *w = work_of(rt);
        const Synchronization *s = model_get_synchronization(w->engine->model, w->sync_id);
        const Volume *src, *dst;

        if (!s)
                return false;
        if (kind == OBJECT_SYNCHRONIZATION)
                return s->id == id;
        if (kind == OBJECT_COLLECTION)
                return s->collection_id == id;
        if (kind == OBJECT_VOLUME)
                return s->source_volume_id == id || s->copy_volume_id == id;
        src = model_get_volume(w->engine->model, s->source_volume_id);
        dst = model_get_volume(w->engine->model, s->copy_volume_id);
        if (kind == OBJECT_ACCESS_POINT)
                return (src && src->access_point_id == id) || (dst && dst->access_point_id == id);
        return false;
}

const JobWorkOps replica_cycle_ops = {
        .may_start = cycle_may_start,
        .start = work_start,
        .stop = work_stop,
        .end = cycle_end,
        .uses = work_uses,
        .free = work_free,
};

const JobWorkOps replica_compare_ops = {
        .start = work_start,
        .stop = work_stop,
        .uses = work_uses,
        .free = work_free,
};
