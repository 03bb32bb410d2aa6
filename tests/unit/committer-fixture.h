/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The world of the committer tests (test-committer-*.c): group commit
 * (engine/change.h) seen from the engine's API. Changes made in one turn of the event loop share one transaction; a row
 * that cannot be written fails its own change only; the model, the
 * announcements and the replies (engine_when_stored()) follow the commit, in
 * the order the changes were made, and a failed commit shows nothing; a call
 * that reads what a pending change writes commits that change first; a group
 * has at most COMMITTER_GROUP_MAX changes; stopping commits what is pending.
 *
 * One log records, in order, what the observer announced, each reply and
 * each end of a group, so a test compares sequences. Commits are counted by
 * the store's fault hook: a commit or log sync armed to fail takes down
 * exactly the changes that shared it. The store is read from outside only
 * when no group is pending (a pending group holds the write lock). Nothing
 * touches the network; waits run the loop under a watchdog and never sleep.
 */

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "unit-util.h"
#include "engine/engine.h"

#define LOCAL_NAME "iqn.2024-01.org.example:host"
#define SECRET "0123456789ab"

typedef struct Fixture {
        char *dir;
        sd_event *event;
        ServiceConfig config;
        Engine *engine;
        GString *log;           /* announcements, replies and group ends, one line each, in order */
        unsigned groups;        /* group ends seen */
        Caller caller;
        ReplError err;

        uint64_t local1, local2, local3;
        uint64_t c1;            /* holds local1 */
        uint64_t c2;            /* empty */
} Fixture;

/* One caller waiting for its change to be stored: what it was told, and whether the row was durable then. */
typedef struct Reply {
        Fixture *f;
        const char *name;
        ObjectKind kind;
        uint64_t id;
        bool called;
        int error;
        bool durable;
} Reply;

/* ---- the state as the next start would load it ---- */

Model *stored_model(Fixture *f);
bool stored_has(Fixture *f, ObjectKind kind, uint64_t id);
bool stored_member(Fixture *f, uint64_t collection, uint64_t local);

/* ---- what was announced and replied ---- */

void on_stored(int error, void *userdata);
Reply reply_new(Fixture *f, const char *name, ObjectKind kind, uint64_t id);
void wait_for(Fixture *f, Reply *r);
void wait_job_ended(Fixture *f, uint64_t id);

/* ---- changes ---- */

uint64_t add_peer(Fixture *f, const char *name, Reply *reply);
int try_add_secret(Fixture *f, uint64_t *ret_id);
uint64_t add_secret(Fixture *f, const char *name, Reply *reply);
uint64_t add_local(Fixture *f, uint16_t port);
void add_to(Fixture *f, uint64_t collection, uint64_t local, const char *name, Reply *reply);
bool is_member(Fixture *f, uint64_t collection, uint64_t local);

/* ---- fixture ---- */

void engine_open(Fixture *f);
void setup(Fixture *f, gconstpointer data);
void teardown(Fixture *f, gconstpointer data);
