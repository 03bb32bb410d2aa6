/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine: replicas (API.md section 10) against two real targets: a "local"
 * tgtd on 127.0.0.91 serving the source from a file (reached through a local
 * access point), a "remote" one on 127.0.0.92 serving the copy (reached
 * through a peer's access point, from the local address). The backing files
 * are compared byte for byte. Waits run the loop until the awaited job ends,
 * under a watchdog, and never sleep. Skipped without root or tgt.
 */

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "tgtd.h"
#include "util/log.h"
#include "util/strutil.h"

#define LOCAL_ADDRESS "127.0.0.91"
#define REMOTE_ADDRESS "127.0.0.92"
#define LOCAL_NAME "iqn.2026-11.org.example.test:replica-host"
#define PEER_NAME "iqn.2026-11.org.example.test:replica-peer"
#define INITIATOR "iqn.2026-11.org.example.test:replica-initiator"
#define SOURCE_TARGET "iqn.2026-11.org.example.test:replica-source"
#define COPY_TARGET "iqn.2026-11.org.example.test:replica-copy"

#define CHUNK (64u * 1024u)
#define N_CHUNKS 256u
#define VOLUME_SIZE ((uint64_t) CHUNK * N_CHUNKS)      /* 16 MiB */

#define WATCHDOG_USEC (60 * USEC_PER_SEC)
#define PATH(kind, id) object_path_format((char[OBJECT_PATH_MAX]) {}, (kind), (id))

typedef struct Fixture {
        char *dir;
        sd_event *event;
        ServiceConfig config;
        Engine *engine;
        Caller caller;
        ReplError err;
        Tgtd *local, *remote;
        GHashTable *completed;          /* job ids that ended */
        GPtrArray *changes;             /* "kind id Prop,Prop" of every PropertiesChanged */
        GPtrArray *statuses;            /* every JobStatus announced */
        bool watchdog_fired;

        uint64_t local_ap, remote_ap, collection;
        uint64_t source, copy;          /* volumes */
        uint64_t watched_sync;
} Fixture;

static void on_job_completed(const Job *j, void *userdata) {
        Fixture *f = userdata;

        g_assert_true(job_state_is_finished(j->state));
        g_hash_table_add(f->completed, g_memdup2(&j->id, sizeof(j->id)));
}

static void on_properties_changed(ObjectKind kind, uint64_t id, const char * const *props, void *userdata) {
        Fixture *f = userdata;
        g_autofree char *joined = g_strjoinv(",", (char **) props);

        g_ptr_array_add(f->changes, g_strdup_printf("%s %" PRIu64 " %s", object_kind_to_string(kind), id, joined));
        if (kind == OBJECT_JOB && g_strv_contains(props, "JobStatus"))
                g_ptr_array_add(f->statuses, g_strdup(model_get_job(f->engine->model, id)->status));
}

static const EngineObserver observer = {
        .properties_changed = on_properties_changed,
        .job_completed = on_job_completed,
};

/* How many announcements of the object named prop. */
static unsigned changes_count(Fixture *f, ObjectKind kind, uint64_t id, const char *prop) {
        g_autofree char *prefix = g_strdup_printf("%s %" PRIu64 " ", object_kind_to_string(kind), id);
        unsigned n = 0;

        for (guint i = 0; i < f->changes->len; i++) {
                const char *c = f->changes->pdata[i];
                g_auto(GStrv) props = NULL;

                if (!g_str_has_prefix(c, prefix))
                        continue;
                props = g_strsplit(c + strlen(prefix), ",", -1);
                n += g_strv_contains((const char * const *) props, prop);
        }
        return n;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        ((Fixture *) userdata)->watchdog_fired = true;
        return 0;
}

typedef bool (*condition_t)(Fixture *f, uint64_t arg);

static void run_until(Fixture *f, condition_t done, uint64_t arg, const char *what) {
        sd_event_source *watchdog = NULL;

        f->watchdog_fired = false;
        g_assert_cmpint(sd_event_add_time_relative(f->event, &watchdog, CLOCK_MONOTONIC, WATCHDOG_USEC, 0, on_watchdog, f),
                        >=, 0);
        while (!done(f, arg)) {
                g_assert_cmpint(sd_event_run(f->event, UINT64_MAX), >=, 0);
                if (f->watchdog_fired)
                        g_error("watchdog: %s did not happen", what);
        }
        sd_event_source_disable_unref(watchdog);
}

static bool job_ended(Fixture *f, uint64_t id) {
        return g_hash_table_contains(f->completed, &id);
}

static Job *wait_job(Fixture *f, uint64_t id) {
        Job *j;

        run_until(f, job_ended, id, "the end of a job");
        j = model_get_job(f->engine->model, id);
        g_assert_nonnull(j);
        g_test_message("job %" PRIu64 " ended %s: %s", id, job_state_to_string(j->state), j->error_description);
        return j;
}

static Synchronization *sync_of(Fixture *f, uint64_t id) {
        (void) engine_flush(f->engine);
        return model_get_synchronization(f->engine->model, id);
}

static bool job_is_running(Fixture *f, uint64_t id) {
        Job *j = model_get_job(f->engine->model, id);

        return j && j->state == JOB_STATE_RUNNING;
}

/* A cycle job other than arg holds the synchronization f->watched_sync. */
static bool sync_has_other_job(Fixture *f, uint64_t job) {
        Synchronization *s = model_get_synchronization(f->engine->model, f->watched_sync);

        return s && s->job_id != 0 && s->job_id != job;
}

static bool sync_has_confirmed(Fixture *f, uint64_t id) {
        Synchronization *s = model_get_synchronization(f->engine->model, id);

        return s && s->resume_chunk > 0;
}

/* ---- files behind the targets ---- */

static void fill_random(const char *path) {
        g_autofree guint8 *buf = g_malloc(CHUNK);
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        for (uint64_t off = 0; off < VOLUME_SIZE; off += CHUNK) {
                for (size_t i = 0; i < CHUNK; i += 4)
                        *(guint32 *) (buf + i) = g_random_int();
                g_assert_cmpint(pwrite(fd, buf, CHUNK, (off_t) off), ==, CHUNK);
        }
        close(fd);
}

static void scribble(const char *path, uint64_t chunk) {
        guint8 bytes[16];
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        for (size_t i = 0; i < sizeof(bytes); i++)
                bytes[i] = (guint8) g_random_int();
        bytes[0] ^= 0xff;
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pwrite(fd, bytes, sizeof(bytes), (off_t) (chunk * CHUNK + CHUNK / 3)), ==, sizeof(bytes));
        close(fd);
}

