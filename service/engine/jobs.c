/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Jobs: the work a call leaves running after its reply. A job verifies
 * (local, remote) access point pairs with concurrent probes, each with its own
 * deadline, reports progress (rate-limited), can be suspended, resumed,
 * terminated or killed, and at the end commits everything of its call in one
 * transaction — or nothing. Finished jobs stay for TimeBeforeRemoval, then go
 * if DeleteOnCompletion says so, and never beyond the retention limit.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/validate.h"
#include "engine-internal.h"
#include "net/probe.h"
#include "util/log.h"
#include "util/strutil.h"

/* Probes one job keeps in flight at once; the rest wait their turn. */
#define JOB_MAX_CONCURRENT_PROBES 256

typedef enum TaskState {
        TASK_PENDING,
        TASK_RUNNING,
        TASK_OK,
        TASK_FAILED,
} TaskState;

typedef struct JobRuntime JobRuntime;

typedef struct ProbeTask {
        JobRuntime *runtime;
        uint64_t source_ap;             /* 0: unbound */
        uint64_t remote_ap;
        TaskState state;
        Probe *probe;
} ProbeTask;

struct JobRuntime {
        Engine *engine;
        Job *job;
        bool running;                   /* has work: tasks, plan */
        JobWorkKind kind;
        CollectionPlan plan;
        bool create;
        uint64_t target_id;
        ProbeTask *tasks;
        size_t n_tasks, n_finished, n_running;

        sd_event_source *start_source;
        sd_event_source *progress_timer;
        uint64_t last_progress_emit;    /* CLOCK_MONOTONIC µs */
        unsigned emitted_percent;
        uint64_t emitted_expected_end;
        char *emitted_status;

        sd_event_source *removal_timer;
};

static void job_finish(JobRuntime *rt, JobState state, Reason reason, uint16_t code, const char *description,
                       const char *source);
static void jobs_enforce_retention(Engine *e);
static void job_arm_removal(JobRuntime *rt);

static char *path_of(char buf[static OBJECT_PATH_MAX], ObjectKind kind, uint64_t id) {
        return object_path_format(buf, kind, id);
}

static void runtime_stop_work(JobRuntime *rt) {
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

/* ---- progress ---- */

static void job_set_status(Job *j, const char *status) {
        (void) free_and_strdup(&j->status, status);
}

static void job_update_progress_values(JobRuntime *rt) {
        Job *j = rt->job;
        char buf[512], portal[PORTAL_NAME_MAX], source[PORTAL_NAME_MAX];
        const ProbeTask *current = NULL;
        uint64_t now = now_usec(CLOCK_REALTIME);

        if (rt->n_tasks == 0)
                return;
        j->percent_complete = (unsigned) (rt->n_finished * 100 / rt->n_tasks);
        if (rt->n_finished > 0 && j->start_time > 0 && now > j->start_time)
                j->expected_end_time = j->start_time + (now - j->start_time) * rt->n_tasks / rt->n_finished;
        for (size_t i = 0; i < rt->n_tasks; i++)
                if (rt->tasks[i].state == TASK_RUNNING) {
                        current = &rt->tasks[i];
                        break;
                }
        if (current) {
                AccessPoint *r = model_get_access_point(rt->engine->model, current->remote_ap);
                AccessPoint *l = current->source_ap ? model_get_access_point(rt->engine->model, current->source_ap) : NULL;

                snprintf(buf, sizeof(buf), "Probing %s%s%s; %zu of %zu done.",
                         r ? portal_name_format(portal, r->address, r->port) : "?",
                         l ? " from " : "", l ? portal_name_format(source, l->address, 0) : "",
                         rt->n_finished, rt->n_tasks);
                /* A source portal has no port of its own; drop the ":0". */
                if (l) {
                        char *colon = strstr(buf, ":0;");

                        if (colon)
                                memmove(colon, colon + 2, strlen(colon + 2) + 1);
                }
                job_set_status(j, buf);
        }
}

/* Appends the rate-limited properties that differ from what was last sent. */
static size_t job_collect_progress(JobRuntime *rt, const char **props, size_t k) {
        Job *j = rt->job;

        if (j->percent_complete != rt->emitted_percent) {
                props[k++] = "PercentComplete";
                rt->emitted_percent = j->percent_complete;
        }
        if (j->expected_end_time != rt->emitted_expected_end) {
                props[k++] = "ExpectedEndTime";
                rt->emitted_expected_end = j->expected_end_time;
        }
        if (!streq_ptr(j->status, rt->emitted_status)) {
                props[k++] = "JobStatus";
                (void) free_and_strdup(&rt->emitted_status, j->status);
        }
        return k;
}

static void job_emit_progress(JobRuntime *rt) {
        const char *props[4];
        size_t k = job_collect_progress(rt, props, 0);

        props[k] = NULL;
        rt->last_progress_emit = now_usec(CLOCK_MONOTONIC);
        engine_notify_changed_strv(rt->engine, OBJECT_JOB, rt->job->id, props);
}

static int on_progress_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        JobRuntime *rt = userdata;

        rt->progress_timer = sd_event_source_disable_unref(rt->progress_timer);
        job_emit_progress(rt);
        return 0;
}

