/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Verification at the iSCSI level (API.md section 7) against real targets:
 * tgtd from Debian's tgt, one instance per test host, each on its own
 * 127.0.0.x address and control port, configured with tgtadm and killed
 * when the test ends: target and system names, CHAP both ways, and that no
 * secret ever leaves the service. The daemon logs in as INITIATOR. Peers
 * that fail part-way and concurrent probes have test-iscsi-faults.c.
 *
 * tgtd needs root; without root or without tgt installed, the tests that
 * need it are skipped.
 */

#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "iscsi-fixture.h"
#include "tgtd.h"

static const char *const default_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=5", NULL };
static const HarnessConfig defaults = { .daemon_args = default_args };
static const char *const debug_args[] = { "--initiator-name=" INITIATOR, "--probe-timeout=5", "--log-level=debug",
                                          NULL };
static const HarnessConfig debug = { .daemon_args = debug_args };

/* The names `iscsi-ls` lists for the portal, in its order: an answer from another initiator. */
static char **iscsi_ls_targets(const char *address, guint16 port) {
        g_autofree char *url = g_strdup_printf("iscsi://%s:%u/", address, port);
        g_autofree char *out = NULL;
        g_autoptr(GStrvBuilder) names = g_strv_builder_new();
        g_auto(GStrv) lines = NULL;
        int status = -1;
        const char *argv[] = { "iscsi-ls", "-i", "iqn.2026-01.org.example.itest:iscsi-ls", url, NULL };

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                          NULL, &out, NULL, &status, NULL))
                g_error("iscsi-ls could not be run (Debian package libiscsi-bin)");
        g_assert_true(g_spawn_check_wait_status(status, NULL));

        /* "Target:<name> Portal:<address>:<port>,<tag>" */
        lines = g_strsplit(out, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
                if (!g_str_has_prefix(lines[i], "Target:"))
                        continue;
                const char *name = lines[i] + strlen("Target:");
                const char *end = strchr(name, ' ');
                g_autofree char *n = end ? g_strndup(name, (gsize) (end - name)) : g_strdup(name);

                g_strv_builder_add(names, n);
        }
        return g_strv_builder_end(names);
}

/* ------------------------------------------------------------------------ */
/* tests */

/* A good peer: the job completes, the collection holds the portal, the verdicts are recorded. */
static void test_good_peer(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:good";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.71", LUN_SIZE);
        tgtd_add_target(tgtd, target);
        g_autofree char *collection = local_collection(h);
        /* The peer is named by its target's node name, so both names are checked. */
        g_autofree char *peer = harness_add_peer(h, target, "good");
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        const char *remotes[] = { ap, NULL };
        guint64 t0 = (guint64) g_get_real_time();

        g_auto(Outcome) o = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(o.success);
        g_assert_cmpuint(o.code, ==, 0);

        g_autoptr(GVariant) members = harness_get_property(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
        g_autofree char *reachable = harness_get_string(h, ap, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "yes");
        g_autofree char *last_error = harness_get_string(h, ap, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error, ==, "");
        g_autofree char *last_error_id = harness_get_string(h, ap, IRD_IFACE_AP, "LastErrorID");
        g_assert_cmpstr(last_error_id, ==, "");
        g_assert_cmpuint(harness_get_uint64(h, ap, IRD_IFACE_AP, "LastVerified"), >=, t0);
        g_autofree char *system_reachable = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "Reachable");
        g_assert_cmpstr(system_reachable, ==, "yes");
        g_assert_cmpuint(harness_get_uint64(h, peer, IRD_IFACE_SYSTEM, "LastVerified"), >=, t0);

        /* Another initiator sees the same answer. */
        g_auto(GStrv) listed = iscsi_ls_targets(tgtd->address, tgtd->port);
        g_assert_true(g_strv_contains((const char *const *) listed, target));
}

/*
 * The access point names a target the portal does not offer: Failed, nothing
 * committed, and the description lists what the portal offers — the same
 * list iscsi-ls gets.
 */
