/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The world of the net/copy tests: a "local" tgtd on 127.0.0.81 serving
 * the source from a file, a "remote" one on 127.0.0.82 serving the copy,
 * both reached from 127.0.0.81 as the local access point's address; the
 * hash table a caller keeps, in memory; one loop. The backing files are
 * compared byte for byte. Tests skip themselves without root or tgt.
 */

#include <glib.h>
#include <stdint.h>

#include "net/copy.h"
#include "backing-file.h"
#include "tgtd-endpoint.h"
#include "util/macros.h"

#define LOCAL_ADDRESS "127.0.0.81"
#define REMOTE_ADDRESS "127.0.0.82"
#define INITIATOR "iqn.2026-11.org.example.test:copy"
#define SOURCE_TARGET "iqn.2026-11.org.example.test:source"
#define COPY_TARGET "iqn.2026-11.org.example.test:copy"

#define CHUNK (64u * 1024u)
#define N_CHUNKS 512u
#define VOLUME_SIZE ((uint64_t) CHUNK * N_CHUNKS)      /* 32 MiB */

/* A hung test fails after this long instead of blocking the run. */
#define WATCHDOG_USEC (60 * USEC_PER_SEC)

typedef struct Fixture {
        Tgtd *local, *remote;
        sd_event *event;

        /* The table the engine would keep durably: one hash per chunk, and whether it is set. */
        CopyHash hashes[N_CHUNKS];
        gboolean known[N_CHUNKS];
        uint64_t resume;
        unsigned n_confirmations;
        gboolean unknown[N_CHUNKS];     /* previous_hash cannot tell */

        /* The gate: chunks handed to unconfirm, the last ticket; held: not released by on_unconfirm. */
        gboolean gated[N_CHUNKS];
        size_t n_gated;
        uint64_t ticket;
        gboolean hold_gate;

        /* What the last cycle ended with. */
        gboolean finished;
        int error;
        Reason reason;
        char *message;
        CopyProgress progress;

        /* Set by a test: act at the n-th confirmation (0: never). */
        unsigned act_at_confirmation;
        void (*act)(struct Fixture *f, Copy *c);
        gboolean acted;
        gboolean stop;                  /* ends loop_until() */
} Fixture;

void fixture_setup(Fixture *f, gconstpointer data);
void fixture_teardown(Fixture *f, gconstpointer data);
VolumeEndpoint endpoint(const Tgtd *t);
/* The parameters of a cycle with the fixture's callbacks, resuming at f->resume. */
CopyParameters parameters(Fixture *f);
/* Runs one cycle until it ends or a test's act() stops the loop. */
void run_cycle(Fixture *f, const CopyParameters *p);
/* Runs a cycle over the whole volume; asserts it succeeded. */
void run_full_cycle(Fixture *f);

/* Changes a few bytes in the middle of a chunk, behind the targets' backs. */
static inline void scribble(const char *path, uint64_t chunk) {
        backing_file_scribble(path, chunk, CHUNK);
}
gboolean chunk_equal(const char *a, const char *b, uint64_t chunk);
