/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Jobs: the work a call leaves running after its reply. A job verifies
 * (local, remote) access point pairs with concurrent probes, each with its own
 * deadline, reports progress (rate-limited), can be suspended, resumed,
 * terminated or killed, and at the end commits everything of its call in one
 * transaction — or nothing. Finished jobs stay for TimeBeforeRemoval, then go
 * if DeleteOnCompletion says so, and never beyond the retention limit.
 *
 * This file owns a job's runtime state and its start (planning the probe
 * tasks) and the recovery of jobs a stopped service left behind; jobs-run.c
 * runs the probes, jobs-end.c finishes, removes and steers jobs.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/validate.h"
#include "jobs-internal.h"
#include "util/log.h"
#include "util/strutil.h"

void runtime_stop_work(JobRuntime *rt) {
        for (size_t i = 0; i < rt->n_tasks; i++)
                rt->tasks[i].probe = probe_free(rt->tasks[i].probe);
        free(rt->tasks);
        rt->tasks = NULL;
        rt->n_tasks = rt->n_finished = rt->n_running = 0;
        collection_plan_done(&rt->plan);
        rt->start_source = sd_event_source_disable_unref(rt->start_source);
        rt->progress_timer = sd_event_source_disable_unref(rt->progress_timer);
        rt->running = false;
}

void jobs_free_runtime(Job *j) {
        JobRuntime *rt = j->runtime;

        if (!rt)
                return;
        runtime_stop_work(rt);
        rt->removal_timer = sd_event_source_disable_unref(rt->removal_timer);
        free(rt->emitted_status);
        free(rt);
        j->runtime = NULL;
}

static JobRuntime *runtime_new(Engine *e, Job *j) {
        JobRuntime *rt = calloc(1, sizeof(JobRuntime));

        if (!rt)
                return NULL;
        rt->engine = e;
        rt->job = j;
        rt->emitted_percent = j->percent_complete;
        rt->emitted_expected_end = j->expected_end_time;
        rt->emitted_status = strdup(j->status);
        if (!rt->emitted_status) {
                free(rt);
                return NULL;
        }
        j->runtime = rt;
        return rt;
}

bool jobs_uses_object(Engine *e, ObjectKind kind, uint64_t id) {
        MODEL_FOREACH(Job, j, e->model->jobs) {
                JobRuntime *rt = j->runtime;

                if (!rt || !rt->running)
                        continue;
                if (kind == OBJECT_COLLECTION && j->collection_id == id)
                        return true;
                if (kind == OBJECT_ACCESS_POINT && rt->kind == JOB_WORK_VERIFY && rt->target_id == id)
                        return true;
                for (size_t i = 0; i < rt->n_tasks; i++) {
                        const ProbeTask *t = &rt->tasks[i];

                        if (kind == OBJECT_ACCESS_POINT && (t->source_ap == id || t->remote_ap == id))
                                return true;
                        if (kind == OBJECT_SYSTEM) {
                                AccessPoint *a = model_get_access_point(e->model, t->remote_ap);

                                if (a && a->system_id == id)
                                        return true;
                        }
                }
                if (rt->plan.result) {
                        const Collection *c = rt->plan.result;

                        if (kind == OBJECT_ACCESS_POINT && (idset_contains(&c->local_access_points, id) ||
                                                            idset_contains(&c->remote_access_points, id)))
                                return true;
                        if (kind == OBJECT_SYSTEM && idset_contains(&c->remote_systems, id))
                                return true;
                }
        }
        return false;
}


static int on_job_start(sd_event_source *s, void *userdata) {
        JobRuntime *rt = userdata;

        rt->start_source = sd_event_source_disable_unref(rt->start_source);
        if (rt->job->state == JOB_STATE_NEW)
                job_run(rt);
        return 0;
}

static int task_add(JobRuntime *rt, uint64_t source_ap, uint64_t remote_ap) {
        ProbeTask *n = realloc(rt->tasks, sizeof(ProbeTask) * (rt->n_tasks + 1));

        if (!n)
                return -ENOMEM;
        rt->tasks = n;
        n[rt->n_tasks++] = (ProbeTask) { .source_ap = source_ap, .remote_ap = remote_ap };
        return 0;
}