static gboolean files_equal(Fixture *f) {
        g_autofree char *da = NULL, *db = NULL;
        gsize la = 0, lb = 0;

        g_assert_true(g_file_get_contents(f->local->backing_file, &da, &la, NULL));
        g_assert_true(g_file_get_contents(f->remote->backing_file, &db, &lb, NULL));
        g_assert_cmpuint(la, >=, VOLUME_SIZE);
        g_assert_cmpuint(lb, >=, VOLUME_SIZE);
        return memcmp(da, db, VOLUME_SIZE) == 0;
}

/* ---- the world: two access points, a collection of both, two volumes ---- */

static void engine_start(Fixture *f) {
        g_assert_cmpint(engine_new(f->event, f->dir, LOCAL_NAME, &f->config, &f->engine), ==, 0);
        engine_set_observer(f->engine, &observer, f);
        g_assert_cmpint(engine_recover(f->engine), ==, 0);
}

static uint64_t add_volume(Fixture *f, uint64_t ap, const char *target, uint16_t lun, Job **ret_job) {
        VolumeSpec spec = { .access_point_path = PATH(OBJECT_ACCESS_POINT, ap), .target_name = target, .lun = lun };
        uint64_t volume = 0, job = 0;

        g_assert_cmpint(engine_add_volume(f->engine, &f->caller, &spec, &volume, &job, &f->err), ==, 0);
        g_assert_cmpuint(volume, >, 0);
        *ret_job = wait_job(f, job);
        return volume;
}

