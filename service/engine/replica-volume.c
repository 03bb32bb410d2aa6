/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage volumes (API.md section 10): AddStorageVolume is always a job that
 * logs in through the access point, checks the LUN (INQUIRY: a direct-access
 * block device) and reads its size (READ CAPACITY 16, both done by
 * net/volume-session.c); the volume enters the model when the job's end is
 * committed. Deleting one is refused while a synchronization uses it.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "change.h"
#include "replica-internal.h"
#include "util/log.h"
#include "util/strutil.h"

typedef struct VolumeWork {
        Engine *engine;
        JobRuntime *runtime;
        Volume *volume;                 /* added when the job completes */
        VolumeSession *session;
} VolumeWork;

VolumeEndpoint replica_endpoint(Engine *e, const Volume *v, const AccessPoint *a, const char *source_address) {
        const SharedSecret *secret = a->secret_id ? model_get_secret(e->model, a->secret_id) : NULL;

        return (VolumeEndpoint) {
                .source_address = source_address,
                .address = a->address,
                .port = a->port,
                .target_name = v->target_name,
                .lun = v->lun,
                .initiator_name = e->config.initiator_name,
                .username = secret ? secret->username : NULL,
                .secret = secret ? secret->secret : NULL,
                .mutual_username = secret ? secret->mutual_username : NULL,
                .mutual_secret = secret ? secret->mutual_secret : NULL,
        };
}

static void volume_work_free(void *data) {
        VolumeWork *w = data;

        if (!w)
                return;
        volume_session_free(w->session);
        volume_free(w->volume);
        free(w);
}

static void volume_work_stop(JobRuntime *rt) {
        VolumeWork *w = rt->work;

        w->session = volume_session_free(w->session);
}

static void on_volume_session(VolumeSession *s, int error, Reason reason, const char *message, void *userdata) {
        VolumeWork *w = userdata;
        JobRuntime *rt = w->runtime;
        char p[OBJECT_PATH_MAX];
        Volume *v = w->volume;

        path_of(p, OBJECT_ACCESS_POINT, v->access_point_id);
        if (error < 0) {
                /* The message lives in the session, which the job's end frees. */
                _cleanup_free_ char *desc = strdup(message);

                job_finish(rt, JOB_STATE_EXCEPTION, reason, CIM_FAILED, desc ?: "The volume could not be reached.", p);
                return;
        }
        v->block_size = volume_session_block_size(s);
        v->n_blocks = volume_session_n_blocks(s);
        v->last_verified = now_usec(CLOCK_REALTIME);
        w->session = volume_session_free(w->session);
        /* Registered meanwhile by another call: the first one wins. */
        engine_settle_kind(w->engine, OBJECT_VOLUME);
        if (model_find_volume_by_lun(w->engine->model, v->access_point_id, v->target_name, v->lun)) {
                char desc[512];

                snprintf(desc, sizeof(desc), "LUN %u of %s behind %s was registered meanwhile.", v->lun, v->target_name, p);
                job_finish(rt, JOB_STATE_EXCEPTION, REASON_NONE, CIM_INVALID_PARAMETER, desc, p);
                return;
        }
        job_finish(rt, JOB_STATE_COMPLETED, REASON_NONE, CIM_OK, "", NULL_PATH);
}