static int job_plan_tasks(JobRuntime *rt) {
        Engine *e = rt->engine;
        int r = 0;

        switch (rt->kind) {
        case JOB_WORK_COLLECTION: {
                const IdSet *locals = &rt->plan.result->local_access_points;

                for (size_t i = 0; r >= 0 && i < rt->plan.added_remote.n; i++) {
                        if (locals->n == 0)
                                r = task_add(rt, 0, rt->plan.added_remote.ids[i]);
                        for (size_t k = 0; r >= 0 && k < locals->n; k++)
                                r = task_add(rt, locals->ids[k], rt->plan.added_remote.ids[i]);
                }
                break;
        }
        case JOB_WORK_VERIFY: {
                AccessPoint *a = model_get_access_point(e->model, rt->target_id);

                if (a && !access_point_is_local(a))
                        r = task_add(rt, 0, a->id);
                break;
        }
        case JOB_WORK_PEERS:
                MODEL_FOREACH(AccessPoint, a, e->model->access_points)
                        if (r >= 0 && !access_point_is_local(a))
                                r = task_add(rt, 0, a->id);
                break;
        }
        /* The task array is final now; point each task back at its runtime. */
        for (size_t i = 0; i < rt->n_tasks; i++)
                rt->tasks[i].runtime = rt;
        return r;
}

static int job_initial_affected(JobRuntime *rt) {
        _cleanup_(strv_builder_clear) StrvBuilder l = STRV_BUILDER_INIT;
        Job *j = rt->job;
        Engine *e = rt->engine;
        char p[OBJECT_PATH_MAX];
        int r = 0;

        switch (rt->kind) {
        case JOB_WORK_COLLECTION:
                if (!rt->create)
                        r = strv_builder_extend(&l, path_of(p, OBJECT_COLLECTION, rt->target_id));
                for (size_t i = 0; r >= 0 && i < rt->plan.added_remote.n; i++)
                        r = strv_builder_extend(&l, path_of(p, OBJECT_ACCESS_POINT, rt->plan.added_remote.ids[i]));
                break;
        case JOB_WORK_VERIFY:
                r = strv_builder_extend(&l, path_of(p, OBJECT_ACCESS_POINT, rt->target_id));
                break;
        case JOB_WORK_PEERS:
                MODEL_FOREACH(System, s, e->model->systems)
                        if (r >= 0 && s->id != LOCAL_SYSTEM_ID)
                                r = strv_builder_extend(&l, path_of(p, OBJECT_SYSTEM, s->id));
                break;
        }
        if (r < 0 || l.n == 0)
                return r;       /* with none, the new job's empty list stays */
        strv_free(j->affected_elements);
        j->affected_elements = strv_builder_steal(&l);
        return 0;
}

