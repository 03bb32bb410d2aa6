/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening and closing the one SQLite database of the state directory: the
 * file's permissions, the connection settings that make a commit durable
 * (checked, not assumed), and what tests ask of the connection. The rest of
 * the store is split by responsibility: store-schema.c (schema, migrations),
 * store-sql.c (statements, transactions), store-save.c (rows written),
 * store-load.c (rows read), store-fault.c (fault injection). Nothing outside
 * service/store/ sees SQLite.
 */

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-internal.h"
#include "util/fileutil.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/strutil.h"

/* How long a write waits for a lock held by another process, e.g. an admin's sqlite3 shell. */
#define STORE_BUSY_TIMEOUT_MSEC 1000

/* Sets one connection setting and checks that SQLite actually applied it. */
static int store_set_pragma(Store *s, const char *sql, const char *query, const char *expected) {
        char v[32];
        int r;

        r = store_exec(s, sql);
        if (r >= 0)
                r = store_read_setting(s, query, v, sizeof(v));
        if (r < 0)
                return r;
        if (!streq_ptr(v, expected)) {
                log_error("Store %s: \"%s\" did not take effect (got \"%s\", wanted \"%s\").", s->path, sql, v,
                          expected);
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
        r = store_get_schema_version(s, &version);
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

        /* Only commits get slower without the room; the failure is logged. */
        (void) store_reserve_wal(s);

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

        for (size_t i = 0; i < s->n_statements; i++)
                sqlite3_finalize(s->statements[i].st);
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

        r = store_read_setting(s, "PRAGMA journal_mode", settings.journal_mode, sizeof(settings.journal_mode));
        if (r < 0)
                return r;
        r = store_read_setting(s, "PRAGMA synchronous", buf, sizeof(buf));
        if (r < 0)
                return r;
        settings.synchronous = atoi(buf);
        r = store_read_setting(s, "PRAGMA foreign_keys", buf, sizeof(buf));
        if (r < 0)
                return r;
        settings.foreign_keys = atoi(buf) != 0;
        r = store_read_setting(s, "PRAGMA secure_delete", buf, sizeof(buf));
        if (r < 0)
                return r;
        settings.secure_delete = atoi(buf) != 0;

        *ret = settings;
        return 0;
}
