/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The database's shape: the schema text of every version, the migration steps
 * between them, and PRAGMA user_version, which says where a file stands. A
 * file from a newer service is refused before anything writes to it.
 *
 * Referential integrity between systems, access points, secrets and
 * collections is the model's business; the database only enforces what
 * protects its own shape (member rows belong to a collection row, enum
 * columns hold known values), so the order in which one transaction saves
 * and deletes rows never matters.
 */

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "store-internal.h"
#include "util/log.h"
#include "util/macros.h"

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
 * Version 3: replicas (API.md section 10). Volumes and synchronizations are
 * rows like any other object; their references are the model's business.
 *
 * chunk_hashes is the per-chunk hash table of a synchronization, kept
 * compact: one row per block of 4096 chunks (REPLICA_HASH_BLOCK_CHUNKS),
 * holding the chunks' 16-byte hashes in one 64 KiB BLOB and a 512-byte
 * bitmap of which are confirmed on the copy. Both are updated in place by
 * BLOB range writes, so confirming a batch of chunks rewrites a few bytes,
 * not the row. A 1 TiB volume at the default 1 MiB chunks has 2^20 chunks:
 * 256 rows of 65,536 + 512 bytes, 16.1 MiB in all, under the 32 MiB that
 * section 10 allows. The rows belong to their synchronization's row and go
 * with it. The reference is checked at once, not at COMMIT, so that under
 * group commit a change that gets it wrong fails alone, in its own savepoint.
 */
static const char schema_v3[] =
        "CREATE TABLE volumes ("
        "        id INTEGER PRIMARY KEY NOT NULL,"
        "        access_point_id INTEGER NOT NULL,"
        "        element_name TEXT NOT NULL,"
        "        target_name TEXT NOT NULL,"
        "        lun INTEGER NOT NULL CHECK (lun BETWEEN 0 AND 65535),"
        "        block_size INTEGER NOT NULL CHECK (block_size BETWEEN 0 AND 4294967295),"
        "        n_blocks INTEGER NOT NULL,"
        "        last_verified INTEGER NOT NULL"
        ");"
        ""
        "CREATE TABLE synchronizations ("
        "        id INTEGER PRIMARY KEY NOT NULL,"
        "        element_name TEXT NOT NULL,"
        "        sync_type INTEGER NOT NULL CHECK (sync_type IN (6, 7, 8)),"
        "        mode INTEGER NOT NULL CHECK (mode IN (2, 3)),"
        "        source_volume_id INTEGER NOT NULL,"
        "        copy_volume_id INTEGER NOT NULL,"
        "        collection_id INTEGER NOT NULL,"
        "        copy_state INTEGER NOT NULL CHECK (copy_state IN (2, 3, 4, 5, 6, 9)),"
        "        progress_status INTEGER NOT NULL CHECK (progress_status IN (2, 3, 4, 6, 7)),"
        "        bandwidth_limit INTEGER NOT NULL,"
        "        cycle_interval INTEGER NOT NULL,"
        "        chunk_size INTEGER NOT NULL CHECK (chunk_size BETWEEN 0 AND 4294967295),"
        "        last_sync_time INTEGER NOT NULL,"
        "        next_sync_time INTEGER NOT NULL,"
        "        bytes_scanned INTEGER NOT NULL,"
        "        bytes_transferred INTEGER NOT NULL,"
        "        last_error TEXT NOT NULL,"
        "        last_error_id TEXT NOT NULL,"
        "        resume_chunk INTEGER NOT NULL"
        ");"
        ""
        "CREATE TABLE chunk_hashes ("
        "        synchronization_id INTEGER NOT NULL"
        "                REFERENCES synchronizations (id) ON DELETE CASCADE,"
        "        block INTEGER NOT NULL CHECK (block >= 0),"
        "        hashes BLOB NOT NULL CHECK (length(hashes) = 65536),"
        "        confirmed BLOB NOT NULL CHECK (length(confirmed) = 512),"
        "        PRIMARY KEY (synchronization_id, block)"
        ");";

/*
 * Version 4: a member row's kind is checked by comparisons. For "kind IN
 * ('local', 'remote', 'system')" SQLite fills a temporary table with the
 * three values every time it writes a row (it does so for lists of more
 * than two), which cost more than writing the row itself, on every AddTo
 * and RemoveFrom. Same rows, same rule; the table is rebuilt as SQLite
 * documents for changing a constraint. No other table refers to it.
 */
static const char schema_v4[] =
        "CREATE TABLE collection_members_v4 ("
        "        collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,"
        "        kind TEXT NOT NULL CHECK (kind = 'local' OR kind = 'remote' OR kind = 'system'),"
        "        member_id INTEGER NOT NULL,"
        "        PRIMARY KEY (collection_id, kind, member_id)"
        ") WITHOUT ROWID;"
        "INSERT INTO collection_members_v4 (collection_id, kind, member_id)"
        "        SELECT collection_id, kind, member_id FROM collection_members;"
        "DROP TABLE collection_members;"
        "ALTER TABLE collection_members_v4 RENAME TO collection_members;";

/*
 * migrations[n] turns a version-n database into a version-n+1 one. Steps are
 * only ever appended: a released step is never edited, since databases in
 * the field have already run it.
 */
static const char * const migrations[] = {
        [0] = schema_v1,
        [1] = schema_v2,
        [2] = schema_v3,
        [3] = schema_v4,
};

_Static_assert(ELEMENTSOF(migrations) == STORE_SCHEMA_VERSION,
               "every schema version needs the step that leads to it");

/**
 * store_get_schema_version() - the schema version of the open database
 * @s:   the store
 * @ret: the version, written only on success
 *
 * Return: 0 or -EIO.
 */
int store_get_schema_version(Store *s, int *ret) {
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

int store_refuse_version(Store *s, int version) {
        log_error("Store %s has schema version %d, but this version of the service only knows up to %d; "
                  "refusing to open it. Upgrade the service or restore a backup.",
                  s->path, version, STORE_SCHEMA_VERSION);
        return -EPROTONOSUPPORT;
}

int store_migrate(Store *s) {
        for (;;) {
                char sql[64];
                int version, r;

                r = store_begin(s);
                if (r < 0)
                        return r;

                /* Read again under the write lock: another opener may have migrated meanwhile. */
                r = store_get_schema_version(s, &version);
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
