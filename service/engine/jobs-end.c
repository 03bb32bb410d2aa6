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

#include "change.h"
#include "core/validate.h"
#include "jobs-internal.h"
#include "util/log.h"
#include "util/strutil.h"

/* The access points the job's probes looked at, whose findings (kept in the model) its end stores. */
static int job_touched(Engine *e, JobRuntime *rt, IdSet *ret) {
        for (size_t i = 0; i < rt->n_tasks; i++)
                if ((rt->tasks[i].state == TASK_OK || rt->tasks[i].state == TASK_FAILED) &&
                    idset_add(ret, rt->tasks[i].remote_ap) < 0)
                        return -ENOMEM;
        if (rt->kind == JOB_WORK_VERIFY && idset_add(ret, rt->target_id) < 0)
                return -ENOMEM;
        return 0;
}

static void change_save_touched(Change *ch, Engine *e, const IdSet *touched) {
        _cleanup_(idset_clear) IdSet systems = IDSET_INIT;

        for (size_t i = 0; i < touched->n; i++) {
                AccessPoint *a = model_get_access_point(e->model, touched->ids[i]);

                if (!a)
                        continue;
                change_save(ch, OBJECT_ACCESS_POINT, a);
                if (idset_add(&systems, a->system_id) < 0)
                        change_fail(ch, -ENOMEM);
        }
        for (size_t i = 0; i < systems.n; i++) {
                System *s = model_get_system(e->model, systems.ids[i]);

                if (s && s->id != LOCAL_SYSTEM_ID)
                        change_save(ch, OBJECT_SYSTEM, s);
        }
}

/* What the end's done callback needs once the runtime's work is gone. */
typedef struct JobEnd {
        uint64_t job_id;
        IdSet touched;
} JobEnd;

static void job_end_free(JobEnd *end) {
        idset_clear(&end->touched);
        free(end);
}

static void job_record_end(Job *j, JobState state, Reason reason, uint16_t code, const char *description,
                           const char *source) {
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
}

static void job_set_affected_collection(Job *j, uint64_t collection_id) {
        char p[OBJECT_PATH_MAX];

        strv_free(j->affected_elements);
        j->affected_elements = calloc(2, sizeof(char *));
        if (j->affected_elements)
                j->affected_elements[0] = strdup(path_of(p, OBJECT_COLLECTION, collection_id));
}

/* After the commit: the collection is free again, the job says it is done, its removal is scheduled. */
static void apply_job_ended(Engine *e, void *data) {
        Job *j = model_get_job(e->model, (uint64_t) (uintptr_t) data);
        Collection *col;

        if (!j)
                return;
        col = j->collection_id ? model_get_collection(e->model, j->collection_id) : NULL;
        if (col && col->job_id == j->id) {
                col->job_id = 0;
                engine_notify_changed(e, OBJECT_COLLECTION, col->id, "Job");
        }
        engine_notify_job_completed(e, j);
        if (!e->shutting_down) {
                job_arm_removal(j->runtime);
                jobs_enforce_retention(e);
        }
}

/* The job's end as one change: what it found, its plan when it succeeded, its row, the announcements. */
static int job_submit_end(JobRuntime *rt, bool commit_plan, JobEnd *end, change_done_t done) {
        Engine *e = rt->engine;
        Job *j = rt->job;
        ReplError err = REPL_ERROR_INIT;
        const char *props[20] = { "JobState", "OperationalStatus", "TimeOfLastStateChange", "Cancelable" };
        size_t k = 4;
        Change *ch;
        int r;

        r = change_begin(e, NULL, &ch, &err);
        if (r < 0)
                return r;
        change_save_touched(ch, e, &end->touched);
        if (commit_plan) {
                engine_log_plan(ch, "job committed its change to", &rt->plan);
                engine_change_plan(ch, &rt->plan, rt->create);
        } else
                change_log(ch, "job %" PRIu64 " ended %s%s%s", j->id, job_state_to_string(j->state),
                           isempty(j->error_description) ? "" : ": ", j->error_description);
        if (rt->work_ops && rt->work && rt->work_ops->end)
                rt->work_ops->end(rt, ch);
        change_save(ch, OBJECT_JOB, j);
        if (j->error_code != 0)
                props[k++] = "ErrorCode";
        if (!isempty(j->error_description))
                props[k++] = "ErrorDescription";
        if (commit_plan || rt->kind == JOB_WORK_PEERS)
                props[k++] = "AffectedElements";
        k = job_collect_progress(rt, props, k);
        props[k] = NULL;
        change_notify_strv(ch, OBJECT_JOB, j->id, props);
        change_call(ch, j->collection_id, apply_job_ended, (void *) (uintptr_t) j->id, NULL);
        change_on_done(ch, done, end);
        return change_submit(ch, &err);
}

