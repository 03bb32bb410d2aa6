/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Replicas end to end (API.md section 10), judged by the data: two real tgtd
 * serve the source and the copy from files, and the tests compare those
 * files byte for byte after the service says a cycle ended. tgtd's backing
 * store reads and writes the file with pread/pwrite, so what a WRITE16 put
 * there is in the file (the page cache) once the command completed.
 */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "backing-file.h"
#include "iscsi-relay.h"
#include "replica-fixture.h"

#define SOURCE_ADDRESS "127.0.0.83"
#define COPY_ADDRESS "127.0.0.84"
#define RELAY_ADDRESS "127.0.0.85"     /* in front of the copy's tgtd, where a test needs it */
#define CHUNK (64 * 1024)
#define CHUNKS 256
#define VOLUME_SIZE ((guint64) CHUNK * CHUNKS)  /* 16 MiB */

#define COPY_STATE_UNSYNCHRONIZED 3
#define COPY_STATE_SYNCHRONIZED 4
#define COPY_STATE_BROKEN 5
#define COPY_STATE_FRACTURED 6
#define COPY_STATE_SUSPENDED 9
#define PROGRESS_COMPLETED 2
#define OP_DETACH 8
#define OP_RESYNC 14
#define OP_RESUME 16
#define OP_SUSPEND 22

/* ---- the backing files ---- */

static void assert_copy_equal(const ReplicaFixture *f) {
        if (!backing_files_equal(f->source_tgtd->backing_file, f->copy_tgtd->backing_file, VOLUME_SIZE))
                g_error("the copy's backing file differs from the source's");
}

/* ---- the service ---- */

/* The fixture on a random source of VOLUME_SIZE; FALSE when tgtd cannot run. */
static gboolean replica_world(ReplicaFixture *f, Harness *h) {
        if (!replica_fixture_init(f, h, SOURCE_ADDRESS, COPY_ADDRESS, VOLUME_SIZE))
                return FALSE;   /* skipped: tgtd cannot run here */
        backing_file_fill_random(f->source_tgtd->backing_file, VOLUME_SIZE);
        return TRUE;
}

/* CreateElementReplica with 64 KiB chunks, no schedule (CycleInterval 0) and bandwidth_limit. */
static char *create(Harness *h, const ReplicaFixture *f, guint16 sync_type, guint64 bandwidth_limit, char **ret_job) {
        GVariantBuilder b;
        guint32 rv;
        const char *job, *sync;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "ChunkSize", g_variant_new_uint32(CHUNK));
        g_variant_builder_add(&b, "{sv}", "CycleInterval", g_variant_new_uint64(0));
        g_variant_builder_add(&b, "{sv}", "BandwidthLimit", g_variant_new_uint64(bandwidth_limit));
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateElementReplica",
                g_variant_new("(sqqoooa{sv})", "replica", sync_type, 3, f->source, f->copy, f->collection, &b));
        g_variant_get(reply, "(u&o&o)", &rv, &job, &sync);
        g_assert_cmpuint(rv, ==, 4096);
        *ret_job = g_strdup(job);
        return g_strdup(sync);
}

/* ModifyReplicaSynchronization; returns the job when one started, else NULL. */
static char *modify(Harness *h, guint16 operation, const char *sync, guint32 expected_rv) {
        guint32 rv;
        const char *job;

        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "ModifyReplicaSynchronization",
                                                 g_variant_new("(qoa{sv})", operation, sync, NULL));
        g_variant_get(reply, "(u&o)", &rv, &job);
        g_assert_cmpuint(rv, ==, expected_rv);
        if (rv == 4096) {
                g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
                return g_strdup(job);
        }
        g_assert_cmpstr(job, ==, "/");
        return NULL;
}

/* Waits for the job; asserts it succeeded (or failed, as expected). */
static void assert_job_ends(Harness *h, const char *job, gboolean expect_ok) {
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        gboolean ok;

        g_variant_get(done, "(bqs)", &ok, NULL, NULL);
        if (ok != expect_ok)
                g_error("job %s: expected %s, got %s", job, expect_ok ? "success" : "failure",
                        g_variant_print(done, FALSE));
}

static guint16 copy_state(Harness *h, const char *sync) {
        return harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "CopyState");
}

static guint64 bytes_transferred(Harness *h, const char *sync) {
        return harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "BytesTransferred");
}

/* A Resync that completes; returns BytesTransferred of its cycle. */
static guint64 resync(Harness *h, const char *sync) {
        g_autofree char *job = modify(h, OP_RESYNC, sync, 4096);

        assert_job_ends(h, job, TRUE);
        return bytes_transferred(h, sync);
}

