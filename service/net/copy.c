/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replica cycles; see copy.h.
 *
 * Each chunk buffer ("slot") carries one chunk at a time: READ16 from the
 * source (and, comparing, from the copy), hash, then either nothing (the
 * hash equals the one confirmed on the copy) or a WRITE16 to the copy once
 * the token bucket allows (and, when a hash was confirmed for the chunk,
 * once the caller has unconfirmed it: copy-gate.c). Slots take the next chunk in order, so the chunks
 * in flight are always a window just past what is finished. Completed
 * writes collect in a batch; a SYNCHRONIZE CACHE16 on the copy, sent once
 * the batch is large enough, makes every write completed before it durable,
 * and only then is the batch handed to the caller, with the resume point:
 * the first chunk not yet finished when the sync was sent.
 *
 * Hashes are XXH3-128 (Debian's libxxhash): at tens of GB/s per core it is
 * far faster than the network, so hashing never limits a cycle; 128 bits
 * make an accidental collision between a chunk and its older self
 * negligible (unlike a 64-bit hash over billions of chunks); its canonical
 * output is fixed across versions and CPUs, so stored tables stay valid.
 * It is not a cryptographic hash: whoever could craft colliding chunks
 * already writes to the source. On x86-64 the library's dispatching entry
 * point is used: XXH3_128bits() itself is built for the SSE2 baseline,
 * while the dispatcher picks AVX2 (or AVX-512) where the CPU has it, with
 * the same result in about a third of the instructions.
 *
 * libiscsi calls back from inside iscsi_service(), where its contexts must
 * not be destroyed; so every callback to the caller goes through a deferred
 * event source, one callback per dispatch, after which the caller may free
 * the copy.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>
#if defined(__x86_64__) && __has_include(<xxh_x86dispatch.h>)
#  define XXH_DISPATCH_DISABLE_REPLACE
#  include <xxh_x86dispatch.h>
#  define copy_xxh3_128 XXH3_128bits_dispatch
#else
#  define copy_xxh3_128 XXH3_128bits
#endif

#include "copy-internal.h"
#include "util/log.h"

void copy_hash_chunk(const void *data, size_t size, CopyHash *ret) {
        XXH128_canonical_t canonical;

        XXH128_canonicalFromHash(&canonical, copy_xxh3_128(data, size));
        memcpy(ret->bytes, canonical.digest, COPY_HASH_SIZE);
}

uint64_t copy_now_usec(Copy *c) {
        uint64_t t = 0;

        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &t);
        return t;
}

void copy_notify(Copy *c) {
        (void) sd_event_source_set_enabled(c->notify_source, SD_EVENT_ONESHOT);
}

void copy_end(Copy *c, int error, Reason reason, const char *format, ...) {
        va_list ap;

        if (c->finished)
                return;
        c->finished = true;
        c->error = error;
        c->reason = reason;
        va_start(ap, format);
        vsnprintf(c->message, sizeof(c->message), format, ap);
        va_end(ap);
        c->token_timer = sd_event_source_disable_unref(c->token_timer);
        copy_notify(c);
}

void copy_fail_io(Copy *c, VolumeSession *s, const char *what, int error) {
        if (error == -ECONNRESET)
                copy_end(c, error, REASON_CONNECTION_LOST, "Connection to %s lost during %s.", volume_session_describe(s), what);
        else if (error == -ETIMEDOUT)
                copy_end(c, error, REASON_TIMEOUT, "%s of %s timed out.", what, volume_session_describe(s));
        else
                copy_end(c, error, REASON_IO_FAILED, "%s of %s failed: %s.", what, volume_session_describe(s),
                          volume_session_last_error(s));
}

static int chunk_list_init(ChunkList *l, size_t capacity) {
        l->chunks = calloc(capacity, sizeof(uint64_t));
        l->hashes = calloc(capacity, sizeof(CopyHash));
        l->capacity = capacity;
        l->n = 0;
        return l->chunks && l->hashes ? 0 : -ENOMEM;
}

static void chunk_list_done(ChunkList *l) {
        free(l->chunks);
        free(l->hashes);
        *l = (ChunkList) {};
}

/* ---- starting ---- */

static int copy_allocate(Copy *c) {
        size_t batch = c->p.confirm_batch;
        int r;

        c->slots = calloc(c->n_slots, sizeof(CopySlot));
        c->queue = calloc(c->n_slots, sizeof(unsigned));
        c->gated = calloc(c->n_slots, sizeof(uint64_t));
        if (!c->slots || !c->queue || !c->gated)
                return -ENOMEM;
        for (unsigned i = 0; i < c->n_slots; i++) {
                c->slots[i].copy = c;
                r = posix_memalign((void **) &c->slots[i].data, BUFFER_ALIGNMENT, c->p.chunk_size);
                if (r != 0)
                        return -r;
                if (c->p.compare) {
                        r = posix_memalign((void **) &c->slots[i].other, BUFFER_ALIGNMENT, c->p.chunk_size);
                        if (r != 0)
                                return -r;
                }
        }
        /* A batch may grow by every slot's write while the previous one is being synced. */
        r = chunk_list_init(&c->pending, 2 * batch + c->n_slots);
        if (r < 0)
                return r;
        return chunk_list_init(&c->syncing, 2 * batch + c->n_slots);
}

