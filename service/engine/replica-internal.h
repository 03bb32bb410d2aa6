/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the replica files share: replica-volume.c (volumes and the job that
 * registers one), replica-sync.c (creating and steering synchronizations),
 * replica-cycle.c (the job work of a cycle and of a comparison),
 * replica-hashes.c (a cycle's side of the chunk hash table) and
 * replica-schedule.c (the cycle timer, the running-cycle limit, start-up and
 * shutdown). Not for other files.
 */

#include <stdbool.h>
#include <stdint.h>

#include "engine-internal.h"
#include "jobs-internal.h"
#include "net/copy.h"
#include "net/volume-session.h"

/* The work of a cycle's or a comparison's job (replica-cycle.c). */
typedef struct ReplicaWork {
        Engine *engine;
        uint64_t sync_id;
        bool compare;
        bool suspended;                 /* stopped by Suspend */
        bool detached;                  /* stopped by Detach: the synchronization goes */
        bool started;                   /* a copy ran: progress is its */
        unsigned run;                   /* copies started by the job so far */
        Copy *copy;
        CopyProgress progress;          /* the last known */
        uint64_t first_chunk;
        sd_event_source *tick;
        ChunkHashBlock *block;          /* the one block of hashes kept in memory */
        uint64_t block_index;
        bool block_loaded;
} ReplicaWork;

static inline ReplicaWork *work_of(JobRuntime *rt) {
        return rt->work;
}

/* replica-cycle.c */
extern const JobWorkOps replica_cycle_ops;
extern const JobWorkOps replica_compare_ops;

/* The work of a cycle (compare false) or a comparison of synchronization sync_id; NULL when out of memory. */
void *replica_work_new(Engine *e, uint64_t sync_id, bool compare);
/* The running or queued cycle (or comparison) job of a synchronization, NULL if none. */
JobRuntime *replica_find_job(Engine *e, uint64_t sync_id, bool compare);
/*
 * Stops a cycle's job at once: suspend (the synchronization becomes
 * Suspended) or detach (the synchronization is left alone, as it goes).
 * The job ends Terminated.
 */
void replica_stop_job(JobRuntime *rt, bool detach, const Caller *c);
/* A new BandwidthLimit for a running cycle, from its next write on. */
void replica_work_set_bandwidth_limit(JobRuntime *rt, uint64_t bytes_per_second);
/* Running cycles (not queued, not suspended jobs); cycle jobs not ended (queued too). */
size_t replica_count_running_cycles(Engine *e);
size_t replica_count_cycle_jobs(Engine *e);

/*
 * The endpoint of a volume through an access point, from a local address
 * (NULL: unbound), with the access point's CHAP secret. Borrowed strings.
 */
VolumeEndpoint replica_endpoint(Engine *e, const Volume *v, const AccessPoint *a, const char *source_address);

/* The last known progress into a synchronization's BytesScanned and BytesTransferred. */
void replica_progress_into(const ReplicaWork *w, Synchronization *s);

/* replica-hashes.c: the copy's callbacks for the chunk hash table (CopyParameters); userdata is the JobRuntime. */
int replica_previous_hash(uint64_t chunk, CopyHash *ret, void *userdata);
void replica_unconfirm(Copy *c, uint64_t ticket, const uint64_t *chunks, size_t n, void *userdata);
void replica_confirmed(Copy *c, const uint64_t *chunks, const CopyHash *hashes, size_t n, uint64_t resume_chunk,
                       void *userdata);

/* replica-sync.c */

/*
 * A synchronization's new stored state as part of a change (updated taken):
 * its row now; after the commit the model's object takes its stored fields
 * and its Job, and what differs from the model's object now is announced.
 */
void replica_change_sync(Change *ch, Engine *e, Synchronization *updated);
/* A volume was reached and checked at when (a cycle that completed): its LastVerified, stored and announced. */
void replica_change_volume_verified(Change *ch, Engine *e, uint64_t volume_id, uint64_t when);
/*
 * The states of a synchronization whose cycle starts: a first cycle is
 * Initializing, a Mirror's next one Synchronizing; a resync leaves Broken,
 * Fractured or Suspended at once for Unsynchronized, Resyncing.
 */
void replica_set_running_state(Synchronization *u);
/*
 * Starts a cycle of s now (c NULL: the schedule): a job, and s marked as
 * running it, in one change; method names the job.
 */
int replica_start_cycle(Engine *e, const Caller *c, const Synchronization *s, const char *method,
                        uint64_t *ret_job_id, ReplError *err);

/* replica-schedule.c */

/* Arms the timer for the next scheduled cycle (or none); call after any change of a NextSyncTime. */
void replica_schedule_update(Engine *e);
/* After a cycle ended (committed): queued cycles may start, the schedule may move. */
void replica_after_cycle(Engine *e, void *data);
