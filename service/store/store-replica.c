/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replicas in the store: volume and synchronization rows (saved, deleted and
 * loaded as store-save.c and store-load.c do for the other objects) and the
 * per-chunk hash table of each synchronization, updated in place by BLOB
 * range writes (store-schema.c describes its shape and size).
 */

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <string.h>

#include "store-internal.h"
#include "util/log.h"
#include "util/macros.h"

#define HASHES_BYTES (REPLICA_HASH_BLOCK_CHUNKS * REPLICA_HASH_SIZE)
#define CONFIRMED_BYTES (REPLICA_HASH_BLOCK_CHUNKS / 8)
/* The schema's CHECKs spell these sizes out. */
_Static_assert(HASHES_BYTES == 65536, "schema v3 stores 4096 hashes of 16 bytes per row");
_Static_assert(CONFIRMED_BYTES == 512, "schema v3 stores a 4096-bit bitmap per row");
_Static_assert(sizeof(ChunkHashBlock) == HASHES_BYTES + CONFIRMED_BYTES, "a block is its two BLOBs");

/**
 * store_save_volume() - insert or replace a volume
 * @s: the store
 * @x: the volume
 *
 * Return: 0 or -EIO.
 */
int store_save_volume(Store *s, const Volume *x) {
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare_cached(s,
                          "INSERT OR REPLACE INTO volumes (id, access_point_id, element_name, target_name, lun, "
                          "block_size, n_blocks, last_verified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                          &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, x->id) != SQLITE_OK ||
            store_bind_u64(st, 2, x->access_point_id) != SQLITE_OK ||
            store_bind_text(st, 3, x->element_name) != SQLITE_OK ||
            store_bind_text(st, 4, x->target_name) != SQLITE_OK ||
            sqlite3_bind_int(st, 5, x->lun) != SQLITE_OK ||
            sqlite3_bind_int64(st, 6, x->block_size) != SQLITE_OK ||
            store_bind_u64(st, 7, x->n_blocks) != SQLITE_OK ||
            store_bind_u64(st, 8, x->last_verified) != SQLITE_OK)
                return store_error(s, "bind volume %" PRIu64, x->id);
        return store_step_done(s, st, "save a volume");
}

/**
 * store_save_synchronization() - insert or update a synchronization
 * @s: the store
 * @x: the synchronization
 *
 * Every field but the running cycle's (job, percent, rate). The resume
 * point is stored, so that a cycle cut short goes on from there.
 *
 * Return: 0 or -EIO.
 */
int store_save_synchronization(Store *s, const Synchronization *x) {
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare_cached(s,
                          "INSERT INTO synchronizations (id, element_name, sync_type, mode, "
                          "source_volume_id, copy_volume_id, collection_id, copy_state, progress_status, "
                          "bandwidth_limit, cycle_interval, chunk_size, last_sync_time, next_sync_time, "
                          "bytes_scanned, bytes_transferred, last_error, last_error_id, resume_chunk) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) "
                          /* An update in place: REPLACE would delete the row, and its chunk hashes with it. */
                          "ON CONFLICT (id) DO UPDATE SET element_name = excluded.element_name, "
                          "sync_type = excluded.sync_type, mode = excluded.mode, "
                          "source_volume_id = excluded.source_volume_id, copy_volume_id = excluded.copy_volume_id, "
                          "collection_id = excluded.collection_id, copy_state = excluded.copy_state, "
                          "progress_status = excluded.progress_status, bandwidth_limit = excluded.bandwidth_limit, "
                          "cycle_interval = excluded.cycle_interval, chunk_size = excluded.chunk_size, "
                          "last_sync_time = excluded.last_sync_time, next_sync_time = excluded.next_sync_time, "
                          "bytes_scanned = excluded.bytes_scanned, bytes_transferred = excluded.bytes_transferred, "
                          "last_error = excluded.last_error, last_error_id = excluded.last_error_id, "
                          "resume_chunk = excluded.resume_chunk",
                          &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, x->id) != SQLITE_OK ||
            store_bind_text(st, 2, x->element_name) != SQLITE_OK ||
            sqlite3_bind_int(st, 3, x->sync_type) != SQLITE_OK ||
            sqlite3_bind_int(st, 4, x->mode) != SQLITE_OK ||
            store_bind_u64(st, 5, x->source_volume_id) != SQLITE_OK ||
            store_bind_u64(st, 6, x->copy_volume_id) != SQLITE_OK ||
            store_bind_u64(st, 7, x->collection_id) != SQLITE_OK ||
            sqlite3_bind_int(st, 8, x->copy_state) != SQLITE_OK ||
            sqlite3_bind_int(st, 9, x->progress_status) != SQLITE_OK ||
            store_bind_u64(st, 10, x->bandwidth_limit) != SQLITE_OK ||
            store_bind_u64(st, 11, x->cycle_interval) != SQLITE_OK ||
            sqlite3_bind_int64(st, 12, x->chunk_size) != SQLITE_OK ||
            store_bind_u64(st, 13, x->last_sync_time) != SQLITE_OK ||
            store_bind_u64(st, 14, x->next_sync_time) != SQLITE_OK ||
            store_bind_u64(st, 15, x->bytes_scanned) != SQLITE_OK ||
            store_bind_u64(st, 16, x->bytes_transferred) != SQLITE_OK ||
            store_bind_text(st, 17, x->last_error) != SQLITE_OK ||
            store_bind_text(st, 18, reason_to_string(x->last_error_reason)) != SQLITE_OK ||
            store_bind_u64(st, 19, x->resume_chunk) != SQLITE_OK)
                return store_error(s, "bind synchronization %" PRIu64, x->id);
        return store_step_done(s, st, "save a synchronization");
}

