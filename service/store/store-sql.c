/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The store's way of talking to SQLite: preparing, stepping and the cache of
 * the write path's statements, binding and reading columns, turning SQLite's
 * failures into a logged -EIO, and the transaction around every change
 * (including emptying the write-ahead log after a secret is deleted, and
 * giving the log its room once, so that commits overwrite it).
 */

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/strutil.h"

_printf_(2, 3)
int store_error(Store *s, const char *format, ...) {
        char what[256];
        va_list ap;

        va_start(ap, format);
        vsnprintf(what, sizeof(what), format, ap);
        va_end(ap);

        log_error("Store %s: failed to %s: %s", s->path, what, sqlite3_errmsg(s->db));
        return -EIO;
}

int store_exec(Store *s, const char *sql) {
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return store_error(s, "execute \"%s\"", sql);
        return 0;
}

int store_prepare(Store *s, const char *sql, sqlite3_stmt **ret) {
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
                sqlite3_finalize(st);
                return store_error(s, "prepare \"%s\"", sql);
        }
        *ret = st;
        return 0;
}

/*
 * The write path's statements are prepared once and kept until the store is
 * closed: preparing one costs more than running it. sql must be a string
 * literal (the cache compares addresses); release the statement with
 * _cleanup_stmt_release_, never finalize it.
 */
int store_prepare_cached(Store *s, const char *sql, sqlite3_stmt **ret) {
        int r;

        for (size_t i = 0; i < s->n_statements; i++)
                if (s->statements[i].sql == sql) {
                        *ret = s->statements[i].st;
                        return 0;
                }
        if (s->n_statements >= STORE_STATEMENTS_MAX) {
                log_error("Store %s: more distinct statements than the cache holds.", s->path);
                return -EIO;
        }
        r = store_prepare(s, sql, ret);
        if (r < 0)
                return r;
        s->statements[s->n_statements].sql = sql;
        s->statements[s->n_statements++].st = *ret;
        return 0;
}

/*
 * A transaction-control statement, prepared once (every change begins and
 * commits, and parsing the text again each time cost more than running it);
 * not a row write, so no fault counts it.
 */
static int store_exec_cached(Store *s, const char *sql) {
        sqlite3_stmt *st;
        int r, rc;

        r = store_prepare_cached(s, sql, &st);
        if (r < 0)
                return r;
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
                return store_error(s, "execute \"%s\"", sql);
        return 0;
}

/* Runs a statement that returns no rows. */
int store_step_done(Store *s, sqlite3_stmt *st, const char *what) {
        if (store_fault_plan_hit(&s->fault, STORE_FAULT_WRITE)) {
                log_error("Store %s: failed to %s: injected fault", s->path, what);
                return -EIO;
        }
        if (sqlite3_step(st) != SQLITE_DONE)
                return store_error(s, "%s", what);
        return 0;
}

/* Runs a statement that returns no rows and takes one id as ?1 (a row's delete), cached. */
int store_exec_with_id(Store *s, const char *sql, uint64_t id) {
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare_cached(s, sql, &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, id) != SQLITE_OK)
                return store_error(s, "bind id %" PRIu64, id);
        return store_step_done(s, st, sql);
}

/* Returns 1 with a row, 0 when done. */
int store_step_row(Store *s, sqlite3_stmt *st, const char *what) {
        switch (sqlite3_step(st)) {
        case SQLITE_ROW:
                return 1;
        case SQLITE_DONE:
                return 0;
        default:
                return store_error(s, "%s", what);
        }
}

int store_bind_u64(sqlite3_stmt *st, int i, uint64_t v) {
        return sqlite3_bind_int64(st, i, (sqlite3_int64) v);
}

/* The strings stay alive until the statement is stepped, so SQLite need not copy them. */
int store_bind_text(sqlite3_stmt *st, int i, const char *v) {
        return sqlite3_bind_text(st, i, v ?: "", -1, SQLITE_STATIC);
}

uint64_t store_column_u64(sqlite3_stmt *st, int i) {
        return (uint64_t) sqlite3_column_int64(st, i);
}

int store_column_strdup(sqlite3_stmt *st, int i, char **p) {
        const char *v = (const char *) sqlite3_column_text(st, i);

        if (!v && sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
                return -ENOMEM;
        return free_and_strdup(p, v);
}

Reachability store_column_reachability(Store *s, sqlite3_stmt *st, int i) {
        const char *v = (const char *) sqlite3_column_text(st, i);
        int r = reachability_from_string(v);

        /* A probe verdict is a cache: an unreadable one is simply not known. */
        if (r < 0) {
                log_warning("Store %s: unknown reachability \"%s\", treating it as unknown.", s->path, v ?: "");
                return REACHABLE_UNKNOWN;
        }
        return r;
}

Reason store_column_reason(Store *s, sqlite3_stmt *st, int i) {
        const char *v = (const char *) sqlite3_column_text(st, i);
        int r = reason_from_string(v);

        /* Only a newer service writes names this one does not know; the description still says it. */
        if (r < 0) {
                log_warning("Store %s: unknown failure reason \"%s\", reporting none.", s->path, v ?: "");
                return REASON_NONE;
        }
        return r;
}

/*
 * secure_delete zeroes a deleted row where it lies, but in WAL mode the
 * pages that held it stay in the write-ahead log until a checkpoint, and a
 * plain checkpoint leaves the log's bytes in place for reuse. A TRUNCATE
 * checkpoint copies the zeroed pages into the database and cuts the log to
 * nothing, so no copy of a deleted secret is left in any file. It runs after
 * the commit, before the caller hears of it. Failing it does not undo the
 * commit; it is logged, and the next one catches up.
 */
void store_erase_wal(Store *s) {
        int log_frames = -1, checkpointed = -1;

        s->secret_deleted = false;
        if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &checkpointed) != SQLITE_OK) {
                log_warning("Store %s: could not empty the write-ahead log after deleting a secret: %s", s->path,
                            sqlite3_errmsg(s->db));
                return;
        }
        (void) store_reserve_wal(s);
}

