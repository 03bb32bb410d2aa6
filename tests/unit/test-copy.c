/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/copy against two real targets (copy-fixture.h): cycles, resuming,
 * failures, the bandwidth limit, comparison. The gate is in
 * test-copy-gate.c. Skipped without root or tgt.
 */

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <xxhash.h>

#include "copy-fixture.h"

/* ---- tests ---- */

static void test_first_cycle(Fixture *f, gconstpointer data) {
        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        g_assert_false(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));

        run_full_cycle(f);
        g_assert_cmpuint(f->progress.chunks_transferred, ==, N_CHUNKS);
        /* No hash was confirmed: nothing waited at the gate. */
        g_assert_cmpuint(f->n_gated, ==, 0);
        g_assert_cmpuint(f->progress.chunks_gated, ==, 0);
        g_assert_cmpuint(f->progress.bytes_transferred, ==, VOLUME_SIZE);
        g_assert_cmpuint(f->progress.bytes_scanned, ==, VOLUME_SIZE);
        for (unsigned i = 0; i < N_CHUNKS; i++)
                g_assert_true(f->known[i]);
        g_assert_true(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));
}

static void test_incremental(Fixture *f, gconstpointer data) {
        const uint64_t changed[] = { 0, 97, 250, 333, N_CHUNKS - 1 };   /* 1% of 512 chunks */
        CopyParameters p;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        run_full_cycle(f);

        for (size_t i = 0; i < G_N_ELEMENTS(changed); i++)
                scribble(f->local->backing_file, changed[i]);
        g_assert_false(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));
        run_full_cycle(f);
        g_assert_cmpuint(f->progress.chunks_transferred, ==, G_N_ELEMENTS(changed));
        /* Each changed chunk had a confirmed hash: each was unconfirmed before its write. */
        g_assert_cmpuint(f->n_gated, ==, G_N_ELEMENTS(changed));
        g_assert_cmpuint(f->progress.chunks_gated, ==, G_N_ELEMENTS(changed));
        for (size_t i = 0; i < G_N_ELEMENTS(changed); i++)
                g_assert_true(f->gated[changed[i]]);
        g_assert_cmpuint(f->progress.bytes_transferred, ==, G_N_ELEMENTS(changed) * CHUNK);
        g_assert_true(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));

        /* Nothing changed: everything is read, nothing written. */
        p = parameters(f);
        f->resume = 0;
        p.first_chunk = 0;
        run_cycle(f, &p);
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpuint(f->progress.chunks_transferred, ==, 0);
        g_assert_cmpuint(f->progress.bytes_scanned, ==, VOLUME_SIZE);
        g_assert_cmpuint(f->resume, ==, N_CHUNKS);
}

static void cancel(Fixture *f, Copy *c) {
        copy_free(c);
        f->stop = TRUE;
}

static void test_cancel_resume(Fixture *f, gconstpointer data) {
        CopyParameters p;
        uint64_t resumed_at, unknown = 0;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);

        /* Cancel at the third confirmation: what was confirmed stays known. */
        f->act = cancel;
        f->act_at_confirmation = 3;
        p = parameters(f);
        run_cycle(f, &p);
        g_assert_false(f->finished);
        g_assert_true(f->acted);
        resumed_at = f->resume;
        g_assert_cmpuint(resumed_at, >, 0);
        g_assert_cmpuint(resumed_at, <, N_CHUNKS);
        for (uint64_t i = 0; i < resumed_at; i++)
                g_assert_true(f->known[i]);

        /* Confirmations arrive in completion order: some chunks past the resume point may be known too. */
        for (uint64_t i = resumed_at; i < N_CHUNKS; i++)
                unknown += !f->known[i];
        g_assert_cmpuint(unknown, >, 0);

        f->act = NULL;
        p = parameters(f);
        g_assert_cmpuint(p.first_chunk, ==, resumed_at);
        run_cycle(f, &p);
        g_assert_true(f->finished);
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpuint(f->resume, ==, N_CHUNKS);
        /* Only what was not confirmed is sent again. */
        g_assert_cmpuint(f->progress.chunks_transferred, ==, unknown);
        g_assert_cmpuint(f->progress.bytes_transferred, <, VOLUME_SIZE);
        g_assert_true(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));
}

static void kill_remote(Fixture *f, Copy *c) {
        tgtd_kill(f->remote);
}

