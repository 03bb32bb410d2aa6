/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: replicas (API.md section 10) against two real targets
 * (engine-replica-fixture.h): volumes, CreateElementReplica's checks, Mirror
 * and Clone cycles, Suspend/Resume/Resync/Detach, Modify and Compare.
 * Skipped without root or tgt.
 */

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "engine-replica-fixture.h"
#include "net/copy.h"
#include "store/store.h"

static void test_add_volume(Fixture *f, gconstpointer data) {
        VolumeSpec dup = { .access_point_path = PATH(OBJECT_ACCESS_POINT, f->local_ap), .lun = 1 };
        uint64_t volume = 0, job = 0, missing;
        size_t n;
        Volume *v;
        Job *j;

        SKIP_WITHOUT_TGTD();
        v = model_get_volume(f->engine->model, f->source);
        g_assert_nonnull(v);
        g_assert_cmpuint(volume_size_bytes(v), ==, VOLUME_SIZE);
        g_assert_cmpstr(v->target_name, ==, SOURCE_TARGET);
        g_assert_cmpuint(v->last_verified, >, 0);
        /* An access point with a volume behind it stays. */
        g_assert_cmpint(engine_delete_access_point(f->engine, &f->caller, f->local_ap, &f->err), ==, -EBUSY);

        /* The same LUN twice: InvalidParameter, and no job. */
        n = f->engine->model->jobs.n;
        g_assert_cmpint(engine_add_volume(f->engine, &f->caller, &dup, &volume, &job, &f->err), ==, -EEXIST);
        g_assert_cmpuint(f->engine->model->jobs.n, ==, n);

        /* A LUN the target does not have: the job fails and no volume appears. */
        n = f->engine->model->volumes.n;
        missing = add_volume(f, f->local_ap, NULL, 7, &j);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_null(model_get_volume(f->engine->model, missing));
        g_assert_cmpuint(f->engine->model->volumes.n, ==, n);
}

static void test_create_invalid(Fixture *f, gconstpointer data) {
        char buf[3][OBJECT_PATH_MAX];
        ReplicaSpec spec;
        uint64_t id = 0, job = 0;
        size_t jobs;

        SKIP_WITHOUT_TGTD();
        jobs = f->engine->model->jobs.n;
        spec = replica_spec(f, SYNC_TYPE_SNAPSHOT, buf);
        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, NULL, &id, &job, &f->err), ==, -EOPNOTSUPP);
        spec = replica_spec(f, SYNC_TYPE_MIRROR, buf);
        spec.mode = SYNC_MODE_SYNCHRONOUS;
        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, NULL, &id, &job, &f->err), ==, -EOPNOTSUPP);
        /* Source and copy swapped: the source is remote. */
        spec = replica_spec(f, SYNC_TYPE_MIRROR, buf);
        spec.source_path = buf[1];
        spec.target_path = buf[0];
        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, NULL, &id, &job, &f->err), <, 0);
        spec = replica_spec(f, SYNC_TYPE_MIRROR, buf);
        spec.chunk_size = 3 * CHUNK;
        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, NULL, &id, &job, &f->err), ==, -EINVAL);
        f->config.max_synchronizations = 0;
        f->engine->config.max_synchronizations = 0;
        spec = replica_spec(f, SYNC_TYPE_MIRROR, buf);
        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, NULL, &id, &job, &f->err), ==, -EDQUOT);
        (void) engine_flush(f->engine);
        g_assert_cmpuint(f->engine->model->synchronizations.n, ==, 0);
        g_assert_cmpuint(f->engine->model->jobs.n, ==, jobs);
}

static void test_mirror_cycles(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_cycle_interval = true, .cycle_interval = 0 };
        uint64_t id, job = 0;
        Synchronization *s;
        Job *j;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_INITIALIZED);
        g_assert_cmpint(s->progress_status, ==, PROGRESS_STATUS_INITIALIZING);
        g_assert_cmpuint(s->job_id, ==, job);
        g_assert_cmpuint(model_get_volume(f->engine->model, f->source)->synchronizations.n, ==, 1);
        g_assert_false(files_equal(f));

        j = wait_job(f, job);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->job_id, ==, 0);
        g_assert_cmpuint(s->last_sync_time, >, 0);
        g_assert_cmpuint(s->next_sync_time, ==, 0);    /* CycleInterval 0: only on Resync */
        g_assert_cmpuint(s->bytes_transferred, ==, VOLUME_SIZE);
        g_assert_true(files_equal(f));
        /* The collection carries it: it stays. */
        g_assert_cmpint(engine_delete_collection(f->engine, &f->caller, f->collection, &f->err), ==, -EBUSY);

        /* About 1 % of the chunks change: a Resync sends those only. */
        scribble(f->local->backing_file, 3);
        scribble(f->local->backing_file, 100);
        scribble(f->local->backing_file, 255);
        job = operate(f, id, REPLICA_OPERATION_RESYNC, 0);
        g_assert_cmpuint(job, >, 0);
        j = wait_job(f, job);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->bytes_transferred, ==, 3 * CHUNK);
        g_assert_cmpuint(s->bytes_scanned, ==, VOLUME_SIZE);
        g_assert_true(files_equal(f));

        /* Unchanged: nothing is sent. */
        j = wait_job(f, operate(f, id, REPLICA_OPERATION_RESYNC, 0));
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(sync_of(f, id)->bytes_transferred, ==, 0);
}

