/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * store-replica: volume and synchronization rows, the per-chunk hash table
 * (its BLOB range writes, its size, all-or-nothing saves), schema version 3
 * and the migration of a real version-2 file, and that every failed write
 * of a replica change leaves the file as it was.
 */

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "store-fixture.h"
#include "util/strutil.h"

#define MIB (UINT64_C(1024) * 1024)

static Volume *make_volume(uint64_t id, uint64_t access_point_id) {
        Volume *x = volume_new();

        g_assert_nonnull(x);
        x->id = id;
        x->access_point_id = access_point_id;
        set_string(&x->element_name, "Disque « source » 🗄");
        set_string(&x->target_name, "iqn.2024-01.org.example:tgt");
        x->lun = 65535;
        x->block_size = UINT32_MAX;
        x->n_blocks = UINT64_MAX;       /* every bit of an unsigned value survives */
        x->last_verified = UINT64_C(1700000000123456);
        return x;
}

static void assert_volume_equal(const Volume *a, const Volume *b) {
        g_assert_nonnull(b);
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpuint(a->access_point_id, ==, b->access_point_id);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpstr(a->target_name, ==, b->target_name);
        g_assert_cmpuint(a->lun, ==, b->lun);
        g_assert_cmpuint(a->block_size, ==, b->block_size);
        g_assert_cmpuint(a->n_blocks, ==, b->n_blocks);
        g_assert_cmpuint(a->last_verified, ==, b->last_verified);
}

static Synchronization *make_sync(uint64_t id, uint64_t source, uint64_t copy, uint64_t collection) {
        Synchronization *x = synchronization_new();

        g_assert_nonnull(x);
        x->id = id;
        set_string(&x->element_name, "Miroir — 東京");
        x->sync_type = SYNC_TYPE_CLONE;
        x->source_volume_id = source;
        x->copy_volume_id = copy;
        x->collection_id = collection;
        x->copy_state = COPY_STATE_BROKEN;
        x->progress_status = PROGRESS_STATUS_DORMANT;
        x->bandwidth_limit = UINT64_MAX;
        x->cycle_interval = UINT64_C(600000000);
        x->chunk_size = 16 * MIB;
        x->last_sync_time = UINT64_C(1700000000000001);
        x->next_sync_time = UINT64_C(1700000000000002);
        x->bytes_scanned = UINT64_C(1) << 40;
        x->bytes_transferred = (UINT64_C(1) << 40) - 1;
        set_string(&x->last_error, "The copy's target went away — perdu.");
        x->last_error_reason = REASON_COPY_TARGET_LOST;
        x->resume_chunk = UINT64_C(123456);
        /* Runtime only: none of these must come back. */
        x->job_id = 99;
        x->percent = 42;
        x->rate = 1000;
        return x;
}

static void assert_sync_equal_stored(const Synchronization *a, const Synchronization *b) {
        g_assert_nonnull(b);
        g_assert_cmpuint(a->id, ==, b->id);
        g_assert_cmpstr(a->element_name, ==, b->element_name);
        g_assert_cmpint(a->sync_type, ==, b->sync_type);
        g_assert_cmpint(a->mode, ==, b->mode);
        g_assert_cmpuint(a->source_volume_id, ==, b->source_volume_id);
        g_assert_cmpuint(a->copy_volume_id, ==, b->copy_volume_id);
        g_assert_cmpuint(a->collection_id, ==, b->collection_id);
        g_assert_cmpint(a->copy_state, ==, b->copy_state);
        g_assert_cmpint(a->progress_status, ==, b->progress_status);
        g_assert_cmpuint(a->bandwidth_limit, ==, b->bandwidth_limit);
        g_assert_cmpuint(a->cycle_interval, ==, b->cycle_interval);
        g_assert_cmpuint(a->chunk_size, ==, b->chunk_size);
        g_assert_cmpuint(a->last_sync_time, ==, b->last_sync_time);
        g_assert_cmpuint(a->next_sync_time, ==, b->next_sync_time);
        g_assert_cmpuint(a->bytes_scanned, ==, b->bytes_scanned);
        g_assert_cmpuint(a->bytes_transferred, ==, b->bytes_transferred);
        g_assert_cmpstr(a->last_error, ==, b->last_error);
        g_assert_cmpint(a->last_error_reason, ==, b->last_error_reason);
        g_assert_cmpuint(a->resume_chunk, ==, b->resume_chunk);
        g_assert_cmpuint(b->job_id, ==, 0);
        g_assert_cmpuint(b->percent, ==, 0);
        g_assert_cmpuint(b->rate, ==, 0);
}

