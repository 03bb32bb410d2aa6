/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Jobs that verify remote access points (API.md sections 6 and 7): Verify,
 * GetPeerSystems and creating a collection with remote members, at the
 * socket and the iSCSI level on 127.0.0.0/8; and the limits on how long
 * finished jobs stay and how many jobs may run.
 */

#include <string.h>

#include "harness.h"
#include "jobs-fixture.h"

static const char *const quick_args[] = { "--probe-timeout=0.5", NULL };
static const HarnessConfig quick = { .daemon_args = quick_args };
/* Long enough that a black-holed job is still running whenever the test looks. */
static const char *const slow_args[] = { "--probe-timeout=60", NULL };
static const HarnessConfig slow = { .daemon_args = slow_args };
static const char *const removal_args[] = { "--probe-timeout=0.5", "--job-time-before-removal=1", NULL };
static const HarnessConfig removal = { .daemon_args = removal_args };
static const char *const retention_args[] = { "--probe-timeout=0.5", "--max-finished-jobs=2", NULL };
static const HarnessConfig retention = { .daemon_args = retention_args };
static const char *const one_running_args[] = { "--probe-timeout=60", "--max-running-jobs=1", NULL };
static const HarnessConfig one_running = { .daemon_args = one_running_args };
static const char *const one_per_user_args[] = { "--probe-timeout=60", "--max-running-jobs-per-user=1", NULL };
static const HarnessConfig one_per_user = { .daemon_args = one_per_user_args };

static void set_property(Harness *h, const char *path, const char *name, GVariant *value) {
        g_autoptr(GVariant) r = harness_call(h, path, PROPERTIES, "Set",
                                             g_variant_new("(ssv)", IRD_IFACE_JOB, name, value));
}

static void test_time_before_removal(Harness *h, gconstpointer data) {
        Scene s;
        scene_init(h, &s, HARNESS_PEER_BLACK_HOLE);
        g_autofree char *job = scene_start_add(h, &s);

        g_assert_cmpuint(harness_get_uint64(h, job, IRD_IFACE_JOB, "TimeBeforeRemoval"), ==, G_USEC_PER_SEC);
        if (!harness_get_boolean(h, job, IRD_IFACE_JOB, "DeleteOnCompletion"))
                set_property(h, job, "DeleteOnCompletion", g_variant_new_boolean(TRUE));

        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_EXCEPTION);
        gint64 finished = g_get_monotonic_time();
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, job);
        gint64 waited = (gint64) removed->received_usec - finished;
        g_test_message("removed %" G_GINT64_FORMAT " µs after Completed", waited);
        /* It stays for TimeBeforeRemoval, whatever DeleteOnCompletion says. */
        g_assert_cmpint(waited, >=, 800 * 1000);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, job));
        scene_clear(&s);
}

static char *start_verify(Harness *h, const char *ap) {
        g_autoptr(GVariant) reply = harness_call(h, ap, IRD_IFACE_AP, "Verify", NULL);
        guint32 rv;
        const char *job;
        g_variant_get(reply, "(u&o)", &rv, &job);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_true(g_str_has_prefix(job, IRD_ROOT "/job/"));
        return g_strdup(job);
}

static void test_retention(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(refusing), NULL);
        char *jobs[3];

        harness_clear_signals(h);
        for (int i = 0; i < 3; i++) {
                jobs[i] = start_verify(h, ap);
                set_property(h, jobs[i], "DeleteOnCompletion", g_variant_new_boolean(FALSE));
                g_assert_false(harness_get_boolean(h, jobs[i], IRD_IFACE_JOB, "DeleteOnCompletion"));
                /* The Set above may land after Completed, so the ordering check does not apply here. */
                g_autoptr(GVariant) done = harness_wait_job_completed(h, jobs[i]);
                g_assert_cmpuint(job_state(h, jobs[i]), ==, IRD_JOB_EXCEPTION);
        }
        /* Keeping two finished jobs: the oldest goes. */
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, jobs[0]);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, jobs[0]));
        g_assert_true(g_strv_contains((const char *const *) paths, jobs[1]));
        g_assert_true(g_strv_contains((const char *const *) paths, jobs[2]));
        for (int i = 0; i < 3; i++)
                g_free(jobs[i]);
}

static void test_max_running(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        g_autofree char *ap2 = harness_add_access_point(h, peer, "127.0.0.2", 3260, NULL);

        g_autofree char *job = start_verify(h, ap);
        harness_wait_job_running(h, job);
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *m = harness_call_error(h, ap2, IRD_IFACE_AP, "Verify", NULL, IRD_ERROR_LIMITS_EXCEEDED);
        g_autofree char *m2 = harness_call_error(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 2), IRD_ERROR_LIMITS_EXCEEDED);
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);

        /* Finished jobs do not count. */
        request_state_change(h, job, 4);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_TERMINATED);
        g_autofree char *job2 = start_verify(h, ap2);
        g_autoptr(GVariant) done2 = harness_wait_job_completed(h, job2);
}

