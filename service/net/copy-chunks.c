/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The chunk pipeline of a cycle; see the banner of copy.c.
 */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "copy-internal.h"

/* ---- confirmation ---- */

/* The first chunk not finished: the lowest in a slot, else the next to read. */
static uint64_t copy_first_unfinished(const Copy *c) {
        uint64_t first = c->next_chunk;

        for (unsigned i = 0; i < c->n_slots; i++)
                if (c->slots[i].state != SLOT_IDLE)
                        first = MIN(first, c->slots[i].chunk);
        return first;
}

static void on_sync_done(VolumeIo *io, int error) {
        Copy *c = container_of(io, Copy, sync_io);

        c->in_flight--;
        c->last_activity_usec = copy_now_usec(c);
        if (c->finished)
                return;
        if (error < 0) {
                copy_fail_io(c, c->target, "SYNCHRONIZE CACHE", error);
                return;
        }
        c->confirmation_ready = true;
        copy_notify(c);
}

void copy_maybe_confirm(Copy *c, bool force) {
        ChunkList swap;
        int r;

        if (c->p.compare || c->confirming || c->finished)
                return;
        if (!force && c->finished_since_confirm < c->p.confirm_batch)
                return;
        c->sync_resume = copy_first_unfinished(c);
        if (c->pending.n == 0 && c->sync_resume == c->reported_resume)
                return;

        swap = c->syncing;
        c->syncing = c->pending;
        c->pending = swap;
        c->pending.n = 0;
        c->finished_since_confirm = 0;
        c->confirming = true;

        if (c->syncing.n == 0) {
                /* Only unchanged chunks: nothing to make durable. */
                c->confirmation_ready = true;
                copy_notify(c);
                return;
        }
        r = volume_session_sync(c->target, &c->sync_io, on_sync_done);
        if (r < 0) {
                copy_end(c, r, REASON_IO_FAILED, "Cannot send SYNCHRONIZE CACHE to %s: %s.",
                          volume_session_describe(c->target), strerror(-r));
                return;
        }
        c->in_flight++;
}

/* ---- chunks ---- */

static void slot_finish(CopySlot *slot) {
        Copy *c = slot->copy;

        slot->state = SLOT_IDLE;
        c->finished_since_confirm++;
        copy_maybe_confirm(c, false);
        copy_pump(c);
}

static void on_write_done(VolumeIo *io, int error) {
        CopySlot *slot = container_of(io, CopySlot, target_io);
        Copy *c = slot->copy;

        c->in_flight--;
        c->last_activity_usec = copy_now_usec(c);
        if (c->finished)
                return;
        if (error < 0) {
                copy_fail_io(c, c->target, "WRITE16", error);
                return;
        }
        c->progress.bytes_transferred += slot->length;
        c->progress.chunks_transferred++;
        c->pending.chunks[c->pending.n] = slot->chunk;
        c->pending.hashes[c->pending.n] = slot->hash;
        c->pending.n++;
        slot_finish(slot);
}

static int on_tokens(sd_event_source *s, uint64_t usec, void *userdata) {
        Copy *c = userdata;

        c->token_timer = sd_event_source_disable_unref(c->token_timer);
        copy_pump_writes(c);
        return 0;
}

void copy_pump_writes(Copy *c) {
        while (c->queue_length > 0 && !c->finished && !c->token_timer) {
                CopySlot *slot = &c->slots[c->queue[c->queue_head]];
                uint32_t bs = volume_session_block_size(c->target);
                uint64_t wait = token_bucket_take(&c->bucket, slot->length, copy_now_usec(c));
                int r;

                if (wait > 0) {
                        /* Exact (accuracy 1 µs, not the default 250 ms): a late wake-up would lose rate. */
                        r = sd_event_add_time_relative(c->event, &c->token_timer, CLOCK_MONOTONIC, wait, 1, on_tokens, c);
                        if (r < 0)
                                copy_end(c, r, REASON_IO_FAILED, "Cannot wait for the bandwidth limit: %s.", strerror(-r));
                        return;
                }
                c->queue_head = (c->queue_head + 1) % c->n_slots;
                c->queue_length--;
                slot->state = SLOT_WRITING;
                r = volume_session_write(c->target, &slot->target_io, slot->chunk * (c->p.chunk_size / bs),
                                         slot->length / bs, slot->data, on_write_done);
                if (r < 0) {
                        copy_end(c, r, REASON_IO_FAILED, "Cannot send WRITE16 to %s: %s.",
                                  volume_session_describe(c->target), strerror(-r));
                        return;
                }
                c->in_flight++;
        }
}

