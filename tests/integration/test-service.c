/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The service object and the registry of peers, access points and shared
 * secrets (API.md sections 3 and 5), authorization (section 9) and limits
 * (section 8).
 */

#include <string.h>

#include "harness-calls.h"
#include "harness.h"

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };

static GVariant *empty_props(void) {
        return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

static GVariant *props1(const char *key, GVariant *value) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", key, value);
        return g_variant_builder_end(&b);
}

static GVariant *ap_props(const char *address, guint16 port) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "Address", g_variant_new_string(address));
        if (port)
                g_variant_builder_add(&b, "{sv}", "Port", g_variant_new_uint16(port));
        return g_variant_builder_end(&b);
}

static GVariant *secret_props(const char *username, const char *secret) {
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        if (username)
                g_variant_builder_add(&b, "{sv}", "Username", g_variant_new_string(username));
        if (secret)
                g_variant_builder_add(&b, "{sv}", "Secret", g_variant_new_string(secret));
        return g_variant_builder_end(&b);
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
                                             props1("Colour", g_variant_new_string("blue"))),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddPeerSystem",
                               g_variant_new("(s@a{sv})", "peer.example.org",
                                             props1("ElementName", g_variant_new_uint32(7))),
                               IRD_ERROR_INVALID_PARAMETER);
}

/* ------------------------------------------------------------------------ */

static char *add_ap_props(Harness *h, const char *system, GVariant *props) {
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                                                 g_variant_new("(o@a{sv})", system, props));
        guint32 rv;
        const char *ap;
        g_variant_get(reply, "(u&o)", &rv, &ap);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_true(g_str_has_prefix(ap, IRD_ROOT "/access_point/"));
        return g_strdup(ap);
}

static void test_ap_local(Harness *h, gconstpointer data) {
        harness_clear_signals(h);
        g_autofree char *ap = add_ap_props(h, IRD_LOCAL_SYSTEM, ap_props("127.0.0.1", 0));

        g_autofree char *name = harness_get_string(h, ap, IRD_IFACE_AP, "Name");
        g_assert_cmpstr(name, ==, "127.0.0.1:3260");
        g_assert_cmpuint(harness_get_uint16(h, ap, IRD_IFACE_AP, "Port"), ==, 3260);
        g_assert_cmpuint(harness_get_uint16(h, ap, IRD_IFACE_AP, "ProtocolIFType"), ==, 4096);
        g_assert_true(harness_get_boolean(h, ap, IRD_IFACE_AP, "IsLocal"));
        g_autofree char *system = harness_get_string(h, ap, IRD_IFACE_AP, "System");
        g_assert_cmpstr(system, ==, IRD_LOCAL_SYSTEM);
        g_autofree char *address = harness_get_string(h, ap, IRD_IFACE_AP, "Address");
        g_assert_cmpstr(address, ==, "127.0.0.1");
        g_autofree char *target = harness_get_string(h, ap, IRD_IFACE_AP, "TargetName");
        g_assert_cmpstr(target, ==, "");
        g_autofree char *secret = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(secret, ==, "/");
        /* No probe has run yet, so there is no verdict. */
        g_autofree char *reachable = harness_get_string(h, ap, IRD_IFACE_AP, "Reachable");
        g_assert_cmpstr(reachable, ==, "unknown");
        g_autofree char *last_error = harness_get_string(h, ap, IRD_IFACE_AP, "LastError");
        g_assert_cmpstr(last_error, ==, "");

        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, ap);
        g_autoptr(GVariant) ifaces = g_variant_get_child_value(added->parameters, 1);
        g_autoptr(GVariant) props = g_variant_lookup_value(ifaces, IRD_IFACE_AP, NULL);
        g_assert_nonnull(props);
        const char *announced = NULL;
        g_assert_true(g_variant_lookup(props, "Name", "&s", &announced));
        g_assert_cmpstr(announced, ==, "127.0.0.1:3260");

        /* The hosting system's AccessPoints emits the new list, once. */
        g_autoptr(GPtrArray) changes = harness_take_signals(h, IRD_LOCAL_SYSTEM, "org.freedesktop.DBus.Properties",
                                                            "PropertiesChanged");
        g_assert_cmpuint(changes->len, ==, 1);
        g_autoptr(GVariant) changed = harness_properties_changed_dict(changes->pdata[0]);
        g_autoptr(GVariant) list = g_variant_lookup_value(changed, "AccessPoints", G_VARIANT_TYPE("ao"));
        g_assert_nonnull(list);
        const char *expected[] = { ap, NULL };
        harness_assert_paths(list, expected);

        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints",
                                                 g_variant_new("(o)", IRD_LOCAL_SYSTEM));
        g_autoptr(GVariant) listed = g_variant_get_child_value(reply, 2);
        harness_assert_paths(listed, expected);
}