static void job_progress_changed(JobRuntime *rt) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), interval = rt->engine->config.progress_interval_usec;

        job_update_progress_values(rt);
        if (rt->progress_timer)
                return;         /* an emission is scheduled and will carry the latest values */
        if (now >= rt->last_progress_emit + interval) {
                job_emit_progress(rt);
                return;
        }
        if (sd_event_add_time(rt->engine->event, &rt->progress_timer, CLOCK_MONOTONIC,
                              rt->last_progress_emit + interval, 0, on_progress_timer, rt) < 0)
                job_emit_progress(rt);  /* better a signal too many than a lost one */
}

/* ---- reachability ---- */

static void system_update_reachable(Engine *e, uint64_t system_id) {
        System *s = model_get_system(e->model, system_id);
        Reachability r = REACHABLE_UNKNOWN;
        uint64_t last = 0;

        if (!s || system_id == LOCAL_SYSTEM_ID)
                return;
        MODEL_FOREACH(AccessPoint, a, e->model->access_points) {
                if (a->system_id != system_id)
                        continue;
                if (a->reachable == REACHABLE_YES)
                        r = REACHABLE_YES;
                else if (a->reachable == REACHABLE_NO && r == REACHABLE_UNKNOWN)
                        r = REACHABLE_NO;
                last = MAX(last, a->last_verified);
        }
        if (s->reachable != r && s->last_verified != last) {
                s->reachable = r;
                s->last_verified = last;
                engine_notify_changed(e, OBJECT_SYSTEM, system_id, "Reachable", "LastVerified");
        } else if (s->reachable != r) {
                s->reachable = r;
                engine_notify_changed(e, OBJECT_SYSTEM, system_id, "Reachable");
        } else if (s->last_verified != last) {
                s->last_verified = last;
                engine_notify_changed(e, OBJECT_SYSTEM, system_id, "LastVerified");
        }
}

static void access_point_record(Engine *e, AccessPoint *a, int error, Reason reason, const char *message) {
        const char *props[5];
        size_t k = 0;
        Reachability r = error == 0 ? REACHABLE_YES : REACHABLE_NO;
        const char *last_error = error == 0 ? "" : message;

        if (a->reachable != r) {
                a->reachable = r;
                props[k++] = "Reachable";
        }
        a->last_verified = now_usec(CLOCK_REALTIME);
        props[k++] = "LastVerified";
        if (!streq_ptr(a->last_error, last_error)) {
                (void) free_and_strdup(&a->last_error, last_error);
                props[k++] = "LastError";
        }
        if (error == 0)
                reason = REASON_NONE;
        if (a->last_error_reason != reason) {
                a->last_error_reason = reason;
                props[k++] = "LastErrorID";
        }
        props[k] = NULL;
        engine_notify_changed_strv(e, OBJECT_ACCESS_POINT, a->id, props);
        system_update_reachable(e, a->system_id);
}

/* ---- running ---- */

static bool job_launch_tasks(JobRuntime *rt);

static void job_all_tasks_done(JobRuntime *rt) {
        Job *j = rt->job;
        Engine *e = rt->engine;

        if (rt->kind == JOB_WORK_PEERS) {
                /* A peer answers when any of its access points did. */
                _cleanup_strv_free_ char **found = NULL;
                char p[OBJECT_PATH_MAX];

                MODEL_FOREACH(System, s, e->model->systems) {
                        bool ok = false;

                        for (size_t i = 0; i < rt->n_tasks && !ok; i++) {
                                AccessPoint *a = model_get_access_point(e->model, rt->tasks[i].remote_ap);

                                ok = a && a->system_id == s->id && rt->tasks[i].state == TASK_OK;
                        }
                        if (ok && strv_extend(&found, path_of(p, OBJECT_SYSTEM, s->id)) < 0) {
                                job_finish(rt, JOB_STATE_EXCEPTION, REASON_NONE, CIM_UNKNOWN, "Out of memory.", NULL_PATH);
                                return;
                        }
                }
                if (!found)
                        found = calloc(1, sizeof(char *));
                if (!found) {
                        job_finish(rt, JOB_STATE_EXCEPTION, REASON_NONE, CIM_UNKNOWN, "Out of memory.", NULL_PATH);
                        return;
                }
                strv_free(j->affected_elements);
                j->affected_elements = TAKE_PTR(found);
        }
        job_finish(rt, JOB_STATE_COMPLETED, REASON_NONE, CIM_OK, "", NULL_PATH);
}