void copy_queue_write(CopySlot *slot) {
        Copy *c = slot->copy;

        slot->state = SLOT_WAITING;
        c->queue[(c->queue_head + c->queue_length) % c->n_slots] = (unsigned) (slot - c->slots);
        c->queue_length++;
        copy_pump_writes(c);
}

static void slot_hashed(CopySlot *slot) {
        Copy *c = slot->copy;
        CopyHash previous;
        int known;

        copy_hash_chunk(slot->data, slot->length, &slot->hash);
        c->progress.bytes_scanned += slot->length;

        if (c->p.compare) {
                CopyHash other;

                copy_hash_chunk(slot->other, slot->length, &other);
                if (memcmp(&other, &slot->hash, sizeof(other)) != 0)
                        c->progress.chunks_differing++;
                slot_finish(slot);
                return;
        }
        known = c->p.previous_hash ? c->p.previous_hash(slot->chunk, &previous, c->p.userdata) : 0;
        if (known > 0 && memcmp(&previous, &slot->hash, sizeof(previous)) == 0) {
                slot_finish(slot);
                return;
        }
        if (known != 0) {
                copy_gate(slot);
                return;
        }
        copy_queue_write(slot);
}

static void on_read_done(CopySlot *slot, VolumeSession *s, int error) {
        Copy *c = slot->copy;

        c->in_flight--;
        c->last_activity_usec = copy_now_usec(c);
        if (c->finished)
                return;
        if (error < 0) {
                copy_fail_io(c, s, "READ16", error);
                return;
        }
        if (--slot->reads_pending == 0)
                slot_hashed(slot);
}

static void on_source_read(VolumeIo *io, int error) {
        CopySlot *slot = container_of(io, CopySlot, source_io);

        on_read_done(slot, slot->copy->source, error);
}

static void on_target_read(VolumeIo *io, int error) {
        CopySlot *slot = container_of(io, CopySlot, target_io);

        on_read_done(slot, slot->copy->target, error);
}

static int slot_start(CopySlot *slot, uint64_t chunk) {
        Copy *c = slot->copy;
        uint32_t sbs = volume_session_block_size(c->source), tbs = volume_session_block_size(c->target);
        uint64_t offset = chunk * c->p.chunk_size;
        int r;

        slot->chunk = chunk;
        slot->length = (uint32_t) MIN((uint64_t) c->p.chunk_size, c->source_bytes - offset);
        slot->state = SLOT_READING;
        slot->reads_pending = c->p.compare ? 2 : 1;

        r = volume_session_read(c->source, &slot->source_io, offset / sbs, slot->length / sbs, slot->data, on_source_read);
        if (r < 0)
                return r;
        c->in_flight++;
        if (c->p.compare) {
                r = volume_session_read(c->target, &slot->target_io, offset / tbs, slot->length / tbs, slot->other,
                                        on_target_read);
                if (r < 0)
                        return r;
                c->in_flight++;
        }
        return 0;
}

static bool copy_all_idle(const Copy *c) {
        for (unsigned i = 0; i < c->n_slots; i++)
                if (c->slots[i].state != SLOT_IDLE)
                        return false;
        return true;
}

void copy_pump(Copy *c) {
        /* Bounded: never more unconfirmed chunks than the batch lists hold. */
        size_t limit = c->pending.capacity - c->n_slots;

        if (c->finished || !c->running)
                return;
        for (unsigned i = 0; i < c->n_slots && c->next_chunk < c->n_chunks && c->pending.n < limit; i++) {
                int r;

                if (c->slots[i].state != SLOT_IDLE)
                        continue;
                r = slot_start(&c->slots[i], c->next_chunk++);
                if (r < 0) {
                        copy_end(c, r, REASON_IO_FAILED, "Cannot send READ16: %s.", strerror(-r));
                        return;
                }
        }
        if (c->next_chunk < c->n_chunks || !copy_all_idle(c))
                return;

        if (!c->p.compare) {
                copy_maybe_confirm(c, true);
                if (c->confirming || c->reported_resume < c->n_chunks)
                        return;
                copy_end(c, 0, REASON_NONE, "Cycle complete: %" PRIu64 " of %" PRIu64 " bytes written to %s.",
                          c->progress.bytes_transferred, c->progress.bytes_scanned, volume_session_describe(c->target));
        } else
                copy_end(c, 0, REASON_NONE, "%" PRIu64 " of %" PRIu64 " chunks differ between %s and %s.",
                          c->progress.chunks_differing, c->n_chunks - c->p.first_chunk,
                          volume_session_describe(c->source), volume_session_describe(c->target));
}