static void volume_work_start(JobRuntime *rt) {
        VolumeWork *w = rt->work;
        Engine *e = w->engine;
        const AccessPoint *a = model_get_access_point(e->model, w->volume->access_point_id);
        char p[OBJECT_PATH_MAX], status[128];
        VolumeEndpoint ep;
        int r;

        if (!a) {
                job_finish(rt, JOB_STATE_EXCEPTION, REASON_NONE, CIM_FAILED, "The access point of the volume disappeared.",
                           NULL_PATH);
                return;
        }
        /* A local portal is this host's: reach it from its own address. */
        ep = replica_endpoint(e, w->volume, a, access_point_is_local(a) ? a->address : NULL);
        r = volume_session_open(e->event, &ep, e->config.probe_timeout_usec, on_volume_session, w, &w->session);
        if (r < 0) {
                char desc[256];

                snprintf(desc, sizeof(desc), "The volume could not be reached through %s: %s.",
                         path_of(p, OBJECT_ACCESS_POINT, a->id), strerror(-r));
                job_finish(rt, JOB_STATE_EXCEPTION, REASON_UNREACHABLE, CIM_FAILED, desc, p);
                return;
        }
        snprintf(status, sizeof(status), "Checking LUN %u.", w->volume->lun);
        job_report_progress(rt, 0, 0, status);
}

static void volume_work_end(JobRuntime *rt, Change *ch) {
        VolumeWork *w = rt->work;
        char p[OBJECT_PATH_MAX];
        uint64_t ap;

        if (rt->job->state != JOB_STATE_COMPLETED)
                return;
        ap = w->volume->access_point_id;
        change_save(ch, OBJECT_VOLUME, w->volume);
        change_log(ch, "job %" PRIu64 " registered volume %s (LUN %u, %" PRIu64 " blocks of %" PRIu32 " bytes)",
                   rt->job->id, path_of(p, OBJECT_VOLUME, w->volume->id), w->volume->lun, w->volume->n_blocks,
                   w->volume->block_size);
        change_add(ch, OBJECT_VOLUME, TAKE_PTR(w->volume));
        /* The access point's set of volumes changes. */
        change_call(ch, ap, NULL, NULL, NULL);
}

static bool volume_work_uses(JobRuntime *rt, ObjectKind kind, uint64_t id) {
        VolumeWork *w = rt->work;
        const AccessPoint *a;

        if (kind == OBJECT_ACCESS_POINT)
                return w->volume->access_point_id == id;
        if (kind == OBJECT_SYSTEM) {
                a = model_get_access_point(w->engine->model, w->volume->access_point_id);
                return a && a->system_id == id;
        }
        if (kind == OBJECT_SECRET) {
                a = model_get_access_point(w->engine->model, w->volume->access_point_id);
                return a && a->secret_id == id;
        }
        return false;
}

static const JobWorkOps volume_ops = {
        .start = volume_work_start,
        .stop = volume_work_stop,
        .end = volume_work_end,
        .uses = volume_work_uses,
        .free = volume_work_free,
};

static int new_volume(Engine *e, const VolumeSpec *spec, Volume **ret, ReplError *err) {
        _cleanup_(volume_freep) Volume *v = NULL;
        const AccessPoint *a;
        const char *target;
        int r;

        r = engine_check_object_limit(e->model->volumes.n, e->config.max_volumes, "storage volumes", err);
        if (r >= 0)
                r = replica_validate_volume(e->model, spec, &a, &target, err);
        if (r < 0)
                return r;
        v = volume_new();
        if (!v || free_and_strdup(&v->target_name, target) < 0 ||
            free_and_strdup(&v->element_name, spec->element_name ?: "") < 0)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        v->access_point_id = a->id;
        v->lun = spec->lun;
        *ret = TAKE_PTR(v);
        return 0;
}

