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
        bool removing;                  /* its removal is submitted, not yet committed */
};

/* jobs.c */
void runtime_stop_work(JobRuntime *rt);

/* jobs-run.c */
void job_set_status(Job *j, const char *status);
void job_set_state(JobRuntime *rt, JobState state);
size_t job_collect_progress(JobRuntime *rt, const char **props, size_t k);
void job_run(JobRuntime *rt);

/* jobs-end.c */
void job_finish(JobRuntime *rt, JobState state, Reason reason, uint16_t code, const char *description,
                const char *source);
void job_arm_removal(JobRuntime *rt);
void jobs_enforce_retention(Engine *e);