static void test_target_name_differs(Harness *h, gconstpointer data) {
        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.72", LUN_SIZE);
        tgtd_add_target(tgtd, "iqn.2026-01.org.example.itest:disk-a");
        tgtd_add_target(tgtd, "iqn.2026-01.org.example.itest:disk-b");
        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, "differs.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port,
                                                       "iqn.2026-01.org.example.itest:disk-c");
        const char *remotes[] = { ap, NULL };
        g_autofree char *before = harness_snapshot(h);
        g_autofree char *job = NULL;

        g_auto(Outcome) o = add_remote(h, collection, remotes, peer, &job);
        g_assert_false(o.success);
        g_assert_cmpuint(o.code, ==, 4);
        g_assert_cmpuint(harness_get_uint16(h, job, IRD_IFACE_JOB, "JobState"), ==, IRD_JOB_EXCEPTION);
        assert_nothing_remote(h, collection);

        g_autofree char *expected = g_strdup_printf(
                "Target iqn.2026-01.org.example.itest:disk-c is not offered by %s:%u (local address %s); "
                "it offers: iqn.2026-01.org.example.itest:disk-a, iqn.2026-01.org.example.itest:disk-b.",
                tgtd->address, tgtd->port, LOCAL_ADDRESS);
        g_autofree char *description = error_description(h, job);
        g_assert_nonnull(strstr(description, expected));
        g_autofree char *last_error = harness_get_string(h, ap, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error, ==, expected);
        assert_reason(h, job, ap, "TargetNotOffered");

        /* iscsi-ls, another initiator, gets the same names (libiscsi lists them newest first). */
        g_auto(GStrv) listed = iscsi_ls_targets(tgtd->address, tgtd->port);
        g_assert_cmpuint(g_strv_length(listed), ==, 2);
        for (size_t i = 0; listed[i]; i++)
                g_assert_nonnull(strstr(last_error, listed[i]));
        g_autofree char *reachable = harness_get_string(h, ap, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "no");

        /* Only the verdict and the job itself differ from before. */
        g_autofree char *after = harness_snapshot(h);
        g_auto(GStrv) before_lines = g_strsplit(before, "\n", -1);
        for (size_t i = 0; before_lines[i]; i++)
                if (!g_str_has_prefix(before_lines[i], ap) && !g_str_has_prefix(before_lines[i], peer))
                        g_assert_nonnull(strstr(after, before_lines[i]));
}

/* The peer system's IQN must be offered too; a host-named peer needs nothing. */
static void test_system_name_differs(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:disk";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.73", LUN_SIZE);
        tgtd_add_target(tgtd, target);
        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, "iqn.2026-01.org.example.itest:another-system", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        const char *remotes[] = { ap, NULL };
        g_autofree char *job = NULL;

        g_auto(Outcome) o = add_remote(h, collection, remotes, peer, &job);
        g_assert_cmpuint(o.code, ==, 4);
        assert_nothing_remote(h, collection);
        g_autofree char *expected = g_strdup_printf(
                "Neither iqn.2026-01.org.example.itest:another-system (the peer system's Name) nor a target named "
                "under it is offered by %s:%u (local address %s); it offers: %s.", tgtd->address, tgtd->port,
                LOCAL_ADDRESS, target);
        g_autofree char *description = error_description(h, job);
        g_assert_nonnull(strstr(description, expected));
        assert_reason(h, job, ap, "SystemNotOffered");

        /* Case does not matter in iSCSI names. */
        g_autofree char *upper = g_ascii_strup(target, -1);
        g_autofree char *same = harness_add_peer(h, upper, NULL);
        g_autofree char *same_ap = harness_add_access_point(h, same, tgtd->address, tgtd->port, NULL);
        const char *same_remotes[] = { same_ap, NULL };
        g_auto(Outcome) ok = add_remote(h, collection, same_remotes, same, NULL);
        g_assert_true(ok.success);
}

