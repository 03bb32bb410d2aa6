/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Access points (API.md section 5): adding this host's and peers' portals,
 * their names and properties, duplicates and bad arguments, and listing them.
 */

#include "harness-calls.h"
#include "harness.h"
#include "service-fixture.h"

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

/* AddServiceAccessPoint(system, props) is refused as invalid, and changes nothing. */
static void assert_ap_refused(Harness *h, const char *system, GVariant *props) {
        assert_fails_unchanged(h, IRD_ROOT, IRD_IFACE_SERVICE, "AddServiceAccessPoint",
                               g_variant_new("(o@a{sv})", system, props), IRD_ERROR_INVALID_PARAMETER);
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
        assert_ap_refused(h, IRD_LOCAL_SYSTEM, ap_props("192.0.2.1", 0));
        /* A host name is never an address a socket can bind to. */
        assert_ap_refused(h, IRD_LOCAL_SYSTEM, ap_props("localhost", 0));
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
        g_autofree char *with_target = add_ap_props(
                h, peer, dict_of("Address", g_variant_new_string("127.0.0.2"),
                                 "TargetName", g_variant_new_string("iqn.2024-01.org.example:t1"),
                                 "PortalGroupTag", g_variant_new_uint16(7),
                                 "ElementName", g_variant_new_string("first target"), NULL));
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
        assert_ap_refused(h, peer, ap_props("127.0.0.2", 3260));
        g_autofree char *local = harness_add_access_point(h, IRD_LOCAL_SYSTEM, "127.0.0.1", 0, NULL);
        assert_ap_refused(h, IRD_LOCAL_SYSTEM, ap_props("127.0.0.1", 0));

        /* Another system, port or target name makes it a different portal. */
        g_autofree char *on_other = harness_add_access_point(h, other, "127.0.0.2", 0, NULL);
        g_autofree char *other_port = harness_add_access_point(h, peer, "127.0.0.2", 3261, NULL);
        g_autofree char *with_target = harness_add_access_point(h, peer, "127.0.0.2", 0,
                                                                "iqn.2024-01.org.example:t");
        assert_ap_refused(h, peer, g_variant_new_parsed("{'Address': <'127.0.0.2'>, "
                                                        "'TargetName': <'iqn.2024-01.org.example:t'>}"));
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
                assert_ap_refused(h, bad_systems[i], ap_props("127.0.0.3", 0));
        /* An existing object of the wrong kind. */
        assert_ap_refused(h, collection, ap_props("127.0.0.3", 0));
        assert_ap_refused(h, ap, ap_props("127.0.0.3", 0));
        /* Address is required and must be an address or host name. */
        assert_ap_refused(h, peer, dict_of("Port", g_variant_new_uint16(3260), NULL));
        assert_ap_refused(h, peer, ap_props("not an address!", 0));
        assert_ap_refused(h, peer, g_variant_new_parsed("{'Address': <'127.0.0.2'>, 'Port': <3260>}"));
        assert_ap_refused(h, peer, g_variant_new_parsed("{'Address': <'127.0.0.2'>, 'Secret': <'0123456789abc'>}"));
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

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/access-points/add-local", NULL, test_ap_local);
        harness_add_test("/integration/access-points/local-foreign-address", NULL, test_ap_local_foreign_address);
        harness_add_test("/integration/access-points/names", NULL, test_ap_names);
        harness_add_test("/integration/access-points/duplicate", NULL, test_ap_duplicate);
        harness_add_test("/integration/access-points/bad-arguments", NULL, test_ap_bad_arguments);
        harness_add_test("/integration/access-points/get-bad-system", NULL, test_get_service_access_points_bad);

        return g_test_run();
}