/* The hash the tests give chunk c in round k: every byte different, so a misplaced write shows. */
static void chunk_hash(uint64_t c, unsigned k, uint8_t ret[REPLICA_HASH_SIZE]) {
        for (unsigned i = 0; i < REPLICA_HASH_SIZE; i++)
                ret[i] = (uint8_t) (c * 31 + i * 7 + k * 101 + 1);
}

static int save_hashes(Store *s, uint64_t sync_id, const uint64_t *chunks, size_t n, unsigned k) {
        g_autofree uint8_t *hashes = g_malloc(n * REPLICA_HASH_SIZE);

        for (size_t i = 0; i < n; i++)
                chunk_hash(chunks[i], k, hashes + i * REPLICA_HASH_SIZE);
        return store_save_chunk_hashes(s, sync_id, chunks, hashes, n);
}

/* Asserts chunk c is confirmed with its round-k hash, or (k < 0) not confirmed. */
static void assert_chunk(Store *s, uint64_t sync_id, uint64_t c, int k) {
        g_autofree ChunkHashBlock *b = g_new0(ChunkHashBlock, 1);
        uint8_t got[REPLICA_HASH_SIZE], expected[REPLICA_HASH_SIZE];

        g_assert_cmpint(store_load_chunk_hash_block(s, sync_id, chunk_hash_block_of(c), b), ==, 0);
        if (k < 0) {
                g_assert_false(chunk_hash_block_get(b, c, got));
                return;
        }
        g_assert_true(chunk_hash_block_get(b, c, got));
        chunk_hash(c, (unsigned) k, expected);
        g_assert_cmpmem(got, sizeof(got), expected, sizeof(expected));
}

static void test_volume_roundtrip(Fixture *f, gconstpointer data) {
        _cleanup_(volume_freep) Volume *v = make_volume(3, 2);
        AccessPoint *a = access_point_new();
        Model *m;
        IdSet ids = IDSET_INIT;

        a->id = 2;
        g_assert_cmpint(store_save_access_point(f->store, a), ==, 0);
        g_assert_cmpint(store_save_volume(f->store, v), ==, 0);
        reopen(f);
        m = load(f);
        assert_volume_equal(v, model_get_volume(m, 3));
        /* Loaded under its access point and its LUN, and past the next id. */
        g_assert_cmpint(model_volumes_of_access_point(m, 2, &ids), ==, 0);
        g_assert_cmpuint(ids.n, ==, 1);
        g_assert_true(model_find_volume_by_lun(m, 2, "IQN.2024-01.org.example:tgt", 65535) == model_get_volume(m, 3));
        g_assert_cmpuint(m->next_id, ==, 4);
        model_free(m);
        idset_clear(&ids);
        access_point_free(a);

        /* Saving again replaces the row. */
        v->lun = 1;
        g_assert_cmpint(store_save_volume(f->store, v), ==, 0);
        m = load(f);
        g_assert_cmpuint(m->volumes.n, ==, 1);
        assert_volume_equal(v, model_get_volume(m, 3));
        model_free(m);
}