static void fixture_setup(Fixture *f, gconstpointer data) {
        const char *locals[1], *remotes[1];
        AccessPointSpec la = { .address = LOCAL_ADDRESS, .target_name = SOURCE_TARGET };
        AccessPointSpec ra = { .address = REMOTE_ADDRESS, .target_name = COPY_TARGET };
        uint64_t peer = 0, job = 0;
        MemberArgs m;
        Job *j;

        if (!tgtd_available())
                return;
        log_set_max_level(LOG_WARNING);
        f->dir = g_dir_make_tmp("test-engine-replica-XXXXXX", NULL);
        g_assert_cmpint(sd_event_new(&f->event), ==, 0);
        f->config = SERVICE_CONFIG_INIT;
        f->config.verify_access_points = false;
        f->config.initiator_name = INITIATOR;
        f->config.progress_interval_usec = 20 * USEC_PER_MSEC;
        f->caller = (Caller) { .uid = 0, .owner = ":1.1 (uid 0)" };
        f->err = REPL_ERROR_INIT;
        f->completed = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        f->changes = g_ptr_array_new_with_free_func(g_free);
        f->statuses = g_ptr_array_new_with_free_func(g_free);
        f->local = tgtd_start(LOCAL_ADDRESS, SOURCE_TARGET, VOLUME_SIZE);
        f->remote = tgtd_start(REMOTE_ADDRESS, COPY_TARGET, VOLUME_SIZE);
        fill_random(f->local->backing_file);
        la.port = f->local->port;
        ra.port = f->remote->port;

        engine_start(f);
        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, LOCAL_SYSTEM_ID), &la,
                                                &f->local_ap, &f->err), ==, 0);
        g_assert_cmpint(engine_add_peer_system(f->engine, &f->caller, PEER_NAME, "", &peer, &f->err), ==, 0);
        g_assert_cmpint(engine_add_access_point(f->engine, &f->caller, PATH(OBJECT_SYSTEM, peer), &ra, &f->remote_ap,
                                                &f->err), ==, 0);
        locals[0] = g_strdup(PATH(OBJECT_ACCESS_POINT, f->local_ap));
        remotes[0] = g_strdup(PATH(OBJECT_ACCESS_POINT, f->remote_ap));
        m = (MemberArgs) { .local_paths = locals, .n_local = 1, .remote_paths = remotes, .n_remote = 1,
                           .system_path = PATH(OBJECT_SYSTEM, peer) };
        if (engine_create_collection(f->engine, &f->caller, "paths", &m, true, false, &f->collection, &job, &f->err) < 0)
                g_error("%s", f->err.message);
        g_assert_cmpuint(job, ==, 0);
        g_free((char *) locals[0]);
        g_free((char *) remotes[0]);

        f->source = add_volume(f, f->local_ap, NULL, 1, &j);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        f->copy = add_volume(f, f->remote_ap, NULL, 1, &j);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
}

static void rm_rf(const char *dir) {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *name;

        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d))) {
                g_autofree char *p = g_build_filename(dir, name, NULL);

                g_assert_cmpint(g_unlink(p), ==, 0);
        }
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
        if (!f->event)
                return;
        engine_free(f->engine);
        tgtd_free(f->local);
        tgtd_free(f->remote);
        sd_event_unref(f->event);
        g_hash_table_unref(f->completed);
        g_ptr_array_unref(f->changes);
        g_ptr_array_unref(f->statuses);
        rm_rf(f->dir);
        g_free(f->dir);
        repl_error_clear(&f->err);
}

static ReplicaSpec replica_spec(Fixture *f, uint16_t sync_type, char buf[3][OBJECT_PATH_MAX]) {
        return (ReplicaSpec) {
                .element_name = "r",
                .sync_type = sync_type,
                .mode = SYNC_MODE_ASYNCHRONOUS,
                .source_path = object_path_format(buf[0], OBJECT_VOLUME, f->source),
                .target_path = object_path_format(buf[1], OBJECT_VOLUME, f->copy),
                .collection_path = object_path_format(buf[2], OBJECT_COLLECTION, f->collection),
                .chunk_size = CHUNK,
        };
}