static void on_probe_done(Probe *p, int error, Reason reason, const char *message, void *userdata) {
        ProbeTask *t = userdata;
        JobRuntime *rt = t->runtime;
        Engine *e = rt->engine;
        AccessPoint *remote = model_get_access_point(e->model, t->remote_ap);

        t->probe = probe_free(t->probe);
        t->state = error == 0 ? TASK_OK : TASK_FAILED;
        rt->n_running--;
        rt->n_finished++;
        if (remote)
                access_point_record(e, remote, error, reason, message);

        if (error < 0 && rt->kind != JOB_WORK_PEERS) {
                char desc[1024], rp[OBJECT_PATH_MAX], lp[OBJECT_PATH_MAX];
                AccessPoint *local = t->source_ap ? model_get_access_point(e->model, t->source_ap) : NULL;

                if (local)
                        snprintf(desc, sizeof(desc), "Access point %s could not be verified from local access point %s: %s",
                                 path_of(rp, OBJECT_ACCESS_POINT, t->remote_ap),
                                 path_of(lp, OBJECT_ACCESS_POINT, t->source_ap), message);
                else
                        snprintf(desc, sizeof(desc), "Access point %s could not be verified: %s",
                                 path_of(rp, OBJECT_ACCESS_POINT, t->remote_ap), message);
                job_finish(rt, JOB_STATE_EXCEPTION, reason, reason_probe_cim_code(reason), desc, rp);
                return;
        }

        if (rt->n_finished == rt->n_tasks) {
                job_all_tasks_done(rt);
                return;
        }
        if (job_launch_tasks(rt))
                job_progress_changed(rt);
}

/*
 * What a probe of remote from local checks (API.md section 7). The strings
 * are the model's own, borrowed: probe_start() copies them. Without an
 * initiator name there is nothing to log in as, so the probe stops at the
 * TCP connection; the daemon always has one (it is InitiatorName).
 */
static ProbeTarget probe_target_for(Engine *e, const AccessPoint *remote, const AccessPoint *local) {
        const SharedSecret *secret = remote->secret_id ? model_get_secret(e->model, remote->secret_id) : NULL;
        const System *system = model_get_system(e->model, remote->system_id);
        const char *node_name = NULL;
        NameFormat format;

        /* A host name says nothing about iSCSI names; an IQN, EUI or NAA name must be offered. */
        if (system && name_format_from_name(system->name, "Name", &format, NULL) >= 0 &&
            format != NAME_FORMAT_HOSTNAME)
                node_name = system->name;

        return (ProbeTarget) {
                .source_address = local ? local->address : NULL,
                .address = remote->address,
                .port = remote->port,
                .target_name = remote->target_name,
                .iscsi_check = !isempty(e->config.initiator_name),
                .initiator_name = e->config.initiator_name,
                .expected_node_name = node_name,
                .username = secret ? secret->username : NULL,
                .secret = secret ? secret->secret : NULL,
                .mutual_username = secret ? secret->mutual_username : NULL,
                .mutual_secret = secret ? secret->mutual_secret : NULL,
        };
}

/*
 * Starts pending probes up to the concurrency limit. Returns false when the
 * job may have ended meanwhile (a probe that could not start is reported as
 * failed at once), so the caller must not touch rt any more.
 */
static bool job_launch_tasks(JobRuntime *rt) {
        Engine *e = rt->engine;

        for (size_t i = 0; i < rt->n_tasks && rt->n_running < JOB_MAX_CONCURRENT_PROBES; i++) {
                ProbeTask *t = &rt->tasks[i];
                AccessPoint *remote, *local;
                ProbeTarget target;
                int r;

                if (t->state != TASK_PENDING)
                        continue;
                remote = model_get_access_point(e->model, t->remote_ap);
                local = t->source_ap ? model_get_access_point(e->model, t->source_ap) : NULL;
                if (!remote) {
                        /* Cannot happen: deletion is refused while a job uses it. */
                        job_finish(rt, JOB_STATE_EXCEPTION, REASON_NONE, CIM_FAILED, "An access point of the job disappeared.",
                                   NULL_PATH);
                        return false;
                }
                target = probe_target_for(e, remote, local);
                t->state = TASK_RUNNING;
                rt->n_running++;
                r = probe_start(e->event, &target, e->config.probe_timeout_usec, on_probe_done, t, &t->probe);
                if (r < 0) {
                        char msg[256];

                        snprintf(msg, sizeof(msg), "The probe could not be started: %s.", strerror(-r));
                        /* Report through the same path as a failed probe: the portal was not reached. */
                        on_probe_done(NULL, r, REASON_UNREACHABLE, msg, t);
                        return false;
                }
        }
        return true;
}