/* ------------------------------------------------------------------------ */

/*
 * CreateRemoteReplicationCollection with the remote portals verified; asserts
 * a job started and no collection was returned yet, and returns the job.
 */
static char *start_create(Harness *h, const char *name, const char *const *locals, const char *const *remotes,
                          const char *peer) {
        g_autoptr(GVariant) reply = harness_call(
                h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                g_variant_new("(s@ao@aoobb)", name, harness_paths(locals), harness_paths(remotes), peer, TRUE, FALSE));
        guint32 rv;
        const char *job, *collection;
        g_variant_get(reply, "(u&o&o)", &rv, &job, &collection);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_cmpstr(collection, ==, "/");
        return g_strdup(job);
}

static void test_create_with_remote(Harness *h, gconstpointer data) {
        const char *names[] = { PEER_IQN, NULL };
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", names);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.3", 3260, NULL);
        g_autofree char *peer = harness_add_peer(h, PEER_IQN, NULL);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(target), NULL);
        const char *locals[] = { local, NULL };
        const char *remotes[] = { remote, NULL };
        g_auto(GStrv) objects_before = harness_object_paths(h);
        harness_clear_signals(h);

        g_autofree char *job_path = start_create(h, "verified", locals, remotes, peer);

        g_autoptr(GVariant) done = wait_completed(h, job_path, IRD_JOB_COMPLETED);
        g_autofree char *name = harness_get_string(h, job_path, IRD_IFACE_JOB, "Name");
        g_assert_cmpstr(name, ==, "CreateRemoteReplicationCollection");
        g_auto(GStrv) affected = harness_get_paths(h, job_path, IRD_IFACE_JOB, "AffectedElements");
        g_assert_cmpuint(g_strv_length(affected), ==, 1);
        const char *created = affected[0];
        g_assert_true(g_str_has_prefix(created, IRD_ROOT "/collection/"));
        g_assert_false(g_strv_contains((const char *const *) objects_before, created));

        /* Announced before the job said it was done. */
        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, (gpointer) created);
        g_autoptr(GVariant) members = harness_get_property(h, created, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
        g_autoptr(GVariant) local_members = harness_get_property(h, created, IRD_IFACE_COLLECTION,
                                                                 "LocalAccessPoints");
        harness_assert_paths(local_members, locals);
        g_autofree char *element = harness_get_string(h, created, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(element, ==, "verified");
}

/* While the verification runs, and after it fails, the collection does not exist. */
static void test_create_with_remote_failing(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(hole), NULL);
        const char *remotes[] = { remote, NULL };
        g_autofree char *before = harness_snapshot(h);
        g_auto(GStrv) objects_before = harness_object_paths(h);
        harness_clear_signals(h);

        g_autofree char *job_path = start_create(h, "never", NULL, remotes, peer);
        harness_wait_job_running(h, job_path);

        g_auto(GStrv) objects_running = harness_object_paths(h);
        for (size_t i = 0; objects_running[i]; i++)
                if (g_str_has_prefix(objects_running[i], IRD_ROOT "/collection/"))
                        g_error("%s exists while its creation is being verified", objects_running[i]);

        request_state_change(h, job_path, 4);
        g_autoptr(GVariant) done = wait_completed(h, job_path, IRD_JOB_TERMINATED);
        g_auto(GStrv) objects_after = harness_object_paths(h);
        for (size_t i = 0; objects_after[i]; i++)
                if (!g_str_equal(objects_after[i], job_path))
                        g_assert_true(g_strv_contains((const char *const *) objects_before, objects_after[i]));
        g_autoptr(GPtrArray) added = harness_take_signals(h, IRD_ROOT, NULL, "InterfacesAdded");
        for (guint i = 0; i < added->len; i++) {
                HarnessSignal *s = added->pdata[i];
                const char *p;
                g_variant_get_child(s->parameters, 0, "&o", &p);
                g_assert_cmpstr(p, ==, job_path);
        }
}

/* ------------------------------------------------------------------------ */

