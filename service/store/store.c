/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The durable copy of the model in one SQLite database. This file owns the
 * schema and its migrations, the file's permissions, the connection settings
 * that make a commit durable, and the mapping between rows and model
 * objects. Nothing outside it sees SQLite: failures are logged here with
 * SQLite's own text and reported as -EIO.
 *
 * Referential integrity between systems, access points, secrets and
 * collections is the model's business; the database only enforces what
 * protects its own shape (member rows belong to a collection row, enum
 * columns hold known values), so the order in which one transaction saves
 * and deletes rows never matters.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "store-fault.h"
#include "util/fileutil.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/strutil.h"

struct Store {
        sqlite3 *db;
        char *path;
        StoreFaultPlan fault;           /* tests only; see store_fault_arm() */
        bool secret_deleted;            /* the open transaction deletes a secret: checkpoint after COMMIT */
};

/* How long a write waits for a lock held by another process, e.g. an admin's sqlite3 shell. */
#define STORE_BUSY_TIMEOUT_MSEC 1000

static inline void stmt_finalizep(sqlite3_stmt **st) {
        if (*st)
                sqlite3_finalize(*st);
}
#define _cleanup_stmt_ _cleanup_(stmt_finalizep)

/*
 * Schema version 1. Strings are NOT NULL with "" for "not set", as in the
 * model. Unsigned 64-bit values are stored bit for bit in SQLite's signed
 * INTEGER; the CHECKs on narrower fields guard the casts made at load.
 */
static const char schema_v1[] =
        "CREATE TABLE meta ("
        "        singleton INTEGER PRIMARY KEY NOT NULL CHECK (singleton = 0),"
        "        next_id INTEGER NOT NULL"
        ");"
        "INSERT INTO meta (singleton, next_id) VALUES (0, 1);"
        ""
        "CREATE TABLE systems ("
        "        id INTEGER PRIMARY KEY NOT NULL CHECK (id <> 0),"
        "        name TEXT NOT NULL,"
        "        element_name TEXT NOT NULL,"
        "        reachable TEXT NOT NULL CHECK (reachable IN ('unknown', 'yes', 'no')),"
        "        last_verified INTEGER NOT NULL"
        ");"
        ""
        "CREATE TABLE access_points ("
        "        id INTEGER PRIMARY KEY NOT NULL,"
        "        system_id INTEGER NOT NULL,"
        "        element_name TEXT NOT NULL,"
        "        address TEXT NOT NULL,"
        "        port INTEGER NOT NULL CHECK (port BETWEEN 0 AND 65535),"
        "        target_name TEXT NOT NULL,"
        "        portal_group_tag INTEGER NOT NULL CHECK (portal_group_tag BETWEEN 0 AND 65535),"
        "        secret_id INTEGER NOT NULL,"
        "        reachable TEXT NOT NULL CHECK (reachable IN ('unknown', 'yes', 'no')),"
        "        last_verified INTEGER NOT NULL,"
        "        last_error TEXT NOT NULL"
        ");"
        ""
        "CREATE TABLE secrets ("
        "        id INTEGER PRIMARY KEY NOT NULL,"
        "        access_point_id INTEGER NOT NULL,"
        "        username TEXT NOT NULL,"
        "        secret TEXT NOT NULL,"
        "        mutual_username TEXT NOT NULL,"
        "        mutual_secret TEXT NOT NULL"
        ");"
        ""
        "CREATE TABLE collections ("
        "        id INTEGER PRIMARY KEY NOT NULL,"
        "        element_name TEXT NOT NULL,"
        "        active INTEGER NOT NULL CHECK (active IN (0, 1)),"
        "        delete_on_unassociated INTEGER NOT NULL CHECK (delete_on_unassociated IN (0, 1))"
        ");"
        ""
        "CREATE TABLE collection_members ("
        "        collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,"
        "        kind TEXT NOT NULL CHECK (kind IN ('local', 'remote', 'system')),"
        "        member_id INTEGER NOT NULL,"
        "        PRIMARY KEY (collection_id, kind, member_id)"
        ") WITHOUT ROWID;"
        ""
        "CREATE TABLE jobs ("
        "        id INTEGER PRIMARY KEY NOT NULL,"
        "        name TEXT NOT NULL,"
        "        state INTEGER NOT NULL CHECK (state IN (2, 4, 5, 7, 8, 9, 10)),"
        "        status TEXT NOT NULL,"
        "        percent_complete INTEGER NOT NULL CHECK (percent_complete BETWEEN 0 AND 4294967295),"
        "        expected_end_time INTEGER NOT NULL,"
        "        time_submitted INTEGER NOT NULL,"
        "        start_time INTEGER NOT NULL,"
        "        time_of_last_state_change INTEGER NOT NULL,"
        "        delete_on_completion INTEGER NOT NULL CHECK (delete_on_completion IN (0, 1)),"
        "        time_before_removal INTEGER NOT NULL,"
        "        error_code INTEGER NOT NULL CHECK (error_code BETWEEN 0 AND 65535),"
        "        error_description TEXT NOT NULL,"
        "        error_source TEXT NOT NULL,"
        "        error_type INTEGER NOT NULL CHECK (error_type BETWEEN 0 AND 65535),"
        "        started_by_uid INTEGER NOT NULL CHECK (started_by_uid BETWEEN 0 AND 4294967295),"
        "        owner TEXT NOT NULL,"
        "        affected_elements TEXT NOT NULL,"
        "        collection_id INTEGER NOT NULL"
        ");";

