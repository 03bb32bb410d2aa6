/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The service object and the registry of peers (API.md sections 3 and 5),
 * deleting what is in use, authorization (section 9) and limits (section 8).
 * Access points and shared secrets have test-access-points.c and
 * test-secrets.c.
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"
#include "service-fixture.h"

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };

static GVariant *empty_props(void) {
        return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

/* ------------------------------------------------------------------------ */

static void test_properties(Harness *h, gconstpointer data) {
        g_autoptr(GVariant) local = harness_get_property(h, IRD_ROOT, IRD_IFACE_SERVICE, "LocalSystem");
        g_assert_cmpstr(g_variant_get_type_string(local), ==, "o");
        g_assert_cmpstr(g_variant_get_string(local, NULL), ==, IRD_LOCAL_SYSTEM);

        g_autoptr(GVariant) sync = harness_get_property(h, IRD_ROOT, IRD_IFACE_SERVICE,
                                                        "SupportedSynchronousActions");
        g_autoptr(GVariant) sync_expected = g_variant_parse(G_VARIANT_TYPE("aq"), "[9, 11, 17, 18, 23, 24, 25]",
                                                            NULL, NULL, NULL);
        g_assert_true(g_variant_equal(sync, sync_expected));

        g_autoptr(GVariant) async = harness_get_property(h, IRD_ROOT, IRD_IFACE_SERVICE,
                                                         "SupportedAsynchronousActions");
        g_autoptr(GVariant) async_expected = g_variant_parse(G_VARIANT_TYPE("aq"), "[2, 5, 9, 23, 24]", NULL, NULL,
                                                             NULL);
        g_assert_true(g_variant_equal(async, async_expected));

        /* The replica capabilities (API.md section 10), as CIM_ReplicationServiceCapabilities values. */
        static const struct {
                const char *name;
                const char *values;
        } capabilities[] = {
                { "SupportedSyncTypes", "[6, 8]" },
                { "SupportedModes", "[3]" },
                { "SupportedOperations", "[8, 14, 16, 22]" },
        };
        for (size_t i = 0; i < G_N_ELEMENTS(capabilities); i++) {
                g_autoptr(GVariant) got = harness_get_property(h, IRD_ROOT, IRD_IFACE_SERVICE, capabilities[i].name);
                g_autoptr(GVariant) want = g_variant_parse(G_VARIANT_TYPE("aq"), capabilities[i].values, NULL, NULL,
                                                           NULL);
                g_autofree char *text = g_variant_print(got, FALSE);

                if (!g_variant_equal(got, want))
                        g_error("%s is %s, contract says %s", capabilities[i].name, text, capabilities[i].values);
        }

        g_autofree char *version = harness_get_string(h, IRD_ROOT, IRD_IFACE_SERVICE, "Version");
        g_assert_cmpstr(version, !=, "");
        g_autoptr(GVariant) initiator = harness_get_property(h, IRD_ROOT, IRD_IFACE_SERVICE, "InitiatorName");
        g_assert_cmpstr(g_variant_get_type_string(initiator), ==, "s");
        g_assert_true(harness_get_boolean(h, IRD_ROOT, IRD_IFACE_SERVICE, "VerifyAccessPoints"));

        /* The object manager lists what is below the root, and this host is always there. */
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_true(g_strv_contains((const char *const *) paths, IRD_LOCAL_SYSTEM));
        g_assert_false(g_strv_contains((const char *const *) paths, IRD_ROOT));
        g_assert_true(harness_get_boolean(h, IRD_LOCAL_SYSTEM, IRD_IFACE_SYSTEM, "IsLocal"));
        g_autofree char *local_name = harness_get_string(h, IRD_LOCAL_SYSTEM, IRD_IFACE_SYSTEM, "Name");
        g_assert_cmpstr(local_name, !=, "");
}

static void test_properties_no_verify(Harness *h, gconstpointer data) {
        g_assert_false(harness_get_boolean(h, IRD_ROOT, IRD_IFACE_SERVICE, "VerifyAccessPoints"));
}

/* ------------------------------------------------------------------------ */

static void test_peer_add(Harness *h, gconstpointer data) {
        static const struct {
                const char *name;
                const char *format;
        } cases[] = {
                { "iqn.2024-01.org.example:storage.peer1", "IQN" },
                { "eui.0123456789ABCDEF", "EUI" },
                { "naa.0123456789abcdef", "NAA" },
                { "storage2.example.org", "HostName" },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *element = g_strdup_printf("peer %zu", i);
                harness_clear_signals(h);
                g_autofree char *peer = harness_add_peer(h, cases[i].name, element);

                g_assert_true(g_str_has_prefix(peer, IRD_ROOT "/system/"));
                g_autofree char *name = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "Name");
                g_assert_cmpstr(name, ==, cases[i].name);
                g_autofree char *format = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "NameFormat");
                g_assert_cmpstr(format, ==, cases[i].format);
                g_autofree char *element_name = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "ElementName");
                g_assert_cmpstr(element_name, ==, element);
                g_assert_false(harness_get_boolean(h, peer, IRD_IFACE_SYSTEM, "IsLocal"));
                g_autofree char *reachable = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "Reachable");
                g_assert_cmpstr(reachable, ==, "unknown");
                g_assert_cmpuint(harness_get_uint64(h, peer, IRD_IFACE_SYSTEM, "LastVerified"), ==, 0);
                g_auto(GStrv) aps = harness_get_paths(h, peer, IRD_IFACE_SYSTEM, "AccessPoints");
                g_assert_cmpuint(g_strv_length(aps), ==, 0);
                g_auto(GStrv) cols = harness_get_paths(h, peer, IRD_IFACE_SYSTEM, "Collections");
                g_assert_cmpuint(g_strv_length(cols), ==, 0);

                /* Announced with its properties, so a client needs no extra round trip. */
                g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                                     harness_match_interfaces_added, peer);
                g_autoptr(GVariant) ifaces = g_variant_get_child_value(added->parameters, 1);
                g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, IRD_IFACE_SYSTEM, NULL);
                g_assert_nonnull(props);
                const char *announced = NULL;
                g_assert_true(g_variant_lookup(props, "Name", "&s", &announced));
                g_assert_cmpstr(announced, ==, cases[i].name);
                g_assert_true(g_variant_lookup(props, "NameFormat", "&s", &announced));
                g_assert_cmpstr(announced, ==, cases[i].format);
        }
}