/* A chunk, or 100 ms at the limit when more: lets a late wake-up catch up, never beyond the limit from the start. */
static uint64_t copy_burst(const Copy *c) {
        return MAX((uint64_t) c->p.chunk_size, c->p.bandwidth_limit / 10);
}

static void copy_begin(Copy *c) {
        uint32_t sbs = volume_session_block_size(c->source), tbs = volume_session_block_size(c->target);
        uint64_t target_bytes = volume_session_n_blocks(c->target) * tbs;
        int r;

        c->source_bytes = volume_session_n_blocks(c->source) * sbs;
        if (c->p.chunk_size % sbs != 0 || c->p.chunk_size % tbs != 0 || c->source_bytes % tbs != 0) {
                copy_end(c, -EINVAL, REASON_VOLUME_UNSUITABLE, "Chunk size %" PRIu32 " does not fit the block sizes of %s (%" PRIu32
                          ") and %s (%" PRIu32 ").", c->p.chunk_size, volume_session_describe(c->source), sbs,
                          volume_session_describe(c->target), tbs);
                return;
        }
        if (target_bytes < c->source_bytes) {
                copy_end(c, -EFBIG, REASON_VOLUME_UNSUITABLE, "The copy, %s (%" PRIu64 " bytes), is smaller than the source, %s (%" PRIu64 " bytes).",
                          volume_session_describe(c->target), target_bytes, volume_session_describe(c->source), c->source_bytes);
                return;
        }
        c->n_chunks = (c->source_bytes + c->p.chunk_size - 1) / c->p.chunk_size;
        if (c->p.first_chunk > c->n_chunks) {
                copy_end(c, -EINVAL, REASON_VOLUME_UNSUITABLE, "Resume point %" PRIu64 " is past the end of %s (%" PRIu64 " chunks).",
                          c->p.first_chunk, volume_session_describe(c->source), c->n_chunks);
                return;
        }
        r = copy_allocate(c);
        if (r < 0) {
                copy_end(c, r, REASON_IO_FAILED, "Cannot allocate the chunk buffers: %s.", strerror(-r));
                return;
        }
        c->next_chunk = c->reported_resume = c->p.first_chunk;
        c->progress.n_chunks = c->n_chunks;
        c->progress.bytes_total = c->source_bytes - MIN(c->source_bytes, c->p.first_chunk * c->p.chunk_size);
        c->progress.resume_chunk = c->p.first_chunk;
        c->start_usec = c->last_activity_usec = copy_now_usec(c);
        token_bucket_init(&c->bucket, c->p.bandwidth_limit, copy_burst(c), c->start_usec);
        c->running = true;
        copy_pump(c);
}

static void on_session(VolumeSession *s, int error, Reason reason, const char *message, void *userdata) {
        Copy *c = userdata;

        if (c->finished)
                return;
        if (error < 0) {
                copy_end(c, error, reason, "%s", message);
                return;
        }
        if (++c->n_ready == 2)
                copy_begin(c);
}

/* ---- callbacks to the caller, outside libiscsi ---- */

static int on_notify(sd_event_source *s, void *userdata) {
        Copy *c = userdata;

        /* A batch whose sync completed is durable on the copy even if the cycle failed since. */
        if (c->confirmation_ready) {
                size_t n = c->syncing.n;

                c->confirmation_ready = false;
                c->confirming = false;
                c->syncing.n = 0;
                c->reported_resume = c->progress.resume_chunk = c->sync_resume;
                /* Continue next time round; the callee may free the copy. */
                copy_notify(c);
                if (c->p.confirmed)
                        c->p.confirmed(c, c->syncing.chunks, c->syncing.hashes, n, c->sync_resume, c->p.userdata);
                return 0;
        }
        if (!c->finished && copy_deliver_gated(c))
                return 0;
        if (c->finished) {
                c->source = volume_session_free(c->source);
                c->target = volume_session_free(c->target);
                c->stall_timer = sd_event_source_disable_unref(c->stall_timer);
                c->end_usec = copy_now_usec(c);
                c->running = false;
                c->p.done(c, c->error, c->reason, c->message, c->p.userdata);
                return 0;
        }
        copy_maybe_confirm(c, false);
        copy_pump(c);
        return 0;
}

