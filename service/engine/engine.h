/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The engine carries out every change the service makes: it validates
 * against the model, writes one store transaction, applies the change to the
 * model only after the commit, logs it, and tells its observer (the bus
 * layer) what to announce. It runs jobs on the event loop. It knows nothing
 * of D-Bus: callers pass typed arguments and get a negative errno plus a
 * sentence in ReplError.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/collection-plan.h"
#include "core/config.h"
#include "core/model.h"
#include "core/replica-validate.h"
#include "core/validate.h"
#include "store/store.h"
#include "util/error.h"

typedef struct Engine Engine;

typedef struct EngineObserver {
        void (*object_added)(ObjectKind kind, uint64_t id, void *userdata);
        /* Called while the object is still in the model. */
        void (*object_removed)(ObjectKind kind, uint64_t id, void *userdata);
        /* properties: NULL-terminated names on the object's own interface. */
        void (*properties_changed)(ObjectKind kind, uint64_t id, const char * const *properties, void *userdata);
        /* After the final properties_changed of a finished job. */
        void (*job_completed)(const Job *j, void *userdata);
        /* A group of changes has been committed and announced (or failed): a good moment to send what is queued. */
        void (*group_end)(void *userdata);
} EngineObserver;

typedef struct Caller {
        uint32_t uid;
        const char *owner;      /* "<unique bus name> (uid N)" */
} Caller;

typedef struct Committer Committer;

/* error 0: everything submitted before is durable; < 0: the group it was in is not stored. */
typedef void (*engine_stored_t)(int error, void *userdata);

typedef struct CollectionSettings {
        bool set_element_name, set_active, set_delete_on_unassociated;
        const char *element_name;
        bool active;
        bool delete_on_unassociated;
} CollectionSettings;

struct Engine {
        sd_event *event;
        Model *model;
        Store *store;
        ServiceConfig config;
        const EngineObserver *observer;
        void *observer_userdata;
        bool shutting_down;
        Committer *committer;
        sd_event_source *replica_timer; /* the next scheduled replica cycle (engine/replica-schedule.c) */
};

int engine_new(sd_event *event, const char *state_directory, const char *local_name, const ServiceConfig *config,
               Engine **ret);
Engine *engine_free(Engine *e);
void engine_set_observer(Engine *e, const EngineObserver *o, void *userdata);

/* After loading: close jobs a previous run left running, arm removal timers. */
int engine_recover(Engine *e);
/* Stopping: every running job ends as Exception "interrupted", nothing committed. */
void engine_shutdown(Engine *e);

/* Jobs running or queued, or a replica cycle scheduled. */
bool engine_has_running_jobs(Engine *e);

/*
 * Changes are committed in groups (change.h). A method's reply waits for
 * engine_when_stored(): done runs once every change submitted so far is
 * durable (at once when none is pending), or with an error if its group
 * could not be committed; 0, or -ENOMEM and done is never called.
 * engine_flush() commits the pending group now.
 */
int engine_when_stored(Engine *e, engine_stored_t done, void *userdata);
int engine_flush(Engine *e);

int engine_add_peer_system(Engine *e, const Caller *c, const char *name, const char *element_name,
                           uint64_t *ret_id, ReplError *err);
int engine_add_access_point(Engine *e, const Caller *c, const char *system_path, const AccessPointSpec *spec,
                            uint64_t *ret_id, ReplError *err);
int engine_add_secret(Engine *e, const Caller *c, const char *access_point_path, const SecretSpec *spec,
                      uint64_t *ret_id, ReplError *err);
int engine_delete_system(Engine *e, const Caller *c, uint64_t id, ReplError *err);
int engine_delete_access_point(Engine *e, const Caller *c, uint64_t id, ReplError *err);
int engine_delete_secret(Engine *e, const Caller *c, uint64_t id, ReplError *err);

/*
 * Create/AddTo: when new remote access points must be verified a job is
 * started and *ret_job_id set (the change commits when it succeeds);
 * otherwise the change is submitted and *ret_job_id is 0.
 */
