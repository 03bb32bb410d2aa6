/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Synchronizations (API.md section 10): CreateElementReplica (the object and
 * the job of its first, full cycle in one change), ModifyReplicaSynchronization
 * (Suspend, Resume, Resync, Detach), and the synchronization's own Modify and
 * Compare. Each validates against the model, builds one Change, and leaves
 * the model to the commit.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "change.h"
#include "replica-internal.h"
#include "util/log.h"
#include "util/strutil.h"

/* ---- a synchronization's stored state, as part of a change ---- */

/* After the commit: the model's object takes the stored fields and the Job; the strings move over. */
static void apply_sync(Engine *e, void *data) {
        Synchronization *u = data, *s = model_get_synchronization(e->model, u->id);
        char *t;

        if (!s)
                return;
        t = s->element_name, s->element_name = u->element_name, u->element_name = t;
        t = s->last_error, s->last_error = u->last_error, u->last_error = t;
        s->copy_state = u->copy_state;
        s->progress_status = u->progress_status;
        s->bandwidth_limit = u->bandwidth_limit;
        s->cycle_interval = u->cycle_interval;
        s->last_sync_time = u->last_sync_time;
        s->next_sync_time = u->next_sync_time;
        s->bytes_scanned = u->bytes_scanned;
        s->bytes_transferred = u->bytes_transferred;
        s->last_error_reason = u->last_error_reason;
        s->resume_chunk = u->resume_chunk;
        s->job_id = u->job_id;
        /* The running cycle's progress belongs to its ticks; once none runs, to the change. */
        if (u->job_id == 0) {
                s->percent = u->percent;
                s->rate = u->rate;
        }
}

static void free_sync(void *data) {
        synchronization_free(data);
}

static size_t sync_changed_props(const Synchronization *s, const Synchronization *u, const char **props) {
        size_t k = 0;

        if (!streq_ptr(s->element_name, u->element_name))
                props[k++] = "ElementName";
        if (s->copy_state != u->copy_state)
                props[k++] = "CopyState";
        if (s->progress_status != u->progress_status)
                props[k++] = "ProgressStatus";
        if (s->bytes_scanned != u->bytes_scanned)
                props[k++] = "BytesScanned";
        if (s->bytes_transferred != u->bytes_transferred)
                props[k++] = "BytesTransferred";
        if (s->bandwidth_limit != u->bandwidth_limit)
                props[k++] = "BandwidthLimit";
        if (s->cycle_interval != u->cycle_interval)
                props[k++] = "CycleInterval";
        if (s->last_sync_time != u->last_sync_time)
                props[k++] = "LastSyncTime";
        if (s->next_sync_time != u->next_sync_time)
                props[k++] = "NextSyncTime";
        if (s->job_id != u->job_id)
                props[k++] = "Job";
        if (u->job_id == 0 && s->percent != u->percent)
                props[k++] = "PercentSynced";
        if (u->job_id == 0 && s->rate != u->rate)
                props[k++] = "Rate";
        if (!streq_ptr(s->last_error, u->last_error))
                props[k++] = "LastError";
        if (s->last_error_reason != u->last_error_reason)
                props[k++] = "LastErrorID";
        props[k] = NULL;
        return k;
}

void replica_change_sync(Change *ch, Engine *e, Synchronization *updated) {
        const Synchronization *s = model_get_synchronization(e->model, updated->id);
        const char *props[20];

        uint64_t id = updated->id;
        size_t k = s ? sync_changed_props(s, updated, props) : 0;

        change_save(ch, OBJECT_SYNCHRONIZATION, updated);
        change_call(ch, id, apply_sync, updated, free_sync);
        if (k > 0)
                change_notify_strv(ch, OBJECT_SYNCHRONIZATION, id, props);
}

static int out_of_memory(ReplError *err) {
        return repl_error_set(err, -ENOMEM, "Out of memory.");
}

/* ---- starting a cycle ---- */

