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

#include "change.h"
#include "core/validate.h"
#include "jobs-internal.h"
#include "util/log.h"
#include "util/strutil.h"

void runtime_stop_work(JobRuntime *rt) {
        if (rt->work_ops && rt->work)
                rt->work_ops->free(TAKE_PTR(rt->work));
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
                if (rt->work_ops && rt->work_ops->uses && rt->work_ops->uses(rt, kind, id))
                        return true;
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
        if (rt->job->state != JOB_STATE_NEW)
                return 0;
        if (rt->work_ops && rt->work_ops->may_start && !rt->work_ops->may_start(rt))
                return 0;       /* queued: jobs_start_queued() starts it */
        job_run(rt);
        return 0;
}

void jobs_start_queued(Engine *e) {
        if (e->shutting_down)
                return;
        MODEL_FOREACH(Job, j, e->model->jobs) {
                JobRuntime *rt = j->runtime;

                if (!rt || !rt->running || !rt->work_ops || j->state != JOB_STATE_NEW || rt->start_source)
                        continue;
                /* On the next turn of the loop, as every job starts; on_job_start() asks whether it may. */
                if (sd_event_add_defer(e->event, &rt->start_source, on_job_start, rt) < 0)
                        log_warning("Failed to start queued job %" PRIu64 "; it waits for the next cycle to end", j->id);
        }
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
        default:
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
        default:
                break;
        }
        if (r < 0 || l.n == 0)
                return r;       /* with none, the new job's empty list stays */
        strv_free(j->affected_elements);
        j->affected_elements = strv_builder_steal(&l);
        return 0;
}

static int check_job_limits(Engine *e, const Caller *c, ReplError *err) {
        size_t running;

        engine_settle_kind(e, OBJECT_JOB);
        running = model_count_running_jobs(e->model, false, 0);
        if (running >= e->config.max_running_jobs)
                return repl_error_set(err, -EDQUOT, "%zu jobs are running, the most the service allows.", running);
        running = model_count_running_jobs(e->model, true, c->uid);
        if (running >= e->config.max_running_jobs_per_user)
                return repl_error_set(err, -EDQUOT, "uid %" PRIu32 " has %zu jobs running, the most allowed per user.",
                                      c->uid, running);
        return 0;
}

static Job *job_create(Engine *e, const Caller *c, const char *method, JobWorkKind kind, bool create,
                       uint64_t target_id) {
        _cleanup_(job_freep) Job *j = job_new();

        if (!j || free_and_strdup(&j->name, method) < 0 ||
            free_and_strdup(&j->owner, c ? c->owner : "iscsi-replicationd (its own schedule)") < 0)
                return NULL;
        j->started_by_uid = c ? c->uid : 0;
        j->time_submitted = j->time_of_last_state_change = now_usec(CLOCK_REALTIME);
        j->time_before_removal = e->config.job_time_before_removal_usec;
        j->collection_id = kind == JOB_WORK_COLLECTION && !create ? target_id : 0;
        job_set_status(j, "Queued.");
        return TAKE_PTR(j);
}

/* After the commit: the job holds its collection and starts on the next turn of the loop. */
static void apply_job_started(Engine *e, void *data) {
        Job *j = model_get_job(e->model, (uint64_t) (uintptr_t) data);
        JobRuntime *rt = j ? j->runtime : NULL;

        if (!rt)
                return;
        if (sd_event_add_defer(e->event, &rt->start_source, on_job_start, rt) < 0) {
                job_finish(rt, JOB_STATE_EXCEPTION, REASON_INTERRUPTED, CIM_FAILED, "The job could not be started.",
                           NULL_PATH);
                return;
        }
        if (j->collection_id) {
                Collection *col = model_get_collection(e->model, j->collection_id);

                col->job_id = j->id;
                engine_notify_changed(e, OBJECT_COLLECTION, col->id, "Job");
        }
}

