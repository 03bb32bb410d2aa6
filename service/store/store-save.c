/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing model objects as rows: one insert-or-replace per object (a
 * collection's member rows with it) and one delete per row, each inside the
 * caller's transaction. Deleting a secret marks the transaction so that the
 * commit empties the write-ahead log.
 */

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>

#include "store-internal.h"
#include "util/log.h"
#include "util/macros.h"
#include "util/strutil.h"

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
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        /* Beyond that, SQLite's signed MAX() would compare wrongly. */
        if (next_id > INT64_MAX)
                return -ERANGE;

        r = store_prepare_cached(s, "UPDATE meta SET next_id = MAX(next_id, ?1) WHERE singleton = 0", &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, next_id) != SQLITE_OK)
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
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        if (x->id == LOCAL_SYSTEM_ID)
                return 0;

        r = store_prepare_cached(s,
                          "INSERT OR REPLACE INTO systems (id, name, element_name, reachable, last_verified) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
                          &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, x->id) != SQLITE_OK ||
            store_bind_text(st, 2, x->name) != SQLITE_OK ||
            store_bind_text(st, 3, x->element_name) != SQLITE_OK ||
            store_bind_text(st, 4, reachability_to_string(x->reachable)) != SQLITE_OK ||
            store_bind_u64(st, 5, x->last_verified) != SQLITE_OK)
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
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare_cached(s,
                          "INSERT OR REPLACE INTO access_points (id, system_id, element_name, address, port, "
                          "target_name, portal_group_tag, secret_id, reachable, last_verified, last_error, "
                          "last_error_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                          &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, x->id) != SQLITE_OK ||
            store_bind_u64(st, 2, x->system_id) != SQLITE_OK ||
            store_bind_text(st, 3, x->element_name) != SQLITE_OK ||
            store_bind_text(st, 4, x->address) != SQLITE_OK ||
            sqlite3_bind_int(st, 5, x->port) != SQLITE_OK ||
            store_bind_text(st, 6, x->target_name) != SQLITE_OK ||
            sqlite3_bind_int(st, 7, x->portal_group_tag) != SQLITE_OK ||
            store_bind_u64(st, 8, x->secret_id) != SQLITE_OK ||
            store_bind_text(st, 9, reachability_to_string(x->reachable)) != SQLITE_OK ||
            store_bind_u64(st, 10, x->last_verified) != SQLITE_OK ||
            store_bind_text(st, 11, x->last_error) != SQLITE_OK ||
            store_bind_text(st, 12, reason_to_string(x->last_error_reason)) != SQLITE_OK)
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
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare_cached(s,
                          "INSERT OR REPLACE INTO secrets (id, access_point_id, username, secret, "
                          "mutual_username, mutual_secret) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, x->id) != SQLITE_OK ||
            store_bind_u64(st, 2, x->access_point_id) != SQLITE_OK ||
            store_bind_text(st, 3, x->username) != SQLITE_OK ||
            store_bind_text(st, 4, x->secret) != SQLITE_OK ||
            store_bind_text(st, 5, x->mutual_username) != SQLITE_OK ||
            store_bind_text(st, 6, x->mutual_secret) != SQLITE_OK)
                return store_error(s, "bind secret %" PRIu64, x->id);
        return store_step_done(s, st, "save a secret");
}