static void job_set_state(JobRuntime *rt, JobState state) {
        rt->job->state = state;
        rt->job->time_of_last_state_change = now_usec(CLOCK_REALTIME);
}

static void job_run(JobRuntime *rt) {
        Job *j = rt->job;
        Engine *e = rt->engine;
        bool first_start = j->start_time == 0;

        job_set_state(rt, JOB_STATE_RUNNING);
        if (first_start)
                j->start_time = j->time_of_last_state_change;
        job_set_status(j, "Running.");
        job_update_progress_values(rt);
        {
                /* A resumed job keeps its StartTime, and an unchanged property is not announced. */
                const char *props[10] = { "JobState", "OperationalStatus", "TimeOfLastStateChange", "StartTime" };
                size_t k = job_collect_progress(rt, props, first_start ? 4 : 3);

                props[k] = NULL;
                rt->last_progress_emit = now_usec(CLOCK_MONOTONIC);
                engine_notify_changed_strv(e, OBJECT_JOB, j->id, props);
        }

        if (rt->kind == JOB_WORK_VERIFY) {
                AccessPoint *a = model_get_access_point(e->model, rt->target_id);

                if (a && access_point_is_local(a)) {
                        /* A portal of this host is verified by binding to its address. */
                        ReplError err = REPL_ERROR_INIT;
                        char p[OBJECT_PATH_MAX];
                        int r = address_check_local(a->address, "Address", &err);

                        /* Not an address of this host: nothing can be reached through it. */
                        access_point_record(e, a, r, REASON_UNREACHABLE, err.message);
                        if (r < 0)
                                job_finish(rt, JOB_STATE_EXCEPTION, REASON_UNREACHABLE, CIM_FAILED, err.message,
                                           path_of(p, OBJECT_ACCESS_POINT, a->id));
                        else
                                job_finish(rt, JOB_STATE_COMPLETED, REASON_NONE, CIM_OK, "", NULL_PATH);
                        return;
                }
        }

        if (rt->n_tasks == 0) {
                job_all_tasks_done(rt);
                return;
        }
        /* JobStatus names the portal being probed from the start, not only once a first probe ended. */
        if (job_launch_tasks(rt))
                job_progress_changed(rt);
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
        Job *j = rt->job;
        Engine *e = rt->engine;
        char p[OBJECT_PATH_MAX];
        int r = 0;

        switch (rt->kind) {
        case JOB_WORK_COLLECTION:
                if (!rt->create)
                        r = strv_extend(&j->affected_elements, path_of(p, OBJECT_COLLECTION, rt->target_id));
                for (size_t i = 0; r >= 0 && i < rt->plan.added_remote.n; i++)
                        r = strv_extend(&j->affected_elements, path_of(p, OBJECT_ACCESS_POINT, rt->plan.added_remote.ids[i]));
                break;
        case JOB_WORK_VERIFY:
                r = strv_extend(&j->affected_elements, path_of(p, OBJECT_ACCESS_POINT, rt->target_id));
                break;
        case JOB_WORK_PEERS:
                MODEL_FOREACH(System, s, e->model->systems)
                        if (r >= 0 && s->id != LOCAL_SYSTEM_ID)
                                r = strv_extend(&j->affected_elements, path_of(p, OBJECT_SYSTEM, s->id));
                break;
        }
        return r;
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

static void job_finish(JobRuntime *rt, JobState state, Reason reason, uint16_t code, const char *description,
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

static void job_arm_removal(JobRuntime *rt) {
        Job *j = rt->job;
        uint64_t when = j->time_of_last_state_change + j->time_before_removal;

        rt->removal_timer = sd_event_source_disable_unref(rt->removal_timer);
        if (!job_state_is_finished(j->state) || !j->delete_on_completion)
                return;
        if (sd_event_add_time(rt->engine->event, &rt->removal_timer, CLOCK_REALTIME, when, 0, on_removal_timer, rt) < 0)
                log_warning("Failed to schedule the removal of job %" PRIu64 "; it stays listed", j->id);
}

static void jobs_enforce_retention(Engine *e) {
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