/*
 * Version 2: the stable failure reasons (API.md sections 6 and 7), a job's
 * MessageID and an access point's LastErrorID. Jobs of version 1 keep what
 * can be told from their state and description; other reasons of old
 * failures were never recorded and stay "".
 */
static const char schema_v2[] =
        "ALTER TABLE jobs ADD COLUMN message_id TEXT NOT NULL DEFAULT '';"
        "ALTER TABLE access_points ADD COLUMN last_error_id TEXT NOT NULL DEFAULT '';"
        "UPDATE jobs SET message_id = CASE"
        "        WHEN state = 8 THEN 'Terminated'"
        "        WHEN state = 9 THEN 'Killed'"
        "        WHEN state = 10 AND error_description LIKE 'Interrupted:%' THEN 'Interrupted'"
        "        WHEN state = 10 AND error_code = 3 THEN 'Timeout'"
        "        ELSE '' END;";

/*
 * migrations[n] turns a version-n database into a version-n+1 one. Steps are
 * only ever appended: a released step is never edited, since databases in
 * the field have already run it.
 */
static const char * const migrations[] = {
        [0] = schema_v1,
        [1] = schema_v2,
};

_Static_assert(ELEMENTSOF(migrations) == STORE_SCHEMA_VERSION,
               "every schema version needs the step that leads to it");

_printf_(2, 3)
static int store_error(Store *s, const char *format, ...) {
        char what[256];
        va_list ap;

        va_start(ap, format);
        vsnprintf(what, sizeof(what), format, ap);
        va_end(ap);

        log_error("Store %s: failed to %s: %s", s->path, what, sqlite3_errmsg(s->db));
        return -EIO;
}

static int store_exec(Store *s, const char *sql) {
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
                return store_error(s, "execute \"%s\"", sql);
        return 0;
}

static int store_prepare(Store *s, const char *sql, sqlite3_stmt **ret) {
        sqlite3_stmt *st = NULL;

        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
                sqlite3_finalize(st);
                return store_error(s, "prepare \"%s\"", sql);
        }
        *ret = st;
        return 0;
}

/* Runs a statement that returns no rows. */
static int store_step_done(Store *s, sqlite3_stmt *st, const char *what) {
        if (store_fault_plan_hit(&s->fault, STORE_FAULT_WRITE)) {
                log_error("Store %s: failed to %s: injected fault", s->path, what);
                return -EIO;
        }
        if (sqlite3_step(st) != SQLITE_DONE)
                return store_error(s, "%s", what);
        return 0;
}

/* Returns 1 with a row, 0 when done. */
static int store_step_row(Store *s, sqlite3_stmt *st, const char *what) {
        switch (sqlite3_step(st)) {
        case SQLITE_ROW:
                return 1;
        case SQLITE_DONE:
                return 0;
        default:
                return store_error(s, "%s", what);
        }
}

static int bind_u64(sqlite3_stmt *st, int i, uint64_t v) {
        return sqlite3_bind_int64(st, i, (sqlite3_int64) v);
}

/* The strings stay alive until the statement is stepped, so SQLite need not copy them. */
static int bind_text(sqlite3_stmt *st, int i, const char *v) {
        return sqlite3_bind_text(st, i, v ?: "", -1, SQLITE_STATIC);
}

static uint64_t column_u64(sqlite3_stmt *st, int i) {
        return (uint64_t) sqlite3_column_int64(st, i);
}

static int column_strdup(sqlite3_stmt *st, int i, char **p) {
        const char *v = (const char *) sqlite3_column_text(st, i);

        if (!v && sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM)
                return -ENOMEM;
        return free_and_strdup(p, v);
}

static Reachability column_reachability(Store *s, sqlite3_stmt *st, int i) {
        const char *v = (const char *) sqlite3_column_text(st, i);
        int r = reachability_from_string(v);

        /* A probe verdict is a cache: an unreadable one is simply not known. */
        if (r < 0) {
                log_warning("Store %s: unknown reachability \"%s\", treating it as unknown.", s->path, v ?: "");
                return REACHABLE_UNKNOWN;
        }
        return r;
}

static Reason column_reason(Store *s, sqlite3_stmt *st, int i) {
        const char *v = (const char *) sqlite3_column_text(st, i);
        int r = reason_from_string(v);

        /* Only a newer service writes names this one does not know; the description still says it. */
        if (r < 0) {
                log_warning("Store %s: unknown failure reason \"%s\", reporting none.", s->path, v ?: "");
                return REASON_NONE;
        }
        return r;
}

static int read_user_version(Store *s, int *ret) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "PRAGMA user_version", &st);
        if (r < 0)
                return r;
        r = store_step_row(s, st, "read the schema version");
        if (r < 0)
                return r;
        if (r == 0) {
                log_error("Store %s: the schema version could not be read.", s->path);
                return -EIO;
        }
        *ret = sqlite3_column_int(st, 0);
        return 0;
}