int store_read_setting(Store *s, const char *query, char *buf, size_t size) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, query, &st);
        if (r < 0)
                return r;
        r = store_step_row(s, st, "read a setting");
        if (r < 0)
                return r;
        snprintf(buf, size, "%s", r > 0 ? (const char *) sqlite3_column_text(st, 0) ?: "" : "");
        return 0;
}

static int store_read_int(Store *s, const char *query, int64_t *ret) {
        char buf[32];
        int r = store_read_setting(s, query, buf, sizeof(buf));

        if (r < 0)
                return r;
        *ret = strtoll(buf, NULL, 10);
        return 0;
}

/*
 * A commit that appends to the write-ahead log makes its fdatasync also
 * write the file's new size and blocks to the file system's journal; one
 * that overwrites bytes already on disk syncs just its frames, in about half
 * the time. SQLite appends until the log first holds wal_autocheckpoint
 * pages and from then on writes it again from the start, so the log is given
 * that size at once, in zeros that are written (not a hole, which would be
 * allocated at the first commit's sync). Zeros after the last frame are what
 * SQLite's recovery already meets in a reused log: it stops at the first
 * frame whose salt does not match, and a log whose header is zero is empty.
 */
static int reserve_wal(Store *s, int64_t want) {
        static const char zeros[64 * 1024];
        sqlite3_file *f = NULL;
        sqlite3_int64 size = 0;

        if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK || !f || !f->pMethods)
                return -ENXIO;  /* no write-ahead log open */
        if (f->pMethods->xFileSize(f, &size) != SQLITE_OK)
                return store_error(s, "read the write-ahead log's size");
        if (size >= want)
                return 0;
        for (int64_t at = size; at < want; at += (int64_t) sizeof(zeros))
                if (f->pMethods->xWrite(f, zeros, (int) MIN((int64_t) sizeof(zeros), want - at), at) != SQLITE_OK)
                        return store_error(s, "reserve room in the write-ahead log");
        if (f->pMethods->xSync(f, SQLITE_SYNC_NORMAL) != SQLITE_OK)
                return store_error(s, "sync the write-ahead log's reserved room");
        return 0;
}

int store_reserve_wal(Store *s) {
        int64_t page_size, pages;
        int r;

        r = store_read_int(s, "PRAGMA page_size", &page_size);
        if (r >= 0)
                r = store_read_int(s, "PRAGMA wal_autocheckpoint", &pages);
        if (r < 0)
                return r;
        /* Under the write lock, so that no other connection appends while the zeros go in. */
        r = store_begin(s);
        if (r < 0)
                return r;
        r = reserve_wal(s, WAL_HEADER_SIZE + MAX(pages, 0) * (WAL_FRAME_HEADER_SIZE + page_size));
        store_rollback(s);
        return r;
}

/**
 * store_begin() - start a write transaction
 * @s: the store
 *
 * Takes the write lock at once (BEGIN IMMEDIATE), so a transaction that has
 * begun cannot fail later for want of the lock.
 *
 * Return: 0; -EBUSY when a transaction is open already (a bug in the
 * caller); -EIO.
 */
int store_begin(Store *s) {
        if (!sqlite3_get_autocommit(s->db)) {
                log_error("Store %s: a transaction is open already.", s->path);
                return -EBUSY;
        }
        return store_exec_cached(s, "BEGIN IMMEDIATE");
}

/**
 * store_commit() - commit the open transaction
 * @s: the store
 *
 * Durable on return: with synchronous=FULL the WAL has been synced.
 * On failure the transaction has been rolled back, so nothing of it stays
 * and a following store_rollback() is harmless.
 *
 * Return: 0 or -EIO.
 */
int store_commit(Store *s) {
        int r;

        r = store_exec_cached(s, "COMMIT");
        if (r < 0) {
                store_rollback(s);
                return r;
        }
        if (s->secret_deleted)
                store_erase_wal(s);
        return 0;
}

/**
 * store_rollback() - abandon the open transaction, if any
 * @s: the store
 *
 * SQLite itself rolls back on some errors, so there may be nothing left to
 * abandon; that is not an error.
 */
bool store_in_transaction(Store *s) {
        return !sqlite3_get_autocommit(s->db);
}

int store_savepoint(Store *s) {
        if (!store_in_transaction(s))
                return -EBUSY;
        return store_exec_cached(s, "SAVEPOINT change");
}

int store_release_savepoint(Store *s) {
        if (!store_in_transaction(s))
                return -EBUSY;
        return store_exec_cached(s, "RELEASE change");
}

/* ROLLBACK TO keeps the savepoint open; RELEASE closes it, with nothing left in it. */
int store_rollback_to_savepoint(Store *s) {
        int r;

        if (!store_in_transaction(s))
                return -EBUSY;
        r = store_exec_cached(s, "ROLLBACK TO change");
        if (r >= 0)
                r = store_exec_cached(s, "RELEASE change");
        return r;
}

void store_rollback(Store *s) {
        s->secret_deleted = false;
        if (sqlite3_get_autocommit(s->db))
                return;
        (void) store_exec(s, "ROLLBACK");
}