static void test_peer_duplicate(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "iqn.2024-01.org.example:dup", NULL);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                               g_variant_new("(s@a{sv})", "iqn.2024-01.org.example:dup", empty_props()),
                               IRD_ERROR_INVALID_PARAMETER);
}

static void test_peer_bad_name(Harness *h, gconstpointer data) {
        static const char *const bad[] = {
                "", "has spaces", "under_score.example.org", "-leading-dash.example.org", "double..dot.org",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                                       g_variant_new("(s@a{sv})", bad[i], empty_props()),
                                       IRD_ERROR_INVALID_PARAMETER);
}

static void test_peer_bad_properties(Harness *h, gconstpointer data) {
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                               g_variant_new("(s@a{sv})", "peer.example.org",
                                             dict_of("Colour", g_variant_new_string("blue"), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                               g_variant_new("(s@a{sv})", "peer.example.org",
                                             dict_of("ElementName", g_variant_new_uint32(7), NULL)),
                               IRD_ERROR_INVALID_PARAMETER);
}

/* ------------------------------------------------------------------------ */

static void test_get_peer_systems(Harness *h, gconstpointer data) {
        g_autoptr(GVariant) empty = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 0));
        g_autoptr(GVariant) empty_list = g_variant_get_child_value(empty, 2);
        harness_assert_paths(empty_list, NULL);

        g_autofree char *a = harness_add_peer(h, "a.example.org", NULL);
        g_autofree char *b = harness_add_peer(h, "iqn.2024-01.org.example:b", NULL);
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                                 g_variant_new("(q)", 0));
        guint32 rv;
        const char *job;
        g_autoptr(GVariant) systems = NULL;
        g_variant_get(reply, "(u&o@ao)", &rv, &job, &systems);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpstr(job, ==, "/");
        const char *expected[] = { a, b, NULL };
        harness_sort_paths(expected, 2);
        harness_assert_paths(systems, expected);

        for (guint16 options = 1; options < 5; options++)
                if (options != 2)
                        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                               g_variant_new("(q)", options), IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems", g_variant_new("(q)", 0xffff),
                               IRD_ERROR_INVALID_PARAMETER);
}