static int store_refuse_version(Store *s, int version) {
        log_error("Store %s has schema version %d, but this version of the service only knows up to %d; "
                  "refusing to open it. Upgrade the service or restore a backup.",
                  s->path, version, STORE_SCHEMA_VERSION);
        return -EPROTONOSUPPORT;
}

/* Sets one connection setting and checks that SQLite actually applied it. */
static int store_set_pragma(Store *s, const char *sql, const char *query, const char *expected) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        const char *v;
        int r;

        r = store_exec(s, sql);
        if (r < 0)
                return r;
        r = store_prepare(s, query, &st);
        if (r < 0)
                return r;
        r = store_step_row(s, st, "read back a setting");
        if (r < 0)
                return r;
        v = r > 0 ? (const char *) sqlite3_column_text(st, 0) : NULL;
        if (!streq_ptr(v, expected)) {
                log_error("Store %s: \"%s\" did not take effect (got \"%s\", wanted \"%s\").",
                          s->path, sql, v ?: "", expected);
                return -EIO;
        }
        return 0;
}

static int store_configure(Store *s) {
        int r;

        if (sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MSEC) != SQLITE_OK)
                return store_error(s, "set the busy timeout");

        /* WAL keeps readers off the writer's back, and with synchronous=FULL a
         * commit has reached the disk by the time COMMIT returns. */
        r = store_set_pragma(s, "PRAGMA journal_mode = WAL", "PRAGMA journal_mode", "wal");
        if (r < 0)
                return r;
        r = store_set_pragma(s, "PRAGMA synchronous = FULL", "PRAGMA synchronous", "2");
        if (r < 0)
                return r;
        r = store_set_pragma(s, "PRAGMA foreign_keys = ON", "PRAGMA foreign_keys", "1");
        if (r < 0)
                return r;

        /* Replaced and deleted secrets must not linger in free pages of the file. */
        return store_set_pragma(s, "PRAGMA secure_delete = ON", "PRAGMA secure_delete", "1");
}

static int store_migrate(Store *s) {
        for (;;) {
                char sql[64];
                int version, r;

                r = store_begin(s);
                if (r < 0)
                        return r;

                /* Read again under the write lock: another opener may have migrated meanwhile. */
                r = read_user_version(s, &version);
                if (r < 0) {
                        store_rollback(s);
                        return r;
                }
                if (version == STORE_SCHEMA_VERSION) {
                        store_rollback(s);
                        return 0;
                }
                if (version < 0 || version > STORE_SCHEMA_VERSION) {
                        store_rollback(s);
                        return store_refuse_version(s, version);
                }

                r = store_exec(s, migrations[version]);
                if (r < 0) {
                        store_rollback(s);
                        return log_error_errno(r, "Store %s: migration from schema version %d failed",
                                               s->path, version);
                }

                /* PRAGMA takes no bound parameters; the number is ours, not data. */
                snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
                r = store_exec(s, sql);
                if (r < 0) {
                        store_rollback(s);
                        return r;
                }

                r = store_commit(s);
                if (r < 0)
                        return r;

                if (version == 0)
                        log_info("Store %s: created schema version 1.", s->path);
                else
                        log_info("Store %s: migrated from schema version %d to %d.", s->path, version, version + 1);
        }
}

/*
 * SQLite would create the file with 0644 less the umask, and gives the WAL
 * and shared-memory files the same mode as the database. So the file is
 * created here first, and an existing one that others can read is tightened.
 */
static int create_database_file(const char *path) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((st.st_mode & 07777) != 0600) {
                if (fchmod(fd, 0600) < 0)
                        return -errno;
                log_warning("Store %s had mode %04o; changed it to 0600 because it holds secrets.",
                            path, (unsigned) (st.st_mode & 07777));
        }
        return 0;
}

/**
 * store_open() - open the database in a directory, creating and migrating it
 * @directory: the state directory; created with mode 0700 (with its missing
 *             parents) when it does not exist
 * @ret:       the new store, written only on success
 *
 * Opens or creates STORE_DATABASE_NAME with mode 0600, switches the
 * connection to WAL with synchronous=FULL, and applies every migration step
 * the file lacks, each step in one transaction.
 *
 * Return: 0; -EPROTONOSUPPORT when the file has a newer schema than this
 * build knows; -EIO for SQLite failures (logged); other negative errno from
 * creating the directory or the file.
 */