/**
 * store_delete_volume() - delete a volume's row
 * @s:  the store
 * @id: the volume's id
 *
 * Return: 0 or -EIO.
 */
int store_delete_volume(Store *s, uint64_t id) {
        return store_exec_with_id(s, "DELETE FROM volumes WHERE id = ?1", id);
}

/**
 * store_delete_synchronization() - delete a synchronization and its chunk hashes
 * @s:  the store
 * @id: the synchronization's id
 *
 * The hash rows go with it (ON DELETE CASCADE).
 *
 * Return: 0 or -EIO.
 */
int store_delete_synchronization(Store *s, uint64_t id) {
        return store_exec_with_id(s, "DELETE FROM synchronizations WHERE id = ?1", id);
}

/**
 * store_delete_chunk_hashes() - forget a synchronization's chunk hashes
 * @s:  the store
 * @id: the synchronization's id
 *
 * Return: 0 or -EIO.
 */
int store_delete_chunk_hashes(Store *s, uint64_t id) {
        return store_exec_with_id(s, "DELETE FROM chunk_hashes WHERE synchronization_id = ?1", id);
}

/* The rowid of a block's row in *ret: 1, or 0 when the block has no row (nothing in it is confirmed). */
static int find_block_row(Store *s, uint64_t sync_id, uint64_t block, sqlite3_int64 *ret) {
        _cleanup_stmt_release_ sqlite3_stmt *query = NULL;
        int r;

        r = store_prepare_cached(s, "SELECT rowid FROM chunk_hashes WHERE synchronization_id = ?1 AND block = ?2",
                                 &query);
        if (r < 0)
                return r;
        if (store_bind_u64(query, 1, sync_id) != SQLITE_OK || store_bind_u64(query, 2, block) != SQLITE_OK)
                return store_error(s, "bind block %" PRIu64 " of synchronization %" PRIu64, block, sync_id);
        r = store_step_row(s, query, "find a block of chunk hashes");
        if (r <= 0)
                return r;
        *ret = sqlite3_column_int64(query, 0);
        return 1;
}