typedef struct Progress {
        const char *sync;
        guint64 at_least;
} Progress;

/* PropertiesChanged of the synchronization with BytesTransferred at or past the threshold. */
static gboolean match_transferred(const HarnessSignal *s, gpointer user_data) {
        const Progress *p = user_data;
        guint64 bytes;

        if (g_strcmp0(s->path, p->sync) != 0 || g_strcmp0(s->member, "PropertiesChanged") != 0)
                return FALSE;
        g_autoptr(GVariant) changed = harness_properties_changed_dict(s);
        return g_variant_lookup(changed, "BytesTransferred", "t", &bytes) && bytes >= p->at_least;
}

/*
 * Waits until the running cycle has sent at_least bytes. Past half the volume
 * the service has confirmed some (a SYNCHRONIZE CACHE on the copy every few
 * MiB), so what a cut-short cycle leaves is remembered.
 */
static void wait_transferred(Harness *h, const char *sync, guint64 at_least) {
        Progress p = { sync, at_least };
        g_autoptr(HarnessSignal) s = harness_wait_signal(h, sync, NULL, "PropertiesChanged", match_transferred, &p);
}

/* Sets BandwidthLimit through the synchronization's Modify. */
static void set_bandwidth_limit(Harness *h, const char *sync, guint64 limit) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "BandwidthLimit", g_variant_new_uint64(limit));
        g_autoptr(GVariant) r = harness_call(h, sync, IRD_IFACE_SYNCHRONIZATION, "Modify",
                                             g_variant_new("(a{sv})", &b));
}

/* ------------------------------------------------------------------------ */

/* The first cycle copies everything; a Resync sends the changed chunks only; an unchanged source nothing. */
static void test_mirror(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autofree char *job = NULL;
        const guint changed[] = { 7, 130, 255 };        /* 1 % of the chunks */

        if (!replica_world(&f, h))
                return;
        g_autofree char *sync = create(h, &f, 6, 0, &job);
        assert_job_ends(h, job, TRUE);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_SYNCHRONIZED);
        g_assert_cmpuint(bytes_transferred(h, sync), ==, VOLUME_SIZE);
        g_assert_cmpuint(harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "LastSyncTime"), >, 0);
        assert_copy_equal(&f);

        for (size_t i = 0; i < G_N_ELEMENTS(changed); i++)
                backing_file_scribble(f.source_tgtd->backing_file, changed[i], CHUNK);
        g_assert_false(backing_files_equal(f.source_tgtd->backing_file, f.copy_tgtd->backing_file, VOLUME_SIZE));
        g_assert_cmpuint(resync(h, sync), ==, G_N_ELEMENTS(changed) * CHUNK);
        g_assert_cmpuint(harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "BytesScanned"), ==, VOLUME_SIZE);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_SYNCHRONIZED);
        assert_copy_equal(&f);

        g_assert_cmpuint(resync(h, sync), ==, 0);
        assert_copy_equal(&f);
}

/* A Clone copies once and ends Fractured. */
static void test_clone(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autofree char *job = NULL;

        if (!replica_world(&f, h))
                return;
        g_autofree char *sync = create(h, &f, 8, 0, &job);
        assert_job_ends(h, job, TRUE);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_FRACTURED);
        g_assert_cmpuint(harness_get_uint16(h, sync, IRD_IFACE_SYNCHRONIZATION, "ProgressStatus"), ==,
                         PROGRESS_COMPLETED);
        g_assert_cmpuint(bytes_transferred(h, sync), ==, VOLUME_SIZE);
        g_autofree char *current = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "Job");
        g_assert_cmpstr(current, ==, "/");
        assert_copy_equal(&f);
}

/* The service killed in the middle of the first cycle: after a restart, a Resync finishes what was left. */
static void test_killed_mid_cycle(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autofree char *job = NULL;

        if (!replica_world(&f, h))
                return;
        /* 16 MiB at 4 MiB/s: about four seconds, killed past the middle. */
        g_autofree char *sync = create(h, &f, 6, 4 << 20, &job);
        wait_transferred(h, sync, VOLUME_SIZE / 2);
        harness_kill_daemon(h);
        harness_start_daemon(h);

        g_autofree char *running = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "Job");
        g_test_message("after the restart: CopyState %u, Job %s", copy_state(h, sync), running);
        g_assert_cmpstr(running, ==, "/");
        g_assert_cmpuint(copy_state(h, sync), !=, COPY_STATE_SYNCHRONIZED);
        g_assert_false(backing_files_equal(f.source_tgtd->backing_file, f.copy_tgtd->backing_file, VOLUME_SIZE));

        set_bandwidth_limit(h, sync, 0);
        guint64 resumed = resync(h, sync);
        g_test_message("the resumed cycle transferred %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes", resumed,
                       VOLUME_SIZE);
        g_assert_cmpuint(resumed, >, 0);
        g_assert_cmpuint(resumed, <, VOLUME_SIZE);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_SYNCHRONIZED);
        assert_copy_equal(&f);
}

