/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The integration fixture: setting a test up on its private bus with the
 * daemon, tearing it down, and the watchdog every wait runs under. The rest
 * of harness.h lives beside it: the bus (harness-bus.c), the daemon process
 * (harness-daemon.c), the signal recorder (harness-signals.c), calls
 * (harness-calls.c), the service's objects (harness-objects.c) and the fake
 * peers (harness-peer.c, harness-target.c).
 */

#include "harness-internal.h"

#include <glib/gstdio.h>

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* waiting */

static gboolean watchdog_fired(gpointer what) {
        g_error("watchdog: gave up after %d s waiting for %s", HARNESS_WATCHDOG_SECONDS, (const char *) what);
        return G_SOURCE_REMOVE;
}

guint harness_watchdog_start(const char *what) {
        return g_timeout_add_seconds(HARNESS_WATCHDOG_SECONDS, watchdog_fired, (gpointer) what);
}

void harness_wait_for_flag(Harness *h, const gboolean *flag) {
        WAIT_UNTIL(*flag, "a flag");
}

void harness_wait_until(Harness *h, HarnessCondition cond, gpointer user_data, const char *what) {
        WAIT_UNTIL(cond(user_data), what);
}

void harness_drain_main_context(void) {
        while (g_main_context_iteration(NULL, FALSE))
                ;
}

/* ------------------------------------------------------------------------ */
/* small shared helpers */

void harness_die_with_parent(gpointer user_data) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
}

gint harness_compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char *harness_read_file_or_empty(const char *path) {
        char *contents = NULL;

        if (!path || !g_file_get_contents(path, &contents, NULL, NULL))
                return g_strdup("");
        return contents;
}

/* ------------------------------------------------------------------------ */
/* fixture */

/*
 * Open to everyone: the access-denied tests run a client as uid 65534.
 * Receiving is allowed explicitly: dbus-daemon allows what no rule denies,
 * but dbus-broker's launcher denies what no rule allows, name owner changes
 * from the bus itself included.
 */
const char harness_default_bus_policy[] =
        "  <type>session</type>\n"
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <allow own=\"*\"/>\n"
        "    <allow send_destination=\"*\"/>\n"
        "    <allow receive_sender=\"*\"/>\n"
        "  </policy>\n";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

/* A fresh Harness with the test's temporary, state and log paths; no bus yet. */
static void fixture_init(Harness *h) {
        g_autoptr(GError) error = NULL;

        memset(h, 0, sizeof(*h));
        g_queue_init(&h->signals);
        h->daemon_args = g_ptr_array_new_with_free_func(g_free);

        h->tmpdir = g_dir_make_tmp("ird-itest-XXXXXX", &error);
        g_assert_no_error(error);
        /* The bus socket lives here: the nobody client and services the bus starts must reach it. */
        g_assert_cmpint(chmod(h->tmpdir, 0755), ==, 0);
        h->state_directory = g_build_filename(h->tmpdir, "state", NULL);
        g_assert_cmpint(g_mkdir(h->state_directory, 0700), ==, 0);
        h->log_path = g_build_filename(h->tmpdir, "daemon.log", NULL);
}

/* The test's client connection to the started bus, recording signals and watching the daemon's name. */
static void fixture_connect(Harness *h) {
        g_autoptr(GError) error = NULL;

        h->connection = g_dbus_connection_new_for_address_sync(
                h->bus_address,
                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                NULL, NULL, &error);
        g_assert_no_error(error);
        g_dbus_connection_set_exit_on_close(h->connection, FALSE);

        h->signal_subscription = g_dbus_connection_signal_subscribe(h->connection, NULL, NULL, NULL, NULL, NULL,
                                                                    G_DBUS_SIGNAL_FLAGS_NONE, harness_record_signal,
                                                                    h, NULL);
        harness_watch_daemon_name(h);
}

void harness_setup(Harness *h, gconstpointer data) {
        const HarnessConfig *config = data;

        fixture_init(h);
        if (config)
                harness_set_daemon_args(h, config->daemon_args);
        harness_bus_start(h, harness_default_bus_policy, NULL, FALSE);
        fixture_connect(h);

        harness_start_daemon(h);
        /* Objects announced during start-up are not what any test is about. */
        harness_clear_signals(h);
}

void harness_teardown(Harness *h, gconstpointer data) {
        if (h->daemon) {
                if (h->daemon_exited) {
                        g_autofree char *log = harness_read_log(h);
                        g_test_message("daemon log:\n%s", log);
                        g_test_fail_printf("the daemon died during the test: wait status 0x%x",
                                           (unsigned) g_subprocess_get_status(h->daemon));
                        g_clear_object(&h->daemon);
                } else
                        harness_stop_daemon(h);
        }
        if (g_test_failed()) {
                g_autofree char *log = harness_read_log(h);
                g_autofree char *bus_log = harness_bus_read_log(h);
                g_test_message("daemon log:\n%s", log);
                if (*bus_log)
                        g_test_message("%s log:\n%s", harness_bus_name(), bus_log);
        }

        g_bus_unwatch_name(h->name_watch);
        g_dbus_connection_signal_unsubscribe(h->connection, h->signal_subscription);
        g_dbus_connection_close_sync(h->connection, NULL, NULL);
        g_clear_object(&h->connection);
        harness_drain_main_context();
        g_queue_clear_full(&h->signals, (GDestroyNotify) harness_signal_free);

        harness_bus_stop(h);

        (void) nftw(h->tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);

        g_free(h->daemon_owner);
        g_ptr_array_unref(h->daemon_args);
        g_free(h->tmpdir);
        g_free(h->state_directory);
        g_free(h->log_path);
        g_free(h->bus_log_path);
        g_free(h->bus_address);
}

static char *expand_tmpdir(const Harness *h, const char *text) {
        g_auto(GStrv) parts = g_strsplit(text, "@TMPDIR@", -1);
        return g_strjoinv(h->tmpdir, parts);
}

void harness_setup_with_bus_config(Harness *h, const char *bus_config, const char *const *bus_env) {
        fixture_init(h);

        g_autofree char *body = expand_tmpdir(h, bus_config);
        g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func(g_free);
        for (size_t i = 0; bus_env && bus_env[i]; i++)
                g_ptr_array_add(env, expand_tmpdir(h, bus_env[i]));
        g_ptr_array_add(env, NULL);
        harness_bus_start(h, body, (const char *const *) env->pdata, TRUE);

        fixture_connect(h);
}
