/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the store's files share and nothing else sees: the Store itself, the
 * statement helpers of store-sql.c, and the schema steps of store-schema.c.
 * Only service/store/ includes this header (and so <sqlite3.h>).
 */

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "store-fault.h"
#include "util/macros.h"

/* Distinct statements of the write path; more is a programming error (see store_prepare_cached()). */
#define STORE_STATEMENTS_MAX 48

struct Store {
        sqlite3 *db;
        char *path;
        struct {
                const char *sql;        /* a string literal: compared by address */
                sqlite3_stmt *st;
        } statements[STORE_STATEMENTS_MAX];
        size_t n_statements;
        StoreFaultPlan fault;           /* tests only; see store_fault_arm() */
        bool secret_deleted;            /* the open transaction deletes a secret: checkpoint after COMMIT */
};

static inline void stmt_finalizep(sqlite3_stmt **st) {
        if (*st)
                sqlite3_finalize(*st);
}
#define _cleanup_stmt_ _cleanup_(stmt_finalizep)

/* For cached statements: ready for the next use, and no bound value (a secret) kept. */
static inline void stmt_releasep(sqlite3_stmt **st) {
        if (*st) {
                sqlite3_reset(*st);
                sqlite3_clear_bindings(*st);
        }
}
#define _cleanup_stmt_release_ _cleanup_(stmt_releasep)

/* store-sql.c: statements and columns; failures are logged with SQLite's text and returned as -EIO. */
_printf_(2, 3) int store_error(Store *s, const char *format, ...);
int store_exec(Store *s, const char *sql);
/* A one-row query's first column as text ("" for no row or NULL). */
int store_read_setting(Store *s, const char *query, char *buf, size_t size);
int store_prepare(Store *s, const char *sql, sqlite3_stmt **ret);
int store_prepare_cached(Store *s, const char *sql, sqlite3_stmt **ret);
int store_step_done(Store *s, sqlite3_stmt *st, const char *what);
int store_exec_with_id(Store *s, const char *sql, uint64_t id);
int store_step_row(Store *s, sqlite3_stmt *st, const char *what);
int store_bind_u64(sqlite3_stmt *st, int i, uint64_t v);
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
uint64_t store_column_u64(sqlite3_stmt *st, int i);
int store_column_strdup(sqlite3_stmt *st, int i, char **p);
Reachability store_column_reachability(Store *s, sqlite3_stmt *st, int i);
Reason store_column_reason(Store *s, sqlite3_stmt *st, int i);
/* After a secret's row is gone: checkpoint the write-ahead log down to nothing (see store-sql.c). */
void store_erase_wal(Store *s);
/* Give the write-ahead log its size at once, in written zeros, so commits overwrite instead of growing it. */
#define WAL_HEADER_SIZE 32
#define WAL_FRAME_HEADER_SIZE 24
int store_reserve_wal(Store *s);

/* store-replica.c: volumes and synchronizations into the model (store_load()'s part). */
int store_load_replicas(Store *s, Model *m);

/* store-schema.c: refuse a file newer than this build; bring an older one up to date. */
int store_refuse_version(Store *s, int version);
int store_migrate(Store *s);