int store_open(const char *directory, Store **ret) {
        _cleanup_(store_closep) Store *s = NULL;
        int version, r;

        if (isempty(directory) || !ret)
                return -EINVAL;

        r = mkdir_parents(directory, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create state directory %s", directory);

        s = calloc(1, sizeof(Store));
        if (!s)
                return -ENOMEM;
        if (asprintf(&s->path, "%s/%s", directory, STORE_DATABASE_NAME) < 0) {
                s->path = NULL;
                return -ENOMEM;
        }

        r = create_database_file(s->path);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s", s->path);

        /* The file exists now, so no SQLITE_OPEN_CREATE: a missing file is an error. */
        if (sqlite3_open_v2(s->path, &s->db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
                            NULL) != SQLITE_OK) {
                if (!s->db)
                        return -ENOMEM;
                return store_error(s, "open the database");
        }

        /* Refuse a newer file before anything here writes to it. */
        r = read_user_version(s, &version);
        if (r < 0)
                return r;
        if (version < 0 || version > STORE_SCHEMA_VERSION)
                return store_refuse_version(s, version);

        r = store_configure(s);
        if (r < 0)
                return r;

        r = store_migrate(s);
        if (r < 0)
                return r;

        log_debug("Store %s open, schema version %d.", s->path, STORE_SCHEMA_VERSION);
        *ret = TAKE_PTR(s);
        return 0;
}

/**
 * store_close() - close the database
 * @s: the store, or NULL
 *
 * A transaction still open is rolled back.
 *
 * Return: NULL.
 */
Store *store_close(Store *s) {
        if (!s)
                return NULL;

        store_fault_plan_disarm(&s->fault, s->db);
        if (s->db && sqlite3_close(s->db) != SQLITE_OK)
                log_error("Store %s: failed to close: %s", s->path, sqlite3_errmsg(s->db));
        free(s->path);
        free(s);
        return NULL;
}

/**
 * store_fault_arm() - make the store fail once, for tests
 * @s:    the store
 * @kind: what fails: a row write, a commit or a sync of the log
 * @nth:  which occurrence of it, counting from now, 1 for the next
 *
 * Replaces a fault armed before; STORE_FAULT_NONE just disarms.
 *
 * Return: 0; -EINVAL for nth 0 or an unknown kind; -EBUSY when another
 * store of this process has a sync fault armed; -ENXIO when no write-ahead
 * log is open to fail.
 */
int store_fault_arm(Store *s, StoreFault kind, unsigned nth) {
        return store_fault_plan_arm(&s->fault, s->db, kind, nth);
}

/**
 * store_get_schema_version() - the schema version of the open database
 * @s:   the store
 * @ret: the version, written only on success
 *
 * Return: 0 or -EIO.
 */
int store_get_schema_version(Store *s, int *ret) {
        int version, r;

        r = read_user_version(s, &version);
        if (r < 0)
                return r;
        *ret = version;
        return 0;
}

static int read_setting(Store *s, const char *query, char *buf, size_t size) {
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

/**
 * store_get_settings() - the connection's effective settings
 * @s:   the store
 * @ret: the settings, written only on success
 *
 * For diagnostics and tests: what SQLite reports, not what was asked for.
 *
 * Return: 0 or -EIO.
 */
int store_get_settings(Store *s, StoreSettings *ret) {
        StoreSettings settings = {};
        char buf[16];
        int r;

        r = read_setting(s, "PRAGMA journal_mode", settings.journal_mode, sizeof(settings.journal_mode));
        if (r < 0)
                return r;
        r = read_setting(s, "PRAGMA synchronous", buf, sizeof(buf));
        if (r < 0)
                return r;
        settings.synchronous = atoi(buf);
        r = read_setting(s, "PRAGMA foreign_keys", buf, sizeof(buf));
        if (r < 0)
                return r;
        settings.foreign_keys = atoi(buf) != 0;
        r = read_setting(s, "PRAGMA secure_delete", buf, sizeof(buf));
        if (r < 0)
                return r;
        settings.secure_delete = atoi(buf) != 0;

        *ret = settings;
        return 0;
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
/*
 * secure_delete zeroes a deleted row where it lies, but in WAL mode the
 * pages that held it stay in the write-ahead log until a checkpoint, and a
 * plain checkpoint leaves the log's bytes in place for reuse. A TRUNCATE
 * checkpoint copies the zeroed pages into the database and cuts the log to
 * nothing, so no copy of a deleted secret is left in any file. It runs after
 * the commit, before the caller hears of it. Failing it does not undo the
 * commit; it is logged, and the next one catches up.
 */
static void store_erase_wal(Store *s) {
        int log_frames = -1, checkpointed = -1;

        s->secret_deleted = false;
        if (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &checkpointed) != SQLITE_OK)
                log_warning("Store %s: could not empty the write-ahead log after deleting a secret: %s", s->path,
                            sqlite3_errmsg(s->db));
}

int store_begin(Store *s) {
        if (!sqlite3_get_autocommit(s->db)) {
                log_error("Store %s: a transaction is open already.", s->path);
                return -EBUSY;
        }
        return store_exec(s, "BEGIN IMMEDIATE");
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

        r = store_exec(s, "COMMIT");
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
void store_rollback(Store *s) {
        s->secret_deleted = false;
        if (sqlite3_get_autocommit(s->db))
                return;
        (void) store_exec(s, "ROLLBACK");
}

/**
 * store_save_next_id() - remember the next id to hand out
 * @s:       the store
 * @next_id: the model's next id
 *
 * The stored value never decreases, so that no id is handed out twice even
 * if a caller saves a stale value.
 *
 * Return: 0; -ERANGE above INT64_MAX; -EIO.
 */
int store_save_next_id(Store *s, uint64_t next_id) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        /* Beyond that, SQLite's signed MAX() would compare wrongly. */
        if (next_id > INT64_MAX)
                return -ERANGE;

        r = store_prepare(s, "UPDATE meta SET next_id = MAX(next_id, ?1) WHERE singleton = 0", &st);
        if (r < 0)
                return r;
        if (bind_u64(st, 1, next_id) != SQLITE_OK)
                return store_error(s, "bind the next id");
        return store_step_done(s, st, "save the next id");
}

/**
 * store_save_system() - insert or replace a peer system
 * @s: the store
 * @x: the system
 *
 * The local system (LOCAL_SYSTEM_ID) is never stored, since it is derived
 * from the host at every start: saving it stores nothing and succeeds, so
 * callers may save every system they touched without singling it out.
 *
 * Return: 0 or -EIO.
 */
int store_save_system(Store *s, const System *x) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        if (x->id == LOCAL_SYSTEM_ID)
                return 0;

        r = store_prepare(s,
                          "INSERT OR REPLACE INTO systems (id, name, element_name, reachable, last_verified) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
                          &st);
        if (r < 0)
                return r;
        if (bind_u64(st, 1, x->id) != SQLITE_OK ||
            bind_text(st, 2, x->name) != SQLITE_OK ||
            bind_text(st, 3, x->element_name) != SQLITE_OK ||
            bind_text(st, 4, reachability_to_string(x->reachable)) != SQLITE_OK ||
            bind_u64(st, 5, x->last_verified) != SQLITE_OK)
                return store_error(s, "bind system %" PRIu64, x->id);
        return store_step_done(s, st, "save a system");
}

/**
 * store_save_access_point() - insert or replace an access point
 * @s: the store
 * @x: the access point
 *
 * Return: 0 or -EIO.
 */
int store_save_access_point(Store *s, const AccessPoint *x) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "INSERT OR REPLACE INTO access_points (id, system_id, element_name, address, port, "
                          "target_name, portal_group_tag, secret_id, reachable, last_verified, last_error, "
                          "last_error_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                          &st);
        if (r < 0)
                return r;
        if (bind_u64(st, 1, x->id) != SQLITE_OK ||
            bind_u64(st, 2, x->system_id) != SQLITE_OK ||
            bind_text(st, 3, x->element_name) != SQLITE_OK ||
            bind_text(st, 4, x->address) != SQLITE_OK ||
            sqlite3_bind_int(st, 5, x->port) != SQLITE_OK ||
            bind_text(st, 6, x->target_name) != SQLITE_OK ||
            sqlite3_bind_int(st, 7, x->portal_group_tag) != SQLITE_OK ||
            bind_u64(st, 8, x->secret_id) != SQLITE_OK ||
            bind_text(st, 9, reachability_to_string(x->reachable)) != SQLITE_OK ||
            bind_u64(st, 10, x->last_verified) != SQLITE_OK ||
            bind_text(st, 11, x->last_error) != SQLITE_OK ||
            bind_text(st, 12, reason_to_string(x->last_error_reason)) != SQLITE_OK)
                return store_error(s, "bind access point %" PRIu64, x->id);
        return store_step_done(s, st, "save an access point");
}