/* tgt checks CHAP at the normal login: no secret and a wrong one fail, the right one passes. */
static void test_chap(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:guarded";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.74", LUN_SIZE);
        int tid = tgtd_add_target(tgtd, target);
        tgtd_add_account(tgtd, tid, CHAP_USER, CHAP_SECRET, FALSE);
        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, "guarded.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        const char *remotes[] = { ap, NULL };
        g_autofree char *rejected = g_strdup_printf(
                "Login to target %s at %s:%u (local address %s) rejected: authentication failed.", target,
                tgtd->address, tgtd->port, LOCAL_ADDRESS);
        g_autofree char *job1 = NULL, *job2 = NULL;

        g_auto(Outcome) none = add_remote(h, collection, remotes, peer, &job1);
        g_assert_cmpuint(none.code, ==, 4);
        g_autofree char *d1 = error_description(h, job1);
        g_assert_nonnull(strstr(d1, rejected));
        assert_reason(h, job1, ap, "AuthenticationFailed");
        assert_nothing_remote(h, collection);

        g_autofree char *wrong = harness_add_secret(h, ap, CHAP_USER, "itest-wrong-secret-0000");
        g_auto(Outcome) bad = add_remote(h, collection, remotes, peer, &job2);
        g_assert_cmpuint(bad.code, ==, 4);
        g_autofree char *d2 = error_description(h, job2);
        g_assert_nonnull(strstr(d2, rejected));
        assert_reason(h, job2, ap, "AuthenticationFailed");
        assert_nothing_remote(h, collection);

        g_autofree char *right = harness_add_secret(h, ap, CHAP_USER, CHAP_SECRET);
        g_auto(Outcome) good = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(good.success);
        g_autoptr(GVariant) members = harness_get_property(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
}

/*
 * Mutual CHAP, both ways: we prove our secret to the target and the target
 * proves its own to us. Either side wrong fails the probe; so does a target
 * that has no secret of its own to prove.
 */
static void test_mutual_chap(Harness *h, gconstpointer data) {
        const char *mutual = "iqn.2026-01.org.example.itest:mutual";
        const char *one_way = "iqn.2026-01.org.example.itest:one-way";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.75", LUN_SIZE);
        int tid = tgtd_add_target(tgtd, mutual);
        tgtd_add_account(tgtd, tid, CHAP_USER, CHAP_SECRET, FALSE);
        tgtd_add_account(tgtd, tid, MUTUAL_USER, MUTUAL_SECRET, TRUE);
        int tid2 = tgtd_add_target(tgtd, one_way);
        tgtd_bind_account(tgtd, tid2, CHAP_USER);

        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, "mutual.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, mutual);
        g_autofree char *ap2 = harness_add_access_point(h, peer, tgtd->address, tgtd->port, one_way);
        const char *remotes[] = { ap, NULL };
        const char *remotes2[] = { ap2, NULL };
        g_autofree char *job1 = NULL, *job2 = NULL, *job3 = NULL;

        /* Our secret wrong: the target rejects us. */
        g_autofree char *s1 = harness_add_mutual_secret(h, ap, CHAP_USER, "itest-wrong-secret-0000", MUTUAL_USER,
                                                MUTUAL_SECRET);
        g_auto(Outcome) o1 = add_remote(h, collection, remotes, peer, &job1);
        g_assert_cmpuint(o1.code, ==, 4);
        g_autofree char *d1 = error_description(h, job1);
        g_assert_nonnull(strstr(d1, "rejected: authentication failed."));
        assert_reason(h, job1, ap, "AuthenticationFailed");

        /* The target's secret is not the one we expect: we reject it. */
        g_autofree char *s2 = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER,
                                                "itest-wrong-mutual-0000");
        g_auto(Outcome) o2 = add_remote(h, collection, remotes, peer, &job2);
        g_assert_cmpuint(o2.code, ==, 4);
        g_autofree char *d2 = error_description(h, job2);
        g_assert_nonnull(strstr(d2, "failed: the target's mutual CHAP response is wrong."));
        assert_reason(h, job2, ap, "MutualAuthenticationFailed");
        assert_nothing_remote(h, collection);

        /* A target with no secret of its own cannot prove itself; tgt refuses such a login. */
        g_autofree char *s3 = harness_add_mutual_secret(h, ap2, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);
        g_auto(Outcome) o3 = add_remote(h, collection, remotes2, peer, &job3);
        g_assert_cmpuint(o3.code, ==, 4);
        g_autofree char *d3 = error_description(h, job3);
        g_assert_nonnull(strstr(d3, "rejected: authentication failed."));
        assert_reason(h, job3, ap2, "AuthenticationFailed");

        /* Both right. */
        g_autofree char *s4 = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);
        g_auto(Outcome) o4 = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(o4.success);
        g_autoptr(GVariant) members = harness_get_property(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_paths(members, remotes);
}

