/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The world of the engine tests (test-engine-*.c): every change the service
 * makes, without a bus. An observer records what the bus layer would
 * announce; a second view of the state directory (a fresh model loaded from
 * the store, or a second engine) shows what was committed. Jobs run on a
 * private sd-event loop against loopback peers:
 *
 *   - listening: a socket in listen(), which the kernel completes handshakes for;
 *   - refusing:  a bound socket that does not listen, so a SYN gets a reset;
 *   - hanging:   a listener with a full accept queue (backlog 0 and one
 *                unaccepted connection), where Linux drops further SYNs, so
 *                a connect neither succeeds nor fails — an unresponsive portal.
 *
 * Nothing leaves 127.0.0.0/8. Waits run the loop until the awaited
 * notification arrives, under a watchdog, and never sleep.
 *
 * Changes are committed in groups: the helpers commit the pending group with
 * engine_flush() after each call that succeeds, as the loop's next turn
 * would, so that a test sees the call's effect (test-committer-*.c test the
 * grouping itself).
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "unit-util.h"
#include "engine/engine.h"

#define LOCAL_NAME "iqn.2024-01.org.example:host"
#define PEER_NAME "iqn.2024-01.org.example:peer"

#define LISTEN_ADDRESS "127.0.0.2"
#define REFUSE_ADDRESS "127.0.0.3"
#define HANG_ADDRESS "127.0.0.4"

typedef enum NoteType {
        NOTE_ADDED,
        NOTE_REMOVED,
        NOTE_CHANGED,
        NOTE_COMPLETED,
} NoteType;

typedef struct Note {
        NoteType type;
        ObjectKind kind;
        uint64_t id;
        char *properties;               /* NOTE_CHANGED: names joined by ',' */
        uint64_t realtime;              /* when it was seen, CLOCK_REALTIME µs */
        uint64_t monotonic;             /* CLOCK_MONOTONIC µs */
        /* NOTE_COMPLETED: the job as it was announced */
        JobState state;
        uint64_t time_of_last_state_change;
        uint16_t error_code;
        char *error_description;
        char *affected;                 /* joined by ',' */
} Note;

typedef struct Fixture {
        char *dir;
        sd_event *event;
        ServiceConfig config;
        Engine *engine;
        GPtrArray *notes;
        Caller caller;
        ReplError err;

        /* the world most tests start from */
        uint64_t local1;                /* 127.0.0.1:3260 on this host */
        uint64_t peer;
        uint64_t collection;            /* holds local1 */

        int listen_fd, refuse_fd, hang_fd, hang_fillers[3];
        uint16_t listen_port, refuse_port, hang_port;
} Fixture;

#define ANY_ID UINT64_MAX

typedef bool (*wait_condition_t)(Fixture *f, uint64_t arg);

/* What the engine holds and what the store holds, taken together. */
typedef struct Snapshot {
        char *model;
        char *store;
} Snapshot;

/* ---- what the observer saw ---- */

unsigned notes_count(Fixture *f, NoteType type, ObjectKind kind, uint64_t id);
const Note *notes_find(Fixture *f, NoteType type, ObjectKind kind, uint64_t id, unsigned nth);
guint notes_index(Fixture *f, const Note *n);
const char *only_change(Fixture *f, ObjectKind kind, uint64_t id);
void notes_clear(Fixture *f);

/* ---- the event loop ---- */

void run_until(Fixture *f, wait_condition_t done, uint64_t arg, const char *what);
bool job_has_completed(Fixture *f, uint64_t id);
bool job_was_removed(Fixture *f, uint64_t id);
bool job_is_running(Fixture *f, uint64_t id);
void wait_completed(Fixture *f, uint64_t job);
void run_pending(Fixture *f);

/* ---- the state directory seen from outside ---- */

char *model_dump(const Model *m, bool with_jobs);
Model *stored_model(Fixture *f);
Snapshot snapshot(Fixture *f, bool with_jobs);
void snapshot_done(Snapshot *s);
void assert_unchanged(Fixture *f, const Snapshot *before, bool with_jobs);
void assert_model_is_stored(Fixture *f);

/* ---- fixture ---- */

void engine_open(Fixture *f);
void engine_close(Fixture *f);
void setup_world(Fixture *f, gconstpointer data);
void setup_no_verify(Fixture *f, gconstpointer data);
void setup_short_probes(Fixture *f, gconstpointer data);
void setup_one_running_job(Fixture *f, gconstpointer data);
void setup_one_job_per_user(Fixture *f, gconstpointer data);
void setup_one_finished_job(Fixture *f, gconstpointer data);
void setup_quick_removal(Fixture *f, gconstpointer data);
void setup_slow_progress(Fixture *f, gconstpointer data);
void setup_empty(Fixture *f, gconstpointer data);
void teardown(Fixture *f, gconstpointer data);

/* ---- calling the engine ---- */

void assert_failed(Fixture *f, int r, int expected);
void flush(Fixture *f);
uint64_t add_peer(Fixture *f, const char *name);
uint64_t add_access_point(Fixture *f, uint64_t system, const char *address, uint16_t port);
uint64_t create_collection(Fixture *f, const char *name, const char * const *locals, bool doa);
int add_to(Fixture *f, uint64_t collection, const char * const *locals, const char * const *remotes,
           const char *system, uint64_t *ret_job);
int remove_from(Fixture *f, uint64_t collection, const char * const *locals, const char * const *remotes,
                const char *system);
uint64_t start_add_job(Fixture *f, uint64_t collection, uint64_t remote);
uint64_t start_job(Fixture *f, const Caller *caller, uint64_t ap);
void request_state(Fixture *f, uint64_t id, uint16_t requested);
Job *job(Fixture *f, uint64_t id);
Collection *collection(Fixture *f, uint64_t id);
