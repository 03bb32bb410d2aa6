/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * iscsi-replctl against the daemon on a private bus: how objects are named,
 * exit statuses for bad usage and for every error the service or the bus
 * gives, limits, an unprivileged caller and the polkit agent. Driving the
 * client: cli-fixture.h.
 */

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "cli-fixture.h"
#include "fake-polkit.h"

static void test_names(Harness *h, gconstpointer data) {
        g_autofree char *a = CLI_OUT(h, "add-peer", "a.example", "--element-name=twin");
        g_autofree char *b = CLI_OUT(h, "add-peer", "b.example", "--element-name=twin");

        /* Ambiguous: both candidates are listed. */
        g_autoptr(CliResult) ambiguous = CLI(h, "add-access-point", "twin", "127.0.0.2");
        g_assert_cmpint(ambiguous->status, ==, CLI_INVALID);
        g_assert_nonnull(strstr(ambiguous->err, "ambiguous"));
        g_assert_nonnull(strstr(ambiguous->err, a));
        g_assert_nonnull(strstr(ambiguous->err, b));

        /* Unknown: the known ones are listed. */
        g_autoptr(CliResult) unknown = CLI(h, "show", "nonexistent");
        g_assert_cmpint(unknown->status, ==, CLI_INVALID);
        g_assert_nonnull(strstr(unknown->err, "nonexistent"));
        g_assert_nonnull(strstr(unknown->err, a));

        /* The wrong kind for the command. */
        g_autoptr(CliResult) wrong_kind = CLI(h, "verify", a);
        g_assert_cmpint(wrong_kind->status, ==, CLI_INVALID);

        /* The unique Name still works where the ElementName does not. */
        g_autofree char *ap = CLI_OUT(h, "add-access-point", "b.example", "127.0.0.2");
        g_autofree char *system = harness_get_string(h, ap, IRD_IFACE_AP, "System");
        g_assert_cmpstr(system, ==, b);

        /* The same address on both sides: --local and --remote pick the right one. */
        g_autofree char *local = CLI_OUT(h, "add-access-point", "local", "127.0.0.2");
        g_autofree char *collection = CLI_OUT(h, "create-collection", "pair", "--local", "127.0.0.2", "--remote",
                                              "127.0.0.2", "--system=b.example");
        g_auto(GStrv) locals = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "LocalAccessPoints");
        harness_assert_strv_paths(locals, (const char *const[]) { local, NULL });
        g_auto(GStrv) remotes = harness_get_paths(h, collection, IRD_IFACE_COLLECTION, "RemoteAccessPoints");
        harness_assert_strv_paths(remotes, (const char *const[]) { ap, NULL });
}

/*
 * "kind/number" follows the service's path syntax (the contract library):
 * numbers start at 1 and have no leading zeros, so "job/0" names nothing
 * instead of being looked up as a path the service never hands out.
 */
static void test_object_numbers(Harness *h, gconstpointer data) {
        g_autofree char *peer = CLI_OUT(h, "add-peer", "numbered.example");
        const char *number = strrchr(peer, '/') + 1;
        g_autofree char *by_number = g_strdup_printf("system/%s", number);
        g_autofree char *zero_padded = g_strdup_printf("system/0%s", number);
        static const char *const refused[][2] = { { "job", "job/0" }, { "show", "access-point/0" } };

        g_autofree char *shown = CLI_OUT(h, "show", by_number, "--json");
        g_autoptr(JsonNode) root = parse_json(shown);
        g_assert_cmpstr(json_object_get_string_member(json_node_get_object(root), "Path"), ==, peer);

        g_autoptr(CliResult) padded = CLI(h, "show", zero_padded);
        g_assert_cmpint(padded->status, ==, CLI_INVALID);
        g_autofree char *padded_expected = g_strdup_printf(
                "\"%s\" names no object: object numbers start at 1, without leading zeros.\n", zero_padded);
        g_assert_cmpstr(padded->err, ==, padded_expected);
        for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
                g_autoptr(CliResult) r = CLI(h, refused[i][0], refused[i][1]);
                g_autofree char *expected = g_strdup_printf(
                        "\"%s\" names no object: object numbers start at 1, without leading zeros.\n", refused[i][1]);

                g_assert_cmpint(r->status, ==, CLI_INVALID);
                g_assert_cmpstr(r->err, ==, expected);
        }
}