static void test_clone(Fixture *f, gconstpointer data) {
        uint64_t id, job = 0;
        Synchronization *s;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_CLONE, NULL, &job);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_FRACTURED);
        g_assert_cmpint(s->progress_status, ==, PROGRESS_STATUS_COMPLETED);
        g_assert_cmpuint(s->next_sync_time, ==, 0);
        g_assert_true(files_equal(f));
        /* Fractured: no Suspend, but Resync. */
        operate(f, id, REPLICA_OPERATION_SUSPEND, -EBADRQC);
        g_assert_cmpint(wait_job(f, operate(f, id, REPLICA_OPERATION_RESYNC, 0))->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(sync_of(f, id)->copy_state, ==, COPY_STATE_FRACTURED);
}

static void test_suspend_resume_detach(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_bandwidth_limit = true, .bandwidth_limit = 4 * 1024 * 1024 };
        uint64_t id, job = 0, resumed;
        Synchronization *s;
        Job *j;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        run_until(f, sync_has_confirmed, id, "a first confirmation");
        /* Progress is announced while the cycle runs, on the job and on the synchronization. */
        g_assert_cmpuint(changes_count(f, OBJECT_SYNCHRONIZATION, id, "PercentSynced"), >, 0);
        g_assert_cmpuint(changes_count(f, OBJECT_SYNCHRONIZATION, id, "BytesScanned"), >, 0);
        g_assert_cmpuint(changes_count(f, OBJECT_JOB, job, "PercentComplete"), >, 0);
        g_assert_true(g_str_has_prefix(f->statuses->pdata[f->statuses->len - 1], "Copied "));
        operate(f, id, REPLICA_OPERATION_RESUME, -EBADRQC);
        operate(f, id, REPLICA_OPERATION_RESYNC, -EBADRQC);
        operate(f, id, 3, -EOPNOTSUPP);
        g_assert_cmpuint(operate(f, id, REPLICA_OPERATION_SUSPEND, 0), ==, 0);
        j = wait_job(f, job);
        g_assert_cmpint(j->state, ==, JOB_STATE_TERMINATED);
        g_assert_cmpint(j->error_reason, ==, REASON_SUSPENDED);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SUSPENDED);
        g_assert_cmpuint(s->job_id, ==, 0);
        g_assert_cmpuint(s->resume_chunk, >, 0);
        g_assert_cmpuint(s->resume_chunk, <, N_CHUNKS);

        /* Resume: the cut cycle goes on from where it stopped, now without a limit. */
        SyncSettings lift = { .set_bandwidth_limit = true, .bandwidth_limit = 0 };
        g_assert_cmpint(engine_modify_synchronization(f->engine, &f->caller, id, &lift, &f->err), ==, 0);
        resumed = operate(f, id, REPLICA_OPERATION_RESUME, 0);
        g_assert_cmpuint(resumed, >, 0);
        /* Once the call is stored, before the cycle copies anything, it is no longer Suspended. */
        g_assert_cmpint(engine_flush(f->engine), ==, 0);
        g_assert_cmpuint(sync_of(f, id)->copy_state, ==, COPY_STATE_UNSYNCHRONIZED);
        g_assert_cmpuint(sync_of(f, id)->progress_status, ==, PROGRESS_STATUS_RESYNCING);
        g_assert_cmpint(wait_job(f, resumed)->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->bytes_transferred, <, VOLUME_SIZE);
        g_assert_true(files_equal(f));

        /* Suspend with no cycle running, Resume: back to the schedule, no cycle now. */
        g_assert_cmpuint(operate(f, id, REPLICA_OPERATION_SUSPEND, 0), ==, 0);
        g_assert_cmpint(sync_of(f, id)->copy_state, ==, COPY_STATE_SUSPENDED);
        g_assert_cmpuint(operate(f, id, REPLICA_OPERATION_RESUME, 0), ==, 0);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->next_sync_time, ==, s->last_sync_time + s->cycle_interval);

        /* Detach: the object goes, the volumes are free, the copy keeps its data. */
        g_assert_cmpint(engine_delete_volume(f->engine, &f->caller, f->copy, &f->err), ==, -EBUSY);
        operate(f, id, REPLICA_OPERATION_DETACH, 0);
        g_assert_null(sync_of(f, id));
        g_assert_cmpuint(model_get_volume(f->engine->model, f->copy)->synchronizations.n, ==, 0);
        g_assert_true(files_equal(f));
        g_assert_cmpint(engine_delete_volume(f->engine, &f->caller, f->copy, &f->err), ==, 0);
        (void) engine_flush(f->engine);
        g_assert_null(model_get_volume(f->engine->model, f->copy));
}

