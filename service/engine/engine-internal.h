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
void engine_notify_group_end(Engine *e);

/*
 * Before a call reads the model: commit the pending group if it writes the
 * object (by id) or changes the set of objects or memberships of a kind, so
 * the call sees everything acknowledged before it (change.h).
 */
void engine_settle(Engine *e, uint64_t id);
void engine_settle_kind(Engine *e, ObjectKind kind);

static inline char *path_of(char buf[static OBJECT_PATH_MAX], ObjectKind kind, uint64_t id) {
        return object_path_format(buf, kind, id);
}

/* Object limits (API.md section 8) are checked before anything else about a call: -EDQUOT. */
int engine_check_object_limit(size_t n, size_t max, const char *what, ReplError *err);
int engine_check_member_limit(Engine *e, const Collection *c, ReplError *err);

/* A plan as part of a change: its rows, its model update and announcements (takes p->result). */
typedef struct Change Change;
void engine_change_plan(Change *ch, CollectionPlan *p, bool created);
void engine_log_plan(Change *ch, const char *what, const CollectionPlan *p);
/* PropertiesChanged of Collections for each member in s (plan-change.c). */
void engine_notify_members(Change *ch, ObjectKind kind, const IdSet *s);

/* Whether a running job works on this object (so it must not be deleted). */
bool engine_object_busy(Engine *e, ObjectKind kind, uint64_t id);

/* replica-schedule.c: after jobs_recover(), synchronizations a stopped service left mid-cycle, and the schedule. */
int replica_recover(Engine *e);

/* jobs.c */
typedef enum JobWorkKind {
        JOB_WORK_COLLECTION,    /* Create/AddTo with remote access points to verify */
        JOB_WORK_VERIFY,        /* ServiceAccessPoint.Verify */
        JOB_WORK_PEERS,         /* GetPeerSystems(2) */
        JOB_WORK_VOLUME,        /* AddStorageVolume */
        JOB_WORK_CYCLE,         /* a replica cycle */
        JOB_WORK_COMPARE,       /* Synchronization.Compare */
} JobWorkKind;

/*
 * Creates and announces a job that will verify pairs and then, for
 * JOB_WORK_COLLECTION, commit the plan (taken). Limits: -EDQUOT.
 */
int jobs_start(Engine *e, const Caller *c, const char *method, JobWorkKind kind, CollectionPlan *plan,
               bool create, uint64_t target_id, uint64_t *ret_job_id, ReplError *err);
bool jobs_uses_object(Engine *e, ObjectKind kind, uint64_t id);
int jobs_recover(Engine *e);
void jobs_shutdown(Engine *e);
void jobs_free_runtime(Job *j);
int jobs_request_state_change(Engine *e, const Caller *c, Job *j, uint16_t requested, ReplError *err);
int jobs_delete(Engine *e, const Caller *c, Job *j, ReplError *err);
int jobs_set_removal(Engine *e, const Caller *c, Job *j, bool set_doc, bool doc, bool set_tbr, uint64_t tbr,
                     ReplError *err);
