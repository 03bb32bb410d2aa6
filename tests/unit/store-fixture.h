/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the tests of the SQLite store (test-store-*.c) share: a store in its
 * own temporary directory, removed at teardown; a second connection to the
 * database, as an administrator's sqlite3 shell would have, to see what the
 * store's own API cannot show; and one object of every kind with every field
 * set (unusual characters, the extremes of unsigned values), with the
 * assertions that a loaded copy equals it field by field.
 */

#include <glib.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/store.h"

#define LOCAL_NAME "iqn.2024-01.org.example:local"

typedef struct Fixture {
        char *tmp;              /* removed at teardown */
        char *dir;              /* the state directory inside tmp */
        char *db_path;
        Store *store;
} Fixture;

/* The state directory is tmp/relative (setup makes it tmp/state, not yet created). */
void fixture_set_dir(Fixture *f, const char *relative);
void setup_tmp(Fixture *f, gconstpointer data);
/* setup_tmp, and the store opened. */
void setup_open(Fixture *f, gconstpointer data);
void teardown(Fixture *f, gconstpointer data);
void reopen(Fixture *f);
/* What the open store holds, in a new model; the caller frees it. */
Model *load(Fixture *f);

sqlite3 *raw_open(const char *path);
void raw_exec(const char *path, const char *sql);
int64_t raw_int(const char *path, const char *sql);
char *raw_text(const char *path, const char *sql);
mode_t file_mode(const char *path);
bool member_insert_builds_temporary_table(const char *path);

void set_string(char **p, const char *v);

System *make_system(uint64_t id);
void assert_system_equal(const System *a, const System *b);
/* Saves a peer system with that id and a name, nothing else; store_save_system()'s result. */
int save_peer_system(Store *s, uint64_t id);
AccessPoint *make_access_point(uint64_t id, uint64_t system_id);
void assert_access_point_equal(const AccessPoint *a, const AccessPoint *b);
SharedSecret *make_secret(uint64_t id, uint64_t access_point_id);
void assert_secret_equal(const SharedSecret *a, const SharedSecret *b);
Collection *make_collection(uint64_t id);
void assert_collection_equal(const Collection *a, const Collection *b);
Job *make_job(uint64_t id);
void assert_job_equal(const Job *a, const Job *b);

/* One object of every kind, ids 2 to 7, saved in one transaction. */
typedef struct Objects {
        System *system;
        AccessPoint *local_ap, *remote_ap;
        SharedSecret *secret;
        Collection *collection;
        Job *job;
} Objects;

Objects make_objects(void);
void objects_free(Objects *o);
/* Saves o and the next id 8. */
void save_objects(Store *s, const Objects *o);
void assert_objects_loaded(const Model *m, const Objects *o);
/* Only the local system, and the next id 1. */
void assert_model_empty(const Model *m);