/* The rowid of a block's row, made (nothing confirmed) if there is none yet. */
static int block_row(Store *s, uint64_t sync_id, uint64_t block, sqlite3_int64 *ret) {
        _cleanup_stmt_release_ sqlite3_stmt *insert = NULL;
        int r;

        r = store_prepare_cached(s,
                          "INSERT OR IGNORE INTO chunk_hashes (synchronization_id, block, hashes, confirmed) "
                          "VALUES (?1, ?2, zeroblob(65536), zeroblob(512))",
                          &insert);
        if (r < 0)
                return r;
        if (store_bind_u64(insert, 1, sync_id) != SQLITE_OK || store_bind_u64(insert, 2, block) != SQLITE_OK)
                return store_error(s, "bind block %" PRIu64 " of synchronization %" PRIu64, block, sync_id);
        r = store_step_done(s, insert, "add a block of chunk hashes");
        if (r < 0)
                return r;
        r = find_block_row(s, sync_id, block, ret);
        if (r < 0)
                return r;
        if (r == 0) {
                log_error("Store %s: block %" PRIu64 " of synchronization %" PRIu64 " vanished.", s->path, block,
                          sync_id);
                return -EIO;
        }
        return 0;
}

static void blob_closep(sqlite3_blob **b) {
        if (*b)
                sqlite3_blob_close(*b);
}

/*
 * Writes the hashes of chunks[first..end) (all in one block) into that
 * block's row, then its bitmap with their bits set: two BLOB range writes
 * per hash run and one read-modify-write of the 512-byte bitmap.
 */
static int write_block(Store *s, uint64_t sync_id, uint64_t block, const uint64_t *chunks, const uint8_t *hashes,
                       size_t first, size_t end) {
        _cleanup_(blob_closep) sqlite3_blob *hash_blob = NULL, *bits_blob = NULL;
        uint8_t bits[CONFIRMED_BYTES];
        sqlite3_int64 rowid = 0;
        int r;

        r = block_row(s, sync_id, block, &rowid);
        if (r < 0)
                return r;
        if (store_fault_plan_hit(&s->fault, STORE_FAULT_WRITE)) {
                log_error("Store %s: failed to write chunk hashes: injected fault", s->path);
                return -EIO;
        }
        if (sqlite3_blob_open(s->db, "main", "chunk_hashes", "hashes", rowid, 1, &hash_blob) != SQLITE_OK ||
            sqlite3_blob_open(s->db, "main", "chunk_hashes", "confirmed", rowid, 1, &bits_blob) != SQLITE_OK ||
            sqlite3_blob_read(bits_blob, bits, sizeof(bits), 0) != SQLITE_OK)
                return store_error(s, "open block %" PRIu64 " of synchronization %" PRIu64, block, sync_id);

        for (size_t i = first; i < end; i++) {
                unsigned c = (unsigned) (chunks[i] % REPLICA_HASH_BLOCK_CHUNKS);

                if (sqlite3_blob_write(hash_blob, hashes + i * REPLICA_HASH_SIZE, REPLICA_HASH_SIZE,
                                       (int) (c * REPLICA_HASH_SIZE)) != SQLITE_OK)
                        return store_error(s, "write a chunk hash of synchronization %" PRIu64, sync_id);
                bits[c / 8] |= (uint8_t) (1u << (c % 8));
        }
        if (sqlite3_blob_write(bits_blob, bits, sizeof(bits), 0) != SQLITE_OK)
                return store_error(s, "confirm chunks of synchronization %" PRIu64, sync_id);
        return 0;
}

/*
 * Clears the confirmed bits of chunks[first..end) (all in one block): one
 * read-modify-write of the block's bitmap; their hashes stay, unconfirmed.
 * A block without a row has nothing confirmed.
 */
static int clear_block(Store *s, uint64_t sync_id, uint64_t block, const uint64_t *chunks, const uint8_t *hashes,
                       size_t first, size_t end) {
        _cleanup_(blob_closep) sqlite3_blob *bits_blob = NULL;
        uint8_t bits[CONFIRMED_BYTES];
        sqlite3_int64 rowid = 0;
        int r;

        r = find_block_row(s, sync_id, block, &rowid);
        if (r <= 0)
                return r;
        if (store_fault_plan_hit(&s->fault, STORE_FAULT_WRITE)) {
                log_error("Store %s: failed to unconfirm chunk hashes: injected fault", s->path);
                return -EIO;
        }
        if (sqlite3_blob_open(s->db, "main", "chunk_hashes", "confirmed", rowid, 1, &bits_blob) != SQLITE_OK ||
            sqlite3_blob_read(bits_blob, bits, sizeof(bits), 0) != SQLITE_OK)
                return store_error(s, "open block %" PRIu64 " of synchronization %" PRIu64, block, sync_id);
        for (size_t i = first; i < end; i++) {
                unsigned c = (unsigned) (chunks[i] % REPLICA_HASH_BLOCK_CHUNKS);

                bits[c / 8] &= (uint8_t) ~(1u << (c % 8));
        }
        if (sqlite3_blob_write(bits_blob, bits, sizeof(bits), 0) != SQLITE_OK)
                return store_error(s, "unconfirm chunks of synchronization %" PRIu64, sync_id);
        return 0;
}