static uint64_t create_replica_of(Fixture *f, uint16_t sync_type, const SyncSettings *settings, uint64_t source,
                                  uint64_t copy, uint64_t *ret_job) {
        char buf[3][OBJECT_PATH_MAX];
        ReplicaSpec spec = replica_spec(f, sync_type, buf);
        uint64_t id = 0;

        spec.source_path = object_path_format(buf[0], OBJECT_VOLUME, source);
        spec.target_path = object_path_format(buf[1], OBJECT_VOLUME, copy);
        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, settings, &id, ret_job, &f->err), ==, 0);
        return id;
}

static uint64_t create_replica(Fixture *f, uint16_t sync_type, const SyncSettings *settings, uint64_t *ret_job) {
        char buf[3][OBJECT_PATH_MAX];
        ReplicaSpec spec = replica_spec(f, sync_type, buf);
        uint64_t id = 0;

        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, settings, &id, ret_job, &f->err), ==, 0);
        return id;
}

static uint64_t operate(Fixture *f, uint64_t sync, uint16_t operation, int expected) {
        uint64_t job = 0;

        g_assert_cmpint(engine_modify_replica(f->engine, &f->caller, operation, PATH(OBJECT_SYNCHRONIZATION, sync), &job,
                                              &f->err), ==, expected);
        return job;
}

/* ---- tests ---- */

#define SKIP_WITHOUT_TGTD() do { if (!f->event) { g_test_skip(tgtd_unavailable_reason()); return; } } while (0)

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

/* A crash mid-cycle (the engine freed without a shutdown), a restart, Resync: the copy ends equal, sending less. */
static void test_restart_mid_cycle(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_bandwidth_limit = true, .bandwidth_limit = 4 * 1024 * 1024 };
        uint64_t id, job = 0, resume;
        Synchronization *s;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        run_until(f, sync_has_confirmed, id, "a first confirmation");
        (void) engine_flush(f->engine);
        resume = model_get_synchronization(f->engine->model, id)->resume_chunk;
        f->engine = engine_free(f->engine);
        g_hash_table_remove_all(f->completed);

        engine_start(f);
        s = sync_of(f, id);
        g_assert_nonnull(s);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpint(s->last_error_reason, ==, REASON_INTERRUPTED);
        g_assert_cmpuint(s->resume_chunk, >=, resume);
        g_assert_cmpint(model_get_job(f->engine->model, job)->state, ==, JOB_STATE_EXCEPTION);
        resume = s->resume_chunk;

        SyncSettings lift = { .set_bandwidth_limit = true, .bandwidth_limit = 0 };
        g_assert_cmpint(engine_modify_synchronization(f->engine, &f->caller, id, &lift, &f->err), ==, 0);
        g_assert_cmpint(wait_job(f, operate(f, id, REPLICA_OPERATION_RESYNC, 0))->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->bytes_transferred, <, VOLUME_SIZE);
        g_assert_cmpuint(s->bytes_transferred, ==, VOLUME_SIZE - resume * CHUNK);
        g_assert_true(files_equal(f));
}