/**
 * store_save_secret() - insert or replace a shared secret
 * @s: the store
 * @x: the secret
 *
 * The file is 0600 and deleted rows are overwritten (secure_delete), but the
 * secret itself is stored as it is: CHAP needs it in the clear.
 *
 * Return: 0 or -EIO.
 */
int store_save_secret(Store *s, const SharedSecret *x) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "INSERT OR REPLACE INTO secrets (id, access_point_id, username, secret, "
                          "mutual_username, mutual_secret) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          &st);
        if (r < 0)
                return r;
        if (bind_u64(st, 1, x->id) != SQLITE_OK ||
            bind_u64(st, 2, x->access_point_id) != SQLITE_OK ||
            bind_text(st, 3, x->username) != SQLITE_OK ||
            bind_text(st, 4, x->secret) != SQLITE_OK ||
            bind_text(st, 5, x->mutual_username) != SQLITE_OK ||
            bind_text(st, 6, x->mutual_secret) != SQLITE_OK)
                return store_error(s, "bind secret %" PRIu64, x->id);
        return store_step_done(s, st, "save a secret");
}

static int save_members(Store *s, sqlite3_stmt *st, uint64_t collection_id, const char *kind, const IdSet *ids) {
        for (size_t i = 0; i < ids->n; i++) {
                int r;

                sqlite3_reset(st);
                if (bind_u64(st, 1, collection_id) != SQLITE_OK ||
                    bind_text(st, 2, kind) != SQLITE_OK ||
                    bind_u64(st, 3, ids->ids[i]) != SQLITE_OK)
                        return store_error(s, "bind a member of collection %" PRIu64, collection_id);
                r = store_step_done(s, st, "save a collection member");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int save_collection_rows(Store *s, const Collection *x) {
        _cleanup_stmt_ sqlite3_stmt *row = NULL, *clear = NULL, *member = NULL;
        int r;

        r = store_prepare(s,
                          "INSERT OR REPLACE INTO collections (id, element_name, active, delete_on_unassociated) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          &row);
        if (r < 0)
                return r;
        if (bind_u64(row, 1, x->id) != SQLITE_OK ||
            bind_text(row, 2, x->element_name) != SQLITE_OK ||
            sqlite3_bind_int(row, 3, x->active) != SQLITE_OK ||
            sqlite3_bind_int(row, 4, x->delete_on_unassociated) != SQLITE_OK)
                return store_error(s, "bind collection %" PRIu64, x->id);
        r = store_step_done(s, row, "save a collection");
        if (r < 0)
                return r;

        r = store_prepare(s, "DELETE FROM collection_members WHERE collection_id = ?1", &clear);
        if (r < 0)
                return r;
        if (bind_u64(clear, 1, x->id) != SQLITE_OK)
                return store_error(s, "bind collection %" PRIu64, x->id);
        r = store_step_done(s, clear, "clear the members of a collection");
        if (r < 0)
                return r;

        r = store_prepare(s, "INSERT INTO collection_members (collection_id, kind, member_id) VALUES (?1, ?2, ?3)",
                          &member);
        if (r < 0)
                return r;
        r = save_members(s, member, x->id, "local", &x->local_access_points);
        if (r < 0)
                return r;
        r = save_members(s, member, x->id, "remote", &x->remote_access_points);
        if (r < 0)
                return r;
        return save_members(s, member, x->id, "system", &x->remote_systems);
}

/**
 * store_save_collection() - insert or replace a collection and its members
 * @s: the store
 * @x: the collection
 *
 * The member rows are rewritten from the collection's three id sets. The
 * collection's job is not stored: no job survives a restart running.
 * The rows are written all or not at all, also outside a transaction.
 *
 * Return: 0 or -EIO.
 */
int store_save_collection(Store *s, const Collection *x) {
        int r;

        r = store_exec(s, "SAVEPOINT save_collection");
        if (r < 0)
                return r;

        r = save_collection_rows(s, x);
        if (r < 0) {
                (void) store_exec(s, "ROLLBACK TO save_collection");
                (void) store_exec(s, "RELEASE save_collection");
                return r;
        }

        return store_exec(s, "RELEASE save_collection");
}

/**
 * store_save_job() - insert or replace a job
 * @s: the store
 * @x: the job
 *
 * Every field but the daemon's runtime state. The affected elements are
 * object paths, stored joined by newlines; a path that is empty or holds a
 * newline could not be read back as it was, and is refused.
 *
 * Return: 0; -EINVAL for such a path; -ENOMEM; -EIO.
 */
int store_save_job(Store *s, const Job *x) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *affected = NULL;
        int r;

        for (char * const *p = x->affected_elements; p && *p; p++)
                if (isempty(*p) || strchr(*p, '\n')) {
                        log_error("Store %s: job %" PRIu64 " has an affected element that is not an object path.",
                                  s->path, x->id);
                        return -EINVAL;
                }

        affected = strv_join(x->affected_elements, "\n");
        if (!affected)
                return -ENOMEM;

        r = store_prepare(s,
                          "INSERT OR REPLACE INTO jobs (id, name, state, status, percent_complete, "
                          "expected_end_time, time_submitted, start_time, time_of_last_state_change, "
                          "delete_on_completion, time_before_removal, error_code, error_description, "
                          "error_source, error_type, started_by_uid, owner, affected_elements, collection_id, "
                          "message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                          "?16, ?17, ?18, ?19, ?20)",
                          &st);
        if (r < 0)
                return r;
        if (bind_u64(st, 1, x->id) != SQLITE_OK ||
            bind_text(st, 2, x->name) != SQLITE_OK ||
            sqlite3_bind_int(st, 3, x->state) != SQLITE_OK ||
            bind_text(st, 4, x->status) != SQLITE_OK ||
            sqlite3_bind_int64(st, 5, x->percent_complete) != SQLITE_OK ||
            bind_u64(st, 6, x->expected_end_time) != SQLITE_OK ||
            bind_u64(st, 7, x->time_submitted) != SQLITE_OK ||
            bind_u64(st, 8, x->start_time) != SQLITE_OK ||
            bind_u64(st, 9, x->time_of_last_state_change) != SQLITE_OK ||
            sqlite3_bind_int(st, 10, x->delete_on_completion) != SQLITE_OK ||
            bind_u64(st, 11, x->time_before_removal) != SQLITE_OK ||
            sqlite3_bind_int(st, 12, x->error_code) != SQLITE_OK ||
            bind_text(st, 13, x->error_description) != SQLITE_OK ||
            bind_text(st, 14, x->error_source) != SQLITE_OK ||
            sqlite3_bind_int(st, 15, x->error_type) != SQLITE_OK ||
            sqlite3_bind_int64(st, 16, x->started_by_uid) != SQLITE_OK ||
            bind_text(st, 17, x->owner) != SQLITE_OK ||
            bind_text(st, 18, affected) != SQLITE_OK ||
            bind_u64(st, 19, x->collection_id) != SQLITE_OK ||
            bind_text(st, 20, reason_to_string(x->error_reason)) != SQLITE_OK)
                return store_error(s, "bind job %" PRIu64, x->id);
        return store_step_done(s, st, "save a job");
}

static int delete_row(Store *s, const char *sql, uint64_t id) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, sql, &st);
        if (r < 0)
                return r;
        if (bind_u64(st, 1, id) != SQLITE_OK)
                return store_error(s, "bind id %" PRIu64, id);
        return store_step_done(s, st, sql);
}