static void test_compare(Fixture *f, gconstpointer data) {
        uint64_t id, job = 0;
        Job *j;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, NULL, &job);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(engine_compare_synchronization(f->engine, &f->caller, id, &job, &f->err), ==, 0);
        j = wait_job(f, job);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);

        /* A chunk changed behind the service's back on the copy. */
        scribble(f->remote->backing_file, 42);
        g_assert_cmpint(engine_compare_synchronization(f->engine, &f->caller, id, &job, &f->err), ==, 0);
        j = wait_job(f, job);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpint(j->error_reason, ==, REASON_REPLICA_DIFFERS);
        g_assert_true(g_str_has_prefix(j->error_description, "1 chunks differ"));
        g_assert_cmpint(sync_of(f, id)->copy_state, ==, COPY_STATE_SYNCHRONIZED);
}
/*
 * A new BandwidthLimit reaches the running cycle at once: at 256 KiB/s the
 * 16 MiB would take longer than the watchdog allows; lifted, it ends soon.
 */
static void test_limit_changed(Fixture *f, gconstpointer data) {
        SyncSettings slow = { .set_bandwidth_limit = true, .bandwidth_limit = 256 * 1024 };
        SyncSettings lift = { .set_bandwidth_limit = true, .bandwidth_limit = 0 };
        uint64_t id, job = 0;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &slow, &job);
        run_until(f, sync_has_transferred, id, "a first write");
        g_assert_cmpint(engine_modify_synchronization(f->engine, &f->caller, id, &lift, &f->err), ==, 0);
        g_assert_cmpuint(sync_of(f, id)->bandwidth_limit, ==, 0);
        g_assert_cmpuint(changes_count(f, OBJECT_SYNCHRONIZATION, id, "BandwidthLimit"), ==, 1);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        g_assert_true(files_equal(f));
}

/* The copy's target dies mid-cycle: the job ends in Exception with the reason, the synchronization is Broken. */
static void test_target_lost(Fixture *f, gconstpointer data) {
        SyncSettings slow = { .set_bandwidth_limit = true, .bandwidth_limit = 4 * 1024 * 1024 };
        uint64_t id, job = 0;
        Synchronization *s;
        Job *j;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &slow, &job);
        run_until(f, sync_has_confirmed, id, "a first confirmation");
        tgtd_kill(f->remote);
        j = wait_job(f, job);
        g_assert_cmpint(j->state, ==, JOB_STATE_EXCEPTION);
        g_assert_cmpint(j->error_reason, !=, REASON_NONE);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpint(s->progress_status, ==, PROGRESS_STATUS_DORMANT);
        g_assert_cmpint(s->last_error_reason, ==, j->error_reason);
        g_assert_cmpstr(s->last_error, ==, j->error_description);
        g_assert_cmpuint(s->resume_chunk, >, 0);
        g_assert_cmpuint(s->job_id, ==, 0);
}

/* ---- the gate: an old confirmed hash never outlives a write ---- */

static void read_chunk(const char *path, uint64_t chunk, guint8 *ret) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, ret, CHUNK, (off_t) (chunk * CHUNK)), ==, CHUNK);
        close(fd);
}

typedef struct Overwrite {
        Fixture *f;
        Store *committed;               /* a second connection: it sees committed changes only */
        uint64_t sync, chunk;
        CopyHash old;                   /* the hash confirmed before the source changed */
        unsigned checks;
} Overwrite;

/* The copy holds the source's new bytes of the chunk; whenever it does, the stored table must not vouch for the old. */
static bool new_bytes_on_copy(Fixture *f, uint64_t arg) {
        Overwrite *o = (Overwrite *) (uintptr_t) arg;
        g_autofree guint8 *source = g_malloc(CHUNK), *copy = g_malloc(CHUNK);
        g_autofree ChunkHashBlock *b = g_new0(ChunkHashBlock, 1);
        CopyHash h;

        read_chunk(f->remote->backing_file, o->chunk, copy);
        read_chunk(f->local->backing_file, o->chunk, source);
        o->checks++;
        if (memcmp(source, copy, CHUNK) != 0)
                return false;
        g_assert_cmpint(store_load_chunk_hash_block(o->committed, o->sync, chunk_hash_block_of(o->chunk), b), ==, 0);
        if (chunk_hash_block_get(b, o->chunk, h.bytes))
                g_assert_true(memcmp(&h, &o->old, sizeof(h)) != 0);
        return true;
}