/* Whatever the job found or was to commit, its end is not on record: it failed, and says so. */
static void job_end_storage_failed(JobRuntime *rt, JobEnd *end, int error) {
        Job *j = rt->job;

        log_error_errno(error, "Failed to store the end of job %" PRIu64 "; its changes are not committed", j->id);
        job_set_state(rt, JOB_STATE_EXCEPTION);
        j->error_code = CIM_FAILED;
        j->error_type = CIM_ERROR_TYPE_SOFTWARE;
        j->error_reason = REASON_STORAGE_FAILED;
        (void) free_and_strdup(&j->error_description, "The result could not be stored; nothing was committed.");
        (void) free_and_strdup(&j->error_source, NULL_PATH);
        job_set_status(j, "Failed.");
        /* What the probes found is on show already; keep it with the failed job, as a restart would
         * otherwise bring back older findings. */
        if (job_submit_end(rt, false, end, NULL) >= 0)
                return;
        log_error("Failed to store that job %" PRIu64 " failed; it is listed as failed until the service stops", j->id);
        /* Its callers still learn that it ended. */
        engine_notify_changed(rt->engine, OBJECT_JOB, j->id, "JobState", "OperationalStatus", "TimeOfLastStateChange",
                              "Cancelable", "ErrorCode", "ErrorDescription", "JobStatus");
        apply_job_ended(rt->engine, (void *) (uintptr_t) j->id);
}

static void job_end_done(Engine *e, int error, void *userdata) {
        JobEnd *end = userdata;
        Job *j = model_get_job(e->model, end->job_id);

        if (error < 0 && j && j->runtime)
                job_end_storage_failed(j->runtime, end, error);
        job_end_free(end);
}

void job_finish(JobRuntime *rt, JobState state, Reason reason, uint16_t code, const char *description,
                const char *source) {
        bool commit_plan = state == JOB_STATE_COMPLETED && rt->kind == JOB_WORK_COLLECTION && rt->plan.result;
        JobEnd *end = calloc(1, sizeof(JobEnd));
        int r = end ? job_touched(rt->engine, rt, &end->touched) : -ENOMEM;

        if (rt->work_ops && rt->work && rt->running)
                rt->work_ops->stop(rt);
        for (size_t i = 0; i < rt->n_tasks; i++)
                rt->tasks[i].probe = probe_free(rt->tasks[i].probe);
        rt->start_source = sd_event_source_disable_unref(rt->start_source);
        rt->progress_timer = sd_event_source_disable_unref(rt->progress_timer);

        job_set_state(rt, state);
        job_record_end(rt->job, state, reason, code, description, source);
        if (commit_plan)
                job_set_affected_collection(rt->job, rt->plan.result->id);
        if (r >= 0) {
                end->job_id = rt->job->id;
                r = job_submit_end(rt, commit_plan, end, job_end_done);
        }
        if (r < 0 && end)
                job_end_storage_failed(rt, end, r);
        if (end && r < 0)
                job_end_free(end);
        runtime_stop_work(rt);
}

/* ---- removal ---- */

static void removal_done(Engine *e, int error, void *userdata) {
        Job *j = model_get_job(e->model, (uint64_t) (uintptr_t) userdata);

        if (error < 0 && j && j->runtime) {
                log_warning("Failed to remove job %" PRIu64 " from the store; it stays listed", j->id);
                ((JobRuntime *) j->runtime)->removing = false;
        }
}