/*
 * Each delete touches its own row only (and a collection's member rows):
 * what else goes with an object is the model's decision, saved explicitly.
 * Deleting a row that is not there is not an error.
 */

/**
 * store_delete_system() - delete a peer system's row
 * @s:  the store
 * @id: the system's id
 *
 * Return: 0; -EINVAL for the local system, which is never stored and never
 * deleted; -EIO.
 */
int store_delete_system(Store *s, uint64_t id) {
        if (id == LOCAL_SYSTEM_ID)
                return -EINVAL;
        return delete_row(s, "DELETE FROM systems WHERE id = ?1", id);
}

/**
 * store_delete_access_point() - delete an access point's row
 * @s:  the store
 * @id: the access point's id
 *
 * Return: 0 or -EIO.
 */
int store_delete_access_point(Store *s, uint64_t id) {
        return delete_row(s, "DELETE FROM access_points WHERE id = ?1", id);
}

/**
 * store_delete_secret() - delete a shared secret's row
 * @s:  the store
 * @id: the secret's id
 *
 * No file of the store keeps the secret's bytes once the deletion has
 * committed: the row is zeroed (secure_delete) and the write-ahead log is
 * emptied by a TRUNCATE checkpoint right after the COMMIT.
 *
 * Return: 0 or -EIO.
 */