int engine_create_collection(Engine *e, const Caller *c, const char *element_name, const MemberArgs *a,
                             bool active, bool delete_on_unassociated,
                             uint64_t *ret_collection_id, uint64_t *ret_job_id, ReplError *err);
int engine_add_to_collection(Engine *e, const Caller *c, const char *collection_path, const MemberArgs *a,
                             uint64_t *ret_job_id, ReplError *err);
int engine_remove_from_collection(Engine *e, const Caller *c, const char *collection_path, const MemberArgs *a,
                                  ReplError *err);
int engine_modify_collection(Engine *e, const Caller *c, uint64_t id, const CollectionSettings *s, ReplError *err);
int engine_delete_collection(Engine *e, const Caller *c, uint64_t id, ReplError *err);

int engine_verify_access_point(Engine *e, const Caller *c, uint64_t id, uint64_t *ret_job_id, ReplError *err);
int engine_probe_peer_systems(Engine *e, const Caller *c, uint64_t *ret_job_id, ReplError *err);

int engine_job_request_state_change(Engine *e, const Caller *c, uint64_t id, uint16_t requested, ReplError *err);
int engine_job_delete(Engine *e, const Caller *c, uint64_t id, ReplError *err);
int engine_job_set_delete_on_completion(Engine *e, const Caller *c, uint64_t id, bool b, ReplError *err);
int engine_job_set_time_before_removal(Engine *e, const Caller *c, uint64_t id, uint64_t usec, ReplError *err);

/* ---- replicas (API.md section 10; engine/replica*.c) ---- */

/* What Modify() of a synchronization and CreateElementReplica's Settings may set. */
typedef struct SyncSettings {
        bool set_element_name, set_bandwidth_limit, set_cycle_interval;
        const char *element_name;
        uint64_t bandwidth_limit;       /* bytes per second, 0 unlimited */
        uint64_t cycle_interval;        /* µs, 0 only on Resync */
} SyncSettings;

/*
 * AddStorageVolume: always a job that logs in, checks the LUN (INQUIRY:
 * direct-access block device) and reads its size (READ CAPACITY 16). The
 * volume enters the model (and the bus) when the job completes;
 * *ret_volume_id is the id it will have, and the job's AffectedElements.
 */
int engine_add_volume(Engine *e, const Caller *c, const VolumeSpec *spec, uint64_t *ret_volume_id,
                      uint64_t *ret_job_id, ReplError *err);
/* Volume Delete(): -EBUSY (InUse) while a synchronization uses it. */
int engine_delete_volume(Engine *e, const Caller *c, uint64_t id, ReplError *err);

/*
 * CreateElementReplica: the synchronization exists at once (CopyState 2,
 * ProgressStatus 4) and a job runs its first, full cycle. settings: only
 * CycleInterval and BandwidthLimit are read (ChunkSize is in spec).
 */
int engine_create_replica(Engine *e, const Caller *c, const ReplicaSpec *spec, const SyncSettings *settings,
                          uint64_t *ret_synchronization_id, uint64_t *ret_job_id, ReplError *err);
/*
 * ModifyReplicaSynchronization: 22 Suspend, 16 Resume, 14 Resync, 8 Detach.
 * *ret_job_id is the job of a cycle the operation started, else 0.
 */
int engine_modify_replica(Engine *e, const Caller *c, uint16_t operation, const char *synchronization_path,
                          uint64_t *ret_job_id, ReplError *err);
/* Synchronization Modify(): ElementName, BandwidthLimit (a running cycle honours it at once), CycleInterval. */
int engine_modify_synchronization(Engine *e, const Caller *c, uint64_t id, const SyncSettings *s, ReplError *err);
/* Synchronization Compare(): a job that reads both sides and counts the chunks that differ. */
int engine_compare_synchronization(Engine *e, const Caller *c, uint64_t id, uint64_t *ret_job_id, ReplError *err);
