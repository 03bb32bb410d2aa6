/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The end of a job and what follows: committing its work in one transaction
 * (or nothing), removal after TimeBeforeRemoval and the retention limit, and
 * the state requests a caller makes (suspend, resume, terminate, kill).
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

static void job_save_touched(Engine *e, JobRuntime *rt, int *r) {
        /* Verification results are part of the job's final transaction. */
        IdSet systems = IDSET_INIT;

        for (size_t i = 0; *r >= 0 && i < rt->n_tasks; i++) {
                AccessPoint *a;

                if (rt->tasks[i].state != TASK_OK && rt->tasks[i].state != TASK_FAILED)
                        continue;
                a = model_get_access_point(e->model, rt->tasks[i].remote_ap);
                if (!a)
                        continue;
                *r = store_save_access_point(e->store, a);
                if (*r >= 0 && idset_add(&systems, a->system_id) < 0)
                        *r = -ENOMEM;
        }
        if (rt->kind == JOB_WORK_VERIFY) {
                AccessPoint *a = model_get_access_point(e->model, rt->target_id);

                if (a && *r >= 0)
                        *r = store_save_access_point(e->store, a);
        }
        for (size_t i = 0; *r >= 0 && i < systems.n; i++) {
                System *s = model_get_system(e->model, systems.ids[i]);

                if (s && s->id != LOCAL_SYSTEM_ID)
                        *r = store_save_system(e->store, s);
        }
        idset_clear(&systems);
}

void job_finish(JobRuntime *rt, JobState state, Reason reason, uint16_t code, const char *description,
                       const char *source) {
        Engine *e = rt->engine;
        Job *j = rt->job;
        char p[OBJECT_PATH_MAX];
        const char *props[20];
        bool commit_plan = state == JOB_STATE_COMPLETED && rt->kind == JOB_WORK_COLLECTION && rt->plan.result;
        size_t k = 0;
        int r;

        for (size_t i = 0; i < rt->n_tasks; i++)
                rt->tasks[i].probe = probe_free(rt->tasks[i].probe);
        rt->start_source = sd_event_source_disable_unref(rt->start_source);
        rt->progress_timer = sd_event_source_disable_unref(rt->progress_timer);

        job_set_state(rt, state);
        j->error_code = code;
        j->error_reason = state == JOB_STATE_COMPLETED ? REASON_NONE : reason;
        (void) free_and_strdup(&j->error_description, description);
        (void) free_and_strdup(&j->error_source, source);
        j->error_type = state == JOB_STATE_EXCEPTION ?
                (code == CIM_TIMEOUT || code == CIM_FAILED ? CIM_ERROR_TYPE_COMMUNICATIONS : CIM_ERROR_TYPE_SOFTWARE) :
                (state == JOB_STATE_COMPLETED ? CIM_ERROR_TYPE_UNKNOWN : CIM_ERROR_TYPE_OTHER);
        if (state == JOB_STATE_COMPLETED) {
                j->percent_complete = 100;
                job_set_status(j, "Completed.");
        } else if (state == JOB_STATE_EXCEPTION)
                job_set_status(j, "Failed.");
        else
                job_set_status(j, state == JOB_STATE_TERMINATED ? "Terminated." : "Killed.");

        if (commit_plan) {
                strv_free(j->affected_elements);
                j->affected_elements = calloc(2, sizeof(char *));
                if (j->affected_elements)
                        j->affected_elements[0] = strdup(path_of(p, OBJECT_COLLECTION, rt->plan.result->id));
        }

        r = store_begin(e->store);
        job_save_touched(e, rt, &r);
        if (r >= 0 && commit_plan)
                r = engine_stage_plan(e, &rt->plan);
        if (r >= 0)
                r = store_save_job(e->store, j);
        if (r >= 0)
                r = store_commit(e->store);
        if (r < 0) {
                /* Whatever the job found or was to commit, its end is not on record: it failed. */
                store_rollback(e->store);
                log_error_errno(r, "Failed to store the end of job %" PRIu64 "; its changes are not committed", j->id);
                commit_plan = false;
                job_set_state(rt, JOB_STATE_EXCEPTION);
                j->error_code = CIM_FAILED;
                j->error_type = CIM_ERROR_TYPE_SOFTWARE;
                j->error_reason = REASON_STORAGE_FAILED;
                (void) free_and_strdup(&j->error_description, "The result could not be stored; nothing was committed.");
                (void) free_and_strdup(&j->error_source, NULL_PATH);
                job_set_status(j, "Failed.");
                /* What the probes found is on show already; keep it with the failed job, as a restart would
                 * otherwise bring back older findings. */
                r = store_begin(e->store);
                job_save_touched(e, rt, &r);
                if (r >= 0)
                        r = store_save_job(e->store, j);
                if (r < 0 || store_commit(e->store) < 0)
                        store_rollback(e->store);
        }

        if (commit_plan) {
                log_info("job %" PRIu64 " committed its change to collection %s", j->id,
                         path_of(p, OBJECT_COLLECTION, rt->plan.result->id));
                engine_apply_plan(e, &rt->plan, rt->create);
        } else
                log_info("job %" PRIu64 " ended %s%s%s", j->id, job_state_to_string(j->state),
                         isempty(j->error_description) ? "" : ": ", j->error_description);

        if (j->collection_id) {
                Collection *col = model_get_collection(e->model, j->collection_id);

                if (col && col->job_id == j->id) {
                        col->job_id = 0;
                        engine_notify_changed(e, OBJECT_COLLECTION, col->id, "Job");
                }
        }

        props[k++] = "JobState";
        props[k++] = "OperationalStatus";
        props[k++] = "TimeOfLastStateChange";
        props[k++] = "Cancelable";
        if (j->error_code != 0)
                props[k++] = "ErrorCode";
        if (!isempty(j->error_description))
                props[k++] = "ErrorDescription";
        if (commit_plan || rt->kind == JOB_WORK_PEERS)
                props[k++] = "AffectedElements";
        k = job_collect_progress(rt, props, k);
        props[k] = NULL;
        engine_notify_changed_strv(e, OBJECT_JOB, j->id, props);

        runtime_stop_work(rt);
        engine_notify_job_completed(e, j);

        if (!e->shutting_down) {
                job_arm_removal(rt);
                jobs_enforce_retention(e);
        }
}