int store_delete_secret(Store *s, uint64_t id) {
        int r;

        r = delete_row(s, "DELETE FROM secrets WHERE id = ?1", id);
        if (r < 0)
                return r;
        s->secret_deleted = true;
        /* Outside a transaction the delete has committed already. */
        if (sqlite3_get_autocommit(s->db))
                store_erase_wal(s);
        return 0;
}

/**
 * store_delete_collection() - delete a collection and its member rows
 * @s:  the store
 * @id: the collection's id
 *
 * The member rows go with it (ON DELETE CASCADE).
 *
 * Return: 0 or -EIO.
 */
int store_delete_collection(Store *s, uint64_t id) {
        return delete_row(s, "DELETE FROM collections WHERE id = ?1", id);
}

/**
 * store_delete_job() - delete a job's row
 * @s:  the store
 * @id: the job's id
 *
 * Return: 0 or -EIO.
 */
int store_delete_job(Store *s, uint64_t id) {
        return delete_row(s, "DELETE FROM jobs WHERE id = ?1", id);
}

static int load_next_id(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT next_id FROM meta WHERE singleton = 0", &st);
        if (r < 0)
                return r;
        r = store_step_row(s, st, "read the next id");
        if (r < 0)
                return r;
        if (r == 0) {
                log_error("Store %s: the next id is missing.", s->path);
                return -EIO;
        }
        m->next_id = MAX(m->next_id, column_u64(st, 0));
        return 0;
}