static void test_usage_errors(Harness *h, gconstpointer data) {
        const char *const *const cases[] = {
                (const char *const[]) { NULL },
                (const char *const[]) { "frobnicate", NULL },
                (const char *const[]) { "show", NULL },
                (const char *const[]) { "show", "a", "b", NULL },
                (const char *const[]) { "add-peer", "x", "--json", NULL },
                (const char *const[]) { "list-systems", "--local=x", NULL },
                (const char *const[]) { "add-access-point", "local", "127.0.0.1:99999", NULL },
                (const char *const[]) { "add-access-point", "local", "[::1", NULL },
                (const char *const[]) { "modify", "x", "--active=maybe", NULL },
                (const char *const[]) { "modify", "x", NULL },
                (const char *const[]) { "add", "x", NULL },
                (const char *const[]) { "add-secret", "/", NULL },
                (const char *const[]) { "--no-such-option", "status", NULL },
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CliResult) r = cli_runv(h, cases[i]);
                if (r->status != CLI_INVALID)
                        g_error("case %zu (%s): exit %d, expected %d", i, cases[i][0] ? cases[i][0] : "(none)",
                                r->status, CLI_INVALID);
                g_assert_cmpstr(r->err, !=, "");
        }

        /* Refused by the service: a second peer of the same name. */
        g_free(CLI_OUT(h, "add-peer", PEER_IQN));
        g_autoptr(CliResult) duplicate = CLI(h, "add-peer", PEER_IQN);
        g_assert_cmpint(duplicate->status, ==, CLI_INVALID);
        g_assert_true(g_str_has_prefix(duplicate->err, "Failed to add the peer system: "));

        g_autofree char *help = CLI_OUT(h, "--help");
        g_assert_nonnull(strstr(help, "create-collection"));
        g_autofree char *version = CLI_OUT(h, "--version");
        g_assert_true(g_str_has_prefix(version, "iscsi-replctl "));
}

/* An option getopt refuses gets a sentence naming it and pointing to --help, and nothing is called. */
static void test_bad_options(Harness *h, gconstpointer data) {
        static const struct {
                const char *args[3];
                const char *message;
        } cases[] = {
                { { "--no-such-option", "status" }, "Unknown option \"--no-such-option\"; see --help.\n" },
                { { "--no-such=1", "status" }, "Unknown option \"--no-such\"; see --help.\n" },
                { { "-x", "status" }, "Unknown option \"-x\"; see --help.\n" },
                { { "--no-wait=yes", "status" }, "Option \"--no-wait\" takes no value; see --help.\n" },
                { { "status", "--element-name" }, "Option \"--element-name\" needs a value; see --help.\n" },
                { { "status", "-H" }, "Option \"-H\" needs a value; see --help.\n" },
        };
        g_autofree char *before = harness_snapshot(h);

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CliResult) r = cli_runv(h, cases[i].args);

                g_assert_cmpint(r->status, ==, CLI_INVALID);
                g_assert_cmpstr(r->err, ==, cases[i].message);
                g_assert_cmpstr(r->out, ==, "");
        }
        g_autofree char *after = harness_snapshot(h);
        g_assert_cmpstr(after, ==, before);
}

/* A bus that cannot be reached is named, with what to check; --system and an address each say theirs. */
static void test_bus_unreachable(Harness *h, gconstpointer data) {
        g_autofree char *address = g_strdup_printf("unix:path=%s/no-bus", h->tmpdir);
        g_autofree char *address_arg = g_strdup_printf("--address=%s", address);
        const char *const env[] = { "DBUS_SYSTEM_BUS_ADDRESS", address, NULL };

        g_autoptr(CliResult) at = CLI(h, address_arg, "status");
        g_assert_cmpint(at->status, ==, CLI_GENERIC);
        g_autofree char *at_expected = g_strdup_printf(
                "Failed to connect to the bus at %s: No such file or directory.\n"
                "Check the address, and that a bus listens there and lets this user connect.\n",
                address);
        g_assert_cmpstr(at->err, ==, at_expected);

        g_autoptr(CliResult) sys = cli_finish(h, cli_start_env(h, NULL, (const char *const[]) { "--system", "status", NULL }, env));
        g_assert_cmpint(sys->status, ==, CLI_GENERIC);
        g_autofree char *sys_expected = g_strdup_printf(
                "Failed to connect to the system bus (%s): No such file or directory.\n"
                "Is the D-Bus system bus running (systemctl status dbus)? DBUS_SYSTEM_BUS_ADDRESS names another one.\n",
                address);
        g_assert_cmpstr(sys->err, ==, sys_expected);
}

