/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The in-memory model: computer systems, access points, shared secrets,
 * remote replication collections, jobs, storage volumes and synchronizations
 * (model-replica.c), each in an id-sorted table.
 * Pure C: no sd-bus, no SQLite. The store loads it and persists changes; the
 * bus layer exposes it. Every struct begins with its uint64_t id.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contract/object-path.h"
#include "object-table.h"
#include "reason.h"
#include "replica.h"
#include "util/error.h"
#include "util/hashindex.h"
#include "util/idset.h"
#include "util/macros.h"

typedef enum Reachability {
        REACHABLE_UNKNOWN,
        REACHABLE_YES,
        REACHABLE_NO,
        _REACHABLE_MAX,
} Reachability;

const char *reachability_to_string(Reachability r);
int reachability_from_string(const char *s);   /* Reachability or -EINVAL */

typedef struct System {
        uint64_t id;                    /* LOCAL_SYSTEM_ID for this host */
        char *name;
        char *element_name;
        Reachability reachable;
        uint64_t last_verified;         /* µs, CLOCK_REALTIME, 0 never */
        /* Kept by the model while the system is in it; never stored. */
        IdSet access_points;
        IdSet collections;              /* holding it as a remote system */
} System;

typedef struct AccessPoint {
        uint64_t id;
        uint64_t system_id;
        char *element_name;
        char *address;
        uint16_t port;
        char *target_name;              /* "" when not set */
        uint16_t portal_group_tag;
        uint64_t secret_id;             /* 0 when none */
        Reachability reachable;
        uint64_t last_verified;
        char *last_error;               /* "" when none */
        Reason last_error_reason;       /* LastErrorID; REASON_NONE after a success */
        /* Kept by the model while the access point is in it; never stored. */
        IdSet collections;
        IdSet volumes;                  /* behind it */
} AccessPoint;

typedef struct SharedSecret {
        uint64_t id;
        uint64_t access_point_id;       /* 0 when not bound to an access point */
        char *username;
        char *secret;                   /* never leaves the service */
        char *mutual_username;          /* "" when not mutual */
        char *mutual_secret;            /* "" when not mutual */
} SharedSecret;

typedef struct Collection {
        uint64_t id;
        char *element_name;
        bool active;
        bool delete_on_unassociated;
        IdSet local_access_points;
        IdSet remote_access_points;
        IdSet remote_systems;
        uint64_t job_id;                /* running job changing it; not stored */
} Collection;

typedef enum JobState {
        JOB_STATE_NEW = 2,
        JOB_STATE_RUNNING = 4,
        JOB_STATE_SUSPENDED = 5,
        JOB_STATE_COMPLETED = 7,
        JOB_STATE_TERMINATED = 8,
        JOB_STATE_KILLED = 9,
        JOB_STATE_EXCEPTION = 10,
} JobState;

/* CIM return / error codes used in ErrorCode and ReturnValue. */
enum {
        CIM_OK = 0,
        CIM_NOT_SUPPORTED = 1,
        CIM_UNKNOWN = 2,
        CIM_TIMEOUT = 3,
        CIM_FAILED = 4,
        CIM_INVALID_PARAMETER = 5,
        CIM_IN_USE = 6,
        CIM_JOB_STARTED = 4096,
};

/* CIM_Error.ErrorType values we report. */
enum {
        CIM_ERROR_TYPE_UNKNOWN = 0,
        CIM_ERROR_TYPE_OTHER = 1,
        CIM_ERROR_TYPE_COMMUNICATIONS = 2,
        CIM_ERROR_TYPE_SOFTWARE = 4,
};

typedef struct Job {
        uint64_t id;
        char *name;                     /* the method that started it */
        JobState state;
        char *status;                   /* JobStatus */
        unsigned percent_complete;
        uint64_t expected_end_time;
        uint64_t time_submitted;
        uint64_t start_time;
        uint64_t time_of_last_state_change;
        bool delete_on_completion;
        uint64_t time_before_removal;
        uint16_t error_code;
        char *error_description;        /* "" when none */
        char *error_source;             /* object path, "/" when none */
        uint16_t error_type;
        Reason error_reason;            /* GetError's MessageID; REASON_NONE while running or after success */
        uint32_t started_by_uid;
        char *owner;
        char **affected_elements;       /* object paths, NULL-terminated */
        uint64_t collection_id;         /* the collection it changes, 0 none */
        void *runtime;                  /* owned by the daemon while running */
} Job;

bool job_state_is_finished(JobState s);
const char *job_state_to_string(JobState s);

/* OperationalStatus for a state; writes at most 2 values, returns the count. */
size_t job_operational_status(const Job *j, uint16_t ret[static 2]);

/*
 * Checks a RequestStateChange. requested: 2 Start, 3 Suspend, 4 Terminate,
 * 5 Kill. Returns 0 and the new state; -EBADRQC when the current state does
 * not allow it; -EOPNOTSUPP for a valid CIM state we do not implement;
 * -EINVAL for a value outside the CIM range.
 */
int job_plan_state_change(const Job *j, uint16_t requested, JobState *ret_state, ReplError *e);

typedef struct Model {
        ObjectTable systems;            /* the local system is always first */
        ObjectTable access_points;
        ObjectTable secrets;
        ObjectTable collections;
        ObjectTable jobs;
        ObjectTable volumes;
        ObjectTable synchronizations;
        uint64_t next_id;               /* ids are never reused */
        /* Indexes, so that no lookup scans a table. */
        HashIndex peers_by_name;        /* peer systems by Name, ASCII case folded */
        HashIndex access_points_by_portal;      /* by system, address, port, target name */
        HashIndex volumes_by_lun;       /* by access point, target name (ASCII case folded), LUN */
        /*
         * The synchronizations of each collection that has any, by
         * collection id. Kept here rather than in the Collection, because a
         * change replaces a collection object (see model_rebuild_indexes()).
         */
        ObjectTable synchronizations_by_collection;
} Model;