static void test_ap_local_foreign_address(Harness *h, gconstpointer data) {
        /* TEST-NET-1 is never assigned to this host. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", IRD_LOCAL_SYSTEM, ap_props("192.0.2.1", 0)),
                               IRD_ERROR_INVALID_PARAMETER);
        /* A host name is never an address a socket can bind to. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", IRD_LOCAL_SYSTEM, ap_props("localhost", 0)),
                               IRD_ERROR_INVALID_PARAMETER);
}

static void test_ap_names(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);

        g_autofree char *by_host = add_ap_props(h, peer, ap_props("target.example.org", 0));
        g_autofree char *name = harness_get_string(h, by_host, IRD_IFACE_AP, "Name");
        g_assert_cmpstr(name, ==, "target.example.org:3260");
        g_assert_cmpuint(harness_get_uint16(h, by_host, IRD_IFACE_AP, "ProtocolIFType"), ==, 1);
        g_assert_false(harness_get_boolean(h, by_host, IRD_IFACE_AP, "IsLocal"));

        g_autofree char *v4 = add_ap_props(h, peer, ap_props("127.0.0.2", 3260));
        g_autofree char *v4_name = harness_get_string(h, v4, IRD_IFACE_AP, "Name");
        g_assert_cmpstr(v4_name, ==, "127.0.0.2:3260");
        g_assert_cmpuint(harness_get_uint16(h, v4, IRD_IFACE_AP, "ProtocolIFType"), ==, 4096);

        g_autofree char *v4_port = add_ap_props(h, peer, ap_props("127.0.0.2", 3261));
        g_autofree char *v4_port_name = harness_get_string(h, v4_port, IRD_IFACE_AP, "Name");
        g_assert_cmpstr(v4_port_name, ==, "127.0.0.2:3261");

        g_autofree char *v6 = add_ap_props(h, peer, ap_props("::1", 0));
        g_autofree char *v6_name = harness_get_string(h, v6, IRD_IFACE_AP, "Name");
        g_assert_cmpstr(v6_name, ==, "[::1]:3260");
        g_assert_cmpuint(harness_get_uint16(h, v6, IRD_IFACE_AP, "ProtocolIFType"), ==, 4097);

        if (harness_ipv6_loopback_usable()) {
                g_autofree char *local6 = add_ap_props(h, IRD_LOCAL_SYSTEM, ap_props("::1", 3260));
                g_autofree char *local6_name = harness_get_string(h, local6, IRD_IFACE_AP, "Name");
                g_assert_cmpstr(local6_name, ==, "[::1]:3260");
                g_assert_true(harness_get_boolean(h, local6, IRD_IFACE_AP, "IsLocal"));
        }

        /* TargetName and PortalGroupTag are kept as given. */
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "Address", g_variant_new_string("127.0.0.2"));
        g_variant_builder_add(&b, "{sv}", "TargetName", g_variant_new_string("iqn.2024-01.org.example:t1"));
        g_variant_builder_add(&b, "{sv}", "PortalGroupTag", g_variant_new_uint16(7));
        g_variant_builder_add(&b, "{sv}", "ElementName", g_variant_new_string("first target"));
        g_autofree char *with_target = add_ap_props(h, peer, g_variant_builder_end(&b));
        g_autofree char *tn = harness_get_string(h, with_target, IRD_IFACE_AP, "TargetName");
        g_assert_cmpstr(tn, ==, "iqn.2024-01.org.example:t1");
        g_assert_cmpuint(harness_get_uint16(h, with_target, IRD_IFACE_AP, "PortalGroupTag"), ==, 7);
        g_autofree char *en = harness_get_string(h, with_target, IRD_IFACE_AP, "ElementName");
        g_assert_cmpstr(en, ==, "first target");

        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints",
                                                 g_variant_new("(o)", peer));
        guint32 rv;
        const char *job;
        g_autoptr(GVariant) listed = NULL;
        g_variant_get(reply, "(u&o@ao)", &rv, &job, &listed);
        g_assert_cmpuint(rv, ==, 0);
        g_assert_cmpstr(job, ==, "/");
        const char *expected[] = { by_host, v4, v4_port, v6, with_target };
        harness_sort_paths(expected, G_N_ELEMENTS(expected));
        g_autofree const char **listed_paths = g_variant_get_objv(listed, NULL);
        g_assert_cmpuint(g_strv_length((char **) listed_paths), ==, G_N_ELEMENTS(expected));
        for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)
                g_assert_true(g_strv_contains(listed_paths, expected[i]));
}