/* ---- removal ---- */

static void job_remove(Engine *e, Job *j) {
        uint64_t id = j->id;
        int r;

        r = store_begin(e->store);
        if (r >= 0)
                r = store_delete_job(e->store, id);
        if (r >= 0)
                r = store_commit(e->store);
        if (r < 0) {
                store_rollback(e->store);
                log_warning_errno(r, "Failed to remove job %" PRIu64 " from the store; it stays listed", id);
                return;
        }
        engine_notify_removed(e, OBJECT_JOB, id);
        j = model_remove_job(e->model, id);
        jobs_free_runtime(j);
        job_free(j);
}

static int on_removal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        JobRuntime *rt = userdata;

        rt->removal_timer = sd_event_source_disable_unref(rt->removal_timer);
        if (rt->job->delete_on_completion)
                job_remove(rt->engine, rt->job);
        return 0;
}

void job_arm_removal(JobRuntime *rt) {
        Job *j = rt->job;
        uint64_t when = j->time_of_last_state_change + j->time_before_removal;

        rt->removal_timer = sd_event_source_disable_unref(rt->removal_timer);
        if (!job_state_is_finished(j->state) || !j->delete_on_completion)
                return;
        if (sd_event_add_time(rt->engine->event, &rt->removal_timer, CLOCK_REALTIME, when, 0, on_removal_timer, rt) < 0)
                log_warning("Failed to schedule the removal of job %" PRIu64 "; it stays listed", j->id);
}

void jobs_enforce_retention(Engine *e) {
        size_t finished = 0;

        MODEL_FOREACH(Job, j, e->model->jobs)
                if (job_state_is_finished(j->state))
                        finished++;
        /* Ids grow, so the table order is the age order. */
        for (size_t i = 0; finished > e->config.max_finished_jobs && i < e->model->jobs.n;) {
                Job *j = e->model->jobs.items[i];

                if (!job_state_is_finished(j->state)) {
                        i++;
                        continue;
                }
                job_remove(e, j);
                finished--;
                if (i < e->model->jobs.n && e->model->jobs.items[i] == j)
                        i++;    /* removal failed; skip it */
        }
}

