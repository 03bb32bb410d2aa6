/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A job's runtime state, which jobs.c (starting, recovery), jobs-run.c
 * (probes, progress, reachability) and jobs-end.c (finishing, removal, state
 * requests) share; not for other files.
 */

#include <stdbool.h>
#include <stdint.h>

#include "engine-internal.h"
#include "net/probe.h"

/* Probes one job keeps in flight at once; the rest wait their turn. */
#define JOB_MAX_CONCURRENT_PROBES 256

typedef enum TaskState {
        TASK_PENDING,
        TASK_RUNNING,
        TASK_OK,
        TASK_FAILED,
} TaskState;

typedef struct JobRuntime JobRuntime;
typedef struct Change Change;

/*
 * Work other than probes (volumes, replica cycles, comparisons;
 * engine/replica*.c): the job runs it through these and knows nothing else
 * of it. The work ends the job by calling job_finish().
 */
typedef struct JobWorkOps {
        /* Whether the work may start now; if not, the job stays queued until jobs_start_queued(). NULL: always. */
        bool (*may_start)(JobRuntime *rt);
        /* Starts the work, or starts it again after a suspension. */
        void (*start)(JobRuntime *rt);
        /* Stops it at once, without callbacks: suspension, or the job's end (before the end change is built). */
        void (*stop)(JobRuntime *rt);
        /* Adds the work's results to the job's final change; the job's state and error are set already. */
        void (*end)(JobRuntime *rt, Change *ch);
        /* Whether the work uses the object, so that it must not be deleted. NULL: none. */
        bool (*uses)(JobRuntime *rt, ObjectKind kind, uint64_t id);
        /* Frees the work's data (stopping it without callbacks first). */
        void (*free)(void *data);
} JobWorkOps;

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
        const JobWorkOps *work_ops;     /* NULL: probe tasks */
        void *work;
        ProbeTask *tasks;
        size_t n_tasks, n_finished, n_running;

        sd_event_source *start_source;
        sd_event_source *progress_timer;
        uint64_t last_progress_emit;    /* CLOCK_MONOTONIC µs */
        unsigned emitted_percent;
        uint64_t emitted_expected_end;
        char *emitted_status;

        sd_event_source *removal_timer;
        bool removing;                  /* its removal is submitted, not yet committed */
};

/* jobs.c */
void runtime_stop_work(JobRuntime *rt);
/*
 * A job for work (ops and data, taken even on failure): checks the job
 * limits for a caller (none for the service's own jobs, c NULL), and sets
 * its id; affected (may be NULL) is its AffectedElements.
 */
int jobs_new_work(Engine *e, const Caller *c, const char *method, JobWorkKind kind, const JobWorkOps *ops,
                  void *data, const char *affected, Job **ret, ReplError *err);
/* Adds a new job to a change (taken): its row, the model, its start after the commit. */
void jobs_change_start(Change *ch, Job *j);
/* Starts the queued jobs whose work may start now. */
void jobs_start_queued(Engine *e);

/* jobs-run.c */
void job_set_status(Job *j, const char *status);
void job_set_state(JobRuntime *rt, JobState state);
size_t job_collect_progress(JobRuntime *rt, const char **props, size_t k);
void job_run(JobRuntime *rt);
/* A work's progress: set, and announced rate-limited as probes' progress is. */
void job_report_progress(JobRuntime *rt, unsigned percent, uint64_t expected_end_time, const char *status);

/* jobs-end.c */
void job_finish(JobRuntime *rt, JobState state, Reason reason, uint16_t code, const char *description,
                const char *source);
void job_arm_removal(JobRuntime *rt);
void jobs_enforce_retention(Engine *e);
