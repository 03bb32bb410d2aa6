/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the engine's files (engine*.c, jobs*.c) share; not for other layers. */

#include <stdarg.h>

#include "engine.h"

#define engine_notify_changed(e, kind, id, ...) \
        engine_notify_changed_strv(e, kind, id, (const char * const[]) { __VA_ARGS__, NULL })

void engine_notify_added(Engine *e, ObjectKind kind, uint64_t id);
void engine_notify_removed(Engine *e, ObjectKind kind, uint64_t id);
void engine_notify_changed_strv(Engine *e, ObjectKind kind, uint64_t id, const char * const *props);
void engine_notify_job_completed(Engine *e, const Job *j);

static inline char *path_of(char buf[static OBJECT_PATH_MAX], ObjectKind kind, uint64_t id) {
        return object_path_format(buf, kind, id);
}

/* Commits the caller's transaction, or rolls it back: see engine.c. */
int engine_end_transaction(Engine *e, int r, ReplError *err);
/* Object limits (API.md section 8) are checked before anything else about a call: -EDQUOT. */
int engine_check_object_limit(size_t n, size_t max, const char *what, ReplError *err);
int engine_check_member_limit(Engine *e, const Collection *c, ReplError *err);

/* Writes a plan's rows into the open transaction; no model change. */
int engine_stage_plan(Engine *e, const CollectionPlan *p);
/* After commit: put the plan into the model (takes p->result) and announce it. */
void engine_apply_plan(Engine *e, CollectionPlan *p, bool created);

/* Whether a running job works on this object (so it must not be deleted). */
bool engine_object_busy(Engine *e, ObjectKind kind, uint64_t id);

/* jobs.c */
typedef enum JobWorkKind {
        JOB_WORK_COLLECTION,    /* Create/AddTo with remote access points to verify */
        JOB_WORK_VERIFY,        /* ServiceAccessPoint.Verify */
        JOB_WORK_PEERS,         /* GetPeerSystems(2) */
} JobWorkKind;

/*
 * Creates and announces a job that will verify pairs and then, for
 * JOB_WORK_COLLECTION, commit the plan (taken). Limits: -EDQUOT.
 */
int jobs_start(Engine *e, const Caller *c, const char *method, JobWorkKind kind, CollectionPlan *plan,
               bool create, uint64_t target_id, Job **ret, ReplError *err);
bool jobs_uses_object(Engine *e, ObjectKind kind, uint64_t id);
int jobs_recover(Engine *e);
void jobs_shutdown(Engine *e);
void jobs_free_runtime(Job *j);
int jobs_request_state_change(Engine *e, const Caller *c, Job *j, uint16_t requested, ReplError *err);
int jobs_delete(Engine *e, Job *j, ReplError *err);
int jobs_set_removal(Engine *e, Job *j, bool set_doc, bool doc, bool set_tbr, uint64_t tbr, ReplError *err);