int jobs_start(Engine *e, const Caller *c, const char *method, JobWorkKind kind, CollectionPlan *plan,
               bool create, uint64_t target_id, uint64_t *ret_job_id, ReplError *err) {
        _cleanup_(job_freep) Job *j = NULL;
        char p[OBJECT_PATH_MAX];
        JobRuntime *rt;
        Change *ch;
        int r;

        r = check_job_limits(e, c, err);
        if (r < 0)
                return r;
        j = job_create(e, c, method, kind, create, target_id);
        rt = j ? runtime_new(e, j) : NULL;
        if (!rt)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        j->id = model_allocate_id(e->model);
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

        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                jobs_free_runtime(j);
                return r;
        }
        change_log(ch, "started job %s (%s, %zu probes)", path_of(p, OBJECT_JOB, j->id), method, rt->n_tasks);
        *ret_job_id = j->id;
        jobs_change_start(ch, TAKE_PTR(j));
        return change_submit(ch, err);
}

void jobs_change_start(Change *ch, Job *j) {
        uint64_t id = j->id, collection_id = j->collection_id;

        change_save(ch, OBJECT_JOB, j);
        change_save_next_id(ch);
        change_add(ch, OBJECT_JOB, j);
        /* An AddTo's job holds the collection: calls about it wait for this change. */
        change_call(ch, collection_id, apply_job_started, (void *) (uintptr_t) id, NULL);
}

int jobs_new_work(Engine *e, const Caller *c, const char *method, JobWorkKind kind, const JobWorkOps *ops,
                  void *data, const char *affected, Job **ret, ReplError *err) {
        _cleanup_(job_freep) Job *j = NULL;
        JobRuntime *rt;
        int r;

        r = c ? check_job_limits(e, c, err) : 0;
        if (r < 0) {
                ops->free(data);
                return r;
        }
        j = job_create(e, c, method, kind, false, 0);
        rt = j ? runtime_new(e, j) : NULL;
        if (!rt || (affected && strv_extend(&j->affected_elements, affected) < 0)) {
                if (rt)
                        jobs_free_runtime(j);
                ops->free(data);
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        }
        j->id = model_allocate_id(e->model);
        rt->kind = kind;
        rt->running = true;
        rt->work_ops = ops;
        rt->work = data;
        *ret = TAKE_PTR(j);
        return 0;
}


/* ---- start and stop of the service ---- */

/* Whether the job was running or suspended when the service stopped, as stored. */
static const char *interrupted_message(JobState state) {
        return state == JOB_STATE_SUSPENDED ?
                "Interrupted: the service stopped while the job was suspended; nothing of it was committed." :
                "Interrupted: the service stopped while the job was running; nothing of it was committed.";
}

int jobs_recover(Engine *e) {
        ReplError err = REPL_ERROR_INIT;
        Change *ch;
        int r;

        r = change_begin(e, NULL, &ch, &err);
        if (r < 0)
                return log_error_errno(r, "Failed to close jobs of the previous run: %s", err.message);
        MODEL_FOREACH(Job, j, e->model->jobs) {
                if (!j->runtime && !runtime_new(e, j))
                        change_fail(ch, -ENOMEM);
                if (job_state_is_finished(j->state))
                        continue;
                /* Nothing observes the model yet: the stored row and the model change together. */
                (void) free_and_strdup(&j->error_description, interrupted_message(j->state));
                j->state = JOB_STATE_EXCEPTION;
                j->time_of_last_state_change = now_usec(CLOCK_REALTIME);
                j->error_code = CIM_FAILED;
                j->error_type = CIM_ERROR_TYPE_SOFTWARE;
                j->error_reason = REASON_INTERRUPTED;
                job_set_status(j, "Interrupted.");
                change_save(ch, OBJECT_JOB, j);
                log_info("job %" PRIu64 " was not finished when the service stopped; it ended as exception", j->id);
        }
        r = change_submit(ch, &err);
        if (r >= 0)
                r = engine_flush(e);
        if (r < 0)
                return log_error_errno(r, "Failed to close jobs of the previous run");
        MODEL_FOREACH(Job, j, e->model->jobs)
                job_arm_removal(j->runtime);
        jobs_enforce_retention(e);
        return 0;
}

void jobs_shutdown(Engine *e) {
        MODEL_FOREACH(Job, j, e->model->jobs) {
                JobRuntime *rt = j->runtime;

                if (rt && rt->running)
                        job_finish(rt, JOB_STATE_EXCEPTION, REASON_INTERRUPTED, CIM_FAILED, interrupted_message(j->state),
                                   NULL_PATH);
        }
}