Model *model_new(const char *local_name);
Model *model_free(Model *m);

uint64_t model_allocate_id(Model *m);

System *model_get_system(const Model *m, uint64_t id);
AccessPoint *model_get_access_point(const Model *m, uint64_t id);
SharedSecret *model_get_secret(const Model *m, uint64_t id);
Collection *model_get_collection(const Model *m, uint64_t id);
Job *model_get_job(const Model *m, uint64_t id);

/* Insert (takes ownership; -EEXIST if the id is taken; -ENOMEM). Never fails once reserved. */
int model_add_system(Model *m, System *s);
int model_add_access_point(Model *m, AccessPoint *a);
int model_add_secret(Model *m, SharedSecret *s);
int model_add_collection(Model *m, Collection *c);
int model_add_job(Model *m, Job *j);

/* Remove from the table and return the object (not freed), NULL if absent. */
System *model_remove_system(Model *m, uint64_t id);
AccessPoint *model_remove_access_point(Model *m, uint64_t id);
SharedSecret *model_remove_secret(Model *m, uint64_t id);
Collection *model_remove_collection(Model *m, uint64_t id);
Job *model_remove_job(Model *m, uint64_t id);

/* The same by kind (model-object.c): -EINVAL / NULL for a kind the model has no table for. */
int model_add_object(Model *m, ObjectKind kind, void *object);
void *model_remove_object(Model *m, ObjectKind kind, uint64_t id);

#define MODEL_FOREACH(type, var, table)                                         \
        for (size_t _i_##var = 0; _i_##var < (table).n; _i_##var++)             \
                for (type *var = (table).items[_i_##var]; var; var = NULL)

System *system_free(System *s);
AccessPoint *access_point_free(AccessPoint *a);
SharedSecret *secret_free(SharedSecret *s);
Collection *collection_free(Collection *c);
Job *job_free(Job *j);

DEFINE_TRIVIAL_CLEANUP_FUNC(System *, system_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(AccessPoint *, access_point_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(SharedSecret *, secret_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(Collection *, collection_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(Job *, job_free)

System *system_new(void);
AccessPoint *access_point_new(void);
SharedSecret *secret_new(void);
Collection *collection_new(void);
Job *job_new(void);

/* Deep copies, used to prepare a change before it is committed. */
Collection *collection_copy(const Collection *c);

static inline bool access_point_is_local(const AccessPoint *a) {
        return a->system_id == LOCAL_SYSTEM_ID;
}

/*
 * Collection members are indexed when a collection enters the model and
 * dropped when it leaves, so a collection in the model is never changed in
 * place: a change replaces it. A loader that fills member sets in place
 * rebuilds the indexes once at the end. The rebuild covers the replica
 * indexes too (volumes of access points, synchronizations of volumes and of
 * collections).
 */
int model_rebuild_indexes(Model *m);

/* The peer system (never the local one) with this Name, compared ignoring ASCII case; NULL if none. */
System *model_find_peer_by_name(const Model *m, const char *name);
/* The access point of system_id with this portal and target name ("" for none); NULL if none. */
AccessPoint *model_find_access_point_by_portal(const Model *m, uint64_t system_id, const char *address, uint16_t port,
                                               const char *target_name);

/* The collections that hold an access point / a system (as id sets). */
int model_collections_of_access_point(const Model *m, uint64_t id, IdSet *ret);
int model_collections_of_system(const Model *m, uint64_t id, IdSet *ret);
/* The access points a system hosts. */
int model_access_points_of_system(const Model *m, uint64_t system_id, IdSet *ret);

/* ---- replicas (model-replica.c) ---- */

Volume *model_get_volume(const Model *m, uint64_t id);
Synchronization *model_get_synchronization(const Model *m, uint64_t id);

/*
 * Insert (takes ownership; -EEXIST if the id is taken; -ENOMEM, and then the
 * model is as before). A volume is filed under its access point and its
 * (access point, target name, LUN); its synchronizations set is kept as
 * given, so a replacement made with volume_copy() keeps it. A
 * synchronization is filed under its source and copy volumes and its
 * collection (those not in the model are skipped, as while loading).
 */
int model_add_volume(Model *m, Volume *v);
int model_add_synchronization(Model *m, Synchronization *s);

/* Remove from the table and the indexes and return the object (not freed), NULL if absent. */
Volume *model_remove_volume(Model *m, uint64_t id);
Synchronization *model_remove_synchronization(Model *m, uint64_t id);

/* The volume behind this access point with this target name (ASCII case ignored) and LUN; NULL if none. */
Volume *model_find_volume_by_lun(const Model *m, uint64_t access_point_id, const char *target_name, uint16_t lun);

/* The volumes behind an access point; the synchronizations using a volume; those of a collection (as id sets). */
int model_volumes_of_access_point(const Model *m, uint64_t access_point_id, IdSet *ret);
int model_synchronizations_of_volume(const Model *m, uint64_t volume_id, IdSet *ret);
int model_synchronizations_of_collection(const Model *m, uint64_t collection_id, IdSet *ret);

/* The synchronization whose copy (or, with as_source, whose source) the volume is; NULL if none. */
Synchronization *model_find_synchronization_of_volume(const Model *m, uint64_t volume_id, bool as_source);

/* Count of jobs not finished, in all and for one uid. */
size_t model_count_running_jobs(const Model *m, bool by_uid, uint32_t uid);