/* ------------------------------------------------------------------------ */

static void test_delete_in_use(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 0, NULL);
        const char *locals[] = { local, NULL };
        const char *remotes[] = { remote, NULL };
        g_autofree char *collection = harness_create_collection(h, "c", locals, remotes, peer);

        assert_fails_unchanged(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL, IRD_ERROR_IN_USE);
        assert_fails_unchanged(h, remote, IRD_IFACE_AP, "Delete", NULL, IRD_ERROR_IN_USE);
        assert_fails_unchanged(h, local, IRD_IFACE_AP, "Delete", NULL, IRD_ERROR_IN_USE);
        assert_fails_unchanged(h, IRD_LOCAL_SYSTEM, IRD_IFACE_SYSTEM, "Delete", NULL, IRD_ERROR_INVALID_PARAMETER);

        /* Removing the system takes its access points out of the collection too. */
        g_assert_cmpuint(harness_remove_from_collection(h, collection, NULL, NULL, peer, NULL), ==, 0);
        const char *none[] = { NULL };
        g_autoptr(GVariant) remaining = harness_get_property(h, collection, IRD_IFACE_COLLECTION,
                                                             "RemoteAccessPoints");
        harness_assert_paths(remaining, none);

        harness_clear_signals(h);
        g_autoptr(GVariant) r1 = harness_call(h, remote, IRD_IFACE_AP, "Delete", NULL);
        g_autoptr(HarnessSignal) s1 = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                          harness_match_interfaces_removed, remote);
        g_autoptr(GPtrArray) changes = harness_take_signals(h, peer, "org.freedesktop.DBus.Properties",
                                                            "PropertiesChanged");
        g_assert_cmpuint(changes->len, ==, 1);
        g_autoptr(GVariant) changed = harness_properties_changed_dict(changes->pdata[0]);
        g_autoptr(GVariant) aps = g_variant_lookup_value(changed, "AccessPoints", G_VARIANT_TYPE("ao"));
        harness_assert_paths(aps, none);

        g_autoptr(GVariant) r2 = harness_call(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL);
        g_autoptr(HarnessSignal) s2 = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                          harness_match_interfaces_removed, peer);

        /* Gone means gone: the path names no object any more. */
        g_autofree char *m = harness_call_error(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints",
                                                g_variant_new("(o)", peer), IRD_ERROR_INVALID_PARAMETER);
        g_autoptr(GError) error = harness_call_result(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL, NULL);
        g_assert_nonnull(error);
}

static void test_delete_system_with_access_points(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);

        harness_clear_signals(h);
        g_autoptr(GVariant) r = harness_call(h, peer, IRD_IFACE_SYSTEM, "Delete", NULL);
        g_autoptr(HarnessSignal) s = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                         harness_match_interfaces_removed, peer);
        /* An access point never outlives the system that hosts it. */
        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, ap));
}

/* ------------------------------------------------------------------------ */

static void assert_denied(Harness *h, const char *path, const char *interface, const char *method,
                          GVariant *params) {
        g_autofree char *output = NULL;
        gboolean ok = harness_call_as_nobody(h, path, interface, method, params, &output);

        g_test_message("%s as nobody: %s", method, output);
        if (ok || !strstr(output, IRD_ERROR_ACCESS_DENIED))
                g_error("%s.%s on %s as uid 65534: expected %s, got: %s", interface, method, path,
                        IRD_ERROR_ACCESS_DENIED, output);
}