/* A bus without the service, which it cannot start either: the message says which bus and what to check. */
static void test_service_not_on_bus(Harness *h, gconstpointer data) {
        const char *const env[] = { "DBUS_SYSTEM_BUS_ADDRESS", h->bus_address, NULL };

        harness_stop_daemon(h);

        g_autoptr(CliResult) at = CLI(h, "status");
        g_assert_cmpint(at->status, ==, CLI_GENERIC);
        g_autofree char *at_bus = g_strdup_printf(": " IRD_BUS_NAME " is not running on the bus at %s, and that bus "
                                                  "cannot start it (", h->bus_address);
        g_assert_nonnull(strstr(at->err, at_bus));
        g_assert_nonnull(strstr(at->err, ").\nStart it there with \"iscsi-replicationd --address=ADDRESS\", or name "
                                         "the bus it serves.\n"));

        g_autoptr(CliResult) sys = cli_finish(h, cli_start_env(h, NULL, (const char *const[]) { "--system", "list-systems", NULL }, env));
        g_assert_cmpint(sys->status, ==, CLI_GENERIC);
        g_autofree char *sys_bus = g_strdup_printf(": " IRD_BUS_NAME " is not running on the system bus (%s), and that "
                                                   "bus cannot start it (", h->bus_address);
        g_assert_nonnull(strstr(sys->err, sys_bus));
        g_assert_nonnull(strstr(sys->err, "Check that iscsi-replicationd is installed"));
}

static void test_limits(Harness *h, gconstpointer data) {
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.1"));
        g_free(CLI_OUT(h, "add-access-point", "local", "127.0.0.4"));

        g_autoptr(CliResult) r = CLI(h, "create-collection", "big", "--local=127.0.0.1", "--local=127.0.0.4");
        g_assert_cmpint(r->status, ==, CLI_LIMITS);
}

static const char *const nobody[] = { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", NULL };

static void test_unprivileged(Harness *h, gconstpointer data) {
        g_autoptr(CliResult) denied = cli_finish(h, cli_start(h, nobody, (const char *const[]) { "add-peer", PEER_IQN, NULL }));
        g_assert_cmpint(denied->status, ==, CLI_DENIED);
        g_assert_nonnull(strstr(denied->err, "Failed to add the peer system"));
        g_auto(GStrv) paths = harness_object_paths(h);
        harness_assert_strv_paths(paths, (const char *const[]) { IRD_LOCAL_SYSTEM, NULL });

        /* Reading needs no authorization. */
        g_autoptr(CliResult) reading = cli_finish(h, cli_start(h, nobody, (const char *const[]) { "list-systems", "--json", NULL }));
        g_assert_cmpint(reading->status, ==, CLI_OK);
        g_autoptr(JsonNode) root = parse_json(reading->out);
        find_by_path(root, IRD_LOCAL_SYSTEM);
}

/*
 * On a terminal, a user other than root gets a polkit agent for the call:
 * a stand-in pkttyagent records how it was started, says it is ready by
 * closing the notify descriptor, and must be stopped after the call.
 */
/*
 * Installs the stand-in pkttyagent in h->tmpdir; returns the PATH that finds
 * it first and where it records its arguments.
 */
static char *install_stand_in_agent(Harness *h, char **ret_record) {
        g_autofree char *bin = g_build_filename(h->tmpdir, "bin", NULL);
        g_autofree char *records = g_build_filename(h->tmpdir, "records", NULL);
        g_autofree char *agent = g_build_filename(bin, "pkttyagent", NULL);
        g_autoptr(GError) error = NULL;
        static const char script[] =
                "#!/bin/sh\n"
                "echo \"$@\" > \"$AGENT_RECORD\"\n"
                "eval \"exec $2>&-\"\n"
                "exec sleep 3600\n";

        g_assert_cmpint(g_mkdir(bin, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(records, 0777), ==, 0);
        g_assert_cmpint(chmod(records, 0777), ==, 0);
        g_assert_true(g_file_set_contents(agent, script, -1, &error));
        g_assert_cmpint(chmod(agent, 0755), ==, 0);
        *ret_record = g_build_filename(records, "agent", NULL);
        return g_strdup_printf("%s:%s", bin, g_getenv("PATH"));
}

static void test_polkit_agent(Harness *h, gconstpointer data) {
        g_autofree char *record = NULL;
        g_autofree char *path = install_stand_in_agent(h, &record);
        g_autoptr(GError) error = NULL;
        const char *const env[] = { "PATH", path, "AGENT_RECORD", record, NULL };
        Pty t = {};

        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN, NULL }, env);
        /* Returns at all only when the agent was stopped: the client reaps it. */
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_DENIED);
        g_autofree char *args = NULL;
        g_assert_true(g_file_get_contents(record, &args, NULL, &error));
        g_assert_true(g_regex_match_simple("^--notify-fd [0-9]+ --fallback\n$", args, 0, 0));
        pty_clear(&t);

        /* --no-ask-password: no agent. */
        g_assert_cmpint(g_unlink(record), ==, 0);
        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN, "--no-ask-password", NULL }, env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_DENIED);
        g_assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
        pty_clear(&t);
}