int engine_add_volume(Engine *e, const Caller *c, const VolumeSpec *spec, uint64_t *ret_volume_id,
                      uint64_t *ret_job_id, ReplError *err) {
        _cleanup_(volume_freep) Volume *v = NULL;
        char p[OBJECT_PATH_MAX];
        VolumeWork *w;
        Change *ch;
        Job *j;
        int r;

        engine_settle_kind(e, OBJECT_ACCESS_POINT);
        engine_settle_kind(e, OBJECT_VOLUME);
        r = new_volume(e, spec, &v, err);
        if (r < 0)
                return r;
        /* A volume being registered by a running job counts as registered. */
        MODEL_FOREACH(Job, x, e->model->jobs) {
                JobRuntime *xr = x->runtime;
                const Volume *o;

                if (!xr || !xr->running || xr->work_ops != &volume_ops)
                        continue;
                o = ((VolumeWork *) xr->work)->volume;
                if (o && o->access_point_id == v->access_point_id && o->lun == v->lun &&
                    strcasecmp(o->target_name, v->target_name) == 0)
                        return repl_error_set(err, -EEXIST, "LUN %u of %s is being registered already by job %s.",
                                              v->lun, v->target_name, path_of(p, OBJECT_JOB, x->id));
        }
        v->id = model_allocate_id(e->model);
        w = calloc(1, sizeof(VolumeWork));
        if (!w)
                return repl_error_set(err, -ENOMEM, "Out of memory.");
        *w = (VolumeWork) { .engine = e, .volume = TAKE_PTR(v) };
        r = jobs_new_work(e, c, "AddStorageVolume", JOB_WORK_VOLUME, &volume_ops, w, path_of(p, OBJECT_VOLUME, w->volume->id),
                          &j, err);
        if (r < 0)
                return r;
        w->runtime = j->runtime;

        r = change_begin(e, c, &ch, err);
        if (r < 0) {
                jobs_free_runtime(j);
                job_free(j);
                return r;
        }
        *ret_volume_id = w->volume->id;
        *ret_job_id = j->id;
        change_log(ch, "started job %s (AddStorageVolume of LUN %u behind %s)", path_of(p, OBJECT_JOB, j->id),
                   w->volume->lun, spec->access_point_path);
        jobs_change_start(ch, j);
        return change_submit(ch, err);
}

int engine_delete_volume(Engine *e, const Caller *c, uint64_t id, ReplError *err) {
        char p[OBJECT_PATH_MAX];
        Change *ch;
        Volume *v;
        int r;

        engine_settle(e, id);
        engine_settle_kind(e, OBJECT_SYNCHRONIZATION);
        v = model_get_volume(e->model, id);
        if (!v)
                return repl_error_set(err, -ENOENT, "Volume %s does not exist.", path_of(p, OBJECT_VOLUME, id));
        if (v->synchronizations.n > 0)
                return repl_error_set(err, -EBUSY, "Volume %s is used by synchronization %s.", path_of(p, OBJECT_VOLUME, id),
                                      object_path_format((char[OBJECT_PATH_MAX]) {}, OBJECT_SYNCHRONIZATION,
                                                         v->synchronizations.ids[0]));
        r = change_begin(e, c, &ch, err);
        if (r < 0)
                return r;
        change_delete(ch, OBJECT_VOLUME, id);
        change_remove(ch, OBJECT_VOLUME, id);
        change_call(ch, v->access_point_id, NULL, NULL, NULL);
        change_log(ch, "deleted volume %s", path_of(p, OBJECT_VOLUME, id));
        return change_submit(ch, err);
}

typedef struct VolumeVerified {
        uint64_t id;
        uint64_t when;
} VolumeVerified;

static void apply_volume_verified(Engine *e, void *data) {
        const VolumeVerified *v = data;
        Volume *vol = model_get_volume(e->model, v->id);

        if (vol)
                vol->last_verified = v->when;
}

void replica_change_volume_verified(Change *ch, Engine *e, uint64_t volume_id, uint64_t when) {
        const Volume *v = model_get_volume(e->model, volume_id);
        VolumeVerified *data;
        Volume u;

        if (!v)
                return;
        data = malloc(sizeof(VolumeVerified));
        if (!data) {
                change_fail(ch, -ENOMEM);
                return;
        }
        *data = (VolumeVerified) { .id = volume_id, .when = when };
        /* The row is written now, from a shallow copy: the model's volume changes only once it is stored. */
        u = *v;
        u.last_verified = when;
        change_save(ch, OBJECT_VOLUME, &u);
        change_call(ch, volume_id, apply_volume_verified, data, free);
        change_notify(ch, OBJECT_VOLUME, volume_id, "LastVerified");
}
