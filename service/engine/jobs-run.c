/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running job: probes in flight (at most JOB_MAX_CONCURRENT_PROBES, each
 * with its own deadline), the reachability verdicts they leave on access
 * points and systems, and rate-limited progress announcements.
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

/* ---- progress ---- */

void job_set_status(Job *j, const char *status) {
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
size_t job_collect_progress(JobRuntime *rt, const char **props, size_t k) {
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

void job_report_progress(JobRuntime *rt, unsigned percent, uint64_t expected_end_time, const char *status) {
        rt->job->percent_complete = MIN(percent, 100u);
        rt->job->expected_end_time = expected_end_time;
        job_set_status(rt->job, status);
        job_progress_changed(rt);
}

/* ---- reachability ---- */

static void system_update_reachable(Engine *e, uint64_t system_id) {
        System *s = model_get_system(e->model, system_id);
        Reachability r = REACHABLE_UNKNOWN;
        uint64_t last = 0;

        if (!s || system_id == LOCAL_SYSTEM_ID)
                return;
        for (size_t i = 0; i < s->access_points.n; i++) {
                const AccessPoint *a = model_get_access_point(e->model, s->access_points.ids[i]);

                if (!a)
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

static uint64_t system_id_hash(uint64_t id) {
        return hash_bytes(HASH_SEED, &id, sizeof(id));
}

static bool access_point_of_system(const void *item, const void *key) {
        return ((const AccessPoint *) item)->system_id == *(const uint64_t *) key;
}

/*
 * The paths of the peers that answered, in the model's order; a peer answers
 * when any of its access points did. One pass over the tasks files an
 * answering access point under its system's id, one pass over the systems
 * looks each up: linear, where asking every task about every system was not.
 */
static char **job_answered_peers(const JobRuntime *rt) {
        _cleanup_(hash_index_clear) HashIndex answered = HASH_INDEX_INIT;
        _cleanup_(strv_builder_clear) StrvBuilder found = STRV_BUILDER_INIT;
        const Model *m = rt->engine->model;
        char p[OBJECT_PATH_MAX];

        for (size_t i = 0; i < rt->n_tasks; i++) {
                AccessPoint *a = rt->tasks[i].state == TASK_OK ? model_get_access_point(m, rt->tasks[i].remote_ap) : NULL;
                uint64_t h;

                if (!a)
                        continue;
                h = system_id_hash(a->system_id);
                if (!hash_index_find(&answered, h, access_point_of_system, &a->system_id) &&
                    hash_index_put(&answered, h, a) < 0)
                        return NULL;
        }
        MODEL_FOREACH(System, s, m->systems)
                if (hash_index_find(&answered, system_id_hash(s->id), access_point_of_system, &s->id) &&
                    strv_builder_extend(&found, path_of(p, OBJECT_SYSTEM, s->id)) < 0)
                        return NULL;
        return strv_builder_steal(&found);
}

static void job_all_tasks_done(JobRuntime *rt) {
        Job *j = rt->job;

        if (rt->kind == JOB_WORK_PEERS) {
                char **found = job_answered_peers(rt);

                if (!found) {
                        job_finish(rt, JOB_STATE_EXCEPTION, REASON_NONE, CIM_UNKNOWN, "Out of memory.", NULL_PATH);
                        return;
                }
                strv_free(j->affected_elements);
                j->affected_elements = found;
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

void job_set_state(JobRuntime *rt, JobState state) {
        rt->job->state = state;
        rt->job->time_of_last_state_change = now_usec(CLOCK_REALTIME);
}

void job_run(JobRuntime *rt) {
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

        if (rt->work_ops) {
                rt->work_ops->start(rt);
                return;
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