static void test_access_denied(Harness *h, gconstpointer data) {
        g_autoptr(HarnessPeer) target = harness_peer_new(HARNESS_PEER_TARGET, "127.0.0.2", NULL);
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *remote = harness_add_access_point(h, peer, "127.0.0.2", harness_peer_port(target), NULL);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 0, NULL);
        g_autofree char *secret = harness_add_secret(h, remote, "user", "0123456789abcdef");
        const char *locals[] = { local, NULL };
        g_autofree char *collection = harness_create_collection(h, "c", locals, NULL, NULL);
        g_autofree char *before = harness_snapshot(h);

        assert_denied(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                      g_variant_new("(s@a{sv})", "other.example.org", empty_props()));
        assert_denied(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                      g_variant_new("(o@a{sv})", peer, ap_props("127.0.0.9", 0)));
        assert_denied(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                      g_variant_new("(@a{sv}o)", secret_props("user", "0123456789abcdef"), remote));
        assert_denied(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                      g_variant_new("(s@ao@aoobb)", "x", harness_paths(NULL), harness_paths(NULL), "/", TRUE,
                                    FALSE));
        const char *remotes[] = { remote, NULL };
        assert_denied(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                      g_variant_new("(@ao@aooo)", harness_paths(NULL), harness_paths(remotes), peer, collection));
        assert_denied(h, IRD_ROOT, IRD_IFACE_SERVICE, "RemoveFromRemoteReplicationCollection",
                      g_variant_new("(@ao@aooo)", harness_paths(locals), harness_paths(NULL), "/", collection));
        assert_denied(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems", g_variant_new("(q)", 2));
        assert_denied(h, collection, IRD_IFACE_COLLECTION, "Modify",
                      g_variant_new("(@a{sv})", dict_of("ElementName", g_variant_new_string("renamed"), NULL)));
        assert_denied(h, collection, IRD_IFACE_COLLECTION, "Delete", g_variant_new("()"));
        assert_denied(h, peer, IRD_IFACE_SYSTEM, "Delete", g_variant_new("()"));
        assert_denied(h, remote, IRD_IFACE_AP, "Delete", g_variant_new("()"));
        assert_denied(h, remote, IRD_IFACE_AP, "Verify", g_variant_new("()"));
        assert_denied(h, secret, IRD_IFACE_SECRET, "Delete", g_variant_new("()"));

        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(before, ==, after);
        g_assert_cmpuint(harness_peer_connections(target), ==, 0);

        /* Reading needs no authorization. */
        g_autofree char *out = NULL;
        g_assert_true(harness_call_as_nobody(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetPeerSystems",
                                             g_variant_new("(q)", 0), &out));
        g_assert_nonnull(strstr(out, peer));
        g_clear_pointer(&out, g_free);
        g_assert_true(harness_call_as_nobody(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints",
                                             g_variant_new("(o)", peer), &out));
        g_assert_nonnull(strstr(out, remote));
        g_clear_pointer(&out, g_free);
        g_assert_true(harness_call_as_nobody(h, collection, "org.freedesktop.DBus.Properties", "Get",
                                             g_variant_new("(ss)", IRD_IFACE_COLLECTION, "ElementName"), &out));
        g_assert_nonnull(strstr(out, "'c'"));
        g_clear_pointer(&out, g_free);
        g_assert_true(harness_call_as_nobody(h, IRD_ROOT, "org.freedesktop.DBus.ObjectManager",
                                             "GetManagedObjects", NULL, &out));
        g_assert_nonnull(strstr(out, collection));
}

/* ------------------------------------------------------------------------ */

