/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The argument rules of API.md section 10 that need no I/O: what
 * AddStorageVolume, CreateElementReplica and ModifyReplicaSynchronization
 * accept, checked against the model. Each function returns 0 or a negative
 * errno with one sentence in e naming the argument: -EOPNOTSUPP
 * (NotSupported) for a valid CIM value the service does not implement,
 * -EINVAL / -ENOENT / -EEXIST (InvalidParameter), -EBUSY (InUse), -EBADRQC
 * (InvalidStateTransition). They change nothing.
 */

#include <stdint.h>

#include "model.h"
#include "util/error.h"

/* SyncType 6 Mirror or 8 Clone; any other value is -EOPNOTSUPP. */
int replica_validate_sync_type(uint16_t sync_type, ReplError *e);
/* Mode 3 Asynchronous; any other value (2 Synchronous among them) is -EOPNOTSUPP. */
int replica_validate_mode(uint16_t mode, ReplError *e);
/* ChunkSize: a power of two, REPLICA_CHUNK_SIZE_MIN to _MAX, a multiple of both block sizes. */
int replica_validate_chunk_size(uint32_t chunk_size, uint32_t source_block_size, uint32_t copy_block_size,
                                ReplError *e);

/* What AddStorageVolume is given; target_name NULL or "" for the access point's. */
typedef struct VolumeSpec {
        const char *access_point_path;
        const char *target_name;
        uint16_t lun;
        const char *element_name;
} VolumeSpec;

/*
 * Checks a new volume: ElementName is a string property; TargetName, when
 * given, an iSCSI name; the access point exists; a target name is given or
 * the access point has one; no
 * volume is registered for the same access point, target name and LUN
 * (-EEXIST). On success *ret_access_point is the access point and
 * *ret_target_name the target name to use (pointing into spec or into the
 * access point).
 */
int replica_validate_volume(const Model *m, const VolumeSpec *spec, const AccessPoint **ret_access_point,
                            const char **ret_target_name, ReplError *e);

/* What CreateElementReplica is given. chunk_size 0 and set_chunk_size false: the default. */
typedef struct ReplicaSpec {
        const char *element_name;
        uint16_t sync_type;
        uint16_t mode;
        const char *source_path;                /* SourceElement */
        const char *target_path;                /* TargetElement */
        const char *collection_path;            /* ConnectivityCollection */
        uint32_t chunk_size;
        bool set_chunk_size;                    /* given by the caller, so 0 is refused */
} ReplicaSpec;

/* The objects a valid ReplicaSpec names, in the model. */
typedef struct ReplicaPlan {
        const Volume *source;
        const Volume *target;
        const AccessPoint *source_access_point;
        const AccessPoint *target_access_point;
        const Collection *collection;
        uint32_t chunk_size;                    /* the default filled in */
} ReplicaPlan;

/*
 * Checks a CreateElementReplica in the contract's order: SyncType and Mode
 * (-EOPNOTSUPP); ElementName; each reference names an object of its kind
 * (-EINVAL wrong kind, -ENOENT no object); the source is local and the
 * target remote; the target is at least as large as the source; ChunkSize;
 * the collection holds the source's access point among its local ones and
 * the target's among its remote ones; the target is not the copy of another
 * synchronization nor itself a source (-EBUSY).
 */
int replica_validate_create(const Model *m, const ReplicaSpec *spec, ReplicaPlan *ret, ReplError *e);

/*
 * ModifyReplicaSynchronization's Operation on a synchronization in its
 * current state. Suspend (22): Initialized, Unsynchronized or Synchronized
 * (a cycle running or scheduled); Resume (16): Suspended; Resync (14): any
 * state while no cycle runs (Broken, Fractured and Suspended too); Detach
 * (8): any. Other operations are -EOPNOTSUPP; an operation the state does
 * not allow is -EBADRQC.
 */
int replica_validate_operation(const Synchronization *s, uint16_t operation, ReplError *e);