static int load_systems(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT id, name, element_name, reachable, last_verified FROM systems ORDER BY id", &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(system_freep) System *x = NULL;

                r = store_step_row(s, st, "read systems");
                if (r <= 0)
                        return r;

                x = system_new();
                if (!x)
                        return -ENOMEM;
                x->id = column_u64(st, 0);
                if (column_strdup(st, 1, &x->name) < 0 ||
                    column_strdup(st, 2, &x->element_name) < 0)
                        return -ENOMEM;
                x->reachable = column_reachability(s, st, 3);
                x->last_verified = column_u64(st, 4);

                r = model_add_system(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load system %" PRIu64, s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_access_points(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, system_id, element_name, address, port, target_name, portal_group_tag, "
                          "secret_id, reachable, last_verified, last_error, last_error_id FROM access_points ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(access_point_freep) AccessPoint *x = NULL;

                r = store_step_row(s, st, "read access points");
                if (r <= 0)
                        return r;

                x = access_point_new();
                if (!x)
                        return -ENOMEM;
                x->id = column_u64(st, 0);
                x->system_id = column_u64(st, 1);
                if (column_strdup(st, 2, &x->element_name) < 0 ||
                    column_strdup(st, 3, &x->address) < 0 ||
                    column_strdup(st, 5, &x->target_name) < 0 ||
                    column_strdup(st, 10, &x->last_error) < 0)
                        return -ENOMEM;
                x->port = (uint16_t) sqlite3_column_int(st, 4);
                x->portal_group_tag = (uint16_t) sqlite3_column_int(st, 6);
                x->secret_id = column_u64(st, 7);
                x->reachable = column_reachability(s, st, 8);
                x->last_verified = column_u64(st, 9);
                x->last_error_reason = column_reason(s, st, 11);

                r = model_add_access_point(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load access point %" PRIu64,
                                               s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_secrets(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, access_point_id, username, secret, mutual_username, mutual_secret "
                          "FROM secrets ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(secret_freep) SharedSecret *x = NULL;

                r = store_step_row(s, st, "read secrets");
                if (r <= 0)
                        return r;

                x = secret_new();
                if (!x)
                        return -ENOMEM;
                x->id = column_u64(st, 0);
                x->access_point_id = column_u64(st, 1);
                if (column_strdup(st, 2, &x->username) < 0 ||
                    column_strdup(st, 3, &x->secret) < 0 ||
                    column_strdup(st, 4, &x->mutual_username) < 0 ||
                    column_strdup(st, 5, &x->mutual_secret) < 0)
                        return -ENOMEM;

                r = model_add_secret(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load secret %" PRIu64, s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_collection_members(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT collection_id, kind, member_id FROM collection_members", &st);
        if (r < 0)
                return r;

        for (;;) {
                const char *kind;
                Collection *c;
                IdSet *set;

                r = store_step_row(s, st, "read collection members");
                if (r <= 0)
                        return r;

                c = model_get_collection(m, column_u64(st, 0));
                if (!c)
                        continue;       /* cannot happen with the foreign key; nothing to attach it to */

                kind = (const char *) sqlite3_column_text(st, 1);
                if (streq_ptr(kind, "local"))
                        set = &c->local_access_points;
                else if (streq_ptr(kind, "remote"))
                        set = &c->remote_access_points;
                else if (streq_ptr(kind, "system"))
                        set = &c->remote_systems;
                else {
                        log_error("Store %s: collection %" PRIu64 " has a member of unknown kind \"%s\".",
                                  s->path, c->id, kind ?: "");
                        return -EIO;
                }

                if (idset_add(set, column_u64(st, 2)) < 0)
                        return -ENOMEM;
        }
}

static int load_collections(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s, "SELECT id, element_name, active, delete_on_unassociated FROM collections ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(collection_freep) Collection *x = NULL;

                r = store_step_row(s, st, "read collections");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;

                x = collection_new();
                if (!x)
                        return -ENOMEM;
                x->id = column_u64(st, 0);
                if (column_strdup(st, 1, &x->element_name) < 0)
                        return -ENOMEM;
                x->active = sqlite3_column_int(st, 2) != 0;
                x->delete_on_unassociated = sqlite3_column_int(st, 3) != 0;

                r = model_add_collection(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load collection %" PRIu64,
                                               s->path, x->id);
                TAKE_PTR(x);
        }

        return load_collection_members(s, m);
}

static int load_jobs(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, name, state, status, percent_complete, expected_end_time, time_submitted, "
                          "start_time, time_of_last_state_change, delete_on_completion, time_before_removal, "
                          "error_code, error_description, error_source, error_type, started_by_uid, owner, "
                          "affected_elements, collection_id, message_id FROM jobs ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(job_freep) Job *x = NULL;
                char **affected;

                r = store_step_row(s, st, "read jobs");
                if (r <= 0)
                        return r;

                x = job_new();
                if (!x)
                        return -ENOMEM;
                x->id = column_u64(st, 0);
                if (column_strdup(st, 1, &x->name) < 0 ||
                    column_strdup(st, 3, &x->status) < 0 ||
                    column_strdup(st, 12, &x->error_description) < 0 ||
                    column_strdup(st, 13, &x->error_source) < 0 ||
                    column_strdup(st, 16, &x->owner) < 0)
                        return -ENOMEM;
                x->state = (JobState) sqlite3_column_int(st, 2);
                x->percent_complete = (unsigned) sqlite3_column_int64(st, 4);
                x->expected_end_time = column_u64(st, 5);
                x->time_submitted = column_u64(st, 6);
                x->start_time = column_u64(st, 7);
                x->time_of_last_state_change = column_u64(st, 8);
                x->delete_on_completion = sqlite3_column_int(st, 9) != 0;
                x->time_before_removal = column_u64(st, 10);
                x->error_code = (uint16_t) sqlite3_column_int(st, 11);
                x->error_type = (uint16_t) sqlite3_column_int(st, 14);
                x->started_by_uid = (uint32_t) sqlite3_column_int64(st, 15);
                x->collection_id = column_u64(st, 18);
                x->error_reason = column_reason(s, st, 19);

                affected = strv_split((const char *) sqlite3_column_text(st, 17), '\n');
                if (!affected)
                        return -ENOMEM;
                strv_free(x->affected_elements);
                x->affected_elements = affected;

                r = model_add_job(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load job %" PRIu64, s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_all(Store *s, Model *m) {
        int r;

        r = load_systems(s, m);
        if (r < 0)
                return r;
        r = load_access_points(s, m);
        if (r < 0)
                return r;
        r = load_secrets(s, m);
        if (r < 0)
                return r;
        r = load_collections(s, m);
        if (r < 0)
                return r;
        r = load_jobs(s, m);
        if (r < 0)
                return r;

        /* After the objects: model_add_*() has raised next_id past every id already. */
        return load_next_id(s, m);
}

/**
 * store_load() - fill a model with every stored object
 * @s: the store
 * @m: a model fresh from model_new(), holding only the local system
 *
 * Reads one consistent snapshot. Jobs come back as they were stored, also
 * those that were running; what to make of them is the daemon's decision.
 * Afterwards m->next_id is past every loaded id and not below the stored
 * next id.
 *
 * Return: 0; -ENOMEM; -EIO; -EEXIST when a stored id clashes with one the
 * model holds already. On failure m holds part of the objects and should be
 * discarded.
 */
int store_load(Store *s, Model *m) {
        bool own_transaction;
        int r;

        /* A read transaction, so that all tables are read at one point in time. */
        own_transaction = sqlite3_get_autocommit(s->db);
        if (own_transaction) {
                r = store_exec(s, "BEGIN");
                if (r < 0)
                        return r;
        }

        r = load_all(s, m);

        if (own_transaction)
                store_rollback(s);
        if (r < 0)
                return r;

        log_debug("Store %s: loaded %zu systems, %zu access points, %zu secrets, %zu collections, %zu jobs.",
                  s->path, m->systems.n, m->access_points.n, m->secrets.n, m->collections.n, m->jobs.n);
        return 0;
}