static void test_string_limits(Harness *h, gconstpointer data) {
        g_autofree char *s255 = g_strnfill(255, 'x');
        g_autofree char *s256 = g_strnfill(256, 'y');
        /* 254 ASCII bytes plus a 2-byte character: 256 bytes, 255 characters. */
        g_autofree char *head = g_strnfill(254, 'z');
        g_autofree char *s256_utf8 = g_strconcat(head, "é", NULL);

        g_autofree char *peer = harness_add_peer(h, "peer.example.org", s255);
        g_autofree char *got = harness_get_string(h, peer, IRD_IFACE_SYSTEM, "ElementName");
        g_assert_cmpstr(got, ==, s255);

        const char *const bad[] = { s256, s256_utf8, "tab\there", "bell\a", "newline\n", "del\x7f" };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                                       g_variant_new("(s@a{sv})", "other.example.org",
                                                     dict_of("ElementName", g_variant_new_string(bad[i]), NULL)),
                                       IRD_ERROR_INVALID_PARAMETER);
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                                       g_variant_new("(s@ao@aoobb)", bad[i], harness_paths(NULL),
                                                     harness_paths(NULL), "/", TRUE, FALSE),
                                       IRD_ERROR_INVALID_PARAMETER);
                GVariant *ap = dict_of("Address", g_variant_new_string("127.0.0.2"),
                                       "ElementName", g_variant_new_string(bad[i]), NULL);
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                                       g_variant_new("(o@a{sv})", peer, ap), IRD_ERROR_INVALID_PARAMETER);
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                       g_variant_new("(@a{sv}o)", secret_props(bad[i], "0123456789abcdef"), "/"),
                                       IRD_ERROR_INVALID_PARAMETER);
        }

        /* Non-ASCII UTF-8 within the limit is fine. */
        g_autofree char *col = harness_create_collection(h, "Spiegelung München ✓", NULL, NULL, NULL);
        g_autofree char *col_name = harness_get_string(h, col, IRD_IFACE_COLLECTION, "ElementName");
        g_assert_cmpstr(col_name, ==, "Spiegelung München ✓");
}

static GVariant *many_paths(size_t n, const char *prefix) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("ao"));
        for (size_t i = 0; i < n; i++) {
                g_autofree char *p = g_strdup_printf("%s/%zu", prefix, 100000 + i);
                g_variant_builder_add(&b, "o", p);
        }
        return g_variant_builder_end(&b);
}

static void test_array_limit(Harness *h, gconstpointer data) {
        /* The count is checked before any entry is looked up: none of these objects exist. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "x", many_paths(1025, IRD_ROOT "/access_point"),
                                             harness_paths(NULL), "/", TRUE, FALSE),
                               IRD_ERROR_LIMITS_EXCEEDED);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddToRemoteReplicationCollection",
                               g_variant_new("(@ao@aooo)", harness_paths(NULL),
                                             many_paths(1025, IRD_ROOT "/access_point"), "/",
                                             IRD_ROOT "/collection/99999"),
                               IRD_ERROR_LIMITS_EXCEEDED);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "RemoveFromRemoteReplicationCollection",
                               g_variant_new("(@ao@aooo)", many_paths(1025, IRD_ROOT "/job"), harness_paths(NULL),
                                             "/", IRD_ROOT "/collection/99999"),
                               IRD_ERROR_LIMITS_EXCEEDED);
        /* At the limit the entries are looked up, and these name nothing. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                               g_variant_new("(s@ao@aoobb)", "x", many_paths(1024, IRD_ROOT "/access_point"),
                                             harness_paths(NULL), "/", TRUE, FALSE),
                               IRD_ERROR_INVALID_PARAMETER);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/service/properties", NULL, test_properties);
        harness_add_test("/integration/service/properties-no-verify", &no_verify, test_properties_no_verify);
        harness_add_test("/integration/peers/add", NULL, test_peer_add);
        harness_add_test("/integration/peers/duplicate-name", NULL, test_peer_duplicate);
        harness_add_test("/integration/peers/bad-name", NULL, test_peer_bad_name);
        harness_add_test("/integration/peers/bad-properties", NULL, test_peer_bad_properties);
        harness_add_test("/integration/peers/get-peer-systems", NULL, test_get_peer_systems);
        harness_add_test("/integration/delete/in-use", &no_verify, test_delete_in_use);
        harness_add_test("/integration/delete/system-with-access-points", NULL,
                         test_delete_system_with_access_points);
        harness_add_test("/integration/authorization/access-denied", NULL, test_access_denied);
        harness_add_test("/integration/limits/strings", NULL, test_string_limits);
        harness_add_test("/integration/limits/array-entries", NULL, test_array_limit);

        return g_test_run();
}
