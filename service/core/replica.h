/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Replicas (API.md section 10): the CIM values of CIM_StorageSynchronized
 * and ModifyReplicaSynchronization, the limits of a chunk and its hash, and
 * the two model objects, a storage volume (a LUN behind an access point)
 * and a synchronization (a source volume kept copied to a remote one). The
 * numbers are CIM's and travel on the bus as they are, so this is the one
 * place that spells them. Pure C: no sd-bus, no SQLite.
 */

#include <stdbool.h>
#include <stdint.h>

#include "reason.h"
#include "util/idset.h"
#include "util/macros.h"

/* CIM_StorageSynchronized.SyncType; the service makes 6 and 8. */
typedef enum SyncType {
        SYNC_TYPE_MIRROR = 6,                   /* kept in sync by cycles */
        SYNC_TYPE_SNAPSHOT = 7,
        SYNC_TYPE_CLONE = 8,                    /* one copy, then fractured */
} SyncType;

/* CIM_StorageSynchronized.Mode; the service makes 3. */
typedef enum SyncMode {
        SYNC_MODE_SYNCHRONOUS = 2,
        SYNC_MODE_ASYNCHRONOUS = 3,
} SyncMode;

/* CIM_StorageSynchronized.CopyState, the values section 10 uses. */
typedef enum CopyState {
        COPY_STATE_INITIALIZED = 2,
        COPY_STATE_UNSYNCHRONIZED = 3,
        COPY_STATE_SYNCHRONIZED = 4,
        COPY_STATE_BROKEN = 5,
        COPY_STATE_FRACTURED = 6,
        COPY_STATE_SUSPENDED = 9,
} CopyState;

/* CIM_StorageSynchronized.ProgressStatus, the values section 10 uses. */
typedef enum ProgressStatus {
        PROGRESS_STATUS_COMPLETED = 2,
        PROGRESS_STATUS_DORMANT = 3,
        PROGRESS_STATUS_INITIALIZING = 4,
        PROGRESS_STATUS_SYNCHRONIZING = 6,
        PROGRESS_STATUS_RESYNCING = 7,
} ProgressStatus;

/* ModifyReplicaSynchronization's Operation, the values the service carries out. */
typedef enum ReplicaOperation {
        REPLICA_OPERATION_DETACH = 8,
        REPLICA_OPERATION_RESYNC = 14,
        REPLICA_OPERATION_RESUME = 16,
        REPLICA_OPERATION_SUSPEND = 22,
} ReplicaOperation;

/* Whether a stored or received number is one of the values above. */
bool copy_state_is_valid(int v);
bool progress_status_is_valid(int v);
/* "Initialized", "Synchronized", …, "Suspended"; "Unknown" for anything else. For messages and logs. */
const char *copy_state_to_string(CopyState s);
/* "Mirror", "Snapshot", "Clone"; "Unknown" for anything else. */
const char *sync_type_to_string(SyncType t);

/* ChunkSize: a power of two in this range (API.md section 10). */
#define REPLICA_CHUNK_SIZE_MIN (UINT32_C(64) * 1024)
#define REPLICA_CHUNK_SIZE_MAX (UINT32_C(16) * 1024 * 1024)
#define REPLICA_CHUNK_SIZE_DEFAULT (UINT32_C(1024) * 1024)
#define REPLICA_CYCLE_INTERVAL_DEFAULT_USEC (UINT64_C(300) * USEC_PER_SEC)

/* A chunk's hash (XXH3-128, canonical big-endian form) is this many bytes. */
#define REPLICA_HASH_SIZE 16
/*
 * The per-chunk hash table is kept in blocks of this many chunks (one store
 * row each): chunk c is entry c % REPLICA_HASH_BLOCK_CHUNKS of block
 * c / REPLICA_HASH_BLOCK_CHUNKS.
 */
#define REPLICA_HASH_BLOCK_CHUNKS 4096u

