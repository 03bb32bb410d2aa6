/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The net/copy tests' world (copy-fixture.h). */

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "copy-fixture.h"

void fixture_setup(Fixture *f, gconstpointer data) {
        if (!tgtd_available())
                return;
        f->local = tgtd_start(LOCAL_ADDRESS, SOURCE_TARGET, VOLUME_SIZE);
        f->remote = tgtd_start(REMOTE_ADDRESS, COPY_TARGET, GPOINTER_TO_UINT(data) ?: VOLUME_SIZE);
        g_assert_cmpint(sd_event_new(&f->event), ==, 0);
}

void fixture_teardown(Fixture *f, gconstpointer data) {
        tgtd_free(f->local);
        tgtd_free(f->remote);
        sd_event_unref(f->event);
        g_free(f->message);
}

VolumeEndpoint endpoint(const Tgtd *t) {
        return tgtd_endpoint(t, LOCAL_ADDRESS, INITIATOR);
}

static int previous_hash(uint64_t chunk, CopyHash *ret, void *userdata) {
        Fixture *f = userdata;

        g_assert_cmpuint(chunk, <, N_CHUNKS);
        if (f->unknown[chunk])
                return -EIO;
        if (!f->known[chunk])
                return 0;
        *ret = f->hashes[chunk];
        return 1;
}

/* The gate: the chunks are unconfirmed in the table, and released at once unless a test holds them. */
static void on_unconfirm(Copy *c, uint64_t ticket, const uint64_t *chunks, size_t n, void *userdata) {
        Fixture *f = userdata;

        g_assert_cmpuint(ticket, >, f->ticket);
        f->ticket = ticket;
        for (size_t i = 0; i < n; i++) {
                g_assert_cmpuint(chunks[i], <, N_CHUNKS);
                g_assert_false(f->gated[chunks[i]]);
                f->gated[chunks[i]] = TRUE;
                f->known[chunks[i]] = FALSE;
                f->unknown[chunks[i]] = FALSE;
        }
        f->n_gated += n;
        if (!f->hold_gate)
                copy_release(c, ticket);
}

static void on_confirmed(Copy *c, const uint64_t *chunks, const CopyHash *hashes, size_t n, uint64_t resume, void *userdata) {
        Fixture *f = userdata;

        for (size_t i = 0; i < n; i++) {
                g_assert_cmpuint(chunks[i], <, N_CHUNKS);
                f->hashes[chunks[i]] = hashes[i];
                f->known[chunks[i]] = TRUE;
        }
        g_assert_cmpuint(resume, >=, f->resume);
        f->resume = resume;
        f->n_confirmations++;
        if (f->act && !f->acted && f->n_confirmations >= f->act_at_confirmation) {
                f->acted = TRUE;
                f->act(f, c);
        }
}

static void on_done(Copy *c, int error, Reason reason, const char *message, void *userdata) {
        Fixture *f = userdata;

        f->finished = TRUE;
        f->error = error;
        f->reason = reason;
        g_free(f->message);
        f->message = g_strdup(message);
        copy_get_progress(c, &f->progress);
        g_test_message("cycle ended: %s", message);
        copy_free(c);
        f->stop = TRUE;
}

CopyParameters parameters(Fixture *f) {
        return (CopyParameters) {
                .chunk_size = CHUNK,
                .first_chunk = f->resume < N_CHUNKS ? f->resume : 0,
                .n_buffers = 8,
                .confirm_batch = 16,
                .previous_hash = previous_hash,
                .unconfirm = on_unconfirm,
                .confirmed = on_confirmed,
                .done = on_done,
                .userdata = f,
        };
}

/* Runs one cycle to its end; returns the copy only when a test's act() kept it running (never here). */
void run_cycle(Fixture *f, const CopyParameters *p) {
        VolumeEndpoint source = endpoint(f->local), target = endpoint(f->remote);
        Copy *c = NULL;

        f->finished = FALSE;
        f->acted = FALSE;
        f->n_confirmations = 0;
        f->n_gated = 0;
        f->ticket = 0;
        memset(f->gated, 0, sizeof(f->gated));
        g_assert_cmpint(copy_start(f->event, &source, &target, p, &c), ==, 0);
        test_loop_until(f->event, &f->stop, WATCHDOG_USEC);
}

void run_full_cycle(Fixture *f) {
        CopyParameters p = parameters(f);

        f->resume = 0;
        p.first_chunk = 0;
        run_cycle(f, &p);
        g_assert_true(f->finished);
        g_assert_cmpint(f->error, ==, 0);
        g_assert_cmpuint(f->resume, ==, N_CHUNKS);
}

/* ---- backing files ---- */

gboolean chunk_equal(const char *a, const char *b, uint64_t chunk) {
        g_autofree guint8 *da = g_malloc(CHUNK), *db = g_malloc(CHUNK);
        int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(fa, >=, 0);
        g_assert_cmpint(fb, >=, 0);
        g_assert_cmpint(pread(fa, da, CHUNK, (off_t) (chunk * CHUNK)), ==, CHUNK);
        g_assert_cmpint(pread(fb, db, CHUNK, (off_t) (chunk * CHUNK)), ==, CHUNK);
        close(fa);
        close(fb);
        return memcmp(da, db, CHUNK) == 0;
}