static void test_ap_duplicate(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *other = harness_add_peer(h, "other.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);

        /* The default port is 3260, so this is the same portal. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", peer, ap_props("127.0.0.2", 3260)),
                               IRD_ERROR_INVALID_PARAMETER);
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 0, NULL);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", IRD_LOCAL_SYSTEM, ap_props("127.0.0.1", 0)),
                               IRD_ERROR_INVALID_PARAMETER);

        /* Another system, port or target name makes it a different portal. */
        g_autofree char *on_other = harness_add_access_point(h, other, "127.0.0.2", 0, NULL);
        g_autofree char *other_port = harness_add_access_point(h, peer, "127.0.0.2", 3261, NULL);
        g_autofree char *with_target = harness_add_access_point(h, peer, "127.0.0.2", 0,
                                                                "iqn.2024-01.org.example:t");
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", peer,
                                             g_variant_new_parsed("{'Address': <'127.0.0.2'>, "
                                                                  "'TargetName': <'iqn.2024-01.org.example:t'>}")),
                               IRD_ERROR_INVALID_PARAMETER);
}

static void test_ap_bad_arguments(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 0, NULL);
        const char *locals[] = { ap, NULL };
        g_autofree char *collection = harness_create_collection(h, "c", locals, NULL, NULL);
        static const char *const bad_systems[] = {
                "/", IRD_ROOT, IRD_ROOT "/system/9999", IRD_ROOT "/job/1", IRD_ROOT "/system/x",
        };

        for (size_t i = 0; i < G_N_ELEMENTS(bad_systems); i++)
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                                       g_variant_new("(o@a{sv})", bad_systems[i], ap_props("127.0.0.3", 0)),
                                       IRD_ERROR_INVALID_PARAMETER);
        /* An existing object of the wrong kind. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", collection, ap_props("127.0.0.3", 0)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", ap, ap_props("127.0.0.3", 0)),
                               IRD_ERROR_INVALID_PARAMETER);
        /* Address is required and must be an address or host name. */
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", peer, props1("Port", g_variant_new_uint16(3260))),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", peer, ap_props("not an address!", 0)),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", peer,
                                             g_variant_new_parsed("{'Address': <'127.0.0.2'>, 'Port': <3260>}")),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", peer,
                                             g_variant_new_parsed("{'Address': <'127.0.0.2'>, "
                                                                  "'Secret': <'0123456789abc'>}")),
                               IRD_ERROR_INVALID_PARAMETER);
}

/* ------------------------------------------------------------------------ */

static void test_secret_length(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *s11 = g_strnfill(11, 'a');
        g_autofree char *s12 = g_strnfill(12, 'b');
        g_autofree char *s255 = g_strnfill(255, 'c');
        g_autofree char *s256 = g_strnfill(256, 'd');

        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", secret_props("user", s11), ap),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", secret_props("user", s256), ap),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", secret_props(NULL, s12), ap),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", secret_props("user", NULL), ap),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", secret_props("user", s12), peer),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", secret_props("user", s12),
                                             IRD_ROOT "/access_point/9999"),
                               IRD_ERROR_INVALID_PARAMETER);

        /* A secret belongs to a remote access point: one of this host's is refused. */
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 3260, NULL);
        g_autofree char *message = harness_call_error(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                      g_variant_new("(@a{sv}o)", secret_props("user", s12), local),
                                                      IRD_ERROR_INVALID_PARAMETER);
        g_assert_nonnull(strstr(message, local));
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                               g_variant_new("(@a{sv}o)", secret_props("user", s12), local),
                               IRD_ERROR_INVALID_PARAMETER);
        g_autofree char *none = harness_get_string(h, local, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(none, ==, "/");

        g_autofree char *secret = harness_add_secret(h, ap, "user", s12);
        g_assert_true(g_str_has_prefix(secret, IRD_ROOT "/secret/"));
        g_autofree char *unbound = harness_add_secret(h, "/", "user2", s255);
        g_autofree char *unbound_ap = harness_get_string(h, unbound, IRD_IFACE_SECRET, "ServiceAccessPoint");
        g_assert_cmpstr(unbound_ap, ==, "/");
}

