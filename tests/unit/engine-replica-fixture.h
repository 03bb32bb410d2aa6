/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The world of the replica engine tests: a "local" tgtd on 127.0.0.91
 * serving the source from a file (reached through a local access point), a
 * "remote" one on 127.0.0.92 serving the copy (reached through a peer's
 * access point, from the local address), a collection of both paths, and a
 * volume on each. The backing files are compared byte for byte. Waits run
 * the loop until the awaited event, under a watchdog, and never sleep.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "backing-file.h"
#include "tgtd.h"

#define LOCAL_ADDRESS "127.0.0.91"
#define REMOTE_ADDRESS "127.0.0.92"
#define LOCAL_NAME "iqn.2026-11.org.example.test:replica-host"
#define PEER_NAME "iqn.2026-11.org.example.test:replica-peer"
#define INITIATOR "iqn.2026-11.org.example.test:replica-initiator"
#define SOURCE_TARGET "iqn.2026-11.org.example.test:replica-source"
#define COPY_TARGET "iqn.2026-11.org.example.test:replica-copy"

#define CHUNK (64u * 1024u)
#define N_CHUNKS 256u
#define VOLUME_SIZE ((uint64_t) CHUNK * N_CHUNKS)      /* 16 MiB */

#define WATCHDOG_USEC (60 * USEC_PER_SEC)
#define PATH(kind, id) object_path_format((char[OBJECT_PATH_MAX]) {}, (kind), (id))

typedef struct Fixture {
        char *dir;
        sd_event *event;
        ServiceConfig config;
        Engine *engine;
        Caller caller;
        ReplError err;
        Tgtd *local, *remote;
        GHashTable *completed;          /* job ids that ended */
        GPtrArray *changes;             /* "kind id Prop,Prop" of every PropertiesChanged */
        GPtrArray *statuses;            /* every JobStatus announced */
        bool watchdog_fired;

        uint64_t local_ap, remote_ap, collection;
        uint64_t source, copy;          /* volumes */
        uint64_t watched_sync;
} Fixture;

#define SKIP_WITHOUT_TGTD() do { if (!f->event) { g_test_skip(tgtd_unavailable_reason()); return; } } while (0)

typedef bool (*condition_t)(Fixture *f, uint64_t arg);

void fixture_setup(Fixture *f, gconstpointer data);
void fixture_teardown(Fixture *f, gconstpointer data);
/* A fresh engine on the fixture's state directory, recovered as at a start. */
void engine_start(Fixture *f);

void run_until(Fixture *f, condition_t done, uint64_t arg, const char *what);
/* Waits for job id to end; returns it. */
Job *wait_job(Fixture *f, uint64_t id);
/* The synchronization as committed (NULL: none). */
Synchronization *sync_of(Fixture *f, uint64_t id);
/* Conditions: the job runs; a cycle job other than arg holds f->watched_sync; the cycle confirmed or wrote chunks. */
bool job_is_running(Fixture *f, uint64_t id);
bool sync_has_other_job(Fixture *f, uint64_t job);
bool sync_has_confirmed(Fixture *f, uint64_t id);
bool sync_has_transferred(Fixture *f, uint64_t id);
/* How many announcements of the object named prop. */
unsigned changes_count(Fixture *f, ObjectKind kind, uint64_t id, const char *prop);

/* Changes a few bytes in the middle of a chunk, behind the targets' backs. */
static inline void scribble(const char *path, uint64_t chunk) {
        backing_file_scribble(path, chunk, CHUNK);
}
gboolean files_equal(Fixture *f);

uint64_t add_volume(Fixture *f, uint64_t ap, const char *target, uint16_t lun, Job **ret_job);
ReplicaSpec replica_spec(Fixture *f, uint16_t sync_type, char buf[3][OBJECT_PATH_MAX]);
uint64_t create_replica_of(Fixture *f, uint16_t sync_type, const SyncSettings *settings, uint64_t source, uint64_t copy,
                           uint64_t *ret_job);
uint64_t create_replica(Fixture *f, uint16_t sync_type, const SyncSettings *settings, uint64_t *ret_job);
/* ModifyReplicaSynchronization, expecting its result; returns the job started (0 none). */
uint64_t operate(Fixture *f, uint64_t sync, uint16_t operation, int expected);
