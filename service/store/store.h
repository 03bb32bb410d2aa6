/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Durable state in SQLite — the only module that includes <sqlite3.h>.
 * One database file in the state directory, WAL mode, synchronous=FULL, a
 * schema version in PRAGMA user_version with a migration path. Every change
 * the service makes is one transaction: store_begin(), store_save_*() /
 * store_delete_*(), store_commit(); on any error store_rollback() and nothing
 * has changed. Errors are negative errno (-EIO for SQLite failures, whose text
 * is logged but never returned to a caller).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model.h"

#define STORE_SCHEMA_VERSION 3
#define STORE_DATABASE_NAME "state.db"

typedef struct Store Store;

/* Opens (creating 0700 directory / 0600 file as needed) and migrates. */
int store_open(const char *directory, Store **ret);
Store *store_close(Store *s);
static inline void store_closep(Store **s) {
        store_close(*s);
}

/* Loads every stored object into m (which holds only the local system). */
int store_load(Store *s, Model *m);

/* store_begin() is -EBUSY inside a transaction; a failed store_commit() has rolled back already. */
int store_begin(Store *s);
int store_commit(Store *s);
void store_rollback(Store *s);
/* Whether a transaction is open (SQLite ends one by itself on some I/O errors). */
bool store_in_transaction(Store *s);

/*
 * One change inside an open transaction (group commit): store_savepoint()
 * marks where it starts; store_release_savepoint() keeps its rows in the
 * transaction; store_rollback_to_savepoint() undoes them and nothing else.
 * -EBUSY outside a transaction, -EIO.
 */
int store_savepoint(Store *s);
int store_release_savepoint(Store *s);
int store_rollback_to_savepoint(Store *s);

/* The stored value never decreases; -ERANGE above INT64_MAX. */
int store_save_next_id(Store *s, uint64_t next_id);

/*
 * Insert or replace the whole row (and, for collections, the member rows).
 * The local system is never stored: saving it is a no-op that succeeds,
 * deleting it is -EINVAL. Deleting an absent row succeeds. A delete removes
 * only its own row (a collection's member rows go with it); dependants such
 * as an access point's secret are deleted by the caller.
 */
int store_save_system(Store *s, const System *x);
int store_save_access_point(Store *s, const AccessPoint *x);
int store_save_secret(Store *s, const SharedSecret *x);
int store_save_collection(Store *s, const Collection *x);
int store_save_job(Store *s, const Job *x);

/* Only the member rows a membership change adds and removes; kind "local", "remote" or "system". */
int store_save_collection_members(Store *s, uint64_t collection_id, const char *kind, const IdSet *added,
                                  const IdSet *removed);

int store_delete_system(Store *s, uint64_t id);
int store_delete_access_point(Store *s, uint64_t id);
int store_delete_secret(Store *s, uint64_t id);
int store_delete_collection(Store *s, uint64_t id);
int store_delete_job(Store *s, uint64_t id);

/*
 * Replicas (store-replica.c). Volumes and synchronizations are saved and
 * deleted like the objects above: the whole row, inside the caller's
 * transaction. The runtime fields (a synchronization's job, percent and
 * rate; a volume's synchronizations) are not stored. Deleting a
 * synchronization deletes its chunk hash table with it.
 */
int store_save_volume(Store *s, const Volume *x);
int store_save_synchronization(Store *s, const Synchronization *x);
int store_delete_volume(Store *s, uint64_t id);
int store_delete_synchronization(Store *s, uint64_t id);

/*
 * The per-chunk hash table of a synchronization, in blocks of
 * REPLICA_HASH_BLOCK_CHUNKS chunks (core/replica.h).
 *
 * store_save_chunk_hashes() records n chunks as confirmed on the copy:
 * chunks[i] (an index in the whole volume, in any order) with the
 * REPLICA_HASH_SIZE bytes at hashes + i * REPLICA_HASH_SIZE. All or
 * nothing, also outside a transaction. Each block it touches counts as two
 * writes for STORE_FAULT_WRITE (its row, then its hashes).
 *
 * store_unconfirm_chunk_hashes() records n chunks as no longer confirmed
 * (about to be overwritten): their bits are cleared, their hashes stay. All
 * or nothing; one write per block that has a row for STORE_FAULT_WRITE.
 *
 * store_load_chunk_hash_block() reads one block; a block never saved comes
 * back with nothing confirmed. A cycle keeps one block in memory at a time,
 * so its memory does not grow with the volume.
 *
 * store_delete_chunk_hashes() forgets every hash of a synchronization, so
 * that its next cycle writes every chunk.
 */
int store_save_chunk_hashes(Store *s, uint64_t synchronization_id, const uint64_t *chunks, const uint8_t *hashes,
                            size_t n);
int store_unconfirm_chunk_hashes(Store *s, uint64_t synchronization_id, const uint64_t *chunks, size_t n);
int store_load_chunk_hash_block(Store *s, uint64_t synchronization_id, uint64_t block, ChunkHashBlock *ret);
int store_delete_chunk_hashes(Store *s, uint64_t synchronization_id);

int store_get_schema_version(Store *s, int *ret);

/*
 * Fault injection, for tests. The store that ships is the one under test:
 * arming a fault only tells it to fail once where a full or broken disk would
 * make it fail, so every caller's error path runs as it would then. Nothing in
 * the service arms a fault. Unit tests call store_fault_arm() on their Store;
 * the integration tests run a second build of daemon/main.c, made only for
 * them (tests/integration/meson.build), that arms the fault its environment
 * names. The installed daemon never reads that variable.
 */
typedef enum StoreFault {
        STORE_FAULT_NONE,
        STORE_FAULT_WRITE,      /* the nth row write (a save or a delete) fails */
        STORE_FAULT_COMMIT,     /* the nth COMMIT fails, and SQLite rolls the transaction back */
        STORE_FAULT_SYNC,       /* the nth fsync of the write-ahead log fails with EIO */
        _STORE_FAULT_MAX,
} StoreFault;

/* Counting from now, the nth occurrence of kind fails, once; STORE_FAULT_NONE disarms. */
int store_fault_arm(Store *s, StoreFault kind, unsigned nth);
/* "write:N", "commit:N" or "sync:N" with N >= 1; -EINVAL otherwise. */
int store_fault_parse(const char *spec, StoreFault *ret_kind, unsigned *ret_nth);

/* The connection's effective SQLite settings, for diagnostics and tests. */
typedef struct StoreSettings {
        char journal_mode[16];          /* "wal" */
        int synchronous;                /* 2 = FULL */
        bool foreign_keys;
        bool secure_delete;
} StoreSettings;

int store_get_settings(Store *s, StoreSettings *ret);