static gboolean contains_secret(const char *haystack, const char *secret) {
        return haystack && strstr(haystack, secret) != NULL;
}

static void test_secret_never_readable(Harness *h, gconstpointer data) {
        static const char secret_value[] = "s3cr3t-Zebra-Quokka-42";
        static const char mutual_value[] = "mutual-Narwhal-Pangolin-7";
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);

        harness_clear_signals(h);
        GVariantBuilder b;
        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "Username", g_variant_new_string("alice"));
        g_variant_builder_add(&b, "{sv}", "Secret", g_variant_new_string(secret_value));
        g_variant_builder_add(&b, "{sv}", "MutualUsername", g_variant_new_string("target-bob"));
        g_variant_builder_add(&b, "{sv}", "MutualSecret", g_variant_new_string(mutual_value));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                 g_variant_new("(a{sv}o)", &b, ap));
        guint32 rv;
        const char *secret;
        g_variant_get(reply, "(u&o)", &rv, &secret);
        g_assert_cmpuint(rv, ==, 0);

        g_autofree char *username = harness_get_string(h, secret, IRD_IFACE_SECRET, "Username");
        g_assert_cmpstr(username, ==, "alice");
        g_autofree char *mutual = harness_get_string(h, secret, IRD_IFACE_SECRET, "MutualUsername");
        g_assert_cmpstr(mutual, ==, "target-bob");
        g_autofree char *bound = harness_get_string(h, secret, IRD_IFACE_SECRET, "ServiceAccessPoint");
        g_assert_cmpstr(bound, ==, ap);
        g_autofree char *ap_secret = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(ap_secret, ==, secret);

        /* Everything a client or an administrator can read. */
        g_autoptr(GPtrArray) sigs = harness_take_signals(h, NULL, NULL, NULL);
        for (guint i = 0; i < sigs->len; i++) {
                HarnessSignal *s = sigs->pdata[i];
                g_autofree char *text = g_variant_print(s->parameters, FALSE);
                g_assert_false(contains_secret(text, secret_value));
                g_assert_false(contains_secret(text, mutual_value));
        }
        g_autoptr(GVariant) all = harness_get_all(h, secret, IRD_IFACE_SECRET);
        g_autofree char *all_text = g_variant_print(all, FALSE);
        g_autofree char *snapshot = harness_snapshot(h);
        g_autofree char *introspection = harness_introspect(h, secret);
        g_autofree char *root_introspection = harness_introspect(h, IRD_ROOT);
        g_autofree char *log = harness_read_log(h);
        const char *const texts[] = { all_text, snapshot, introspection, root_introspection, log };
        for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
                g_assert_false(contains_secret(texts[i], secret_value));
                g_assert_false(contains_secret(texts[i], mutual_value));
        }
        g_assert_false(g_variant_lookup_value(all, "Secret", NULL));
        g_assert_false(g_variant_lookup_value(all, "MutualSecret", NULL));

        /* Reading a secret property by name must not work either. */
        g_autofree char *m = harness_call_error(h, secret, "org.freedesktop.DBus.Properties", "Get",
                                                g_variant_new("(ss)", IRD_IFACE_SECRET, "Secret"),
                                                "org.freedesktop.DBus.Error.UnknownProperty");
        g_assert_false(contains_secret(m, secret_value));

        /* Not even after a restart, when it comes back from the store. */
        harness_stop_daemon(h);
        harness_start_daemon(h);
        g_autofree char *snapshot2 = harness_snapshot(h);
        g_autofree char *log2 = harness_read_log(h);
        g_assert_false(contains_secret(snapshot2, secret_value));
        g_assert_false(contains_secret(log2, secret_value));
        g_assert_false(contains_secret(log2, mutual_value));
}

