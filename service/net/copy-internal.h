/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What copy.c (a cycle's life: sessions, buffers, callbacks to the caller),
 * copy-chunks.c (the chunk pipeline and its confirmations) and copy-gate.c
 * (writes that wait for an old hash to be unconfirmed) share.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy.h"
#include "util/macros.h"
#include "util/token-bucket.h"

#define COPY_MESSAGE_MAX 1024

#ifndef container_of
#define container_of(ptr, type, member) ((type *) ((char *) (ptr) - offsetof(type, member)))
#endif
#define BUFFER_ALIGNMENT 4096

typedef enum SlotState {
        SLOT_IDLE,
        SLOT_READING,
        SLOT_GATED,                     /* to be handed to unconfirm */
        SLOT_UNCONFIRMING,              /* handed over, waiting for copy_release() */
        SLOT_WAITING,                   /* for the token bucket */
        SLOT_WRITING,
} SlotState;

typedef struct CopySlot {
        Copy *copy;
        SlotState state;
        uint64_t chunk;
        uint32_t length;
        unsigned reads_pending;
        uint64_t ticket;                /* SLOT_UNCONFIRMING: the gate's */
        CopyHash hash;
        uint8_t *data;
        uint8_t *other;                 /* compare mode: the copy's bytes */
        VolumeIo source_io, target_io;
} CopySlot;

/* Written chunks and their hashes, in completion order. */
typedef struct ChunkList {
        uint64_t *chunks;
        CopyHash *hashes;
        size_t n, capacity;
} ChunkList;

struct Copy {
        sd_event *event;
        CopyParameters p;

        VolumeSession *source, *target;
        unsigned n_ready;
        bool running;                   /* both sessions ready, slots allocated */
        bool finished;                  /* no more commands; done is due */

        uint64_t n_chunks, source_bytes, next_chunk;
        CopySlot *slots;
        unsigned n_slots;
        unsigned *queue;                /* slots waiting to write, a ring in arrival order */
        unsigned queue_head, queue_length;
        unsigned in_flight;             /* commands sent and not answered */
        uint64_t *gated;                /* n_slots: the chunks handed to unconfirm */
        uint64_t last_ticket;

        TokenBucket bucket;
        sd_event_source *token_timer;

        ChunkList pending;              /* written, not yet covered by a sync */
        ChunkList syncing;              /* covered by the sync in flight */
        bool confirming;                /* a sync in flight or its batch not yet delivered */
        bool confirmation_ready;
        VolumeIo sync_io;
        uint64_t sync_resume, reported_resume;
        uint64_t finished_since_confirm;

        sd_event_source *notify_source;
        sd_event_source *stall_timer;
        uint64_t last_activity_usec, start_usec, end_usec;

        int error;
        Reason reason;
        char message[COPY_MESSAGE_MAX];

        CopyProgress progress;
};

/* copy.c */
uint64_t copy_now_usec(Copy *c);
/* Runs the notification source next time round: confirmations and the end reach the caller from there. */
void copy_notify(Copy *c);
/* Ends the cycle (error 0: success) once; done is called from the notification source. */
void copy_end(Copy *c, int error, Reason reason, const char *format, ...) _printf_(4, 5);
void copy_fail_io(Copy *c, VolumeSession *s, const char *what, int error);

/* copy-chunks.c */
/* Gives idle slots the next chunks; at the end, confirms the rest and ends the cycle. */
void copy_pump(Copy *c);
/* Sends the queued writes the token bucket allows now; waits on a timer for the rest. */
void copy_pump_writes(Copy *c);
/* Starts a confirmation when one is due (or, with force, whenever something is left to confirm). */
void copy_maybe_confirm(Copy *c, bool force);
/* Queues a hashed chunk's write and sends what the token bucket allows. */
void copy_queue_write(CopySlot *slot);

/* copy-gate.c */
/* Parks a hashed chunk whose confirmed hash must be unconfirmed before it is written. */
void copy_gate(CopySlot *slot);
/* Hands the parked chunks to unconfirm, if any (true: it was called; the copy may be gone). */
bool copy_deliver_gated(Copy *c);