static int on_stall_check(sd_event_source *s, uint64_t usec, void *userdata) {
        Copy *c = userdata;

        uint64_t now = copy_now_usec(c);

        /* usec is when the timer was due, which may be before the last completion; compare with now. */
        if (c->running && !c->finished && c->in_flight > 0 && now > c->last_activity_usec &&
            now - c->last_activity_usec >= c->p.stall_timeout_usec)
                copy_end(c, -ETIMEDOUT, REASON_TIMEOUT, "No answer from %s or %s for %" PRIu64 " s.",
                          volume_session_describe(c->source), volume_session_describe(c->target),
                          c->p.stall_timeout_usec / USEC_PER_SEC);
        else if (sd_event_source_set_time_relative(s, c->p.stall_timeout_usec / 4) >= 0)
                (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int copy_check_parameters(CopyParameters *p) {
        if (!p->done)
                return -EINVAL;
        if (p->chunk_size == 0)
                p->chunk_size = COPY_CHUNK_SIZE_DEFAULT;
        if (p->chunk_size < COPY_CHUNK_SIZE_MIN || p->chunk_size > COPY_CHUNK_SIZE_MAX ||
            (p->chunk_size & (p->chunk_size - 1)) != 0)
                return -EINVAL;
        /* A confirmed hash that differs must be unconfirmed before the write (copy-gate.c). */
        if (p->previous_hash && !p->compare && !p->unconfirm)
                return -EINVAL;
        if (p->n_buffers == 0)
                p->n_buffers = COPY_BUFFERS_DEFAULT;
        if (p->n_buffers > COPY_BUFFERS_MAX)
                return -EINVAL;
        if (p->confirm_batch == 0)
                p->confirm_batch = COPY_CONFIRM_BATCH_DEFAULT;
        if (p->stall_timeout_usec == 0)
                p->stall_timeout_usec = COPY_STALL_TIMEOUT_DEFAULT_USEC;
        return 0;
}

/**
 * copy_start() - run one cycle from source to target
 * @event: the loop; the copy keeps a reference
 * @source: the local volume, reached through the local access point
 * @target: the copy, reached through the remote access point
 * @parameters: see CopyParameters; copied
 * @ret: the running copy, written on success only
 *
 * Return: 0, -EINVAL, -ENOMEM or an sd-event error; see copy.h.
 */
int copy_start(sd_event *event,
               const VolumeEndpoint *source,
               const VolumeEndpoint *target,
               const CopyParameters *parameters,
               Copy **ret) {
        _cleanup_(copy_freep) Copy *c = NULL;
        int r;

        if (!event || !source || !target || !parameters || !ret)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->p = *parameters;
        r = copy_check_parameters(&c->p);
        if (r < 0)
                return r;
        c->n_slots = c->p.n_buffers;

        r = sd_event_add_defer(event, &c->notify_source, on_notify, c);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(c->notify_source, SD_EVENT_OFF);
        r = sd_event_add_time_relative(event, &c->stall_timer, CLOCK_MONOTONIC, c->p.stall_timeout_usec / 4,
                                       USEC_PER_MSEC * 100, on_stall_check, c);
        if (r < 0)
                return r;
        r = volume_session_open(event, source, c->p.login_timeout_usec, on_session, c, &c->source);
        if (r < 0)
                return r;
        r = volume_session_open(event, target, c->p.login_timeout_usec, on_session, c, &c->target);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

Copy *copy_free(Copy *c) {
        if (!c)
                return NULL;
        /* Sessions first: destroying them cancels commands that point into the slots. */
        volume_session_free(c->source);
        volume_session_free(c->target);
        sd_event_source_disable_unref(c->notify_source);
        sd_event_source_disable_unref(c->stall_timer);
        sd_event_source_disable_unref(c->token_timer);
        for (unsigned i = 0; c->slots && i < c->n_slots; i++) {
                free(c->slots[i].data);
                free(c->slots[i].other);
        }
        free(c->slots);
        free(c->queue);
        free(c->gated);
        chunk_list_done(&c->pending);
        chunk_list_done(&c->syncing);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

void copy_set_bandwidth_limit(Copy *c, uint64_t bytes_per_second) {
        c->p.bandwidth_limit = bytes_per_second;
        token_bucket_set_rate(&c->bucket, bytes_per_second, copy_now_usec(c));
        c->bucket.burst = copy_burst(c);
        /* A waiting write may go sooner (or later) now. */
        c->token_timer = sd_event_source_disable_unref(c->token_timer);
        if (c->running)
                copy_pump_writes(c);
}

void copy_get_progress(const Copy *c, CopyProgress *ret) {
        uint64_t elapsed;

        *ret = c->progress;
        if (c->start_usec == 0)
                elapsed = 0;
        else
                elapsed = (c->end_usec ?: copy_now_usec((Copy *) c)) - c->start_usec;
        ret->rate = elapsed > 0 ? c->progress.bytes_transferred * USEC_PER_SEC / elapsed : 0;
}