int replica_start_cycle(Engine *e, const Caller *c, const Synchronization *s, const char *method,
                        uint64_t *ret_job_id, ReplError *err) {
        _cleanup_(synchronization_freep) Synchronization *u = synchronization_copy(s);
        char p[OBJECT_PATH_MAX];
        void *w = replica_work_new(e, s->id, false);
        Change *ch;
        Job *j;
        int r;

        if (!u || !w) {
                free(w);
                return out_of_memory(err);
        }
        r = jobs_new_work(e, c, method, JOB_WORK_CYCLE, &replica_cycle_ops, w, path_of(p, OBJECT_SYNCHRONIZATION, s->id),
                          &j, err);
        if (r < 0)
                return r;
        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                jobs_free_runtime(j);
                job_free(j);
                return r;
        }
        u->job_id = j->id;
        u->next_sync_time = 0;
        /* Callers see the cycle's states with the reply, not only once it starts to copy. */
        replica_set_running_state(u);
        *ret_job_id = j->id;
        change_log(ch, "started job %s (%s: a cycle of %s)", path_of(p, OBJECT_JOB, j->id), method,
                   object_path_format((char[OBJECT_PATH_MAX]) {}, OBJECT_SYNCHRONIZATION, s->id));
        jobs_change_start(ch, j);
        replica_change_sync(ch, e, TAKE_PTR(u));
        return change_submit(ch, err);
}

/* ---- CreateElementReplica ---- */

static int new_synchronization(Engine *e, const ReplicaSpec *spec, const SyncSettings *settings,
                               Synchronization **ret, ReplError *err) {
        _cleanup_(synchronization_freep) Synchronization *s = NULL;
        ReplicaPlan plan = {};
        int r;

        r = engine_check_object_limit(e->model->synchronizations.n, e->config.max_synchronizations, "synchronizations",
                                      err);
        if (r >= 0)
                r = replica_validate_create(e->model, spec, &plan, err);
        if (r < 0)
                return r;
        s = synchronization_new();
        if (!s || free_and_strdup(&s->element_name, spec->element_name ?: "") < 0)
                return out_of_memory(err);
        s->sync_type = spec->sync_type;
        s->mode = spec->mode;
        s->source_volume_id = plan.source->id;
        s->copy_volume_id = plan.target->id;
        s->collection_id = plan.collection->id;
        s->chunk_size = plan.chunk_size;
        if (settings && settings->set_bandwidth_limit)
                s->bandwidth_limit = settings->bandwidth_limit;
        if (settings && settings->set_cycle_interval)
                s->cycle_interval = settings->cycle_interval;
        s->copy_state = COPY_STATE_INITIALIZED;
        s->progress_status = PROGRESS_STATUS_INITIALIZING;
        *ret = TAKE_PTR(s);
        return 0;
}

int engine_create_replica(Engine *e, const Caller *c, const ReplicaSpec *spec, const SyncSettings *settings,
                          uint64_t *ret_synchronization_id, uint64_t *ret_job_id, ReplError *err) {
        _cleanup_(synchronization_freep) Synchronization *s = NULL;
        char p[OBJECT_PATH_MAX];
        uint64_t source, copy;
        void *w;
        Change *ch;
        Job *j;
        int r;

        engine_settle_kind(e, OBJECT_VOLUME);
        engine_settle_kind(e, OBJECT_SYNCHRONIZATION);
        engine_settle_kind(e, OBJECT_COLLECTION);
        engine_settle_kind(e, OBJECT_ACCESS_POINT);
        r = new_synchronization(e, spec, settings, &s, err);
        if (r < 0)
                return r;
        s->id = model_allocate_id(e->model);
        w = replica_work_new(e, s->id, false);
        if (!w)
                return out_of_memory(err);
        r = jobs_new_work(e, c, "CreateElementReplica", JOB_WORK_CYCLE, &replica_cycle_ops, w,
                          path_of(p, OBJECT_SYNCHRONIZATION, s->id), &j, err);
        if (r < 0)
                return r;
        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                jobs_free_runtime(j);
                job_free(j);
                return r;
        }
        s->job_id = j->id;
        *ret_synchronization_id = s->id;
        *ret_job_id = j->id;
        source = s->source_volume_id;
        copy = s->copy_volume_id;
        change_save(ch, OBJECT_SYNCHRONIZATION, s);
        change_log(ch, "created %s %s of %s to %s, first cycle in job %s", sync_type_to_string(s->sync_type),
                   path_of(p, OBJECT_SYNCHRONIZATION, s->id), spec->source_path, spec->target_path,
                   object_path_format((char[OBJECT_PATH_MAX]) {}, OBJECT_JOB, j->id));
        change_add(ch, OBJECT_SYNCHRONIZATION, TAKE_PTR(s));
        change_notify(ch, OBJECT_VOLUME, source, "Synchronizations");
        change_notify(ch, OBJECT_VOLUME, copy, "Synchronizations");
        /* After the synchronization, so that its job finds it. */
        jobs_change_start(ch, j);
        return change_submit(ch, err);
}

