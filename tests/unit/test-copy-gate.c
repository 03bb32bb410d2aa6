/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net/copy's gate (copy-gate.c) against two real targets
 * (copy-fixture.h): a chunk whose confirmed hash differs from the source's
 * is written only after the caller unconfirmed it and released it; a chunk
 * without a confirmed hash never waits. Skipped without root or tgt.
 */

#include <string.h>

#include "copy-fixture.h"

typedef struct Watch {
        Fixture *f;
        Copy *copy;
} Watch;

/* After every dispatch: stops the loop once the whole source is read and hashed. */
static int on_dispatched(sd_event_source *s, void *userdata) {
        Watch *w = userdata;
        CopyProgress p;

        copy_get_progress(w->copy, &p);
        if (p.bytes_scanned == VOLUME_SIZE)
                w->f->stop = TRUE;
        return 0;
}

/* Starts a cycle over the whole volume with the gate held; returns once everything is read and hashed. */
static Copy *run_until_scanned(Fixture *f) {
        VolumeEndpoint source = endpoint(f->local), target = endpoint(f->remote);
        CopyParameters p = parameters(f);
        sd_event_source *post = NULL;
        Watch w = { f, NULL };

        f->resume = 0;
        p.first_chunk = 0;
        f->hold_gate = TRUE;
        f->finished = FALSE;
        f->n_gated = 0;
        f->ticket = 0;
        memset(f->gated, 0, sizeof(f->gated));
        g_assert_cmpint(copy_start(f->event, &source, &target, &p, &w.copy), ==, 0);
        g_assert_cmpint(sd_event_add_post(f->event, &post, on_dispatched, &w), >=, 0);
        test_loop_until(f->event, &f->stop, WATCHDOG_USEC);
        sd_event_source_disable_unref(post);
        return w.copy;
}


/*
 * A chunk whose confirmed hash differs is written only once the caller has
 * released it; one whose hash cannot be told waits too; one without a
 * confirmed hash never waits.
 */
static void test_gate_holds_writes(Fixture *f, gconstpointer data) {
        const uint64_t changed[] = { 10, 300 }, unknown = 77, unconfirmed = 200;
        Copy *c;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        run_full_cycle(f);
        for (size_t i = 0; i < G_N_ELEMENTS(changed); i++)
                scribble(f->local->backing_file, changed[i]);
        f->unknown[unknown] = TRUE;
        f->known[unconfirmed] = FALSE;

        c = run_until_scanned(f);
        g_assert_false(f->finished);
        g_assert_cmpuint(f->n_gated, ==, 3);
        g_assert_true(f->gated[changed[0]] && f->gated[changed[1]] && f->gated[unknown]);
        g_assert_false(f->gated[unconfirmed]);
        /* Everything is read, and the changed chunks are still not on the copy: their writes wait. */
        for (size_t i = 0; i < G_N_ELEMENTS(changed); i++)
                g_assert_false(chunk_equal(f->local->backing_file, f->remote->backing_file, changed[i]));

        copy_release(c, f->ticket);
        test_loop_until(f->event, &f->stop, WATCHDOG_USEC);
        g_assert_true(f->finished);
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpuint(f->progress.chunks_transferred, ==, 4);
        g_assert_cmpuint(f->progress.chunks_gated, ==, 3);
        g_assert_true(backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE));
        for (uint64_t i = 0; i < N_CHUNKS; i++)
                g_assert_true(f->known[i]);
}

/* Stopped while writes wait at the gate: no callback, nothing written, nothing leaked (ASan, valgrind). */
static void test_gate_free(Fixture *f, gconstpointer data) {
        Copy *c;

        if (!f->event)
                return;
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
        run_full_cycle(f);
        scribble(f->local->backing_file, 5);
        c = run_until_scanned(f);
        g_assert_cmpuint(f->n_gated, ==, 1);
        copy_free(c);
        while (sd_event_run(f->event, 0) > 0)
                ;
        g_assert_false(f->finished);
        g_assert_false(chunk_equal(f->local->backing_file, f->remote->backing_file, 5));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add("/copy-gate/holds-writes", Fixture, NULL, fixture_setup, test_gate_holds_writes, fixture_teardown);
        g_test_add("/copy-gate/free", Fixture, NULL, fixture_setup, test_gate_free, fixture_teardown);
        return g_test_run();
}