static void read_chunk(const char *path, guint chunk, guint8 *ret) {
        int fd = open(path, O_RDONLY);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pread(fd, ret, CHUNK, (off_t) chunk * CHUNK), ==, CHUNK);
        g_assert_cmpint(close(fd), ==, 0);
}

static void write_chunk(const char *path, guint chunk, const guint8 *bytes) {
        int fd = open(path, O_WRONLY);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(pwrite(fd, bytes, CHUNK, (off_t) chunk * CHUNK), ==, CHUNK);
        g_assert_cmpint(close(fd), ==, 0);
}

/*
 * A chunk's write reaches the copy, the service is killed before a
 * SYNCHRONIZE CACHE confirmed it, and the source goes back to the bytes the
 * copy held before: after a restart, a Resync must not take the old
 * confirmed hash for what the copy holds. The copy is reached through a
 * relay that holds the SYNCHRONIZE CACHE, so the kill lands in between.
 */
static void test_killed_before_confirmation(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autoptr(IscsiRelay) relay = NULL;
        g_autofree guint8 *old = g_malloc(CHUNK), *now = g_malloc(CHUNK), *copy = g_malloc(CHUNK);
        g_autofree char *job = NULL, *resync_job = NULL;
        const guint chunk = 7;

        if (!replica_fixture_start_targets(&f, SOURCE_ADDRESS, COPY_ADDRESS, VOLUME_SIZE))
                return;
        relay = iscsi_relay_new(RELAY_ADDRESS, COPY_ADDRESS, f.copy_tgtd->port);
        replica_fixture_register(&f, h, RELAY_ADDRESS, iscsi_relay_port(relay));
        backing_file_fill_random(f.source_tgtd->backing_file, VOLUME_SIZE);
        g_autofree char *sync = create(h, &f, 6, 0, &job);
        assert_job_ends(h, job, TRUE);
        assert_copy_equal(&f);

        /* The source changes; the Resync's write lands, its confirmation is held, the service dies. */
        read_chunk(f.source_tgtd->backing_file, chunk, old);
        backing_file_scribble(f.source_tgtd->backing_file, chunk, CHUNK);
        read_chunk(f.source_tgtd->backing_file, chunk, now);
        iscsi_relay_hold_sync(relay);
        resync_job = modify(h, OP_RESYNC, sync, 4096);
        iscsi_relay_wait_held(relay, h);
        read_chunk(f.copy_tgtd->backing_file, chunk, copy);
        g_assert_true(memcmp(copy, now, CHUNK) == 0);
        harness_kill_daemon(h);

        /* The source goes back to what the copy held when its hash was confirmed. */
        write_chunk(f.source_tgtd->backing_file, chunk, old);
        harness_start_daemon(h);
        g_assert_cmpuint(resync(h, sync), >=, CHUNK);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_SYNCHRONIZED);
        assert_copy_equal(&f);
}

/* The copy's target killed mid-cycle: the job fails with a reason, the sync is Broken; back, a Resync completes. */
static void test_copy_target_gone(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autofree char *job = NULL;

        if (!replica_world(&f, h))
                return;
        g_autofree char *sync = create(h, &f, 6, 4 << 20, &job);
        wait_transferred(h, sync, VOLUME_SIZE / 2);
        tgtd_kill(f.copy_tgtd);
        assert_job_ends(h, job, FALSE);

        g_autofree char *reason = harness_job_message_id(h, job);
        g_autofree char *last_error = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "LastError");
        g_autofree char *last_error_id = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "LastErrorID");
        g_test_message("the cycle failed: %s (%s); LastError %s", reason, last_error_id, last_error);
        g_assert_cmpstr(reason, !=, "");
        g_assert_cmpstr(last_error_id, ==, reason);
        g_assert_cmpstr(last_error, !=, "");
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_BROKEN);
        g_autofree char *running = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "Job");
        g_assert_cmpstr(running, ==, "/");

        tgtd_restart(f.copy_tgtd);
        set_bandwidth_limit(h, sync, 0);
        guint64 resumed = resync(h, sync);
        g_assert_cmpuint(resumed, <, VOLUME_SIZE);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_SYNCHRONIZED);
        assert_copy_equal(&f);
}