/* Removes a finished job: its row now, the object after the commit. */
static int job_remove(Engine *e, const Caller *c, Job *j, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        Change *ch;
        int r;

        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_delete(ch, OBJECT_JOB, j->id);
        change_remove(ch, OBJECT_JOB, j->id);
        change_log(ch, "removed job %s", path_of(p, OBJECT_JOB, j->id));
        change_on_done(ch, removal_done, (void *) (uintptr_t) j->id);
        r = change_submit(ch, err);
        if (r >= 0 && j->runtime)
                ((JobRuntime *) j->runtime)->removing = true;
        return r;
}

static void job_remove_expired(Engine *e, Job *j) {
        ReplError err = REPL_ERROR_INIT;

        if (job_remove(e, NULL, j, &err) < 0)
                log_warning("Failed to remove job %" PRIu64 " from the store; it stays listed: %s", j->id, err.message);
}

static int on_removal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        JobRuntime *rt = userdata;

        rt->removal_timer = sd_event_source_disable_unref(rt->removal_timer);
        if (rt->job->delete_on_completion)
                job_remove_expired(rt->engine, rt->job);
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

/* Finished and staying: a job whose removal is submitted is gone as far as the limit is concerned. */
static bool job_is_kept_finished(const Job *j) {
        return job_state_is_finished(j->state) && !(j->runtime && ((JobRuntime *) j->runtime)->removing);
}

void jobs_enforce_retention(Engine *e) {
        size_t finished = 0;

        MODEL_FOREACH(Job, j, e->model->jobs)
                if (job_is_kept_finished(j))
                        finished++;
        /* Ids grow, so the table order is the age order; the removals take effect after the commit. */
        for (size_t i = 0; finished > e->config.max_finished_jobs && i < e->model->jobs.n; i++) {
                Job *j = e->model->jobs.items[i];

                if (!job_is_kept_finished(j))
                        continue;
                job_remove_expired(e, j);
                finished--;
        }
}

int jobs_delete(Engine *e, const Caller *c, Job *j, ReplError *err) {
        char p[OBJECT_PATH_MAX];

        if (!job_state_is_finished(j->state))
                return repl_error_set(err, -EBADRQC, "Job %s is %s; only a finished job can be deleted.",
                                      path_of(p, OBJECT_JOB, j->id), job_state_to_string(j->state));
        return job_remove(e, c, j, err);
}

typedef struct RemovalSettings {
        uint64_t job_id;
        bool delete_on_completion;
        uint64_t time_before_removal;
} RemovalSettings;

static void apply_removal_settings(Engine *e, void *data) {
        RemovalSettings *rs = data;
        Job *j = model_get_job(e->model, rs->job_id);

        if (!j)
                return;
        j->delete_on_completion = rs->delete_on_completion;
        j->time_before_removal = rs->time_before_removal;
        if (j->runtime && job_state_is_finished(j->state))
                job_arm_removal(j->runtime);
}

int jobs_set_removal(Engine *e, const Caller *c, Job *j, bool set_doc, bool doc, bool set_tbr, uint64_t tbr,
                     ReplError *err) {
        char p[OBJECT_PATH_MAX];
        Job updated = *j;
        RemovalSettings *rs;
        Change *ch;
        int r;

        if (set_doc)
                updated.delete_on_completion = doc;
        if (set_tbr)
                updated.time_before_removal = tbr;
        if (updated.delete_on_completion == j->delete_on_completion && updated.time_before_removal == j->time_before_removal)
                return 0;
        rs = malloc(sizeof(RemovalSettings));
        if (!rs)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        *rs = (RemovalSettings) { j->id, updated.delete_on_completion, updated.time_before_removal };

        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                free(rs);
                return r;
        }
        change_save(ch, OBJECT_JOB, &updated);
        change_call(ch, j->id, apply_removal_settings, rs, free);
        if (updated.delete_on_completion != j->delete_on_completion)
                change_notify(ch, OBJECT_JOB, j->id, "DeleteOnCompletion");
        if (updated.time_before_removal != j->time_before_removal)
                change_notify(ch, OBJECT_JOB, j->id, "TimeBeforeRemoval");
        change_log(ch, "set DeleteOnCompletion %s, TimeBeforeRemoval %" PRIu64 " us of job %s",
                   updated.delete_on_completion ? "true" : "false", updated.time_before_removal,
                   path_of(p, OBJECT_JOB, j->id));
        return change_submit(ch, err);
}