static void test_verify(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", NULL);
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.4", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *good = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(target), NULL);
        g_autofree char *bad = harness_add_access_point(h, peer, "127.0.0.4", harness_peer_port(refusing), NULL);
        guint64 t0 = (guint64) g_get_real_time();
        harness_clear_signals(h);

        g_autofree char *job = start_verify(h, good);
        g_autoptr(GVariant) done = wait_completed(h, job, IRD_JOB_COMPLETED);
        g_autofree char *reachable = harness_get_string(h, good, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "yes");
        g_assert_cmpuint(harness_get_uint64(h, good, IRD_IFACE_AP, "LastVerified"), >=, t0);
        g_autofree char *last_error = harness_get_string(h, good, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error, ==, "");
        g_assert_cmpuint(harness_peer_connections(target), >=, 1);
        g_autoptr(GPtrArray) changes = harness_take_signals(h, good, PROPERTIES, "PropertiesChanged");
        gboolean saw_reachable = FALSE, saw_verified = FALSE;
        for (guint i = 0; i < changes->len; i++) {
                g_autoptr(GVariant) dict = harness_properties_changed_dict(changes->pdata[i]);
                const char *r;
                if (g_variant_lookup(dict, "Reachable", "&s", &r)) {
                        g_assert_cmpstr(r, ==, "yes");
                        saw_reachable = TRUE;
                }
                if (g_variant_lookup_value(dict, "LastVerified", NULL))
                        saw_verified = TRUE;
        }
        g_assert_true(saw_reachable && saw_verified);

        g_autofree char *job2 = start_verify(h, bad);
        g_autoptr(GVariant) done2 = wait_completed(h, job2, IRD_JOB_EXCEPTION);
        g_assert_cmpuint(harness_get_uint16(h, job2, IRD_IFACE_JOB, "ErrorCode"), ==, 4);
        g_autofree char *reachable2 = harness_get_string(h, bad, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable2, ==, "no");
        g_autofree char *last_error2 = harness_get_string(h, bad, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error2, !=, "");
        g_autofree char *last_error_id2 = harness_get_string(h, bad, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id2, ==, "Refused");
        g_autofree char *message_id2 = harness_job_message_id(h, job2);
        g_assert_cmpstr(message_id2, ==, "Refused");
        g_assert_cmpuint(harness_get_uint64(h, bad, IRD_IFACE_AP, "LastVerified"), >=, t0);
}

/*
 * Verifies ap and returns the job's ErrorCode (0 on success); the job's
 * MessageID and the access point's LastErrorID must both be reason ("" for
 * a success, when GetError is empty).
 */
static guint16 verify_code(Harness *h, const char *ap, const char *reason) {
        g_autofree char *job = start_verify(h, ap);
        g_autoptr(GVariant) done = harness_wait_job_completed(h, job);
        gboolean success;
        guint16 code;
        const char *message;
        g_variant_get(done, "(bq&s)", &success, &code, &message);
        g_test_message("Verify %s: %s", ap, message);
        g_assert_cmpint(success, ==, code == 0);
        g_autofree char *last_error_id = harness_get_string(h, ap, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, reason);
        if (success) {
                g_autoptr(GVariant) reply = harness_call(h, job, IRD_IFACE_JOB, "GetError", NULL);
                g_autoptr(GVariant) error = g_variant_get_child_value(reply, 0);
                g_assert_cmpuint(g_variant_n_children(error), ==, 0);
        } else {
                g_autofree char *message_id = harness_job_message_id(h, job);
                g_assert_cmpstr(message_id, ==, reason);
        }
        return code;
}