/* ---- ModifyReplicaSynchronization ---- */

static int detach(Engine *e, const Caller *c, const Synchronization *s, ReplError *err) {
        JobRuntime *rt;
        char p[OBJECT_PATH_MAX];
        Change *ch;
        int r;

        /* The relationship ends: its cycle and any comparison stop first. */
        while ((rt = replica_find_job(e, s->id, false)) || (rt = replica_find_job(e, s->id, true)))
                replica_stop_job(rt, true, c);
        engine_settle(e, s->id);
        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_delete_chunk_hashes(ch, s->id);
        change_delete(ch, OBJECT_SYNCHRONIZATION, s->id);
        change_remove(ch, OBJECT_SYNCHRONIZATION, s->id);
        /* The volumes are announced once the model no longer files the synchronization under them. */
        change_notify(ch, OBJECT_VOLUME, s->source_volume_id, "Synchronizations");
        change_notify(ch, OBJECT_VOLUME, s->copy_volume_id, "Synchronizations");
        change_call(ch, 0, replica_after_cycle, NULL, NULL);
        change_log(ch, "detached synchronization %s; the copy keeps its data", path_of(p, OBJECT_SYNCHRONIZATION, s->id));
        return change_submit(ch, err);
}

/* A change of state alone (no cycle starts): u taken. */
static int submit_state(Engine *e, const Caller *c, Synchronization *u, const char *what, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        Change *ch;
        int r;

        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                synchronization_free(u);
                return r;
        }
        change_log(ch, "%s synchronization %s", what, path_of(p, OBJECT_SYNCHRONIZATION, u->id));
        replica_change_sync(ch, e, u);
        change_call(ch, 0, replica_after_cycle, NULL, NULL);
        return change_submit(ch, err);
}

static int suspend(Engine *e, const Caller *c, const Synchronization *s, ReplError *err) {
        JobRuntime *rt = replica_find_job(e, s->id, false);
        Synchronization *u;

        if (rt) {
                /* The job's end stores the synchronization as Suspended. */
                replica_stop_job(rt, false, c);
                return 0;
        }
        u = synchronization_copy(s);
        if (!u)
                return out_of_memory(err);
        u->copy_state = COPY_STATE_SUSPENDED;
        u->progress_status = PROGRESS_STATUS_DORMANT;
        u->next_sync_time = 0;
        return submit_state(e, c, u, "suspended", err);
}

/* Resume: a cycle now when one was cut short or is due, else back to the schedule. */
static int resume(Engine *e, const Caller *c, const Synchronization *s, uint64_t *ret_job_id, ReplError *err) {
        uint64_t now = now_usec(CLOCK_REALTIME), next;
        Synchronization *u;

        next = s->cycle_interval ? s->last_sync_time + s->cycle_interval : 0;
        if (s->sync_type == SYNC_TYPE_CLONE || s->last_sync_time == 0 || s->resume_chunk > 0 ||
            (next != 0 && next <= now))
                return replica_start_cycle(e, c, s, "ModifyReplicaSynchronization", ret_job_id, err);
        u = synchronization_copy(s);
        if (!u)
                return out_of_memory(err);
        u->copy_state = COPY_STATE_SYNCHRONIZED;
        u->progress_status = PROGRESS_STATUS_COMPLETED;
        u->next_sync_time = next;
        return submit_state(e, c, u, "resumed", err);
}

