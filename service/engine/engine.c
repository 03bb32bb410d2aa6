/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The engine object: its life (store, model, committer, jobs), the object
 * limits every call checks first, and the calls that only start or steer
 * jobs. The changes themselves live in engine-objects.c (peers, access
 * points, secrets) and engine-collections.c (collections); each validates
 * and builds one Change (change.h), which the committer (committer.c)
 * stores with its group and only then applies to the model and announces,
 * so a failing call leaves everything as it was. Calls go one way:
 * engine*.c → jobs*.c → plan-change.c, change.c, committer.c.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "committer.h"
#include "core/validate.h"
#include "engine-internal.h"
#include "util/log.h"
#include "util/strutil.h"

int engine_new(sd_event *event, const char *state_directory, const char *local_name, const ServiceConfig *config,
               Engine **ret) {
        Engine *e;
        int r;

        e = calloc(1, sizeof(Engine));
        if (!e)
                return -ENOMEM;
        e->event = sd_event_ref(event);
        e->config = *config;
        e->model = model_new(local_name);
        if (!e->model) {
                engine_free(e);
                return -ENOMEM;
        }
        r = store_open(state_directory, &e->store);
        if (r < 0) {
                engine_free(e);
                return log_error_errno(r, "Failed to open the state store in %s", state_directory);
        }
        r = store_load(e->store, e->model);
        if (r < 0) {
                engine_free(e);
                return log_error_errno(r, "Failed to load the state store in %s", state_directory);
        }
        r = committer_new(e);
        if (r < 0) {
                engine_free(e);
                return log_error_errno(r, "Failed to set up the committer");
        }
        *ret = e;
        return 0;
}

Engine *engine_free(Engine *e) {
        if (!e)
                return NULL;
        committer_free(e);
        e->replica_timer = sd_event_source_disable_unref(e->replica_timer);
        if (e->model)
                MODEL_FOREACH(Job, j, e->model->jobs)
                        jobs_free_runtime(j);
        model_free(e->model);
        store_close(e->store);
        sd_event_unref(e->event);
        free(e);
        return NULL;
}

void engine_set_observer(Engine *e, const EngineObserver *o, void *userdata) {
        e->observer = o;
        e->observer_userdata = userdata;
}

int engine_recover(Engine *e) {
        int r = jobs_recover(e);

        return r < 0 ? r : replica_recover(e);
}

void engine_shutdown(Engine *e) {
        e->shutting_down = true;
        e->replica_timer = sd_event_source_disable_unref(e->replica_timer);
        jobs_shutdown(e);
        (void) engine_flush(e);
}

bool engine_has_running_jobs(Engine *e) {
        /* A scheduled replica cycle is a job to come: the service must not leave before it. */
        return model_count_running_jobs(e->model, false, 0) > 0 || e->replica_timer;
}

bool engine_object_busy(Engine *e, ObjectKind kind, uint64_t id) {
        return jobs_uses_object(e, kind, id);
}

/* Object limits (API.md section 8) are checked before anything else about a call. */
int engine_check_object_limit(size_t n, size_t max, const char *what, ReplError *err) {
        if (n < max)
                return 0;
        return repl_error_set(err, -EDQUOT, "There are %zu %s already, the most the service allows.", n, what);
}

int engine_check_member_limit(Engine *e, const Collection *c, ReplError *err) {
        size_t n = c->local_access_points.n + c->remote_access_points.n + c->remote_systems.n;

        if (n <= e->config.max_collection_members)
                return 0;
        return repl_error_set(err, -EDQUOT, "The collection would have %zu members; at most %zu are allowed.", n,
                              e->config.max_collection_members);
}


/* ---- probing ---- */

int engine_verify_access_point(Engine *e, const Caller *c, uint64_t id, uint64_t *ret_job_id, ReplError *err) {
        char q[OBJECT_PATH_MAX];

        engine_settle(e, id);
        if (!model_get_access_point(e->model, id))
                return repl_error_set(err, -ENOENT, "Access point %s does not exist.", path_of(q, OBJECT_ACCESS_POINT, id));
        return jobs_start(e, c, "Verify", JOB_WORK_VERIFY, NULL, false, id, ret_job_id, err);
}

int engine_probe_peer_systems(Engine *e, const Caller *c, uint64_t *ret_job_id, ReplError *err) {
        engine_settle_kind(e, OBJECT_SYSTEM);
        engine_settle_kind(e, OBJECT_ACCESS_POINT);
        return jobs_start(e, c, "GetPeerSystems", JOB_WORK_PEERS, NULL, false, 0, ret_job_id, err);
}

/* ---- jobs ---- */

static int job_for_control(Engine *e, const Caller *c, uint64_t id, Job **ret, ReplError *err) {
        char q[OBJECT_PATH_MAX];
        Job *j;

        engine_settle(e, id);
        j = model_get_job(e->model, id);

        if (!j)
                return repl_error_set(err, -ENOENT, "Job %s does not exist.", path_of(q, OBJECT_JOB, id));
        *ret = j;
        return 0;
}

int engine_job_request_state_change(Engine *e, const Caller *c, uint64_t id, uint16_t requested, ReplError *err) {
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        return r < 0 ? r : jobs_request_state_change(e, c, j, requested, err);
}

int engine_job_delete(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        return r < 0 ? r : jobs_delete(e, c, j, err);
}

int engine_job_set_delete_on_completion(Engine *e, const Caller *c, uint64_t id, bool b, ReplError *err) {
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        return r < 0 ? r : jobs_set_removal(e, c, j, true, b, false, 0, err);
}

int engine_job_set_time_before_removal(Engine *e, const Caller *c, uint64_t id, uint64_t usec, ReplError *err) {
        Job *j = NULL;
        int r = job_for_control(e, c, id, &j, err);

        return r < 0 ? r : jobs_set_removal(e, c, j, false, false, true, usec, err);
}