/*
 * What polkit is asked (a recording authority stands in for it): on a
 * terminal the client allows interactive authorization, flags 1; with
 * --no-ask-password, or without a terminal, it does not, flags 0.
 */
static void test_interactive_flag(Harness *h, gconstpointer data) {
        g_autoptr(FakePolkit) polkit = fake_polkit_start(h->bus_address, TRUE);
        g_autofree char *record = NULL;
        g_autofree char *path = install_stand_in_agent(h, &record);
        g_autofree char *on_terminal = NULL, *no_ask = NULL, *no_terminal = NULL;
        const char *const env[] = { "PATH", path, "AGENT_RECORD", record, NULL };
        Pty t = {};

        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN, NULL }, env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        pty_clear(&t);
        on_terminal = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(on_terminal, ==, "org.iscsi.replication.manage-peers 1\n");

        pty_start_full(h, &t, nobody, (const char *const[]) { "add-peer", PEER_IQN "2", "--no-ask-password", NULL },
                       env);
        g_assert_cmpint(pty_finish(h, &t), ==, CLI_OK);
        pty_clear(&t);
        no_ask = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(no_ask, ==, "org.iscsi.replication.manage-peers 0\n");

        g_autoptr(CliResult) piped = cli_finish(h, cli_start(h, nobody, (const char *const[]) { "add-peer", PEER_IQN "3",
                                                                                                  NULL }));
        g_assert_cmpint(piped->status, ==, CLI_OK);
        no_terminal = fake_polkit_take_checks(polkit);
        g_assert_cmpstr(no_terminal, ==, "org.iscsi.replication.manage-peers 0\n");
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        harness_add_test("/integration/cli/names", &no_verify, test_names);
        harness_add_test("/integration/cli/object-numbers", NULL, test_object_numbers);
        harness_add_test("/integration/cli/usage-errors", NULL, test_usage_errors);
        harness_add_test("/integration/cli/bad-options", NULL, test_bad_options);
        harness_add_test("/integration/cli/bus-unreachable", NULL, test_bus_unreachable);
        harness_add_test("/integration/cli/service-not-on-bus", NULL, test_service_not_on_bus);
        harness_add_test("/integration/cli/limits", &one_entry, test_limits);
        harness_add_test("/integration/cli/unprivileged", NULL, test_unprivileged);
        harness_add_test("/integration/cli/polkit-agent", NULL, test_polkit_agent);
        harness_add_test("/integration/cli/interactive-flag", NULL, test_interactive_flag);

        return g_test_run();
}