/* The files of the state directory that hold needle, as one space-separated string ("" for none). */
static char *state_files_holding(Harness *h, const char *needle) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GDir) dir = g_dir_open(h->state_directory, 0, &error);
        g_autoptr(GString) found = g_string_new(NULL);
        const char *name;

        g_assert_no_error(error);
        while ((name = g_dir_read_name(dir))) {
                g_autofree char *path = g_build_filename(h->state_directory, name, NULL);
                g_autofree char *contents = NULL;
                gsize length = 0;

                g_assert_true(g_file_get_contents(path, &contents, &length, NULL));
                if (memmem(contents, length, needle, strlen(needle)))
                        g_string_append_printf(found, "%s%s", found->len ? " " : "", name);
        }
        return g_strdup(found->str);
}

static void assert_secret_stored(Harness *h, const char *secret) {
        g_autofree char *holders = state_files_holding(h, secret);
        /* Proves the search finds what is there: a stored secret is in one of the files. */
        g_assert_cmpstr(holders, !=, "");
}

static void assert_secret_gone(Harness *h, const char *secret) {
        g_autofree char *holders = state_files_holding(h, secret);
        if (holders[0])
                g_error("a removed secret is still in %s of the state directory", holders);
}

static char *add_secret_pair(Harness *h, const char *access_point, const char *secret, const char *mutual) {
        GVariantBuilder b;

        g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
        g_variant_builder_add(&b, "{sv}", "Username", g_variant_new_string("initiator"));
        g_variant_builder_add(&b, "{sv}", "Secret", g_variant_new_string(secret));
        g_variant_builder_add(&b, "{sv}", "MutualUsername", g_variant_new_string("target"));
        g_variant_builder_add(&b, "{sv}", "MutualSecret", g_variant_new_string(mutual));
        g_autoptr(GVariant) reply = harness_call(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddSharedSecret",
                                                 g_variant_new("(a{sv}o)", &b, access_point));
        char *path = NULL;
        g_variant_get(reply, "(uo)", NULL, &path);
        assert_secret_stored(h, secret);
        assert_secret_stored(h, mutual);
        return path;
}

/*
 * API.md section 5: once a secret's Delete, its replacement or its access
 * point's Delete has returned, no file of the state directory (database,
 * write-ahead log, anything else) holds its bytes.
 */
static void test_secret_no_copy_left(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);

        g_autofree char *deleted = add_secret_pair(h, ap, "deleted-Okapi-3141592", "deleted-mutual-Ibex-2718");
        g_autoptr(GVariant) r1 = harness_call(h, deleted, IRD_IFACE_SECRET, "Delete", NULL);
        assert_secret_gone(h, "deleted-Okapi-3141592");
        assert_secret_gone(h, "deleted-mutual-Ibex-2718");

        g_autofree char *replaced = add_secret_pair(h, ap, "replaced-Tapir-1618033", "replaced-mutual-Gnu-1414");
        g_autofree char *replacement = add_secret_pair(h, ap, "replacement-Lynx-577215",
                                                       "replacement-mutual-Yak-1732");
        assert_secret_gone(h, "replaced-Tapir-1618033");
        assert_secret_gone(h, "replaced-mutual-Gnu-1414");
        assert_secret_stored(h, "replacement-Lynx-577215");

        g_autoptr(GVariant) r2 = harness_call(h, ap, IRD_IFACE_AP, "Delete", NULL);
        assert_secret_gone(h, "replacement-Lynx-577215");
        assert_secret_gone(h, "replacement-mutual-Yak-1732");
}

static void test_secret_replace(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *first = harness_add_secret(h, ap, "user", "first-secret-value");

        harness_clear_signals(h);
        g_autofree char *second = harness_add_secret(h, ap, "user", "second-secret-value");
        g_assert_cmpstr(first, !=, second);

        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, first);
        g_autoptr(HarnessSignal) added = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesAdded",
                                                             harness_match_interfaces_added, second);
        g_autoptr(GPtrArray) changes = harness_take_signals(h, ap, "org.freedesktop.DBus.Properties",
                                                            "PropertiesChanged");
        g_assert_cmpuint(changes->len, ==, 1);
        g_autoptr(GVariant) changed = harness_properties_changed_dict(changes->pdata[0]);
        const char *now = NULL;
        g_assert_true(g_variant_lookup(changed, "SharedSecret", "&o", &now));
        g_assert_cmpstr(now, ==, second);

        g_auto(GStrv) paths = harness_object_paths(h);
        g_assert_false(g_strv_contains((const char *const *) paths, first));
        g_assert_true(g_strv_contains((const char *const *) paths, second));
}