typedef int (*block_visit_t)(Store *s, uint64_t sync_id, uint64_t block, const uint64_t *chunks, const uint8_t *hashes,
                             size_t first, size_t end);

/* Calls visit for each run of chunks in one block, all or nothing. */
static int visit_blocks(Store *s, uint64_t sync_id, const uint64_t *chunks, const uint8_t *hashes, size_t n,
                        block_visit_t visit) {
        int r = 0;

        if (n == 0)
                return 0;
        r = store_exec(s, "SAVEPOINT chunk_hashes");
        if (r < 0)
                return r;
        /* Consecutive chunks of one block go in one visit, whatever order the caller gives. */
        for (size_t first = 0; first < n && r >= 0;) {
                uint64_t block = chunk_hash_block_of(chunks[first]);
                size_t end = first + 1;

                while (end < n && chunk_hash_block_of(chunks[end]) == block)
                        end++;
                r = visit(s, sync_id, block, chunks, hashes, first, end);
                first = end;
        }
        if (r < 0) {
                (void) store_exec(s, "ROLLBACK TO chunk_hashes");
                (void) store_exec(s, "RELEASE chunk_hashes");
                return r;
        }
        return store_exec(s, "RELEASE chunk_hashes");
}

/**
 * store_save_chunk_hashes() - record chunks as confirmed on the copy
 * @s:       the store
 * @sync_id: the synchronization
 * @chunks:  n chunk indexes
 * @hashes:  n hashes of REPLICA_HASH_SIZE bytes, in the order of chunks
 * @n:       how many
 *
 * Return: 0 or -EIO; on failure nothing of it is stored.
 */
int store_save_chunk_hashes(Store *s, uint64_t sync_id, const uint64_t *chunks, const uint8_t *hashes, size_t n) {
        return visit_blocks(s, sync_id, chunks, hashes, n, write_block);
}

/**
 * store_unconfirm_chunk_hashes() - record chunks as no longer confirmed on the copy
 * @s:       the store
 * @sync_id: the synchronization
 * @chunks:  n chunk indexes, in any order
 * @n:       how many
 *
 * Return: 0 or -EIO; on failure nothing of it is stored.
 */
int store_unconfirm_chunk_hashes(Store *s, uint64_t sync_id, const uint64_t *chunks, size_t n) {
        return visit_blocks(s, sync_id, chunks, NULL, n, clear_block);
}

static int copy_blob_column(Store *s, sqlite3_stmt *st, int i, void *dst, size_t size) {
        const void *p = sqlite3_column_blob(st, i);

        if ((size_t) sqlite3_column_bytes(st, i) != size || !p) {
                log_error("Store %s: a block of chunk hashes has the wrong size.", s->path);
                return -EIO;
        }
        memcpy(dst, p, size);
        return 0;
}

/**
 * store_load_chunk_hash_block() - read one block of a synchronization's hash table
 * @s:       the store
 * @sync_id: the synchronization
 * @block:   the block: chunk / REPLICA_HASH_BLOCK_CHUNKS
 * @ret:     filled on success; all zero (nothing confirmed) for a block never saved
 *
 * Return: 0 or -EIO.
 */
