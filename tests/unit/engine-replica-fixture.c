/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The replica engine tests' world (engine-replica-fixture.h). */

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine-replica-fixture.h"
#include "util/log.h"
#include "util/strutil.h"

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
unsigned changes_count(Fixture *f, ObjectKind kind, uint64_t id, const char *prop) {
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

void run_until(Fixture *f, condition_t done, uint64_t arg, const char *what) {
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

Job *wait_job(Fixture *f, uint64_t id) {
        Job *j;

        run_until(f, job_ended, id, "the end of a job");
        j = model_get_job(f->engine->model, id);
        g_assert_nonnull(j);
        g_test_message("job %" PRIu64 " ended %s: %s", id, job_state_to_string(j->state), j->error_description);
        return j;
}

Synchronization *sync_of(Fixture *f, uint64_t id) {
        (void) engine_flush(f->engine);
        return model_get_synchronization(f->engine->model, id);
}

bool job_is_running(Fixture *f, uint64_t id) {
        Job *j = model_get_job(f->engine->model, id);

        return j && j->state == JOB_STATE_RUNNING;
}

/* A cycle job other than arg holds the synchronization f->watched_sync. */
bool sync_has_other_job(Fixture *f, uint64_t job) {
        Synchronization *s = model_get_synchronization(f->engine->model, f->watched_sync);

        return s && s->job_id != 0 && s->job_id != job;
}

bool sync_has_confirmed(Fixture *f, uint64_t id) {
        Synchronization *s = model_get_synchronization(f->engine->model, id);

        return s && s->resume_chunk > 0;
}

/* ---- files behind the targets ---- */

gboolean files_equal(Fixture *f) {
        return backing_files_equal(f->local->backing_file, f->remote->backing_file, VOLUME_SIZE);
}

/* ---- the world: two access points, a collection of both, two volumes ---- */

void engine_start(Fixture *f) {
        g_assert_cmpint(engine_new(f->event, f->dir, LOCAL_NAME, &f->config, &f->engine), ==, 0);
        engine_set_observer(f->engine, &observer, f);
        g_assert_cmpint(engine_recover(f->engine), ==, 0);
}

uint64_t add_volume(Fixture *f, uint64_t ap, const char *target, uint16_t lun, Job **ret_job) {
        VolumeSpec spec = { .access_point_path = PATH(OBJECT_ACCESS_POINT, ap), .target_name = target, .lun = lun };
        uint64_t volume = 0, job = 0;

        g_assert_cmpint(engine_add_volume(f->engine, &f->caller, &spec, &volume, &job, &f->err), ==, 0);
        g_assert_cmpuint(volume, >, 0);
        *ret_job = wait_job(f, job);
        return volume;
}

void fixture_setup(Fixture *f, gconstpointer data) {
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
        backing_file_fill_random(f->local->backing_file, VOLUME_SIZE);
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

void fixture_teardown(Fixture *f, gconstpointer data) {
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

ReplicaSpec replica_spec(Fixture *f, uint16_t sync_type, char buf[3][OBJECT_PATH_MAX]) {
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

uint64_t create_replica_of(Fixture *f, uint16_t sync_type, const SyncSettings *settings, uint64_t source,
                                  uint64_t copy, uint64_t *ret_job) {
        char buf[3][OBJECT_PATH_MAX];
        ReplicaSpec spec = replica_spec(f, sync_type, buf);
        uint64_t id = 0;

        spec.source_path = object_path_format(buf[0], OBJECT_VOLUME, source);
        spec.target_path = object_path_format(buf[1], OBJECT_VOLUME, copy);
        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, settings, &id, ret_job, &f->err), ==, 0);
        return id;
}

uint64_t create_replica(Fixture *f, uint16_t sync_type, const SyncSettings *settings, uint64_t *ret_job) {
        char buf[3][OBJECT_PATH_MAX];
        ReplicaSpec spec = replica_spec(f, sync_type, buf);
        uint64_t id = 0;

        g_assert_cmpint(engine_create_replica(f->engine, &f->caller, &spec, settings, &id, ret_job, &f->err), ==, 0);
        return id;
}

uint64_t operate(Fixture *f, uint64_t sync, uint16_t operation, int expected) {
        uint64_t job = 0;

        g_assert_cmpint(engine_modify_replica(f->engine, &f->caller, operation, PATH(OBJECT_SYNCHRONIZATION, sync), &job,
                                              &f->err), ==, expected);
        return job;
}

bool sync_has_transferred(Fixture *f, uint64_t id) {
        Synchronization *s = model_get_synchronization(f->engine->model, id);

        return s && s->bytes_transferred > 0;
}
