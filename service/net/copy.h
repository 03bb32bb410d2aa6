/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One replica cycle (API.md section 10) on sd-event: log in to the source
 * and to the copy (volume-session.h), read the source chunk by chunk,
 * hash each chunk, and write to the copy only the chunks whose hash differs
 * from the hash last confirmed there; or, in compare mode, read both sides
 * and count the chunks that differ. A fixed number of chunk buffers is in
 * flight at once, so memory does not depend on the volume's size. Written
 * chunks are confirmed in batches by a SYNCHRONIZE CACHE16 on the copy;
 * only then are their hashes handed to the caller, who stores them, so a
 * cycle cut short resumes without sending again what was confirmed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/reason.h"
#include "core/replica.h"
#include "volume-session.h"

/* A chunk's XXH3-128 hash in its canonical (big-endian) form, as stored. */
#define COPY_HASH_SIZE REPLICA_HASH_SIZE
typedef struct CopyHash {
        uint8_t bytes[COPY_HASH_SIZE];
} CopyHash;

/* The contract's rule lives in core/replica.h; the data path enforces the same one. */
#define COPY_CHUNK_SIZE_MIN REPLICA_CHUNK_SIZE_MIN
#define COPY_CHUNK_SIZE_MAX REPLICA_CHUNK_SIZE_MAX
#define COPY_CHUNK_SIZE_DEFAULT REPLICA_CHUNK_SIZE_DEFAULT
#define COPY_BUFFERS_DEFAULT 16u
#define COPY_BUFFERS_MAX 256u
#define COPY_CONFIRM_BATCH_DEFAULT 64u
#define COPY_STALL_TIMEOUT_DEFAULT_USEC (UINT64_C(30) * UINT64_C(1000000))

typedef struct Copy Copy;

/* Where a cycle is; all counts from the chunk it started at. */
typedef struct CopyProgress {
        uint64_t n_chunks;              /* of the whole source */
        uint64_t bytes_total;           /* to scan in this cycle */
        uint64_t bytes_scanned;         /* read from the source and hashed */
        uint64_t bytes_transferred;     /* written to the copy (completed writes) */
        uint64_t chunks_transferred;
        uint64_t chunks_gated;          /* waited for their old hash to be unconfirmed */
        uint64_t chunks_differing;      /* compare mode */
        uint64_t rate;                  /* bytes written per second since the start */
        uint64_t resume_chunk;          /* every chunk before it is confirmed on the copy */
} CopyProgress;

typedef struct CopyParameters {
        uint32_t chunk_size;            /* power of two, a multiple of both block sizes; 0 the default */
        uint64_t first_chunk;           /* resume point: chunks before it are not looked at */
        bool compare;                   /* read both sides, count differing chunks, write nothing */
        uint64_t bandwidth_limit;       /* bytes per second written to the copy; 0 unlimited */
        unsigned n_buffers;             /* chunk buffers, i.e. chunks in flight; 0 the default */
        unsigned confirm_batch;         /* chunks per confirmation; 0 the default */
        uint64_t stall_timeout_usec;    /* no command completing for this long fails the cycle; 0 the default */
        uint64_t login_timeout_usec;    /* for each session; 0 volume-session's default */

        /*
         * The hash last confirmed on the copy for a chunk: 1 with it in ret;
         * 0 when there is none (a chunk that differs is written at once);
         * negative when it cannot be told (the chunk is written, through the
         * gate). NULL: none at all. Needs unconfirm.
         */
        int (*previous_hash)(uint64_t chunk, CopyHash *ret, void *userdata);
        /*
         * The gate: n chunks (at most n_buffers) that are to be overwritten
         * although a hash is confirmed for them (or may be). Their writes
         * wait, in their buffers, until the caller has made those hashes
         * durably unconfirmed and calls copy_release(c, ticket): had a write
         * gone first, a crash after it reached the copy and before a
         * SYNCHRONIZE CACHE confirmed it would leave the old hash standing
         * for bytes the copy no longer holds. Called once per turn of the
         * loop at most; chunks without a confirmed hash never come here.
         */
        void (*unconfirm)(Copy *c, uint64_t ticket, const uint64_t *chunks, size_t n, void *userdata);
        /*
         * Chunks newly confirmed on the copy (durable there): n chunk
         * indexes and their hashes, and the resume point. Also called with
         * n = 0 when only the resume point moved (unchanged chunks).
         */
        void (*confirmed)(Copy *c, const uint64_t *chunks, const CopyHash *hashes, size_t n, uint64_t resume_chunk,
                          void *userdata);
        /*
         * The cycle ended: error 0 (the copy equals the source as read, or in
         * compare mode: the comparison ran; see the progress for the count),
         * or why it failed, with one sentence naming the volume. The callee
         * may free the copy.
         */
        void (*done)(Copy *c, int error, Reason reason, const char *message, void *userdata);
        void *userdata;
} CopyParameters;

/*
 * Starts a cycle. Returns -EINVAL for bad parameters (chunk size not a power
 * of two in range, too many buffers, no done callback, previous_hash
 * without unconfirm outside compare mode), the errors of
 * volume_session_open(), -ENOMEM. Everything else (logins, sizes, I/O)
 * arrives through done, never from inside copy_start(). Callbacks are never
 * called from inside libiscsi, so each may free the copy.
 */
int copy_start(sd_event *event,
               const VolumeEndpoint *source,
               const VolumeEndpoint *target,
               const CopyParameters *parameters,
               Copy **ret);

/* Stops at once (suspend or cancel): both connections closed, no callback; NULL is fine. */
Copy *copy_free(Copy *c);
static inline void copy_freep(Copy **c) {
        copy_free(*c);
}

/*
 * The hashes of the chunks handed to unconfirm under ticket (and every
 * earlier ticket) are durably unconfirmed: their writes go out. A copy that
 * has ended ignores it; may be called from inside unconfirm.
 */
void copy_release(Copy *c, uint64_t ticket);

/* A new limit for the running cycle, honoured from the next write on; 0 unlimited. */
void copy_set_bandwidth_limit(Copy *c, uint64_t bytes_per_second);

void copy_get_progress(const Copy *c, CopyProgress *ret);

/* The hash of a chunk's bytes, as copy cycles compute it. */
void copy_hash_chunk(const void *data, size_t size, CopyHash *ret);