/* ---- state changes ---- */

static void job_suspend(JobRuntime *rt, uint64_t when) {
        Job *j = rt->job;

        if (rt->work_ops)
                rt->work_ops->stop(rt);
        for (size_t i = 0; i < rt->n_tasks; i++)
                if (rt->tasks[i].state == TASK_RUNNING) {
                        /* A suspended job holds no connection; the probe starts over on resume. */
                        rt->tasks[i].probe = probe_free(rt->tasks[i].probe);
                        rt->tasks[i].state = TASK_PENDING;
                        rt->n_running--;
                }
        job_set_state(rt, JOB_STATE_SUSPENDED);
        j->time_of_last_state_change = when;
        job_set_status(j, "Suspended.");
        /* Announced with the stored change; what is announced then is emitted now. */
        (void) free_and_strdup(&rt->emitted_status, j->status);
}

typedef struct StateRequest {
        uint64_t job_id;
        JobState next;
        uint64_t when;
} StateRequest;

/* After the commit: the job stops or runs again, unless it ended (or was switched already) meanwhile. */
static void apply_job_state(Engine *e, void *data) {
        const StateRequest *q = data;
        Job *j = model_get_job(e->model, q->job_id);
        JobRuntime *rt = j ? j->runtime : NULL;

        if (!rt || !rt->running || j->state == q->next)
                return;
        if (q->next == JOB_STATE_SUSPENDED) {
                job_suspend(rt, q->when);
                return;
        }
        rt->start_source = sd_event_source_disable_unref(rt->start_source);
        job_run(rt);
}

/*
 * Suspend and resume are stored before the caller's reply, as every change
 * is: the row of the job in its new state goes into a change of its own,
 * and only once the group holding it is committed does the job stop or run
 * again (apply_job_state()); a group that fails leaves the job as it was.
 * A suspended job keeps no connection, so a restart finds nothing to take
 * up: jobs_recover() ends it as interrupted, saying it was suspended.
 */
static int job_store_state(Engine *e, const Caller *c, Job *j, JobState next, uint64_t when, const char *what,
                           ReplError *err) {
        static const char *const props[] = { "JobState", "OperationalStatus", "TimeOfLastStateChange", "JobStatus",
                                             NULL };
        char p[OBJECT_PATH_MAX], status[16];
        StateRequest *q = malloc(sizeof(StateRequest));
        Job row = *j;
        Change *ch;
        int r;

        if (!q)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        *q = (StateRequest) { .job_id = j->id, .next = next, .when = when };
        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                free(q);
                return r;
        }
        snprintf(status, sizeof(status), "%s", next == JOB_STATE_SUSPENDED ? "Suspended." : "Running.");
        row.state = next;
        row.time_of_last_state_change = when;
        row.status = status;
        change_save(ch, OBJECT_JOB, &row);
        /* A resumed job announces itself as it starts to run again, as on its first start. */
        if (next == JOB_STATE_SUSPENDED)
                change_notify_strv(ch, OBJECT_JOB, j->id, props);
        change_call(ch, j->id, apply_job_state, q, free);
        change_log(ch, "%s job %s", what, path_of(p, OBJECT_JOB, j->id));
        return change_submit(ch, err);
}

int jobs_request_state_change(Engine *e, const Caller *c, Job *j, uint16_t requested, ReplError *err) {
        JobRuntime *rt = j->runtime;
        char p[OBJECT_PATH_MAX], desc[256];
        uint64_t now = now_usec(CLOCK_REALTIME);
        JobState next;
        int r;

        r = job_plan_state_change(j, requested, &next, err);
        if (r < 0)
                return r;
        if (!rt || !rt->running)
                return repl_error_set(err, -EBADRQC, "Job %s has no work to control.", path_of(p, OBJECT_JOB, j->id));

        switch (next) {
        case JOB_STATE_SUSPENDED:
                return job_store_state(e, c, j, next, now, "suspended", err);
        case JOB_STATE_RUNNING:
                return job_store_state(e, c, j, next, now, "resumed", err);
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