int jobs_start(Engine *e, const Caller *c, const char *method, JobWorkKind kind, CollectionPlan *plan,
               bool create, uint64_t target_id, Job **ret, ReplError *err) {
        _cleanup_(job_freep) Job *j = NULL;
        char p[OBJECT_PATH_MAX];
        JobRuntime *rt;
        size_t running;
        int r;

        running = model_count_running_jobs(e->model, false, 0);
        if (running >= e->config.max_running_jobs)
                return repl_error_set(err, -EDQUOT, "%zu jobs are running, the most the service allows.", running);
        running = model_count_running_jobs(e->model, true, c->uid);
        if (running >= e->config.max_running_jobs_per_user)
                return repl_error_set(err, -EDQUOT, "uid %" PRIu32 " has %zu jobs running, the most allowed per user.",
                                      c->uid, running);

        j = job_new();
        if (!j || free_and_strdup(&j->name, method) < 0 || free_and_strdup(&j->owner, c->owner) < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        j->id = model_allocate_id(e->model);
        j->started_by_uid = c->uid;
        j->time_submitted = j->time_of_last_state_change = now_usec(CLOCK_REALTIME);
        j->time_before_removal = e->config.job_time_before_removal_usec;
        j->collection_id = kind == JOB_WORK_COLLECTION && !create ? target_id : 0;
        job_set_status(j, "Queued.");

        rt = runtime_new(e, j);
        if (!rt)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        rt->kind = kind;
        rt->create = create;
        rt->target_id = target_id;
        rt->running = true;
        if (plan) {
                rt->plan = *plan;
                *plan = COLLECTION_PLAN_INIT;
        }
        r = job_plan_tasks(rt);
        if (r >= 0)
                r = job_initial_affected(rt);
        if (r < 0) {
                jobs_free_runtime(j);
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        }

        r = store_begin(e->store);
        if (r >= 0)
                r = store_save_job(e->store, j);
        if (r >= 0)
                r = store_save_next_id(e->store, e->model->next_id);
        if (r >= 0)
                r = store_commit(e->store);
        if (r < 0) {
                store_rollback(e->store);
                jobs_free_runtime(j);
                return repl_error_set(err, -EIO, "The job could not be stored; nothing was started.");
        }
        r = sd_event_add_defer(e->event, &rt->start_source, on_job_start, rt);
        if (r < 0 || model_add_job(e->model, j) < 0) {
                (void) store_begin(e->store);
                (void) store_delete_job(e->store, j->id);
                (void) store_commit(e->store);
                jobs_free_runtime(j);
                return repl_error_set(err, r < 0 ? r : -ENOMEM, "The job could not be started.");
        }
        Job *started = TAKE_PTR(j);

        log_info("uid=%" PRIu32 " started job %s (%s, %zu probes)", c->uid, path_of(p, OBJECT_JOB, started->id), method,
                 rt->n_tasks);
        engine_notify_added(e, OBJECT_JOB, started->id);
        if (started->collection_id) {
                Collection *col = model_get_collection(e->model, started->collection_id);

                col->job_id = started->id;
                engine_notify_changed(e, OBJECT_COLLECTION, col->id, "Job");
        }
        *ret = started;
        return 0;
}


/* ---- start and stop of the service ---- */

#define INTERRUPTED_MESSAGE "Interrupted: the service stopped while the job was running; nothing of it was committed."

int jobs_recover(Engine *e) {
        int r;

        r = store_begin(e->store);
        MODEL_FOREACH(Job, j, e->model->jobs) {
                if (r < 0)
                        break;
                if (!j->runtime && !runtime_new(e, j))
                        r = -ENOMEM;
                if (r >= 0 && !job_state_is_finished(j->state)) {
                        j->state = JOB_STATE_EXCEPTION;
                        j->time_of_last_state_change = now_usec(CLOCK_REALTIME);
                        j->error_code = CIM_FAILED;
                        j->error_type = CIM_ERROR_TYPE_SOFTWARE;
                        j->error_reason = REASON_INTERRUPTED;
                        (void) free_and_strdup(&j->error_description, INTERRUPTED_MESSAGE);
                        job_set_status(j, "Interrupted.");
                        r = store_save_job(e->store, j);
                        log_info("job %" PRIu64 " was running when the service stopped; it ended as exception", j->id);
                }
        }
        if (r >= 0)
                r = store_commit(e->store);
        if (r < 0) {
                store_rollback(e->store);
                return log_error_errno(r, "Failed to close jobs of the previous run");
        }
        MODEL_FOREACH(Job, j, e->model->jobs)
                job_arm_removal(j->runtime);
        jobs_enforce_retention(e);
        return 0;
}

void jobs_shutdown(Engine *e) {
        MODEL_FOREACH(Job, j, e->model->jobs) {
                JobRuntime *rt = j->runtime;

                if (rt && rt->running)
                        job_finish(rt, JOB_STATE_EXCEPTION, REASON_INTERRUPTED, CIM_FAILED, INTERRUPTED_MESSAGE, NULL_PATH);
        }
}