static void test_sync_roundtrip(Fixture *f, gconstpointer data) {
        _cleanup_(volume_freep) Volume *src = make_volume(3, 2), *dst = make_volume(4, 5);
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        IdSet ids = IDSET_INIT;
        Model *m;

        dst->lun = 0;
        g_assert_cmpint(store_begin(f->store), ==, 0);
        /* Rows refer to each other only through the model: any order will do. */
        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(store_save_volume(f->store, src), ==, 0);
        g_assert_cmpint(store_save_volume(f->store, dst), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        reopen(f);
        m = load(f);
        assert_sync_equal_stored(x, model_get_synchronization(m, 7));
        g_assert_cmpint(model_synchronizations_of_volume(m, 3, &ids), ==, 0);
        g_assert_cmpuint(ids.n, ==, 1);
        g_assert_cmpint(model_synchronizations_of_volume(m, 4, &ids), ==, 0);
        g_assert_cmpuint(ids.n, ==, 1);
        g_assert_cmpint(model_synchronizations_of_collection(m, 6, &ids), ==, 0);
        g_assert_cmpuint(ids.n, ==, 1);
        g_assert_cmpuint(ids.ids[0], ==, 7);
        g_assert_cmpuint(m->next_id, ==, 8);
        model_free(m);
        idset_clear(&ids);
}

static void test_delete(Fixture *f, gconstpointer data) {
        _cleanup_(volume_freep) Volume *v = make_volume(3, 2);
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        const uint64_t chunks[] = { 0, 5000 };
        Model *m;

        g_assert_cmpint(store_save_volume(f->store, v), ==, 0);
        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, chunks, 2, 0), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT count(*) FROM chunk_hashes"), ==, 2);

        g_assert_cmpint(store_delete_synchronization(f->store, 7), ==, 0);
        /* The hash table goes with its synchronization. */
        g_assert_cmpint(raw_int(f->db_path, "SELECT count(*) FROM chunk_hashes"), ==, 0);
        g_assert_cmpint(store_delete_volume(f->store, 3), ==, 0);
        g_assert_cmpint(store_delete_volume(f->store, 3), ==, 0);       /* absent: not an error */
        m = load(f);
        g_assert_cmpuint(m->volumes.n, ==, 0);
        g_assert_cmpuint(m->synchronizations.n, ==, 0);
        model_free(m);
}

static void test_chunk_hashes(Fixture *f, gconstpointer data) {
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        _cleanup_(synchronization_freep) Synchronization *y = make_sync(8, 3, 5, 6);
        /* Out of order, across blocks 0, 1 and 3, both ends of a block. */
        const uint64_t first[] = { 4096, 0, 4095, 5, 3 * 4096 + 17, 4097 };
        const uint64_t again[] = { 5, 8191 };
        const uint64_t other[] = { 5 };
        g_autofree ChunkHashBlock *b = g_new0(ChunkHashBlock, 1);

        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(store_save_synchronization(f->store, y), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, first, G_N_ELEMENTS(first), 0), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, again, G_N_ELEMENTS(again), 1), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 8, other, G_N_ELEMENTS(other), 2), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, NULL, 0, 0), ==, 0);
        reopen(f);

        assert_chunk(f->store, 7, 0, 0);
        assert_chunk(f->store, 7, 4095, 0);
        assert_chunk(f->store, 7, 4096, 0);
        assert_chunk(f->store, 7, 4097, 0);
        assert_chunk(f->store, 7, 3 * 4096 + 17, 0);
        assert_chunk(f->store, 7, 5, 1);        /* replaced */
        assert_chunk(f->store, 7, 8191, 1);
        assert_chunk(f->store, 8, 5, 2);        /* its own table */
        /* Neighbours and untouched blocks are not confirmed. */
        assert_chunk(f->store, 7, 1, -1);
        assert_chunk(f->store, 7, 4094, -1);
        assert_chunk(f->store, 7, 4098, -1);
        assert_chunk(f->store, 7, 2 * 4096, -1);
        assert_chunk(f->store, 8, 0, -1);
        memset(b, 0xff, sizeof(*b));
        g_assert_cmpint(store_load_chunk_hash_block(f->store, 7, 2, b), ==, 0);
        for (size_t i = 0; i < sizeof(b->confirmed); i++)
                g_assert_cmpuint(b->confirmed[i], ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT count(*) FROM chunk_hashes"), ==, 4);

        /* Forgetting empties one synchronization's table only. */
        g_assert_cmpint(store_delete_chunk_hashes(f->store, 7), ==, 0);
        assert_chunk(f->store, 7, 0, -1);
        assert_chunk(f->store, 7, 5, -1);
        assert_chunk(f->store, 8, 5, 2);
}

/* Saving a synchronization again (every confirmation does) updates its row and keeps its hashes. */
static void test_chunk_hashes_survive_update(Fixture *f, gconstpointer data) {
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        const uint64_t chunks[] = { 0, 9 };

        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, chunks, G_N_ELEMENTS(chunks), 0), ==, 0);
        x->resume_chunk = 10;
        x->copy_state = COPY_STATE_SYNCHRONIZED;
        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        reopen(f);
        assert_chunk(f->store, 7, 0, 0);
        assert_chunk(f->store, 7, 9, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT resume_chunk FROM synchronizations WHERE id = 7"), ==, 10);
}