int jobs_delete(Engine *e, Job *j, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        uint64_t id = j->id;    /* j is freed when the removal succeeds */

        if (!job_state_is_finished(j->state))
                return repl_error_set(err, -EBADRQC, "Job %s is %s; only a finished job can be deleted.",
                                      path_of(p, OBJECT_JOB, id), job_state_to_string(j->state));
        job_remove(e, j);
        return model_get_job(e->model, id) ? repl_error_set(err, -EIO, "The job could not be removed from the store.") : 0;
}

int jobs_set_removal(Engine *e, Job *j, bool set_doc, bool doc, bool set_tbr, uint64_t tbr, ReplError *err) {
        Job updated = *j;
        int r;

        if (set_doc)
                updated.delete_on_completion = doc;
        if (set_tbr)
                updated.time_before_removal = tbr;
        if (updated.delete_on_completion == j->delete_on_completion && updated.time_before_removal == j->time_before_removal)
                return 0;

        r = store_begin(e->store);
        if (r >= 0)
                r = store_save_job(e->store, &updated);
        if (r >= 0)
                r = store_commit(e->store);
        if (r < 0) {
                store_rollback(e->store);
                return repl_error_set(err, -EIO, "The change could not be stored; nothing was changed.");
        }
        if (set_doc && j->delete_on_completion != doc) {
                j->delete_on_completion = doc;
                engine_notify_changed(e, OBJECT_JOB, j->id, "DeleteOnCompletion");
        }
        if (set_tbr && j->time_before_removal != tbr) {
                j->time_before_removal = tbr;
                engine_notify_changed(e, OBJECT_JOB, j->id, "TimeBeforeRemoval");
        }
        if (j->runtime && job_state_is_finished(j->state))
                job_arm_removal(j->runtime);
        return 0;
}

/* ---- state changes ---- */

int jobs_request_state_change(Engine *e, const Caller *c, Job *j, uint16_t requested, ReplError *err) {
        JobRuntime *rt = j->runtime;
        char p[OBJECT_PATH_MAX], desc[256];
        JobState next;
        int r;

        r = job_plan_state_change(j, requested, &next, err);
        if (r < 0)
                return r;
        if (!rt || !rt->running)
                return repl_error_set(err, -EBADRQC, "Job %s has no work to control.", path_of(p, OBJECT_JOB, j->id));

        switch (next) {
        case JOB_STATE_SUSPENDED:
                for (size_t i = 0; i < rt->n_tasks; i++)
                        if (rt->tasks[i].state == TASK_RUNNING) {
                                /* A suspended job holds no connection; the probe starts over on resume. */
                                rt->tasks[i].probe = probe_free(rt->tasks[i].probe);
                                rt->tasks[i].state = TASK_PENDING;
                                rt->n_running--;
                        }
                job_set_state(rt, JOB_STATE_SUSPENDED);
                job_set_status(j, "Suspended.");
                log_info("uid=%" PRIu32 " suspended job %s", c->uid, path_of(p, OBJECT_JOB, j->id));
                {
                        const char *props[8] = { "JobState", "OperationalStatus", "TimeOfLastStateChange" };
                        size_t k = job_collect_progress(rt, props, 3);

                        props[k] = NULL;
                        engine_notify_changed_strv(e, OBJECT_JOB, j->id, props);
                }
                return 0;
        case JOB_STATE_RUNNING:
                log_info("uid=%" PRIu32 " resumed job %s", c->uid, path_of(p, OBJECT_JOB, j->id));
                rt->start_source = sd_event_source_disable_unref(rt->start_source);
                job_run(rt);
                return 0;
        case JOB_STATE_TERMINATED:
        case JOB_STATE_KILLED:
                snprintf(desc, sizeof(desc), "%s at the request of uid %" PRIu32 "; nothing was committed.",
                         next == JOB_STATE_TERMINATED ? "Terminated" : "Killed", c->uid);
                log_info("uid=%" PRIu32 " %s job %s", c->uid, next == JOB_STATE_TERMINATED ? "terminated" : "killed",
                         path_of(p, OBJECT_JOB, j->id));
                job_finish(rt, next, next == JOB_STATE_TERMINATED ? REASON_TERMINATED : REASON_KILLED, CIM_OK, desc,
                           NULL_PATH);
                return 0;
        default:
                return repl_error_set(err, -EBADRQC, "Unexpected job state.");
        }
}