/* Section 7 at the iSCSI level: offered names, the normal login, CHAP. */
static void test_iscsi_checks(Harness *h, gconstpointer data) {
        const char *other_names[] = { "iqn.2024-01.org.example:other", NULL };
        const char *t1_names[] = { "iqn.2024-01.org.example:t1", NULL };
        g_autoptr(HarnessPeer) other = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", other_names);
        g_autoptr(HarnessPeer) t1 = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.4", t1_names);
        g_autoptr(HarnessPeer) guarded = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.5", t1_names);
        harness_peer_require_chap(guarded, "alice", "correct-horse-battery");

        /* A peer named by IQN must offer that name. */
        g_autofree char *iqn_peer = harness_add_peer(h, "iqn.2024-01.org.example:peer", NULL);
        g_autofree char *iqn_ap = harness_add_access_point(h, iqn_peer, "127.0.0.2", harness_peer_port(other), NULL);
        g_assert_cmpuint(verify_code(h, iqn_ap, "SystemNotOffered"), ==, 4);
        g_autofree char *err = harness_get_string(h, iqn_ap, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(err, !=, "");

        /* A host-named peer needs no name; a TargetName must be offered and accept a login. */
        g_autofree char *host_peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *plain = harness_add_access_point(h, host_peer, "127.0.0.4", harness_peer_port(t1), NULL);
        g_assert_cmpuint(verify_code(h, plain, ""), ==, 0);
        g_autofree char *named = harness_add_access_point(h, host_peer, "127.0.0.4", harness_peer_port(t1),
                                                          "iqn.2024-01.org.example:t1");
        g_assert_cmpuint(verify_code(h, named, ""), ==, 0);
        g_autofree char *missing = harness_add_access_point(h, host_peer, "127.0.0.4", harness_peer_port(t1),
                                                            "iqn.2024-01.org.example:t2");
        g_assert_cmpuint(verify_code(h, missing, "TargetNotOffered"), ==, 4);

        /* CHAP: refused without credentials or with wrong ones, accepted with the right ones. */
        g_autofree char *chap = harness_add_access_point(h, host_peer, "127.0.0.5", harness_peer_port(guarded),
                                                         "iqn.2024-01.org.example:t1");
        g_assert_cmpuint(verify_code(h, chap, "AuthenticationFailed"), ==, 4);
        g_autofree char *wrong = harness_add_secret(h, chap, "alice", "wrong-horse-battery");
        g_assert_cmpuint(verify_code(h, chap, "AuthenticationFailed"), ==, 4);
        g_autofree char *right = harness_add_secret(h, chap, "alice", "correct-horse-battery");
        g_assert_cmpuint(verify_code(h, chap, ""), ==, 0);
        g_autofree char *reachable = harness_get_string(h, chap, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "yes");

        g_autofree char *log = harness_read_log(h);
        g_assert_null(strstr(log, "correct-horse-battery"));
        g_assert_null(strstr(log, "wrong-horse-battery"));
        g_autofree char *snapshot = harness_snapshot(h);
        g_assert_null(strstr(snapshot, "horse-battery"));
}

static void test_get_peer_systems_job(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", NULL);
        g_autoptr(HarnessPeer) refusing = harness_peer_new(HARNESS_PEER_REFUSING, "127.0.0.4", NULL);
        g_autoptr(HarnessPeer) hole = harness_peer_new(HARNESS_PEER_BLACK_HOLE, "127.0.0.5", NULL);
        g_autofree char *up = harness_add_peer(h, "up.example.org", NULL);
        g_autofree char *down = harness_add_peer(h, "down.example.org", NULL);
        g_autofree char *silent = harness_add_peer(h, "silent.example.org", NULL);
        g_autofree char *bare = harness_add_peer(h, "bare.example.org", NULL);
        g_autofree char *up_ap = harness_add_access_point(h, up, "127.0.0.2", harness_peer_port(target), NULL);
        g_autofree char *down_ap = harness_add_access_point(h, down, "127.0.0.4", harness_peer_port(refusing), NULL);
        g_autofree char *silent_ap = harness_add_access_point(h, silent, "127.0.0.5", harness_peer_port(hole), NULL);
        harness_clear_signals(h);

        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 2));
        guint32 rv;
        const char *job;
        g_autoptr(GVariant) systems = NULL;
        g_variant_get(reply, "(u&o@ao)", &rv, &job, &systems);
        g_assert_cmpuint(rv, ==, 4096);
        g_assert_cmpuint(g_variant_n_children(systems), ==, 0);
        g_autofree char *job_path = g_strdup(job);

        gint64 start = g_get_monotonic_time();
        g_autoptr(GVariant) done = wait_completed(h, job_path, IRD_JOB_COMPLETED);
        /* Probes run concurrently, so the slowest (0.5 s timeout) bounds it. */
        g_assert_cmpint(g_get_monotonic_time() - start, <=, 2500 * 1000);
        const char *expected[] = { up, NULL };
        g_autoptr(GVariant) affected = harness_get_property(h, job_path, IRD_IFACE_JOB, "AffectedElements");
        harness_assert_paths(affected, expected);
        g_autofree char *name = harness_get_string(h, job_path, IRD_IFACE_JOB, "Name");
        g_assert_cmpstr(name, ==, "GetPeerSystems");

        g_autofree char *r_up = harness_get_string(h, up, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(r_up, ==, "yes");
        g_autofree char *r_down = harness_get_string(h, down, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(r_down, ==, "no");
        g_autofree char *r_silent = harness_get_string(h, silent, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(r_silent, ==, "no");
        g_assert_cmpuint(harness_get_uint64(h, up, IRD_IFACE_SYSTEM, "LastVerified"), >, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/jobs/time-before-removal", &removal, test_time_before_removal);
        harness_add_test("/integration/jobs/retention", &retention, test_retention);
        harness_add_test("/integration/jobs/max-running", &one_running, test_max_running);
        harness_add_test("/integration/jobs/max-running-per-user", &one_per_user, test_max_running);
        harness_add_test("/integration/jobs/create-with-remote", &quick, test_create_with_remote);
        harness_add_test("/integration/jobs/create-with-remote-failing", &slow, test_create_with_remote_failing);
        harness_add_test("/integration/jobs/verify", &quick, test_verify);
        harness_add_test("/integration/jobs/iscsi-checks", &quick, test_iscsi_checks);
        harness_add_test("/integration/jobs/get-peer-systems", &quick, test_get_peer_systems_job);

        return g_test_run();
}