static int save_members(Store *s, sqlite3_stmt *st, uint64_t collection_id, const char *kind, const IdSet *ids) {
        for (size_t i = 0; i < ids->n; i++) {
                int r;

                sqlite3_reset(st);
                if (store_bind_u64(st, 1, collection_id) != SQLITE_OK ||
                    store_bind_text(st, 2, kind) != SQLITE_OK ||
                    store_bind_u64(st, 3, ids->ids[i]) != SQLITE_OK)
                        return store_error(s, "bind a member of collection %" PRIu64, collection_id);
                r = store_step_done(s, st, "save a collection member");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int save_collection_rows(Store *s, const Collection *x) {
        _cleanup_stmt_release_ sqlite3_stmt *row = NULL, *clear = NULL, *member = NULL;
        int r;

        r = store_prepare_cached(s,
                          "INSERT OR REPLACE INTO collections (id, element_name, active, delete_on_unassociated) "
                          "VALUES (?1, ?2, ?3, ?4)",
                          &row);
        if (r < 0)
                return r;
        if (store_bind_u64(row, 1, x->id) != SQLITE_OK ||
            store_bind_text(row, 2, x->element_name) != SQLITE_OK ||
            sqlite3_bind_int(row, 3, x->active) != SQLITE_OK ||
            sqlite3_bind_int(row, 4, x->delete_on_unassociated) != SQLITE_OK)
                return store_error(s, "bind collection %" PRIu64, x->id);
        r = store_step_done(s, row, "save a collection");
        if (r < 0)
                return r;

        r = store_prepare_cached(s, "DELETE FROM collection_members WHERE collection_id = ?1", &clear);
        if (r < 0)
                return r;
        if (store_bind_u64(clear, 1, x->id) != SQLITE_OK)
                return store_error(s, "bind collection %" PRIu64, x->id);
        r = store_step_done(s, clear, "clear the members of a collection");
        if (r < 0)
                return r;

        r = store_prepare_cached(s, "INSERT INTO collection_members (collection_id, kind, member_id) VALUES (?1, ?2, ?3)",
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

        /* Inside a transaction the caller's savepoint makes the rows all or nothing. */
        if (store_in_transaction(s))
                return save_collection_rows(s, x);
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

static int member_rows(Store *s, sqlite3_stmt *st, uint64_t collection_id, const char *kind, const IdSet *ids,
                       const char *what) {
        for (size_t i = 0; i < ids->n; i++) {
                int r;

                sqlite3_reset(st);
                if (store_bind_u64(st, 1, collection_id) != SQLITE_OK || store_bind_text(st, 2, kind) != SQLITE_OK ||
                    store_bind_u64(st, 3, ids->ids[i]) != SQLITE_OK)
                        return store_error(s, "bind a member of collection %" PRIu64, collection_id);
                r = store_step_done(s, st, what);
                if (r < 0)
                        return r;
        }
        return 0;
}

/**
 * store_save_collection_members() - add and remove member rows of a stored collection
 * @s: the store
 * @collection_id: the collection, stored already
 * @kind: "local", "remote" or "system"
 * @added: members to add (present ones stay)
 * @removed: members to remove (absent ones are no error)
 *
 * A membership change writes only the rows that change, so its cost does
 * not grow with the collection. Inside a transaction only, whose savepoint
 * makes the rows all or nothing.
 *
 * Return: 0; -EBUSY outside a transaction; -EIO.
 */
int store_save_collection_members(Store *s, uint64_t collection_id, const char *kind, const IdSet *added,
                                  const IdSet *removed) {
        _cleanup_stmt_release_ sqlite3_stmt *add = NULL, *del = NULL;
        int r;

        if (!store_in_transaction(s))
                return -EBUSY;
        if (added->n > 0) {
                r = store_prepare_cached(s, "INSERT OR IGNORE INTO collection_members (collection_id, kind, member_id) "
                                         "VALUES (?1, ?2, ?3)", &add);
                if (r >= 0)
                        r = member_rows(s, add, collection_id, kind, added, "add a collection member");
                if (r < 0)
                        return r;
        }
        if (removed->n > 0) {
                r = store_prepare_cached(s, "DELETE FROM collection_members "
                                         "WHERE collection_id = ?1 AND kind = ?2 AND member_id = ?3", &del);
                if (r >= 0)
                        r = member_rows(s, del, collection_id, kind, removed, "remove a collection member");
                if (r < 0)
                        return r;
        }
        return 0;
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
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
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

        r = store_prepare_cached(s,
                          "INSERT OR REPLACE INTO jobs (id, name, state, status, percent_complete, "
                          "expected_end_time, time_submitted, start_time, time_of_last_state_change, "
                          "delete_on_completion, time_before_removal, error_code, error_description, "
                          "error_source, error_type, started_by_uid, owner, affected_elements, collection_id, "
                          "message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                          "?16, ?17, ?18, ?19, ?20)",
                          &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, x->id) != SQLITE_OK ||
            store_bind_text(st, 2, x->name) != SQLITE_OK ||
            sqlite3_bind_int(st, 3, x->state) != SQLITE_OK ||
            store_bind_text(st, 4, x->status) != SQLITE_OK ||
            sqlite3_bind_int64(st, 5, x->percent_complete) != SQLITE_OK ||
            store_bind_u64(st, 6, x->expected_end_time) != SQLITE_OK ||
            store_bind_u64(st, 7, x->time_submitted) != SQLITE_OK ||
            store_bind_u64(st, 8, x->start_time) != SQLITE_OK ||
            store_bind_u64(st, 9, x->time_of_last_state_change) != SQLITE_OK ||
            sqlite3_bind_int(st, 10, x->delete_on_completion) != SQLITE_OK ||
            store_bind_u64(st, 11, x->time_before_removal) != SQLITE_OK ||
            sqlite3_bind_int(st, 12, x->error_code) != SQLITE_OK ||
            store_bind_text(st, 13, x->error_description) != SQLITE_OK ||
            store_bind_text(st, 14, x->error_source) != SQLITE_OK ||
            sqlite3_bind_int(st, 15, x->error_type) != SQLITE_OK ||
            sqlite3_bind_int64(st, 16, x->started_by_uid) != SQLITE_OK ||
            store_bind_text(st, 17, x->owner) != SQLITE_OK ||
            store_bind_text(st, 18, affected) != SQLITE_OK ||
            store_bind_u64(st, 19, x->collection_id) != SQLITE_OK ||
            store_bind_text(st, 20, reason_to_string(x->error_reason)) != SQLITE_OK)
                return store_error(s, "bind job %" PRIu64, x->id);
        return store_step_done(s, st, "save a job");
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
        return store_exec_with_id(s, "DELETE FROM systems WHERE id = ?1", id);
}

/**
 * store_delete_access_point() - delete an access point's row
 * @s:  the store
 * @id: the access point's id
 *
 * Return: 0 or -EIO.
 */
int store_delete_access_point(Store *s, uint64_t id) {
        return store_exec_with_id(s, "DELETE FROM access_points WHERE id = ?1", id);
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

        r = store_exec_with_id(s, "DELETE FROM secrets WHERE id = ?1", id);
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
        return store_exec_with_id(s, "DELETE FROM collections WHERE id = ?1", id);
}

/**
 * store_delete_job() - delete a job's row
 * @s:  the store
 * @id: the job's id
 *
 * Return: 0 or -EIO.
 */
int store_delete_job(Store *s, uint64_t id) {
        return store_exec_with_id(s, "DELETE FROM jobs WHERE id = ?1", id);
}