int engine_modify_replica(Engine *e, const Caller *c, uint16_t operation, const char *synchronization_path,
                          uint64_t *ret_job_id, ReplError *err) {
        Synchronization *s;
        ObjectKind kind;
        uint64_t id;
        int r;

        *ret_job_id = 0;
        if (object_path_parse(synchronization_path, &kind, &id) < 0 || kind != OBJECT_SYNCHRONIZATION)
                return repl_error_set(err, -EINVAL, "Synchronization does not name a synchronization.");
        engine_settle(e, id);
        s = model_get_synchronization(e->model, id);
        if (!s)
                return repl_error_set(err, -ENOENT, "Synchronization %s does not exist.", synchronization_path);
        r = replica_validate_operation(s, operation, err);
        if (r < 0)
                return r;
        switch (operation) {
        case REPLICA_OPERATION_SUSPEND:
                return suspend(e, c, s, err);
        case REPLICA_OPERATION_RESUME:
                return resume(e, c, s, ret_job_id, err);
        case REPLICA_OPERATION_RESYNC:
                return replica_start_cycle(e, c, s, "ModifyReplicaSynchronization", ret_job_id, err);
        case REPLICA_OPERATION_DETACH:
                return detach(e, c, s, err);
        default:
                return repl_error_set(err, -EOPNOTSUPP, "Operation %u is not supported.", operation);
        }
}

/* ---- the synchronization's own methods ---- */

static int sync_for_call(Engine *e, uint64_t id, Synchronization **ret, ReplError *err) {
        char p[OBJECT_PATH_MAX];

        engine_settle(e, id);
        *ret = model_get_synchronization(e->model, id);
        if (!*ret)
                return repl_error_set(err, -ENOENT, "Synchronization %s does not exist.",
                                      path_of(p, OBJECT_SYNCHRONIZATION, id));
        return 0;
}

int engine_modify_synchronization(Engine *e, const Caller *c, uint64_t id, const SyncSettings *set, ReplError *err) {
        Synchronization *s, *u;
        JobRuntime *rt;
        int r;

        r = sync_for_call(e, id, &s, err);
        if (r >= 0 && set->set_element_name)
                r = validate_string_property(set->element_name, "ElementName", err);
        if (r < 0)
                return r;
        u = synchronization_copy(s);
        if (!u || (set->set_element_name && free_and_strdup(&u->element_name, set->element_name) < 0)) {
                synchronization_free(u);
                return out_of_memory(err);
        }
        if (set->set_bandwidth_limit)
                u->bandwidth_limit = set->bandwidth_limit;
        if (set->set_cycle_interval) {
                u->cycle_interval = set->cycle_interval;
                /* A waiting Mirror's next cycle moves with its interval. */
                if (s->job_id == 0 && s->sync_type == SYNC_TYPE_MIRROR && s->copy_state == COPY_STATE_SYNCHRONIZED)
                        u->next_sync_time = u->cycle_interval ? u->last_sync_time + u->cycle_interval : 0;
        }
        /* A running cycle honours a new limit at once. */
        rt = set->set_bandwidth_limit ? replica_find_job(e, id, false) : NULL;
        if (rt && rt->job->state == JOB_STATE_RUNNING)
                replica_work_set_bandwidth_limit(rt, set->bandwidth_limit);
        return submit_state(e, c, u, "modified", err);
}

int engine_compare_synchronization(Engine *e, const Caller *c, uint64_t id, uint64_t *ret_job_id, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        Synchronization *s;
        Change *ch;
        void *w;
        Job *j;
        int r;

        r = sync_for_call(e, id, &s, err);
        if (r < 0)
                return r;
        if (s->job_id != 0 || replica_find_job(e, id, true))
                return repl_error_set(err, -EBADRQC, "Synchronization %s is running a %s; compare it after that.",
                                      path_of(p, OBJECT_SYNCHRONIZATION, id), s->job_id ? "cycle" : "comparison");
        w = replica_work_new(e, id, true);
        if (!w)
                return out_of_memory(err);
        r = jobs_new_work(e, c, "Compare", JOB_WORK_COMPARE, &replica_compare_ops, w, path_of(p, OBJECT_SYNCHRONIZATION, id),
                          &j, err);
        if (r < 0)
                return r;
        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                jobs_free_runtime(j);
                job_free(j);
                return r;
        }
        *ret_job_id = j->id;
        change_log(ch, "started job %s (Compare of %s)", path_of(p, OBJECT_JOB, j->id),
                   object_path_format((char[OBJECT_PATH_MAX]) {}, OBJECT_SYNCHRONIZATION, id));
        jobs_change_start(ch, j);
        return change_submit(ch, err);
}