int store_load_chunk_hash_block(Store *s, uint64_t sync_id, uint64_t block, ChunkHashBlock *ret) {
        _cleanup_stmt_release_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare_cached(s, "SELECT hashes, confirmed FROM chunk_hashes WHERE synchronization_id = ?1 AND block = ?2",
                                 &st);
        if (r < 0)
                return r;
        if (store_bind_u64(st, 1, sync_id) != SQLITE_OK || store_bind_u64(st, 2, block) != SQLITE_OK)
                return store_error(s, "bind block %" PRIu64 " of synchronization %" PRIu64, block, sync_id);
        r = store_step_row(s, st, "read a block of chunk hashes");
        if (r < 0)
                return r;
        if (r == 0) {
                memset(ret, 0, sizeof(*ret));
                return 0;
        }
        r = copy_blob_column(s, st, 0, ret->hashes, sizeof(ret->hashes));
        if (r < 0)
                return r;
        return copy_blob_column(s, st, 1, ret->confirmed, sizeof(ret->confirmed));
}

static int load_volumes(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, access_point_id, element_name, target_name, lun, block_size, n_blocks, "
                          "last_verified FROM volumes ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(volume_freep) Volume *x = NULL;

                r = store_step_row(s, st, "read volumes");
                if (r <= 0)
                        return r;

                x = volume_new();
                if (!x)
                        return -ENOMEM;
                x->id = store_column_u64(st, 0);
                x->access_point_id = store_column_u64(st, 1);
                if (store_column_strdup(st, 2, &x->element_name) < 0 ||
                    store_column_strdup(st, 3, &x->target_name) < 0)
                        return -ENOMEM;
                x->lun = (uint16_t) sqlite3_column_int(st, 4);
                x->block_size = (uint32_t) sqlite3_column_int64(st, 5);
                x->n_blocks = store_column_u64(st, 6);
                x->last_verified = store_column_u64(st, 7);

                r = model_add_volume(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load volume %" PRIu64, s->path, x->id);
                TAKE_PTR(x);
        }
}

static int load_synchronizations(Store *s, Model *m) {
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = store_prepare(s,
                          "SELECT id, element_name, sync_type, mode, source_volume_id, copy_volume_id, "
                          "collection_id, copy_state, progress_status, bandwidth_limit, cycle_interval, chunk_size, "
                          "last_sync_time, next_sync_time, bytes_scanned, bytes_transferred, last_error, "
                          "last_error_id, resume_chunk FROM synchronizations ORDER BY id",
                          &st);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_(synchronization_freep) Synchronization *x = NULL;

                r = store_step_row(s, st, "read synchronizations");
                if (r <= 0)
                        return r;

                x = synchronization_new();
                if (!x)
                        return -ENOMEM;
                x->id = store_column_u64(st, 0);
                if (store_column_strdup(st, 1, &x->element_name) < 0 ||
                    store_column_strdup(st, 16, &x->last_error) < 0)
                        return -ENOMEM;
                /* The schema's CHECKs keep the enums to known values. */
                x->sync_type = (SyncType) sqlite3_column_int(st, 2);
                x->mode = (SyncMode) sqlite3_column_int(st, 3);
                x->source_volume_id = store_column_u64(st, 4);
                x->copy_volume_id = store_column_u64(st, 5);
                x->collection_id = store_column_u64(st, 6);
                x->copy_state = (CopyState) sqlite3_column_int(st, 7);
                x->progress_status = (ProgressStatus) sqlite3_column_int(st, 8);
                x->bandwidth_limit = store_column_u64(st, 9);
                x->cycle_interval = store_column_u64(st, 10);
                x->chunk_size = (uint32_t) sqlite3_column_int64(st, 11);
                x->last_sync_time = store_column_u64(st, 12);
                x->next_sync_time = store_column_u64(st, 13);
                x->bytes_scanned = store_column_u64(st, 14);
                x->bytes_transferred = store_column_u64(st, 15);
                x->last_error_reason = store_column_reason(s, st, 17);
                x->resume_chunk = store_column_u64(st, 18);

                r = model_add_synchronization(m, x);
                if (r < 0)
                        return log_error_errno(r, "Store %s: failed to load synchronization %" PRIu64, s->path,
                                               x->id);
                TAKE_PTR(x);
        }
}

/* store_load()'s part for replicas: after access points and collections, which they are filed under. */
int store_load_replicas(Store *s, Model *m) {
        int r;

        r = load_volumes(s, m);
        if (r < 0)
                return r;
        return load_synchronizations(s, m);
}
