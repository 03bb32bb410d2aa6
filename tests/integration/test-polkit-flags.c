/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The caller's allow-interactive-authorization flag reaches polkit (API.md,
 * authorization): a recording authority (fake-polkit.h) on the private bus
 * sees CheckAuthorization's flags 1 for a call that set the header flag and
 * 0 for one that did not. The callers are busctl processes of user nobody,
 * since uid 0 is allowed without asking polkit. (What iscsi-replctl sets is
 * the CLI tests' business: test-cli-errors.)
 */

#include "fake-polkit.h"
#include "harness.h"

static const char *const no_verify_args[] = { "--verify-access-points=no", NULL };
static const HarnessConfig no_verify = { .daemon_args = no_verify_args };

/* busctl as nobody, with or without the flag; returns its exit status. */
static int busctl_as_nobody(Harness *h, gboolean interactive, const char *method, const char *signature,
                            const char *const *args) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GSubprocess) proc = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;

        for (const char *const *a = (const char *const[]) { "setpriv", "--reuid=65534", "--regid=65534",
                                                              "--clear-groups", "busctl", NULL }; *a; a++)
                g_ptr_array_add(argv, g_strdup(*a));
        g_ptr_array_add(argv, g_strdup_printf("--address=%s", h->bus_address));
        g_ptr_array_add(argv, g_strdup_printf("--allow-interactive-authorization=%s", interactive ? "yes" : "no"));
        g_ptr_array_add(argv, g_strdup("call"));
        g_ptr_array_add(argv, g_strdup(IRD_BUS_NAME));
        g_ptr_array_add(argv, g_strdup(IRD_ROOT));
        g_ptr_array_add(argv, g_strdup(IRD_IFACE_SERVICE));
        g_ptr_array_add(argv, g_strdup(method));
        g_ptr_array_add(argv, g_strdup(signature));
        for (; *args; args++)
                g_ptr_array_add(argv, g_strdup(*args));
        g_ptr_array_add(argv, NULL);

        proc = g_subprocess_newv((const char *const *) argv->pdata,
                                 G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
        g_assert_no_error(error);
        g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, &error));
        g_assert_no_error(error);
        g_test_message("busctl %s: %s", method, out);
        return g_subprocess_get_exit_status(proc);
}

static void test_flag_reaches_polkit(Harness *h, gconstpointer data) {
        g_autoptr(FakePolkit) polkit = fake_polkit_start(h->bus_address, TRUE);
        g_autofree char *with = NULL, *without = NULL, *secret_with = NULL, *secret_without = NULL;

        g_assert_cmpint(busctl_as_nobody(h, TRUE, "AddPeerSystem", "sa{sv}",
                                         (const char *const[]) { "iqn.2024-01.org.example:a", "0", NULL }), ==, 0);
        with = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(with, ==, "org.iscsi.replication.manage-peers 1\n");

        g_assert_cmpint(busctl_as_nobody(h, FALSE, "AddPeerSystem", "sa{sv}",
                                         (const char *const[]) { "iqn.2024-01.org.example:b", "0", NULL }), ==, 0);
        without = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(without, ==, "org.iscsi.replication.manage-peers 0\n");

        /* Another action, the other way round. */
        g_assert_cmpint(busctl_as_nobody(h, FALSE, "AddSharedSecret", "a{sv}o",
                                         (const char *const[]) { "2", "Username", "s", "u", "Secret", "s",
                                                                 "0123456789ab", "/", NULL }), ==, 0);
        secret_without = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(secret_without, ==, "org.iscsi.replication.manage-secrets 0\n");
        g_assert_cmpint(busctl_as_nobody(h, TRUE, "AddSharedSecret", "a{sv}o",
                                         (const char *const[]) { "2", "Username", "s", "v", "Secret", "s",
                                                                 "0123456789ab", "/", NULL }), ==, 0);
        secret_with = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(secret_with, ==, "org.iscsi.replication.manage-secrets 1\n");
}

/* Reading asks nobody. */
static void test_reads_ask_nothing(Harness *h, gconstpointer data) {
        g_autoptr(FakePolkit) polkit = fake_polkit_start(h->bus_address, TRUE);
        g_autofree char *checks = NULL;

        g_assert_cmpint(busctl_as_nobody(h, TRUE, "GetPeerSystems", "q", (const char *const[]) { "0", NULL }), ==, 0);
        checks = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(checks, ==, "");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/polkit-flags/flag-reaches-polkit", &no_verify, test_flag_reaches_polkit);
        harness_add_test("/integration/polkit-flags/reads-ask-nothing", &no_verify, test_reads_ask_nothing);

        return g_test_run();
}