static void test_target_dies(Fixture *f, gconstpointer data) {
        CopyParameters p;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        f->act = kill_remote;
        f->act_at_confirmation = 2;
        p = parameters(f);
        p.stall_timeout_usec = 20 * USEC_PER_SEC;
        run_cycle(f, &p);
        g_assert_true(f->acted);
        g_assert_true(f->finished);
        g_assert_cmpint(f->error, ==, -ECONNRESET);
        g_assert_cmpint(f->reason, ==, REASON_CONNECTION_LOST);
        g_assert_nonnull(strstr(f->message, COPY_TARGET));
        g_assert_cmpuint(f->resume, <, N_CHUNKS);
}

static void stop_remote(Fixture *f, Copy *c) {
        g_assert_cmpint(kill(f->remote->pid, SIGSTOP), ==, 0);
}

static void test_target_hangs(Fixture *f, gconstpointer data) {
        CopyParameters p;
        gint64 start;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        f->act = stop_remote;
        f->act_at_confirmation = 2;
        p = parameters(f);
        p.stall_timeout_usec = 2 * USEC_PER_SEC;
        start = g_get_monotonic_time();
        run_cycle(f, &p);
        g_assert_true(f->acted);
        g_assert_true(f->finished);
        g_assert_cmpint(f->error, ==, -ETIMEDOUT);
        g_assert_cmpint(f->reason, ==, REASON_TIMEOUT);
        /* Within a quarter of the timeout's checks, not at the watchdog. */
        g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
}

static void lift_limit(Fixture *f, Copy *c) {
        copy_set_bandwidth_limit(c, 0);
}

static void test_limit_changed(Fixture *f, gconstpointer data) {
        /* At this limit the cycle would take 30 s; lifted at the first confirmation, it takes far less. */
        const uint64_t limit = VOLUME_SIZE / 30;
        CopyParameters p;
        gint64 start;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        f->act = lift_limit;
        f->act_at_confirmation = 1;
        p = parameters(f);
        p.bandwidth_limit = limit;
        start = g_get_monotonic_time();
        run_cycle(f, &p);
        g_assert_true(f->acted);
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpint(g_get_monotonic_time() - start, <, 15 * G_USEC_PER_SEC);
        g_assert_cmpuint(f->progress.rate, >, 2 * limit);
        g_assert_true(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));
}

static void test_compare(Fixture *f, gconstpointer data) {
        CopyParameters p;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        run_full_cycle(f);

        p = parameters(f);
        p.compare = TRUE;
        p.first_chunk = 0;
        run_cycle(f, &p);
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpuint(f->progress.chunks_differing, ==, 0);

        /* Behind the service's back, on the copy. */
        scribble(f->remote->backing_file, 7);
        scribble(f->remote->backing_file, 400);
        run_cycle(f, &p);
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpuint(f->progress.chunks_differing, ==, 2);
        g_assert_cmpuint(f->progress.chunks_transferred, ==, 0);
        g_assert_nonnull(strstr(f->message, "2 of 512 chunks differ"));
}

static void test_bandwidth_limit(Fixture *f, gconstpointer data) {
        /* Scaled so the copy takes about 3 s: long enough for ±10 %, short for the suite. */
        const uint64_t limit = VOLUME_SIZE / 3, slack = limit / 10;
        CopyParameters p;
        gint64 start, elapsed;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        p = parameters(f);
        p.bandwidth_limit = limit;
        start = g_get_monotonic_time();
        run_cycle(f, &p);
        elapsed = g_get_monotonic_time() - start;
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpuint(f->progress.bytes_transferred, ==, VOLUME_SIZE);
        g_test_message("limit %" G_GUINT64_FORMAT " B/s, rate %" G_GUINT64_FORMAT " B/s, %" G_GINT64_FORMAT " µs",
                       limit, f->progress.rate, elapsed);
        /* Never above the limit (the bucket starts empty); the lower side is measured in bench/. */
        g_assert_cmpuint(f->progress.rate, <=, limit + slack);
        g_assert_cmpuint((uint64_t) elapsed, >=, VOLUME_SIZE * G_USEC_PER_SEC / (limit + slack));
        /* Not stalled either, even on a loaded machine. */
        g_assert_cmpuint(f->progress.rate, >=, limit / 2);
        g_assert_true(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));
}

static void test_copy_too_small(Fixture *f, gconstpointer data) {
        CopyParameters p;

        if (!f->event)
                return;
        p = parameters(f);
        run_cycle(f, &p);
        g_assert_true(f->finished);
        g_assert_cmpint(f->error, ==, -EFBIG);
        g_assert_cmpint(f->reason, ==, REASON_VOLUME_UNSUITABLE);
        g_assert_cmpuint(f->n_confirmations, ==, 0);
}