/* Suspend stops the cycle at once; Resume and Resync go on; Compare sees a change behind the service's back; Detach. */
static void test_operations(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autofree char *job = NULL;

        if (!replica_world(&f, h))
                return;
        g_autofree char *sync = create(h, &f, 6, 4 << 20, &job);
        wait_transferred(h, sync, VOLUME_SIZE / 2);
        g_autofree char *none = modify(h, OP_SUSPEND, sync, 0);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_SUSPENDED);
        assert_job_ends(h, job, FALSE);
        g_autofree char *running = harness_get_string(h, sync, IRD_IFACE_SYNCHRONIZATION, "Job");
        g_assert_cmpstr(running, ==, "/");
        g_assert_cmpuint(harness_get_uint64(h, sync, IRD_IFACE_SYNCHRONIZATION, "NextSyncTime"), ==, 0);
        guint64 stopped_at = bytes_transferred(h, sync);
        g_assert_cmpuint(stopped_at, <, VOLUME_SIZE);
        g_assert_false(backing_files_equal(f.source_tgtd->backing_file, f.copy_tgtd->backing_file, VOLUME_SIZE));

        /* Resume goes on with the cycle cut short, from where it stopped; a Resync after it has nothing to send. */
        g_autofree char *resumed_job = modify(h, OP_RESUME, sync, 4096);
        /* The state says so with the reply: no longer Suspended. */
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_UNSYNCHRONIZED);
        set_bandwidth_limit(h, sync, 0);
        assert_job_ends(h, resumed_job, TRUE);
        g_assert_cmpuint(bytes_transferred(h, sync), <, VOLUME_SIZE);
        g_assert_cmpuint(copy_state(h, sync), ==, COPY_STATE_SYNCHRONIZED);
        assert_copy_equal(&f);
        g_assert_cmpuint(resync(h, sync), ==, 0);

        /* Compare: equal, then one chunk of the copy changed behind the service's back. */
        guint32 rv;
        const char *compare_job;
        g_autoptr(GVariant) equal = harness_call(h, sync, IRD_IFACE_SYNCHRONIZATION, "Compare", NULL);
        g_variant_get(equal, "(u&o)", &rv, &compare_job);
        g_assert_cmpuint(rv, ==, 4096);
        assert_job_ends(h, compare_job, TRUE);
        backing_file_scribble(f.copy_tgtd->backing_file, 42, CHUNK);
        g_autoptr(GVariant) differs = harness_call(h, sync, IRD_IFACE_SYNCHRONIZATION, "Compare", NULL);
        g_variant_get(differs, "(u&o)", &rv, &compare_job);
        g_assert_cmpuint(rv, ==, 4096);
        assert_job_ends(h, compare_job, FALSE);
        g_autofree char *message_id = harness_job_message_id(h, compare_job);
        g_assert_cmpstr(message_id, ==, "ReplicaDiffers");
        g_auto(GStrv) affected = harness_get_paths(h, compare_job, IRD_IFACE_JOB, "AffectedElements");
        harness_assert_strv_paths(affected, (const char *const[]) { sync, NULL });

        /* Detach: the object goes, the copy keeps its data, both volumes stay. */
        g_autofree char *copy_before = NULL;
        g_assert_true(g_file_get_contents(f.copy_tgtd->backing_file, &copy_before, NULL, NULL));
        harness_clear_signals(h);
        g_autofree char *detached = modify(h, OP_DETACH, sync, 0);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, sync);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, sync));
        g_assert_true(g_strv_contains((const char *const *) paths, f.copy));
        g_auto(GStrv) of_copy = harness_get_paths(h, f.copy, IRD_IFACE_VOLUME, "Synchronizations");
        g_assert_cmpuint(g_strv_length(of_copy), ==, 0);
        g_autofree char *copy_after = NULL;
        g_assert_true(g_file_get_contents(f.copy_tgtd->backing_file, &copy_after, NULL, NULL));
        g_assert_true(memcmp(copy_before, copy_after, VOLUME_SIZE) == 0);
}

/* BandwidthLimit holds the rate the test sees within 10 % over a copy of about four seconds. */
static void test_bandwidth_limit(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autofree char *job = NULL;
        const guint64 limit = 4 << 20;
        guint64 from;

        if (!replica_world(&f, h))
                return;
        g_autofree char *sync = create(h, &f, 6, limit, &job);
        /* Measured from past the first MiB, so that the bucket's first burst does not count. */
        wait_transferred(h, sync, 1 << 20);
        gint64 start = g_get_monotonic_time();
        from = bytes_transferred(h, sync);
        assert_job_ends(h, job, TRUE);
        gint64 end = g_get_monotonic_time();
        g_assert_cmpuint(bytes_transferred(h, sync), ==, VOLUME_SIZE);

        double rate = (double) (VOLUME_SIZE - from) * G_USEC_PER_SEC / (double) (end - start);
        g_test_message("%" G_GUINT64_FORMAT " bytes in %.2f s: %.0f bytes/s, limit %" G_GUINT64_FORMAT,
                       VOLUME_SIZE - from, (double) (end - start) / G_USEC_PER_SEC, rate, limit);
        g_assert_cmpfloat(rate, >=, 0.9 * (double) limit);
        g_assert_cmpfloat(rate, <=, 1.1 * (double) limit);
        assert_copy_equal(&f);
}