/*
 * A Resync overwrites a chunk whose hash is confirmed: by the time the new
 * bytes reach the copy, the stored (committed) table no longer says the
 * copy holds the old ones. Checked after every event the loop dispatches.
 */
static void test_unconfirmed_before_write(Fixture *f, gconstpointer data) {
        g_autofree guint8 *bytes = g_malloc(CHUNK);
        g_autofree ChunkHashBlock *b = g_new0(ChunkHashBlock, 1);
        Overwrite ow = { .f = f, .chunk = 100 }, *o = &ow;
        uint64_t job = 0;

        SKIP_WITHOUT_TGTD();
        o->sync = create_replica(f, SYNC_TYPE_MIRROR, NULL, &job);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(store_open(f->dir, &o->committed), ==, 0);
        read_chunk(f->local->backing_file, o->chunk, bytes);
        copy_hash_chunk(bytes, CHUNK, &o->old);
        g_assert_cmpint(store_load_chunk_hash_block(o->committed, o->sync, 0, b), ==, 0);
        g_assert_true(chunk_hash_block_get(b, o->chunk, bytes));

        scribble(f->local->backing_file, o->chunk);
        job = operate(f, o->sync, REPLICA_OPERATION_RESYNC, 0);
        run_until(f, new_bytes_on_copy, (uintptr_t) o, "the new bytes on the copy");
        g_test_message("the write landed after %u checks", o->checks);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpuint(sync_of(f, o->sync)->bytes_transferred, ==, CHUNK);
        g_assert_true(files_equal(f));
        /* Confirmed again, with the new hash. */
        g_assert_cmpint(store_load_chunk_hash_block(o->committed, o->sync, 0, b), ==, 0);
        g_assert_true(chunk_hash_block_get(b, o->chunk, bytes));
        o->committed = store_close(o->committed);
}

/* The engine's own connection sees the unconfirming change as soon as it is written, before it commits. */
static bool chunk_unconfirmed(Fixture *f, uint64_t chunk) {
        g_autofree ChunkHashBlock *b = g_new0(ChunkHashBlock, 1);
        uint8_t h[REPLICA_HASH_SIZE];

        g_assert_cmpint(store_load_chunk_hash_block(f->engine->store, f->watched_sync, chunk_hash_block_of(chunk), b), ==, 0);
        return !chunk_hash_block_get(b, chunk, h);
}

/* Suspend while writes wait at the gate, then Resync: nothing is used after it is freed (ASan), the copy ends equal. */
static void test_suspend_at_gate(Fixture *f, gconstpointer data) {
        uint64_t job = 0;

        SKIP_WITHOUT_TGTD();
        f->watched_sync = create_replica(f, SYNC_TYPE_MIRROR, NULL, &job);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        for (uint64_t c = 10; c < N_CHUNKS; c += 10)
                scribble(f->local->backing_file, c);
        job = operate(f, f->watched_sync, REPLICA_OPERATION_RESYNC, 0);
        run_until(f, chunk_unconfirmed, 10, "the first chunk unconfirmed");
        g_assert_cmpuint(operate(f, f->watched_sync, REPLICA_OPERATION_SUSPEND, 0), ==, 0);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_TERMINATED);
        g_assert_cmpint(sync_of(f, f->watched_sync)->copy_state, ==, COPY_STATE_SUSPENDED);
        /* Cut before its first confirmation: Resume goes back to the schedule; Resync sends the rest. */
        job = operate(f, f->watched_sync, REPLICA_OPERATION_RESYNC, 0);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        g_assert_true(files_equal(f));
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
        ADD("/engine-replica/add-volume", test_add_volume);
        ADD("/engine-replica/create-invalid", test_create_invalid);
        ADD("/engine-replica/mirror-cycles", test_mirror_cycles);
        ADD("/engine-replica/clone", test_clone);
        ADD("/engine-replica/suspend-resume-detach", test_suspend_resume_detach);
        ADD("/engine-replica/compare", test_compare);
        ADD("/engine-replica/limit-changed", test_limit_changed);
        ADD("/engine-replica/target-lost", test_target_lost);
        ADD("/engine-replica/unconfirmed-before-write", test_unconfirmed_before_write);
        ADD("/engine-replica/suspend-at-gate", test_suspend_at_gate);
        return g_test_run();
}