static void test_bad_parameters(void) {
        const VolumeEndpoint e = {
                .address = "127.0.0.1", .port = 3260, .target_name = SOURCE_TARGET, .initiator_name = INITIATOR,
        };
        const uint32_t bad_sizes[] = { 3 * 65536, 32 * 1024, 32u * 1024 * 1024 };
        static Fixture unused;
        const CopyParameters good = parameters(&unused);
        sd_event *event = NULL;
        Copy *c = NULL;

        g_assert_cmpint(sd_event_new(&event), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(bad_sizes); i++) {
                CopyParameters p = { .chunk_size = bad_sizes[i], .done = good.done };

                g_assert_cmpint(copy_start(event, &e, &e, &p, &c), ==, -EINVAL);
        }
        {
                /* Hashes confirmed before, and no way to unconfirm one before it is overwritten. */
                CopyParameters p = good;

                p.unconfirm = NULL;
                g_assert_cmpint(copy_start(event, &e, &e, &p, &c), ==, -EINVAL);
        }
        {
                CopyParameters p = { .n_buffers = COPY_BUFFERS_MAX + 1, .done = good.done };
                VolumeEndpoint named = e;

                g_assert_cmpint(copy_start(event, &e, &e, &p, &c), ==, -EINVAL);
                p.n_buffers = 0;
                named.source_address = "portal.example";        /* a local address must be an IP literal */
                g_assert_cmpint(copy_start(event, &e, &named, &p, &c), ==, -EINVAL);
                named = e;
                named.username = "user";                /* a user without a secret */
                g_assert_cmpint(copy_start(event, &named, &e, &p, &c), ==, -EINVAL);
        }
        g_assert_null(c);
        sd_event_unref(event);
}

static void test_hash(void) {
        static const char data[] = "replica chunk";
        CopyHash a, b;

        copy_hash_chunk(data, sizeof(data), &a);
        copy_hash_chunk(data, sizeof(data), &b);
        g_assert_cmpmem(&a, sizeof(a), &b, sizeof(b));
        copy_hash_chunk(data, sizeof(data) - 1, &b);
        g_assert_true(memcmp(&a, &b, sizeof(a)) != 0);
}

/*
 * Stored tables stay valid only if every build and CPU computes XXH3-128 the
 * same way: the hash equals the library's portable baseline at every length
 * the algorithm treats apart (short, mid-size, long inputs in stripes and
 * blocks, a chunk), and the published value for no input at all.
 */
static void test_hash_canonical(void) {
        static const size_t lengths[] = { 0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1024, 1025, 65536 + 7, 1u << 20 };
        static const uint8_t empty[COPY_HASH_SIZE] = {
                0x99, 0xaa, 0x06, 0xd3, 0x01, 0x47, 0x98, 0xd8, 0x60, 0x01, 0xc3, 0x24, 0x46, 0x8d, 0x49, 0x7f,
        };
        g_autofree uint8_t *data = g_malloc(1u << 20);
        uint64_t x = 0x9e3779b97f4a7c15u;
        CopyHash h;

        for (size_t i = 0; i < (1u << 20); i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data[i] = (uint8_t) x;
        }
        copy_hash_chunk(data, 0, &h);
        g_assert_cmpmem(h.bytes, sizeof(h.bytes), empty, sizeof(empty));
        for (size_t i = 0; i < G_N_ELEMENTS(lengths); i++) {
                XXH128_canonical_t expected;

                XXH128_canonicalFromHash(&expected, XXH3_128bits(data, lengths[i]));
                copy_hash_chunk(data, lengths[i], &h);
                g_assert_cmpmem(h.bytes, sizeof(h.bytes), expected.digest, sizeof(expected.digest));
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

#define FIXTURE_TEST(path, fn, data) \
        g_test_add(path, Fixture, GUINT_TO_POINTER(data), fixture_setup, fn, fixture_teardown)

        g_test_add_func("/copy/hash", test_hash);
        g_test_add_func("/copy/hash-canonical", test_hash_canonical);
        g_test_add_func("/copy/bad-parameters", test_bad_parameters);
        FIXTURE_TEST("/copy/first-cycle", test_first_cycle, 0);
        FIXTURE_TEST("/copy/incremental", test_incremental, 0);
        FIXTURE_TEST("/copy/cancel-resume", test_cancel_resume, 0);
        FIXTURE_TEST("/copy/target-dies", test_target_dies, 0);
        FIXTURE_TEST("/copy/target-hangs", test_target_hangs, 0);
        FIXTURE_TEST("/copy/limit-changed", test_limit_changed, 0);
        FIXTURE_TEST("/copy/compare", test_compare, 0);
        FIXTURE_TEST("/copy/bandwidth-limit", test_bandwidth_limit, 0);
        FIXTURE_TEST("/copy/copy-too-small", test_copy_too_small, VOLUME_SIZE / 2);
        return g_test_run();
}