/* Asserts the call fails with error_name and that no object or property changed. */
static void assert_fails_unchanged(Harness *h, const char *method, GVariant *params, const char *error_name) {
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *message = harness_call_error(h, IRD_ROOT, IRD_IFACE_SERVICE, method, params, error_name);
        g_autofree char *after = harness_snapshot(h);

        g_test_message("%s: %s", method, message);
        g_assert_cmpstr(before, ==, after);
}

/* A remote volume on its own tgtd, half the source's size, its access point in the fixture's collection. */
static char *small_copy(Harness *h, const ReplicaFixture *f, Tgtd **ret_tgtd) {
        const char *target = "iqn.2026-11.org.example.replica:copy:small";
        g_autofree char *collection_job = NULL;
        Tgtd *t = tgtd_start("127.0.0.85", target, VOLUME_SIZE / 2);

        g_autofree char *ap = harness_add_access_point(h, f->peer, "127.0.0.85", t->port, target);
        if (harness_add_to_collection(h, f->collection, NULL, (const char *const[]) { ap, NULL }, f->peer,
                                      &collection_job) == 4096)
                assert_job_ends(h, collection_job, TRUE);
        *ret_tgtd = t;
        return replica_fixture_add_volume(h, ap, NULL, "small");
}

/* Bad arguments the bus test cannot reach without data: each gets its error and changes nothing. */
static void test_bad_arguments(Harness *h, gconstpointer data) {
        g_auto(ReplicaFixture) f = { 0 };
        g_autoptr(Tgtd) small_tgtd = NULL;
        GVariantBuilder b;
        guint32 rv;
        const char *job, *volume;

        if (!replica_world(&f, h))
                return;
        /* A copy smaller than the source. */
        g_autofree char *small = small_copy(h, &f, &small_tgtd);
        assert_fails_unchanged(h, "CreateElementReplica",
                               g_variant_new("(sqqoooa{sv})", "small", 6, 3, f.source, small, f.collection, NULL),
                               IRD_ERROR_INVALID_PARAMETER);
        /* A source that is remote, a copy that is local. */
        assert_fails_unchanged(h, "CreateElementReplica",
                               g_variant_new("(sqqoooa{sv})", "reversed", 6, 3, f.copy, f.source, f.collection, NULL),
                               IRD_ERROR_INVALID_PARAMETER);

        /* A LUN the target does not have: the job ends in Exception and no volume is made. */
        g_auto(GStrv) paths_before = harness_object_paths(h);
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "LUN", g_variant_new_uint16(9));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddStorageVolume",
                                                 g_variant_new("(oa{sv})", f.local_ap, &b));
        g_variant_get(reply, "(u&o&o)", &rv, &job, &volume);
        g_assert_cmpuint(rv, ==, 4096);
        assert_job_ends(h, job, FALSE);
        g_autofree char *reason = harness_job_message_id(h, job);
        g_test_message("LUN 9: %s", reason);
        g_assert_cmpstr(reason, !=, "");
        g_auto(GStrv) paths_after = harness_object_paths(h);
        for (char **p = paths_after; *p; p++)
                if (!g_str_equal(*p, job) && !g_strv_contains((const char *const *) paths_before, *p))
                        g_error("a failed AddStorageVolume left %s", *p);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/replicas/mirror", NULL, test_mirror);
        harness_add_test("/integration/replicas/clone", NULL, test_clone);
        harness_add_test("/integration/replicas/killed-mid-cycle", NULL, test_killed_mid_cycle);
        harness_add_test("/integration/replicas/killed-before-confirmation", NULL, test_killed_before_confirmation);
        harness_add_test("/integration/replicas/copy-target-gone", NULL, test_copy_target_gone);
        harness_add_test("/integration/replicas/operations", NULL, test_operations);
        harness_add_test("/integration/replicas/bandwidth-limit", NULL, test_bandwidth_limit);
        harness_add_test("/integration/replicas/bad-arguments", NULL, test_bad_arguments);

        return g_test_run();
}