static void test_secret_delete(Harness *h, gconstpointer data) {
        g_autofree char *peer = harness_add_peer(h, "peer.example.org", NULL);
        g_autofree char *ap = harness_add_access_point(h, peer, "127.0.0.2", 0, NULL);
        g_autofree char *secret = harness_add_secret(h, ap, "user", "0123456789abcdef");

        harness_clear_signals(h);
        g_autoptr(GVariant) r = harness_call(h, secret, IRD_IFACE_SECRET, "Delete", NULL);
        g_autoptr(HarnessSignal) removed = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                               harness_match_interfaces_removed, secret);
        g_autoptr(GPtrArray) changes = harness_take_signals(h, ap, "org.freedesktop.DBus.Properties",
                                                            "PropertiesChanged");
        g_assert_cmpuint(changes->len, ==, 1);
        g_autofree char *now = harness_get_string(h, ap, IRD_IFACE_AP, "SharedSecret");
        g_assert_cmpstr(now, ==, "/");

        /* Deleting an access point takes its secret with it. */
        g_autofree char *second = harness_add_secret(h, ap, "user", "0123456789abcdef");
        harness_clear_signals(h);
        g_autoptr(GVariant) r2 = harness_call(h, ap, IRD_IFACE_AP, "Delete", NULL);
        g_autoptr(HarnessSignal) removed_secret = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                                      harness_match_interfaces_removed, second);
        g_autoptr(HarnessSignal) removed_ap = harness_wait_signal(h, IRD_ROOT, NULL, "InterfacesRemoved",
                                                                  harness_match_interfaces_removed, ap);
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

static void test_get_service_access_points_bad(Harness *h, gconstpointer data) {
        g_autofree char *ap = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 0, NULL);

        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints",
                               g_variant_new("(o)", IRD_ROOT "/system/4242"), IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints", g_variant_new("(o)", "/"),
                               IRD_ERROR_INVALID_PARAMETER);
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "GetServiceAccessPoints", g_variant_new("(o)", ap),
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
                      g_variant_new("(@a{sv})", props1("ElementName", g_variant_new_string("renamed"))));
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
                                                     props1("ElementName", g_variant_new_string(bad[i]))),
                                       IRD_ERROR_INVALID_PARAMETER);
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "CreateRemoteReplicationCollection",
                                       g_variant_new("(s@ao@aoobb)", bad[i], harness_paths(NULL),
                                                     harness_paths(NULL), "/", TRUE, FALSE),
                                       IRD_ERROR_INVALID_PARAMETER);
                GVariantBuilder b;
                g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
                g_variant_builder_add(&b, "{sv}", "Address", g_variant_new_string("127.0.0.2"));
                g_variant_builder_add(&b, "{sv}", "ElementName", g_variant_new_string(bad[i]));
                assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                                       g_variant_new("(oa{sv})", peer, &b), IRD_ERROR_INVALID_PARAMETER);
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
        harness_add_test("/integration/access-points/add-local", NULL, test_ap_local);
        harness_add_test("/integration/access-points/local-foreign-address", NULL, test_ap_local_foreign_address);
        harness_add_test("/integration/access-points/names", NULL, test_ap_names);
        harness_add_test("/integration/access-points/duplicate", NULL, test_ap_duplicate);
        harness_add_test("/integration/access-points/bad-arguments", NULL, test_ap_bad_arguments);
        harness_add_test("/integration/access-points/get-bad-system", NULL, test_get_service_access_points_bad);
        harness_add_test("/integration/secrets/length", NULL, test_secret_length);
        harness_add_test("/integration/secrets/never-readable", NULL, test_secret_never_readable);
        harness_add_test("/integration/secrets/replace", NULL, test_secret_replace);
        harness_add_test("/integration/secrets/delete", NULL, test_secret_delete);
        harness_add_test("/integration/secrets/no-copy-left", NULL, test_secret_no_copy_left);
        harness_add_test("/integration/delete/in-use", &no_verify, test_delete_in_use);
        harness_add_test("/integration/delete/system-with-access-points", NULL,
                         test_delete_system_with_access_points);
        harness_add_test("/integration/authorization/access-denied", NULL, test_access_denied);
        harness_add_test("/integration/limits/strings", NULL, test_string_limits);
        harness_add_test("/integration/limits/array-entries", NULL, test_array_limit);

        return g_test_run();
}