/* More cycles than the limit wait, Dormant with NextSyncTime set, and start when one ends. */
static void test_cycle_limit(Fixture *f, gconstpointer data) {
        SyncSettings slow = { .set_bandwidth_limit = true, .bandwidth_limit = 8 * 1024 * 1024 };
        uint64_t a, b, ja = 0, jb = 0, source2, copy2;
        Synchronization *s;
        Job *j;

        SKIP_WITHOUT_TGTD();
        tgtd_add_target(f->local, SOURCE_TARGET "2");
        tgtd_add_target(f->remote, COPY_TARGET "2");
        source2 = add_volume(f, f->local_ap, SOURCE_TARGET "2", 1, &j);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        copy2 = add_volume(f, f->remote_ap, COPY_TARGET "2", 1, &j);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        f->engine->config.max_running_cycles = 1;

        a = create_replica(f, SYNC_TYPE_MIRROR, &slow, &ja);
        run_until(f, job_is_running, ja, "the first cycle running");
        b = create_replica_of(f, SYNC_TYPE_MIRROR, NULL, source2, copy2, &jb);
        run_until(f, sync_has_confirmed, a, "a confirmation of the first cycle");
        s = sync_of(f, b);
        g_assert_cmpint(model_get_job(f->engine->model, jb)->state, ==, JOB_STATE_NEW);
        g_assert_cmpint(s->progress_status, ==, PROGRESS_STATUS_DORMANT);
        g_assert_cmpuint(s->next_sync_time, >, 0);
        g_assert_cmpuint(s->job_id, ==, jb);

        g_assert_cmpint(wait_job(f, ja)->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpint(wait_job(f, jb)->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, b);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(s->next_sync_time, ==, s->last_sync_time + s->cycle_interval);
        g_assert_cmpint(sync_of(f, a)->copy_state, ==, COPY_STATE_SYNCHRONIZED);
        g_assert_true(files_equal(f));
}

/* A Mirror's next cycle runs CycleInterval after the last one ended. */
static void test_schedule(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_cycle_interval = true, .cycle_interval = 50 * USEC_PER_MSEC };
        uint64_t id, job = 0, next;
        Synchronization *s;
        Job *j;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        g_assert_cmpint(wait_job(f, job)->state, ==, JOB_STATE_COMPLETED);
        s = sync_of(f, id);
        g_assert_cmpuint(s->next_sync_time, ==, s->last_sync_time + 50 * USEC_PER_MSEC);
        scribble(f->local->backing_file, 17);
        f->watched_sync = id;
        run_until(f, sync_has_other_job, job, "a scheduled cycle");
        next = sync_of(f, id)->job_id;
        j = wait_job(f, next);
        g_assert_cmpint(j->state, ==, JOB_STATE_COMPLETED);
        g_assert_cmpstr(j->name, ==, "ScheduledCycle");
        g_assert_cmpuint(sync_of(f, id)->bytes_transferred, ==, CHUNK);
        g_assert_true(files_equal(f));
        /* Suspended: no more scheduled cycles. */
        operate(f, id, REPLICA_OPERATION_SUSPEND, 0);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_SUSPENDED);
        g_assert_cmpuint(s->job_id, ==, 0);
        g_assert_null(f->engine->replica_timer);
}

/* A stop of the service mid-cycle: the job ends Interrupted and the synchronization is stored Broken. */
static void test_shutdown_mid_cycle(Fixture *f, gconstpointer data) {
        SyncSettings set = { .set_bandwidth_limit = true, .bandwidth_limit = 4 * 1024 * 1024 };
        uint64_t id, job = 0, resume;
        Synchronization *s;

        SKIP_WITHOUT_TGTD();
        id = create_replica(f, SYNC_TYPE_MIRROR, &set, &job);
        run_until(f, sync_has_confirmed, id, "a first confirmation");
        engine_shutdown(f->engine);
        g_assert_cmpint(model_get_job(f->engine->model, job)->state, ==, JOB_STATE_EXCEPTION);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpint(s->last_error_reason, ==, REASON_INTERRUPTED);
        resume = s->resume_chunk;
        g_assert_cmpuint(resume, >, 0);
        f->engine = engine_free(f->engine);

        engine_start(f);
        s = sync_of(f, id);
        g_assert_cmpint(s->copy_state, ==, COPY_STATE_BROKEN);
        g_assert_cmpuint(s->resume_chunk, ==, resume);
        g_assert_cmpint(s->last_error_reason, ==, REASON_INTERRUPTED);
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
        ADD("/engine-replica/restart-mid-cycle", test_restart_mid_cycle);
        ADD("/engine-replica/cycle-limit", test_cycle_limit);
        ADD("/engine-replica/schedule", test_schedule);
        ADD("/engine-replica/shutdown-mid-cycle", test_shutdown_mid_cycle);
        return g_test_run();
}