/* Section 10: at the default chunk size, the table of a 1 TiB volume stays under 32 MiB. */
static void test_chunk_hashes_size(Fixture *f, gconstpointer data) {
        const uint64_t n_chunks = (UINT64_C(1) << 40) / MIB;
        const uint64_t n_blocks = n_chunks / REPLICA_HASH_BLOCK_CHUNKS;
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        g_autofree uint64_t *chunks = g_new(uint64_t, n_blocks);
        int64_t bytes;

        /* One chunk in every block: each block's row holds the hashes of all its 4096 chunks. */
        for (uint64_t i = 0; i < n_blocks; i++)
                chunks[i] = i * REPLICA_HASH_BLOCK_CHUNKS + (i % REPLICA_HASH_BLOCK_CHUNKS);
        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, chunks, n_blocks, 0), ==, 0);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        assert_chunk(f->store, 7, chunks[n_blocks - 1], 0);

        g_assert_cmpint(raw_int(f->db_path, "SELECT count(*) FROM chunk_hashes"), ==, 256);
        bytes = raw_int(f->db_path, "SELECT sum(length(hashes) + length(confirmed)) FROM chunk_hashes");
        g_assert_cmpint(bytes, ==, 256 * (65536 + 512));
        f->store = store_close(f->store);       /* checkpoint: the whole database is in the file */
        bytes = raw_int(f->db_path, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
        g_test_message("1 TiB at 1 MiB chunks: %" G_GINT64_FORMAT " bytes of database", bytes);
        g_assert_cmpint(bytes, <, 32 * (int64_t) MIB);
        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
}

/* A failed save of several blocks leaves none of them, also outside a transaction. */
static void test_chunk_hashes_all_or_nothing(Fixture *f, gconstpointer data) {
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        const uint64_t chunks[] = { 1, 4096 + 1, 2 * 4096 + 1 };
        const uint64_t before[] = { 2 };

        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, before, 1, 0), ==, 0);
        /* Block 0 takes writes 1 and 2, block 1 writes 3 and 4: fail its hashes. */
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_WRITE, 4), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, chunks, G_N_ELEMENTS(chunks), 0), ==, -EIO);
        reopen(f);
        assert_chunk(f->store, 7, 1, -1);
        assert_chunk(f->store, 7, 4097, -1);
        assert_chunk(f->store, 7, 2, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT count(*) FROM chunk_hashes"), ==, 1);
}

/* Unconfirming clears bits only, in any order, across blocks, all or nothing; it makes no rows. */
static void test_chunk_hashes_unconfirm(Fixture *f, gconstpointer data) {
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        const uint64_t saved[] = { 0, 1, 4096, 4097 }, gone[] = { 4097, 1, 3 * 4096 }, again[] = { 1 };
        const uint64_t failing[] = { 0, 4096 };

        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, saved, G_N_ELEMENTS(saved), 0), ==, 0);
        g_assert_cmpint(store_unconfirm_chunk_hashes(f->store, 7, gone, G_N_ELEMENTS(gone)), ==, 0);
        reopen(f);
        assert_chunk(f->store, 7, 0, 0);
        assert_chunk(f->store, 7, 4096, 0);
        assert_chunk(f->store, 7, 1, -1);
        assert_chunk(f->store, 7, 4097, -1);
        g_assert_cmpint(raw_int(f->db_path, "SELECT count(*) FROM chunk_hashes"), ==, 2);
        /* Confirmed again, with its new hash. */
        g_assert_cmpint(save_hashes(f->store, 7, again, 1, 1), ==, 0);
        assert_chunk(f->store, 7, 1, 1);
        /* The second block's write fails: the first block keeps its bit too. */
        g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_WRITE, 2), ==, 0);
        g_assert_cmpint(store_unconfirm_chunk_hashes(f->store, 7, failing, G_N_ELEMENTS(failing)), ==, -EIO);
        reopen(f);
        assert_chunk(f->store, 7, 0, 0);
        assert_chunk(f->store, 7, 4096, 0);
}