/*
 * One block of a synchronization's chunk hash table: the hash last written
 * to the copy for each chunk, and which of them are confirmed there (a
 * SYNCHRONIZE CACHE returned after the write). Only a confirmed hash tells
 * what the copy holds; an unconfirmed entry means "write this chunk".
 */
typedef struct ChunkHashBlock {
        uint8_t hashes[REPLICA_HASH_BLOCK_CHUNKS][REPLICA_HASH_SIZE];
        uint8_t confirmed[REPLICA_HASH_BLOCK_CHUNKS / 8];      /* bit (c % 8) of byte (c / 8), c in the block */
} ChunkHashBlock;

static inline uint64_t chunk_hash_block_of(uint64_t chunk) {
        return chunk / REPLICA_HASH_BLOCK_CHUNKS;
}

/* Whether chunk (an index in the whole volume, within this block) has a confirmed hash; if so, copies it. */
static inline bool chunk_hash_block_get(const ChunkHashBlock *b, uint64_t chunk, uint8_t ret[REPLICA_HASH_SIZE]) {
        unsigned i = (unsigned) (chunk % REPLICA_HASH_BLOCK_CHUNKS);

        if (!(b->confirmed[i / 8] & (1u << (i % 8))))
                return false;
        for (unsigned k = 0; k < REPLICA_HASH_SIZE; k++)
                ret[k] = b->hashes[i][k];
        return true;
}

typedef struct Volume {
        uint64_t id;
        uint64_t access_point_id;
        char *element_name;
        char *target_name;              /* the one used: the access point's when none was given */
        uint16_t lun;
        uint32_t block_size;            /* bytes, from READ CAPACITY 16 */
        uint64_t n_blocks;
        uint64_t last_verified;         /* µs, CLOCK_REALTIME, 0 never */
        /* Kept by the model while the volume is in it; never stored. */
        IdSet synchronizations;         /* using it as source or copy */
} Volume;

typedef struct Synchronization {
        uint64_t id;
        char *element_name;
        SyncType sync_type;
        SyncMode mode;
        uint64_t source_volume_id;      /* SystemElement: local */
        uint64_t copy_volume_id;        /* SyncedElement: remote */
        uint64_t collection_id;         /* ConnectivityCollection */
        CopyState copy_state;
        ProgressStatus progress_status;
        uint64_t bandwidth_limit;       /* bytes per second, 0 unlimited */
        uint64_t cycle_interval;        /* µs; 0 only on Resync */
        uint32_t chunk_size;
        uint64_t last_sync_time;        /* µs, 0 never */
        uint64_t next_sync_time;        /* µs, 0 none scheduled */
        uint64_t bytes_scanned;         /* of the last cycle (or, while one runs, of it) */
        uint64_t bytes_transferred;
        char *last_error;               /* "" when none */
        Reason last_error_reason;       /* LastErrorID */
        uint64_t resume_chunk;          /* every chunk before it is confirmed on the copy in the current cycle */
        /* Runtime only: the running cycle; never stored. */
        uint64_t job_id;                /* 0 none */
        uint16_t percent;               /* PercentSynced */
        uint64_t rate;                  /* bytes per second */
} Synchronization;

static inline uint64_t volume_size_bytes(const Volume *v) {
        return v->n_blocks * (uint64_t) v->block_size;
}

/* Number of chunks of a volume at a chunk size: the last one may be short. */
static inline uint64_t volume_n_chunks(const Volume *v, uint32_t chunk_size) {
        uint64_t size = volume_size_bytes(v);

        return chunk_size ? size / chunk_size + (size % chunk_size != 0) : 0;
}

/* Defaults of a new object: strings "", CopyState Initialized, ProgressStatus Initializing, default settings. */
Volume *volume_new(void);
Synchronization *synchronization_new(void);
Volume *volume_free(Volume *v);
Synchronization *synchronization_free(Synchronization *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Volume *, volume_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(Synchronization *, synchronization_free)

/* Deep copies, used to prepare a change before it is committed (the model-kept sets are copied too). */
Volume *volume_copy(const Volume *v);
Synchronization *synchronization_copy(const Synchronization *s);