/* Nothing the service emits — log at debug level, objects, introspection, properties, signals — holds a secret. */
static void test_secret_never_emitted(Harness *h, gconstpointer data) {
        const char *target = "iqn.2026-01.org.example.itest:secretive";

        if (!tgtd_available())
                return;
        g_autoptr(Tgtd) tgtd = tgtd_new("127.0.0.80", LUN_SIZE);
        int tid = tgtd_add_target(tgtd, target);
        tgtd_add_account(tgtd, tid, CHAP_USER, CHAP_SECRET, FALSE);
        tgtd_add_account(tgtd, tid, MUTUAL_USER, MUTUAL_SECRET, TRUE);
        int tid2 = tgtd_add_target(tgtd, "iqn.2026-01.org.example.itest:secretive-too");
        tgtd_bind_account(tgtd, tid2, CHAP_USER);
        g_autofree char *collection = local_collection(h);
        g_autofree char *peer = harness_add_peer(h, target, NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, tgtd->address, tgtd->port, target);
        g_autofree char *ap2 = harness_add_access_point(h, peer, tgtd->address, tgtd->port,
                                                        "iqn.2026-01.org.example.itest:secretive-too");
        g_autofree char *secret = harness_add_mutual_secret(h, ap, CHAP_USER, CHAP_SECRET, MUTUAL_USER, MUTUAL_SECRET);
        /* An unbound secret, and one a failing probe used. */
        g_autofree char *spare = harness_add_secret(h, "/", "spare-user", "itest-spare-secret-1234");
        g_autofree char *wrong = harness_add_mutual_secret(h, ap2, CHAP_USER, "itest-failing-secret-99", MUTUAL_USER,
                                                   "itest-failing-mutual-99");
        const char *secrets[] = { CHAP_SECRET, MUTUAL_SECRET, "itest-spare-secret-1234", "itest-failing-secret-99",
                                  "itest-failing-mutual-99", NULL };
        const char *remotes[] = { ap, NULL };
        g_autoptr(GString) emitted = g_string_new(NULL);

        g_auto(Outcome) good = add_remote(h, collection, remotes, peer, NULL);
        g_assert_true(good.success);
        g_autoptr(GVariant) verify = harness_call(h, ap2, IRD_IFACE_AP, "Verify", NULL);
        const char *verify_job;
        g_variant_get(verify, "(u&o)", NULL, &verify_job);
        g_auto(Outcome) checked = wait_job(h, verify_job, g_get_monotonic_time());
        g_assert_cmpuint(checked.code, ==, 4);

        /* Every object: GetManagedObjects, Introspect, and GetAll of each of its interfaces. */
        g_autoptr(GVariant) objects = harness_get_managed_objects(h);
        g_autofree char *objects_text = g_variant_print(objects, TRUE);
        g_string_append(emitted, objects_text);
        g_auto(GStrv) paths = harness_object_paths(h);
        g_autoptr(GPtrArray) all_paths = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(all_paths, g_strdup("/"));
        g_ptr_array_add(all_paths, g_strdup("/org"));
        g_ptr_array_add(all_paths, g_strdup("/org/iscsi"));
        g_ptr_array_add(all_paths, g_strdup(IRD_ROOT));
        for (size_t i = 0; paths[i]; i++)
                g_ptr_array_add(all_paths, g_strdup(paths[i]));
        for (guint i = 0; i < all_paths->len; i++) {
                const char *path = all_paths->pdata[i];
                g_autofree char *xml = harness_introspect(h, path);
                g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(xml, NULL);

                g_string_append(emitted, xml);
                for (size_t k = 0; node && node->interfaces && node->interfaces[k]; k++) {
                        const char *iface = node->interfaces[k]->name;

                        /* The standard interfaces have no properties; "/" and the like are nodes only. */
                        if (g_str_has_prefix(iface, "org.freedesktop.DBus.") || !node->interfaces[k]->properties ||
                            !node->interfaces[k]->properties[0])
                                continue;
                        g_autoptr(GVariant) props = harness_get_all(h, path, iface);
                        g_autofree char *text = g_variant_print(props, TRUE);

                        g_string_append(emitted, text);
                        /* And each property on its own, the way a client reads one. */
                        for (size_t m = 0; node->interfaces[k]->properties && node->interfaces[k]->properties[m];
                             m++) {
                                g_autoptr(GVariant) v = harness_get_property(h, path, iface,
                                                                            node->interfaces[k]->properties[m]->name);
                                g_autofree char *vtext = g_variant_print(v, TRUE);
                                g_string_append(emitted, vtext);
                        }
                }
        }
        g_assert_nonnull(strstr(emitted->str, secret));
        g_assert_nonnull(strstr(emitted->str, CHAP_USER));

        /* Every signal the service sent during the test. */
        g_autoptr(GPtrArray) signals = harness_take_signals(h, NULL, NULL, NULL);
        g_assert_cmpuint(signals->len, >, 0);
        for (guint i = 0; i < signals->len; i++) {
                HarnessSignal *s = signals->pdata[i];
                g_autofree char *text = g_variant_print(s->parameters, TRUE);
                g_string_append(emitted, text);
        }

        /* The daemon's log, at debug level. */
        g_autofree char *log = harness_read_log(h);
        g_assert_nonnull(strstr(log, "rejected: authentication failed."));
        g_string_append(emitted, log);

        for (size_t i = 0; secrets[i]; i++)
                if (strstr(emitted->str, secrets[i]))
                        g_error("secret %zu found in what the service emitted", i);

        /* The store that holds them: readable by the service alone. */
        g_autofree char *db = NULL;
        g_autoptr(GDir) dir = g_dir_open(h->state_directory, 0, NULL);
        struct stat st;
        const char *entry;
        g_assert_nonnull(dir);
        g_assert_cmpint(stat(h->state_directory, &st), ==, 0);
        g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
        while ((entry = g_dir_read_name(dir))) {
                g_autofree char *file = g_build_filename(h->state_directory, entry, NULL);

                g_assert_cmpint(stat(file, &st), ==, 0);
                g_test_message("%s: %04o", entry, st.st_mode & 07777);
                g_assert_cmpuint(st.st_mode & 0077, ==, 0);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/iscsi/good-peer", &defaults, test_good_peer);
        harness_add_test("/integration/iscsi/target-name-differs", &defaults, test_target_name_differs);
        harness_add_test("/integration/iscsi/system-name-differs", &defaults, test_system_name_differs);
        harness_add_test("/integration/iscsi/chap", &defaults, test_chap);
        harness_add_test("/integration/iscsi/mutual-chap", &defaults, test_mutual_chap);
        harness_add_test("/integration/iscsi/secret-never-emitted", &debug, test_secret_never_emitted);

        return g_test_run();
}