/*
 * Hashes of a synchronization that has no row are refused at once, and the
 * rest of the transaction stands: under group commit, the mistake fails
 * only the change that made it.
 */
static void test_chunk_hashes_need_their_synchronization(Fixture *f, gconstpointer data) {
        _cleanup_(volume_freep) Volume *v = make_volume(3, 2);
        const uint64_t chunks[] = { 1 };
        Model *m;

        g_assert_cmpint(store_begin(f->store), ==, 0);
        g_assert_cmpint(store_save_volume(f->store, v), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 9, chunks, 1, 0), ==, -EIO);
        g_assert_cmpint(store_commit(f->store), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "SELECT count(*) FROM chunk_hashes"), ==, 0);
        m = load(f);
        g_assert_nonnull(model_get_volume(m, 3));
        model_free(m);
}

/* What the store holds of replicas, as one string: rows and the hash table's bytes. */
static char *replica_state(Fixture *f) {
        g_autofree ChunkHashBlock *b = g_new0(ChunkHashBlock, 1);
        GString *s = g_string_new(NULL);
        Model *m = load(f);

        MODEL_FOREACH(Volume, v, m->volumes)
                g_string_append_printf(s, "v%" G_GUINT64_FORMAT ":%u,", v->id, v->lun);
        MODEL_FOREACH(Synchronization, x, m->synchronizations)
                g_string_append_printf(s, "s%" G_GUINT64_FORMAT ":%d:%" G_GUINT64_FORMAT ",", x->id, x->copy_state,
                                       x->resume_chunk);
        for (uint64_t block = 0; block < 3; block++) {
                g_autofree char *sum = NULL;

                g_assert_cmpint(store_load_chunk_hash_block(f->store, 7, block, b), ==, 0);
                sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) b, sizeof(*b));
                g_string_append_printf(s, "b%" G_GUINT64_FORMAT ":%s,", block, sum);
        }
        model_free(m);
        return g_string_free(s, FALSE);
}

/* One change of the kind a cycle makes: rows, hashes across blocks, a delete. */
static int replica_change(Fixture *f) {
        _cleanup_(volume_freep) Volume *v = make_volume(3, 2);
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        const uint64_t chunks[] = { 4, 4096 + 4, 2 * 4096 + 4 };
        int r;

        v->lun = 9;
        x->copy_state = COPY_STATE_SYNCHRONIZED;
        x->resume_chunk = 3 * 4096;
        r = store_begin(f->store);
        if (r >= 0)
                r = store_save_volume(f->store, v);
        if (r >= 0)
                r = store_save_synchronization(f->store, x);
        if (r >= 0)
                r = save_hashes(f->store, 7, chunks, G_N_ELEMENTS(chunks), 1);
        if (r >= 0)
                r = store_delete_volume(f->store, 5);
        if (r >= 0)
                r = store_commit(f->store);
        if (r < 0)
                store_rollback(f->store);
        return r;
}

static void test_fault_every_write(Fixture *f, gconstpointer data) {
        _cleanup_(volume_freep) Volume *v = make_volume(3, 2), *w = make_volume(5, 2);
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(7, 3, 4, 6);
        const uint64_t chunks[] = { 4, 4096 + 5 };
        g_autofree char *before = NULL, *after = NULL;
        unsigned nth;

        w->lun = 1;
        g_assert_cmpint(store_save_volume(f->store, v), ==, 0);
        g_assert_cmpint(store_save_volume(f->store, w), ==, 0);
        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 7, chunks, G_N_ELEMENTS(chunks), 0), ==, 0);
        before = replica_state(f);

        for (nth = 1;; nth++) {
                g_autofree char *now = NULL;
                int r;

                g_assert_cmpint(store_fault_arm(f->store, STORE_FAULT_WRITE, nth), ==, 0);
                r = replica_change(f);
                if (r == 0)
                        break;          /* fewer writes than nth: the whole change went through */
                g_assert_cmpint(r, ==, -EIO);
                reopen(f);
                now = replica_state(f);
                g_assert_cmpstr(now, ==, before);
        }
        /* Two rows, three blocks of two writes, one delete. */
        g_assert_cmpuint(nth, ==, 10);
        after = replica_state(f);
        g_assert_cmpstr(after, !=, before);
        assert_chunk(f->store, 7, 2 * 4096 + 4, 1);
}

static void test_schema_version(Fixture *f, gconstpointer data) {
        int version = -1;

        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
}

/*
 * A real version-2 file (tests/unit/data/store-v2.sql, written by version 2's
 * store) becomes the current version; version 3 added the replica tables.
 */
static void test_migrate_v2(Fixture *f, gconstpointer data) {
        g_autofree char *dump_path = g_test_build_filename(G_TEST_DIST, "data", "store-v2.sql", NULL);
        g_autofree char *dump = NULL;
        _cleanup_(volume_freep) Volume *v = make_volume(8, 3);
        _cleanup_(synchronization_freep) Synchronization *x = make_sync(9, 8, 8, 6);
        const uint64_t chunks[] = { 7 };
        sqlite3 *db = NULL;
        int version = -1;
        Model *m;

        g_assert_true(g_file_get_contents(dump_path, &dump, NULL, NULL));
        g_assert_cmpint(g_mkdir(f->dir, 0700), ==, 0);
        g_assert_cmpint(sqlite3_open(f->db_path, &db), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_exec(db, dump, NULL, NULL, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
        g_assert_cmpint(g_chmod(f->db_path, 0600), ==, 0);
        g_assert_cmpint(raw_int(f->db_path, "PRAGMA user_version"), ==, 2);

        g_assert_cmpint(store_open(f->dir, &f->store), ==, 0);
        g_assert_cmpint(store_get_schema_version(f->store, &version), ==, 0);
        g_assert_cmpint(version, ==, STORE_SCHEMA_VERSION);
        m = load(f);
        g_assert_cmpuint(m->systems.n, ==, 2);
        g_assert_cmpuint(m->access_points.n, ==, 2);
        g_assert_cmpstr(model_get_access_point(m, 4)->last_error, ==, "Connection refused.");
        g_assert_cmpint(model_get_access_point(m, 4)->last_error_reason, ==, REASON_REFUSED);
        g_assert_cmpuint(m->secrets.n, ==, 1);
        g_assert_true(idset_contains(&model_get_collection(m, 6)->remote_access_points, 4));
        g_assert_cmpuint(m->jobs.n, ==, 1);
        g_assert_cmpuint(m->volumes.n, ==, 0);
        g_assert_cmpuint(m->synchronizations.n, ==, 0);
        g_assert_cmpuint(m->next_id, ==, 8);
        model_free(m);

        /* And the new tables take what is saved from now on. */
        g_assert_cmpint(store_save_volume(f->store, v), ==, 0);
        g_assert_cmpint(store_save_synchronization(f->store, x), ==, 0);
        g_assert_cmpint(save_hashes(f->store, 9, chunks, 1, 0), ==, 0);
        reopen(f);
        m = load(f);
        assert_volume_equal(v, model_get_volume(m, 8));
        assert_sync_equal_stored(x, model_get_synchronization(m, 9));
        g_assert_cmpuint(m->next_id, ==, 10);
        model_free(m);
        assert_chunk(f->store, 9, 7, 0);
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup_open, fn, teardown)

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        ADD("/store/replica/schema-version", test_schema_version);
        ADD("/store/replica/volume-roundtrip", test_volume_roundtrip);
        ADD("/store/replica/synchronization-roundtrip", test_sync_roundtrip);
        ADD("/store/replica/delete", test_delete);
        ADD("/store/replica/chunk-hashes", test_chunk_hashes);
        ADD("/store/replica/chunk-hashes/size", test_chunk_hashes_size);
        ADD("/store/replica/chunk-hashes/survive-update", test_chunk_hashes_survive_update);
        ADD("/store/replica/chunk-hashes/all-or-nothing", test_chunk_hashes_all_or_nothing);
        ADD("/store/replica/chunk-hashes/unconfirm", test_chunk_hashes_unconfirm);
        ADD("/store/replica/chunk-hashes/need-their-synchronization", test_chunk_hashes_need_their_synchronization);
        ADD("/store/replica/fault/every-write", test_fault_every_write);
        g_test_add("/store/replica/migrate-v2", Fixture, NULL, setup_tmp, test_migrate_v2, teardown);
        return g_test_run();
}
